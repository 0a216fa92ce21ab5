/* backend_timed.c: a backend that runs another's kernels and adds up each kernel's wall time and
 * calls (backend.h, ws_backend_timed_new). Every entry of the table calls the inner backend's
 * with the inner backend itself, so that its kernels see their own ctx; the memory functions
 * and the data-parallel ones pass through untimed. */
#include <omp.h>
#include <stdlib.h>

#include "backend.h"

enum timed_op {
    OP_ZERO, OP_COPY, OP_MATMUL_FORWARD, OP_MATMUL_BACKWARD, OP_EMBEDDING_FORWARD, OP_EMBEDDING_BACKWARD,
    OP_LAYERNORM_FORWARD, OP_LAYERNORM_BACKWARD, OP_MATMUL_GELU_FORWARD, OP_MATMUL_GELU_BACKWARD, OP_RELU_FORWARD,
    OP_RELU_BACKWARD, OP_ATTENTION_FORWARD, OP_ATTENTION_BACKWARD, OP_BIATTN_FORWARD, OP_BIATTN_BACKWARD,
    OP_POOL_FORWARD, OP_POOL_BACKWARD, OP_LOGSOFTMAX_FORWARD, OP_CLS_FORWARD, OP_CLS_BACKWARD, OP_SUM_SQUARES,
    OP_ADAMW, N_OPS
};

static const char *const OP_NAMES[N_OPS] = {
    "zero", "copy", "matmul_forward", "matmul_backward", "embedding_forward", "embedding_backward",
    "layernorm_forward", "layernorm_backward", "matmul_gelu_forward", "matmul_gelu_backward", "relu_forward",
    "relu_backward", "attention_forward", "attention_backward", "biattn_forward", "biattn_backward",
    "pool_forward", "pool_backward", "logsoftmax_forward", "cls_forward", "cls_backward", "sum_squares", "adamw"};

typedef struct timed_ctx {
    const ws_backend *inner;
    ws_backend_op_time ops[N_OPS];
} timed_ctx;

static const ws_backend *inner_of(const ws_backend *be)
{
    return ((const timed_ctx *)be->ctx)->inner;
}

/* Kernels are called from one host thread (they parallelise inside), so the sums need no lock. */
static void add_time(const ws_backend *be, enum timed_op op, double since)
{
    ws_backend_op_time *t = &((timed_ctx *)be->ctx)->ops[op];
    t->seconds += omp_get_wtime() - since;
    t->calls++;
}

/* Runs the inner backend's fn with the arguments after be, timed as op. */
#define TIMED(op, fn, ...)                                                                                             \
    do {                                                                                                               \
        double since_ = omp_get_wtime();                                                                               \
        inner_of(be)->fn(inner_of(be), __VA_ARGS__);                                                                   \
        add_time(be, op, since_);                                                                                      \
    } while (0)

static void *timed_alloc(const ws_backend *be, size_t bytes)
{
    return inner_of(be)->alloc(inner_of(be), bytes);
}

static void timed_free(const ws_backend *be, void *p)
{
    inner_of(be)->free(inner_of(be), p);
}

static void timed_upload(const ws_backend *be, void *dst, const void *host_src, size_t bytes)
{
    inner_of(be)->upload(inner_of(be), dst, host_src, bytes);
}

static void timed_download(const ws_backend *be, void *host_dst, const void *src, size_t bytes)
{
    inner_of(be)->download(inner_of(be), host_dst, src, bytes);
}

static int timed_status(const ws_backend *be, ws_err *err)
{
    return inner_of(be)->status(inner_of(be), err);
}

static void timed_copy(const ws_backend *be, void *dst, const void *src, size_t bytes)
{
    TIMED(OP_COPY, copy, dst, src, bytes);
}

static void timed_zero(const ws_backend *be, void *dst, size_t bytes)
{
    TIMED(OP_ZERO, zero, dst, bytes);
}

static void timed_matmul_forward(const ws_backend *be, ws_real *out, const ws_real *inp, const ws_real *w,
                                 const ws_real *b, const ws_real *add, int T, int IC, int OC)
{
    TIMED(OP_MATMUL_FORWARD, matmul_forward, out, inp, w, b, add, T, IC, OC);
}

static void timed_matmul_backward(const ws_backend *be, ws_real *dinp, ws_real *dw, ws_real *db, const ws_real *dout,
                                  const ws_real *inp, const ws_real *w, const ws_real *add, int T, int IC, int OC)
{
    TIMED(OP_MATMUL_BACKWARD, matmul_backward, dinp, dw, db, dout, inp, w, add, T, IC, OC);
}

static void timed_embedding_forward(const ws_backend *be, ws_real *out, const int32_t *ids, const int32_t *pos,
                                    const int32_t *types, int T, int C, const ws_real *wte, const ws_real *wpe,
                                    const ws_real *wtt)
{
    TIMED(OP_EMBEDDING_FORWARD, embedding_forward, out, ids, pos, types, T, C, wte, wpe, wtt);
}

static void timed_embedding_backward(const ws_backend *be, ws_real *dwte, ws_real *dwpe, ws_real *dwtt,
                                     const ws_real *dout, const int32_t *ids, const int32_t *pos,
                                     const int32_t *types, int T, int C)
{
    TIMED(OP_EMBEDDING_BACKWARD, embedding_backward, dwte, dwpe, dwtt, dout, ids, pos, types, T, C);
}

static void timed_layernorm_forward(const ws_backend *be, ws_real *out, ws_real *mean, ws_real *rstd,
                                    const ws_real *inp, const ws_real *w, const ws_real *b, int T, int C, ws_real eps)
{
    TIMED(OP_LAYERNORM_FORWARD, layernorm_forward, out, mean, rstd, inp, w, b, T, C, eps);
}

static void timed_layernorm_backward(const ws_backend *be, ws_real *dinp, ws_real *dw, ws_real *db,
                                     const ws_real *dout, const ws_real *inp, const ws_real *w, const ws_real *mean,
                                     const ws_real *rstd, int T, int C, int accumulate)
{
    TIMED(OP_LAYERNORM_BACKWARD, layernorm_backward, dinp, dw, db, dout, inp, w, mean, rstd, T, C, accumulate);
}

static void timed_matmul_gelu_forward(const ws_backend *be, ws_real *out, ws_real *act, const ws_real *inp,
                                      const ws_real *w, const ws_real *b, int T, int IC, int OC)
{
    TIMED(OP_MATMUL_GELU_FORWARD, matmul_gelu_forward, out, act, inp, w, b, T, IC, OC);
}

static void timed_matmul_gelu_backward(const ws_backend *be, ws_real *dinp, ws_real *dw, ws_real *db,
                                       const ws_real *dout, const ws_real *inp, const ws_real *w, const ws_real *pre,
                                       int T, int IC, int OC)
{
    TIMED(OP_MATMUL_GELU_BACKWARD, matmul_gelu_backward, dinp, dw, db, dout, inp, w, pre, T, IC, OC);
}

static void timed_relu_forward(const ws_backend *be, ws_real *out, const ws_real *inp, size_t n, ws_real slope)
{
    TIMED(OP_RELU_FORWARD, relu_forward, out, inp, n, slope);
}

static void timed_relu_backward(const ws_backend *be, ws_real *dinp, const ws_real *inp, const ws_real *dout, size_t n,
                                ws_real slope)
{
    TIMED(OP_RELU_BACKWARD, relu_backward, dinp, inp, dout, n, slope);
}

static void timed_attention_forward(const ws_backend *be, ws_real *out, ws_real *att, const ws_real *q,
                                    const ws_real *k, const ws_real *v, const ws_pack *p, int C, int NH)
{
    TIMED(OP_ATTENTION_FORWARD, attention_forward, out, att, q, k, v, p, C, NH);
}

static void timed_attention_backward(const ws_backend *be, ws_real *dq, ws_real *dk, ws_real *dv, const ws_real *dout,
                                     const ws_real *att, const ws_real *q, const ws_real *k, const ws_real *v,
                                     const ws_pack *p, int C, int NH)
{
    TIMED(OP_ATTENTION_BACKWARD, attention_backward, dq, dk, dv, dout, att, q, k, v, p, C, NH);
}

static void timed_biattn_forward(const ws_backend *be, ws_real *feat, const ws_biattn_buffers *sv, const ws_real *enc,
                                 const ws_pack *p, const ws_real *w_in, const ws_real *w_mem, const ws_real *scale,
                                 int C)
{
    TIMED(OP_BIATTN_FORWARD, biattn_forward, feat, sv, enc, p, w_in, w_mem, scale, C);
}

static void timed_biattn_backward(const ws_backend *be, ws_real *d_enc, ws_real *dw_in, ws_real *dw_mem,
                                  ws_real *dscale, const ws_real *dfeat, const ws_biattn_buffers *sv,
                                  const ws_real *enc, const ws_pack *p, const ws_real *w_in, const ws_real *w_mem,
                                  const ws_real *scale, int C, ws_real *scratch)
{
    TIMED(OP_BIATTN_BACKWARD, biattn_backward, d_enc, dw_in, dw_mem, dscale, dfeat, sv, enc, p, w_in, w_mem, scale, C,
          scratch);
}

static void timed_pool_forward(const ws_backend *be, ws_real *pooled, const ws_real *h, const ws_pack *p, int C)
{
    TIMED(OP_POOL_FORWARD, pool_forward, pooled, h, p, C);
}

static void timed_pool_backward(const ws_backend *be, ws_real *dh, const ws_real *dpooled, const ws_pack *p, int C)
{
    TIMED(OP_POOL_BACKWARD, pool_backward, dh, dpooled, p, C);
}

static void timed_logsoftmax_forward(const ws_backend *be, ws_real *logp, const ws_real *logits, const ws_pack *p)
{
    TIMED(OP_LOGSOFTMAX_FORWARD, logsoftmax_forward, logp, logits, p);
}

static void timed_cls_forward(const ws_backend *be, ws_real *cls, const ws_real *enc, const ws_pack *p, int C)
{
    TIMED(OP_CLS_FORWARD, cls_forward, cls, enc, p, C);
}

static void timed_cls_backward(const ws_backend *be, ws_real *d_enc, const ws_real *d_cls, const ws_pack *p, int C)
{
    TIMED(OP_CLS_BACKWARD, cls_backward, d_enc, d_cls, p, C);
}

static double timed_sum_squares(const ws_backend *be, const float *x, size_t n)
{
    double since = omp_get_wtime(), sum = inner_of(be)->sum_squares(inner_of(be), x, n);
    add_time(be, OP_SUM_SQUARES, since);
    return sum;
}

static void timed_adamw(const ws_backend *be, const ws_adamw_opts *o, double lr, int64_t t, float *param,
                        const float *grad, float grad_scale, float *m, float *v, size_t n, int decay)
{
    TIMED(OP_ADAMW, adamw, o, lr, t, param, grad, grad_scale, m, v, n, decay);
}

static int timed_comm_unique_id(const ws_backend *be, void *id, size_t *id_bytes, ws_err *err)
{
    return inner_of(be)->comm_unique_id(inner_of(be), id, id_bytes, err);
}

static int timed_comm_init(const ws_backend *be, const void *id, int rank, int n_ranks, ws_err *err)
{
    return inner_of(be)->comm_init(inner_of(be), id, rank, n_ranks, err);
}

static void timed_allreduce_sum(const ws_backend *be, float *x, size_t n)
{
    inner_of(be)->allreduce_sum(inner_of(be), x, n);
}

static void timed_destroy(ws_backend *be)
{
    free(be->ctx);
    free(be);
}

ws_backend *ws_backend_timed_new(const ws_backend *inner, ws_err *err)
{
    ws_backend *be = malloc(sizeof *be);
    timed_ctx *ctx = calloc(1, sizeof *ctx);
    if (!be || !ctx) {
        free(be);
        free(ctx);
        return ws_fail(err, "out of memory for a timed backend"), NULL;
    }
    ctx->inner = inner;
    for (int op = 0; op < N_OPS; op++)
        ctx->ops[op].op = OP_NAMES[op];
    *be = (ws_backend){
        .name = inner->name, .ctx = ctx, .wraps = inner,
        .alloc = timed_alloc, .free = timed_free, .upload = timed_upload, .download = timed_download,
        .copy = timed_copy, .zero = timed_zero, .status = timed_status,
        .matmul_forward = timed_matmul_forward, .matmul_backward = timed_matmul_backward,
        .embedding_forward = timed_embedding_forward, .embedding_backward = timed_embedding_backward,
        .layernorm_forward = timed_layernorm_forward, .layernorm_backward = timed_layernorm_backward,
        .matmul_gelu_forward = timed_matmul_gelu_forward, .matmul_gelu_backward = timed_matmul_gelu_backward,
        .relu_forward = timed_relu_forward, .relu_backward = timed_relu_backward,
        .attention_forward = timed_attention_forward, .attention_backward = timed_attention_backward,
        .biattn_forward = timed_biattn_forward, .biattn_backward = timed_biattn_backward,
        .pool_forward = timed_pool_forward, .pool_backward = timed_pool_backward,
        .logsoftmax_forward = timed_logsoftmax_forward, .cls_forward = timed_cls_forward,
        .cls_backward = timed_cls_backward, .sum_squares = timed_sum_squares, .adamw = timed_adamw,
        .comm_unique_id = inner->comm_unique_id ? timed_comm_unique_id : NULL,
        .comm_init = inner->comm_init ? timed_comm_init : NULL,
        .allreduce_sum = inner->allreduce_sum ? timed_allreduce_sum : NULL,
        .destroy = timed_destroy};
    return be;
}

int ws_backend_timed_ops(const ws_backend *timed, ws_backend_op_time *ops, int cap)
{
    const timed_ctx *ctx = timed->ctx;
    int n = 0;
    for (int op = 0; op < N_OPS; op++)
        if (ctx->ops[op].calls && n < cap)
            ops[n++] = ctx->ops[op];
    return n;
}

void ws_backend_timed_reset(const ws_backend *timed)
{
    timed_ctx *ctx = timed->ctx;
    for (int op = 0; op < N_OPS; op++)
        ctx->ops[op].calls = 0, ctx->ops[op].seconds = 0;
}
