/* Unit tests of lib/train/objectives: IL, DPO and PPO losses and their logit gradients against
 * hand-computed values and finite differences; GAE and advantage normalisation on hand-made
 * episodes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "objectives.h"

static void log_softmax(const double *logits, int k, ws_real *out)
{
    double mx = logits[0], s = 0;
    for (int j = 1; j < k; j++)
        mx = fmax(mx, logits[j]);
    for (int j = 0; j < k; j++)
        s += exp(logits[j] - mx);
    for (int j = 0; j < k; j++)
        out[j] = (ws_real)(logits[j] - mx - log(s));
}

/* The same in double, for finite differences (float log-probabilities are too coarse). */
static void log_softmax_d(const double *logits, int k, double *out)
{
    double mx = logits[0], s = 0;
    for (int j = 1; j < k; j++)
        mx = fmax(mx, logits[j]);
    for (int j = 0; j < k; j++)
        s += exp(logits[j] - mx);
    for (int j = 0; j < k; j++)
        out[j] = logits[j] - mx - log(s);
}

static void test_il(void **state)
{
    (void)state;
    double logits[3] = {1.0, 2.0, 0.5};
    ws_real lp[3], d[3];
    log_softmax(logits, 3, lp);
    int n_actions[] = {3}, target[] = {0};
    ws_il_stats st;
    ws_il_objective(lp, n_actions, target, 1, d, &st);
    /* -log(e^1 / (e^1 + e^2 + e^0.5)) = log(1 + e + e^-0.5) */
    assert_float_equal(st.loss, log(1 + exp(1.0) + exp(-0.5)), 1e-6);
    assert_float_equal(st.accuracy, 0.0, 0);
    assert_float_equal(d[0], exp(lp[0]) - 1, 1e-6);
    assert_float_equal(d[1], exp(lp[1]), 1e-6);
}

/* DPO loss as a function of the logits, in double, for finite differences. */
static double dpo_loss_of(const double *logits, int k, int w, int l, double rw, double rl, double beta)
{
    double lp[8];
    log_softmax_d(logits, k, lp);
    double z = beta * ((lp[w] - rw) - (lp[l] - rl));
    return log1p(exp(-z));
}

static void test_dpo_hand_computed(void **state)
{
    (void)state;
    /* pi = (0.5, 0.3, 0.2), ref(w) = ref(l) = 0.4, beta = 0.5:
     * z = 0.5 log(0.5 / 0.3) = 0.2554128, loss = log(1 + e^-z) = 0.5735732,
     * dloss/dz = sigmoid(z) - 1 = -0.4364917, so dlogit = (+-0.5 * -0.4364917) */
    ws_real lp[3] = {(ws_real)log(0.5), (ws_real)log(0.3), (ws_real)log(0.2)}, d[3];
    int n_actions[] = {3}, chosen[] = {0}, rejected[] = {1};
    double ref_w[] = {log(0.4)}, ref_l[] = {log(0.4)};
    ws_dpo_stats st;
    ws_dpo_objective(lp, n_actions, chosen, rejected, ref_w, ref_l, 1, 0.5, d, &st);
    assert_float_equal(st.margin, 0.2554128, 1e-6);
    assert_float_equal(st.loss, 0.5735732, 1e-6);
    assert_float_equal(st.accuracy, 1.0, 0);
    assert_float_equal(d[0], -0.2182458, 1e-6);
    assert_float_equal(d[1], 0.2182458, 1e-6);
    assert_float_equal(d[2], 0.0, 0);
    assert_float_equal(st.reward_chosen, 0.5 * log(0.5 / 0.4), 1e-6);
}

static void test_dpo_finite_differences(void **state)
{
    (void)state;
    double logits[2][4] = {{0.3, -1.2, 2.0, 0.1}, {1.5, 0.2, -0.7, 0.0}};
    int n_actions[] = {4, 4}, chosen[] = {1, 0}, rejected[] = {2, 3};
    double ref_w[] = {-1.3, -0.9}, ref_l[] = {-0.8, -2.1}, beta = 0.7;
    ws_real lp[8], d[8];
    log_softmax(logits[0], 4, lp);
    log_softmax(logits[1], 4, lp + 4);
    ws_dpo_stats st;
    ws_dpo_objective(lp, n_actions, chosen, rejected, ref_w, ref_l, 2, beta, d, &st);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 4; j++) {
            double up[4], down[4], eps = 1e-5;
            memcpy(up, logits[i], sizeof up);
            memcpy(down, logits[i], sizeof down);
            up[j] += eps;
            down[j] -= eps;
            double num = (dpo_loss_of(up, 4, chosen[i], rejected[i], ref_w[i], ref_l[i], beta) -
                          dpo_loss_of(down, 4, chosen[i], rejected[i], ref_w[i], ref_l[i], beta)) / (2 * eps) / 2;
            assert_float_equal(d[i * 4 + j], num, 1e-4);
        }
}

static void test_gae(void **state)
{
    (void)state;
    double r[] = {0, 0, 1}, v[] = {0.2, 0.5, 0.6}, adv[3], ret[3];
    /* deltas 0.3, 0.1, 0.4; A2 = 0.4, A1 = 0.1 + 0.95 * 0.4 = 0.48, A0 = 0.3 + 0.95 * 0.48 = 0.756 */
    ws_gae(r, v, 3, 1.0, 0.95, adv, ret);
    assert_float_equal(adv[2], 0.4, 1e-12);
    assert_float_equal(adv[1], 0.48, 1e-12);
    assert_float_equal(adv[0], 0.756, 1e-12);
    assert_float_equal(ret[0], 0.956, 1e-12);
    /* lambda = 1: returns are the Monte Carlo return (1 everywhere, undiscounted) */
    ws_gae(r, v, 3, 1.0, 1.0, adv, ret);
    for (int t = 0; t < 3; t++)
        assert_float_equal(ret[t], 1.0, 1e-12);
    /* discounting: gamma = 0.9, lambda = 1: return_t = 0.9^(2 - t) */
    ws_gae(r, v, 3, 0.9, 1.0, adv, ret);
    assert_float_equal(ret[0], 0.81, 1e-12);
}

static void test_normalize(void **state)
{
    (void)state;
    double x[] = {1, 2, 3};
    ws_normalize(x, 3);
    assert_float_equal(x[0], -1.0 / sqrt(2.0 / 3.0), 1e-6);
    assert_float_equal(x[1], 0.0, 1e-12);
    assert_float_equal(x[2], 1.0 / sqrt(2.0 / 3.0), 1e-6);
}

static void test_ppo_clipping(void **state)
{
    (void)state;
    double logits[3] = {0.5, 1.5, -0.2};
    ws_real lp[3], v[1] = {0.3}, d[3], dv[1];
    log_softmax(logits, 3, lp);
    int n_actions[] = {3}, action[] = {1};
    double ret[] = {1.0};
    ws_ppo_stats st;
    /* ratio = e^0.5 > 1 + 0.2 with A > 0: clipped, no policy gradient */
    double old_hi[] = {lp[1] - 0.5}, adv_pos[] = {2.0};
    ws_ppo_objective(lp, v, n_actions, action, old_hi, adv_pos, ret, NULL, 1, 0.2, 0.5, 0.0, 0.0, d, dv, &st);
    for (int j = 0; j < 3; j++)
        assert_float_equal(d[j], 0.0, 0);
    assert_float_equal(st.policy_loss, -1.2 * 2.0, 1e-6);
    assert_float_equal(st.clip_fraction, 1.0, 0);
    assert_float_equal(dv[0], 0.5 * (0.3 - 1.0), 1e-6);
    /* the same ratio with A < 0: the unclipped term is the minimum, the gradient flows */
    double adv_neg[] = {-2.0};
    ws_ppo_objective(lp, v, n_actions, action, old_hi, adv_neg, ret, NULL, 1, 0.2, 0.5, 0.0, 0.0, d, dv, &st);
    double ratio = exp(0.5);
    assert_float_equal(st.policy_loss, ratio * 2.0, 1e-5);
    /* d(-ratio A)/dlogit_j = -A ratio ([j = a] - p_j) */
    for (int j = 0; j < 3; j++)
        assert_float_equal(d[j], 2.0 * ratio * ((j == 1) - exp(lp[j])), 1e-5);
    /* ratio = 1 exactly (fresh rollout): the gradient is -A ([j = a] - p_j); the IL term adds p - onehot */
    double old_eq[] = {lp[1]}, adv1[] = {1.0};
    int target[] = {0};
    ws_ppo_objective(lp, v, n_actions, action, old_eq, adv1, ret, target, 1, 0.2, 0.5, 0.0, 0.3, d, dv, &st);
    for (int j = 0; j < 3; j++)
        assert_float_equal(d[j], -((j == 1) - exp(lp[j])) + 0.3 * (exp(lp[j]) - (j == 0)), 1e-5);
    assert_float_equal(st.approx_kl, 0.0, 1e-7);
}

static double entropy_of(const double *logits, int k)
{
    double lp[8];
    log_softmax_d(logits, k, lp);
    double h = 0;
    for (int j = 0; j < k; j++)
        h -= exp(lp[j]) * lp[j];
    return h;
}

static void test_ppo_entropy_gradient(void **state)
{
    (void)state;
    double logits[3] = {0.1, -0.4, 0.9};
    ws_real lp[3], v[1] = {0}, d[3], dv[1];
    log_softmax(logits, 3, lp);
    int n_actions[] = {3}, action[] = {0};
    double old[] = {lp[0]}, adv[] = {0.0}, ret[] = {0.0};
    ws_ppo_stats st;
    ws_ppo_objective(lp, v, n_actions, action, old, adv, ret, NULL, 1, 0.2, 0.5, 0.01, 0.0, d, dv, &st);
    for (int j = 0; j < 3; j++) {
        double up[3], down[3], eps = 1e-5;
        memcpy(up, logits, sizeof up);
        memcpy(down, logits, sizeof down);
        up[j] += eps;
        down[j] -= eps;
        double num = -0.01 * (entropy_of(up, 3) - entropy_of(down, 3)) / (2 * eps);
        assert_float_equal(d[j], num, 1e-6);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_il),          cmocka_unit_test(test_dpo_hand_computed),
        cmocka_unit_test(test_dpo_finite_differences), cmocka_unit_test(test_gae),
        cmocka_unit_test(test_normalize),   cmocka_unit_test(test_ppo_clipping),
        cmocka_unit_test(test_ppo_entropy_gradient),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
