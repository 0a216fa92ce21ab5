/* gemm_case: one matrix product to test our products on (gemm_bf16, gemm_f32) against references:
 * op(A) [M, K], op(B) [K, N] and C, random in [-1, 1), each stored with 3 spare columns in every
 * row; beta 0 fills C with NaNs (which a product must not read), beta 1 comes with alpha 0.75.
 * Include after cmocka.h. */
#ifndef WS_TEST_GEMM_CASE_H
#define WS_TEST_GEMM_CASE_H

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "rng.h"

static inline float *random_matrix(ws_rng *rng, size_t n)
{
    float *x = malloc((n ? n : 1) * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++)
        x[i] = (float)(2 * ws_rng_uniform(rng) - 1);
    return x;
}

typedef struct gemm_case {
    enum CBLAS_TRANSPOSE ta, tb;
    int M, N, K, lda, ldb, ldc;
    float alpha, beta;
    float *a, *b, *c0; /* inputs and C before the product */
} gemm_case;

static inline gemm_case make_case(ws_rng *rng, enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K,
                                  float beta)
{
    gemm_case g = {.ta = ta, .tb = tb, .M = M, .N = N, .K = K, .alpha = beta == 0 ? 1.0f : 0.75f, .beta = beta};
    int a_rows = ta == CblasNoTrans ? M : K, b_rows = tb == CblasNoTrans ? K : N;
    g.lda = (ta == CblasNoTrans ? K : M) + 3;
    g.ldb = (tb == CblasNoTrans ? N : K) + 3;
    g.ldc = N + 3;
    g.a = random_matrix(rng, (size_t)a_rows * g.lda);
    g.b = random_matrix(rng, (size_t)b_rows * g.ldb);
    g.c0 = random_matrix(rng, (size_t)M * g.ldc);
    if (beta == 0)
        for (size_t i = 0; i < (size_t)M * g.ldc; i++)
            g.c0[i] = NAN;
    return g;
}

static inline void free_case(gemm_case *g)
{
    free(g->a), free(g->b), free(g->c0);
}

#endif
