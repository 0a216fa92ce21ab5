#include "objectives.h"

#include <math.h>

void ws_il_objective(const ws_real *logp, const int *n_actions, const int *target, int n, ws_real *dlogits,
                     ws_il_stats *st)
{
    double loss = 0;
    int correct = 0;
    for (int i = 0, a = 0; i < n; a += n_actions[i], i++) {
        int best = 0;
        for (int j = 0; j < n_actions[i]; j++) {
            dlogits[a + j] = (ws_real)((exp(logp[a + j]) - (j == target[i])) / n);
            if (logp[a + j] > logp[a + best])
                best = j;
        }
        loss -= logp[a + target[i]];
        correct += best == target[i];
    }
    st->loss = loss / n;
    st->accuracy = (double)correct / n;
}

static double softplus(double x)
{
    return x > 30 ? x : log1p(exp(x));
}

static double sigmoid(double x)
{
    return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

void ws_dpo_objective(const ws_real *logp, const int *n_actions, const int *chosen, const int *rejected,
                      const double *ref_w, const double *ref_l, int n, double beta, ws_real *dlogits,
                      ws_dpo_stats *st)
{
    *st = (ws_dpo_stats){0};
    for (int i = 0, a = 0; i < n; a += n_actions[i], i++) {
        double rw = beta * (logp[a + chosen[i]] - ref_w[i]), rl = beta * (logp[a + rejected[i]] - ref_l[i]);
        double z = rw - rl, g = beta * (sigmoid(z) - 1.0) / n;
        for (int j = 0; j < n_actions[i]; j++)
            dlogits[a + j] = 0;
        dlogits[a + chosen[i]] = (ws_real)g;
        dlogits[a + rejected[i]] = (ws_real)-g;
        st->loss += softplus(-z);
        st->margin += z;
        st->accuracy += z > 0;
        st->reward_chosen += rw;
        st->reward_rejected += rl;
    }
    st->loss /= n;
    st->margin /= n;
    st->accuracy /= n;
    st->reward_chosen /= n;
    st->reward_rejected /= n;
}

double ws_kl_actions(const ws_real *logp, const ws_real *ref_logp, int n_actions)
{
    double kl = 0;
    for (int j = 0; j < n_actions; j++)
        kl += exp(logp[j]) * (logp[j] - ref_logp[j]);
    return kl;
}

void ws_gae(const double *rewards, const double *values, int T, double gamma, double lambda, double *advantages,
            double *returns)
{
    double next_adv = 0, next_value = 0;
    for (int t = T - 1; t >= 0; t--) {
        double delta = rewards[t] + gamma * next_value - values[t];
        next_adv = delta + gamma * lambda * next_adv;
        advantages[t] = next_adv;
        returns[t] = next_adv + values[t];
        next_value = values[t];
    }
}

void ws_normalize(double *x, size_t n)
{
    if (n == 0)
        return;
    double mean = 0, var = 0;
    for (size_t i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)n;
    for (size_t i = 0; i < n; i++)
        var += (x[i] - mean) * (x[i] - mean);
    double sd = sqrt(var / (double)n) + 1e-8;
    for (size_t i = 0; i < n; i++)
        x[i] = (x[i] - mean) / sd;
}

void ws_ppo_objective(const ws_real *logp, const ws_real *values, const int *n_actions, const int *action,
                      const double *old_logp, const double *advantages, const double *returns, const int *il_target,
                      int n, double clip_eps, double vf_coef, double ent_coef, double il_coef, ws_real *dlogits,
                      ws_real *dvalues, ws_ppo_stats *st)
{
    *st = (ws_ppo_stats){0};
    for (int i = 0, a = 0; i < n; a += n_actions[i], i++) {
        const ws_real *lp = logp + a;
        int k = n_actions[i], act = action[i];
        double ratio = exp(lp[act] - old_logp[i]), A = advantages[i];
        double unclipped = ratio * A, clipped = fmin(fmax(ratio, 1 - clip_eps), 1 + clip_eps) * A;
        /* the gradient flows through the ratio only where the unclipped term is the minimum */
        double dratio = unclipped <= clipped ? -A / n : 0.0;
        double dlp_act = dratio * ratio; /* d ratio / d logp(a) = ratio */
        double H = 0;
        for (int j = 0; j < k; j++)
            H -= exp(lp[j]) * lp[j];
        for (int j = 0; j < k; j++) {
            double p = exp(lp[j]);
            /* policy term through logp(a): dlp_act * ([j = a] - p_j) */
            double g = dlp_act * ((j == act) - p);
            /* entropy bonus -ent_coef H: dH/dlogit_j = -p_j (log p_j + H) */
            g += ent_coef * p * (lp[j] + H) / n;
            if (il_target && il_target[i] >= 0)
                g += il_coef * (p - (j == il_target[i])) / n;
            dlogits[a + j] = (ws_real)g;
        }
        double v = values[i];
        dvalues[i] = (ws_real)(vf_coef * (v - returns[i]) / n);
        st->policy_loss += -fmin(unclipped, clipped);
        st->value_loss += 0.5 * (v - returns[i]) * (v - returns[i]);
        st->entropy += H;
        st->approx_kl += old_logp[i] - lp[act];
        st->clip_fraction += fabs(ratio - 1) > clip_eps;
        if (il_target && il_target[i] >= 0)
            st->il_loss -= lp[il_target[i]];
    }
    st->policy_loss /= n;
    st->value_loss /= n;
    st->entropy /= n;
    st->approx_kl /= n;
    st->clip_fraction /= n;
    st->il_loss /= n;
}
