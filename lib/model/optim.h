/* optim: AdamW, global gradient-norm clipping and learning-rate schedules.
 *
 * AdamW is torch.optim.AdamW (amsgrad off, maximize off), per tensor and element:
 *   p <- p * (1 - lr * weight_decay)                  (decoupled decay; skipped where decay = 0)
 *   m <- m + (1 - beta1) * (g - m)                    (= beta1 m + (1 - beta1) g)
 *   v <- beta2 v + (1 - beta2) g^2
 *   p <- p - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
 * with t the 1-based number of this update (t = 1 for the first). Scalars are computed in
 * double, elements in float, like torch's single-tensor path. m and v start at zero.
 *
 * Determinism: the element updates are independent, so they are split over OpenMP threads
 * without changing a single bit; the gradient norm is summed in double over fixed blocks of
 * WS_NORM_BLOCK elements (each in eight running sums, element i of the block into sum i mod 8,
 * then added in order) whose partial sums are then added in block order, so it does not depend
 * on the number of threads (nor on the vector width) either.
 *
 * Schedules follow Hugging Face transformers' get_*_schedule_with_warmup: `step` is the
 * 0-based index of the update about to be applied (the number of updates done so far), and
 *   step < warmup:           lr * step / warmup   (0 for the very first update, as there)
 *   constant:                lr
 *   linear:                  min_lr + (lr - min_lr) * max(0, (total - step) / (total - warmup))
 *   cosine:                  min_lr + (lr - min_lr) * 0.5 * (1 + cos(pi * progress)),
 *                            progress = (step - warmup) / (total - warmup), clamped to [0, 1]
 * so linear and cosine reach min_lr at step = total and stay there. */
#ifndef WS_OPTIM_H
#define WS_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "err.h"

#define WS_NORM_BLOCK 4096

typedef struct ws_adamw_opts {
    double beta1, beta2, eps, weight_decay;
} ws_adamw_opts;

/* torch's defaults: beta1 0.9, beta2 0.999, eps 1e-8, weight_decay 0.01. */
ws_adamw_opts ws_adamw_defaults(void);
/* Ranges: 0 <= beta < 1, eps > 0, weight_decay >= 0 (all finite); err names the field. */
int ws_adamw_check(const ws_adamw_opts *o, ws_err *err);

/* One update of one tensor of n elements (see above), from the gradient grad * grad_scale (each
 * product rounded to float, as scaling the gradient in place first would round it; 1 for the
 * gradient as it is). decay: 0 for no weight decay. */
void ws_adamw_update(const ws_adamw_opts *o, double lr, int64_t t, float *param, const float *grad,
                     float grad_scale, float *m, float *v, size_t n, int decay);

/* ws_adamw_update in two parts: the step's factors (from lr, t and whether to decay), then their
 * use on n elements. An update applied late (a row of a tensor whose gradient was zero, replayed
 * when it is next read: ws_trainer's embedding rows) runs the same factors through the same loop,
 * so it gives the bits the update in its own step would have. */
typedef struct ws_adamw_factors {
    float keep, w1, b2, w2, step_size, bc2_sqrt, eps;
    int decay;
} ws_adamw_factors;
ws_adamw_factors ws_adamw_factors_at(const ws_adamw_opts *o, double lr, int64_t t, int decay);
void ws_adamw_apply(const ws_adamw_factors *f, float *param, const float *grad, float grad_scale, float *m, float *v,
                    size_t n);
/* n_steps updates in order (steps[0] first) of n elements whose gradient was zero in each: the
 * bits of ws_adamw_apply with a zero gradient, step after step, the elements kept in cache
 * through all the steps (on one thread). */
void ws_adamw_replay_zero(const ws_adamw_factors *steps, size_t n_steps, float *param, float *m, float *v, size_t n);

/* One update of n_tensors tensors: params[i], grads[i], m[i], v[i] hold numel[i] floats in the
 * memory of backend `be`, which applies ws_adamw_update's formula to grads[i] * grad_scale (the
 * clipping factor: ws_clip_factor); decay[i] != 0 applies weight
 * decay to tensor i (decay NULL: every tensor); tensor i takes the rate lr * lr_scale[i]
 * (lr_scale NULL: lr for every tensor). Refuses (before touching anything) t < 1, a negative or
 * non-finite lr or scale, invalid opts. */
int ws_adamw_step(const ws_backend *be, const ws_adamw_opts *o, double lr, int64_t t, float *const *params,
                  const float *const *grads, float grad_scale, float *const *m, float *const *v, const size_t *numel,
                  const unsigned char *decay, const double *lr_scale, size_t n_tensors, ws_err *err);

/* The usual decay rule for BERT-style models: 0 (no decay) for biases (names ending in "bias"),
 * LayerNorm weights (names containing "LayerNorm", "layer_norm" or "layernorm") and every
 * tensor of fewer than 2 dimensions; 1 otherwise. */
int ws_adamw_default_decay(const char *name, int ndim);

/* Rows of one tensor (row-major, `width` values a row) outside which it is all zeros: a batch's
 * few hundred rows of the word embeddings' gradient (ws_model_grad_rows), sorted, distinct. */
typedef struct ws_sparse_rows {
    size_t tensor, width, n_rows;
    const int32_t *rows;
} ws_sparse_rows;

/* The L2 norm of all gradients together, in backend memory: the tensors' sums of squares (on
 * the CPU, the fixed blocks described above) added in tensor order. Where sparse is not NULL (host
 * memory), its tensor is read only in its rows: the same bits as reading it whole. */
double ws_grad_norm(const ws_backend *be, const float *const *grads, const size_t *numel, size_t n_tensors,
                    const ws_sparse_rows *sparse);
/* The factor torch.nn.utils.clip_grad_norm_ scales the gradients by: max_norm / (norm + 1e-6)
 * when max_norm > 0 and the norm exceeds it, else 1. The update applies it as it reads each
 * gradient (ws_adamw_step), instead of a pass over all of them that writes them scaled: the same
 * bits, a pass over the gradients' memory fewer. A non-finite norm (a NaN or infinite gradient)
 * gives 1: the caller skips that update. */
float ws_clip_factor(double norm, double max_norm);
/* The sum of squares of one tensor, in double, over fixed blocks added in order (the norm's part). */
double ws_sum_squares(const float *x, size_t n);
/* ws_sum_squares of a tensor that is zero outside the given rows (sorted, distinct), reading only
 * those: the same blocks and running sums, a zero adding nothing to any of them. */
double ws_sum_squares_rows(const float *x, size_t width, const int32_t *rows, size_t n_rows);

typedef enum ws_lr_kind { WS_LR_CONSTANT, WS_LR_LINEAR, WS_LR_COSINE } ws_lr_kind;

typedef struct ws_lr_schedule {
    ws_lr_kind kind;
    double lr;             /* peak, reached at the end of warm-up */
    double min_lr;         /* floor of linear and cosine decay (0 in transformers) */
    int64_t warmup_steps;  /* >= 0 */
    int64_t total_steps;   /* linear, cosine: >= warmup_steps; ignored by constant */
} ws_lr_schedule;

int ws_lr_check(const ws_lr_schedule *s, ws_err *err);
double ws_lr_at(const ws_lr_schedule *s, int64_t step);
/* "constant", "linear", "cosine" <-> kind. parse returns -1 for other names. */
int ws_lr_kind_parse(const char *name, ws_lr_kind *out);
const char *ws_lr_kind_name(ws_lr_kind kind);

#endif
