/* objectives: the training losses and their gradients with respect to the action logits,
 * as pure functions of the model's outputs (so they are tested on hand-computed values).
 *
 * Log-probabilities are per action, decision after decision (n_actions[i] for decision i), as
 * lib/model/model gives them; gradients are written per action into dlogits, averaged over the batch. */
#ifndef WS_OBJECTIVES_H
#define WS_OBJECTIVES_H

#include <stddef.h>

#include "backend.h"

typedef struct ws_il_stats {
    double loss, accuracy;
} ws_il_stats;

/* Imitation: -log pi(target | s). dlogit_j = (p_j - [j = target]) / n. */
void ws_il_objective(const ws_real *logp, const int *n_actions, const int *target, int n, ws_real *dlogits,
                     ws_il_stats *st);

typedef struct ws_dpo_stats {
    double loss, margin, accuracy, reward_chosen, reward_rejected;
} ws_dpo_stats;

/* DPO per state: z = beta ((log pi(w) - log ref(w)) - (log pi(l) - log ref(l))),
 * loss = -log sigmoid(z) = softplus(-z). Since both log-probabilities share the softmax's
 * normaliser, dloss/dlogit_j = beta (sigmoid(z) - 1) ([j = w] - [j = l]) / n.
 * ref_w, ref_l: the reference's log-probabilities of the chosen and rejected actions.
 * margin = mean z; accuracy = share of z > 0; rewards = beta times the log-ratios. */
void ws_dpo_objective(const ws_real *logp, const int *n_actions, const int *chosen, const int *rejected,
                      const double *ref_w, const double *ref_l, int n, double beta, ws_real *dlogits,
                      ws_dpo_stats *st);

/* KL(pi || ref) of one decision's action distribution, from both log-probabilities. */
double ws_kl_actions(const ws_real *logp, const ws_real *ref_logp, int n_actions);

/* Generalised advantage estimation over one episode of T steps with its rewards (the WebShop
 * reward on the last step, 0 before), the value estimates V(s_t), and V = 0 after the end:
 *   delta_t = r_t + gamma V(s_{t+1}) - V(s_t),  A_t = delta_t + gamma lambda A_{t+1},
 *   returns_t = A_t + V(s_t). */
void ws_gae(const double *rewards, const double *values, int T, double gamma, double lambda, double *advantages,
            double *returns);

/* Normalise advantages to zero mean and unit variance (population variance, + 1e-8). */
void ws_normalize(double *x, size_t n);

typedef struct ws_ppo_stats {
    double policy_loss, value_loss, entropy, approx_kl, clip_fraction, il_loss;
} ws_ppo_stats;

/* PPO for a batch of decisions, each with the action taken, its log-probability when collected
 * (old_logp), its advantage and return, and optionally an imitation target (-1: none):
 *   ratio = exp(logp(a) - old_logp); policy loss = -min(ratio A, clip(ratio, 1 - eps, 1 + eps) A)
 *   value loss = vf_coef * 0.5 (V - return)^2; entropy bonus = -ent_coef * H(pi(.|s));
 *   il term = il_coef * -log pi(target)
 * all averaged over the n decisions. Gradients go to dlogits (per action) and dvalues (per
 * decision). approx_kl = mean(old_logp - logp(a)); clip_fraction = share with |ratio - 1| > eps. */
void ws_ppo_objective(const ws_real *logp, const ws_real *values, const int *n_actions, const int *action,
                      const double *old_logp, const double *advantages, const double *returns, const int *il_target,
                      int n, double clip_eps, double vf_coef, double ent_coef, double il_coef, ws_real *dlogits,
                      ws_real *dvalues, ws_ppo_stats *st);

#endif
