/* gemm_bf16: a matrix product with bf16 inputs and fp32 accumulation on AVX512_BF16 CPUs (on
 * AMX tiles where the CPU has them).
 *
 * It owns the bf16 path of the CPU backend's products: the same row-major product as cblas_sgemm,
 *   C[M, N] = alpha op(A)[M, K] . op(B)[K, N] + beta C
 * where A and B are fp32 in memory and are rounded to bf16 (round to nearest even) as they are
 * packed; every product of two bf16 values is exact in fp32 and the sums are fp32 (vdpbf16ps).
 * C is fp32. As with BLAS, beta = 0 never reads C.
 *
 * Results are deterministic whatever the thread count: each element of C is summed in one fixed
 * order (k ascending, in blocks of the kernel's depth), whichever thread computes it; the two
 * kernels' orders differ, so a machine with AMX and one without give different bits (as
 * OpenBLAS's kernels do). The product needs AVX-512 F/BW/VL and AVX512_BF16, AMX-TILE and AMX-BF16
 * for the tiles; only this file's functions use them, so the rest of the build stays generic, and
 * a caller asks ws_gemm_bf16_supported() before calling ws_gemm_bf16. */
#ifndef WS_GEMM_BF16_H
#define WS_GEMM_BF16_H

#include <cblas.h>
#include <stddef.h>

/* The product's kernels: AVX512_BF16's dot products (AMD Zen 4 and later, Intel from Cooper
 * Lake), and AMX's tiles (Intel from Sapphire Rapids: some 8 times the dot products' rate, and
 * other bits: each kernel sums in its own order). */
typedef enum ws_bf16_kernel { WS_BF16_NONE, WS_BF16_AVX512, WS_BF16_AMX, WS_BF16_BEST } ws_bf16_kernel;

/* 1 when this CPU (and its operating system) runs the bf16 product, else 0 (cpuid). */
int ws_gemm_bf16_supported(void);
/* The kernel products use: the best this CPU runs unless ws_gemm_bf16_use chose another. */
ws_bf16_kernel ws_gemm_bf16_kernel(void);
/* Use kernel k from now on (WS_BF16_BEST: the best again), for tests and benchmarks that compare
 * them; call it while no product runs. Returns 0, or -1 when this CPU cannot run k. */
int ws_gemm_bf16_use(ws_bf16_kernel k);
const char *ws_gemm_bf16_kernel_name(ws_bf16_kernel k);

/* The product above, over the OpenMP threads (ws_backend_set_threads). Returns 0, or -1 when the
 * CPU lacks the instructions or the packing buffers could not be allocated (C unchanged). */
int ws_gemm_bf16(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
/* Work on C's finished elements while they are in cache: apply(arg, c, ldc, i0, j0, m, n) runs
 * for each block of C once its sums are complete (rows i0 .. i0 + m - 1 and columns j0 .. j0 + n
 * - 1, c = &C[i0 * ldc + j0]), on the thread that computed the block. The blocks are disjoint
 * and cover C, so an elementwise function gives the bits of the same pass over C afterwards,
 * without reading C back from memory. */
typedef struct ws_gemm_epilogue {
    void (*apply)(const void *arg, float *c, size_t ldc, int i0, int j0, int m, int n);
    const void *arg;
} ws_gemm_epilogue;

/* ws_gemm_bf16, or with bias (not NULL) C = alpha op(A) op(B) + bias, the bias (N values) added to
 * every row: the bits of C filled with the bias and multiplied with beta 1, without that pass
 * over C (each kernel adds it as it stores C; beta is then not used); then, where epilogue is not
 * NULL, the epilogue on every block. */
int ws_gemm_bf16_epilogue(enum CBLAS_TRANSPOSE trans_a, enum CBLAS_TRANSPOSE trans_b, int M, int N, int K,
                          float alpha, const float *A, int lda, const float *B, int ldb, float beta,
                          const float *bias, float *C, int ldc, const ws_gemm_epilogue *epilogue);

/* ws_gemm_bf16 with op(A) = A^T (the weight gradient dout^T . inp) that also adds the sums of
 * op(A)'s rows into row_sums (M values: the bias gradient, dout's column sums), taken while A is
 * read for packing rather than in a pass of their own: each row's values in fp32, 32 at a time in
 * k order, those partial sums added in double in k order, then rounded to float and added
 * (the same bits whatever the threads and kernel). Returns as ws_gemm_bf16. */
int ws_gemm_bf16_row_sums(enum CBLAS_TRANSPOSE trans_b, int M, int N, int K, float alpha, const float *A, int lda,
                          const float *B, int ldb, float beta, float *C, int ldc, float *row_sums);

#endif
