/* gemm_bf16: a matrix product with bf16 inputs and fp32 accumulation on AVX512_BF16 CPUs.
 *
 * It owns the bf16 path of the CPU backend's products: the same row-major product as cblas_sgemm,
 *   C[M, N] = alpha op(A)[M, K] . op(B)[K, N] + beta C
 * where A and B are fp32 in memory and are rounded to bf16 (round to nearest even) as they are
 * packed; every product of two bf16 values is exact in fp32 and the sums are fp32 (vdpbf16ps).
 * C is fp32. As with BLAS, beta = 0 never reads C.
 *
 * Results are deterministic whatever the thread count: each element of C is summed in one fixed
 * order (k ascending, in blocks of the kernel's depth), whichever thread computes it. The product
 * needs AVX-512 F/BW/VL and AVX512_BF16; only this file's functions use them, so the rest of the
 * build stays generic, and a caller asks ws_gemm_bf16_supported() before calling ws_gemm_bf16. */
#ifndef WS_GEMM_BF16_H
#define WS_GEMM_BF16_H

#include <cblas.h>

/* 1 when this CPU (and its operating system) runs the bf16 product, else 0 (cpuid). */
int ws_gemm_bf16_supported(void);

/* The product above, over the OpenMP threads (ws_backend_set_threads). Returns 0, or -1 when the
 * CPU lacks the instructions or the packing buffers could not be allocated (C unchanged). */
int ws_gemm_bf16(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);

#endif
