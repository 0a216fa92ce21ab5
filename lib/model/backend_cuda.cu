/* backend_cuda: the CUDA implementation of lib/model/backend.h (built with make CUDA=1).
 *
 * What it owns: one ws_backend per GPU with its own stream, a cuBLAS handle bound to that
 * stream, an NCCL communicator once comm_init has run, grow-only device workspaces (op
 * scratch; partial sums of the column reductions; bf16 operand copies), the attention plan of
 * the last packing, a pinned host double for the results of sum_squares, and the first error.
 * Everything below runs on that one stream, so the kernels of one step are ordered without
 * events.
 *
 * Design choices
 *   - Storage is fp32 everywhere (ws_real must be float); `math` picks how products multiply:
 *     fp32, TF32 tensor cores, or BF16, where the dense layers' operands are rounded to bf16
 *     copies and multiplied on bf16 tensor cores with fp32 accumulation (cuBLAS's FAST_16BF
 *     compute type on fp32 operands gave TF32's bits) while attention and the head's products,
 *     a small share of the FLOPs, stay TF32. Row-major products go through cublasGemmEx with
 *     the operands swapped (C^T = B^T A^T is column-major C).
 *   - Sequences are packed without padding, so there is no mask and no padded FLOP. Attention's
 *     (sequence, head) products are grouped by sequence length, one pointer-array batched GEMM
 *     per length, and our softmax kernels take each length group's probability rows in one
 *     launch (see "attention" below; cuDNN's softmax wants packed rows, these are padded). The
 *     bi-attention head multiplies per decision (all its actions' rows against the state at
 *     once) and does the rest in kernels over all actions at once.
 *   - Determinism: no float atomics anywhere. Every output element is written by one thread;
 *     column sums (bias, LayerNorm, embedding type and bi-attention parameter gradients) are two
 *     passes over fixed chunks of rows whose partial sums (double) are added in chunk order;
 *     gradients that several actions add into one state (dmem) come from one GEMM per decision
 *     over all its action rows, or from per-state kernels that loop over the state's actions in
 *     order; the embedding gradient sorts the token ids (stable radix sort) and lets the first
 *     token of every run of equal ids add the run in token order, which is the CPU's order. The
 *     same inputs on the same GPU model and toolkit therefore give the same bits.
 *   - Precision: reductions accumulate in double where the CPU does, and AdamW's element update
 *     uses explicit round-to-nearest intrinsics (no FMA contraction), as lib/model/optim.c's. The
 *     results are not the CPU's bits: sums run as trees rather than in index order, a state's
 *     dmem adds its actions' contributions before joining d_enc, a few parameter sums (dwtt,
 *     dscale) stay in double longer, and nvcc may contract other multiply-adds;
 *     tests/unit/test_cuda_parity.c bounds the difference.
 *   - Errors: every CUDA, cuBLAS and NCCL call goes through CK(), and every kernel launch
 *     is followed by cudaGetLastError. The first failure is recorded in the context as "what
 *     failed at file:line: why"; later calls return early, and ->status reports the message
 *     (it also polls the stream for asynchronous faults). Scratch grows (cudaMalloc) only when
 *     a batch needs more than any earlier one, so steady training does not allocate. The
 *     bi-attention backward ignores the caller's `scratch` argument (its layout needs a few
 *     arrays of doubles that the CPU's layout, backend.h, does not count) and uses the workspace. */
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <type_traits>

#include <cublas_v2.h>
#include <cuda_bf16.h>
#include <cuda_runtime.h>
#include <nccl.h>

#include <cub/device/device_radix_sort.cuh>

extern "C" {
#include "backend.h"
#include "optim.h"
}

static_assert(std::is_same<ws_real, float>::value,
              "the CUDA backend stores float: build it without -DWS_REAL (ws_real must be float)");
static_assert(sizeof(ncclUniqueId) <= 256, "an NCCL unique id must fit the 256 bytes lib/train/dist broadcasts");

namespace {

/* ------------------------------------------------------------------ context and errors */

/* How attention's (sequence, head) products are batched for one packing (see "attention" below).
 * Host copies of the packing it was made from tell whether the next call can reuse it. */
struct AttnPlan {
    int n_seq, NH, C;
    int *seq_len, *seq_start; /* host copies, n_seq */
    size_t *att_start;
    int cap_seq;
    int n_items, n_groups;
    cublasComputeType_t compute; /* the context's, or plain fp32 where heads are not 16-byte aligned */
    int *group_first, *group_L; /* host, n_groups: first item and sequence length of each group */
    int *order;                 /* host, n_seq: the sequences by length */
    long long *h_off;           /* host, 2 * cap_items: token offsets, then att offsets */
    long long *d_off;           /* device, the same */
    void **d_ptrs;              /* device, PTR_SETS * cap_items pointer slots */
    int cap_items;
};

struct Ctx {
    int device;
    ws_gpu_math math;
    cublasComputeType_t compute;
    cudaStream_t stream;
    cublasHandle_t blas;
    ncclComm_t comm;
    AttnPlan plan;
    void *half[3]; /* bf16 copies of the dense products' operands (BF16 math) */
    size_t half_bytes[3];
    void *scratch;
    size_t scratch_bytes;
    void *partial;
    size_t partial_bytes;
    double *host_result; /* pinned */
    int failed;
    char msg[1024];
};

const char *status_string(cudaError_t e) { return cudaGetErrorString(e); }
const char *status_string(cublasStatus_t e) { return cublasGetStatusString(e); }
const char *status_string(ncclResult_t e) { return ncclGetErrorString(e); }
bool succeeded(cudaError_t e) { return e == cudaSuccess; }
bool succeeded(cublasStatus_t e) { return e == CUBLAS_STATUS_SUCCESS; }
bool succeeded(ncclResult_t e) { return e == ncclSuccess; }

/* Keeps the first error: `what` is the call's text, cut at its argument list. */
void record(Ctx *c, const char *what, const char *file, int line, const char *why)
{
    if (c->failed)
        return;
    c->failed = 1;
    const char *paren = strchr(what, '(');
    int n = paren ? (int)(paren - what) : (int)strlen(what);
    snprintf(c->msg, sizeof c->msg, "cuda backend (device %d): %.*s failed at %s:%d: %s", c->device, n, what, file,
             line, why ? why : "unknown error");
}

template <class S> bool check(Ctx *c, S s, const char *what, const char *file, int line)
{
    if (succeeded(s))
        return true;
    record(c, what, file, line, status_string(s));
    return false;
}

#define CK(c, call) check((c), (call), #call, __FILE__, __LINE__)
#define LAUNCHED(c, kernel) check((c), cudaGetLastError(), "launch of " #kernel, __FILE__, __LINE__)
/* kernel<<<grid, block, shared bytes, the stream>>>(args), then the launch check; `return`s on failure */
#define LAUNCH(c, kernel, grid, block, shmem, ...)                                                            \
    do {                                                                                                    \
        kernel<<<(grid), (block), (shmem), (c)->stream>>>(__VA_ARGS__);                                     \
        if (!LAUNCHED(c, kernel))                                                                           \
            return;                                                                                         \
    } while (0)

Ctx *ctx_of(const ws_backend *be) { return (Ctx *)be->ctx; }

/* The prologue of every kernel entry: NULL (do nothing) once an error is recorded. */
Ctx *begin(const ws_backend *be)
{
    Ctx *c = ctx_of(be);
    if (c->failed)
        return NULL;
    if (!CK(c, cudaSetDevice(c->device)))
        return NULL;
    return c;
}

/* A grow-only device buffer: synchronises before freeing the old one (queued kernels may use it). */
void *grow(Ctx *c, void **buf, size_t *cap, size_t need)
{
    if (need == 0)
        need = 256;
    if (need <= *cap)
        return *buf;
    if (*buf) {
        if (!CK(c, cudaStreamSynchronize(c->stream)))
            return NULL;
        void *old = *buf;
        *buf = NULL;
        *cap = 0;
        if (!CK(c, cudaFree(old)))
            return NULL;
    }
    size_t n = need + need / 2;
    n = (n + ((size_t)1 << 20) - 1) & ~(((size_t)1 << 20) - 1);
    void *p = NULL;
    if (!CK(c, cudaMalloc(&p, n)))
        return NULL;
    *buf = p;
    *cap = n;
    return p;
}

void *scratch(Ctx *c, size_t bytes) { return grow(c, &c->scratch, &c->scratch_bytes, bytes); }

/* Carves typed arrays out of one scratch block, 256-byte aligned; with base NULL it only measures. */
struct Carve {
    char *base;
    size_t off;
    template <class T> T *take(size_t n)
    {
        T *p = base ? (T *)(base + off) : (T *)NULL;
        off += (n * sizeof(T) + 255) & ~(size_t)255;
        return p;
    }
};

constexpr int BLOCK = 256;
constexpr int WARPS = BLOCK / 32;

unsigned grid_for(size_t n, int block)
{
    size_t g = (n + (size_t)block - 1) / (size_t)block;
    const size_t cap = (size_t)1 << 20; /* grid-stride loops cover the rest */
    if (g > cap)
        g = cap;
    return g ? (unsigned)g : 1u;
}

/* [lo, hi): the rows spanned by sequences first .. first + count - 1 (host arrays). */
void row_range(const ws_pack *p, int first, int count, int *lo, int *hi)
{
    int l = INT_MAX, h = 0;
    for (int s = first; s < first + count; s++) {
        int len = p->h.seq_len[s], st = p->h.seq_start[s];
        if (len <= 0)
            continue;
        l = st < l ? st : l;
        h = st + len > h ? st + len : h;
    }
    if (l >= h)
        l = h = 0;
    *lo = l;
    *hi = h;
}

/* ------------------------------------------------------------------ matrix products */

/* Row-major C[M, N] = alpha op(A) op(B) + beta C, op(A) M x K, op(B) K x N; lda etc. are row strides
 * of the arrays as stored (A stored K x M when ta). */
void gemm(Ctx *c, bool ta, bool tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
          int ldb, float beta, float *C, int ldc)
{
    if (c->failed || M <= 0 || N <= 0)
        return;
    if (K <= 0) { /* nothing to multiply: C = beta C */
        if (beta == 0.0f)
            CK(c, cudaMemset2DAsync(C, (size_t)ldc * sizeof(float), 0, (size_t)N * sizeof(float), (size_t)M,
                                    c->stream));
        return;
    }
    CK(c, cublasGemmEx(c->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B,
                       CUDA_R_32F, ldb, A, CUDA_R_32F, lda, &beta, C, CUDA_R_32F, ldc, c->compute,
                       CUBLAS_GEMM_DEFAULT));
}

/* Row-major products of bf16 operands with fp32 results and accumulation (BF16 math). */
void gemm_bf16(Ctx *c, bool ta, bool tb, int M, int N, int K, float alpha, const __nv_bfloat16 *A, int lda,
               const __nv_bfloat16 *B, int ldb, float beta, float *C, int ldc)
{
    if (c->failed || M <= 0 || N <= 0 || K <= 0)
        return;
    CK(c, cublasGemmEx(c->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K, &alpha, B,
                       CUDA_R_16BF, ldb, A, CUDA_R_16BF, lda, &beta, C, CUDA_R_32F, ldc, CUBLAS_COMPUTE_32F,
                       CUBLAS_GEMM_DEFAULT));
}

/* `count` products of one shape whose operands are given by device arrays of pointers (which
 * must be 16-byte aligned for the tensor-core compute types: see "attention"). */
void gemm_ptrs(Ctx *c, cublasComputeType_t compute, bool ta, bool tb, int M, int N, int K, float alpha,
               float *const *A, int lda, float *const *B, int ldb, float beta, float *const *C, int ldc, int count)
{
    if (c->failed || M <= 0 || N <= 0 || K <= 0 || count <= 0)
        return;
    CK(c, cublasGemmBatchedEx(c->blas, tb ? CUBLAS_OP_T : CUBLAS_OP_N, ta ? CUBLAS_OP_T : CUBLAS_OP_N, N, M, K,
                              &alpha, (const void *const *)B, CUDA_R_32F, ldb, (const void *const *)A, CUDA_R_32F,
                              lda, &beta, (void *const *)C, CUDA_R_32F, ldc, count, compute,
                              CUBLAS_GEMM_DEFAULT));
}

/* ------------------------------------------------------------------ device helpers */

__device__ __forceinline__ double warp_sum(double v)
{
    for (int o = 16; o > 0; o >>= 1)
        v += __shfl_xor_sync(0xffffffffu, v, o); /* a + b == b + a: every lane ends with the same bits */
    return v;
}

__device__ __forceinline__ float warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) {
        float w = __shfl_xor_sync(0xffffffffu, v, o);
        v = w > v ? w : v;
    }
    return v;
}

#define GRID_STRIDE(i, n)                                                                                     \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

/* ------------------------------------------------------------------ deterministic column sums */

/* out0[col] += sum_r f(r, col).a, out1[col] += sum_r f(r, col).b, both in double: rows are cut into
 * fixed chunks (a function of `rows` only), each chunk summed by one block in a fixed order, and the
 * chunk sums added in chunk order. */
struct Pair {
    double a, b;
};

constexpr int COL_TILE = 32, ROW_LANES = 8;

template <class F> __global__ void k_colreduce_partial(F f, int rows, int cols, int rpc, Pair *part)
{
    __shared__ double sa[ROW_LANES][COL_TILE], sb[ROW_LANES][COL_TILE];
    int tx = threadIdx.x, ty = threadIdx.y, col = blockIdx.x * COL_TILE + tx;
    int r0 = blockIdx.y * rpc, r1 = r0 + rpc < rows ? r0 + rpc : rows;
    double a = 0, b = 0;
    if (col < cols)
        for (int r = r0 + ty; r < r1; r += ROW_LANES) {
            Pair p = f(r, col);
            a += p.a;
            b += p.b;
        }
    sa[ty][tx] = a;
    sb[ty][tx] = b;
    __syncthreads();
    if (ty == 0 && col < cols) {
        double A = 0, B = 0;
        for (int i = 0; i < ROW_LANES; i++) {
            A += sa[i][tx];
            B += sb[i][tx];
        }
        part[(size_t)blockIdx.y * cols + col] = Pair{A, B};
    }
}

__global__ void k_colreduce_final(const Pair *part, int chunks, int cols, float *out0, float *out1)
{
    int col = blockIdx.x * blockDim.x + threadIdx.x;
    if (col >= cols)
        return;
    double A = 0, B = 0;
    for (int k = 0; k < chunks; k++) {
        Pair p = part[(size_t)k * cols + col];
        A += p.a;
        B += p.b;
    }
    if (out0)
        out0[col] += (float)A;
    if (out1)
        out1[col] += (float)B;
}

template <class F> void colreduce(Ctx *c, F f, int rows, int cols, float *out0, float *out1)
{
    if (c->failed || rows <= 0 || cols <= 0 || (!out0 && !out1))
        return;
    int rpc = 256;
    while ((rows + rpc - 1) / rpc > 65535)
        rpc *= 2;
    int chunks = (rows + rpc - 1) / rpc;
    Pair *part = (Pair *)grow(c, &c->partial, &c->partial_bytes, (size_t)chunks * cols * sizeof(Pair));
    if (!part)
        return;
    dim3 grid((unsigned)((cols + COL_TILE - 1) / COL_TILE), (unsigned)chunks), block(COL_TILE, ROW_LANES);
    k_colreduce_partial<F><<<grid, block, 0, c->stream>>>(f, rows, cols, rpc, part);
    if (!LAUNCHED(c, k_colreduce_partial))
        return;
    LAUNCH(c, k_colreduce_final, grid_for((size_t)cols, BLOCK), BLOCK, 0, part, chunks, cols, out0, out1);
}

/* sum_r x[r, col] */
struct ColSum {
    const float *x;
    int ld;
    __device__ Pair operator()(int r, int col) const { return Pair{(double)x[(size_t)r * ld + col], 0.0}; }
};

/* LayerNorm: (sum_r dout * xhat, sum_r dout) with xhat = (x - mean) rstd, as the CPU computes it */
struct LnCols {
    const float *dout, *inp, *mean, *rstd;
    int C;
    __device__ Pair operator()(int r, int col) const
    {
        size_t i = (size_t)r * C + col;
        double d = dout[i];
        float xm = inp[i] - mean[r];
        return Pair{d * (double)xm * (double)rstd[r], d};
    }
};

/* sum over rows r0 + r of wt[r0 + r] x[r0 + r, col] (rows of weight 0 skipped) */
struct WeightedRows {
    const double *wt;
    const float *x;
    int r0, C;
    __device__ Pair operator()(int r, int col) const
    {
        double w = wt[r0 + r];
        return Pair{w != 0 ? w * (double)x[(size_t)(r0 + r) * C + col] : 0.0, 0.0};
    }
};

/* The bi-attention's action-row parameter gradients: (srow[r] act[r, col], dact_scaled[r, col] act[r, col])
 * over the Ta action rows, act row r being enc row map[r]. */
struct ActCols {
    const int *map;
    const double *srow;
    const float *dsc, *enc;
    int C;
    __device__ Pair operator()(int r, int col) const
    {
        float x = enc[(size_t)map[r] * C + col];
        return Pair{srow[r] * (double)x, (double)(dsc[(size_t)r * C + col] * x)};
    }
};

/* ------------------------------------------------------------------ element-wise kernels */

__global__ void k_to_bf16(__nv_bfloat16 *out, const float *in, size_t n)
{
    GRID_STRIDE(i, n) out[i] = __float2bfloat16_rn(in[i]);
}

__global__ void k_fill_rows(float *out, const float *b, size_t n, int OC)
{
    GRID_STRIDE(i, n) out[i] = b[i % (size_t)OC];
}

__global__ void k_gelu_forward(float *out, const float *inp, size_t n)
{
    GRID_STRIDE(i, n)
    {
        double x = inp[i];
        out[i] = (float)(0.5 * x * (1.0 + erf(x * M_SQRT1_2)));
    }
}

__global__ void k_gelu_backward(float *dinp, const float *inp, const float *dout, size_t n)
{
    const double inv_sqrt_2pi = 0.3989422804014327;
    GRID_STRIDE(i, n)
    {
        double x = inp[i];
        double grad = 0.5 * (1.0 + erf(x * M_SQRT1_2)) + x * inv_sqrt_2pi * exp(-0.5 * x * x);
        dinp[i] = (float)(grad * dout[i]);
    }
}

__global__ void k_add(float *out, const float *a, const float *b, size_t n)
{
    GRID_STRIDE(i, n) out[i] = a[i] + b[i];
}

__global__ void k_relu_forward(float *out, const float *inp, size_t n, float slope)
{
    GRID_STRIDE(i, n)
    {
        float x = inp[i];
        out[i] = x > 0 ? x : slope * x;
    }
}

__global__ void k_relu_backward(float *dinp, const float *inp, const float *dout, size_t n, float slope)
{
    GRID_STRIDE(i, n) dinp[i] = inp[i] > 0 ? dout[i] : slope * dout[i];
}

/* lib/model/optim.c's adamw_element, element for element; _rn intrinsics keep the compiler from fusing
 * multiply-adds, so the result is the CPU's to the bit. */
__global__ void k_adamw(float *param, const float *grad, float grad_scale, float *m, float *v, size_t n, int do_decay,
                        float keep, float w1, float b2, float w2, float step_size, float bc2_sqrt, float eps)
{
    GRID_STRIDE(i, n)
    {
        float p = param[i], g = __fmul_rn(grad[i], grad_scale), mo = m[i], vo = v[i];
        if (do_decay)
            p = __fmul_rn(p, keep);
        float mi = __fadd_rn(mo, __fmul_rn(w1, __fsub_rn(g, mo)));
        float vi = __fadd_rn(__fmul_rn(vo, b2), __fmul_rn(__fmul_rn(w2, g), g));
        float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), bc2_sqrt), eps);
        param[i] = __fsub_rn(p, __fmul_rn(step_size, __fdiv_rn(mi, denom)));
        m[i] = mi;
        v[i] = vi;
    }
}

/* ------------------------------------------------------------------ embedding */

__global__ void k_embedding_forward(float *out, const int32_t *ids, const int32_t *pos, const int32_t *types, int T,
                                    int C, const float *wte, const float *wpe, const float *wtt)
{
    GRID_STRIDE(i, (size_t)T * C)
    {
        size_t t = i / (size_t)C, c = i % (size_t)C;
        out[i] = wte[(size_t)ids[t] * C + c] + wpe[(size_t)pos[t] * C + c] + wtt[(size_t)types[t] * C + c];
    }
}

__global__ void k_iota(int *x, int n)
{
    GRID_STRIDE(i, (size_t)n) x[i] = (int)i;
}

/* keys sorted stably with the token index as value: the first token of every run of equal keys adds
 * the run's gradients into the table row, in token order (the CPU's order, so the same bits). */
__global__ void k_embedding_scatter(float *table, const int *keys, const int *tok, const float *dout, int T, int C)
{
    int i = blockIdx.x;
    if (i > 0 && keys[i] == keys[i - 1])
        return;
    int c = blockIdx.y * blockDim.x + threadIdx.x;
    if (c >= C)
        return;
    int key = keys[i];
    float acc = table[(size_t)key * C + c];
    for (int j = i; j < T && keys[j] == key; j++)
        acc += dout[(size_t)tok[j] * C + c];
    table[(size_t)key * C + c] = acc;
}

/* ------------------------------------------------------------------ layernorm (one warp per row) */

__global__ void k_layernorm_forward(float *out, float *mean, float *rstd, const float *inp, const float *w,
                                    const float *b, int T, int C, float eps)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= T)
        return;
    const float *x = inp + (size_t)row * C;
    double m = 0;
    for (int c = lane; c < C; c += 32)
        m += x[c];
    m = warp_sum(m) / C;
    double v = 0;
    for (int c = lane; c < C; c += 32) {
        double d = x[c] - m;
        v += d * d;
    }
    v = warp_sum(v) / C;
    double s = 1.0 / sqrt(v + (double)eps);
    float *o = out + (size_t)row * C;
    for (int c = lane; c < C; c += 32)
        o[c] = (float)((x[c] - m) * s) * w[c] + b[c];
    if (lane == 0) {
        mean[row] = (float)m;
        rstd[row] = (float)s;
    }
}

__global__ void k_layernorm_backward(float *dinp, const float *dout, const float *inp, const float *w,
                                     const float *mean, const float *rstd, int T, int C, int accumulate)
{
    int row = blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (row >= T)
        return;
    const float *x = inp + (size_t)row * C, *d = dout + (size_t)row * C;
    float mu = mean[row], rs = rstd[row];
    double dm = 0, dnm = 0;
    for (int c = lane; c < C; c += 32) {
        float norm = (x[c] - mu) * rs;
        double dn = (double)w[c] * d[c];
        dm += dn;
        dnm += dn * norm;
    }
    dm = warp_sum(dm) / C;
    dnm = warp_sum(dnm) / C;
    float *di = dinp + (size_t)row * C;
    for (int c = lane; c < C; c += 32) {
        float norm = (x[c] - mu) * rs;
        double dn = (double)w[c] * d[c];
        float g = (float)((dn - dm - norm * dnm) * rs);
        di[c] = accumulate ? di[c] + g : g;
    }
}

/* ------------------------------------------------------------------ head: pool, log-softmax, [CLS] */

__global__ void k_pool_forward(float *pooled, const float *h, ws_pack_arrays d, int B, int C)
{
    int a = blockIdx.x, La = d.seq_len[B + a], ta = d.act_tok[a];
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        double s = 0;
        for (int k = 0; k < La; k++)
            s += h[(size_t)(ta + k) * C + c];
        pooled[(size_t)a * C + c] = (float)(s / La);
    }
}

__global__ void k_pool_backward(float *dh, const float *dpooled, ws_pack_arrays d, int B, int C)
{
    int a = blockIdx.x, La = d.seq_len[B + a], ta = d.act_tok[a];
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float g = dpooled[(size_t)a * C + c] / (float)La;
        for (int k = 0; k < La; k++)
            dh[(size_t)(ta + k) * C + c] += g;
    }
}

__global__ void k_logsoftmax(float *logp, const float *logits, ws_pack_arrays d, int B)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= B)
        return;
    int n = d.n_actions[i], fa = d.first_action[i];
    if (n <= 0)
        return;
    const float *lg = logits + fa;
    float mx = lg[0];
    for (int j = 1; j < n; j++)
        mx = lg[j] > mx ? lg[j] : mx;
    double s = 0;
    for (int j = 0; j < n; j++)
        s += exp((double)lg[j] - mx);
    double lse = mx + log(s);
    for (int j = 0; j < n; j++)
        logp[fa + j] = (float)(lg[j] - lse);
}

__global__ void k_cls_forward(float *cls, const float *enc, ws_pack_arrays d, int C)
{
    int i = blockIdx.x;
    const float *src = enc + (size_t)d.seq_start[i] * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        cls[(size_t)i * C + c] = src[c];
}

__global__ void k_cls_backward(float *d_enc, const float *d_cls, ws_pack_arrays d, int C)
{
    int i = blockIdx.x;
    float *dst = d_enc + (size_t)d.seq_start[i] * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x)
        dst[c] += d_cls[(size_t)i * C + c];
}

/* ------------------------------------------------------------------ bi-attention kernels */

/* out[r] = x[r] . w (double sum) for rows r0 <= r < r1, one warp per row */
__global__ void k_row_dot(float *out, const float *x, const float *w, int r0, int r1, int C)
{
    int r = r0 + blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32, lane = threadIdx.x % 32;
    if (r >= r1)
        return;
    const float *xr = x + (size_t)r * C;
    double s = 0;
    for (int c = lane; c < C; c += 32)
        s += (double)xr[c] * w[c];
    s = warp_sum(s);
    if (lane == 0)
        out[r] = (float)s;
}

/* out1 rows of action a (by act_tok) <- act * scale: the left operand of the cross product */
__global__ void k_biattn_scale_act(float *out1, const float *enc, const float *scale, ws_pack_arrays d, int B, int C)
{
    int a = blockIdx.x, La = d.seq_len[B + a], ta = d.act_tok[a];
    const float *act = enc + (size_t)d.seq_start[B + a] * C;
    float *dst = out1 + (size_t)ta * C;
    for (int i = threadIdx.x; i < La * C; i += blockDim.x)
        dst[i] = act[i] * scale[i % C];
}

/* One block per action, one warp per action row: att += act.w_in + mem.w_mem, the row's first
 * argmax and maximum, the row softmax; then the softmax of the maxima over the action's rows. */
__global__ void k_biattn_softmax(float *p1, float *w2, int *argmax, const float *in_dot, const float *mem_dot,
                                 ws_pack_arrays d, int B)
{
    int a = blockIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32, nw = blockDim.x / 32;
    int La = d.seq_len[B + a], ra = d.seq_start[B + a], st = d.action_decision[a];
    int Ls = d.seq_len[st], rm = d.seq_start[st], ta = d.act_tok[a];
    float *P = p1 + d.p1_start[a];
    for (int t = warp; t < La; t += nw) {
        if (Ls <= 0) {
            if (lane == 0) {
                argmax[ta + t] = 0;
                w2[ta + t] = 0;
            }
            continue;
        }
        float *row = P + (size_t)t * Ls, id = in_dot[ra + t];
        float bv = 0;
        int bi = -1;
        for (int u = lane; u < Ls; u += 32) {
            float v = row[u] + (id + mem_dot[rm + u]);
            row[u] = v;
            if (bi < 0 || v > bv) {
                bv = v;
                bi = u;
            }
        }
        /* the largest value, the first index among equals (order-free, so every lane agrees) */
        for (int o = 16; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(0xffffffffu, bv, o);
            int oi = __shfl_xor_sync(0xffffffffu, bi, o);
            if (oi >= 0 && (bi < 0 || ov > bv || (ov == bv && oi < bi))) {
                bv = ov;
                bi = oi;
            }
        }
        if (lane == 0) {
            argmax[ta + t] = bi;
            w2[ta + t] = bv; /* the row maximum, before the softmax */
        }
        double s = 0;
        for (int u = lane; u < Ls; u += 32) {
            float e = (float)exp((double)row[u] - (double)bv);
            row[u] = e;
            s += e;
        }
        s = warp_sum(s);
        for (int u = lane; u < Ls; u += 32)
            row[u] = (float)(row[u] / s);
    }
    __syncthreads();
    if (warp == 0 && La > 0) {
        float *x = w2 + ta, mx = -INFINITY;
        for (int t = lane; t < La; t += 32)
            mx = x[t] > mx ? x[t] : mx;
        mx = warp_max(mx);
        double s = 0;
        for (int t = lane; t < La; t += 32) {
            float e = (float)exp((double)x[t] - (double)mx);
            x[t] = e;
            s += e;
        }
        s = warp_sum(s);
        for (int t = lane; t < La; t += 32)
            x[t] = (float)(x[t] / s);
    }
}

/* out2 = sum_t w2[t] act[t]; feat = [act, out1, act * out1, out2 * out1] (one block per action) */
__global__ void k_biattn_out(float *feat, float *out2, const float *out1, const float *w2, const float *enc,
                             ws_pack_arrays d, int B, int C)
{
    int a = blockIdx.x, La = d.seq_len[B + a], ta = d.act_tok[a];
    const float *act = enc + (size_t)d.seq_start[B + a] * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        double s = 0;
        for (int t = 0; t < La; t++)
            s += (double)w2[ta + t] * act[(size_t)t * C + c];
        float o2 = (float)s;
        out2[(size_t)a * C + c] = o2;
        for (int t = 0; t < La; t++) {
            float x = act[(size_t)t * C + c], o1 = out1[(size_t)(ta + t) * C + c];
            float *f = feat + (size_t)(ta + t) * 4 * C;
            f[c] = x;
            f[C + c] = o1;
            f[2 * C + c] = x * o1;
            f[3 * C + c] = o2 * o1;
        }
    }
}

/* Backward through feat and out2 (one block per action; C floats of shared memory for dout2):
 * dact += dfeat terms and w2 dout2; dout1 (by act_tok rows); dw2 = act . dout2; wdot = sum dw2 w2;
 * map[ta + t] = the enc row of action row t. */
__global__ void k_biattn_bwd_feat(int *map, float *dout1, float *dw2, double *dw2d, double *wdot, float *d_enc,
                                  const float *dfeat, const float *enc, const float *out1, const float *out2,
                                  const float *w2, ws_pack_arrays d, int B, int C)
{
    extern __shared__ float sh_dout2[];
    int a = blockIdx.x, La = d.seq_len[B + a], ta = d.act_tok[a], r0 = d.seq_start[B + a];
    int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nw = blockDim.x / 32;
    const float *act = enc + (size_t)r0 * C;
    float *dact = d_enc + (size_t)r0 * C;
    for (int t = threadIdx.x; t < La; t += blockDim.x)
        map[ta + t] = r0 + t;
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
        float o2 = out2[(size_t)a * C + c], acc = 0;
        for (int t = 0; t < La; t++) {
            const float *f = dfeat + (size_t)(ta + t) * 4 * C;
            float x = act[(size_t)t * C + c], o1 = out1[(size_t)(ta + t) * C + c];
            dact[(size_t)t * C + c] += f[c] + f[2 * C + c] * o1;
            dout1[(size_t)(ta + t) * C + c] = f[C + c] + f[2 * C + c] * x + f[3 * C + c] * o2;
            acc += f[3 * C + c] * o1;
        }
        sh_dout2[c] = acc;
        for (int t = 0; t < La; t++)
            dact[(size_t)t * C + c] += w2[ta + t] * acc;
    }
    __syncthreads();
    for (int t = warp; t < La; t += nw) {
        double s = 0;
        for (int c = lane; c < C; c += 32)
            s += (double)act[(size_t)t * C + c] * sh_dout2[c];
        s = warp_sum(s);
        if (lane == 0) {
            dw2[ta + t] = (float)s;
            dw2d[ta + t] = s;
        }
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        double wd = 0;
        for (int t = 0; t < La; t++)
            wd += dw2d[ta + t] * w2[ta + t];
        wdot[a] = wd;
    }
}

/* Backward through both softmaxes, in place on datt (one block per action, one warp per row):
 * datt = p1 (datt - rowsum(datt p1)) plus the max path into the argmax; srow = the row's sum;
 * dact += srow w_in. */
__global__ void k_biattn_bwd_softmax(float *datt, double *srow, float *d_enc, const float *p1, const float *w2,
                                     const float *dw2, const double *wdot, const int *argmax, const float *w_in,
                                     ws_pack_arrays d, int B, int C)
{
    int a = blockIdx.x, warp = threadIdx.x / 32, lane = threadIdx.x % 32, nw = blockDim.x / 32;
    int La = d.seq_len[B + a], ta = d.act_tok[a], Ls = d.seq_len[d.action_decision[a]];
    size_t off = d.p1_start[a];
    float *dact = d_enc + (size_t)d.seq_start[B + a] * C;
    double wd = wdot[a];
    for (int t = warp; t < La; t += nw) {
        float *dr = datt + off + (size_t)t * Ls;
        const float *pr = p1 + off + (size_t)t * Ls;
        double dot = 0;
        for (int u = lane; u < Ls; u += 32)
            dot += (double)dr[u] * pr[u];
        dot = warp_sum(dot);
        int am = argmax[ta + t];
        float extra = (float)(w2[ta + t] * ((double)dw2[ta + t] - wd));
        double rs = 0;
        for (int u = lane; u < Ls; u += 32) {
            float nv = (float)(pr[u] * ((double)dr[u] - dot));
            if (u == am)
                nv += extra;
            dr[u] = nv;
            rs += nv;
        }
        rs = warp_sum(rs);
        if (lane == 0)
            srow[ta + t] = rs;
        for (int c = lane; c < C; c += 32)
            dact[(size_t)t * C + c] += (float)(rs * w_in[c]);
    }
}

/* Per state (one block): S[u] = sum over the state's actions, in order, of column u of datt;
 * dmem[u] += S[u] w_mem. S goes to Srow (by enc row) for dw_mem. */
__global__ void k_biattn_bwd_state(double *Srow, float *d_enc, const float *datt, const float *w_mem,
                                   ws_pack_arrays d, int B, int C)
{
    int i = blockIdx.x, Ls = d.seq_len[i], r0 = d.seq_start[i], fa = d.first_action[i], na = d.n_actions[i];
    if (na <= 0 || Ls <= 0)
        return;
    for (int u = threadIdx.x; u < Ls; u += blockDim.x) {
        double S = 0;
        for (int j = 0; j < na; j++) {
            int a = fa + j, La = d.seq_len[B + a];
            const float *dt = datt + d.p1_start[a];
            for (int t = 0; t < La; t++)
                S += dt[(size_t)t * Ls + u];
        }
        Srow[r0 + u] = S;
    }
    __syncthreads();
    float *dmem = d_enc + (size_t)r0 * C;
    for (int idx = threadIdx.x; idx < Ls * C; idx += blockDim.x) {
        int u = idx / C, c = idx % C;
        double S = Srow[r0 + u];
        if (S != 0)
            dmem[idx] += (float)(S * w_mem[c]);
    }
}

/* scaled[r] = act[r] * scale over the Ta action rows */
__global__ void k_biattn_scaled_rows(float *scaled, const int *map, const float *enc, const float *scale, int Ta,
                                     int C)
{
    GRID_STRIDE(i, (size_t)Ta * C)
    {
        size_t r = i / (size_t)C, c = i % (size_t)C;
        scaled[i] = enc[(size_t)map[r] * C + c] * scale[c];
    }
}

/* dact[r] += dscaled[r] * scale over the Ta action rows */
__global__ void k_biattn_dact_scale(float *d_enc, const int *map, const float *dsc, const float *scale, int Ta, int C)
{
    GRID_STRIDE(i, (size_t)Ta * C)
    {
        size_t r = i / (size_t)C, c = i % (size_t)C;
        d_enc[(size_t)map[r] * C + c] += dsc[i] * scale[c];
    }
}

/* ------------------------------------------------------------------ sum of squares */

__global__ void k_sumsq_blocks(const float *x, size_t n, double *part)
{
    __shared__ double sh[BLOCK];
    size_t start = (size_t)blockIdx.x * WS_NORM_BLOCK;
    size_t len = n - start < (size_t)WS_NORM_BLOCK ? n - start : (size_t)WS_NORM_BLOCK;
    double s = 0;
    for (size_t i = threadIdx.x; i < len; i += BLOCK) {
        double v = x[start + i];
        s += v * v;
    }
    sh[threadIdx.x] = s;
    __syncthreads();
    for (int w = BLOCK / 2; w > 0; w >>= 1) {
        if ((int)threadIdx.x < w)
            sh[threadIdx.x] += sh[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        part[blockIdx.x] = sh[0];
}

__global__ void k_sum_final(const double *part, size_t nb, double *out)
{
    __shared__ double sh[BLOCK];
    double s = 0;
    for (size_t i = threadIdx.x; i < nb; i += BLOCK)
        s += part[i];
    sh[threadIdx.x] = s;
    __syncthreads();
    for (int w = BLOCK / 2; w > 0; w >>= 1) {
        if ((int)threadIdx.x < w)
            sh[threadIdx.x] += sh[threadIdx.x + w];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        *out = sh[0];
}

/* ================================================================== the table's functions */

/* ---- memory */

void *cu_alloc(const ws_backend *be, size_t bytes)
{
    Ctx *c = begin(be);
    if (!c)
        return NULL;
    void *p = NULL;
    if (!CK(c, cudaMalloc(&p, bytes ? bytes : 1)))
        return NULL;
    if (!CK(c, cudaMemsetAsync(p, 0, bytes ? bytes : 1, c->stream))) {
        (void)cudaFree(p);
        return NULL;
    }
    return p;
}

void cu_free(const ws_backend *be, void *p)
{
    Ctx *c = ctx_of(be);
    if (!p)
        return;
    CK(c, cudaSetDevice(c->device));
    CK(c, cudaStreamSynchronize(c->stream)); /* queued kernels may still read it */
    CK(c, cudaFree(p));
}

/* From pageable host memory the copy has taken the bytes when it returns, so the caller may reuse
 * its buffer at once, as on the CPU. */
void cu_upload(const ws_backend *be, void *dst, const void *host_src, size_t bytes)
{
    Ctx *c = begin(be);
    if (!c || !bytes)
        return;
    CK(c, cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, c->stream));
}

void cu_download(const ws_backend *be, void *host_dst, const void *src, size_t bytes)
{
    if (!bytes)
        return;
    Ctx *c = begin(be);
    if (c && CK(c, cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, c->stream)) &&
        CK(c, cudaStreamSynchronize(c->stream)))
        return;
    memset(host_dst, 0, bytes); /* never hand back garbage; ->status has the error */
}

void cu_copy(const ws_backend *be, void *dst, const void *src, size_t bytes)
{
    Ctx *c = begin(be);
    if (!c || !bytes || dst == src)
        return;
    CK(c, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, c->stream));
}

void cu_zero(const ws_backend *be, void *dst, size_t bytes)
{
    Ctx *c = begin(be);
    if (!c || !bytes)
        return;
    CK(c, cudaMemsetAsync(dst, 0, bytes, c->stream));
}

int cu_status(const ws_backend *be, ws_err *err)
{
    Ctx *c = ctx_of(be);
    if (!c->failed) {
        cudaError_t e = cudaStreamQuery(c->stream); /* a fault of a kernel that already ran */
        if (e != cudaSuccess && e != cudaErrorNotReady)
            record(c, "cudaStreamQuery(stream)", __FILE__, __LINE__, cudaGetErrorString(e));
    }
    if (c->failed)
        return ws_fail(err, "%s", c->msg);
    return 0;
}

/* ---- layers */

/* BF16 math: operand `slot` (0..2) rounded to bf16 in its own grow-only buffer. cuBLAS's
 * CUBLAS_COMPUTE_32F_FAST_16BF on fp32 operands was measured to give TF32's bits on an H100 (it
 * may pick TF32 kernels), so the rounding is done here and the products take bf16 operands. */
const __nv_bfloat16 *to_bf16(Ctx *c, int slot, const float *x, size_t n)
{
    __nv_bfloat16 *h = (__nv_bfloat16 *)grow(c, &c->half[slot], &c->half_bytes[slot], n * sizeof *h);
    if (!h)
        return NULL;
    k_to_bf16<<<grid_for(n, BLOCK), BLOCK, 0, c->stream>>>(h, x, n);
    return LAUNCHED(c, k_to_bf16) ? h : NULL;
}

/* out = inp . w^T + b, T and OC positive */
static void forward_product(Ctx *c, ws_real *out, const ws_real *inp, const ws_real *w, const ws_real *b, int T,
                            int IC, int OC)
{
    if (b)
        LAUNCH(c, k_fill_rows, grid_for((size_t)T * OC, BLOCK), BLOCK, 0, out, b, (size_t)T * OC, OC);
    if (c->math != WS_MATH_BF16) {
        gemm(c, false, true, T, OC, IC, 1.0f, inp, IC, w, IC, b ? 1.0f : 0.0f, out, OC);
        return;
    }
    if (IC <= 0) {
        if (!b)
            CK(c, cudaMemsetAsync(out, 0, (size_t)T * OC * sizeof *out, c->stream));
        return;
    }
    const __nv_bfloat16 *inp16 = to_bf16(c, 0, inp, (size_t)T * IC), *w16 = to_bf16(c, 1, w, (size_t)OC * IC);
    if (inp16 && w16)
        gemm_bf16(c, false, true, T, OC, IC, 1.0f, inp16, IC, w16, IC, b ? 1.0f : 0.0f, out, OC);
}

void cu_matmul_forward(const ws_backend *be, ws_real *out, const ws_real *inp, const ws_real *w, const ws_real *b,
                       const ws_real *add, int T, int IC, int OC)
{
    Ctx *c = begin(be);
    if (!c || T <= 0 || OC <= 0)
        return;
    forward_product(c, out, inp, w, b, T, IC, OC);
    if (add)
        LAUNCH(c, k_add, grid_for((size_t)T * OC, BLOCK), BLOCK, 0, out, out, add, (size_t)T * OC);
}

void cu_matmul_backward(const ws_backend *be, ws_real *dinp, ws_real *dw, ws_real *db, const ws_real *dout,
                        const ws_real *inp, const ws_real *w, const ws_real *add, int T, int IC, int OC)
{
    float dinp_beta = add ? 1.0f : 0.0f;
    Ctx *c = begin(be);
    if (!c || T <= 0)
        return;
    if (dinp && add && add != dinp && IC > 0)
        CK(c, cudaMemcpyAsync(dinp, add, (size_t)T * IC * sizeof *dinp, cudaMemcpyDeviceToDevice, c->stream));
    if (c->math != WS_MATH_BF16 || OC <= 0 || IC <= 0) {
        if (dinp)
            gemm(c, false, false, T, IC, OC, 1.0f, dout, OC, w, IC, dinp_beta, dinp, IC);
        if (dw)
            gemm(c, true, false, OC, IC, T, 1.0f, dout, OC, inp, IC, 1.0f, dw, IC);
    } else if (dinp || dw) {
        const __nv_bfloat16 *dout16 = to_bf16(c, 0, dout, (size_t)T * OC);
        if (dinp) {
            const __nv_bfloat16 *w16 = to_bf16(c, 1, w, (size_t)OC * IC);
            if (dout16 && w16)
                gemm_bf16(c, false, false, T, IC, OC, 1.0f, dout16, OC, w16, IC, dinp_beta, dinp, IC);
        }
        if (dw) {
            const __nv_bfloat16 *inp16 = to_bf16(c, 2, inp, (size_t)T * IC);
            if (dout16 && inp16)
                gemm_bf16(c, true, false, OC, IC, T, 1.0f, dout16, OC, inp16, IC, 1.0f, dw, IC);
        }
    }
    if (db)
        colreduce(c, ColSum{dout, OC}, T, OC, db, (float *)NULL);
}

void cu_embedding_forward(const ws_backend *be, ws_real *out, const int32_t *ids, const int32_t *pos,
                          const int32_t *types, int T, int C, const ws_real *wte, const ws_real *wpe,
                          const ws_real *wtt)
{
    Ctx *c = begin(be);
    if (!c || T <= 0 || C <= 0)
        return;
    LAUNCH(c, k_embedding_forward, grid_for((size_t)T * C, BLOCK), BLOCK, 0, out, ids, pos, types, T, C, wte, wpe,
           wtt);
}

void cu_embedding_backward(const ws_backend *be, ws_real *dwte, ws_real *dwpe, ws_real *dwtt, const ws_real *dout,
                           const int32_t *ids, const int32_t *pos, const int32_t *types, int T, int C)
{
    Ctx *c = begin(be);
    if (!c || T <= 0 || C <= 0)
        return;
    size_t temp_bytes = 0;
    if (!CK(c, cub::DeviceRadixSort::SortPairs((void *)NULL, temp_bytes, (const int *)ids, (int *)NULL,
                                               (const int *)NULL, (int *)NULL, T, 0, 32, c->stream)))
        return;
    int *keys = NULL, *tok_in = NULL, *tok = NULL;
    void *temp = NULL;
    auto lay = [&](Carve &k) {
        keys = k.take<int>((size_t)T);
        tok_in = k.take<int>((size_t)T);
        tok = k.take<int>((size_t)T);
        temp = k.take<char>(temp_bytes);
    };
    Carve measure{NULL, 0};
    lay(measure);
    char *base = (char *)scratch(c, measure.off);
    if (!base)
        return;
    Carve k{base, 0};
    lay(k);
    LAUNCH(c, k_iota, grid_for((size_t)T, BLOCK), BLOCK, 0, tok_in, T);
    dim3 grid((unsigned)T, (unsigned)((C + 127) / 128));
    const int32_t *key_src[3] = {ids, pos, types};
    float *table[3] = {dwte, dwpe, dwtt};
    for (int which = 0; which < 3; which++) {
        if (!table[which])
            continue;
        size_t tb = temp_bytes;
        if (!CK(c, cub::DeviceRadixSort::SortPairs(temp, tb, (const int *)key_src[which], keys, (const int *)tok_in,
                                                   tok, T, 0, 32, c->stream)))
            return;
        LAUNCH(c, k_embedding_scatter, grid, 128, 0, table[which], keys, tok, dout, T, C);
    }
}

void cu_layernorm_forward(const ws_backend *be, ws_real *out, ws_real *mean, ws_real *rstd, const ws_real *inp,
                          const ws_real *w, const ws_real *b, int T, int C, ws_real eps)
{
    Ctx *c = begin(be);
    if (!c || T <= 0 || C <= 0)
        return;
    LAUNCH(c, k_layernorm_forward, (unsigned)((T + WARPS - 1) / WARPS), BLOCK, 0, out, mean, rstd, inp, w, b, T, C,
           eps);
}

void cu_layernorm_backward(const ws_backend *be, ws_real *dinp, ws_real *dw, ws_real *db, const ws_real *dout,
                           const ws_real *inp, const ws_real *w, const ws_real *mean, const ws_real *rstd, int T,
                           int C, int accumulate)
{
    Ctx *c = begin(be);
    if (!c || T <= 0 || C <= 0)
        return;
    LAUNCH(c, k_layernorm_backward, (unsigned)((T + WARPS - 1) / WARPS), BLOCK, 0, dinp, dout, inp, w, mean, rstd, T,
           C, accumulate);
    colreduce(c, LnCols{dout, inp, mean, rstd, C}, T, C, dw, db);
}

/* The product, then the GELU over it: two launches (cuBLAS has no such epilogue here). */
void cu_matmul_gelu_forward(const ws_backend *be, ws_real *out, ws_real *act, const ws_real *inp, const ws_real *w,
                            const ws_real *b, int T, int IC, int OC)
{
    cu_matmul_forward(be, out, inp, w, b, NULL, T, IC, OC);
    Ctx *c = begin(be);
    size_t n = (size_t)(T > 0 ? T : 0) * (size_t)(OC > 0 ? OC : 0);
    if (!c || !n)
        return;
    LAUNCH(c, k_gelu_forward, grid_for(n, BLOCK), BLOCK, 0, act, out, n);
}

/* dinp = dout . w, then GELU'(pre) times it in place */
void cu_matmul_gelu_backward(const ws_backend *be, ws_real *dinp, ws_real *dw, ws_real *db, const ws_real *dout,
                             const ws_real *inp, const ws_real *w, const ws_real *pre, int T, int IC, int OC)
{
    cu_matmul_backward(be, dinp, dw, db, dout, inp, w, NULL, T, IC, OC);
    Ctx *c = begin(be);
    size_t n = (size_t)(T > 0 ? T : 0) * (size_t)(IC > 0 ? IC : 0);
    if (!c || !n)
        return;
    LAUNCH(c, k_gelu_backward, grid_for(n, BLOCK), BLOCK, 0, dinp, pre, dinp, n);
}

void cu_relu_forward(const ws_backend *be, ws_real *out, const ws_real *inp, size_t n, ws_real slope)
{
    Ctx *c = begin(be);
    if (!c || !n)
        return;
    LAUNCH(c, k_relu_forward, grid_for(n, BLOCK), BLOCK, 0, out, inp, n, slope);
}

void cu_relu_backward(const ws_backend *be, ws_real *dinp, const ws_real *inp, const ws_real *dout, size_t n,
                      ws_real slope)
{
    Ctx *c = begin(be);
    if (!c || !n)
        return;
    LAUNCH(c, k_relu_backward, grid_for(n, BLOCK), BLOCK, 0, dinp, inp, dout, n, slope);
}

/* ------------------------------------------------------------------ attention */

/* Attention multiplies, for every sequence s and head h, L x hs slices of Q, K and V (rows
 * seq_start[s].., columns h * hs.., leading dimension C) into an L x L block of probabilities.
 * Issued one sequence at a time, that is thousands of small launches a step, which measured
 * 2 to 6 times slower than PyTorch on an H100. So the (s, h) products are sorted by L: the
 * products of one length have one shape and run as one pointer-array batched GEMM. A batched
 * product cannot see the pointers in its arrays: with TF32 or BF16 its kernels failed on an
 * H200 ("failed to launch") while probability blocks of odd L started off 16-byte boundaries,
 * and ran once every block and row was aligned. So every probability block has rows of
 * Lp = ws_att_row(L) floats (the packing's att_total leaves that room) and the
 * blocks of a length group follow one another: the group is one [items x L, Lp] matrix, whose
 * rows the softmax kernels below take in one launch. The att buffer therefore holds the blocks
 * in this backend's own layout; only this backend's attention_backward reads it. The plan is
 * rebuilt only when the packing changes (every layer's forward and backward use the same one). */
enum { PTR_SETS = 5 }; /* pointer arrays of one call: up to five operands */

void plan_free(Ctx *c)
{
    AttnPlan *pl = &c->plan;
    free(pl->seq_len);
    free(pl->seq_start);
    free(pl->att_start);
    free(pl->group_first);
    free(pl->group_L);
    free(pl->order);
    free(pl->h_off);
    if (pl->d_off)
        CK(c, cudaFree(pl->d_off));
    if (pl->d_ptrs)
        CK(c, cudaFree(pl->d_ptrs));
    memset(pl, 0, sizeof *pl);
}

/* Softmax of each row (n of ld floats) in place; one warp per row, sums in double. */
__global__ void k_softmax_rows(float *x, int rows, int n, int ld)
{
    int r = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) / 32), lane = threadIdx.x % 32;
    if (r >= rows)
        return;
    float *row = x + (size_t)r * ld;
    float mx = -INFINITY;
    for (int j = lane; j < n; j += 32)
        mx = fmaxf(mx, row[j]);
    mx = warp_max(mx);
    double sum = 0;
    for (int j = lane; j < n; j += 32) {
        float e = expf(row[j] - mx);
        row[j] = e;
        sum += e;
    }
    float inv = (float)(1.0 / warp_sum(sum));
    for (int j = lane; j < n; j += 32)
        row[j] *= inv;
}

/* d <- y * (d - rowsum(d * y)) in place: the softmax's backward from its output y */
__global__ void k_softmax_rows_backward(float *d, const float *y, int rows, int n, int ld)
{
    int r = (int)((blockIdx.x * (size_t)blockDim.x + threadIdx.x) / 32), lane = threadIdx.x % 32;
    if (r >= rows)
        return;
    float *dr = d + (size_t)r * ld;
    const float *yr = y + (size_t)r * ld;
    double dot = 0;
    for (int j = lane; j < n; j += 32)
        dot += (double)dr[j] * yr[j];
    float s = (float)warp_sum(dot);
    for (int j = lane; j < n; j += 32)
        dr[j] = yr[j] * (dr[j] - s);
}

bool plan_matches(const AttnPlan *pl, const ws_pack *p, int C, int NH)
{
    return pl->n_items > 0 && pl->n_seq == p->n_seq && pl->NH == NH && pl->C == C &&
           !memcmp(pl->seq_len, p->h.seq_len, (size_t)p->n_seq * sizeof *pl->seq_len) &&
           !memcmp(pl->seq_start, p->h.seq_start, (size_t)p->n_seq * sizeof *pl->seq_start) &&
           !memcmp(pl->att_start, p->h.att_start, (size_t)p->n_seq * sizeof *pl->att_start);
}

bool plan_reserve(Ctx *c, AttnPlan *pl, int n_seq, int n_items)
{
    if (n_seq <= pl->cap_seq && n_items <= pl->cap_items)
        return true;
    if (!CK(c, cudaStreamSynchronize(c->stream))) /* queued products may still read the old arrays */
        return false;
    plan_free(c);
    pl->seq_len = (int *)malloc((size_t)n_seq * sizeof(int));
    pl->seq_start = (int *)malloc((size_t)n_seq * sizeof(int));
    pl->att_start = (size_t *)malloc((size_t)n_seq * sizeof(size_t));
    pl->group_first = (int *)malloc((size_t)n_seq * sizeof(int));
    pl->group_L = (int *)malloc((size_t)n_seq * sizeof(int));
    pl->order = (int *)malloc((size_t)n_seq * sizeof(int));
    pl->h_off = (long long *)malloc(2 * (size_t)n_items * sizeof(long long));
    if (!pl->seq_len || !pl->seq_start || !pl->att_start || !pl->group_first || !pl->group_L || !pl->order ||
        !pl->h_off) {
        record(c, "malloc", __FILE__, __LINE__, "out of host memory for the attention plan");
        plan_free(c);
        return false;
    }
    if (!CK(c, cudaMalloc((void **)&pl->d_off, 2 * (size_t)n_items * sizeof(long long))) ||
        !CK(c, cudaMalloc((void **)&pl->d_ptrs, (size_t)PTR_SETS * n_items * sizeof(void *)))) {
        plan_free(c);
        return false;
    }
    pl->cap_seq = n_seq;
    pl->cap_items = n_items;
    return true;
}

const AttnPlan *attn_plan(Ctx *c, const ws_pack *p, int C, int NH)
{
    AttnPlan *pl = &c->plan;
    if (plan_matches(pl, p, C, NH))
        return pl;
    int n_seq = p->n_seq, n_items = n_seq * NH, hs = C / NH;
    pl->n_items = 0; /* invalid until complete */
    if (!plan_reserve(c, pl, n_seq, n_items))
        return NULL;
    memcpy(pl->seq_len, p->h.seq_len, (size_t)n_seq * sizeof(int));
    memcpy(pl->seq_start, p->h.seq_start, (size_t)n_seq * sizeof(int));
    memcpy(pl->att_start, p->h.att_start, (size_t)n_seq * sizeof(size_t));
    /* sequences by length; ties keep sequence order (insertion sort: lengths come mostly in runs) */
    int *order = pl->order;
    for (int i = 0; i < n_seq; i++) {
        int s = i, j = i;
        while (j > 0 && p->h.seq_len[order[j - 1]] > p->h.seq_len[s]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = s;
    }
    /* token offsets of the items, then their att offsets, cap_items apart */
    long long *tok = pl->h_off, *att = pl->h_off + pl->cap_items, att_at = 0;
    int item = 0, g = 0;
    for (int i = 0; i < n_seq; i++) {
        int s = order[i], L = p->h.seq_len[s];
        if (L <= 0)
            continue;
        if (g == 0 || pl->group_L[g - 1] != L) {
            pl->group_first[g] = item;
            pl->group_L[g++] = L;
        }
        for (int h = 0; h < NH; h++, item++) {
            tok[item] = (long long)p->h.seq_start[s] * C + (long long)h * hs;
            att[item] = att_at;
            att_at += (long long)L * ws_att_row(L);
        }
    }
    if ((size_t)att_at > p->att_total) {
        record(c, "attention plan", __FILE__, __LINE__, "the packing's att_total is smaller than its blocks");
        return NULL;
    }
    if (!CK(c, cudaMemcpyAsync(pl->d_off, pl->h_off, 2 * (size_t)pl->cap_items * sizeof(long long),
                               cudaMemcpyHostToDevice, c->stream)))
        return NULL;
    pl->n_seq = n_seq;
    pl->NH = NH;
    pl->C = C;
    pl->compute = C % 4 == 0 && hs % 4 == 0 ? c->compute : CUBLAS_COMPUTE_32F;
    pl->n_groups = g;
    pl->n_items = item;
    return pl;
}

/* ptrs[j * stride + i] = base[j] + (use_att[j] ? att offset : token offset)[i] */
struct PtrBases {
    float *base[PTR_SETS];
    int use_att[PTR_SETS];
};

__global__ void k_attn_ptrs(float **ptrs, PtrBases b, const long long *tok, const long long *att, int items,
                            int stride)
{
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < items; i += gridDim.x * blockDim.x)
        for (int j = 0; j < PTR_SETS; j++)
            ptrs[(size_t)j * stride + i] = b.base[j] + (b.use_att[j] ? att[i] : tok[i]);
}

/* The plan's pointer arrays for five operands (device; set j starts at j * cap_items), or NULL. */
float **attn_ptrs(Ctx *c, const AttnPlan *pl, PtrBases b)
{
    float **ptrs = (float **)pl->d_ptrs;
    k_attn_ptrs<<<grid_for((size_t)pl->n_items, BLOCK), BLOCK, 0, c->stream>>>(
        ptrs, b, pl->d_off, pl->d_off + pl->cap_items, pl->n_items, pl->cap_items);
    return LAUNCHED(c, k_attn_ptrs) ? ptrs : NULL;
}

int group_items(const AttnPlan *pl, int g)
{
    return (g + 1 < pl->n_groups ? pl->group_first[g + 1] : pl->n_items) - pl->group_first[g];
}

void cu_attention_forward(const ws_backend *be, ws_real *out, ws_real *att, const ws_real *q, const ws_real *k,
                          const ws_real *v, const ws_pack *p, int C, int NH)
{
    Ctx *c = begin(be);
    if (!c || p->n_seq <= 0 || NH <= 0)
        return;
    const AttnPlan *pl = attn_plan(c, p, C, NH);
    if (!pl)
        return;
    int hs = C / NH, n = pl->cap_items;
    float scale = (float)(1.0 / sqrt((double)hs));
    float **P = attn_ptrs(c, pl, PtrBases{{att, (float *)q, (float *)k, (float *)v, out}, {1, 0, 0, 0, 0}});
    if (!P)
        return;
    float **Q = P + n, **K = P + 2 * n, **V = P + 3 * n, **O = P + 4 * n;
    for (int g = 0; g < pl->n_groups && !c->failed; g++) {
        int L = pl->group_L[g], i0 = pl->group_first[g], cnt = group_items(pl, g);
        int Lp = ws_att_row(L), rows = cnt * L;
        gemm_ptrs(c, pl->compute, false, true, L, L, hs, scale, Q + i0, C, K + i0, C, 0.0f, P + i0, Lp, cnt);
        LAUNCH(c, k_softmax_rows, (unsigned)((rows + WARPS - 1) / WARPS), BLOCK, 0, att + pl->h_off[n + i0], rows, L,
               Lp);
        gemm_ptrs(c, pl->compute, false, false, L, hs, L, 1.0f, P + i0, Lp, V + i0, C, 0.0f, O + i0, C, cnt);
    }
}

void cu_attention_backward(const ws_backend *be, ws_real *dq, ws_real *dk, ws_real *dv, const ws_real *dout,
                           const ws_real *att, const ws_real *q, const ws_real *k, const ws_real *v, const ws_pack *p,
                           int C, int NH)
{
    Ctx *c = begin(be);
    if (!c || p->n_seq <= 0 || NH <= 0)
        return;
    const AttnPlan *pl = attn_plan(c, p, C, NH);
    if (!pl)
        return;
    int hs = C / NH, n = pl->cap_items;
    float scale = (float)(1.0 / sqrt((double)hs));
    float *dP = (float *)scratch(c, (p->att_total ? p->att_total : 1) * sizeof(float)); /* att's layout */
    if (!dP)
        return;
    /* dP = dOut V^T; dV = P^T dOut; then dS = P * (dP - rowsum(dP * P)) in place. dP has att's
     * layout. */
    float **S = attn_ptrs(c, pl, PtrBases{{dP, (float *)att, (float *)dout, (float *)v, dv}, {1, 1, 0, 0, 0}});
    if (!S)
        return;
    for (int g = 0; g < pl->n_groups && !c->failed; g++) {
        int L = pl->group_L[g], i0 = pl->group_first[g], cnt = group_items(pl, g);
        float **dPp = S, **Pp = S + n, **dO = S + 2 * n, **Vp = S + 3 * n, **dV = S + 4 * n;
        size_t off = (size_t)pl->h_off[n + i0];
        int Lp = ws_att_row(L), rows = cnt * L;
        gemm_ptrs(c, pl->compute, false, true, L, L, hs, 1.0f, dO + i0, C, Vp + i0, C, 0.0f, dPp + i0, Lp, cnt);
        gemm_ptrs(c, pl->compute, true, false, L, hs, L, 1.0f, Pp + i0, Lp, dO + i0, C, 0.0f, dV + i0, C, cnt);
        LAUNCH(c, k_softmax_rows_backward, (unsigned)((rows + WARPS - 1) / WARPS), BLOCK, 0, dP + off, att + off, rows,
               L, Lp);
    }
    /* dQ = scale dS K; dK = scale dS^T Q. The pointer arrays are rewritten after the products
     * above have read them: one stream orders it. */
    S = attn_ptrs(c, pl, PtrBases{{dP, (float *)k, (float *)q, dq, dk}, {1, 0, 0, 0, 0}});
    if (!S)
        return;
    for (int g = 0; g < pl->n_groups && !c->failed; g++) {
        int L = pl->group_L[g], i0 = pl->group_first[g], cnt = group_items(pl, g);
        float **dSp = S, **Kp = S + n, **Qp = S + 2 * n, **dQ = S + 3 * n, **dK = S + 4 * n;
        int Lp = ws_att_row(L);
        gemm_ptrs(c, pl->compute, false, false, L, hs, L, scale, dSp + i0, Lp, Kp + i0, C, 0.0f, dQ + i0, C, cnt);
        gemm_ptrs(c, pl->compute, true, false, L, hs, L, scale, dSp + i0, Lp, Qp + i0, C, 0.0f, dK + i0, C, cnt);
    }
}

/* The bi-attention's products run per decision rather than per action: a decision's actions
 * share one state, their head rows (act_tok) are consecutive and their La x Ls probability
 * blocks (p1_start) follow one another, so together they are one (sum of La) x Ls matrix.
 * Returns that row count, or -1 (recorded) when the packing breaks that layout. */
int decision_rows(Ctx *c, const ws_pack *p, int i)
{
    int a0 = p->h.first_action[i], Ls = p->h.seq_len[i], rows = 0;
    for (int a = a0; a < a0 + p->h.n_actions[i]; a++) {
        if (p->h.act_tok[a] != p->h.act_tok[a0] + rows ||
            p->h.p1_start[a] != p->h.p1_start[a0] + (size_t)rows * Ls) {
            record(c, "bi-attention", __FILE__, __LINE__, "a decision's actions are not packed one after another");
            return -1;
        }
        rows += p->h.seq_len[p->B + a];
    }
    return rows;
}

void cu_biattn_forward(const ws_backend *be, ws_real *feat, const ws_biattn_buffers *sv, const ws_real *enc,
                       const ws_pack *p, const ws_real *w_in, const ws_real *w_mem, const ws_real *scale, int C)
{
    Ctx *c = begin(be);
    if (!c || p->A <= 0 || C <= 0)
        return;
    int B = p->B, A = p->A, slo, shi, alo, ahi;
    row_range(p, 0, B, &slo, &shi);
    row_range(p, B, A, &alo, &ahi);
    float *in_dot = (float *)scratch(c, (size_t)(p->T > 0 ? p->T : 1) * sizeof(float)); /* act . w_in by enc row */
    if (!in_dot)
        return;
    if (shi > slo)
        LAUNCH(c, k_row_dot, (unsigned)((shi - slo + WARPS - 1) / WARPS), BLOCK, 0, sv->mem_dot, enc, w_mem, slo, shi,
               C);
    if (ahi > alo)
        LAUNCH(c, k_row_dot, (unsigned)((ahi - alo + WARPS - 1) / WARPS), BLOCK, 0, in_dot, enc, w_in, alo, ahi, C);
    LAUNCH(c, k_biattn_scale_act, (unsigned)A, BLOCK, 0, sv->out1, enc, scale, p->d, B, C);
    /* cross[t, u] = (act[t] * scale) . mem[u], into p1 */
    for (int i = 0; i < B && !c->failed; i++) {
        int rows = decision_rows(c, p, i), a0 = p->h.first_action[i], Ls = p->h.seq_len[i];
        if (rows > 0)
            gemm(c, false, true, rows, Ls, C, 1.0f, sv->out1 + (size_t)p->h.act_tok[a0] * C, C,
                 enc + (size_t)p->h.seq_start[i] * C, C, 0.0f, sv->p1 + p->h.p1_start[a0], Ls);
    }
    if (c->failed)
        return;
    LAUNCH(c, k_biattn_softmax, (unsigned)A, BLOCK, 0, sv->p1, sv->w2, sv->argmax, in_dot, sv->mem_dot, p->d, B);
    /* out1 = p1 mem */
    for (int i = 0; i < B && !c->failed; i++) {
        int rows = decision_rows(c, p, i), a0 = p->h.first_action[i], Ls = p->h.seq_len[i];
        if (rows > 0)
            gemm(c, false, false, rows, C, Ls, 1.0f, sv->p1 + p->h.p1_start[a0], Ls,
                 enc + (size_t)p->h.seq_start[i] * C, C, 0.0f, sv->out1 + (size_t)p->h.act_tok[a0] * C, C);
    }
    if (c->failed)
        return;
    LAUNCH(c, k_biattn_out, (unsigned)A, BLOCK, 0, feat, sv->out2, sv->out1, sv->w2, enc, p->d, B, C);
}

void cu_biattn_backward(const ws_backend *be, ws_real *d_enc, ws_real *dw_in, ws_real *dw_mem, ws_real *dscale,
                        const ws_real *dfeat, const ws_biattn_buffers *sv, const ws_real *enc, const ws_pack *p,
                        const ws_real *w_in, const ws_real *w_mem, const ws_real *scale, int C, ws_real *unused)
{
    (void)unused; /* see the top of the file: the workspace holds this op's scratch */
    Ctx *c = begin(be);
    if (!c || p->A <= 0 || C <= 0)
        return;
    int B = p->B, A = p->A, Ta = p->Ta, slo, shi;
    row_range(p, 0, B, &slo, &shi);
    int *map = NULL;
    float *dout1 = NULL, *scaled = NULL, *datt = NULL, *dw2 = NULL;
    double *dw2d = NULL, *wdot = NULL, *srow = NULL, *Srow = NULL;
    auto lay = [&](Carve &k) {
        map = k.take<int>((size_t)Ta);
        dout1 = k.take<float>((size_t)Ta * C);
        scaled = k.take<float>((size_t)Ta * C);
        datt = k.take<float>(p->p1_total);
        dw2 = k.take<float>((size_t)Ta);
        dw2d = k.take<double>((size_t)Ta);
        wdot = k.take<double>((size_t)A);
        srow = k.take<double>((size_t)Ta);
        Srow = k.take<double>((size_t)(p->T > 0 ? p->T : 1));
    };
    Carve measure{NULL, 0};
    lay(measure);
    char *base = (char *)scratch(c, measure.off);
    if (!base)
        return;
    Carve k{base, 0};
    lay(k);

    /* through feat and out2: dact, dout1, dw2, wdot, the row map */
    LAUNCH(c, k_biattn_bwd_feat, (unsigned)A, BLOCK, (size_t)C * sizeof(float), map, dout1, dw2, dw2d, wdot, d_enc,
           dfeat, enc, sv->out1, sv->out2, sv->w2, p->d, B, C);
    /* out1 = p1 mem: datt = dout1 mem^T; dmem += p1^T dout1 (over all the decision's action rows) */
    for (int i = 0; i < B && !c->failed; i++) {
        int rows = decision_rows(c, p, i), a0 = p->h.first_action[i], Ls = p->h.seq_len[i];
        if (rows <= 0)
            continue;
        const float *mem = enc + (size_t)p->h.seq_start[i] * C, *d1 = dout1 + (size_t)p->h.act_tok[a0] * C;
        size_t off = p->h.p1_start[a0];
        gemm(c, false, true, rows, Ls, C, 1.0f, d1, C, mem, C, 0.0f, datt + off, Ls);
        gemm(c, true, false, Ls, C, rows, 1.0f, sv->p1 + off, Ls, d1, C, 1.0f, d_enc + (size_t)p->h.seq_start[i] * C,
             C);
    }
    if (c->failed)
        return;
    /* the two softmaxes; att = act.w_in + mem.w_mem + (act * scale) mem^T */
    LAUNCH(c, k_biattn_bwd_softmax, (unsigned)A, BLOCK, 0, datt, srow, d_enc, sv->p1, sv->w2, dw2, wdot, sv->argmax,
           w_in, p->d, B, C);
    if (shi > slo) {
        if (!CK(c, cudaMemsetAsync(Srow + slo, 0, (size_t)(shi - slo) * sizeof(double), c->stream)))
            return;
        if (B > 0)
            LAUNCH(c, k_biattn_bwd_state, (unsigned)B, BLOCK, 0, Srow, d_enc, datt, w_mem, p->d, B, C);
        colreduce(c, WeightedRows{Srow, enc, slo, C}, shi - slo, C, dw_mem, (float *)NULL);
    }
    if (Ta > 0)
        LAUNCH(c, k_biattn_scaled_rows, grid_for((size_t)Ta * C, BLOCK), BLOCK, 0, scaled, map, enc, scale, Ta, C);
    /* dmem += datt^T (act * scale); d(act * scale) = datt mem, into dout1 */
    for (int i = 0; i < B && !c->failed; i++) {
        int rows = decision_rows(c, p, i), a0 = p->h.first_action[i], Ls = p->h.seq_len[i];
        if (rows <= 0) /* Ls = 0 still zeroes dout1 (gemm with K = 0) */
            continue;
        const float *mem = enc + (size_t)p->h.seq_start[i] * C;
        size_t off = p->h.p1_start[a0], ta = (size_t)p->h.act_tok[a0];
        gemm(c, true, false, Ls, C, rows, 1.0f, datt + off, Ls, scaled + ta * C, C, 1.0f,
             d_enc + (size_t)p->h.seq_start[i] * C, C);
        gemm(c, false, false, rows, C, Ls, 1.0f, datt + off, Ls, mem, C, 0.0f, dout1 + ta * C, C);
    }
    if (c->failed || Ta <= 0)
        return;
    LAUNCH(c, k_biattn_dact_scale, grid_for((size_t)Ta * C, BLOCK), BLOCK, 0, d_enc, map, dout1, scale, Ta, C);
    colreduce(c, ActCols{map, srow, dout1, enc, C}, Ta, C, dw_in, dscale);
}

void cu_pool_forward(const ws_backend *be, ws_real *pooled, const ws_real *h, const ws_pack *p, int C)
{
    Ctx *c = begin(be);
    if (!c || p->A <= 0 || C <= 0)
        return;
    LAUNCH(c, k_pool_forward, (unsigned)p->A, BLOCK, 0, pooled, h, p->d, p->B, C);
}

void cu_pool_backward(const ws_backend *be, ws_real *dh, const ws_real *dpooled, const ws_pack *p, int C)
{
    Ctx *c = begin(be);
    if (!c || p->A <= 0 || C <= 0)
        return;
    LAUNCH(c, k_pool_backward, (unsigned)p->A, BLOCK, 0, dh, dpooled, p->d, p->B, C);
}

void cu_logsoftmax_forward(const ws_backend *be, ws_real *logp, const ws_real *logits, const ws_pack *p)
{
    Ctx *c = begin(be);
    if (!c || p->B <= 0)
        return;
    LAUNCH(c, k_logsoftmax, grid_for((size_t)p->B, 64), 64, 0, logp, logits, p->d, p->B);
}

void cu_cls_forward(const ws_backend *be, ws_real *cls, const ws_real *enc, const ws_pack *p, int C)
{
    Ctx *c = begin(be);
    if (!c || p->B <= 0 || C <= 0)
        return;
    LAUNCH(c, k_cls_forward, (unsigned)p->B, BLOCK, 0, cls, enc, p->d, C);
}

void cu_cls_backward(const ws_backend *be, ws_real *d_enc, const ws_real *d_cls, const ws_pack *p, int C)
{
    Ctx *c = begin(be);
    if (!c || p->B <= 0 || C <= 0)
        return;
    LAUNCH(c, k_cls_backward, (unsigned)p->B, BLOCK, 0, d_enc, d_cls, p->d, C);
}

/* ---- optimiser */

double cu_sum_squares(const ws_backend *be, const float *x, size_t n)
{
    Ctx *c = begin(be);
    if (!c)
        return NAN;
    if (!n)
        return 0;
    size_t nb = (n + WS_NORM_BLOCK - 1) / WS_NORM_BLOCK;
    double *part = (double *)scratch(c, (nb + 1) * sizeof(double));
    if (!part)
        return NAN;
    k_sumsq_blocks<<<(unsigned)nb, BLOCK, 0, c->stream>>>(x, n, part);
    if (!LAUNCHED(c, k_sumsq_blocks))
        return NAN;
    k_sum_final<<<1, BLOCK, 0, c->stream>>>(part, nb, part + nb);
    if (!LAUNCHED(c, k_sum_final))
        return NAN;
    if (!CK(c, cudaMemcpyAsync(c->host_result, part + nb, sizeof(double), cudaMemcpyDeviceToHost, c->stream)) ||
        !CK(c, cudaStreamSynchronize(c->stream)))
        return NAN;
    return *c->host_result;
}

void cu_adamw(const ws_backend *be, const ws_adamw_opts *o, double lr, int64_t t, float *param, const float *grad,
              float grad_scale, float *m, float *v, size_t n, int decay)
{
    Ctx *c = begin(be);
    if (!c || !n)
        return;
    const ws_adamw_factors f = ws_adamw_factors_at(o, lr, t, decay); /* the CPU update's scalars */
    LAUNCH(c, k_adamw, grid_for(n, BLOCK), BLOCK, 0, param, grad, grad_scale, m, v, n, f.decay, f.keep, f.w1, f.b2,
           f.w2, f.step_size, f.bc2_sqrt, f.eps);
}

/* ---- data parallel */

int cu_comm_unique_id(const ws_backend *be, void *id, size_t *id_bytes, ws_err *err)
{
    Ctx *c = ctx_of(be);
    if (c->failed)
        return ws_fail(err, "%s", c->msg);
    ncclUniqueId uid;
    if (!CK(c, ncclGetUniqueId(&uid)))
        return ws_fail(err, "%s", c->msg);
    memcpy(id, &uid, sizeof uid);
    *id_bytes = sizeof uid;
    return 0;
}

int cu_comm_init(const ws_backend *be, const void *id, int rank, int n_ranks, ws_err *err)
{
    Ctx *c = ctx_of(be);
    if (c->failed)
        return ws_fail(err, "%s", c->msg);
    if (n_ranks < 1 || rank < 0 || rank >= n_ranks)
        return ws_fail(err, "cuda backend: rank %d of %d ranks", rank, n_ranks);
    if (c->comm)
        return ws_fail(err, "cuda backend (device %d): the NCCL communicator is already initialised", c->device);
    ncclUniqueId uid;
    memcpy(&uid, id, sizeof uid);
    ncclComm_t comm = NULL;
    if (!CK(c, cudaSetDevice(c->device)) || !CK(c, ncclCommInitRank(&comm, n_ranks, uid, rank)))
        return ws_fail(err, "%s", c->msg);
    c->comm = comm;
    return 0;
}

void cu_allreduce_sum(const ws_backend *be, float *x, size_t n)
{
    Ctx *c = begin(be);
    if (!c || !n)
        return;
    if (!c->comm) {
        record(c, "allreduce_sum", __FILE__, __LINE__, "no NCCL communicator (comm_init has not run)");
        return;
    }
    CK(c, ncclAllReduce(x, x, n, ncclFloat, ncclSum, c->comm, c->stream));
}

/* ---- lifetime */

/* Releases whatever `c` holds (each handle only if it was made); errors are recorded, nothing more. */
void release(Ctx *c)
{
    (void)cudaSetDevice(c->device);
    if (c->stream)
        CK(c, cudaStreamSynchronize(c->stream));
    if (c->comm)
        CK(c, ncclCommDestroy(c->comm));
    if (c->blas)
        CK(c, cublasDestroy(c->blas));
    if (c->scratch)
        CK(c, cudaFree(c->scratch));
    for (int i = 0; i < 3; i++)
        if (c->half[i])
            CK(c, cudaFree(c->half[i]));
    plan_free(c);
    if (c->partial)
        CK(c, cudaFree(c->partial));
    if (c->host_result)
        CK(c, cudaFreeHost(c->host_result));
    if (c->stream)
        CK(c, cudaStreamDestroy(c->stream));
    free(c);
}

void cu_destroy(ws_backend *be)
{
    if (!be)
        return;
    if (be->ctx)
        release(ctx_of(be));
    free(be);
}

} /* namespace */

/* ================================================================== public entry points */

extern "C" int ws_cuda_built(void)
{
    return 1;
}

extern "C" int ws_cuda_device_count(void)
{
    int n = 0;
    if (cudaGetDeviceCount(&n) != cudaSuccess) {
        (void)cudaGetLastError(); /* no driver or no device: not an error to keep */
        return 0;
    }
    return n > 0 ? n : 0;
}

extern "C" ws_backend *ws_backend_cuda_new(int device, ws_gpu_math math, ws_err *err)
{
    cublasComputeType_t compute;
    switch (math) {
    case WS_MATH_FP32: compute = CUBLAS_COMPUTE_32F; break;
    case WS_MATH_TF32: compute = CUBLAS_COMPUTE_32F_FAST_TF32; break;
    case WS_MATH_BF16: compute = CUBLAS_COMPUTE_32F_FAST_16BF; break;
    default: return ws_fail(err, "cuda backend: unknown matrix-product precision %d", (int)math), (ws_backend *)NULL;
    }
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return ws_fail(err, "cuda backend: no usable CUDA device (cudaGetDeviceCount: %s)", cudaGetErrorString(e)),
               (ws_backend *)NULL;
    }
    if (count <= 0)
        return ws_fail(err, "cuda backend: no CUDA device found"), (ws_backend *)NULL;
    if (device < 0 || device >= count)
        return ws_fail(err, "cuda backend: no CUDA device %d (%d found: 0..%d)", device, count, count - 1),
               (ws_backend *)NULL;

    Ctx *c = (Ctx *)calloc(1, sizeof *c);
    ws_backend *be = (ws_backend *)calloc(1, sizeof *be);
    if (!c || !be) {
        free(c);
        free(be);
        return ws_fail(err, "cuda backend: out of host memory"), (ws_backend *)NULL;
    }
    c->device = device;
    c->math = math;
    c->compute = compute;
    bool ok = CK(c, cudaSetDevice(device)) && CK(c, cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking)) &&
              CK(c, cublasCreate(&c->blas)) && CK(c, cublasSetStream(c->blas, c->stream)) &&
              CK(c, cudaMallocHost((void **)&c->host_result, sizeof(double)));
    if (!ok) {
        ws_fail(err, "%s", c->msg);
        release(c);
        free(be);
        return NULL;
    }

    be->name = "cuda";
    be->ctx = c;
    be->alloc = cu_alloc;
    be->free = cu_free;
    be->upload = cu_upload;
    be->download = cu_download;
    be->copy = cu_copy;
    be->zero = cu_zero;
    be->status = cu_status;
    be->matmul_forward = cu_matmul_forward;
    be->matmul_backward = cu_matmul_backward;
    be->embedding_forward = cu_embedding_forward;
    be->embedding_backward = cu_embedding_backward;
    be->layernorm_forward = cu_layernorm_forward;
    be->layernorm_backward = cu_layernorm_backward;
    be->matmul_gelu_forward = cu_matmul_gelu_forward;
    be->matmul_gelu_backward = cu_matmul_gelu_backward;
    be->relu_forward = cu_relu_forward;
    be->relu_backward = cu_relu_backward;
    be->attention_forward = cu_attention_forward;
    be->attention_backward = cu_attention_backward;
    be->biattn_forward = cu_biattn_forward;
    be->biattn_backward = cu_biattn_backward;
    be->pool_forward = cu_pool_forward;
    be->pool_backward = cu_pool_backward;
    be->logsoftmax_forward = cu_logsoftmax_forward;
    be->cls_forward = cu_cls_forward;
    be->cls_backward = cu_cls_backward;
    be->sum_squares = cu_sum_squares;
    be->adamw = cu_adamw;
    be->comm_unique_id = cu_comm_unique_id;
    be->comm_init = cu_comm_init;
    be->allreduce_sum = cu_allreduce_sum;
    be->destroy = cu_destroy;
    return be;
}
