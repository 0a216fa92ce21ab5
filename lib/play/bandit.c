#include "bandit.h"

#include <float.h>
#include <math.h>

/* ------------------------------------------------------------------ special functions */

double ws_lbeta(double a, double b)
{
    return lgamma(a) + lgamma(b) - lgamma(a + b);
}

/* The continued fraction of I_x(a, b) (modified Lentz), for x < (a + 1) / (a + b + 2) where
 * it converges fast: O(sqrt(max(a, b))) terms. */
static double beta_cf(double x, double a, double b)
{
    const double tiny = 1e-300, eps = 1e-16;
    double qab = a + b, qap = a + 1, qam = a - 1;
    double c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny)
        d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 1000000; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny)
            d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny)
            c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < eps)
            break;
    }
    return h;
}

/* lgamma(z) - ((z - 1/2) log z - z + log(2 pi) / 2), Stirling's series, z >= 10 (error < 1e-17). */
static double stirling_delta(double z)
{
    double z2 = 1 / (z * z);
    return (1.0 / 12 -
            z2 * (1.0 / 360 - z2 * (1.0 / 1260 - z2 * (1.0 / 1680 - z2 * (1.0 / 1188 - z2 * (691.0 / 360360 - z2 / 156))))))
           / z;
}

/* log(x^a (1-x)^b / B(a, b)), the prefactor of I_x(a, b), 0 < x < 1. Large shapes make the
 * naive sum of lgamma terms lose digits (lgamma(4000) ~ 3e4: 1e-12 absolute); then Stirling's
 * series turns it into a sum of small terms around the mean a / (a + b) (the saddle-point form
 * of TOMS 708's brcomp), with e = x (a + b) - a from one fma. */
static double log_front(double x, double a, double b)
{
    double s = a + b;
    if (a >= 10 && b >= 10) {
        double e = fma(x, s, -a);
        return a * log1p(e / a) + b * log1p(-e / b) + 0.5 * log(a / s * b) - 0.5 * log(2 * M_PI) +
               stirling_delta(s) - stirling_delta(a) - stirling_delta(b);
    }
    if (b >= 10) /* lgamma(s) - lgamma(b) without the cancellation */
        return a * log(x * s) + b * log1p(-x) + (b - 0.5) * log1p(a / b) - a + stirling_delta(s) -
               stirling_delta(b) - lgamma(a);
    if (a >= 10)
        return a * log(x) + b * log1p(-x) + (a - 0.5) * log1p(b / a) + b * log(s) - b + stirling_delta(s) -
               stirling_delta(a) - lgamma(b);
    return a * log(x) + b * log1p(-x) - ws_lbeta(a, b);
}

double ws_beta_inc(double x, double a, double b)
{
    if (!(a > 0) || !(b > 0) || isnan(x))
        return NAN;
    if (x <= 0)
        return 0;
    if (x >= 1)
        return 1;
    double front = exp(log_front(x, a, b));
    if (x < (a + 1) / (a + b + 2))
        return front * beta_cf(x, a, b) / a;
    return 1 - front * beta_cf(1 - x, b, a) / b;
}

/* A starting point for the quantile: a normal approximation for a, b >= 1, else the tails'
 * power laws (I_x ~ x^a / (a B) near 0, 1 - (1-x)^b / (b B) near 1); Numerical Recipes'. */
static double beta_quantile_guess(double p, double a, double b)
{
    if (a >= 1 && b >= 1) {
        double pp = p < 0.5 ? p : 1 - p;
        double t = sqrt(-2 * log(pp));
        double x = (2.30753 + t * 0.27061) / (1 + t * (0.99229 + t * 0.04481)) - t;
        if (p < 0.5)
            x = -x;
        double al = (x * x - 3) / 6;
        double h = 2 / (1 / (2 * a - 1) + 1 / (2 * b - 1));
        double w = x * sqrt(al + h) / h - (1 / (2 * b - 1) - 1 / (2 * a - 1)) * (al + 5.0 / 6 - 2 / (3 * h));
        return a / (a + b * exp(2 * w));
    }
    double lna = log(a / (a + b)), lnb = log(b / (a + b));
    double t = exp(a * lna) / a, u = exp(b * lnb) / b, w = t + u;
    if (p < t / w)
        return pow(a * w * p, 1 / a);
    return 1 - pow(b * w * (1 - p), 1 / b);
}

double ws_beta_quantile(double p, double a, double b)
{
    if (!(a > 0) || !(b > 0) || !(p >= 0 && p <= 1))
        return NAN;
    if (p == 0)
        return 0;
    if (p == 1)
        return 1;
    double lo = 0, hi = 1; /* I(lo) <= p <= I(hi) */
    double x = beta_quantile_guess(p, a, b);
    if (!(x > 0 && x < 1))
        x = 0.5;
    for (int it = 0; it < 2000; it++) {
        double f = ws_beta_inc(x, a, b) - p;
        if (f == 0)
            return x;
        if (f < 0)
            lo = x;
        else
            hi = x;
        double xn = NAN;
        if (it < 200) {
            /* Halley's step on I(x) - p, the density as derivative */
            double pdf = exp(log_front(x, a, b) - log(x) - log1p(-x));
            double u = f / pdf;
            double corr = 1 - 0.5 * fmin(1, u * ((a - 1) / x - (b - 1) / (1 - x)));
            xn = x - u / corr;
        }
        if (!(xn > lo && xn < hi))
            xn = 0.5 * (lo + hi); /* outside the bracket (or not finite): bisect */
        if (fabs(xn - x) <= 2 * DBL_EPSILON * xn || xn == lo || xn == hi)
            return xn;
        x = xn;
    }
    return x;
}

double ws_normal_cdf(double x)
{
    return 0.5 * erfc(-x / M_SQRT2);
}

double ws_normal_quantile(double p)
{
    static const double a[] = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
                               1.383577518672690e+02,  -3.066479806614716e+01, 2.506628277459239e+00};
    static const double b[] = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
                               6.680131188771972e+01,  -1.328068155288572e+01};
    static const double c[] = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
                               -2.549732539343734e+00, 4.374664141464968e+00,  2.938163982698783e+00};
    static const double d[] = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
                               3.754408661907416e+00};
    if (!(p > 0 && p < 1))
        return p == 0 ? -INFINITY : p == 1 ? INFINITY : NAN;
    double x;
    if (p < 0.02425) {
        double q = sqrt(-2 * log(p));
        x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    } else if (p <= 1 - 0.02425) {
        double q = p - 0.5, r = q * q;
        x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
            (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    } else {
        double q = sqrt(-2 * log1p(-p));
        x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
            ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    }
    /* one Halley step on the exact cdf: full double precision */
    double e = ws_normal_cdf(x) - p;
    double u = e * sqrt(2 * M_PI) * exp(x * x / 2);
    return x - u / (1 + x * u / 2);
}

double ws_student_t_quantile(double p, double df)
{
    if (!(p > 0 && p < 1) || !(df > 0))
        return NAN;
    if (p == 0.5)
        return 0;
    double tail = p > 0.5 ? 1 - p : p; /* P(T > t) for the |t| sought */
    double t;
    /* P(|T| <= t) = I_{t^2/(df+t^2)}(1/2, df/2); P(|T| > t) = I_{df/(df+t^2)}(df/2, 1/2). Solve the
     * one whose root is away from 1, so 1 - root keeps its digits. */
    if (2 * tail > 0.5) {
        double y = ws_beta_quantile(1 - 2 * tail, 0.5, df / 2);
        t = sqrt(df * y / (1 - y));
    } else {
        double x = ws_beta_quantile(2 * tail, df / 2, 0.5);
        t = sqrt(df * (1 - x) / x);
    }
    return p > 0.5 ? t : -t;
}

/* ------------------------------------------------------------------ sampling */

static double uniform_open(ws_rng *r) /* (0, 1) */
{
    return ((double)(ws_rng_next(r) >> 11) + 0.5) * 0x1.0p-53;
}

double ws_rng_normal(ws_rng *r)
{
    double u, v, s;
    do {
        u = 2 * ws_rng_uniform(r) - 1;
        v = 2 * ws_rng_uniform(r) - 1;
        s = u * u + v * v;
    } while (s >= 1 || s == 0);
    return u * sqrt(-2 * log(s) / s);
}

/* Marsaglia & Tsang, "A simple method for generating gamma variables" (2000), shape >= 1. */
static double gamma_mt(ws_rng *r, double shape)
{
    double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
    for (;;) {
        double x, v;
        do {
            x = ws_rng_normal(r);
            v = 1 + c * x;
        } while (v <= 0);
        v = v * v * v;
        double u = uniform_open(r);
        double x2 = x * x;
        if (u < 1 - 0.0331 * x2 * x2)
            return d * v;
        if (log(u) < 0.5 * x2 + d * (1 - v + log(v)))
            return d * v;
    }
}

/* log of a Gamma(shape, 1) draw; shape < 1 by Gamma(shape) = Gamma(shape + 1) U^(1/shape),
 * kept in log space (for shape 0.01 the draw is often below the smallest double). */
static double log_gamma_draw(ws_rng *r, double shape)
{
    if (shape >= 1)
        return log(gamma_mt(r, shape));
    double g = gamma_mt(r, shape + 1);
    return log(g) + log(uniform_open(r)) / shape;
}

double ws_rng_gamma(ws_rng *r, double shape)
{
    if (!(shape > 0))
        return NAN;
    if (shape >= 1)
        return gamma_mt(r, shape);
    return exp(log_gamma_draw(r, shape));
}

double ws_rng_beta(ws_rng *r, double a, double b)
{
    if (!(a > 0) || !(b > 0))
        return NAN;
    if (a >= 1 && b >= 1) {
        double x = gamma_mt(r, a), y = gamma_mt(r, b);
        return x / (x + y);
    }
    double lx = log_gamma_draw(r, a), ly = log_gamma_draw(r, b);
    /* X / (X + Y) = 1 / (1 + exp(log Y - log X)), exact in the limits where X or Y underflow */
    return 1 / (1 + exp(ly - lx));
}

/* ------------------------------------------------------------------ intervals */

ws_interval ws_beta_credible(double a, double b, double level)
{
    double alpha = 1 - level;
    return (ws_interval){ws_beta_quantile(alpha / 2, a, b), ws_beta_quantile(1 - alpha / 2, a, b)};
}

ws_interval ws_wilson(long successes, long n, double level)
{
    if (n <= 0)
        return (ws_interval){0, 1};
    double z = ws_normal_quantile(0.5 + level / 2), z2 = z * z, nn = (double)n;
    double p = (double)successes / nn;
    double denom = 1 + z2 / nn;
    double center = (p + z2 / (2 * nn)) / denom;
    double half = z * sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn)) / denom;
    ws_interval iv = {center - half, center + half};
    /* the bounds are exactly 0 and 1 at p = 0 and 1; keep rounding from crossing them */
    if (successes == 0 || iv.low < 0)
        iv.low = 0;
    if (successes == n || iv.high > 1)
        iv.high = 1;
    return iv;
}

ws_interval ws_clopper_pearson(long successes, long n, double level)
{
    if (n <= 0)
        return (ws_interval){0, 1};
    double alpha = 1 - level, s = (double)successes, nn = (double)n;
    ws_interval iv;
    iv.low = successes <= 0 ? 0 : ws_beta_quantile(alpha / 2, s, nn - s + 1);
    iv.high = successes >= n ? 1 : ws_beta_quantile(1 - alpha / 2, s + 1, nn - s);
    return iv;
}

ws_interval ws_t_interval(double mean, double sd, long n, double level)
{
    if (n < 2)
        return (ws_interval){NAN, NAN};
    double t = ws_student_t_quantile(0.5 + level / 2, (double)(n - 1));
    double half = t * sd / sqrt((double)n);
    return (ws_interval){mean - half, mean + half};
}

/* ------------------------------------------------------------------ arms */

void ws_arm_init(ws_arm_post *arm, double prior_alpha, double prior_beta)
{
    *arm = (ws_arm_post){.prior_alpha = prior_alpha, .prior_beta = prior_beta, .alpha = prior_alpha,
                         .beta = prior_beta, .score_alpha = prior_alpha, .score_beta = prior_beta};
}

int ws_arm_update(ws_arm_post *arm, double reward)
{
    if (!(reward >= 0 && reward <= 1))
        return -1;
    int success = reward == 1.0;
    arm->pulls++;
    arm->successes += success;
    arm->alpha += success;
    arm->beta += !success;
    arm->score_alpha += reward;
    arm->score_beta += 1 - reward;
    arm->reward_sum += reward;
    double delta = reward - arm->reward_mean;
    arm->reward_mean += delta / (double)arm->pulls;
    arm->reward_m2 += delta * (reward - arm->reward_mean);
    return 0;
}

void ws_arm_merge(ws_arm_post *dst, const ws_arm_post *src)
{
    if (src->pulls == 0)
        return;
    double na = (double)dst->pulls, nb = (double)src->pulls, n = na + nb;
    double delta = src->reward_mean - dst->reward_mean;
    dst->reward_mean += delta * nb / n;
    dst->reward_m2 += src->reward_m2 + delta * delta * na * nb / n;
    dst->pulls += src->pulls;
    dst->successes += src->successes;
    dst->alpha += src->alpha - src->prior_alpha;
    dst->beta += src->beta - src->prior_beta;
    dst->score_alpha += src->score_alpha - src->prior_alpha;
    dst->score_beta += src->score_beta - src->prior_beta;
    dst->reward_sum += src->reward_sum;
}

double ws_arm_success_mean(const ws_arm_post *arm)
{
    return arm->alpha / (arm->alpha + arm->beta);
}

double ws_arm_success_rate(const ws_arm_post *arm)
{
    return arm->pulls ? (double)arm->successes / (double)arm->pulls : 0;
}

double ws_arm_score_mean(const ws_arm_post *arm)
{
    return 100 * arm->score_alpha / (arm->score_alpha + arm->score_beta);
}

double ws_arm_score_sd(const ws_arm_post *arm)
{
    double a = arm->score_alpha, b = arm->score_beta, s = a + b;
    return 100 * sqrt(a * b / (s * s * (s + 1)));
}

double ws_arm_mean_score(const ws_arm_post *arm)
{
    return arm->pulls ? 100 * arm->reward_mean : 0;
}

double ws_arm_reward_sd(const ws_arm_post *arm)
{
    return arm->pulls >= 2 ? sqrt(arm->reward_m2 / (double)(arm->pulls - 1)) : 0;
}

void ws_arm_beta(const ws_arm_post *arm, ws_bandit_objective obj, double *a, double *b)
{
    *a = obj == WS_BANDIT_SCORE ? arm->score_alpha : arm->alpha;
    *b = obj == WS_BANDIT_SCORE ? arm->score_beta : arm->beta;
}

size_t ws_thompson_choose(const ws_arm_post *arms, size_t n, ws_bandit_objective obj, ws_rng *rng, double *draws)
{
    size_t best = 0;
    double best_draw = -1;
    for (size_t i = 0; i < n; i++) {
        double a, b;
        ws_arm_beta(&arms[i], obj, &a, &b);
        double x = ws_rng_beta(rng, a, b);
        if (draws)
            draws[i] = x;
        if (x > best_draw) {
            best_draw = x;
            best = i;
        }
    }
    return best;
}

/* Monte Carlo over joint draws; param(ctx, i, &a, &b) gives arm i's Beta parameters. */
typedef void beta_param_fn(const void *ctx, size_t i, double *a, double *b);

static void p_best_mc(beta_param_fn *param, const void *ctx, size_t n, long draws, uint64_t seed, double *out)
{
    ws_rng rng;
    ws_rng_seed(&rng, seed, "p-best");
    for (size_t i = 0; i < n; i++)
        out[i] = 0;
    if (n == 0 || draws <= 0)
        return;
    for (long d = 0; d < draws; d++) {
        size_t best = 0;
        double best_draw = -1;
        for (size_t i = 0; i < n; i++) {
            double a, b;
            param(ctx, i, &a, &b);
            double x = ws_rng_beta(&rng, a, b);
            if (x > best_draw) {
                best_draw = x;
                best = i;
            }
        }
        out[best] += 1;
    }
    for (size_t i = 0; i < n; i++)
        out[i] /= (double)draws;
}

typedef struct beta_arrays {
    const double *a, *b;
} beta_arrays;

static void param_arrays(const void *ctx, size_t i, double *a, double *b)
{
    const beta_arrays *ab = ctx;
    *a = ab->a[i];
    *b = ab->b[i];
}

void ws_p_best_beta(const double *a, const double *b, size_t n, long draws, uint64_t seed, double *out)
{
    beta_arrays ab = {a, b};
    p_best_mc(param_arrays, &ab, n, draws, seed, out);
}

typedef struct arms_obj {
    const ws_arm_post *arms;
    ws_bandit_objective obj;
} arms_obj;

static void param_arms(const void *ctx, size_t i, double *a, double *b)
{
    const arms_obj *ao = ctx;
    ws_arm_beta(&ao->arms[i], ao->obj, a, b);
}

void ws_p_best(const ws_arm_post *arms, size_t n, ws_bandit_objective obj, long draws, uint64_t seed, double *out)
{
    arms_obj ao = {arms, obj};
    p_best_mc(param_arms, &ao, n, draws, seed, out);
}
