/* backend: where the choice model's arrays live and the kernels that run on them.
 *
 * A backend is a table of functions: memory (allocate, copy in and out), every layer's forward
 * and backward, and the optimiser's element-wise update. lib/model/model and lib/train/train call only
 * these, so the same model code runs on the CPU (backend_cpu.c: the readable reference, OpenBLAS
 * and OpenMP) and on an NVIDIA GPU (backend_cuda.cu: cuBLAS and our kernels; built with
 * make CUDA=1). Pointers handed to a backend's kernels are its own memory (from ->alloc); the
 * CPU backend's memory is ordinary host memory.
 *
 * Conventions (as llm.c): a forward writes its outputs; a backward ADDS into the gradients of
 * its inputs and parameters (so branches that meet, such as residuals, simply accumulate); the
 * caller zeroes gradients. Linear weights are [out, in] (the Hugging Face layout). Sequences are
 * packed without padding (ws_pack): sequence s occupies rows seq_start[s] .. seq_start[s] +
 * seq_len[s] - 1 of a [T, C] matrix, so attention needs no padding mask.
 *
 * Errors: kernels return nothing; a backend that can fail after allocation (a GPU) records its
 * first error, and ->status reports it (the model asks after every forward and backward).
 *
 * ws_real is float; the gradient check compiles the model and the CPU backend with
 * WS_REAL=double. */
#ifndef WS_BACKEND_H
#define WS_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#ifndef WS_REAL
#define WS_REAL float
#endif
typedef WS_REAL ws_real;


/* Threads for the CPU kernels (OpenMP loops and BLAS alike); 0 means one per core. The same count
 * gives the same bits on the same BLAS kernels (OpenBLAS's choice for the CPU, or the
 * OPENBLAS_CORETYPE of the environment: backend_cpu.c); another count or other kernels may
 * change the last bits of matrix products. */
void ws_backend_set_threads(int n);
int ws_backend_threads(void);

/* The packing of a batch of decisions, made by the model on the host. Sequences 0..B-1 are the
 * states, B..B+A-1 the actions (decision i owns actions first_action[i] .. first_action[i] +
 * n_actions[i] - 1). Every array is given twice: on the host (h_) and in the backend's memory
 * (d_; the same pointers on the CPU). */
typedef struct ws_pack_arrays {
    const int *seq_start, *seq_len;  /* [n_seq] rows of each sequence in the [T, C] matrix */
    const size_t *att_start;         /* [n_seq] offset of its NH x len x len attention probabilities
                                      * (room: NH x len x ws_att_row(len), see att_total) */
    const int *first_action, *n_actions; /* [B] */
    const int *action_decision;      /* [A] the decision (= state sequence) of each action */
    const int *act_tok;              /* [A] first row of the action among the Ta action-token rows */
    const size_t *p1_start;          /* [A] offset of its La x Ls bi-attention probabilities */
    /* A decision's actions follow one another: their act_tok rows and p1_start blocks are
     * contiguous (the CUDA backend multiplies a decision's actions as one matrix). */
} ws_pack_arrays;

typedef struct ws_pack {
    int B, A, n_seq;
    int T;           /* rows of all sequences */
    int Ta;          /* rows of the actions only: the head's rows */
    int max_len;     /* longest sequence */
    size_t att_total, p1_total; /* att_total: the sum over sequences of NH x len x ws_att_row(len) */
    ws_pack_arrays h, d;
} ws_pack;

/* The row length that att_total leaves room for: len rounded up to 4 floats, so that a backend
 * may start every probability block and row on a 16-byte boundary (the GPU's batched
 * tensor-core products need aligned operands; backend_cuda.cu, "attention"). */
static inline int ws_att_row(int len)
{
    return (len + 3) & ~3;
}

/* The bi-attention's saved activations for a whole batch: p1 [p1_total] (each action's La x Ls
 * row softmax at p1_start), w2 [Ta], argmax [Ta], out1 [Ta, C] (action rows, by act_tok),
 * out2 [A, C], mem_dot [T] (mem . w_mem of every state row; other rows unused). */
typedef struct ws_biattn_buffers {
    ws_real *p1, *w2, *out1, *out2, *mem_dot;
    int *argmax;
} ws_biattn_buffers;

/* Scratch (in reals) that biattn_backward may use for a batch, whatever the backend: for each
 * decision WS_BIATTN_DECISION_SCRATCH x C (the three parameters' gradients summed over its
 * actions), then for each action of La tokens over a state of Ls its own part
 * (ws_biattn_action_scratch), so that decisions can run side by side. */
enum { WS_BIATTN_DECISION_SCRATCH = 3 };
static inline size_t ws_biattn_action_scratch(size_t La, size_t Ls, int C)
{
    return La * Ls + 2 * La * (size_t)C + La + (size_t)C;
}

typedef struct ws_adamw_opts ws_adamw_opts; /* lib/model/optim.h */

typedef struct ws_backend ws_backend;
struct ws_backend {
    const char *name; /* "cpu", "cuda" */
    void *ctx;        /* the backend's own state (handles, stream, first error) */
    const ws_backend *wraps; /* the backend whose kernels this one runs (a timed one), else NULL */

    /* ---- memory: alloc returns zeroed memory or NULL */
    void *(*alloc)(const ws_backend *be, size_t bytes);
    void (*free)(const ws_backend *be, void *p);
    void (*upload)(const ws_backend *be, void *dst, const void *host_src, size_t bytes);
    void (*download)(const ws_backend *be, void *host_dst, const void *src, size_t bytes);
    void (*copy)(const ws_backend *be, void *dst, const void *src, size_t bytes);
    void (*zero)(const ws_backend *be, void *dst, size_t bytes);
    /* 0, or -1 with the first error since the backend was made (it stays). */
    int (*status)(const ws_backend *be, ws_err *err);

    /* ---- layers */
    /* out[T, OC] = inp[T, IC] . w[OC, IC]^T + b + add (b, add may be NULL; add: a residual of
     * out's shape, added as the product is stored where the backend can) */
    void (*matmul_forward)(const ws_backend *be, ws_real *out, const ws_real *inp, const ws_real *w,
                           const ws_real *b, const ws_real *add, int T, int IC, int OC);
    /* dinp = dout . w + add (add NULL: nothing; add == dinp: dinp adds up); dw += dout^T . inp;
     * db += column sums of dout (dinp, db may be NULL). The parameters' gradients always add up
     * (a backward may run more than once an update); an activation's gradient is written by its
     * first producer, so that nothing has to zero it first (a pass over memory for each of a
     * layer's buffers), and a residual's gradient is added as the product is stored. */
    void (*matmul_backward)(const ws_backend *be, ws_real *dinp, ws_real *dw, ws_real *db, const ws_real *dout,
                            const ws_real *inp, const ws_real *w, const ws_real *add, int T, int IC, int OC);
    /* out[t] = wte[ids[t]] + wpe[pos[t]] + wtt[types[t]]; ids, pos, types in backend memory. Backward
     * adds each table row's gradients in token order (the same bits on every backend). */
    void (*embedding_forward)(const ws_backend *be, ws_real *out, const int32_t *ids, const int32_t *pos,
                              const int32_t *types, int T, int C, const ws_real *wte, const ws_real *wpe,
                              const ws_real *wtt);
    void (*embedding_backward)(const ws_backend *be, ws_real *dwte, ws_real *dwpe, ws_real *dwtt,
                               const ws_real *dout, const int32_t *ids, const int32_t *pos, const int32_t *types,
                               int T, int C);
    /* BERT's LayerNorm (biased variance, eps inside the square root); mean and rstd are saved. */
    void (*layernorm_forward)(const ws_backend *be, ws_real *out, ws_real *mean, ws_real *rstd, const ws_real *inp,
                              const ws_real *w, const ws_real *b, int T, int C, ws_real eps);
    /* dinp = (or += where accumulate) the input's gradient; dw, db add up (as matmul_backward's) */
    void (*layernorm_backward)(const ws_backend *be, ws_real *dinp, ws_real *dw, ws_real *db, const ws_real *dout,
                               const ws_real *inp, const ws_real *w, const ws_real *mean, const ws_real *rstd,
                               int T, int C, int accumulate);
    /* The feed-forward block's first product and its GELU (with erf, as BERT's "gelu"), in one call
     * so that a backend can apply the GELU to the product's blocks while they are in cache:
     * out = inp . w^T + b (kept for the backward) and act = GELU(out). */
    void (*matmul_gelu_forward)(const ws_backend *be, ws_real *out, ws_real *act, const ws_real *inp, const ws_real *w,
                                const ws_real *b, int T, int IC, int OC);
    /* The backward of the product that reads act, through the GELU: dinp = GELU'(pre) * (dout . w)
     * (written), pre being the GELU's input (matmul_gelu_forward's out); dw and db as
     * matmul_backward's. */
    void (*matmul_gelu_backward)(const ws_backend *be, ws_real *dinp, ws_real *dw, ws_real *db, const ws_real *dout,
                                 const ws_real *inp, const ws_real *w, const ws_real *pre, int T, int IC, int OC);
    /* ReLU / LeakyReLU (slope 0.01, as PyTorch's default); the backward, from the input, writes dinp. */
    void (*relu_forward)(const ws_backend *be, ws_real *out, const ws_real *inp, size_t n, ws_real slope);
    void (*relu_backward)(const ws_backend *be, ws_real *dinp, const ws_real *inp, const ws_real *dout, size_t n,
                          ws_real slope);
    /* Multi-head self-attention within each packed sequence, scaled by 1/sqrt(C / NH). q, k, v, out:
     * [T, C]; att [att_total]: the softmax probabilities saved for the backward, NH blocks of len^2
     * per sequence laid out the backend's own way (only its own attention_backward reads them).
     * A host backend (ws_backend_on_host) takes att NULL and saves nothing: each block's
     * probabilities live only while the block is computed, in a buffer of the thread's, and its
     * backward computes them again from q and k (the same bits). The backward writes dq, dk and
     * dv (every row belongs to one sequence). */
    void (*attention_forward)(const ws_backend *be, ws_real *out, ws_real *att, const ws_real *q, const ws_real *k,
                              const ws_real *v, const ws_pack *p, int C, int NH);
    void (*attention_backward)(const ws_backend *be, ws_real *dq, ws_real *dk, ws_real *dv, const ws_real *dout,
                               const ws_real *att, const ws_real *q, const ws_real *k, const ws_real *v,
                               const ws_pack *p, int C, int NH);
    /* The state-action bi-attention of WebShop's choice model, for every action a (rows `act` of
     * enc, length La) over its state (rows `mem` of enc, length Ls):
     *   att[t,u] = act[t].w_in + mem[u].w_mem + (act[t] * scale).mem[u]
     *   out1[t] = sum_u softmax_u(att[t,:]) mem[u];  w2 = softmax_t(max_u att[t,u]);  out2 = sum_t w2[t] act[t]
     *   feat[t] = [act[t], out1[t], act[t] * out1[t], out2 * out1[t]]   (feat: [Ta, 4C], rows by act_tok)
     * backward adds into d_enc (both the action and the state rows) and the three parameters;
     * scratch: as ws_biattn_action_scratch's comment says. */
    void (*biattn_forward)(const ws_backend *be, ws_real *feat, const ws_biattn_buffers *sv, const ws_real *enc,
                           const ws_pack *p, const ws_real *w_in, const ws_real *w_mem, const ws_real *scale, int C);
    void (*biattn_backward)(const ws_backend *be, ws_real *d_enc, ws_real *dw_in, ws_real *dw_mem,
                            ws_real *dscale, const ws_real *dfeat, const ws_biattn_buffers *sv, const ws_real *enc,
                            const ws_pack *p, const ws_real *w_in, const ws_real *w_mem, const ws_real *scale, int C,
                            ws_real *scratch);
    /* pooled[a] = mean of h over action a's rows (h: [Ta, C]); backward: dh += dpooled[a] / La. */
    void (*pool_forward)(const ws_backend *be, ws_real *pooled, const ws_real *h, const ws_pack *p, int C);
    void (*pool_backward)(const ws_backend *be, ws_real *dh, const ws_real *dpooled, const ws_pack *p, int C);
    /* logp = log-softmax of logits over each decision's actions. */
    void (*logsoftmax_forward)(const ws_backend *be, ws_real *logp, const ws_real *logits, const ws_pack *p);
    /* cls[i] = enc row seq_start[i] (each state's [CLS]); backward: d_enc row += d_cls[i]. */
    void (*cls_forward)(const ws_backend *be, ws_real *cls, const ws_real *enc, const ws_pack *p, int C);
    void (*cls_backward)(const ws_backend *be, ws_real *d_enc, const ws_real *d_cls, const ws_pack *p, int C);

    /* ---- optimiser (float: master weights and moments are always single precision) */
    /* The sum of squares of n values, in double; the CPU sums fixed blocks (lib/model/optim.h) so the
     * result does not depend on the thread count. */
    double (*sum_squares)(const ws_backend *be, const float *x, size_t n);
    /* One AdamW update of one tensor from grad * grad_scale (lib/model/optim.h's ws_adamw_update,
     * same formula). */
    void (*adamw)(const ws_backend *be, const ws_adamw_opts *o, double lr, int64_t t, float *param,
                  const float *grad, float grad_scale, float *m, float *v, size_t n, int decay);

    /* ---- data parallel on the device (NULL on the CPU: lib/train/dist all-reduces host memory with MPI).
     * Rank 0 makes an id (at most 256 bytes) that lib/train/dist broadcasts; every rank then joins. */
    int (*comm_unique_id)(const ws_backend *be, void *id, size_t *id_bytes, ws_err *err);
    int (*comm_init)(const ws_backend *be, const void *id, int rank, int n_ranks, ws_err *err);
    /* x (backend memory) <- the sum of x over the ranks */
    void (*allreduce_sum)(const ws_backend *be, float *x, size_t n);

    /* frees the backend and its ctx; NULL for the CPU backend, which is never freed */
    void (*destroy)(ws_backend *be);
};

/* The CPU backend: immutable, never freed. Its matrix products are fp32: OpenBLAS's sgemm on CPUs
 * with AVX-512; on CPUs with AVX2 and FMA only, lib/model/gemm_f32's but in the linear layers'
 * backward (backend_cpu.c). */
const ws_backend *ws_backend_cpu(void);
/* The same with bf16 matrix products (lib/model/gemm_bf16: bf16 inputs, fp32 sums); every other
 * kernel, the master weights and the optimiser stay fp32. NULL where the CPU lacks AVX512_BF16. */
const ws_backend *ws_backend_cpu_bf16(void);
/* Is be one of the CPU tables (its memory host memory)? */
int ws_backend_on_host(const ws_backend *be);
/* What a CPU table's matrix products run as, for people to read: "fp32 (sgemm)", "fp32 (gemm_f32;
 * sgemm in the linear layers' backward)", "bf16 (AVX512_BF16)" or "bf16 (AMX)"; NULL for a GPU
 * backend. */
const char *ws_backend_cpu_products(const ws_backend *be);
/* Does every row of a sequence's encoding come out the same whatever else the batch holds? The
 * bf16 CPU table's, and the fp32 one's where its products are gemm_f32's (CPUs with AVX2 but not
 * AVX-512): their products sum each element in one order, and attention, LayerNorm and the rest
 * work per sequence or per row. Not OpenBLAS's sgemm, which picks its kernels by the product's
 * shape (kept encodings, ws_model_cache_encodings, rely on this). */
int ws_backend_rows_independent(const ws_backend *be);

/* A backend that runs inner's kernels and adds up each kernel's wall time and number of calls
 * (model_bench --profile-ops): every kernel's entry (the memory copies and zeroing too) times the
 * inner one's; allocation, transfers and the data-parallel functions pass through. It answers
 * ws_backend_on_host and ws_backend_rows_independent as inner does. The times are the host's:
 * kernels that run asynchronously (a GPU's) would be timed as launched, so it is meant for the
 * CPU. Free it with ws_backend_close, before inner (which it does not close). NULL with err when
 * out of memory. */
typedef struct ws_backend_op_time {
    const char *op; /* the table's entry: "matmul_forward", "attention_backward", ... */
    long calls;
    double seconds;
} ws_backend_op_time;
ws_backend *ws_backend_timed_new(const ws_backend *inner, ws_err *err);
/* The kernels called since the start or the last reset, in the table's order: up to cap. */
int ws_backend_timed_ops(const ws_backend *timed, ws_backend_op_time *ops, int cap);
void ws_backend_timed_reset(const ws_backend *timed);

/* Matrix-product precision of the CPU backend: fp32 (sgemm), bf16 (ws_backend_cpu_bf16), or auto:
 * bf16 where the CPU has AVX512_BF16, else fp32 (the pipelines' default: bf16's quality was
 * measured equal to fp32's, docs/results "bf16 on AMX", at about twice the speed). */
typedef enum ws_cpu_math { WS_CPU_MATH_FP32, WS_CPU_MATH_BF16, WS_CPU_MATH_AUTO } ws_cpu_math;
int ws_cpu_math_parse(const char *name, ws_cpu_math *out);

/* Matrix-product precision of a GPU backend. Master weights, moments and every other kernel stay
 * fp32 whatever the choice. */
typedef enum ws_gpu_math { WS_MATH_FP32, WS_MATH_TF32, WS_MATH_BF16 } ws_gpu_math;
int ws_gpu_math_parse(const char *name, ws_gpu_math *out);

/* Is a CUDA backend built in, and how many GPUs does it see (0 when not built or none). */
int ws_cuda_built(void);
int ws_cuda_device_count(void);
/* A CUDA backend on GPU `device`; NULL with err when not built in or no such GPU. */
ws_backend *ws_backend_cuda_new(int device, ws_gpu_math math, ws_err *err);

/* The backend a tool's --device names: "cpu", "cuda", "cuda:N", or "auto" (cuda when a GPU is
 * present, else cpu); gpu_math as ws_gpu_math_parse ("tf32" default) for a GPU, cpu_math as
 * ws_cpu_math_parse ("fp32" default) for the CPU (bf16 fails with the reason on a CPU without
 * AVX512_BF16; auto then takes fp32). NULL with err on failure. Free with ws_backend_close. */
const ws_backend *ws_backend_open(const char *device, const char *gpu_math, const char *cpu_math, ws_err *err);
void ws_backend_close(const ws_backend *be);

#endif
