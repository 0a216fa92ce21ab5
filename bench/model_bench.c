/* Training-step speed of the choice model on the CPU backend, against the machine's sgemm rate
 * measured in the same run. Usage: build/bench/model_bench [tiny|minilm|base] [decisions]
 * The batch is synthetic but shaped like WebShop's: states of 384 tokens, 12 actions of 8. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "progress.h"
#include "rng.h"

static double sgemm_gflops(int M, int N, int K)
{
    float *a = malloc(sizeof(float) * M * K), *b = malloc(sizeof(float) * N * K), *c = malloc(sizeof(float) * M * N);
    for (long i = 0; i < (long)M * K; i++)
        a[i] = (float)(i % 7) * 0.1f;
    for (long i = 0; i < (long)N * K; i++)
        b[i] = (float)(i % 5) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, b, K, 0, c, N);
    int reps = 0;
    double t0 = ws_now();
    while (ws_now() - t0 < 1.0) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1, a, K, b, K, 0, c, N);
        reps++;
    }
    double dt = ws_now() - t0;
    free(a);
    free(b);
    free(c);
    return 2.0 * M * N * K * reps / dt / 1e9;
}

int main(int argc, char **argv)
{
    ws_backend_init(argv);
    const char *size = argc > 1 ? argv[1] : "minilm";
    int B = argc > 2 ? atoi(argv[2]) : 4;
    ws_model_config cfg = {.vocab_size = 30526, .hidden = 384, .layers = 6, .heads = 12, .intermediate = 1536,
                           .max_position = 512, .type_vocab = 2, .ln_eps = 1e-12, .value_hidden = 128};
    if (strcmp(size, "tiny") == 0)
        cfg.hidden = 64, cfg.layers = 2, cfg.heads = 4, cfg.intermediate = 256;
    else if (strcmp(size, "base") == 0)
        cfg.hidden = 768, cfg.layers = 12, cfg.heads = 12, cfg.intermediate = 3072;
    int Ls = 384, n_act = 12, La = 8;
    ws_err err;
    ws_model *m = ws_model_new(&cfg, &err);
    if (!m) {
        fprintf(stderr, "model_bench: %s\n", err.msg);
        return 1;
    }
    ws_model_init_random(m, 1);
    ws_rng rng;
    ws_rng_seed(&rng, 1, "bench");
    int32_t **states = malloc(B * sizeof *states), **acts = malloc((size_t)B * n_act * sizeof *acts);
    int *slen = malloc(B * sizeof *slen), *nact = malloc(B * sizeof *nact), *alen = malloc((size_t)B * n_act * sizeof *alen);
    for (int i = 0; i < B; i++) {
        states[i] = malloc(Ls * sizeof **states);
        for (int k = 0; k < Ls; k++)
            states[i][k] = (int32_t)ws_rng_below(&rng, 30000);
        slen[i] = Ls;
        nact[i] = n_act;
    }
    for (int a = 0; a < B * n_act; a++) {
        acts[a] = malloc(La * sizeof **acts);
        for (int k = 0; k < La; k++)
            acts[a][k] = (int32_t)ws_rng_below(&rng, 30000);
        alen[a] = La;
    }
    ws_batch b = {B, (const int32_t *const *)states, slen, nact, (const int32_t *const *)acts, alen};
    ws_real *dlogits = calloc((size_t)B * n_act, sizeof *dlogits);
    for (int a = 0; a < B * n_act; a++)
        dlogits[a] = (a % n_act == 0) ? -1.0f / B : 0.1f / B;

    double peak1 = sgemm_gflops(B * (Ls + n_act * La), cfg.hidden, cfg.hidden);
    double peak2 = sgemm_gflops(B * (Ls + n_act * La), cfg.intermediate, cfg.hidden);
    double peak = peak1 > peak2 ? peak1 : peak2;
    /* warm-up, then time */
    ws_model_forward(m, &b, &err);
    ws_model_zero_grad(m);
    ws_model_backward(m, dlogits, NULL, &err);
    int steps = 0;
    double t0 = ws_now(), fwd_time = 0;
    while (ws_now() - t0 < 5.0 || steps < 2) {
        double f0 = ws_now();
        if (ws_model_forward(m, &b, &err))
            return 1;
        fwd_time += ws_now() - f0;
        ws_model_zero_grad(m);
        if (ws_model_backward(m, dlogits, NULL, &err))
            return 1;
        steps++;
    }
    double dt = (ws_now() - t0) / steps, flops = 3.0 * ws_model_forward_flops(m);
    printf("config %s (hidden %d, layers %d, %zu parameters); batch %d states x %d tokens + %d actions x %d tokens\n",
           size, cfg.hidden, cfg.layers, ws_model_n_params(m), B, Ls, n_act, La);
    printf("sgemm rate on this machine: %.1f GFLOP/s (T x C x C), %.1f GFLOP/s (T x 4C x C)\n", peak1, peak2);
    printf("training step: %.3f s (forward %.3f s): %.2f states/s, %.0f tokens/s, %.1f GFLOP/s = %.0f%% of sgemm\n", dt,
           fwd_time / steps, B / dt, (double)ws_model_batch_tokens(m) / dt, flops / dt / 1e9, 100.0 * flops / dt / 1e9 / peak);
    ws_model_free(m);
    return 0;
}
