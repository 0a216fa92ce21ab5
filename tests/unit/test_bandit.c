/* Unit tests of lib/play/bandit: posterior updates and pooling, the incomplete beta and its inverse
 * against high-precision values (mpmath, 30 digits), the normal and Student-t quantiles, the
 * Gamma and Beta samplers' moments, interval maths, Thompson draws and P(best). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "bandit.h"

#define assert_close(got, want, tol)                                                                            \
    do {                                                                                                         \
        double g_ = (got), w_ = (want), t_ = (tol);                                                              \
        if (!(fabs(g_ - w_) <= t_)) {                                                                            \
            print_error("%s = %.17g, want %.17g (tol %g)\n", #got, g_, w_, t_);                                  \
            fail();                                                                                              \
        }                                                                                                        \
    } while (0)
/* relative tolerance, for tiny quantiles */
#define assert_rel(got, want, rtol) assert_close(got, want, (rtol) * fabs(want))

static void test_posterior_update(void **state)
{
    (void)state;
    ws_arm_post arm;
    ws_arm_init(&arm, 1, 1);
    assert_close(ws_arm_success_mean(&arm), 0.5, 0);
    assert_close(ws_arm_score_mean(&arm), 50, 0);
    const double rewards[] = {1, 0, 0.5, 1, 0.25};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(ws_arm_update(&arm, rewards[i]), 0);
    assert_int_equal(arm.pulls, 5);
    assert_int_equal(arm.successes, 2);
    assert_close(arm.alpha, 3, 0);
    assert_close(arm.beta, 4, 0);
    assert_close(arm.score_alpha, 1 + 2.75, 1e-15);
    assert_close(arm.score_beta, 1 + 2.25, 1e-15);
    assert_close(ws_arm_success_mean(&arm), 3.0 / 7, 1e-15);
    assert_close(ws_arm_success_rate(&arm), 0.4, 1e-15);
    assert_close(ws_arm_score_mean(&arm), 100 * 3.75 / 7, 1e-12);
    assert_close(ws_arm_score_sd(&arm), 100 * sqrt(3.75 * 3.25 / (49.0 * 8)), 1e-12);
    assert_close(ws_arm_mean_score(&arm), 55, 1e-12);
    assert_close(ws_arm_reward_sd(&arm), sqrt(0.2), 1e-15); /* squared deviations sum to 0.8 */

    /* out-of-range rewards are refused and change nothing */
    ws_arm_post before = arm;
    assert_int_equal(ws_arm_update(&arm, 1.5), -1);
    assert_int_equal(ws_arm_update(&arm, -0.1), -1);
    assert_int_equal(ws_arm_update(&arm, NAN), -1);
    assert_memory_equal(&arm, &before, sizeof arm);

    /* a reward just below 1 is not a success */
    ws_arm_post c;
    ws_arm_init(&c, 1, 1);
    ws_arm_update(&c, 0.9999999);
    assert_int_equal(c.successes, 0);
    assert_close(c.beta, 2, 0);

    /* pooling two streams equals one arm that saw both */
    ws_arm_post a1, a2, all;
    ws_arm_init(&a1, 1, 1);
    ws_arm_init(&a2, 1, 1);
    ws_arm_init(&all, 1, 1);
    const double more[] = {0.1, 1, 1, 0.75, 0, 0.3, 1};
    for (size_t i = 0; i < 7; i++) {
        ws_arm_update(i < 3 ? &a1 : &a2, more[i]);
        ws_arm_update(&all, more[i]);
    }
    ws_arm_merge(&a1, &a2);
    assert_int_equal(a1.pulls, all.pulls);
    assert_int_equal(a1.successes, all.successes);
    assert_close(a1.alpha, all.alpha, 1e-12);
    assert_close(a1.beta, all.beta, 1e-12);
    assert_close(a1.score_alpha, all.score_alpha, 1e-12);
    assert_close(a1.score_beta, all.score_beta, 1e-12);
    assert_close(a1.reward_mean, all.reward_mean, 1e-15);
    assert_close(ws_arm_reward_sd(&a1), ws_arm_reward_sd(&all), 1e-14);
    double a, b;
    ws_arm_beta(&all, WS_BANDIT_SUCCESS, &a, &b);
    assert_close(a, 4, 0);
    assert_close(b, 5, 0);
    ws_arm_beta(&all, WS_BANDIT_SCORE, &a, &b);
    assert_close(a, 1 + 4.15, 1e-12);
    assert_close(b, 1 + 2.85, 1e-12);
}

static void test_beta_inc(void **state)
{
    (void)state;
    assert_close(ws_beta_inc(0.4, 2, 3), 0.5248, 1e-15);
    assert_close(ws_beta_inc(0.1, 0.5, 0.5), 0.204832764699133451649, 1e-15);
    assert_close(ws_beta_inc(0.3, 10, 20), 0.3640040810719442776485, 1e-14);
    assert_close(ws_beta_inc(0.01, 0.1, 0.2), 0.432496974216105792314, 1e-14);
    assert_close(ws_beta_inc(0, 2, 3), 0, 0);
    assert_close(ws_beta_inc(1, 2, 3), 1, 0);
    for (double x = 0.05; x < 1; x += 0.1) {
        assert_close(ws_beta_inc(x, 1, 1), x, 1e-15);
        assert_close(ws_beta_inc(x, 3, 1), x * x * x, 1e-15);
        /* symmetry: I_x(a, b) = 1 - I_{1-x}(b, a) */
        assert_close(ws_beta_inc(x, 2.5, 7), 1 - ws_beta_inc(1 - x, 7, 2.5), 1e-14);
    }
    assert_true(isnan(ws_beta_inc(0.5, 0, 1)));
    assert_true(isnan(ws_beta_inc(0.5, 1, -1)));
}

static void test_beta_quantile(void **state)
{
    (void)state;
    /* Beta(2, 3): median and the 95% equal tails */
    assert_close(ws_beta_quantile(0.5, 2, 3), 0.385727568132389548275, 1e-14);
    assert_close(ws_beta_quantile(0.025, 2, 3), 0.0675859864885429570813, 1e-14);
    assert_close(ws_beta_quantile(0.975, 2, 3), 0.805879550316756577821, 1e-14);
    /* Beta(1, 1) is uniform */
    for (double p = 0; p <= 1.0000001; p += 0.125)
        assert_close(ws_beta_quantile(p, 1, 1), p, 1e-15);
    assert_close(ws_beta_quantile(0.025, 1, 1), 0.025, 1e-15);
    /* Beta(0.5, 0.5) is the arcsine law: quantile sin^2(pi p / 2) */
    const double ps[] = {0.001, 0.025, 0.25, 0.5, 0.75, 0.975, 0.999};
    for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
        double want = pow(sin(M_PI * ps[i] / 2), 2);
        assert_rel(ws_beta_quantile(ps[i], 0.5, 0.5), want, 1e-12);
    }
    assert_close(ws_beta_quantile(0.025, 0.5, 0.5), 0.0015413331334360120721, 1e-16);
    /* Beta(a, 1) and Beta(1, b) have closed forms */
    assert_close(ws_beta_quantile(0.3, 4, 1), pow(0.3, 0.25), 1e-15);
    assert_close(ws_beta_quantile(0.3, 1, 4), 1 - pow(0.7, 0.25), 1e-15);
    /* a bandit-sized posterior, and hard shapes: tiny quantiles to relative precision */
    assert_close(ws_beta_quantile(0.025, 51, 951), 0.038166833650526480509, 1e-15);
    assert_close(ws_beta_quantile(0.975, 51, 951), 0.065325693681104777978, 1e-15);
    assert_close(ws_beta_quantile(0.5, 1000.5, 3000.5), 0.25002083519723040175, 1e-14);
    assert_rel(ws_beta_quantile(0.025, 0.1, 0.1), 8.4584051661964599165e-14, 1e-10);
    assert_rel(ws_beta_quantile(0.001, 0.2, 5), 1.4159249372753101139e-16, 1e-10);
    assert_close(ws_beta_quantile(0.975, 3, 0.2), 0.99999999756314106701, 1e-15);
    assert_close(ws_beta_quantile(0.5, 0.2, 0.3), 0.239135036147982083509, 1e-14);
    /* round trips over a grid of shapes: the quantile is within 4 ulps of the exact one, i.e.
     * p lies between I at 4 doubles below and 4 above it (near 1 for small b the exact quantile
     * is not representable and I jumps between neighbouring doubles, so I(x) ~ p is no test);
     * I itself is computed to a few 1e-15 */
    const double shapes[] = {0.05, 0.3, 1, 2.5, 17, 400, 3000};
    for (size_t i = 0; i < 7; i++)
        for (size_t j = 0; j < 7; j++)
            for (double p = 0.01; p < 1; p += 0.07) {
                double a = shapes[i], b = shapes[j];
                double x = ws_beta_quantile(p, a, b), below = x, above = x;
                assert_true(x >= 0 && x <= 1);
                for (int k = 0; k < 4; k++) {
                    below = nextafter(below, 0);
                    above = nextafter(above, 1);
                }
                if (!(ws_beta_inc(below, a, b) <= p + 4e-15 && p - 4e-15 <= ws_beta_inc(above, a, b))) {
                    print_error("Beta(%g, %g) quantile %g = %.17g: I there %.17g\n", a, b, p, x,
                                ws_beta_inc(x, a, b));
                    fail();
                }
                if (x > 1e-300 && x < 0.999)
                    assert_close(ws_beta_inc(x, a, b), p, 1e-12);
            }
    assert_true(isnan(ws_beta_quantile(1.5, 2, 2)));
    assert_true(isnan(ws_beta_quantile(0.5, 0, 2)));
}

static void test_normal_t_quantiles(void **state)
{
    (void)state;
    assert_close(ws_normal_quantile(0.975), 1.95996398454005423552, 1e-14);
    assert_close(ws_normal_quantile(0.5), 0, 1e-15);
    assert_close(ws_normal_quantile(0.9), 1.2815515655446005, 1e-14);
    assert_close(ws_normal_quantile(1e-10), -6.3613409024040562, 1e-12);
    assert_close(ws_normal_cdf(1.95996398454005423552), 0.975, 1e-15);
    assert_close(ws_student_t_quantile(0.975, 1), 12.706204736174693, 1e-11);
    assert_close(ws_student_t_quantile(0.975, 10), 2.2281388519862742, 1e-13);
    assert_close(ws_student_t_quantile(0.975, 30), 2.0422724563012379, 1e-13);
    assert_close(ws_student_t_quantile(0.95, 5), 2.0150483733330235, 1e-13);
    assert_close(ws_student_t_quantile(0.975, 1000), 1.9623390808264081, 1e-12);
    assert_close(ws_student_t_quantile(0.6, 3), 0.27667066233268985, 1e-13);
    assert_close(ws_student_t_quantile(0.025, 10), -2.2281388519862742, 1e-13);
    assert_close(ws_student_t_quantile(0.5, 7), 0, 0);
}

/* Sample mean and variance of n draws, and a 6-standard-error tolerance for each from the
 * sample's own fourth central moment. */
typedef struct moments {
    double mean, var, tol_mean, tol_var;
} moments;

static moments sample_moments(double (*draw)(ws_rng *, double, double), double a, double b, long n, uint64_t seed)
{
    ws_rng rng;
    ws_rng_seed(&rng, seed, "test-moments");
    static double xs[100000];
    double sum = 0;
    for (long i = 0; i < n; i++) {
        xs[i] = draw(&rng, a, b);
        sum += xs[i];
    }
    double mean = sum / (double)n, m2 = 0, m4 = 0;
    for (long i = 0; i < n; i++) {
        double d = xs[i] - mean;
        m2 += d * d;
        m4 += d * d * d * d;
    }
    m2 /= (double)(n - 1);
    m4 /= (double)n;
    return (moments){mean, m2, 6 * sqrt(m2 / (double)n), 6 * sqrt((m4 - m2 * m2) / (double)n)};
}

static double draw_gamma(ws_rng *r, double shape, double unused)
{
    (void)unused;
    return ws_rng_gamma(r, shape);
}

static void test_gamma_moments(void **state)
{
    (void)state;
    const double shapes[] = {0.05, 0.3, 0.999, 1, 2.5, 7, 120};
    for (size_t i = 0; i < sizeof shapes / sizeof *shapes; i++) {
        double k = shapes[i];
        moments m = sample_moments(draw_gamma, k, 0, 100000, 42 + i);
        /* Gamma(k, 1): mean k, variance k */
        assert_close(m.mean, k, m.tol_mean);
        assert_close(m.var, k, m.tol_var);
    }
    /* shape < 1 draws are positive even where they are tiny */
    ws_rng rng;
    ws_rng_seed(&rng, 1, "tiny");
    for (int i = 0; i < 1000; i++)
        assert_true(ws_rng_gamma(&rng, 0.01) >= 0);
    assert_true(isnan(ws_rng_gamma(&rng, 0)));
}

static void test_beta_moments(void **state)
{
    (void)state;
    const double ab[][2] = {{2, 3}, {0.5, 0.5}, {0.2, 0.1}, {30, 70}, {1, 1}, {0.05, 4}, {501, 1}};
    for (size_t i = 0; i < sizeof ab / sizeof *ab; i++) {
        double a = ab[i][0], b = ab[i][1], s = a + b;
        moments m = sample_moments(ws_rng_beta, a, b, 100000, 7 + i);
        assert_close(m.mean, a / s, m.tol_mean);
        assert_close(m.var, a * b / (s * s * (s + 1)), m.tol_var);
    }
    /* every draw in [0, 1]; same seed, same draws */
    ws_rng r1, r2;
    ws_rng_seed(&r1, 9, "beta");
    ws_rng_seed(&r2, 9, "beta");
    for (int i = 0; i < 10000; i++) {
        double x = ws_rng_beta(&r1, 0.01, 0.02);
        assert_true(x >= 0 && x <= 1);
        assert_true(x == ws_rng_beta(&r2, 0.01, 0.02));
    }
    /* the median of Beta(0.5, 0.5) draws sits at the quantile: a check of the shape, not only
     * of the first two moments */
    ws_rng_seed(&r1, 3, "beta-median");
    long below = 0;
    double q25 = ws_beta_quantile(0.25, 0.5, 0.5);
    for (int i = 0; i < 100000; i++)
        below += ws_rng_beta(&r1, 0.5, 0.5) <= q25;
    assert_close((double)below / 100000, 0.25, 6 * sqrt(0.25 * 0.75 / 100000));
}

static void test_intervals(void **state)
{
    (void)state;
    /* Wilson: 8/10 by hand: p = 0.8, z^2 = 3.8415, center 0.71674, half 0.22657 */
    ws_interval w = ws_wilson(8, 10, 0.95);
    assert_close(w.low, 0.4901624715366417, 1e-13);
    assert_close(w.high, 0.94331784854562475, 1e-13);
    w = ws_wilson(0, 10, 0.95);
    assert_close(w.low, 0, 0);
    assert_close(w.high, 0.27753279986288925, 1e-13);
    w = ws_wilson(50, 100, 0.95);
    assert_close(w.low, 0.40383153036599563, 1e-13);
    assert_close(w.high, 0.59616846963400437, 1e-13);
    w = ws_wilson(1, 3, 0.95);
    assert_close(w.low, 0.061491944720396231, 1e-13);
    assert_close(w.high, 0.79234039919795228, 1e-13);
    w = ws_wilson(10, 10, 0.95);
    assert_close(w.high, 1, 0);
    w = ws_wilson(0, 0, 0.95);
    assert_close(w.low, 0, 0);
    assert_close(w.high, 1, 0);
    /* Clopper-Pearson 8/10 */
    ws_interval cp = ws_clopper_pearson(8, 10, 0.95);
    assert_close(cp.low, 0.44390453769235846, 1e-13);
    assert_close(cp.high, 0.97478927367316663, 1e-13);
    cp = ws_clopper_pearson(0, 20, 0.95);
    assert_close(cp.low, 0, 0);
    assert_close(cp.high, 1 - pow(0.025, 1.0 / 20), 1e-14);
    /* Student t: 10 +- t(0.975, 10) 2 / sqrt(11) */
    ws_interval t = ws_t_interval(10, 2, 11, 0.95);
    double half = 2.2281388519862742 * 2 / sqrt(11);
    assert_close(t.low, 10 - half, 1e-12);
    assert_close(t.high, 10 + half, 1e-12);
    t = ws_t_interval(10, 2, 1, 0.95);
    assert_true(isnan(t.low) && isnan(t.high));
    /* Beta credible interval of Beta(2, 3) */
    ws_interval c = ws_beta_credible(2, 3, 0.95);
    assert_close(c.low, 0.0675859864885429570813, 1e-14);
    assert_close(c.high, 0.805879550316756577821, 1e-14);
}

static void test_p_best(void **state)
{
    (void)state;
    /* clear-cut */
    double a[3] = {101, 1, 2}, b[3] = {1, 101, 2}, out[3];
    ws_p_best_beta(a, b, 2, 100000, 5, out);
    assert_true(out[0] > 0.9999);
    assert_close(out[0] + out[1], 1, 1e-12);
    /* symmetric: three identical posteriors share it evenly */
    double s[3] = {5, 5, 5};
    ws_p_best_beta(s, s, 3, 100000, 5, out);
    for (int i = 0; i < 3; i++)
        assert_close(out[i], 1.0 / 3, 0.01);
    assert_close(out[0] + out[1] + out[2], 1, 1e-12);
    /* two arms against the exact sum (Evan Miller's formula, mpmath):
     * P(Beta(15, 18) > Beta(10, 20)) = 0.8418569260415635 */
    double a2[2] = {10, 15}, b2[2] = {20, 18};
    ws_p_best_beta(a2, b2, 2, 100000, 11, out);
    assert_close(out[1], 0.8418569260415635, 6 * sqrt(0.84 * 0.16 / 100000));
    /* P(Beta(4, 6) > Beta(3, 7)) = 0.69004524886877828 */
    double a3[2] = {3, 4}, b3[2] = {7, 6};
    ws_p_best_beta(a3, b3, 2, 100000, 12, out);
    assert_close(out[1], 0.69004524886877828, 6 * sqrt(0.69 * 0.31 / 100000));
    /* same seed, same numbers; from arms it equals the Beta parameters' version */
    double again[2];
    ws_p_best_beta(a3, b3, 2, 100000, 12, again);
    assert_memory_equal(out, again, sizeof again);
    ws_arm_post arms[2];
    ws_arm_init(&arms[0], 1, 1);
    ws_arm_init(&arms[1], 1, 1);
    for (int i = 0; i < 2; i++)
        ws_arm_update(&arms[0], 1);
    for (int i = 0; i < 6; i++)
        ws_arm_update(&arms[0], 0);
    for (int i = 0; i < 3; i++)
        ws_arm_update(&arms[1], 1);
    for (int i = 0; i < 5; i++)
        ws_arm_update(&arms[1], 0);
    ws_p_best(arms, 2, WS_BANDIT_SUCCESS, 100000, 12, again);
    assert_memory_equal(out, again, sizeof again);
    /* the score objective reads the score posterior */
    ws_arm_post sc[2];
    ws_arm_init(&sc[0], 1, 1);
    ws_arm_init(&sc[1], 1, 1);
    for (int i = 0; i < 50; i++) {
        ws_arm_update(&sc[0], 0.9); /* high score, no success */
        ws_arm_update(&sc[1], i % 5 == 0 ? 1 : 0);
    }
    ws_p_best(sc, 2, WS_BANDIT_SCORE, 20000, 1, out);
    assert_true(out[0] > 0.999);
    ws_p_best(sc, 2, WS_BANDIT_SUCCESS, 20000, 1, out);
    assert_true(out[1] > 0.999);
}

static void test_thompson_choose(void **state)
{
    (void)state;
    ws_arm_post arms[3];
    for (int i = 0; i < 3; i++)
        ws_arm_init(&arms[i], 1, 1);
    for (int k = 0; k < 40; k++) {
        ws_arm_update(&arms[0], 0);
        ws_arm_update(&arms[1], k % 2 ? 1 : 0.5);
        ws_arm_update(&arms[2], k % 4 == 0 ? 1 : 0);
    }
    ws_rng r1, r2;
    ws_rng_seed(&r1, 3, "thompson");
    ws_rng_seed(&r2, 3, "thompson");
    long count[3] = {0};
    double draws[3], draws2[3];
    for (int i = 0; i < 10000; i++) {
        size_t c = ws_thompson_choose(arms, 3, WS_BANDIT_SUCCESS, &r1, draws);
        assert_int_equal(c, ws_thompson_choose(arms, 3, WS_BANDIT_SUCCESS, &r2, draws2));
        assert_memory_equal(draws, draws2, sizeof draws);
        for (int k = 0; k < 3; k++)
            assert_true(draws[c] >= draws[k]);
        count[c]++;
    }
    /* Beta(21, 21) against Beta(11, 31) (P(best) ~ 0.008) and Beta(1, 41): arm 1 nearly always */
    assert_true(count[1] > 9800);
    assert_int_equal(count[0], 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_posterior_update), cmocka_unit_test(test_beta_inc),
        cmocka_unit_test(test_beta_quantile),    cmocka_unit_test(test_normal_t_quantiles),
        cmocka_unit_test(test_gamma_moments),    cmocka_unit_test(test_beta_moments),
        cmocka_unit_test(test_intervals),        cmocka_unit_test(test_p_best),
        cmocka_unit_test(test_thompson_choose),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
