/* gemm_f32: an fp32 matrix product whose rows do not depend on each other, on AVX2 CPUs with FMA.
 *
 * It owns the fp32 product of the CPU backend on CPUs without AVX-512 (backend_cpu.c says why
 * there only): the same row-major product as cblas_sgemm,
 *   C[M, N] = alpha op(A)[M, K] . op(B)[K, N] + beta C
 * (beta = 0 never reads C), with every element of C summed in one fixed order: k ascending in
 * blocks of a fixed depth, one fused multiply-add chain per block, whatever M, N, the element's
 * place in C and the thread count. So a row of C has the same bits whichever other rows the
 * product holds, as kept encodings need (ws_backend_rows_independent), and the same whatever the
 * threads. OpenBLAS's sgemm picks kernels by the product's shape and gives neither.
 *
 * Only this file's functions use AVX2 and FMA; a caller asks ws_gemm_f32_supported() first. */
#ifndef WS_GEMM_F32_H
#define WS_GEMM_F32_H

#include <cblas.h>

/* 1 when this CPU runs the product (AVX2 and FMA), else 0. */
int ws_gemm_f32_supported(void);
/* 1 where the CPU backend's fp32 products are this product: AVX2 and FMA without AVX-512F. On
 * AVX-512 CPUs OpenBLAS's AVX-512 kernels ran the model's products at about twice the rate of its
 * AVX2 ones (docs/results, "The model"), which this product's kernel is a match for, not more. */
int ws_gemm_f32_preferred(void);

/* The product above, over the OpenMP threads (one inside a parallel region, or for a small
 * product). Returns 0, or -1 when the CPU lacks the instructions or the packing buffers could not
 * be allocated (C unchanged). */
int ws_gemm_f32(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha,
                const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

#endif
