/* ws_gemm_bf16 on two threads, wall time, the best of 7 runs of 20 products each: the forward's
 * product shapes (inp . W^T) at batch rows that are and are not a multiple of 2 x 96.
 * Built against a build's library (commands.sh); prints GFLOP/s per shape. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#include "gemm_bf16.h"

int main(void)
{
    const int rows[] = {1632, 1700, 3500, 1920}, shapes[][2] = {{384, 384}, {1536, 384}, {384, 1536}};
    for (int r = 0; r < 4; r++)
        for (int s = 0; s < 3; s++) {
            int M = rows[r], N = shapes[s][0], K = shapes[s][1];
            float *A = malloc(sizeof(float) * M * K), *B = malloc(sizeof(float) * N * K),
                  *C = malloc(sizeof(float) * M * N);
            for (long i = 0; i < (long)M * K; i++)
                A[i] = (float)(i % 7) * 0.1f;
            for (long i = 0; i < (long)N * K; i++)
                B[i] = (float)(i % 5) * 0.1f;
            double best = 1e9;
            for (int run = 0; run < 7; run++) {
                double t0 = omp_get_wtime();
                for (int it = 0; it < 20; it++)
                    ws_gemm_bf16(CblasNoTrans, CblasTrans, M, N, K, 1, A, K, B, K, 0, C, N);
                double t = (omp_get_wtime() - t0) / 20;
                best = t < best ? t : best;
            }
            printf("M %d N %d K %d: %.1f GFLOP/s\n", M, N, K, 2.0 * M * N * K / best / 1e9);
            free(A), free(B), free(C);
        }
    return 0;
}
