/* CPU vs CUDA, kernel by kernel: each backend function that needs no packed batch (matrix
 * products, embedding, LayerNorm, GELU, ReLU, add, the optimiser's reductions and AdamW) on the
 * same random inputs through both backends. Where test_cuda_parity finds the whole model off,
 * this says which kernel. Skipped where no GPU is usable. Sizes are odd on purpose (no multiple
 * of a warp or a tile) and backward outputs start non-zero, to check that backwards add.
 * Bound: 1e-5 relative in fp32 (1e-3 tf32, 1e-2 bf16 for the matrix products). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backend.h"
#include "optim.h"
#include "rel_diff.h"
#include "rng.h"

static const ws_backend *cpu;
static ws_backend *gpu;

/* One array on both sides with the same contents. */
typedef struct twin {
    float *h, *d;
    size_t n;
} twin;

static twin twin_random(size_t n, uint64_t seed, float lo, float hi)
{
    ws_rng r;
    ws_rng_seed(&r, seed, "cuda-ops");
    twin t = {malloc(n * sizeof(float)), gpu->alloc(gpu, n * sizeof(float)), n};
    assert_non_null(t.h);
    assert_non_null(t.d);
    for (size_t i = 0; i < n; i++)
        t.h[i] = lo + (hi - lo) * (float)ws_rng_uniform(&r);
    gpu->upload(gpu, t.d, t.h, n * sizeof(float));
    return t;
}

static void twins_free(twin *const *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i]->h);
        gpu->free(gpu, t[i]->d);
    }
}
#define FREE_TWINS(...) twins_free((twin *const[]){__VA_ARGS__}, sizeof((twin *[]){__VA_ARGS__}) / sizeof(twin *))

/* Compare the GPU copy with the CPU one; prints the figure either way. */
static void check(const char *what, const twin *t, double bound)
{
    float *g = malloc(t->n * sizeof *g);
    gpu->download(gpu, g, t->d, t->n * sizeof *g);
    ws_err err;
    if (gpu->status(gpu, &err))
        fail_msg("%s: %s", what, err.msg);
    double e = rel_diff(t->h, g, t->n);
    print_message("# %-28s %.2e (bound %.0e)\n", what, e, bound);
    free(g);
    if (!(e <= bound))
        fail_msg("%s: relative difference %.3e over %.0e", what, e, bound);
}

static int setup(void **state)
{
    (void)state;
    cpu = ws_backend_cpu();
    return 0;
}

static int open_gpu(ws_gpu_math math)
{
    if (ws_cuda_device_count() == 0) {
        print_message("# SKIP reason: %s\n", ws_cuda_built() ? "no CUDA device on this machine"
                                                            : "a build without the CUDA backend (make CUDA=1)");
        return 0;
    }
    ws_err err;
    gpu = ws_backend_cuda_new(0, math, &err);
    if (!gpu)
        fail_msg("%s", err.msg);
    return 1;
}

static void close_gpu(void)
{
    ws_backend_close(gpu);
    gpu = NULL;
}

static void matmul(ws_gpu_math math, double bound, const char *tag)
{
    if (!open_gpu(math)) {
        skip();
        return;
    }
    const int T = 37, IC = 50, OC = 29;
    twin inp = twin_random((size_t)T * IC, 1, -1, 1), w = twin_random((size_t)OC * IC, 2, -0.5f, 0.5f),
         b = twin_random(OC, 3, -1, 1), out = twin_random((size_t)T * OC, 4, 0, 0),
         dout = twin_random((size_t)T * OC, 5, -1, 1), dinp = twin_random((size_t)T * IC, 6, -1, 1),
         dw = twin_random((size_t)OC * IC, 7, -1, 1), db = twin_random(OC, 8, -1, 1);
    char name[64];
    for (int with_bias = 0; with_bias < 2; with_bias++) {
        cpu->matmul_forward(cpu, out.h, inp.h, w.h, with_bias ? b.h : NULL, NULL, T, IC, OC);
        gpu->matmul_forward(gpu, out.d, inp.d, w.d, with_bias ? b.d : NULL, NULL, T, IC, OC);
        snprintf(name, sizeof name, "matmul fwd %s%s", tag, with_bias ? " +bias" : "");
        check(name, &out, bound);
        cpu->matmul_forward(cpu, out.h, inp.h, w.h, with_bias ? b.h : NULL, dout.h, T, IC, OC);
        gpu->matmul_forward(gpu, out.d, inp.d, w.d, with_bias ? b.d : NULL, dout.d, T, IC, OC);
        snprintf(name, sizeof name, "matmul fwd %s%s + add", tag, with_bias ? " +bias" : "");
        check(name, &out, bound);
    }
    for (int mode = 0; mode < 3; mode++) { /* dinp added into, written, written plus a residual */
        const float *add_h = mode == 0 ? dinp.h : mode == 2 ? inp.h : NULL;
        const float *add_d = mode == 0 ? dinp.d : mode == 2 ? inp.d : NULL;
        cpu->matmul_backward(cpu, dinp.h, dw.h, db.h, dout.h, inp.h, w.h, add_h, T, IC, OC);
        gpu->matmul_backward(gpu, dinp.d, dw.d, db.d, dout.d, inp.d, w.d, add_d, T, IC, OC);
        snprintf(name, sizeof name, "matmul bwd dinp %s%s", tag, mode == 0 ? " +=" : mode == 2 ? " + add" : "");
        check(name, &dinp, bound);
        snprintf(name, sizeof name, "matmul bwd dw %s", tag);
        check(name, &dw, bound);
        snprintf(name, sizeof name, "matmul bwd db %s", tag);
        check(name, &db, bound);
    }
    /* without the optional outputs */
    cpu->matmul_backward(cpu, NULL, dw.h, NULL, dout.h, inp.h, w.h, NULL, T, IC, OC);
    gpu->matmul_backward(gpu, NULL, dw.d, NULL, dout.d, inp.d, w.d, NULL, T, IC, OC);
    snprintf(name, sizeof name, "matmul bwd dw only %s", tag);
    check(name, &dw, bound);
    /* through a GELU: out and act = GELU(out); dinp = GELU'(pre) (dout . w), pre = inp here */
    twin act = twin_random((size_t)T * OC, 9, 0, 0);
    cpu->matmul_gelu_forward(cpu, out.h, act.h, inp.h, w.h, b.h, T, IC, OC);
    gpu->matmul_gelu_forward(gpu, out.d, act.d, inp.d, w.d, b.d, T, IC, OC);
    snprintf(name, sizeof name, "matmul+gelu fwd out %s", tag);
    check(name, &out, bound);
    snprintf(name, sizeof name, "matmul+gelu fwd act %s", tag);
    check(name, &act, bound);
    cpu->matmul_gelu_backward(cpu, dinp.h, dw.h, db.h, dout.h, inp.h, w.h, inp.h, T, IC, OC);
    gpu->matmul_gelu_backward(gpu, dinp.d, dw.d, db.d, dout.d, inp.d, w.d, inp.d, T, IC, OC);
    snprintf(name, sizeof name, "matmul+gelu bwd dinp %s", tag);
    check(name, &dinp, bound);
    snprintf(name, sizeof name, "matmul+gelu bwd dw %s", tag);
    check(name, &dw, bound);
    FREE_TWINS(&act);
    FREE_TWINS(&inp, &w, &b, &out, &dout, &dinp, &dw, &db);
    close_gpu();
}

static void test_matmul_fp32(void **state)
{
    (void)state;
    matmul(WS_MATH_FP32, 1e-5, "fp32");
}

static void test_matmul_tf32(void **state)
{
    (void)state;
    matmul(WS_MATH_TF32, 1e-3, "tf32");
}

static void test_matmul_bf16(void **state)
{
    (void)state;
    matmul(WS_MATH_BF16, 1e-2, "bf16");
}

static void test_embedding(void **state)
{
    (void)state;
    if (!open_gpu(WS_MATH_FP32)) {
        skip();
        return;
    }
    const int T = 45, C = 33, V = 17, P = 20;
    int32_t ids[45], pos[45], types[45];
    for (int t = 0; t < T; t++) /* repeated ids and both types: the backward must add them up */
        ids[t] = (t * 7) % V, pos[t] = t % P, types[t] = t % 3 == 1;
    int32_t *d_ids = gpu->alloc(gpu, sizeof ids), *d_pos = gpu->alloc(gpu, sizeof pos),
            *d_types = gpu->alloc(gpu, sizeof types);
    gpu->upload(gpu, d_ids, ids, sizeof ids);
    gpu->upload(gpu, d_pos, pos, sizeof pos);
    gpu->upload(gpu, d_types, types, sizeof types);
    twin wte = twin_random((size_t)V * C, 1, -1, 1), wpe = twin_random((size_t)P * C, 2, -1, 1),
         wtt = twin_random((size_t)2 * C, 3, -1, 1), out = twin_random((size_t)T * C, 4, 0, 0),
         dout = twin_random((size_t)T * C, 5, -1, 1), dwte = twin_random((size_t)V * C, 6, -1, 1),
         dwpe = twin_random((size_t)P * C, 7, -1, 1), dwtt = twin_random((size_t)2 * C, 8, -1, 1);
    cpu->embedding_forward(cpu, out.h, ids, pos, types, T, C, wte.h, wpe.h, wtt.h);
    gpu->embedding_forward(gpu, out.d, d_ids, d_pos, d_types, T, C, wte.d, wpe.d, wtt.d);
    check("embedding fwd", &out, 1e-6);
    cpu->embedding_backward(cpu, dwte.h, dwpe.h, dwtt.h, dout.h, ids, pos, types, T, C);
    gpu->embedding_backward(gpu, dwte.d, dwpe.d, dwtt.d, dout.d, d_ids, d_pos, d_types, T, C);
    check("embedding bwd dwte", &dwte, 1e-6);
    check("embedding bwd dwpe", &dwpe, 1e-6);
    check("embedding bwd dwtt", &dwtt, 1e-6);
    FREE_TWINS(&wte, &wpe, &wtt, &out, &dout, &dwte, &dwpe, &dwtt);
    gpu->free(gpu, d_ids);
    gpu->free(gpu, d_pos);
    gpu->free(gpu, d_types);
    close_gpu();
}

static void test_layernorm(void **state)
{
    (void)state;
    if (!open_gpu(WS_MATH_FP32)) {
        skip();
        return;
    }
    /* C = 384 as MiniLM (more than one warp's worth per row) and C = 33 */
    const int Cs[2] = {33, 384}, T = 19;
    for (int k = 0; k < 2; k++) {
        int C = Cs[k];
        twin inp = twin_random((size_t)T * C, 1, -2, 3), w = twin_random(C, 2, 0.5f, 1.5f),
             b = twin_random(C, 3, -1, 1), out = twin_random((size_t)T * C, 4, 0, 0), mean = twin_random(T, 5, 0, 0),
             rstd = twin_random(T, 6, 0, 0), dout = twin_random((size_t)T * C, 7, -1, 1),
             dinp = twin_random((size_t)T * C, 8, -1, 1), dw = twin_random(C, 9, -1, 1), db = twin_random(C, 10, -1, 1);
        cpu->layernorm_forward(cpu, out.h, mean.h, rstd.h, inp.h, w.h, b.h, T, C, 1e-12f);
        gpu->layernorm_forward(gpu, out.d, mean.d, rstd.d, inp.d, w.d, b.d, T, C, 1e-12f);
        check("layernorm fwd", &out, 1e-5);
        check("layernorm fwd mean", &mean, 1e-5);
        check("layernorm fwd rstd", &rstd, 1e-5);
        for (int accumulate = 1; accumulate >= 0; accumulate--) {
            cpu->layernorm_backward(cpu, dinp.h, dw.h, db.h, dout.h, inp.h, w.h, mean.h, rstd.h, T, C, accumulate);
            gpu->layernorm_backward(gpu, dinp.d, dw.d, db.d, dout.d, inp.d, w.d, mean.d, rstd.d, T, C, accumulate);
            check(accumulate ? "layernorm bwd dinp +=" : "layernorm bwd dinp", &dinp, 1e-5);
            check("layernorm bwd dw", &dw, 1e-5);
            check("layernorm bwd db", &db, 1e-5);
        }
        FREE_TWINS(&inp, &w, &b, &out, &mean, &rstd, &dout, &dinp, &dw, &db);
    }
    close_gpu();
}

static void test_elementwise(void **state)
{
    (void)state;
    if (!open_gpu(WS_MATH_FP32)) {
        skip();
        return;
    }
    const size_t n = 1001;
    twin x = twin_random(n, 1, -3, 3), out = twin_random(n, 3, 0, 0),
         dout = twin_random(n, 4, -1, 1), dinp = twin_random(n, 5, -1, 1);
    for (int leaky = 0; leaky < 2; leaky++) {
        float slope = leaky ? 0.01f : 0;
        cpu->relu_forward(cpu, out.h, x.h, n, slope);
        gpu->relu_forward(gpu, out.d, x.d, n, slope);
        check(leaky ? "leaky relu fwd" : "relu fwd", &out, 0);
        cpu->relu_backward(cpu, dinp.h, x.h, dout.h, n, slope);
        gpu->relu_backward(gpu, dinp.d, x.d, dout.d, n, slope);
        check(leaky ? "leaky relu bwd" : "relu bwd", &dinp, 1e-7);
    }
    FREE_TWINS(&x, &out, &dout, &dinp);
    close_gpu();
}

static void test_optimiser(void **state)
{
    (void)state;
    if (!open_gpu(WS_MATH_FP32)) {
        skip();
        return;
    }
    const size_t n = 100003; /* more than one block of any reduction */
    twin g = twin_random(n, 1, -1, 1), p = twin_random(n, 2, -1, 1), m = twin_random(n, 3, -0.1f, 0.1f),
         v = twin_random(n, 4, 0, 0.01f);
    double sc = cpu->sum_squares(cpu, g.h, n), sg = gpu->sum_squares(gpu, g.d, n);
    print_message("# %-28s %.2e\n", "sum of squares", fabs(sc - sg) / sc);
    assert_true(fabs(sc - sg) <= 1e-6 * sc);
    ws_adamw_opts o = ws_adamw_defaults();
    for (int decay = 0; decay < 2; decay++)
        for (int64_t t = 1; t <= 3; t++) { /* the gradient as it is, then clipped */
            cpu->adamw(cpu, &o, 1e-3, t, p.h, g.h, t == 1 ? 1.0f : 0.37f, m.h, v.h, n, decay);
            gpu->adamw(gpu, &o, 1e-3, t, p.d, g.d, t == 1 ? 1.0f : 0.37f, m.d, v.d, n, decay);
        }
    check("adamw param", &p, 1e-6);
    check("adamw m", &m, 1e-6);
    check("adamw v", &v, 1e-6);
    FREE_TWINS(&g, &p, &m, &v);
    close_gpu();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_fp32), cmocka_unit_test(test_matmul_tf32), cmocka_unit_test(test_matmul_bf16),
        cmocka_unit_test(test_embedding),   cmocka_unit_test(test_layernorm),   cmocka_unit_test(test_elementwise),
        cmocka_unit_test(test_optimiser),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
