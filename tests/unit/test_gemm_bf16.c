/* lib/model/gemm_bf16 against two references, for every transpose combination, sizes 1, 7, 33 and
 * 389 (= 384 + 5: a partial tile and a second block of k) in each of M, N, K, leading dimensions
 * wider than the rows, beta 0 (C holds NaNs, which must not be read) and beta 1 (with alpha 0.75):
 *  - a double-precision product of the bf16-rounded inputs: only fp32 accumulation separates them,
 *    |C - ref| <= (K + K/128 + 4) u32 S with u32 = 2^-24 and S = |alpha| sum_k |a b| + |beta c|
 *    (one rounding per product pair and sum, two per block of k, the scaling and beta);
 *  - sgemm on the fp32 inputs: each input rounds to bf16 within a relative 2^-8, so each product
 *    within 2^-7 + 2^-16, and both sums add their accumulation error:
 *    |C - sgemm| <= (2^-7 + 2^-15 + (2K + 8) u32) S, a bound that grows with K through S;
 *  - the same bits when run twice, and with 1, 2 and 3 threads (rows shared out unevenly).
 * Each for every kernel this CPU has (AVX512_BF16's dot products; AMX's tiles); skipped, with the
 * reason, on a CPU without AVX512_BF16. */
#include "gemm_bf16.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backend.h"
#include "gemm_case.h"
#include "rng.h"

static const int SIZES[] = {1, 7, 33, 389};
#define N_SIZES (int)(sizeof SIZES / sizeof *SIZES)
#define U32 (1.0 / 16777216.0) /* 2^-24: fp32's unit roundoff */

static int skip_without_bf16(void)
{
    if (ws_gemm_bf16_supported())
        return 0;
    print_message("# SKIP reason: this CPU lacks AVX512_BF16 (cpuid)\n");
    return 1;
}

/* x rounded to bf16 (round to nearest, ties to even), as a float; inputs here are finite */
static float bf16_round(float x)
{
    uint32_t bits;
    memcpy(&bits, &x, sizeof bits);
    bits += 0x7FFF + ((bits >> 16) & 1);
    bits &= 0xFFFF0000u;
    memcpy(&x, &bits, sizeof x);
    return x;
}

static float op_a(const gemm_case *g, int i, int k, int rounded)
{
    float x = g->ta == CblasNoTrans ? g->a[(size_t)i * g->lda + k] : g->a[(size_t)k * g->lda + i];
    return rounded ? bf16_round(x) : x;
}

static float op_b(const gemm_case *g, int k, int j, int rounded)
{
    float x = g->tb == CblasNoTrans ? g->b[(size_t)k * g->ldb + j] : g->b[(size_t)j * g->ldb + k];
    return rounded ? bf16_round(x) : x;
}

/* C of the bf16 product (caller frees) */
static float *run_bf16(const gemm_case *g)
{
    size_t n = (size_t)g->M * g->ldc;
    float *c = malloc(n * sizeof *c);
    assert_non_null(c);
    memcpy(c, g->c0, n * sizeof *c);
    assert_int_equal(ws_gemm_bf16(g->ta, g->tb, g->M, g->N, g->K, g->alpha, g->a, g->lda, g->b, g->ldb, g->beta, c,
                                  g->ldc),
                     0);
    return c;
}

/* The worst |got - ref| / S over C, where ref is the product in double of the inputs (bf16-rounded
 * or not) and S = |alpha| sum |a b| + |beta c|; also checks the spare columns are untouched. */
static double worst_scaled_error(const gemm_case *g, const float *got, int rounded)
{
    double worst = 0;
    for (int i = 0; i < g->M; i++) {
        for (int j = 0; j < g->N; j++) {
            double sum = 0, size = 0;
            for (int k = 0; k < g->K; k++) {
                double p = (double)op_a(g, i, k, rounded) * op_b(g, k, j, rounded);
                sum += p;
                size += fabs(p);
            }
            double c0 = g->beta == 0 ? 0 : g->c0[(size_t)i * g->ldc + j];
            double ref = g->alpha * sum + g->beta * c0, scale = fabs(g->alpha) * size + fabs(g->beta * c0);
            double e = fabs(got[(size_t)i * g->ldc + j] - ref) / (scale > 0 ? scale : 1);
            worst = e > worst ? e : worst;
        }
        for (int j = g->N; j < g->ldc; j++)
            assert_memory_equal(&got[(size_t)i * g->ldc + j], &g->c0[(size_t)i * g->ldc + j], sizeof(float));
    }
    return worst;
}

/* The kernels each test runs (those this CPU has; the others are said and passed over). */
static const ws_bf16_kernel KERNELS[] = {WS_BF16_AVX512, WS_BF16_AMX};
#define N_KERNELS (int)(sizeof KERNELS / sizeof *KERNELS)

static int use_kernel(ws_bf16_kernel k)
{
    if (ws_gemm_bf16_use(k) == 0)
        return 1;
    print_message("# kernel %s: not on this CPU, not tested\n", ws_gemm_bf16_kernel_name(k));
    return 0;
}

/* Every kernel, transpose combination, size and beta: calls check(case, C of the bf16 product). */
static void for_every_case(void (*check)(const gemm_case *g, const float *c, double *worst_seen),
                           double *worst_seen)
{
    const enum CBLAS_TRANSPOSE ops[] = {CblasNoTrans, CblasTrans};
    ws_rng rng;
    ws_rng_seed(&rng, 16, "gemm_bf16");
    for (int kernel = 0; kernel < N_KERNELS; kernel++) {
        if (!use_kernel(KERNELS[kernel]))
            continue;
        for (int t = 0; t < 4; t++)
            for (int mi = 0; mi < N_SIZES; mi++)
                for (int ni = 0; ni < N_SIZES; ni++)
                    for (int ki = 0; ki < N_SIZES; ki++)
                        for (int bi = 0; bi < 2; bi++) {
                            gemm_case g = make_case(&rng, ops[t / 2], ops[t % 2], SIZES[mi], SIZES[ni], SIZES[ki],
                                                    (float)bi);
                            float *c = run_bf16(&g);
                            check(&g, c, worst_seen);
                            free(c);
                            free_case(&g);
                        }
    }
    ws_gemm_bf16_use(WS_BF16_BEST);
}

static void check_against_rounded_double(const gemm_case *g, const float *c, double *worst_seen)
{
    double worst = worst_scaled_error(g, c, 1), bound = (g->K + g->K / 128 + 4) * U32;
    if (worst > bound)
        print_message("# %c%c M=%d N=%d K=%d beta=%g: %.3g > %.3g\n", g->ta == CblasNoTrans ? 'N' : 'T',
                      g->tb == CblasNoTrans ? 'N' : 'T', g->M, g->N, g->K, g->beta, worst, bound);
    assert_true(worst <= bound);
    if (worst / bound > *worst_seen)
        *worst_seen = worst / bound;
}

static void test_matches_double_of_rounded_inputs(void **state)
{
    (void)state;
    if (skip_without_bf16())
        skip();
    double worst = 0;
    for_every_case(check_against_rounded_double, &worst);
    print_message("# against double of the bf16 inputs: worst error %.2f of its bound\n", worst);
}

static void check_against_sgemm(const gemm_case *g, const float *c, double *worst_seen)
{
    size_t n = (size_t)g->M * g->ldc;
    float *ref = malloc(n * sizeof *ref);
    assert_non_null(ref);
    memcpy(ref, g->c0, n * sizeof *ref);
    cblas_sgemm(CblasRowMajor, g->ta, g->tb, g->M, g->N, g->K, g->alpha, g->a, g->lda, g->b, g->ldb, g->beta, ref,
                g->ldc);
    /* the distance to sgemm, scaled by S of the fp32 inputs: the exact product in double stands
     * in between (each side's error to it bounded separately, then added) */
    double to_exact_bf16 = worst_scaled_error(g, c, 0), to_exact_sgemm = worst_scaled_error(g, ref, 0);
    double bound = 1.0 / 128 + 1.0 / 32768 + (2.0 * g->K + 8) * U32;
    if (to_exact_bf16 + to_exact_sgemm > bound)
        print_message("# %c%c M=%d N=%d K=%d beta=%g: %.3g + %.3g > %.3g\n", g->ta == CblasNoTrans ? 'N' : 'T',
                      g->tb == CblasNoTrans ? 'N' : 'T', g->M, g->N, g->K, g->beta, to_exact_bf16, to_exact_sgemm,
                      bound);
    assert_true(to_exact_bf16 + to_exact_sgemm <= bound);
    if (to_exact_bf16 > *worst_seen)
        *worst_seen = to_exact_bf16;
    free(ref);
}

static void test_matches_sgemm_within_bf16_rounding(void **state)
{
    (void)state;
    if (skip_without_bf16())
        skip();
    double worst = 0;
    for_every_case(check_against_sgemm, &worst);
    print_message("# against the exact fp32 product: worst error %.3g S (bound %.3g S at K = 1)\n", worst,
                  1.0 / 128 + 1.0 / 32768 + 10 * U32);
}

static void test_same_bits(void **state)
{
    (void)state;
    if (skip_without_bf16())
        skip();
    ws_rng rng;
    ws_rng_seed(&rng, 16, "gemm_bf16 bits");
    const enum CBLAS_TRANSPOSE ops[] = {CblasNoTrans, CblasTrans};
    for (int kernel = 0; kernel < N_KERNELS; kernel++) {
        if (!use_kernel(KERNELS[kernel]))
            continue;
        for (int t = 0; t < 4; t++) {
            /* large enough for several blocks of columns (AMX packs about 1 MiB of B at a time) */
            gemm_case g = make_case(&rng, ops[t / 2], ops[t % 2], 389, 1037, 600, 1);
            size_t bytes = (size_t)g.M * g.ldc * sizeof(float);
            ws_backend_set_threads(2);
            float *first = run_bf16(&g), *second = run_bf16(&g);
            ws_backend_set_threads(3);
            float *three_threads = run_bf16(&g);
            ws_backend_set_threads(1);
            float *one_thread = run_bf16(&g);
            assert_memory_equal(first, second, bytes);
            assert_memory_equal(first, one_thread, bytes);
            assert_memory_equal(first, three_threads, bytes);
            double worst = 0;
            check_against_rounded_double(&g, first, &worst);
            free(first), free(second), free(one_thread), free(three_threads);
            free_case(&g);
        }
    }
    ws_gemm_bf16_use(WS_BF16_BEST);
}

/* ws_gemm_bf16_epilogue with a bias: the bits of C filled with the bias and multiplied with beta 1. */
static void test_bias_as_beta_one(void **state)
{
    (void)state;
    if (skip_without_bf16())
        skip();
    ws_rng rng;
    ws_rng_seed(&rng, 16, "gemm_bf16 bias");
    const enum CBLAS_TRANSPOSE ops[] = {CblasNoTrans, CblasTrans};
    for (int kernel = 0; kernel < N_KERNELS; kernel++) {
        if (!use_kernel(KERNELS[kernel]))
            continue;
        for (int t = 0; t < 4; t++)
            for (int si = 0; si < N_SIZES; si++) {
                int M = SIZES[si], N = SIZES[(si + 1) % N_SIZES], K = SIZES[(si + 2) % N_SIZES];
                gemm_case g = make_case(&rng, ops[t / 2], ops[t % 2], M, N, K, 1);
                g.alpha = 1;
                float *bias = random_matrix(&rng, (size_t)N);
                for (int i = 0; i < M; i++)
                    memcpy(g.c0 + (size_t)i * g.ldc, bias, (size_t)N * sizeof *bias);
                float *as_beta = run_bf16(&g), *with_bias = malloc((size_t)M * g.ldc * sizeof *with_bias);
                assert_non_null(with_bias);
                memcpy(with_bias, g.c0, (size_t)M * g.ldc * sizeof *with_bias); /* the spare columns */
                assert_int_equal(ws_gemm_bf16_epilogue(g.ta, g.tb, M, N, K, 1, g.a, g.lda, g.b, g.ldb, 0, bias,
                                                       with_bias, g.ldc, NULL),
                                 0);
                assert_memory_equal(as_beta, with_bias, (size_t)M * g.ldc * sizeof *with_bias);
                free(as_beta), free(with_bias), free(bias);
                free_case(&g);
            }
        /* no products to sum: every row is the bias */
        float bias[3] = {1.5f, -2, 0.25f}, c[2 * 3] = {7, 7, 7, 7, 7, 7};
        assert_int_equal(
            ws_gemm_bf16_epilogue(CblasNoTrans, CblasNoTrans, 2, 3, 0, 1, NULL, 1, NULL, 3, 0, bias, c, 3, NULL), 0);
        for (int i = 0; i < 2; i++)
            assert_memory_equal(c + 3 * i, bias, sizeof bias);
    }
    ws_gemm_bf16_use(WS_BF16_BEST);
}

/* The epilogue's view: every element of C once, final; what it writes from C (here D = C^2 + 1,
 * and C itself halved) is what the same pass over C afterwards writes, bit for bit. */
typedef struct epilogue_probe {
    float *d;
    int *visits;
    size_t ld;
} epilogue_probe;

static void probe_block(const void *arg, float *c, size_t ldc, int i0, int j0, int m, int n)
{
    const epilogue_probe *e = arg;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float *x = c + (size_t)i * ldc + j;
            e->d[(size_t)(i0 + i) * e->ld + j0 + j] = *x * *x + 1;
            e->visits[(size_t)(i0 + i) * e->ld + j0 + j]++;
            *x *= 0.5f;
        }
}

static void test_epilogue_sees_final_blocks(void **state)
{
    (void)state;
    if (skip_without_bf16())
        skip();
    ws_rng rng;
    ws_rng_seed(&rng, 16, "gemm_bf16 epilogue");
    const enum CBLAS_TRANSPOSE ops[] = {CblasNoTrans, CblasTrans};
    const int shapes[][3] = {{1, 1, 1},      {33, 70, 5},     {96, 512, 257}, {100, 600, 40},
                             {37, 1100, 300}, {40, 700, 1600}, {5, 7, 0}};
    for (int kernel = 0; kernel < N_KERNELS; kernel++) {
        if (!use_kernel(KERNELS[kernel]))
            continue;
        for (int t = 0; t < 4; t++)
            for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
                for (int with_bias = 0; with_bias < 2; with_bias++) {
                    int M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
                    gemm_case g = make_case(&rng, ops[t / 2], ops[t % 2], M, N, K, with_bias ? 0 : 1);
                    float *bias = with_bias ? random_matrix(&rng, (size_t)N) : NULL;
                    size_t n = (size_t)M * g.ldc;
                    float *plain = malloc(n * sizeof *plain), *c = malloc(n * sizeof *c),
                          *d = malloc(n * sizeof *d);
                    int *visits = calloc(n, sizeof *visits);
                    assert_true(plain && c && d && visits);
                    memcpy(plain, g.c0, n * sizeof *plain);
                    memcpy(c, g.c0, n * sizeof *c);
                    assert_int_equal(ws_gemm_bf16_epilogue(g.ta, g.tb, M, N, K, g.alpha, g.a, g.lda, g.b, g.ldb,
                                                           g.beta, bias, plain, g.ldc, NULL),
                                     0);
                    const epilogue_probe probe = {.d = d, .visits = visits, .ld = g.ldc};
                    const ws_gemm_epilogue then = {.apply = probe_block, .arg = &probe};
                    assert_int_equal(ws_gemm_bf16_epilogue(g.ta, g.tb, M, N, K, g.alpha, g.a, g.lda, g.b, g.ldb,
                                                           g.beta, bias, c, g.ldc, &then),
                                     0);
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++) {
                            size_t at = (size_t)i * g.ldc + j;
                            float x = plain[at], d_ref = x * x + 1, c_ref = x * 0.5f;
                            assert_int_equal(visits[at], 1);
                            assert_memory_equal(&d[at], &d_ref, sizeof d_ref);
                            assert_memory_equal(&c[at], &c_ref, sizeof c_ref);
                        }
                    free(plain), free(c), free(d), free(visits), free(bias);
                    free_case(&g);
                }
    }
    ws_gemm_bf16_use(WS_BF16_BEST);
}

/* ws_gemm_bf16_row_sums: C as ws_gemm_bf16's, bit for bit, and each row sum of op(A) = A^T added
 * in the order the header states (fp32 over 32 k at a time, those sums in double): the same
 * bits on 1, 2 and 3 threads; K = 0 adds nothing; alpha 0 still sums. */
static void test_row_sums(void **state)
{
    (void)state;
    if (skip_without_bf16())
        skip();
    ws_rng rng;
    ws_rng_seed(&rng, 16, "gemm_bf16 row sums");
    const enum CBLAS_TRANSPOSE ops[] = {CblasNoTrans, CblasTrans};
    const int shapes[][3] = {{1, 1, 1}, {33, 70, 5}, {13, 7, 31}, {389, 40, 600}, {100, 600, 1600}, {5, 7, 0}};
    for (int kernel = 0; kernel < N_KERNELS; kernel++) {
        if (!use_kernel(KERNELS[kernel]))
            continue;
        for (int tb = 0; tb < 2; tb++)
            for (size_t si = 0; si < sizeof shapes / sizeof *shapes; si++)
                for (int threads = 1; threads <= 3; threads++) {
                    int M = shapes[si][0], N = shapes[si][1], K = shapes[si][2];
                    gemm_case g = make_case(&rng, CblasTrans, ops[tb], M, N, K, 1);
                    g.alpha = si == 1 ? 0 : g.alpha;
                    ws_backend_set_threads(threads);
                    float *plain = run_bf16(&g), *sums0 = random_matrix(&rng, (size_t)M);
                    size_t n = (size_t)M * g.ldc;
                    float *c = malloc(n * sizeof *c), *sums = malloc((size_t)M * sizeof *sums);
                    assert_true(c && sums);
                    memcpy(c, g.c0, n * sizeof *c);
                    memcpy(sums, sums0, (size_t)M * sizeof *sums);
                    assert_int_equal(ws_gemm_bf16_row_sums(g.tb, M, N, K, g.alpha, g.a, g.lda, g.b, g.ldb, g.beta,
                                                           c, g.ldc, sums),
                                     0);
                    assert_memory_equal(c, plain, n * sizeof *c);
                    for (int i = 0; i < M; i++) {
                        double total = 0;
                        for (int k0 = 0; k0 < K; k0 += 32) {
                            float chunk = 0;
                            for (int k = k0; k < K && k < k0 + 32; k++)
                                chunk += op_a(&g, i, k, 0);
                            total += chunk;
                        }
                        float want = K > 0 ? sums0[i] + (float)total : sums0[i];
                        assert_memory_equal(&sums[i], &want, sizeof want);
                    }
                    free(plain), free(sums0), free(c), free(sums);
                    free_case(&g);
                }
    }
    ws_backend_set_threads(1);
    ws_gemm_bf16_use(WS_BF16_BEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_matches_double_of_rounded_inputs),
                                       cmocka_unit_test(test_matches_sgemm_within_bf16_rounding),
                                       cmocka_unit_test(test_same_bits), cmocka_unit_test(test_bias_as_beta_one),
                                       cmocka_unit_test(test_epilogue_sees_final_blocks),
                                       cmocka_unit_test(test_row_sums)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
