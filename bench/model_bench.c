/* Training-step speed of the choice model (forward, backward, gradient clipping and AdamW, as the
 * trainers take a step), against the dense matrix-product rate of the same
 * backend measured in the same run (OpenBLAS sgemm on the CPU; cublasGemmEx in the chosen
 * precision on a GPU, which is what "model FLOP utilisation" is measured against here; the
 * datasheet peak can be given with --peak-tflops).
 * Then the forward pass alone in inference mode, as the players (rollout, thompson-eval) run it.
 * Usage: build/bench/model_bench [tiny|minilm|base] [decisions] [--device cpu|cuda]
 *        [--gpu-math fp32|tf32|bf16] [--cpu-math fp32|bf16|auto] [--peak-tflops X] [--ragged] [--serve]
 *        [--profile-ops]
 *        build/bench/model_bench --cpu-maths
 * --cpu-maths: print the --cpu-math modes this CPU runs ("fp32", or "fp32 bf16" where it has
 * AVX512_BF16), the best last, and exit: make bench-model and bench/paired_step.py take their
 * modes from it, so that both run on a CPU without bf16 products and say so.
 * --serve: after one warm-up step print "ready" (with --ragged first a line "lengths", the states'
 * lengths, "|", the actions'), then take one training step for each line read
 * from stdin and print its seconds, until end of input: bench/paired_step.py times the C step
 * and PyTorch's one after the other this way, so that both see the same moments of a shared
 * machine.
 * --profile-ops (CPU): the training step's and then the inference forward's wall time kernel by
 * kernel (each backend call timed: ws_backend_timed_new), with the time outside the kernels;
 * sampling profilers show where the cores are busy, but a thread that waits for the other (a
 * serial part in a parallel region) counts there as spinning, not as the kernel that made it wait.
 * The batch is synthetic but shaped like WebShop's: states of 384 tokens, 12 actions of 8; with
 * --ragged, as real batches come, every state 256-511 tokens and every action 3-13 (about the same
 * means, but no two sequences need the same length). */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gemm_bf16.h"
#include "model.h"
#include "progress.h"
#include "rng.h"
#include "train.h"

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

/* The backend's own dense product rate: out[M, N] = a[M, K] . b[N, K]^T, timed for a second. */
static double backend_gflops(const ws_backend *be, int M, int N, int K)
{
    size_t sa = (size_t)M * K, sb = (size_t)N * K, sc = (size_t)M * N;
    float *h = calloc(sa > sb ? sa : sb, sizeof *h), *a = be->alloc(be, sa * sizeof *a),
          *b = be->alloc(be, sb * sizeof *b), *c = be->alloc(be, sc * sizeof *c), sync;
    if (!h || !a || !b || !c)
        return 0;
    for (size_t i = 0; i < (sa > sb ? sa : sb); i++)
        h[i] = (float)(i % 7) * 0.1f;
    be->upload(be, a, h, sa * sizeof *a);
    be->upload(be, b, h, sb * sizeof *b);
    be->matmul_forward(be, c, a, b, NULL, NULL, M, K, N);
    be->download(be, &sync, c, sizeof sync);
    int reps = 0;
    double t0 = ws_now();
    while (ws_now() - t0 < 1.0) {
        for (int k = 0; k < 10; k++)
            be->matmul_forward(be, c, a, b, NULL, NULL, M, K, N);
        be->download(be, &sync, c, sizeof sync); /* waits for the products */
        reps += 10;
    }
    double dt = ws_now() - t0;
    be->free(be, a);
    be->free(be, b);
    be->free(be, c);
    free(h);
    return 2.0 * M * N * K * reps / dt / 1e9;
}

/* The kernels' times since the last reset, per step of `per` seconds over `steps` steps, and what
 * the kernels leave (the model's and trainer's own work on the host); then resets them. */
static void print_profile(const ws_backend *timed, const char *what, int steps, double per)
{
    ws_backend_op_time ops[64];
    int n = ws_backend_timed_ops(timed, ops, 64);
    double in_kernels = 0;
    printf("%s: %.4f s a step (%d steps)\n%-22s %10s %10s %7s\n", what, per, steps, "kernel", "calls/step", "ms/step",
           "share");
    for (int i = 0; i < n; i++) {
        double ms = 1e3 * ops[i].seconds / steps;
        in_kernels += ops[i].seconds / steps;
        printf("%-22s %10.1f %10.2f %6.1f%%\n", ops[i].op, (double)ops[i].calls / steps, ms, 100 * ms / 1e3 / per);
    }
    printf("%-22s %10s %10.2f %6.1f%%\n", "(outside the kernels)", "", 1e3 * (per - in_kernels),
           100 * (per - in_kernels) / per);
    ws_backend_timed_reset(timed);
}

/* One training step as the trainers take it (lib/train: forward, backward, then the trainer's
 * update: the gradient norm clipped, AdamW); adds the forward's seconds to *fwd_time. */
static int train_step(ws_model *m, const ws_backend *be, const ws_batch *b, const ws_real *dlogits, ws_trainer *tr,
                      double *fwd_time, ws_err *err)
{
    double f0 = ws_now(), norm, lr;
    if (ws_model_forward(m, b, err)) /* ends with its outputs on the host: synchronous */
        return -1;
    *fwd_time += ws_now() - f0;
    ws_model_zero_grad(m);
    if (ws_model_backward(m, dlogits, NULL, err) || ws_trainer_update(tr, &norm, &lr, err))
        return -1;
    float sync;
    be->download(be, &sync, tr->params[0], sizeof sync); /* waits for the update */
    return 0;
}

static const char USAGE[] =
    "usage: model_bench [tiny|minilm|base] [decisions] [--device cpu|cuda] [--gpu-math fp32|tf32|bf16]\n"
    "                   [--cpu-math fp32|bf16|auto] [--peak-tflops X] [--ragged] [--serve] [--profile-ops]\n"
    "       model_bench --cpu-maths\n";

int main(int argc, char **argv)
{
    ws_cli_omp_wait(argv, WS_OMP_SPINCOUNT);
    const char *size = "minilm", *device = "cpu", *math = NULL, *cpu_math = NULL;
    int B = 4, ragged = 0, serve = 0, profile_ops = 0;
    double peak_tflops = 0;
    if (argc == 2 && strcmp(argv[1], "--cpu-maths") == 0) {
        printf(ws_gemm_bf16_supported() ? "fp32 bf16\n" : "fp32\n");
        return 0;
    }
    for (int i = 1, pos = 0; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            device = argv[++i];
        else if (strcmp(argv[i], "--gpu-math") == 0 && i + 1 < argc)
            math = argv[++i];
        else if (strcmp(argv[i], "--cpu-math") == 0 && i + 1 < argc)
            cpu_math = argv[++i];
        else if (strcmp(argv[i], "--peak-tflops") == 0 && i + 1 < argc)
            peak_tflops = atof(argv[++i]);
        else if (strcmp(argv[i], "--ragged") == 0)
            ragged = 1;
        else if (strcmp(argv[i], "--serve") == 0)
            serve = 1;
        else if (strcmp(argv[i], "--profile-ops") == 0)
            profile_ops = 1;
        else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(USAGE, stdout);
            return 0;
        } else if (argv[i][0] != '-' && pos < 2 && atoi(argv[i]) > 0)
            B = atoi(argv[i]), pos = 2;
        else if (argv[i][0] != '-' && pos == 0)
            size = argv[i], pos++;
        else {
            fprintf(stderr, "model_bench: unexpected argument '%s'\n%s", argv[i], USAGE);
            return 2;
        }
    }
    ws_model_config cfg = {.vocab_size = 30526, .hidden = 384, .layers = 6, .heads = 12, .intermediate = 1536,
                           .max_position = 512, .type_vocab = 2, .ln_eps = 1e-12, .value_hidden = 128};
    if (strcmp(size, "tiny") == 0)
        cfg.hidden = 64, cfg.layers = 2, cfg.heads = 4, cfg.intermediate = 256;
    else if (strcmp(size, "base") == 0)
        cfg.hidden = 768, cfg.layers = 12, cfg.heads = 12, cfg.intermediate = 3072;
    else if (strcmp(size, "minilm") != 0) {
        fprintf(stderr, "model_bench: unexpected argument '%s'\n%s", size, USAGE);
        return 2;
    }
    int Ls = 384, n_act = 12, La = 8;
    ws_err err;
    ws_model *m = ws_model_new(&cfg, &err);
    const ws_backend *be = m ? ws_backend_open(device, math, cpu_math, &err) : NULL;
    if (m && be && profile_ops && !ws_backend_on_host(be)) {
        ws_fail(&err, "--profile-ops: for the CPU only (a GPU's kernels run asynchronously)");
        ws_backend_close(be);
        be = NULL;
    }
    /* the model and trainer run on run_be: be itself, or be timed kernel by kernel */
    const ws_backend *run_be = be && profile_ops ? ws_backend_timed_new(be, &err) : be;
    if (!m || !be || !run_be) {
        fprintf(stderr, "model_bench: %s\n", err.msg);
        return 1;
    }
    ws_model_init_random(m, 1);
    if (ws_model_to_backend(m, run_be, &err)) {
        fprintf(stderr, "model_bench: %s\n", err.msg);
        return 1;
    }
    ws_rng rng;
    ws_rng_seed(&rng, 1, "bench");
    int32_t **states = malloc(B * sizeof *states), **acts = malloc((size_t)B * n_act * sizeof *acts);
    int *slen = malloc(B * sizeof *slen), *nact = malloc(B * sizeof *nact), *alen = malloc((size_t)B * n_act * sizeof *alen);
    for (int i = 0; i < B; i++) {
        slen[i] = ragged ? 256 + (int)ws_rng_below(&rng, 256) : Ls;
        states[i] = malloc(slen[i] * sizeof **states);
        for (int k = 0; k < slen[i]; k++)
            states[i][k] = (int32_t)ws_rng_below(&rng, 30000);
        nact[i] = n_act;
    }
    for (int a = 0; a < B * n_act; a++) {
        alen[a] = ragged ? 3 + (int)ws_rng_below(&rng, 11) : La;
        acts[a] = malloc(alen[a] * sizeof **acts);
        for (int k = 0; k < alen[a]; k++)
            acts[a][k] = (int32_t)ws_rng_below(&rng, 30000);
    }
    ws_batch b = {B, (const int32_t *const *)states, slen, nact, (const int32_t *const *)acts, alen};
    ws_real *dlogits = calloc((size_t)B * n_act, sizeof *dlogits);
    for (int a = 0; a < B * n_act; a++)
        dlogits[a] = (a % n_act == 0) ? -1.0f / B : 0.1f / B;

    const ws_adamw_opts adam = ws_adamw_defaults();
    const ws_lr_schedule schedule = {.kind = WS_LR_CONSTANT, .lr = 1e-5};
    ws_trainer tr;
    if (ws_trainer_init(&tr, m, &adam, &schedule, 1.0, 1.0, &err))
        goto failed;
    double fwd_time = 0;
    if (train_step(m, run_be, &b, dlogits, &tr, &fwd_time, &err)) /* warm-up */
        goto failed;
    if (profile_ops) {
        const int steps = 5;
        ws_backend_timed_reset(run_be);
        double t0 = ws_now();
        for (int i = 0; i < steps; i++)
            if (train_step(m, run_be, &b, dlogits, &tr, &fwd_time, &err))
                goto failed;
        print_profile(run_be, "training step", steps, (ws_now() - t0) / steps);
        ws_model_set_inference(m, 1);
        if (ws_model_forward(m, &b, &err))
            goto failed;
        ws_backend_timed_reset(run_be);
        t0 = ws_now();
        for (int i = 0; i < steps; i++)
            if (ws_model_forward(m, &b, &err))
                goto failed;
        print_profile(run_be, "forward only (inference mode)", steps, (ws_now() - t0) / steps);
        goto done;
    }
    if (serve) {
        char line[64];
        if (ragged) { /* the batch's lengths, for a peer to build the same batch (bench/paired_step.py) */
            printf("lengths");
            for (int i = 0; i < B; i++)
                printf(" %d", slen[i]);
            printf(" |");
            for (int a = 0; a < B * n_act; a++)
                printf(" %d", alen[a]);
            printf("\n");
        }
        printf("ready\n");
        fflush(stdout);
        while (fgets(line, sizeof line, stdin)) {
            double t0 = ws_now();
            if (train_step(m, run_be, &b, dlogits, &tr, &fwd_time, &err))
                goto failed;
            printf("%.6f\n", ws_now() - t0);
            fflush(stdout);
        }
        goto done;
    }
    /* the reference rate: OpenBLAS's sgemm on the fp32 CPU backend, else the backend's own
     * product (the bf16 CPU one, cublasGemmEx) */
    int on_cpu = be == ws_backend_cpu(), bf16_cpu = ws_backend_on_host(be) && !on_cpu;
    int T = B * (Ls + n_act * La);
    double peak1 = on_cpu ? sgemm_gflops(T, cfg.hidden, cfg.hidden) : backend_gflops(be, T, cfg.hidden, cfg.hidden);
    double peak2 = on_cpu ? sgemm_gflops(T, cfg.intermediate, cfg.hidden)
                          : backend_gflops(be, T, cfg.intermediate, cfg.hidden);
    double peak = peak1 > peak2 ? peak1 : peak2;
    fwd_time = 0;
    int steps = 0;
    double t0 = ws_now();
    while (ws_now() - t0 < 5.0 || steps < 2) {
        if (train_step(m, run_be, &b, dlogits, &tr, &fwd_time, &err))
            goto failed;
        steps++;
    }
    double dt = (ws_now() - t0) / steps, flops = 3.0 * ws_model_forward_flops(m);
    printf("config %s (hidden %d, layers %d, %zu parameters); "
           "batch %d states x %s%d tokens + %d actions x %s%d tokens; backend %s%s%s\n",
           size, cfg.hidden, cfg.layers, ws_model_n_params(m), B, ragged ? "~" : "", Ls, n_act, ragged ? "~" : "", La,
           be->name, on_cpu ? "" : " ", on_cpu ? "" : bf16_cpu ? ws_backend_cpu_products(be) : (math ? math : "tf32"));
    printf("%s rate: %.1f GFLOP/s (T x C x C), %.1f GFLOP/s (T x 4C x C)\n",
           on_cpu ? "sgemm" : bf16_cpu ? "gemm_bf16" : "cublasGemmEx", peak1, peak2);
    printf("training step: %.4f s (forward %.4f s): %.2f states/s, %.0f tokens/s, %.1f GFLOP/s = %.0f%% of that rate",
           dt, fwd_time / steps, B / dt, (double)ws_model_batch_tokens(m) / dt, flops / dt / 1e9,
           100.0 * flops / dt / 1e9 / peak);
    if (peak_tflops > 0)
        printf(", %.1f%% of %.0f TFLOP/s", 100.0 * flops / dt / 1e12 / peak_tflops, peak_tflops);
    printf("\n");
    /* as the players run it: inference mode, nothing kept for a backward */
    ws_model_set_inference(m, 1);
    int passes = 0;
    if (ws_model_forward(m, &b, &err))
        goto failed;
    t0 = ws_now();
    while (ws_now() - t0 < 3.0 || passes < 2) {
        if (ws_model_forward(m, &b, &err))
            goto failed;
        passes++;
    }
    double fwd = (ws_now() - t0) / passes, fwd_flops = ws_model_forward_flops(m);
    printf("forward only (inference mode): %.4f s: %.2f states/s, %.1f GFLOP/s = %.0f%% of that rate\n", fwd, B / fwd,
           fwd_flops / fwd / 1e9, 100.0 * fwd_flops / fwd / 1e9 / peak);
done:
    ws_trainer_free(&tr);
    ws_model_free(m);
    if (run_be != be)
        ws_backend_close(run_be);
    ws_backend_close(be);
    for (int i = 0; i < B; i++)
        free(states[i]);
    for (int a = 0; a < B * n_act; a++)
        free(acts[a]);
    free(states), free(acts), free(slen), free(nact), free(alen), free(dlogits);
    return 0;
failed:
    fprintf(stderr, "model_bench: %s\n", err.msg);
    return 1;
}
