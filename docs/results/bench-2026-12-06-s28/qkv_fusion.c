/* Issue 16, session 28: would one product for Q, K and V (their weights side by side, 1,152
 * rows) beat three of 384? The batch's 1,632 tokens, hidden 384, bf16 products on the OpenMP
 * threads. Usage: qkv_fusion forward|weight-gradient 3|1 (three products or one). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_bf16.h"

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    int T = 1632, C = 384, products = atoi(argv[2]), forward = !strcmp(argv[1], "forward");
    float *x = malloc(sizeof(float) * T * 3 * C), *y = malloc(sizeof(float) * T * 3 * C);
    float *w = malloc(sizeof(float) * 3 * C * C);
    for (long i = 0; i < (long)T * 3 * C; i++) {
        x[i] = (float)(i % 7) * 0.1f;
        y[i] = (float)(i % 5) * 0.1f;
    }
    for (long i = 0; i < 3L * C * C; i++)
        w[i] = (float)(i % 3) * 0.1f;
    int reps = 300;
    double t0 = omp_get_wtime();
    for (int r = 0; r < reps; r++) {
        if (forward && products == 1) /* q | k | v = x . [Wq; Wk; Wv]^T */
            ws_gemm_bf16(CblasNoTrans, CblasTrans, T, 3 * C, C, 1, x, C, w, C, 0, y, 3 * C);
        else if (forward)
            for (int p = 0; p < 3; p++)
                ws_gemm_bf16(CblasNoTrans, CblasTrans, T, C, C, 1, x, C, w + (size_t)p * C * C, C, 0,
                             y + (size_t)p * T * C, C);
        else if (products == 1) /* [dWq; dWk; dWv] = [dq | dk | dv]^T . x */
            ws_gemm_bf16(CblasTrans, CblasNoTrans, 3 * C, C, T, 1, y, 3 * C, x, C, 0, w, C);
        else
            for (int p = 0; p < 3; p++)
                ws_gemm_bf16(CblasTrans, CblasNoTrans, C, C, T, 1, y + (size_t)p * T * C, C, x, C, 0,
                             w + (size_t)p * C * C, C);
    }
    printf("%s, %d product(s): %.3f ms\n", argv[1], products, (omp_get_wtime() - t0) / reps * 1e3);
    free(x);
    free(y);
    free(w);
    return 0;
}
