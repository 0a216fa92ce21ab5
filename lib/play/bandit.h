/* bandit: the statistics of agent evaluation: Thompson sampling, posteriors and intervals.
 *
 * Pure functions, no I/O; every random draw comes from a caller's seeded ws_rng, so the same
 * seed gives the same numbers on every platform (up to the C library's log/exp/lgamma).
 *
 * Per arm (a trained agent, or a built-in policy) two posteriors are kept, both conjugate:
 *  - success (reward exactly 1, WebShop's success): Beta(1, 1) prior, Bernoulli likelihood:
 *    Beta(1 + successes, 1 + failures). Thompson sampling draws from it.
 *  - score (100 x mean reward; rewards lie in [0, 1]): a Beta posterior over the mean reward mu,
 *    the reward treated as a fractional Bernoulli outcome: Beta(1 + sum r, 1 + sum (1 - r)).
 *    Why this one: it keeps the support [0, 1] (a Normal/Student-t posterior puts mass below 0
 *    and above 100 at small counts, exactly where the bandit starves an arm), it is proper from
 *    the first round with the same uniform prior as the success posterior, it reduces to that
 *    posterior when rewards are 0/1, and it is conservative: a reward in [0, 1] with mean mu has
 *    variance <= mu (1 - mu), the Bernoulli variance, so the fractional-Bernoulli posterior is
 *    never narrower than the information in the data warrants (it is the quasi-likelihood /
 *    generalised-Bayes posterior of Agrawal & Goyal's Thompson sampling for [0, 1] rewards).
 *    Frequentist companions for fixed budgets: the Student-t interval of the mean reward.
 *
 * Special functions: the regularized incomplete beta I_x(a, b) (Lentz's continued fraction)
 * and its inverse, the Beta quantile (Halley steps inside a bisection bracket, to full double
 * precision for any a, b > 0); the normal quantile (Acklam + one Halley refinement); the
 * Student-t quantile through the incomplete-beta inverse.
 *
 * Sampling: standard normal (Marsaglia's polar method), Gamma(shape, 1) by Marsaglia & Tsang
 * (2000) with the U^(1/shape) boost for shape < 1 (in log space, so tiny shapes do not
 * underflow), Beta(a, b) as X / (X + Y) of two Gamma draws. */
#ifndef WS_BANDIT_H
#define WS_BANDIT_H

#include <stddef.h>
#include <stdint.h>

#include "rng.h"

/* ------------------------------------------------------------------ special functions */

double ws_lbeta(double a, double b);                    /* log B(a, b) */
/* Regularized incomplete beta I_x(a, b) = P(X <= x) for X ~ Beta(a, b); NAN for a or b <= 0. */
double ws_beta_inc(double x, double a, double b);
/* The Beta(a, b) quantile: x with I_x(a, b) = p, p in [0, 1]; NAN for bad arguments. */
double ws_beta_quantile(double p, double a, double b);
double ws_normal_cdf(double x);
double ws_normal_quantile(double p);                    /* p in (0, 1) */
double ws_student_t_quantile(double p, double df);      /* p in (0, 1), df > 0 */

/* ------------------------------------------------------------------ sampling */

double ws_rng_normal(ws_rng *r);
double ws_rng_gamma(ws_rng *r, double shape);           /* Gamma(shape, scale 1), shape > 0 */
double ws_rng_beta(ws_rng *r, double a, double b);      /* a, b > 0 */

/* ------------------------------------------------------------------ intervals */

typedef struct ws_interval {
    double low, high;
} ws_interval;

/* Equal-tailed credible interval of Beta(a, b) at `level` (e.g. 0.95). */
ws_interval ws_beta_credible(double a, double b, double level);
/* Wilson score interval of a binomial proportion (n > 0; n = 0 gives [0, 1]). */
ws_interval ws_wilson(long successes, long n, double level);
/* Clopper-Pearson exact interval (n = 0 gives [0, 1]). */
ws_interval ws_clopper_pearson(long successes, long n, double level);
/* mean +- t_{(1+level)/2, n-1} sd / sqrt(n), sd the sample standard deviation; n < 2 gives
 * NAN bounds (no interval from one observation). */
ws_interval ws_t_interval(double mean, double sd, long n, double level);

/* ------------------------------------------------------------------ arms */

typedef enum { WS_BANDIT_SUCCESS, WS_BANDIT_SCORE } ws_bandit_objective;

typedef struct ws_arm_post {
    double prior_alpha, prior_beta;   /* the prior of both posteriors (1, 1: uniform) */
    double alpha, beta;               /* success posterior Beta(alpha, beta) */
    double score_alpha, score_beta;   /* mean-reward posterior Beta(score_alpha, score_beta) */
    long pulls, successes;
    double reward_sum;
    double reward_mean, reward_m2;    /* Welford running mean and sum of squared deviations */
} ws_arm_post;

void ws_arm_init(ws_arm_post *arm, double prior_alpha, double prior_beta);
/* One episode's reward in [0, 1] (success when exactly 1). -1 for a reward out of range. */
int ws_arm_update(ws_arm_post *arm, double reward);
/* Pool src's observations into dst (same prior): as if dst had seen both streams. */
void ws_arm_merge(ws_arm_post *dst, const ws_arm_post *src);

double ws_arm_success_mean(const ws_arm_post *arm);    /* posterior mean of the success rate */
double ws_arm_success_rate(const ws_arm_post *arm);    /* successes / pulls (0 when none) */
double ws_arm_score_mean(const ws_arm_post *arm);      /* 100 x posterior mean of the mean reward */
double ws_arm_score_sd(const ws_arm_post *arm);        /* 100 x its posterior standard deviation */
double ws_arm_mean_score(const ws_arm_post *arm);      /* 100 x mean reward of the pulls (0 when none) */
double ws_arm_reward_sd(const ws_arm_post *arm);       /* sample sd of the rewards (0 when < 2) */
/* The Beta parameters of an arm's posterior for an objective. */
void ws_arm_beta(const ws_arm_post *arm, ws_bandit_objective obj, double *a, double *b);

/* Thompson sampling: one draw from each arm's posterior (for `obj`), the index of the largest
 * (ties to the lowest index). draws (may be NULL) receives the n draws. */
size_t ws_thompson_choose(const ws_arm_post *arms, size_t n, ws_bandit_objective obj, ws_rng *rng,
                          double *draws);
/* P(arm i has the largest parameter), i < n, by Monte Carlo: `draws` joint draws from the arms'
 * posteriors with a generator seeded by (seed, "p-best"); ties go to the lowest index. */
void ws_p_best(const ws_arm_post *arms, size_t n, ws_bandit_objective obj, long draws, uint64_t seed,
               double *out);
/* The same from Beta parameters directly (a[i], b[i] > 0). */
void ws_p_best_beta(const double *a, const double *b, size_t n, long draws, uint64_t seed, double *out);

#endif
