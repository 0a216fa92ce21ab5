#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Element loops split over threads only where that pays; results are identical either way. */
#ifdef _OPENMP
#define WS_PARALLEL_FOR _Pragma("omp parallel for schedule(static) if (n >= 65536)")
#else
#define WS_PARALLEL_FOR
#endif

ws_adamw_opts ws_adamw_defaults(void)
{
    return (ws_adamw_opts){.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.01};
}

int ws_adamw_check(const ws_adamw_opts *o, ws_err *err)
{
    if (!(o->beta1 >= 0 && o->beta1 < 1))
        return ws_fail(err, "AdamW beta1 %g is outside [0, 1)", o->beta1);
    if (!(o->beta2 >= 0 && o->beta2 < 1))
        return ws_fail(err, "AdamW beta2 %g is outside [0, 1)", o->beta2);
    if (!(o->eps > 0 && isfinite(o->eps)))
        return ws_fail(err, "AdamW eps %g must be positive", o->eps);
    if (!(o->weight_decay >= 0 && isfinite(o->weight_decay)))
        return ws_fail(err, "AdamW weight decay %g must be non-negative", o->weight_decay);
    return 0;
}

ws_adamw_factors ws_adamw_factors_at(const ws_adamw_opts *o, double lr, int64_t t, int decay)
{
    const double bc1 = 1.0 - pow(o->beta1, (double)t), bc2 = 1.0 - pow(o->beta2, (double)t);
    return (ws_adamw_factors){.keep = (float)(1.0 - lr * o->weight_decay),
                              .decay = decay && o->weight_decay != 0,
                              .w1 = (float)(1.0 - o->beta1),
                              .b2 = (float)o->beta2,
                              .w2 = (float)(1.0 - o->beta2),
                              .step_size = (float)(lr / bc1),
                              .bc2_sqrt = (float)sqrt(bc2),
                              .eps = (float)o->eps};
}

/* One element's update: the one formula both loops below inline, so that an update replayed late
 * gives the bits of the same update in its own step. */
static inline void adamw_element(const ws_adamw_factors *f, float *param, float g, float *m, float *v)
{
    float p = *param;
    if (f->decay)
        p *= f->keep;
    float mi = *m + f->w1 * (g - *m);
    float vi = *v * f->b2 + f->w2 * g * g;
    float denom = sqrtf(vi) / f->bc2_sqrt + f->eps;
    *param = p - f->step_size * (mi / denom);
    *m = mi;
    *v = vi;
}

void ws_adamw_apply(const ws_adamw_factors *f, float *param, const float *grad, float grad_scale, float *m, float *v,
                    size_t n)
{
    const ws_adamw_factors factors = *f;
    WS_PARALLEL_FOR
    for (size_t i = 0; i < n; i++)
        adamw_element(&factors, &param[i], grad[i] * grad_scale, &m[i], &v[i]);
}

/* Every bit of x[0 .. n - 1] zero (not -0.0, which the update would turn into +0). */
static int all_bits_zero(const float *x, size_t n)
{
    uint32_t any = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t bits;
        memcpy(&bits, &x[i], sizeof bits);
        any |= bits;
    }
    return any == 0;
}

void ws_adamw_replay_zero(const ws_adamw_factors *steps, size_t n_steps, float *param, float *m, float *v, size_t n)
{
    /* Elements that never had a gradient (m and v +0): with g = 0 the formula leaves m and v +0
     * and subtracts step_size * (0 / eps) = +0 from p, so each step only multiplies p by keep
     * where it decays: the same bits for a fifteenth of the work (most of a vocabulary's rows) */
    if (all_bits_zero(m, n) && all_bits_zero(v, n)) {
        for (size_t s = 0; s < n_steps; s++)
            if (steps[s].decay) {
                const float keep = steps[s].keep;
                for (size_t i = 0; i < n; i++)
                    param[i] *= keep;
            }
        return;
    }
    for (size_t s = 0; s < n_steps; s++) {
        const ws_adamw_factors factors = steps[s];
        for (size_t i = 0; i < n; i++)
            adamw_element(&factors, &param[i], 0.0f, &m[i], &v[i]);
    }
}

void ws_adamw_update(const ws_adamw_opts *o, double lr, int64_t t, float *param, const float *grad,
                     float grad_scale, float *m, float *v, size_t n, int decay)
{
    ws_adamw_factors f = ws_adamw_factors_at(o, lr, t, decay);
    ws_adamw_apply(&f, param, grad, grad_scale, m, v, n);
}

int ws_adamw_step(const ws_backend *be, const ws_adamw_opts *o, double lr, int64_t t, float *const *params,
                  const float *const *grads, float grad_scale, float *const *m, float *const *v, const size_t *numel,
                  const unsigned char *decay, const double *lr_scale, size_t n_tensors, ws_err *err)
{
    if (ws_adamw_check(o, err))
        return -1;
    if (t < 1)
        return ws_fail(err, "AdamW step %lld: the first update is step 1", (long long)t);
    if (!(lr >= 0 && isfinite(lr)))
        return ws_fail(err, "AdamW learning rate %g must be finite and non-negative", lr);
    for (size_t i = 0; lr_scale && i < n_tensors; i++)
        if (!(lr_scale[i] >= 0 && isfinite(lr_scale[i])))
            return ws_fail(err, "AdamW learning-rate scale %g of tensor %zu must be finite and non-negative",
                           lr_scale[i], i);
    for (size_t i = 0; i < n_tensors; i++)
        be->adamw(be, o, lr_scale ? lr * lr_scale[i] : lr, t, params[i], grads[i], grad_scale, m[i], v[i], numel[i],
                  decay ? decay[i] : 1);
    return be->status(be, err);
}

int ws_adamw_default_decay(const char *name, int ndim)
{
    if (ndim < 2)
        return 0;
    size_t n = strlen(name);
    if (n >= 4 && strcmp(name + n - 4, "bias") == 0)
        return 0;
    if (strstr(name, "LayerNorm") || strstr(name, "layer_norm") || strstr(name, "layernorm"))
        return 0;
    return 1;
}

/* Sum of squares of one block, in double: eight running sums (element i into sum i mod 8), then
 * added in order. One running sum was a chain of dependent adds, a third of the time of a whole
 * AdamW update; eight vectorise, and fix the order whatever the vector width. */
enum { SUMSQ_LANES = 8 };

/* The block's running sums added in order. */
static double fold_lanes(const double lane[SUMSQ_LANES])
{
    double s = 0;
    for (int j = 0; j < SUMSQ_LANES; j++)
        s += lane[j];
    return s;
}

static double block_sumsq(const float *g, size_t n)
{
    double lane[SUMSQ_LANES] = {0};
    size_t i = 0;
    for (; i + SUMSQ_LANES <= n; i += SUMSQ_LANES)
        for (int j = 0; j < SUMSQ_LANES; j++)
            lane[j] += (double)g[i + j] * g[i + j];
    for (int j = 0; i < n; i++, j++)
        lane[j] += (double)g[i] * g[i];
    return fold_lanes(lane);
}

double ws_sum_squares_rows(const float *x, size_t width, const int32_t *rows, size_t n_rows)
{
    /* block_sumsq puts element i of a block into running sum i mod SUMSQ_LANES (WS_NORM_BLOCK is a
     * multiple of it, so that is i mod SUMSQ_LANES of the tensor); each sum here takes the same
     * nonzero values in the same order, and a block without any adds +0 to the total */
    double total = 0, lane[SUMSQ_LANES] = {0};
    size_t open_block = SIZE_MAX;
    for (size_t r = 0; r < n_rows; r++) {
        size_t i = (size_t)rows[r] * width, end = i + width;
        while (i < end) {
            size_t block = i / WS_NORM_BLOCK, block_end = (block + 1) * WS_NORM_BLOCK;
            size_t stop = block_end < end ? block_end : end;
            if (block != open_block) {
                if (open_block != SIZE_MAX)
                    total += fold_lanes(lane);
                memset(lane, 0, sizeof lane);
                open_block = block;
            }
            for (; i < stop; i++)
                lane[i % SUMSQ_LANES] += (double)x[i] * x[i];
        }
    }
    if (open_block != SIZE_MAX)
        total += fold_lanes(lane);
    return total;
}

double ws_sum_squares(const float *x, size_t n)
{
    size_t nb = (n + WS_NORM_BLOCK - 1) / WS_NORM_BLOCK;
    if (nb <= 1)
        return block_sumsq(x, n);
    double total = 0, *part = malloc(nb * sizeof *part);
    if (!part) { /* same blocks, same order, one thread */
        for (size_t b = 0; b < nb; b++) {
            size_t len = b + 1 < nb ? WS_NORM_BLOCK : n - b * WS_NORM_BLOCK;
            total += block_sumsq(x + b * WS_NORM_BLOCK, len);
        }
        return total;
    }
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (nb >= 16)
#endif
    for (size_t b = 0; b < nb; b++) {
        size_t len = b + 1 < nb ? WS_NORM_BLOCK : n - b * WS_NORM_BLOCK;
        part[b] = block_sumsq(x + b * WS_NORM_BLOCK, len);
    }
    for (size_t b = 0; b < nb; b++)
        total += part[b];
    free(part);
    return total;
}

double ws_grad_norm(const ws_backend *be, const float *const *grads, const size_t *numel, size_t n_tensors,
                    const ws_sparse_rows *sparse)
{
    double total = 0;
    for (size_t k = 0; k < n_tensors; k++)
        total += sparse && k == sparse->tensor
                     ? ws_sum_squares_rows(grads[k], sparse->width, sparse->rows, sparse->n_rows)
                     : be->sum_squares(be, grads[k], numel[k]);
    return sqrt(total);
}

float ws_clip_factor(double norm, double max_norm)
{
    if (!isfinite(norm) || !(max_norm > 0) || norm <= max_norm)
        return 1.0f;
    return (float)(max_norm / (norm + 1e-6));
}

static const char *const LR_NAMES[] = {"constant", "linear", "cosine"};

int ws_lr_kind_parse(const char *name, ws_lr_kind *out)
{
    for (int i = 0; i < 3; i++)
        if (strcmp(name, LR_NAMES[i]) == 0) {
            *out = (ws_lr_kind)i;
            return 0;
        }
    return -1;
}

const char *ws_lr_kind_name(ws_lr_kind kind)
{
    return (unsigned)kind < 3 ? LR_NAMES[kind] : "?";
}

int ws_lr_check(const ws_lr_schedule *s, ws_err *err)
{
    if ((unsigned)s->kind > WS_LR_COSINE)
        return ws_fail(err, "unknown learning-rate schedule %d", (int)s->kind);
    if (!(s->lr >= 0 && isfinite(s->lr)))
        return ws_fail(err, "learning rate %g must be finite and non-negative", s->lr);
    if (s->warmup_steps < 0)
        return ws_fail(err, "negative warm-up (%lld steps)", (long long)s->warmup_steps);
    if (s->kind != WS_LR_CONSTANT) {
        if (!(s->min_lr >= 0 && s->min_lr <= s->lr))
            return ws_fail(err, "minimum learning rate %g is outside [0, %g]", s->min_lr, s->lr);
        if (s->total_steps < s->warmup_steps)
            return ws_fail(err, "%s schedule: %lld total steps, fewer than the %lld of warm-up",
                           LR_NAMES[s->kind], (long long)s->total_steps, (long long)s->warmup_steps);
    }
    return 0;
}

double ws_lr_at(const ws_lr_schedule *s, int64_t step)
{
    if (step < 0)
        step = 0;
    if (step < s->warmup_steps)
        return s->lr * (double)step / (double)s->warmup_steps;
    if (s->kind == WS_LR_CONSTANT)
        return s->lr;
    if (step >= s->total_steps)
        return s->min_lr;
    double progress = (double)(step - s->warmup_steps) / (double)(s->total_steps - s->warmup_steps);
    double factor = s->kind == WS_LR_LINEAR ? 1.0 - progress : 0.5 * (1.0 + cos(M_PI * progress));
    return s->min_lr + (s->lr - s->min_lr) * factor;
}
