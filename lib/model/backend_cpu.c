/* The CPU backend: the reference implementation of lib/model/backend.h (OpenBLAS, OpenMP, fixed
 * reduction orders).
 *
 * Most of its time is OpenBLAS's sgemm. OpenBLAS (built DYNAMIC_ARCH, as Debian's) picks its
 * kernels once, while it is loaded and before main(): those OPENBLAS_CORETYPE names, else its
 * own choice for the CPU. That choice is left to OpenBLAS: Debian 12's 0.3.21 takes its AVX-512
 * kernels (Cooperlake) on AMD's Zen 4 and Zen 5, which run the encoder's products at about 90% of
 * a core's fp32 peak, twice the rate of its AVX2 (Haswell) kernels (make bench-gemm; docs/results,
 * "The model"); an OPENBLAS_CORETYPE in the environment overrides it, for better or worse.
 * Kernels sum a product in their own order, so the bits of a result are those of the seed, the
 * thread count and the kernels together.
 *
 * Two tables share these kernels: ws_backend_cpu's products are fp32; those of
 * ws_backend_cpu_bf16 are lib/model/gemm_bf16's (bf16 inputs, fp32 sums), every matrix product
 * of the layers (the linear layers, attention, the bi-attention), while everything else
 * (LayerNorm, softmax, GELU, the losses, AdamW, the fp32 master weights) is the same code. The
 * double build (the gradient check) multiplies in double whichever table it is given.
 *
 * The fp32 table's products are OpenBLAS's sgemm on CPUs with AVX-512. On those with AVX2 and
 * FMA only, every product but the linear layers' backward is lib/model/gemm_f32's, which sums
 * each element in one order whatever the batch, so that players keep their actions' encodings
 * in fp32 too (ws_backend_rows_independent): a 500-goal evaluation on an AVX2-only EPYC took 213
 * s instead of 329. Its rate is about sgemm's on the forward's products and better on
 * attention's; the linear layers' backward stays sgemm's (cpu_sgemm_backward says why).
 *
 * With the products on AMX (gemm_bf16) the elementwise passes are a large part of a step: those
 * functions carry WS_VECTOR_CLONES (lib/base/vecmath.h), compiled also for AVX2 and AVX-512 with
 * fused multiply-adds and chosen at load, where the build's baseline is SSE2. */
#include "backend.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bigmem.h"
#include "gemm_bf16.h"
#include "gemm_f32.h"
#include "optim.h"
#include "scratch.h"
#include "vecmath.h"

/* A table's own state: which products it runs, and whether one of our products failed (it can
 * only fail to allocate its packing buffers), for ->status to report. */
typedef struct cpu_ctx {
    int bf16;
    atomic_int product_failed;
    atomic_int scratch_failed; /* an attention block's buffer could not be had */
} cpu_ctx;

static cpu_ctx FP32_CTX = {.bf16 = 0}, BF16_CTX = {.bf16 = 1};

/* The float build takes lib/base/vecmath's vectorisable e^x and normal cdf/pdf; the double build
 * (the gradient check) keeps libm's, whose accuracy finite differences need. */
#define REAL_IS_FLOAT (sizeof(ws_real) == sizeof(float))

/* Columns summed down the rows together (bias and LayerNorm gradients): a row of the block is
 * one stretch of memory, where a column at a time read a cache line per value. */
enum { COLUMN_BLOCK = 64 };
/* A row's sums and maxima (a softmax's, a LayerNorm's) run in ROW_LANES partial results, each
 * lane a vector element, folded at the end: OpenMP's simd reductions left one chain of dependent
 * adds (or maxima) through the row and then folded their lanes one by one, a third of a
 * 384-long row's time. */
enum { ROW_LANES = 32 };

/* The float build's products (row-major): the bf16 table's are gemm_bf16's; the fp32 table's are
 * gemm_f32's where it is preferred (CPUs with AVX2 but not AVX-512), else OpenBLAS's sgemm. */
static void cpu_sgemm(const ws_backend *be, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K,
                      float alpha, const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc)
{
    cpu_ctx *ctx = be->ctx;
    int failed = 0;
    if (ctx->bf16)
        failed = ws_gemm_bf16(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else if (ws_gemm_f32_preferred())
        failed = ws_gemm_f32(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    if (failed)
        atomic_store(&ctx->product_failed, 1);
}

/* The linear layers' backward products (dinp, dW): on the fp32 table always OpenBLAS's sgemm. The
 * forward's products are gemm_f32's where it is preferred, for their rows' sake (kept encodings);
 * the backward needs no such property, and sgemm ran the weight gradients 1.1-1.7 times as fast
 * (K is the batch's tokens) on the AVX2 EPYC, 2 threads. The input gradients measured either way
 * (sgemm 0.95-1.3 times gemm_f32's rate one day, 0.85-1.0 another) and no faster in real runs
 * on gemm_f32 (docs/results, "The AVX2 EPYC a third time"), so they stay sgemm's too. */
static void cpu_sgemm_backward(const ws_backend *be, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N,
                               int K, float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                               float *C, int ldc)
{
    cpu_ctx *ctx = be->ctx;
    if (ctx->bf16)
        cpu_sgemm(be, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    else
        cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* The double build's: always dgemm. */
static void cpu_dgemm(const ws_backend *be, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K,
                      double alpha, const double *A, int lda, const double *B, int ldb, double beta, double *C,
                      int ldc)
{
    (void)be;
    cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* One name for both, chosen by the real type. */
#define GEMM(be, ...) _Generic((ws_real)0, float: cpu_sgemm, double: cpu_dgemm)(be, __VA_ARGS__)
#define GEMM_BACKWARD(be, ...) _Generic((ws_real)0, float: cpu_sgemm_backward, double: cpu_dgemm)(be, __VA_ARGS__)

void ws_backend_set_threads(int n)
{
    if (n <= 0)
        n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}

int ws_backend_threads(void)
{
    return openblas_get_num_threads();
}

/* out += add, rows of n values (leading dimensions ld_out, ld_add) */
WS_VECTOR_CLONES static void add_rows(ws_real *out, size_t ld_out, const ws_real *add, size_t ld_add, int rows, int n)
{
    for (int r = 0; r < rows; r++) {
        ws_real *o = out + (size_t)r * ld_out;
        const ws_real *a = add + (size_t)r * ld_add;
#pragma omp simd
        for (int i = 0; i < n; i++)
            o[i] += a[i];
    }
}

/* The bf16 product's epilogue that adds a matrix of C's shape (a residual) to each finished block. */
typedef struct residual {
    const ws_real *add;
    size_t ld;
} residual;

static void residual_block(const void *arg, float *c, size_t ldc, int i0, int j0, int m, int n)
{
    const residual *r = arg;
    add_rows((ws_real *)c, ldc, r->add + (size_t)i0 * r->ld + j0, r->ld, m, n);
}

static void cpu_matmul_forward(const ws_backend *be, ws_real *out, const ws_real *inp, const ws_real *w,
                               const ws_real *b, const ws_real *add, int T, int IC, int OC)
{
    if (T <= 0)
        return;
    cpu_ctx *ctx = be->ctx;
    if (REAL_IS_FLOAT && ctx->bf16) { /* the bias, then add, added as the product is stored */
        const residual r = {.add = add, .ld = (size_t)OC};
        const ws_gemm_epilogue then = {.apply = residual_block, .arg = &r};
        if (ws_gemm_bf16_epilogue(CblasNoTrans, CblasTrans, T, OC, IC, 1, (const float *)inp, IC, (const float *)w,
                                  IC, 0, (const float *)b, (float *)out, OC, add ? &then : NULL))
            atomic_store(&ctx->product_failed, 1);
        return;
    }
    if (b) {
#pragma omp parallel for schedule(static)
        for (int t = 0; t < T; t++)
            memcpy(out + (size_t)t * OC, b, (size_t)OC * sizeof *out);
    }
    GEMM(be, CblasNoTrans, CblasTrans, T, OC, IC, 1, inp, IC, w, IC, b ? 1 : 0, out, OC);
    if (add) {
#pragma omp parallel for schedule(static)
        for (int t = 0; t < T; t++)
            add_rows(out + (size_t)t * OC, 0, add + (size_t)t * OC, 0, 1, OC);
    }
}

WS_VECTOR_CLONES static void cpu_matmul_backward(const ws_backend *be, ws_real *dinp, ws_real *dw, ws_real *db, const ws_real *dout, const ws_real *inp,
                        const ws_real *w, const ws_real *add, int T, int IC, int OC)
{
    if (T <= 0)
        return;
    cpu_ctx *ctx = be->ctx;
    if (dinp && REAL_IS_FLOAT && ctx->bf16) { /* add == dinp: beta 1; another add as the product is stored */
        const residual r = {.add = add, .ld = (size_t)IC};
        const ws_gemm_epilogue then = {.apply = residual_block, .arg = &r};
        if (ws_gemm_bf16_epilogue(CblasNoTrans, CblasNoTrans, T, IC, OC, 1, (const float *)dout, OC, (const float *)w,
                                  IC, add && add == dinp ? 1 : 0, NULL, (float *)dinp, IC,
                                  add && add != dinp ? &then : NULL))
            atomic_store(&ctx->product_failed, 1);
    } else if (dinp) {
        if (add && add != dinp) {
#pragma omp parallel for schedule(static)
            for (int t = 0; t < T; t++)
                memcpy(dinp + (size_t)t * IC, add + (size_t)t * IC, (size_t)IC * sizeof *dinp);
        }
        GEMM_BACKWARD(be, CblasNoTrans, CblasNoTrans, T, IC, OC, 1, dout, OC, w, IC, add ? 1 : 0, dinp, IC);
    }
    if (dw && db && REAL_IS_FLOAT && ctx->bf16) { /* the bias's sums as the product packs dout^T */
        if (ws_gemm_bf16_row_sums(CblasNoTrans, OC, IC, T, 1, (const float *)dout, OC, (const float *)inp, IC, 1,
                                  (float *)dw, IC, (float *)db))
            atomic_store(&ctx->product_failed, 1);
        db = NULL;
    } else if (dw) {
        GEMM_BACKWARD(be, CblasTrans, CblasNoTrans, OC, IC, T, 1, dout, OC, inp, IC, 1, dw, IC);
    }
    if (db) {
        /* blocks of columns in parallel, rows in order: each column's sum is the same whatever
         * the thread count */
#pragma omp parallel for schedule(static)
        for (int o0 = 0; o0 < OC; o0 += COLUMN_BLOCK) {
            int n = OC - o0 < COLUMN_BLOCK ? OC - o0 : COLUMN_BLOCK;
            double s[COLUMN_BLOCK] = {0};
            for (int t = 0; t < T; t++) {
                const ws_real *row = dout + (size_t)t * OC + o0;
#pragma omp simd
                for (int o = 0; o < n; o++)
                    s[o] += row[o];
            }
            for (int o = 0; o < n; o++)
                db[o0 + o] += (ws_real)s[o];
        }
    }
}

static void cpu_embedding_forward(const ws_backend *be, ws_real *out, const int32_t *ids, const int32_t *pos,
                                  const int32_t *types, int T, int C, const ws_real *wte, const ws_real *wpe,
                                  const ws_real *wtt)
{
    (void)be;
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++) {
        const ws_real *a = wte + (size_t)ids[t] * C, *p = wpe + (size_t)pos[t] * C, *y = wtt + (size_t)types[t] * C;
        ws_real *o = out + (size_t)t * C;
        for (int c = 0; c < C; c++)
            o[c] = a[c] + p[c] + y[c];
    }
}

static void cpu_embedding_backward(const ws_backend *be, ws_real *dwte, ws_real *dwpe, ws_real *dwtt,
                                   const ws_real *dout, const int32_t *ids, const int32_t *pos, const int32_t *types,
                                   int T, int C)
{
    (void)be;
    /* rows of the tables collide (repeated tokens, positions, types), so tokens go in order */
    for (int t = 0; t < T; t++) {
        const ws_real *d = dout + (size_t)t * C;
        ws_real *a = dwte + (size_t)ids[t] * C, *p = dwpe + (size_t)pos[t] * C, *y = dwtt + (size_t)types[t] * C;
        for (int c = 0; c < C; c++) {
            a[c] += d[c];
            p[c] += d[c];
            y[c] += d[c];
        }
    }
}

WS_VECTOR_CLONES static void cpu_layernorm_forward(const ws_backend *be, ws_real *out, ws_real *mean, ws_real *rstd, const ws_real *inp, const ws_real *w,
                          const ws_real *b, int T, int C, ws_real eps)
{
    (void)be;
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++) {
        const ws_real *x = inp + (size_t)t * C;
        double m = 0, v = 0;
        /* vector sums (their order fixed by the build): a sum in one chain waited on every add */
#pragma omp simd reduction(+ : m)
        for (int c = 0; c < C; c++)
            m += x[c];
        m /= C;
#pragma omp simd reduction(+ : v)
        for (int c = 0; c < C; c++)
            v += (x[c] - m) * (x[c] - m);
        v /= C;
        double s = 1.0 / sqrt(v + eps);
        ws_real *o = out + (size_t)t * C;
        for (int c = 0; c < C; c++)
            o[c] = (ws_real)((x[c] - m) * s) * w[c] + b[c];
        mean[t] = (ws_real)m;
        rstd[t] = (ws_real)s;
    }
}

WS_VECTOR_CLONES static void cpu_layernorm_backward(const ws_backend *be, ws_real *dinp, ws_real *dw, ws_real *db, const ws_real *dout, const ws_real *inp,
                           const ws_real *w, const ws_real *mean, const ws_real *rstd, int T, int C, int accumulate)
{
    (void)be;
    /* each row's two means in ROW_LANES partial sums folded pairwise, the element formula in
     * ws_real: in double it ran at half the vector width */
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++) {
        const ws_real *x = inp + (size_t)t * C, *d = dout + (size_t)t * C, mu = mean[t], rs = rstd[t];
        ws_real dnorm_sum[ROW_LANES] = {0}, dnorm_norm_sum[ROW_LANES] = {0};
        int c = 0;
        for (; c + ROW_LANES <= C; c += ROW_LANES)
#pragma omp simd
            for (int j = 0; j < ROW_LANES; j++) {
                ws_real norm = (x[c + j] - mu) * rs, dnorm = w[c + j] * d[c + j];
                dnorm_sum[j] += dnorm;
                dnorm_norm_sum[j] += dnorm * norm;
            }
        for (; c < C; c++) {
            ws_real norm = (x[c] - mu) * rs, dnorm = w[c] * d[c];
            dnorm_sum[0] += dnorm;
            dnorm_norm_sum[0] += dnorm * norm;
        }
        for (int width = ROW_LANES / 2; width > 0; width /= 2)
            for (int j = 0; j < width; j++) {
                dnorm_sum[j] += dnorm_sum[j + width];
                dnorm_norm_sum[j] += dnorm_norm_sum[j + width];
            }
        ws_real dnorm_mean = dnorm_sum[0] / C, dnorm_norm_mean = dnorm_norm_sum[0] / C;
        ws_real *di = dinp + (size_t)t * C;
#pragma omp simd
        for (c = 0; c < C; c++) {
            ws_real norm = (x[c] - mu) * rs, g = (w[c] * d[c] - dnorm_mean - norm * dnorm_norm_mean) * rs;
            di[c] = accumulate ? di[c] + g : g;
        }
    }
    /* blocks of columns in parallel, each column's sums in row order (as the bias gradient's) */
#pragma omp parallel for schedule(static)
    for (int c0 = 0; c0 < C; c0 += COLUMN_BLOCK) {
        int n = C - c0 < COLUMN_BLOCK ? C - c0 : COLUMN_BLOCK;
        double sw[COLUMN_BLOCK] = {0}, sb[COLUMN_BLOCK] = {0};
        for (int t = 0; t < T; t++) {
            const ws_real *d = dout + (size_t)t * C + c0, *x = inp + (size_t)t * C + c0;
#pragma omp simd
            for (int c = 0; c < n; c++) {
                sw[c] += (double)d[c] * (x[c] - mean[t]) * rstd[t];
                sb[c] += d[c];
            }
        }
        for (int c = 0; c < n; c++) {
            dw[c0 + c] += (ws_real)sw[c];
            db[c0 + c] += (ws_real)sb[c];
        }
    }
}

static inline ws_real exp_real(ws_real x)
{
    return REAL_IS_FLOAT ? (ws_real)ws_expf((float)x) : (ws_real)exp((double)x);
}

static inline ws_real gelu(ws_real x)
{
    return REAL_IS_FLOAT ? x * ws_normal_cdf((float)x) : (ws_real)(0.5 * x * (1.0 + erf(x * M_SQRT1_2)));
}

static inline ws_real gelu_grad(ws_real x)
{
    if (REAL_IS_FLOAT)
        return ws_normal_cdf((float)x) + x * ws_normal_pdf((float)x);
    return (ws_real)(0.5 * (1.0 + erf(x * M_SQRT1_2)) + x * 0.3989422804014327 * exp(-0.5 * x * x));
}

WS_VECTOR_CLONES static void gelu_rows(ws_real *act, size_t ld_act, const ws_real *pre, size_t ld_pre, int rows,
                                       int n)
{
    for (int r = 0; r < rows; r++) {
        ws_real *a = act + (size_t)r * ld_act;
        const ws_real *x = pre + (size_t)r * ld_pre;
#pragma omp simd
        for (int i = 0; i < n; i++)
            a[i] = gelu(x[i]);
    }
}

/* d = GELU'(pre) d, in place */
WS_VECTOR_CLONES static void gelu_grad_rows(ws_real *d, size_t ld_d, const ws_real *pre, size_t ld_pre, int rows, int n)
{
    for (int r = 0; r < rows; r++) {
        ws_real *g = d + (size_t)r * ld_d;
        const ws_real *x = pre + (size_t)r * ld_pre;
#pragma omp simd
        for (int i = 0; i < n; i++)
            g[i] = gelu_grad(x[i]) * g[i];
    }
}

/* The bf16 product's epilogues: the GELU of each finished block of the product into act, or the
 * block multiplied by GELU'(pre) (the product's C and act, or C and pre, share their layout). */
typedef struct gelu_epilogue {
    ws_real *act;
    const ws_real *pre;
    size_t ld;
} gelu_epilogue;

static void gelu_block(const void *arg, float *c, size_t ldc, int i0, int j0, int m, int n)
{
    const gelu_epilogue *g = arg;
    gelu_rows(g->act + (size_t)i0 * g->ld + j0, g->ld, (const ws_real *)c, ldc, m, n);
}

static void gelu_grad_block(const void *arg, float *c, size_t ldc, int i0, int j0, int m, int n)
{
    const gelu_epilogue *g = arg;
    gelu_grad_rows((ws_real *)c, ldc, g->pre + (size_t)i0 * g->ld + j0, g->ld, m, n);
}

static void cpu_matmul_gelu_forward(const ws_backend *be, ws_real *out, ws_real *act, const ws_real *inp,
                                    const ws_real *w, const ws_real *b, int T, int IC, int OC)
{
    cpu_ctx *ctx = be->ctx;
    if (REAL_IS_FLOAT && ctx->bf16 && T > 0) {
        const gelu_epilogue g = {.act = act, .ld = (size_t)OC};
        const ws_gemm_epilogue then = {.apply = gelu_block, .arg = &g};
        if (ws_gemm_bf16_epilogue(CblasNoTrans, CblasTrans, T, OC, IC, 1, (const float *)inp, IC, (const float *)w,
                                  IC, 0, (const float *)b, (float *)out, OC, &then))
            atomic_store(&ctx->product_failed, 1);
        return;
    }
    cpu_matmul_forward(be, out, inp, w, b, NULL, T, IC, OC);
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++)
        gelu_rows(act + (size_t)t * OC, 0, out + (size_t)t * OC, 0, 1, OC);
}

static void cpu_matmul_gelu_backward(const ws_backend *be, ws_real *dinp, ws_real *dw, ws_real *db,
                                     const ws_real *dout, const ws_real *inp, const ws_real *w, const ws_real *pre,
                                     int T, int IC, int OC)
{
    cpu_ctx *ctx = be->ctx;
    if (REAL_IS_FLOAT && ctx->bf16 && T > 0) {
        const gelu_epilogue g = {.pre = pre, .ld = (size_t)IC};
        const ws_gemm_epilogue then = {.apply = gelu_grad_block, .arg = &g};
        if (ws_gemm_bf16_epilogue(CblasNoTrans, CblasNoTrans, T, IC, OC, 1, (const float *)dout, OC, (const float *)w,
                                  IC, 0, NULL, (float *)dinp, IC, &then))
            atomic_store(&ctx->product_failed, 1);
        cpu_matmul_backward(be, NULL, dw, db, dout, inp, w, NULL, T, IC, OC);
        return;
    }
    cpu_matmul_backward(be, dinp, dw, db, dout, inp, w, NULL, T, IC, OC);
#pragma omp parallel for schedule(static)
    for (int t = 0; t < T; t++)
        gelu_grad_rows(dinp + (size_t)t * IC, 0, pre + (size_t)t * IC, 0, 1, IC);
}

/* In place, each of the `rows` rows of length n becomes e^(x - its maximum), and sum[r] row r's
 * sum: softmax's rows before their normalisation. The maxima run in ROW_LANES lanes folded
 * pairwise; the sum in ROW_LANES lanes of ws_real (lane j takes the values j, j + ROW_LANES, ...
 * and lane 0 the tail: a dozen values each in a row of 384), then the lanes in order in double. */
WS_VECTOR_CLONES static void exp_rows(ws_real *x, int rows, int n, double *sum)
{
    for (int r = 0; r < rows; r++) {
        ws_real *row = x + (size_t)r * n, mx[ROW_LANES];
        for (int j = 0; j < ROW_LANES; j++)
            mx[j] = -INFINITY;
        int i = 0;
        for (; i + ROW_LANES <= n; i += ROW_LANES)
#pragma omp simd
            for (int j = 0; j < ROW_LANES; j++)
                mx[j] = row[i + j] > mx[j] ? row[i + j] : mx[j];
        for (; i < n; i++)
            mx[0] = row[i] > mx[0] ? row[i] : mx[0];
        for (int w = ROW_LANES / 2; w > 0; w /= 2)
            for (int j = 0; j < w; j++)
                mx[j] = mx[j + w] > mx[j] ? mx[j + w] : mx[j];
        ws_real s[ROW_LANES] = {0}; /* in double, GCC left the loop scalar: 9 times slower */
        for (i = 0; i + ROW_LANES <= n; i += ROW_LANES)
#pragma omp simd
            for (int j = 0; j < ROW_LANES; j++) {
                row[i + j] = exp_real(row[i + j] - mx[0]);
                s[j] += row[i + j];
            }
        for (; i < n; i++) {
            row[i] = exp_real(row[i] - mx[0]);
            s[0] += row[i];
        }
        double total = 0;
        for (int j = 0; j < ROW_LANES; j++)
            total += s[j];
        sum[r] = total;
    }
}

/* In-place softmax of each of the `rows` rows of length n. */
WS_VECTOR_CLONES static void softmax_rows(ws_real *x, int rows, int n)
{
    for (int r = 0; r < rows; r++) {
        ws_real *row = x + (size_t)r * n;
        double s;
        exp_rows(row, 1, n, &s);
        /* the float build multiplies by the sum's inverse: a division per value cost more than
         * the rest of the row's work */
        ws_real inverse = (ws_real)(1.0 / s);
#pragma omp simd
        for (int i = 0; i < n; i++)
            row[i] = REAL_IS_FLOAT ? row[i] * inverse : (ws_real)(row[i] / s);
    }
}

/* Attention works one (sequence, head) block at a time, blocks spread over the threads: the
 * products are small (L x L x head size), too small for the BLAS to share out, and each block
 * writes its own columns of the outputs, so the result does not depend on which thread takes
 * which block. Inside the parallel region the BLAS runs single-threaded.
 *
 * A block's probabilities live only while the block is computed, in a buffer of the thread's
 * grown to the largest block (1 MiB at 512 tokens, 2 MiB in the backward, which holds dS beside
 * them: in L2 or close to it), and the backward
 * computes them again from q and k: the same products in the same order, so the same bits.
 * Saving them instead wrote NH x len^2 values per sequence and layer to memory and read them back
 * (some 170 MB a step for 4 states of 384 tokens; 190 MB a layer for 16 states of 500 tokens),
 * which cost more than the products that make them. att is therefore not used here (backend.h).
 *
 * The probabilities are never normalised in place: softmax(S) V = diag(1 / rowsum) (E V) with
 * E = e^(S - rowmax), so the block keeps E and scales the L x head-size rows of the products
 * instead of the L x L probabilities, a pass over the block fewer in the forward and in the
 * backward. */
static _Thread_local ws_scratch attention_block;

/* Blocks of at most this many tokens (the actions' few tokens) are multiplied here, in ws_real
 * with sums in k order, not by the BLAS or the bf16 product: a call to either costs about a
 * microsecond whatever its size, and a MiniLM step made some 24,000 such calls for its actions'
 * 8 x 8 x 32 products. */
enum { SMALL_BLOCK = 32 };

/* One panel of C: its n <= W columns (W 8, 16 or SMALL_BLOCK, a constant where it is inlined),
 * op(B)'s k x n copied into b_rows as W-wide rows, zero past n. Each group of SMALL_ROWS rows of C
 * keeps its sums in a local of fixed width, which the compiler holds in vector registers through
 * all of k; summed in place in C's rows instead (every step of k a load and a store of the row
 * the next step waits on), the actions' products ran at a quarter of this rate. Rows past M in
 * the last group repeat its first row: computed, never stored. */
enum { SMALL_ROWS = 4 };
static inline __attribute__((always_inline)) void small_panel(int W, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb,
                                                              int M, int n, int K, ws_real alpha, const ws_real *A,
                                                              int lda, const ws_real *B, int ldb, ws_real *C, int ldc,
                                                              ws_real *b_rows)
{
    if (tb == CblasNoTrans)
        for (int p = 0; p < K; p++) {
            const ws_real *row = B + (size_t)p * ldb;
#pragma omp simd
            for (int j = 0; j < W; j++)
                b_rows[p * W + j] = j < n ? row[j] : 0;
        }
    else { /* B's rows read in order, written down b_rows' columns */
        for (int p = 0; p < K; p++)
            memset(b_rows + p * W + n, 0, (size_t)(W - n) * sizeof(ws_real));
        for (int j = 0; j < n; j++)
            for (int p = 0; p < K; p++)
                b_rows[p * W + j] = B[(size_t)j * ldb + p];
    }
    for (int i0 = 0; i0 < M; i0 += SMALL_ROWS) {
        int m = M - i0 < SMALL_ROWS ? M - i0 : SMALL_ROWS;
        ws_real sums[SMALL_ROWS][SMALL_BLOCK];
#pragma GCC unroll 4
        for (int r = 0; r < SMALL_ROWS; r++)
#pragma omp simd
            for (int j = 0; j < W; j++)
                sums[r][j] = 0;
        for (int p = 0; p < K; p++) {
            const ws_real *b = b_rows + p * W;
#pragma GCC unroll 4
            for (int r = 0; r < SMALL_ROWS; r++) {
                int i = i0 + (r < m ? r : 0);
                ws_real a = alpha * (ta == CblasNoTrans ? A[(size_t)i * lda + p] : A[(size_t)p * lda + i]);
#pragma omp simd
                for (int j = 0; j < W; j++)
                    sums[r][j] += a * b[j];
            }
        }
        for (int r = 0; r < m; r++)
            memcpy(C + (size_t)(i0 + r) * ldc, sums[r], (size_t)n * sizeof(ws_real));
    }
}

/* C[M, N] = alpha op(A) op(B), C not read, for M up to a block's tokens and K up to twice that
 * (a head's size or a block's tokens), N any: SMALL_BLOCK columns at a time, the narrowest
 * panel that holds them. */
WS_VECTOR_CLONES static void small_product(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K,
                                           ws_real alpha, const ws_real *A, int lda, const ws_real *B, int ldb,
                                           ws_real *C, int ldc)
{
    ws_real b_rows[2 * SMALL_BLOCK * SMALL_BLOCK];
    for (int j0 = 0; j0 < N; j0 += SMALL_BLOCK) {
        int n = N - j0 < SMALL_BLOCK ? N - j0 : SMALL_BLOCK;
        const ws_real *b = tb == CblasNoTrans ? B + j0 : B + (size_t)j0 * ldb;
        if (n <= 8)
            small_panel(8, ta, tb, M, n, K, alpha, A, lda, b, ldb, C + j0, ldc, b_rows);
        else if (n <= 16)
            small_panel(16, ta, tb, M, n, K, alpha, A, lda, b, ldb, C + j0, ldc, b_rows);
        else
            small_panel(SMALL_BLOCK, ta, tb, M, n, K, alpha, A, lda, b, ldb, C + j0, ldc, b_rows);
    }
}

/* The product of a block of L tokens: small_product for a few tokens, else the backend's. */
static void block_product(const ws_backend *be, int L, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M,
                          int N, int K, ws_real alpha, const ws_real *A, int lda, const ws_real *B, int ldb,
                          ws_real *C, int ldc)
{
    if (L <= SMALL_BLOCK && K <= 2 * SMALL_BLOCK)
        small_product(ta, tb, M, N, K, alpha, A, lda, B, ldb, C, ldc);
    else
        GEMM(be, ta, tb, M, N, K, alpha, A, lda, B, ldb, 0, C, ldc);
}

/* A thread's block buffers: E (L x L), then in the backward dS (L x L) and dOut's rows scaled
 * (L x hs); the rows' sums (double) and their inverses. */
typedef struct attention_buffers {
    ws_real *e, *ds, *dout_scaled, *inverse;
    double *sum;
} attention_buffers;

static int attention_buffers_get(const ws_backend *be, attention_buffers *ab, int L, int hs, int backward)
{
    size_t square = (size_t)L * L, reals = square * (backward ? 2 : 1) + (backward ? (size_t)L * hs : 0) + L;
    double *sum = ws_scratch_get(&attention_block, (size_t)L * sizeof(double) + reals * sizeof(ws_real));
    if (!sum) {
        atomic_store(&((cpu_ctx *)be->ctx)->scratch_failed, 1);
        return -1;
    }
    ab->sum = sum;
    ab->e = (ws_real *)(sum + L);
    ab->ds = backward ? ab->e + square : NULL;
    ab->dout_scaled = backward ? ab->ds + square : NULL;
    ab->inverse = backward ? ab->dout_scaled + (size_t)L * hs : ab->e + square;
    return 0;
}

/* The block's E = e^(scale q k^T - rowmax) into ab->e (L x L), each row's 1 / sum into ab->inverse. */
static void block_exponentials(const ws_backend *be, const attention_buffers *ab, const ws_real *q, const ws_real *k,
                               int L, int C, int hs, ws_real scale)
{
    block_product(be, L, CblasNoTrans, CblasTrans, L, L, hs, scale, q, C, k, C, ab->e, L);
    exp_rows(ab->e, L, L, ab->sum);
    for (int t = 0; t < L; t++)
        ab->inverse[t] = (ws_real)(1.0 / ab->sum[t]);
}

static void cpu_attention_forward(const ws_backend *be, ws_real *out, ws_real *att, const ws_real *q,
                                  const ws_real *k, const ws_real *v, const ws_pack *pk, int C, int NH)
{
    (void)att;
    const int *seq_start = pk->h.seq_start, *seq_len = pk->h.seq_len;
    int hs = C / NH;
    ws_real scale = (ws_real)(1.0 / sqrt((double)hs));
#pragma omp parallel for schedule(dynamic, 1)
    for (int block = 0; block < pk->n_seq * NH; block++) {
        int s = block / NH, h = block % NH, L = seq_len[s];
        size_t off = (size_t)seq_start[s] * C + (size_t)h * hs;
        attention_buffers ab;
        if (attention_buffers_get(be, &ab, L, hs, 0))
            continue;
        block_exponentials(be, &ab, q + off, k + off, L, C, hs, scale);
        block_product(be, L, CblasNoTrans, CblasNoTrans, L, hs, L, 1, ab.e, L, v + off, C, out + off, C);
        for (int t = 0; t < L; t++) {
            ws_real *row = out + off + (size_t)t * C;
            for (int j = 0; j < hs; j++)
                row[j] *= ab.inverse[t];
        }
    }
}

WS_VECTOR_CLONES static void cpu_attention_backward(const ws_backend *be, ws_real *dq, ws_real *dk, ws_real *dv,
                                   const ws_real *dout, const ws_real *att, const ws_real *q, const ws_real *k,
                                   const ws_real *v, const ws_pack *pk, int C, int NH)
{
    (void)att;
    const int *seq_start = pk->h.seq_start, *seq_len = pk->h.seq_len;
    int hs = C / NH;
    ws_real scale = (ws_real)(1.0 / sqrt((double)hs));
#pragma omp parallel for schedule(dynamic, 1)
    for (int block = 0; block < pk->n_seq * NH; block++) {
        int s = block / NH, h = block % NH, L = seq_len[s];
        size_t off = (size_t)seq_start[s] * C + (size_t)h * hs;
        attention_buffers ab;
        if (attention_buffers_get(be, &ab, L, hs, 1))
            continue;
        /* P = diag(inverse) E. dV = P^T dOut = E^T (diag(inverse) dOut), dP = dOut V^T,
         * dS = P * (dP - rowsum(dP * P)), dQ = scale dS K, dK = scale dS^T Q: whole blocks, so
         * that each product packs its operands once */
        block_exponentials(be, &ab, q + off, k + off, L, C, hs, scale);
        for (int t = 0; t < L; t++) {
            /* the row's factor in a local: read through the pointer, the compiler could not
             * rule out the stores changing it and left the loop scalar */
            ws_real inverse = ab.inverse[t], *scaled = ab.dout_scaled + (size_t)t * hs;
            const ws_real *row = dout + off + (size_t)t * C;
#pragma omp simd
            for (int j = 0; j < hs; j++)
                scaled[j] = row[j] * inverse;
        }
        block_product(be, L, CblasTrans, CblasNoTrans, L, hs, L, 1, ab.e, L, ab.dout_scaled, hs, dv + off, C);
        block_product(be, L, CblasNoTrans, CblasTrans, L, L, hs, 1, dout + off, C, v + off, C, ab.ds, L);
        for (int t = 0; t < L; t++) {
            ws_real *d = ab.ds + (size_t)t * L;
            const ws_real *e = ab.e + (size_t)t * L;
            /* the dot product in ROW_LANES lanes of ws_real, the lanes added in double; the
             * elements in ws_real (in double they took both halves of each vector and two
             * conversions, about a tenth of the attention backward's time) */
            ws_real lanes[ROW_LANES] = {0};
            int u = 0;
            for (; u + ROW_LANES <= L; u += ROW_LANES)
#pragma omp simd
                for (int j = 0; j < ROW_LANES; j++)
                    lanes[j] += d[u + j] * e[u + j];
            for (; u < L; u++)
                lanes[0] += d[u] * e[u];
            double dot = 0;
            for (int j = 0; j < ROW_LANES; j++)
                dot += lanes[j];
            ws_real inverse = ab.inverse[t], shift = (ws_real)(dot * ab.inverse[t]);
#pragma omp simd
            for (u = 0; u < L; u++)
                d[u] = e[u] * inverse * (d[u] - shift);
        }
        block_product(be, L, CblasNoTrans, CblasNoTrans, L, hs, L, scale, ab.ds, L, k + off, C, dq + off, C);
        block_product(be, L, CblasTrans, CblasNoTrans, L, hs, L, scale, ab.ds, L, q + off, C, dk + off, C);
    }
}

/* The bi-attention of one action over its state: the saved activations of that action. */
typedef struct biattn_saved {
    ws_real *p1, *w2, *out1, *out2, *mem_dot;
    int *argmax;
} biattn_saved;

/* mem . w_mem for every row of the states, once a state (each of its actions reads them):
 * computed again for every action it was some 9 ms of a MiniLM step, on one thread */
static void biattn_mem_dots(ws_real *mem_dot, const ws_real *enc, const ws_pack *p, const ws_real *w_mem, int C)
{
#pragma omp parallel for schedule(static)
    for (int i = 0; i < p->B; i++)
        for (int u = p->h.seq_start[i]; u < p->h.seq_start[i] + p->h.seq_len[i]; u++) {
            double s = 0;
            for (int c = 0; c < C; c++)
                s += (double)enc[(size_t)u * C + c] * w_mem[c];
            mem_dot[u] = (ws_real)s;
        }
}

/* mem_dot: biattn_mem_dots's, for this action's state */
static void biattn_one_forward(const ws_backend *be, ws_real *feat, const biattn_saved *sv, const ws_real *act, int La, const ws_real *mem,
                               int Ls, const ws_real *w_in, const ws_real *scale, int C)
{
    ws_real *p1 = sv->p1;
    /* cross[t,u] = (act[t] * scale) . mem[u], using out1 as scratch for the scaled rows */
    for (int t = 0; t < La; t++)
        for (int c = 0; c < C; c++)
            sv->out1[(size_t)t * C + c] = act[(size_t)t * C + c] * scale[c];
    GEMM(be, CblasNoTrans, CblasTrans, La, Ls, C, 1, sv->out1, C, mem, C, 0, p1, Ls);
    const ws_real *mem_dot = sv->mem_dot;
    for (int t = 0; t < La; t++) {
        double s = 0;
        for (int c = 0; c < C; c++)
            s += (double)act[(size_t)t * C + c] * w_in[c];
        ws_real *row = p1 + (size_t)t * Ls;
        int best = 0;
        for (int u = 0; u < Ls; u++) {
            row[u] += (ws_real)s + mem_dot[u];
            if (row[u] > row[best])
                best = u;
        }
        sv->argmax[t] = best;
        sv->w2[t] = row[best]; /* the row maximum, before the softmax */
    }
    softmax_rows(p1, La, Ls);
    softmax_rows(sv->w2, 1, La);
    GEMM(be, CblasNoTrans, CblasNoTrans, La, C, Ls, 1, p1, Ls, mem, C, 0, sv->out1, C);
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (int t = 0; t < La; t++)
            s += (double)sv->w2[t] * act[(size_t)t * C + c];
        sv->out2[c] = (ws_real)s;
    }
    for (int t = 0; t < La; t++) {
        const ws_real *a = act + (size_t)t * C, *o1 = sv->out1 + (size_t)t * C;
        ws_real *f = feat + (size_t)t * 4 * C;
        for (int c = 0; c < C; c++) {
            f[c] = a[c];
            f[C + c] = o1[c];
            f[2 * C + c] = a[c] * o1[c];
            f[3 * C + c] = sv->out2[c] * o1[c];
        }
    }
}

/* dact, dmem, dw_in, dw_mem, dscale are accumulated; scratch: La*Ls + 2*La*C + La + C reals. */
static void biattn_one_backward(const ws_backend *be, ws_real *dact, ws_real *dmem, ws_real *dw_in, ws_real *dw_mem, ws_real *dscale,
                                const ws_real *dfeat, const biattn_saved *sv, const ws_real *act, int La,
                                const ws_real *mem, int Ls, const ws_real *w_in, const ws_real *w_mem,
                                const ws_real *scale, int C, ws_real *scratch)
{
    ws_real *datt = scratch;                      /* La * Ls */
    ws_real *dout1 = datt + (size_t)La * Ls;      /* La * C, later d(act * scale) */
    ws_real *scaled = dout1 + (size_t)La * C;     /* La * C */
    ws_real *dw2 = scaled + (size_t)La * C;       /* La */
    ws_real *dout2 = dw2 + La;                    /* C */
    const ws_real *p1 = sv->p1, *w2 = sv->w2, *out1 = sv->out1, *out2 = sv->out2;

    for (int c = 0; c < C; c++)
        dout2[c] = 0;
    for (int t = 0; t < La; t++) {
        const ws_real *f = dfeat + (size_t)t * 4 * C, *a = act + (size_t)t * C, *o1 = out1 + (size_t)t * C;
        ws_real *da = dact + (size_t)t * C, *do1 = dout1 + (size_t)t * C;
        for (int c = 0; c < C; c++) {
            da[c] += f[c] + f[2 * C + c] * o1[c];
            do1[c] = f[C + c] + f[2 * C + c] * a[c] + f[3 * C + c] * out2[c];
            dout2[c] += f[3 * C + c] * o1[c];
        }
    }
    /* out2 = sum_t w2[t] act[t]; w2 = softmax(max_u att[t, u]) */
    double wdot = 0;
    for (int t = 0; t < La; t++) {
        double s = 0;
        for (int c = 0; c < C; c++) {
            dact[(size_t)t * C + c] += w2[t] * dout2[c];
            s += (double)act[(size_t)t * C + c] * dout2[c];
        }
        dw2[t] = (ws_real)s;
        wdot += s * w2[t];
    }
    /* out1 = p1 mem: dp1 = dout1 mem^T, dmem += p1^T dout1 */
    GEMM(be, CblasNoTrans, CblasTrans, La, Ls, C, 1, dout1, C, mem, C, 0, datt, Ls);
    GEMM(be, CblasTrans, CblasNoTrans, Ls, C, La, 1, p1, Ls, dout1, C, 1, dmem, C);
    for (int t = 0; t < La; t++) {
        ws_real *d = datt + (size_t)t * Ls;
        const ws_real *p = p1 + (size_t)t * Ls;
        double dot = 0;
        for (int u = 0; u < Ls; u++)
            dot += (double)d[u] * p[u];
        for (int u = 0; u < Ls; u++)
            d[u] = (ws_real)(p[u] * (d[u] - dot));
        d[sv->argmax[t]] += (ws_real)(w2[t] * (dw2[t] - wdot)); /* through the max into softmax_t */
    }
    /* att = act.w_in + mem.w_mem + (act * scale) mem^T */
    for (int t = 0; t < La; t++) {
        double s = 0;
        for (int u = 0; u < Ls; u++)
            s += datt[(size_t)t * Ls + u];
        for (int c = 0; c < C; c++) {
            dact[(size_t)t * C + c] += (ws_real)(s * w_in[c]);
            dw_in[c] += (ws_real)(s * act[(size_t)t * C + c]);
        }
    }
    for (int u = 0; u < Ls; u++) {
        double s = 0;
        for (int t = 0; t < La; t++)
            s += datt[(size_t)t * Ls + u];
        for (int c = 0; c < C; c++) {
            dmem[(size_t)u * C + c] += (ws_real)(s * w_mem[c]);
            dw_mem[c] += (ws_real)(s * mem[(size_t)u * C + c]);
        }
    }
    for (int t = 0; t < La; t++)
        for (int c = 0; c < C; c++)
            scaled[(size_t)t * C + c] = act[(size_t)t * C + c] * scale[c];
    GEMM(be, CblasTrans, CblasNoTrans, Ls, C, La, 1, datt, Ls, scaled, C, 1, dmem, C);
    GEMM(be, CblasNoTrans, CblasNoTrans, La, C, Ls, 1, datt, Ls, mem, C, 0, dout1, C);
    for (int t = 0; t < La; t++)
        for (int c = 0; c < C; c++) {
            dact[(size_t)t * C + c] += dout1[(size_t)t * C + c] * scale[c];
            dscale[c] += dout1[(size_t)t * C + c] * act[(size_t)t * C + c];
        }
}

WS_VECTOR_CLONES static void cpu_relu_forward(const ws_backend *be, ws_real *out, const ws_real *inp, size_t n, ws_real slope)
{
    (void)be;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        out[i] = inp[i] > 0 ? inp[i] : slope * inp[i];
}

WS_VECTOR_CLONES static void cpu_relu_backward(const ws_backend *be, ws_real *dinp, const ws_real *inp, const ws_real *dout, size_t n, ws_real slope)
{
    (void)be;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++)
        dinp[i] = inp[i] > 0 ? dout[i] : slope * dout[i];
}

/* ------------------------------------------------------------------ the batched head */

static biattn_saved one_saved(const ws_biattn_buffers *sv, const ws_pack *p, int a, int C)
{
    int state = p->h.action_decision[a], tok = p->h.act_tok[a];
    return (biattn_saved){.p1 = sv->p1 + p->h.p1_start[a],
                          .w2 = sv->w2 + tok,
                          .argmax = sv->argmax + tok,
                          .out1 = sv->out1 + (size_t)tok * C,
                          .out2 = sv->out2 + (size_t)a * C,
                          .mem_dot = sv->mem_dot + p->h.seq_start[state]};
}

/* Actions side by side: each writes only its own rows of the saved activations and of feat. */
WS_VECTOR_CLONES static void cpu_biattn_forward(const ws_backend *be, ws_real *feat, const ws_biattn_buffers *sv, const ws_real *enc,
                               const ws_pack *p, const ws_real *w_in, const ws_real *w_mem, const ws_real *scale,
                               int C)
{
    biattn_mem_dots(sv->mem_dot, enc, p, w_mem, C);
#pragma omp parallel for schedule(dynamic, 1)
    for (int a = 0; a < p->A; a++) {
        int state = p->h.action_decision[a], s = p->B + a;
        biattn_saved one = one_saved(sv, p, a, C);
        biattn_one_forward(be, feat + (size_t)p->h.act_tok[a] * 4 * C, &one, enc + (size_t)p->h.seq_start[s] * C,
                           p->h.seq_len[s], enc + (size_t)p->h.seq_start[state] * C, p->h.seq_len[state], w_in,
                           scale, C);
    }
}

/* Decisions side by side, each one's actions in order on one thread: a state's gradient rows take
 * only its own actions' sums. The three parameters' gradients are summed per decision in its part
 * of the scratch and added to the model's in decision order afterwards, so the bits do not depend
 * on the threads. (One action after another, each 8-row product inside opening a parallel region
 * in which one thread worked, the bi-attention took 4-5% of a MiniLM step.) */
WS_VECTOR_CLONES static void cpu_biattn_backward(const ws_backend *be, ws_real *d_enc, ws_real *dw_in, ws_real *dw_mem,
                                ws_real *dscale, const ws_real *dfeat, const ws_biattn_buffers *sv,
                                const ws_real *enc, const ws_pack *p, const ws_real *w_in, const ws_real *w_mem,
                                const ws_real *scale, int C, ws_real *scratch)
{
    size_t per_decision = WS_BIATTN_DECISION_SCRATCH * (size_t)C;
    ws_real *action_scratch = scratch + (size_t)p->B * per_decision;
#pragma omp parallel for schedule(dynamic, 1)
    for (int i = 0; i < p->B; i++) {
        ws_real *g = scratch + (size_t)i * per_decision; /* dw_in, dw_mem, dscale of this decision */
        memset(g, 0, per_decision * sizeof *g);
        int first = p->h.first_action[i], Ls = p->h.seq_len[i];
        size_t offset = 0; /* the earlier actions' parts */
        for (int a = 0; a < first; a++)
            offset += ws_biattn_action_scratch((size_t)p->h.seq_len[p->B + a],
                                               (size_t)p->h.seq_len[p->h.action_decision[a]], C);
        for (int a = first; a < first + p->h.n_actions[i]; a++) {
            int s = p->B + a;
            size_t act_row = (size_t)p->h.seq_start[s] * C, mem_row = (size_t)p->h.seq_start[i] * C;
            biattn_saved one = one_saved(sv, p, a, C);
            biattn_one_backward(be, d_enc + act_row, d_enc + mem_row, g, g + C, g + 2 * C,
                                dfeat + (size_t)p->h.act_tok[a] * 4 * C, &one, enc + act_row, p->h.seq_len[s],
                                enc + mem_row, Ls, w_in, w_mem, scale, C, action_scratch + offset);
            offset += ws_biattn_action_scratch((size_t)p->h.seq_len[s], (size_t)Ls, C);
        }
    }
    for (int i = 0; i < p->B; i++) {
        const ws_real *g = scratch + (size_t)i * per_decision;
        for (int c = 0; c < C; c++) {
            dw_in[c] += g[c];
            dw_mem[c] += g[C + c];
            dscale[c] += g[2 * C + c];
        }
    }
}

static void cpu_pool_forward(const ws_backend *be, ws_real *pooled, const ws_real *h, const ws_pack *p, int C)
{
    (void)be;
#pragma omp parallel for schedule(static)
    for (int a = 0; a < p->A; a++) {
        int La = p->h.seq_len[p->B + a];
        const ws_real *rows = h + (size_t)p->h.act_tok[a] * C;
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int k = 0; k < La; k++)
                s += rows[(size_t)k * C + c];
            pooled[(size_t)a * C + c] = (ws_real)(s / La);
        }
    }
}

static void cpu_pool_backward(const ws_backend *be, ws_real *dh, const ws_real *dpooled, const ws_pack *p, int C)
{
    (void)be;
#pragma omp parallel for schedule(static)
    for (int a = 0; a < p->A; a++) {
        int La = p->h.seq_len[p->B + a];
        ws_real *rows = dh + (size_t)p->h.act_tok[a] * C;
        for (int k = 0; k < La; k++)
            for (int c = 0; c < C; c++)
                rows[(size_t)k * C + c] += dpooled[(size_t)a * C + c] / (ws_real)La;
    }
}

static void cpu_logsoftmax_forward(const ws_backend *be, ws_real *logp, const ws_real *logits, const ws_pack *p)
{
    (void)be;
    for (int i = 0; i < p->B; i++) {
        int first = p->h.first_action[i], n = p->h.n_actions[i];
        const ws_real *lg = logits + first;
        ws_real mx = lg[0];
        for (int j = 1; j < n; j++)
            mx = lg[j] > mx ? lg[j] : mx;
        double s = 0;
        for (int j = 0; j < n; j++)
            s += exp((double)lg[j] - mx);
        double lse = mx + log(s);
        for (int j = 0; j < n; j++)
            logp[first + j] = (ws_real)(lg[j] - lse);
    }
}

static void cpu_cls_forward(const ws_backend *be, ws_real *cls, const ws_real *enc, const ws_pack *p, int C)
{
    (void)be;
    for (int i = 0; i < p->B; i++)
        memcpy(cls + (size_t)i * C, enc + (size_t)p->h.seq_start[i] * C, (size_t)C * sizeof *cls);
}

static void cpu_cls_backward(const ws_backend *be, ws_real *d_enc, const ws_real *d_cls, const ws_pack *p, int C)
{
    (void)be;
    for (int i = 0; i < p->B; i++)
        for (int c = 0; c < C; c++)
            d_enc[(size_t)p->h.seq_start[i] * C + c] += d_cls[(size_t)i * C + c];
}

/* ------------------------------------------------------------------ memory and optimiser */

static void *cpu_alloc(const ws_backend *be, size_t bytes)
{
    (void)be;
    return ws_calloc_big(1, bytes ? bytes : 1);
}

static void cpu_free(const ws_backend *be, void *p)
{
    (void)be;
    ws_free_big(p);
}

/* upload, download and copy are all one memcpy on the host */
static void cpu_copy(const ws_backend *be, void *dst, const void *src, size_t bytes)
{
    (void)be;
    if (bytes)
        memcpy(dst, src, bytes);
}

/* Large buffers (the gradients, a layer's gradient buffers: some 340 MB a MiniLM step) in
 * chunks over the threads: one thread's memset left the other core idle. */
enum { ZERO_CHUNK = 1 << 20 };
static void cpu_zero(const ws_backend *be, void *dst, size_t bytes)
{
    (void)be;
    size_t chunks = (bytes + ZERO_CHUNK - 1) / ZERO_CHUNK;
#pragma omp parallel for schedule(static) if (chunks > 1)
    for (size_t c = 0; c < chunks; c++)
        memset((char *)dst + c * ZERO_CHUNK, 0, c + 1 < chunks ? ZERO_CHUNK : bytes - c * ZERO_CHUNK);
}

static int cpu_status(const ws_backend *be, ws_err *err)
{
    const cpu_ctx *ctx = be->ctx;
    if (atomic_load(&ctx->product_failed))
        return ws_fail(err, "out of memory for a matrix product's packing buffers");
    if (atomic_load(&ctx->scratch_failed))
        return ws_fail(err, "out of memory for an attention block's buffer");
    return 0;
}

static double cpu_sum_squares(const ws_backend *be, const float *x, size_t n)
{
    (void)be;
    return ws_sum_squares(x, n);
}

static void cpu_adamw(const ws_backend *be, const ws_adamw_opts *o, double lr, int64_t t, float *param,
                      const float *grad, float grad_scale, float *m, float *v, size_t n, int decay)
{
    (void)be;
    ws_adamw_update(o, lr, t, param, grad, grad_scale, m, v, n, decay);
}

/* The kernels of both tables: all but the name and the context. */
#define CPU_KERNELS \
    .alloc = cpu_alloc, \
    .free = cpu_free, \
    .upload = cpu_copy, \
    .download = cpu_copy, \
    .copy = cpu_copy, \
    .zero = cpu_zero, \
    .status = cpu_status, \
    .matmul_forward = cpu_matmul_forward, \
    .matmul_backward = cpu_matmul_backward, \
    .embedding_forward = cpu_embedding_forward, \
    .embedding_backward = cpu_embedding_backward, \
    .layernorm_forward = cpu_layernorm_forward, \
    .layernorm_backward = cpu_layernorm_backward, \
    .matmul_gelu_forward = cpu_matmul_gelu_forward, \
    .matmul_gelu_backward = cpu_matmul_gelu_backward, \
    .relu_forward = cpu_relu_forward, \
    .relu_backward = cpu_relu_backward, \
    .attention_forward = cpu_attention_forward, \
    .attention_backward = cpu_attention_backward, \
    .biattn_forward = cpu_biattn_forward, \
    .biattn_backward = cpu_biattn_backward, \
    .pool_forward = cpu_pool_forward, \
    .pool_backward = cpu_pool_backward, \
    .logsoftmax_forward = cpu_logsoftmax_forward, \
    .cls_forward = cpu_cls_forward, \
    .cls_backward = cpu_cls_backward, \
    .sum_squares = cpu_sum_squares, \
    .adamw = cpu_adamw,

static const ws_backend CPU_BACKEND = {.name = "cpu", .ctx = &FP32_CTX, CPU_KERNELS};
static const ws_backend CPU_BF16_BACKEND = {.name = "cpu", .ctx = &BF16_CTX, CPU_KERNELS};

const ws_backend *ws_backend_cpu(void)
{
    return &CPU_BACKEND;
}

const ws_backend *ws_backend_cpu_bf16(void)
{
    return ws_gemm_bf16_supported() ? &CPU_BF16_BACKEND : NULL;
}

/* The backend whose kernels run: be, or what a wrapper (a timed backend) wraps. */
static const ws_backend *innermost(const ws_backend *be)
{
    while (be->wraps)
        be = be->wraps;
    return be;
}

int ws_backend_on_host(const ws_backend *be)
{
    be = innermost(be);
    return be == &CPU_BACKEND || be == &CPU_BF16_BACKEND;
}

const char *ws_backend_cpu_products(const ws_backend *be)
{
    be = innermost(be);
    if (be == &CPU_BACKEND)
        return ws_gemm_f32_preferred() ? "fp32 (gemm_f32; sgemm in the linear layers' backward)" : "fp32 (sgemm)";
    if (be == &CPU_BF16_BACKEND)
        return ws_gemm_bf16_kernel() == WS_BF16_AMX ? "bf16 (AMX)" : "bf16 (AVX512_BF16)";
    return NULL;
}

int ws_backend_rows_independent(const ws_backend *be)
{
    be = innermost(be);
    return be == &CPU_BF16_BACKEND || (be == &CPU_BACKEND && ws_gemm_f32_preferred());
}
