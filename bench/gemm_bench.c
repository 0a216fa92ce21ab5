/* sgemm on the model's own products, one thread, next to the core's peak measured in the same run
 * (fused multiply-adds on 256- and 512-bit vectors, AVX512_BF16's bf16 dot products and AMX's bf16
 * tile products where the CPU has them: the rates a bf16 product could reach); and, on such CPUs,
 * lib/model/gemm_bf16's product (bf16 inputs, fp32 sums) on the same shapes, against the peak of
 * the kernel it uses (AMX where there is one); and lib/model/gemm_f32's (the fp32 products on CPUs
 * without AVX-512) against the 256-bit FMA peak, wherever the CPU has AVX2 and FMA.
 * OpenBLAS picks its kernels once, while it is loaded: OPENBLAS_CORETYPE when set, else its own
 * table of CPUs. One run measures one set of kernels; compare them by running it under each:
 *   OPENBLAS_CORETYPE=Haswell build/bench/gemm_bench; env -u OPENBLAS_CORETYPE build/bench/gemm_bench
 * (make bench-gemm does both: AVX2 kernels, then OpenBLAS's choice for this CPU).
 * Usage: build/bench/gemm_bench [T [L]]
 *   T: rows of a batch (default 1920: 4 states of 384 tokens and 48 actions of 8, model_bench's batch)
 *   L: tokens of one sequence in attention (default 384; up to 512)
 * Times are the thread's CPU time, so other processes on a busy machine do not count against a
 * kernel (they still share its caches and memory bandwidth). Operands are contiguous; attention's
 * real ones are a head's 32 columns of a [T, 384] matrix. */
#include <cblas.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "gemm_bf16.h"
#include "gemm_f32.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { HIDDEN = 384, FFN = 1536, HEAD = 32 };

static double thread_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

#if defined(__x86_64__)
/* The core clock: a chain of dependent register-to-register adds retires one add per cycle on
 * every x86 core since the Pentium Pro, so adds per second is cycles per second (this VM exposes
 * no cycle counter to perf). Adds of an immediate would not do: Intel's cores from Golden Cove
 * fold chains of them at renaming, several a cycle (they measured 23.7 "GHz"). */
static double clock_ghz(void)
{
    long iters = 2000000, x = 0, one = 1;
    double t0 = thread_seconds();
    for (long i = 0; i < iters; i++)
        __asm__ volatile(".rept 100\n\tadd %1, %0\n\t.endr" : "+r"(x) : "r"(one));
    return 100.0 * (double)iters / (thread_seconds() - t0) / 1e9;
}

/* Independent accumulators, enough to cover the FMA latency (4 cycles) on two FMA pipes: 16 of
 * AVX-512's 32 vector registers; 12 of AVX2's 16, which must also hold the two factors (16 there
 * spill to memory and measured 19.7 flops/cycle where the Haswell sgemm kernel reaches 30). */
#define ACCUMULATORS 16
#define ACCUMULATORS_AVX2 12

/* Peak fp32 rate of fused multiply-adds on 512-bit vectors: 16 lanes x 2 flops per instruction. */
__attribute__((target("avx512f"))) static double fma512_gflops(void)
{
    __m512 acc[ACCUMULATORS], a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-4f);
    for (int i = 0; i < ACCUMULATORS; i++)
        acc[i] = _mm512_set1_ps((float)i);
    long iters = 20000000;
    double t0 = thread_seconds();
    for (long n = 0; n < iters; n++) {
#pragma GCC unroll 16
        for (int i = 0; i < ACCUMULATORS; i++)
            acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    }
    double dt = thread_seconds() - t0;
    for (int i = 1; i < ACCUMULATORS; i++)
        acc[0] = _mm512_add_ps(acc[0], acc[i]);
    volatile float keep = _mm512_reduce_add_ps(acc[0]); /* the loop's result is used */
    (void)keep;
    return (double)iters * ACCUMULATORS * 16 * 2 / dt / 1e9;
}

/* The same on 256-bit vectors (AVX2's FMA: Haswell kernels), 8 lanes. */
__attribute__((target("avx2,fma"))) static double fma256_gflops(void)
{
    __m256 acc[ACCUMULATORS_AVX2], a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(1e-4f);
    for (int i = 0; i < ACCUMULATORS_AVX2; i++)
        acc[i] = _mm256_set1_ps((float)i);
    long iters = 20000000;
    double t0 = thread_seconds();
    for (long n = 0; n < iters; n++) {
#pragma GCC unroll 12
        for (int i = 0; i < ACCUMULATORS_AVX2; i++)
            acc[i] = _mm256_fmadd_ps(acc[i], a, b);
    }
    double dt = thread_seconds() - t0;
    for (int i = 1; i < ACCUMULATORS_AVX2; i++)
        acc[0] = _mm256_add_ps(acc[0], acc[i]);
    float lanes[8];
    _mm256_storeu_ps(lanes, acc[0]);
    volatile float keep = lanes[0]; /* the loop's result is used */
    (void)keep;
    return (double)iters * ACCUMULATORS_AVX2 * 8 * 2 / dt / 1e9;
}

/* Peak rate of AVX512_BF16's dot products (vdpbf16ps): per 32-bit lane, two bf16 products added
 * into an fp32 sum, so 16 lanes x 4 flops per instruction. */
__attribute__((target("avx512f,avx512bf16"))) static double dpbf16_gflops(void)
{
    __m512 acc[ACCUMULATORS];
    __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(0.5f), _mm512_set1_ps(0.25f)),
             b = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-4f), _mm512_set1_ps(2e-4f));
    for (int i = 0; i < ACCUMULATORS; i++)
        acc[i] = _mm512_set1_ps((float)i);
    long iters = 20000000;
    double t0 = thread_seconds();
    for (long n = 0; n < iters; n++) {
#pragma GCC unroll 16
        for (int i = 0; i < ACCUMULATORS; i++)
            acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
    }
    double dt = thread_seconds() - t0;
    for (int i = 1; i < ACCUMULATORS; i++)
        acc[0] = _mm512_add_ps(acc[0], acc[i]);
    volatile float keep = _mm512_reduce_add_ps(acc[0]); /* the loop's result is used */
    (void)keep;
    return (double)iters * ACCUMULATORS * 16 * 4 / dt / 1e9;
}

/* Peak rate of AMX's tile products (TDPBF16PS: a 16 x 32 by 32 x 16 bf16 product into 16 x 16 fp32
 * sums, 16,384 flops), four independent sums (tiles 0-3) fed by two tiles loaded once. Only
 * called once gemm_bf16 has its AMX kernel (which asked Linux for the tile state). */
__attribute__((target("amx-tile,amx-bf16"))) static double amx_gflops(void)
{
    struct {
        uint8_t palette, start_row, reserved[14];
        uint16_t bytes_per_row[16];
        uint8_t rows[16];
    } cfg = {.palette = 1};
    for (int t = 0; t < 6; t++)
        cfg.bytes_per_row[t] = 64, cfg.rows[t] = 16;
    static uint16_t ones[16 * 32] __attribute__((aligned(64)));
    for (int i = 0; i < 16 * 32; i++)
        ones[i] = 0x3f80; /* 1.0 */
    _tile_loadconfig(&cfg);
    _tile_loadd(4, ones, 64);
    _tile_loadd(5, ones, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    long iters = 2000000;
    double t0 = thread_seconds();
    for (long n = 0; n < iters; n++) {
        _tile_dpbf16ps(0, 4, 5);
        _tile_dpbf16ps(1, 4, 5);
        _tile_dpbf16ps(2, 4, 5);
        _tile_dpbf16ps(3, 4, 5);
    }
    double dt = thread_seconds() - t0;
    _tile_release();
    return (double)iters * 4 * 16384 / dt / 1e9;
}
#endif

typedef struct product {
    const char *what;
    enum CBLAS_TRANSPOSE ta, tb;
    int M, N, K;
} product;

/* The products compared: OpenBLAS's sgemm, lib/model/gemm_f32 and lib/model/gemm_bf16. */
typedef enum implementation { SGEMM, GEMM_F32, GEMM_BF16 } implementation;

/* C[M, N] = op(A) op(B), row-major and contiguous: 0, or -1 when our product fails. */
static int run_product(const product *p, implementation impl, const float *a, const float *b, float *c)
{
    int lda = p->ta == CblasNoTrans ? p->K : p->M, ldb = p->tb == CblasNoTrans ? p->N : p->K;
    if (impl == GEMM_BF16)
        return ws_gemm_bf16(p->ta, p->tb, p->M, p->N, p->K, 1, a, lda, b, ldb, 0, c, p->N);
    if (impl == GEMM_F32)
        return ws_gemm_f32(p->ta, p->tb, p->M, p->N, p->K, 1, a, lda, b, ldb, 0, c, p->N);
    cblas_sgemm(CblasRowMajor, p->ta, p->tb, p->M, p->N, p->K, 1, a, lda, b, ldb, 0, c, p->N);
    return 0;
}

/* The product by one implementation, repeated for 0.3 s of CPU time (0 on failure). */
static double gemm_gflops(const product *p, implementation impl)
{
    size_t sa = (size_t)p->M * p->K, sb = (size_t)p->K * p->N, sc = (size_t)p->M * p->N;
    float *a = malloc(sa * sizeof *a), *b = malloc(sb * sizeof *b), *c = calloc(sc, sizeof *c);
    int failed = !a || !b || !c;
    long reps = 0;
    double t0 = 0, dt = 1;
    if (!failed) {
        for (size_t i = 0; i < sa; i++)
            a[i] = (float)(i % 7) * 0.1f;
        for (size_t i = 0; i < sb; i++)
            b[i] = (float)(i % 5) * 0.1f;
        failed = run_product(p, impl, a, b, c); /* warm-up */
        t0 = thread_seconds();
        while (!failed && (dt = thread_seconds() - t0) < 0.3) {
            failed = run_product(p, impl, a, b, c);
            reps++;
        }
    }
    free(a), free(b), free(c);
    return failed ? 0 : 2.0 * p->M * p->N * p->K * (double)reps / dt / 1e9;
}

static const char *op_name(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb)
{
    return ta == CblasNoTrans ? (tb == CblasNoTrans ? "NN" : "NT") : (tb == CblasNoTrans ? "TN" : "TT");
}

int main(int argc, char **argv)
{
    int T = argc > 1 ? atoi(argv[1]) : 1920, L = argc > 2 ? atoi(argv[2]) : 384;
    if (T < 1 || L < 1 || L > 512) {
        fprintf(stderr, "usage: gemm_bench [T [L]]  (T >= 1, 1 <= L <= 512)\n");
        return 2;
    }
    ws_backend_set_threads(1);
    const char *core = openblas_get_corename();
    int Ta = 48 * 8;
    const product products[] = {
        {"Q, K, V, attention output: inp . W^T", CblasNoTrans, CblasTrans, T, HIDDEN, HIDDEN},
        {"FFN in: inp . W^T", CblasNoTrans, CblasTrans, T, FFN, HIDDEN},
        {"FFN out: inp . W^T", CblasNoTrans, CblasTrans, T, HIDDEN, FFN},
        {"backward dinp, C x C: dout . W", CblasNoTrans, CblasNoTrans, T, HIDDEN, HIDDEN},
        {"backward dinp, FFN in: dout . W", CblasNoTrans, CblasNoTrans, T, HIDDEN, FFN},
        {"backward dinp, FFN out: dout . W", CblasNoTrans, CblasNoTrans, T, FFN, HIDDEN},
        {"backward dW, C x C: dout^T . inp", CblasTrans, CblasNoTrans, HIDDEN, HIDDEN, T},
        {"backward dW, FFN in: dout^T . inp", CblasTrans, CblasNoTrans, FFN, HIDDEN, T},
        {"backward dW, FFN out: dout^T . inp", CblasTrans, CblasNoTrans, HIDDEN, FFN, T},
        {"attention scores: Q K^T (one head)", CblasNoTrans, CblasTrans, L, L, HEAD},
        {"attention context: P V", CblasNoTrans, CblasNoTrans, L, HEAD, L},
        {"attention backward dV: P^T dOut", CblasTrans, CblasNoTrans, L, HEAD, L},
        {"attention backward dP: dOut V^T", CblasNoTrans, CblasTrans, L, L, HEAD},
        {"attention backward dQ: dS K", CblasNoTrans, CblasNoTrans, L, HEAD, L},
        {"attention backward dK: dS^T Q", CblasTrans, CblasNoTrans, L, HEAD, L},
        {"head: feat . W1^T (48 actions x 8)", CblasNoTrans, CblasTrans, Ta, HIDDEN, 4 * HIDDEN},
    };

    /* f256: AVX2's peak, gemm_f32's; bf16_peak stays 0 where the bf16 product cannot run */
    double peak = 0, f256 = 0, bf16_peak = 0;
    const char *forced = getenv("OPENBLAS_CORETYPE");
    printf("%s; kernels: %s (OPENBLAS_CORETYPE%s%s); one thread\n", openblas_get_config(), core, forced ? "=" : " ",
           forced ? forced : "unset");
#if defined(__x86_64__)
    double ghz = clock_ghz();
    f256 = fma256_gflops();
    printf("clock %.2f GHz (dependent adds); FMA peak, one core: 256-bit %.1f GFLOP/s (%.1f flops/cycle)", ghz, f256,
           f256 / ghz);
    peak = f256;
    if (__builtin_cpu_supports("avx512f")) {
        double f512 = fma512_gflops();
        printf(", 512-bit %.1f GFLOP/s (%.1f flops/cycle)", f512, f512 / ghz);
        peak = f512 > peak ? f512 : peak;
    }
    if (__builtin_cpu_supports("avx512bf16")) {
        double bf16 = dpbf16_gflops();
        printf(", bf16 dot products %.1f GFLOP/s (%.1f flops/cycle)", bf16, bf16 / ghz);
        if (ws_gemm_bf16_kernel() == WS_BF16_AVX512)
            bf16_peak = bf16;
    }
    if (ws_gemm_bf16_kernel() == WS_BF16_AMX) {
        bf16_peak = amx_gflops();
        printf(", AMX bf16 tiles %.1f GFLOP/s (%.0f flops/cycle)", bf16_peak, bf16_peak / ghz);
    }
    printf("\n");
    if (bf16_peak > 0)
        printf("gemm_bf16's kernel: %s (its peak above is the bf16 column's)\n",
               ws_gemm_bf16_kernel_name(ws_gemm_bf16_kernel()));
    int avx512_kernels = strcmp(core, "SkylakeX") == 0 || strcmp(core, "Cooperlake") == 0;
    if (avx512_kernels && !__builtin_cpu_supports("avx512f")) {
        printf("%s kernels need AVX-512, which this CPU lacks: not run\n", core);
        return 0;
    }
    if (!avx512_kernels && __builtin_cpu_supports("avx512f") && forced)
        printf("note: OPENBLAS_CORETYPE keeps OpenBLAS off its AVX-512 kernels on this AVX-512 CPU\n");
#endif
    printf("%-44s %-2s %5s %5s %5s %9s %7s", "product (T = batch rows, L = tokens)", "op", "M", "N", "K", "sgemm",
           peak > 0 ? "of peak" : "");
    int own_f32 = ws_gemm_f32_supported() && f256 > 0;
    if (own_f32)
        printf(" %9s %7s", "gemm_f32", "of peak");
    if (bf16_peak > 0)
        printf(" %9s %7s", "bf16", "of peak");
    printf("  (GFLOP/s)\n");
    double flops = 0, seconds = 0, f32_seconds = 0, bf16_seconds = 0;
    for (size_t i = 0; i < sizeof products / sizeof *products; i++) {
        const product *p = &products[i];
        double g = gemm_gflops(p, SGEMM), f = 2.0 * p->M * p->N * p->K;
        printf("%-44s %-2s %5d %5d %5d %9.1f", p->what, op_name(p->ta, p->tb), p->M, p->N, p->K, g);
        if (peak > 0)
            printf(" %6.0f%%", 100 * g / peak);
        if (own_f32) {
            double gf = gemm_gflops(p, GEMM_F32);
            printf(" %9.1f %6.0f%%", gf, 100 * gf / f256);
            f32_seconds += f / (gf * 1e9);
        }
        if (bf16_peak > 0) {
            double gb = gemm_gflops(p, GEMM_BF16);
            printf(" %9.1f %6.0f%%", gb, 100 * gb / bf16_peak);
            bf16_seconds += f / (gb * 1e9);
        }
        printf("\n");
        flops += f;
        seconds += f / (g * 1e9);
    }
    printf("all of them once each: sgemm %.1f GFLOP/s", flops / seconds / 1e9);
    if (peak > 0)
        printf(" = %.0f%% of the %.1f GFLOP/s peak", 100 * flops / seconds / 1e9 / peak, peak);
    if (own_f32)
        printf("; gemm_f32 %.1f GFLOP/s = %.0f%% of the %.1f GFLOP/s 256-bit peak", flops / f32_seconds / 1e9,
               100 * flops / f32_seconds / 1e9 / f256, f256);
    if (bf16_peak > 0)
        printf("; bf16 %.1f GFLOP/s = %.0f%% of the %.1f GFLOP/s bf16 peak", flops / bf16_seconds / 1e9,
               100 * flops / bf16_seconds / 1e9 / bf16_peak, bf16_peak);
    printf("\n");
    return 0;
}
