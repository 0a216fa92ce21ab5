/* lib/model/gemm_f32 against a product in double, for every transpose combination, sizes 1, 7, 33
 * and 389 (= 384 + 5: a partial tile, several tiles, and a second block of k) in each of M, N, K,
 * leading dimensions wider than the rows, beta 0 (C holds NaNs, which must not be read) and beta 1
 * (with alpha 0.75): each element is a chain of fused multiply-adds per block of k, then the
 * scaling and the addition of what C held, so
 *   |C - ref| <= (K + 2 ceil(K / 256) + 2) u32 S, u32 = 2^-24, S = |alpha| sum_k |a b| + |beta c|;
 * the spare columns are never written. And what the product is for: a row of C has the same bits
 * whichever rows op(A) has around it (and a column whichever columns op(B) has), and the same with
 * 1, 2 or 3 threads and when run again. BLAS's rules where nothing is summed (K = 0, alpha 0).
 * Skipped, with the reason, on a CPU without AVX2 and FMA. */
#include "gemm_f32.h"

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

static int skip_without_fma(void)
{
    if (ws_gemm_f32_supported())
        return 0;
    print_message("# SKIP reason: this CPU lacks AVX2 or FMA (cpuid)\n");
    return 1;
}

static float op_a(const gemm_case *g, int i, int k)
{
    return g->ta == CblasNoTrans ? g->a[(size_t)i * g->lda + k] : g->a[(size_t)k * g->lda + i];
}

static float op_b(const gemm_case *g, int k, int j)
{
    return g->tb == CblasNoTrans ? g->b[(size_t)k * g->ldb + j] : g->b[(size_t)j * g->ldb + k];
}

/* C of the product (caller frees) */
static float *run(const gemm_case *g)
{
    size_t n = (size_t)g->M * g->ldc;
    float *c = malloc(n * sizeof *c);
    assert_non_null(c);
    memcpy(c, g->c0, n * sizeof *c);
    assert_int_equal(ws_gemm_f32(g->ta, g->tb, g->M, g->N, g->K, g->alpha, g->a, g->lda, g->b, g->ldb, g->beta, c,
                                 g->ldc),
                     0);
    return c;
}

/* Asserts |got - ref| <= bound S everywhere (ref: the product in double; S as above) and the
 * spare columns untouched; returns the worst |got - ref| / S. */
static double check_against_double(const gemm_case *g, const float *got)
{
    double bound = (g->K + 2 * ((g->K + 255) / 256) + 2) * U32, worst = 0;
    for (int i = 0; i < g->M; i++) {
        for (int j = 0; j < g->N; j++) {
            double sum = 0, size = 0;
            for (int k = 0; k < g->K; k++) {
                double p = (double)op_a(g, i, k) * op_b(g, k, j);
                sum += p;
                size += fabs(p);
            }
            double c0 = g->beta == 0 ? 0 : g->c0[(size_t)i * g->ldc + j];
            double ref = g->alpha * sum + g->beta * c0, scale = fabs(g->alpha) * size + fabs(g->beta * c0);
            double e = fabs(got[(size_t)i * g->ldc + j] - ref) / (scale > 0 ? scale : 1);
            if (!(e <= bound))
                print_message("# %c%c M=%d N=%d K=%d beta=%g: C[%d, %d] error %.3g S > %.3g S\n",
                              g->ta == CblasNoTrans ? 'N' : 'T', g->tb == CblasNoTrans ? 'N' : 'T', g->M, g->N, g->K,
                              g->beta, i, j, e, bound);
            assert_true(e <= bound);
            worst = e > worst ? e : worst;
        }
        for (int j = g->N; j < g->ldc; j++)
            assert_memory_equal(&got[(size_t)i * g->ldc + j], &g->c0[(size_t)i * g->ldc + j], sizeof(float));
    }
    return worst / bound;
}

static void test_matches_double(void **state)
{
    (void)state;
    if (skip_without_fma())
        skip();
    const enum CBLAS_TRANSPOSE ops[] = {CblasNoTrans, CblasTrans};
    ws_rng rng;
    ws_rng_seed(&rng, 16, "gemm_f32");
    double worst = 0;
    for (int t = 0; t < 4; t++)
        for (int mi = 0; mi < N_SIZES; mi++)
            for (int ni = 0; ni < N_SIZES; ni++)
                for (int ki = 0; ki < N_SIZES; ki++)
                    for (int bi = 0; bi < 2; bi++) {
                        gemm_case g =
                            make_case(&rng, ops[t / 2], ops[t % 2], SIZES[mi], SIZES[ni], SIZES[ki], (float)bi);
                        float *c = run(&g);
                        double w = check_against_double(&g, c);
                        worst = w > worst ? w : worst;
                        free(c);
                        free_case(&g);
                    }
    print_message("# against double: worst error %.2f of its bound\n", worst);
}

/* Rows r0 .. r0 + m - 1 of op(A) and columns j0 .. j0 + n - 1 of op(B) of g, as a case of their own
 * (the same memory, offset), run: its C must hold the bits of that block of full's C. */
static void check_block(const gemm_case *g, const float *full, int r0, int m, int j0, int n)
{
    const float *a = g->ta == CblasNoTrans ? g->a + (size_t)r0 * g->lda : g->a + r0;
    const float *b = g->tb == CblasNoTrans ? g->b + j0 : g->b + (size_t)j0 * g->ldb;
    float *c = malloc((size_t)m * g->ldc * sizeof *c);
    assert_non_null(c);
    for (int i = 0; i < m; i++)
        memcpy(c + (size_t)i * g->ldc, g->c0 + (size_t)(r0 + i) * g->ldc + j0, (size_t)n * sizeof *c);
    assert_int_equal(ws_gemm_f32(g->ta, g->tb, m, n, g->K, g->alpha, a, g->lda, b, g->ldb, g->beta, c, g->ldc), 0);
    for (int i = 0; i < m; i++)
        if (memcmp(c + (size_t)i * g->ldc, full + (size_t)(r0 + i) * g->ldc + j0, (size_t)n * sizeof *c)) {
            print_message("# %c%c rows %d..%d, columns %d..%d: row %d differs from the full product's\n",
                          g->ta == CblasNoTrans ? 'N' : 'T', g->tb == CblasNoTrans ? 'N' : 'T', r0, r0 + m - 1, j0,
                          j0 + n - 1, r0 + i);
            fail();
        }
    free(c);
}

static void test_rows_and_threads_do_not_change_bits(void **state)
{
    (void)state;
    if (skip_without_fma())
        skip();
    ws_rng rng;
    ws_rng_seed(&rng, 16, "gemm_f32 bits");
    const enum CBLAS_TRANSPOSE ops[] = {CblasNoTrans, CblasTrans};
    /* blocks at odd places: one row, a partial tile, a tile's worth straddling two, most of it */
    const int blocks[][4] = {{0, 1, 0, 1}, {5, 7, 3, 17}, {383, 6, 1600, 1}, {100, 200, 16, 1024}, {1, 388, 0, 1601}};
    for (int t = 0; t < 4; t++) {
        /* N past one packed block of columns (1,536), K past two blocks of k */
        gemm_case g = make_case(&rng, ops[t / 2], ops[t % 2], 389, 1601, 600, 1);
        size_t bytes = (size_t)g.M * g.ldc * sizeof(float);
        ws_backend_set_threads(2);
        float *first = run(&g), *second = run(&g);
        for (size_t b = 0; b < sizeof blocks / sizeof *blocks; b++)
            check_block(&g, first, blocks[b][0], blocks[b][1], blocks[b][2], blocks[b][3]);
        ws_backend_set_threads(3);
        float *three_threads = run(&g);
        ws_backend_set_threads(1);
        float *one_thread = run(&g);
        check_block(&g, first, 100, 200, 16, 1024);
        assert_memory_equal(first, second, bytes);
        assert_memory_equal(first, one_thread, bytes);
        assert_memory_equal(first, three_threads, bytes);
        check_against_double(&g, first);
        free(first), free(second), free(one_thread), free(three_threads);
        free_case(&g);
    }
}

/* No products to sum (K = 0) or alpha 0: C = beta C as BLAS has it, and beta 0 writes zeros
 * without reading C (NaNs there do not come through); an empty C is left alone. */
static void test_no_products(void **state)
{
    (void)state;
    if (skip_without_fma())
        skip();
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 1, 1, 1, 1, 1};
    float c[6] = {NAN, NAN, NAN, NAN, NAN, NAN};
    assert_int_equal(ws_gemm_f32(CblasNoTrans, CblasNoTrans, 2, 3, 0, 1, a, 1, b, 3, 0, c, 3), 0);
    for (int i = 0; i < 6; i++)
        assert_true(c[i] == 0);
    for (int i = 0; i < 6; i++)
        c[i] = (float)i;
    assert_int_equal(ws_gemm_f32(CblasNoTrans, CblasNoTrans, 2, 3, 2, 0, a, 2, b, 3, 0.5f, c, 3), 0);
    for (int i = 0; i < 6; i++)
        assert_true(c[i] == 0.5f * (float)i);
    assert_int_equal(ws_gemm_f32(CblasNoTrans, CblasNoTrans, 0, 3, 2, 1, a, 2, b, 3, 0, NULL, 3), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_matches_double),
                                       cmocka_unit_test(test_rows_and_threads_do_not_change_bits),
                                       cmocka_unit_test(test_no_products)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
