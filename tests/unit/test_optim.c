/* Unit tests of lib/model/optim: AdamW against hand-computed steps, argument checks, gradient-norm
 * clipping (and its independence of the thread count), learning-rate schedules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "optim.h"

static void assert_near(double got, double want, double tol)
{
    if (!(fabs(got - want) <= tol))
        fail_msg("got %.12g, want %.12g (tolerance %g)", got, want, tol);
}

/* lr 0.1, betas (0.9, 0.999), eps 1e-8, weight decay 0.1; gradients 0.5, -0.25, 1.0.
 * Decayed tensor, p0 = 1:
 *   t=1: p = 1 * (1 - 0.1*0.1) = 0.99; m = 0.05; v = 0.001 * 0.25 = 0.00025
 *        m^ = 0.05/0.1 = 0.5; v^ = 0.00025/0.001 = 0.25; p -= 0.1 * 0.5 / (0.5 + 1e-8)
 *        p = 0.99 - 0.099999998 = 0.890000002
 *   t=2: p = 0.890000002 * 0.99 = 0.88110000198; m = 0.9*0.05 - 0.1*0.25 = 0.02
 *        v = 0.999*0.00025 + 0.001*0.0625 = 0.00031225
 *        m^ = 0.02/0.19 = 0.1052631579; v^ = 0.00031225/0.001999 = 0.1562031016
 *        p -= 0.1 * 0.1052631579 / (0.3952253808 + 1e-8) = 0.0266337067 -> 0.854466299
 *   t=3: p = 0.854466299 * 0.99; m = 0.9*0.02 + 0.1*1 = 0.118
 *        v = 0.999*0.00031225 + 0.001*1 = 0.00131193775
 *        m^ = 0.118/0.271; v^ = 0.00131193775/0.002997001 -> p = 0.780110477
 * Undecayed tensor, p0 = -2: -2.099999998, -2.126633701, -2.192444860 (same m, v). */
static void test_adamw_hand_computed(void **state)
{
    (void)state;
    ws_adamw_opts o = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1};
    float p[2] = {1.0f, -2.0f}, m[2] = {0}, v[2] = {0}, g[2];
    float *params[2] = {&p[0], &p[1]}, *ms[2] = {&m[0], &m[1]}, *vs[2] = {&v[0], &v[1]};
    const float *grads[2] = {&g[0], &g[1]};
    size_t numel[2] = {1, 1};
    unsigned char decay[2] = {1, 0};
    const float gs[3] = {0.5f, -0.25f, 1.0f};
    const double want_p0[3] = {0.890000002, 0.854466299, 0.780110477};
    const double want_p1[3] = {-2.099999998, -2.126633701, -2.192444860};
    const double want_m[3] = {0.05, 0.02, 0.118}, want_v[3] = {0.00025, 0.00031225, 0.00131193775};
    ws_err err;
    for (int t = 1; t <= 3; t++) {
        g[0] = g[1] = gs[t - 1];
        assert_int_equal(ws_adamw_step(ws_backend_cpu(), &o, 0.1, t, params, grads, 1.0f, ms, vs, numel, decay, NULL, 2, &err), 0);
        assert_near(p[0], want_p0[t - 1], 2e-7);
        assert_near(p[1], want_p1[t - 1], 4e-7);
        assert_near(m[0], want_m[t - 1], 1e-8);
        assert_near(v[0], want_v[t - 1], 1e-10);
        assert_true(m[0] == m[1] && v[0] == v[1]);
    }
}

static void test_adamw_pure_decay_and_defaults(void **state)
{
    (void)state;
    ws_adamw_opts o = ws_adamw_defaults();
    assert_true(o.beta1 == 0.9 && o.beta2 == 0.999 && o.eps == 1e-8 && o.weight_decay == 0.01);
    /* zero gradient: the Adam part is 0 / (0 + eps) = 0, only the decay acts */
    float p[3] = {2.0f, -4.0f, 0.5f}, g[3] = {0}, m[3] = {0}, v[3] = {0};
    ws_adamw_update(&o, 1e-3, 1, p, g, 1.0f, m, v, 3, 1);
    assert_true(p[0] == 2.0f * (float)(1 - 1e-5));
    assert_true(p[1] == -4.0f * (float)(1 - 1e-5));
    ws_adamw_update(&o, 1e-3, 2, p, g, 1.0f, m, v, 3, 0);
    assert_true(p[0] == 2.0f * (float)(1 - 1e-5)); /* no decay: unchanged */
    /* the first Adam step moves every element by about lr against its gradient's sign */
    float q[4] = {0, 0, 0, 0}, gq[4] = {1e-3f, -5.0f, 100.0f, -1e-6f}, mq[4] = {0}, vq[4] = {0};
    o.weight_decay = 0;
    ws_adamw_update(&o, 0.01, 1, q, gq, 1.0f, mq, vq, 4, 1);
    assert_near(q[0], -0.01, 1e-7);
    assert_near(q[1], 0.01, 1e-7);
    assert_near(q[2], -0.01, 1e-7);
    assert_near(q[3], 0.01 * 1e-6 / (1e-6 + 1e-8), 1e-7); /* eps matters for tiny gradients */
}

/* A tensor's lr_scale is its rate over the step's: scale 2 at lr 0.05 is lr 0.1, bit for bit, and
 * scale 0 freezes the tensor (its moments still move). */
static void test_adamw_lr_scale(void **state)
{
    (void)state;
    ws_adamw_opts o = {.beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .weight_decay = 0.1};
    float p[3] = {1.0f, 1.0f, 1.0f}, m[3] = {0}, v[3] = {0}, g = 0.5f, ref = 1.0f, rm = 0, rv = 0;
    float *params[3] = {&p[0], &p[1], &p[2]}, *ms[3] = {&m[0], &m[1], &m[2]}, *vs[3] = {&v[0], &v[1], &v[2]};
    const float *grads[3] = {&g, &g, &g};
    size_t numel[3] = {1, 1, 1};
    const double scale[3] = {2.0, 1.0, 0.0};
    ws_err err;
    for (int t = 1; t <= 3; t++) {
        assert_int_equal(ws_adamw_step(ws_backend_cpu(), &o, 0.05, t, params, grads, 1.0f, ms, vs, numel, NULL, scale, 3, &err), 0);
        ws_adamw_update(&o, 0.1, t, &ref, &g, 1.0f, &rm, &rv, 1, 1);
        assert_true(p[0] == ref);
    }
    assert_true(p[1] != ref && p[1] < 1.0f);
    assert_true(p[2] == 1.0f && m[2] == m[0]);
    const double bad[3] = {1.0, -1.0, 1.0};
    assert_int_equal(ws_adamw_step(ws_backend_cpu(), &o, 0.05, 4, params, grads, 1.0f, ms, vs, numel, NULL, bad, 3, &err), -1);
    assert_non_null(strstr(err.msg, "scale -1 of tensor 1"));
}

static void test_adamw_refusals(void **state)
{
    (void)state;
    ws_adamw_opts o = ws_adamw_defaults();
    float p = 1, g = 1, m = 0, v = 0;
    float *pp = &p, *mp = &m, *vp = &v;
    const float *gp = &g;
    size_t n = 1;
    ws_err err;
    assert_int_equal(ws_adamw_step(ws_backend_cpu(), &o, 0.1, 0, &pp, &gp, 1.0f, &mp, &vp, &n, NULL, NULL, 1, &err), -1);
    assert_non_null(strstr(err.msg, "the first update is step 1"));
    assert_int_equal(ws_adamw_step(ws_backend_cpu(), &o, -0.1, 1, &pp, &gp, 1.0f, &mp, &vp, &n, NULL, NULL, 1, &err), -1);
    assert_non_null(strstr(err.msg, "learning rate"));
    assert_int_equal(ws_adamw_step(ws_backend_cpu(), &o, NAN, 1, &pp, &gp, 1.0f, &mp, &vp, &n, NULL, NULL, 1, &err), -1);
    o.beta1 = 1.0;
    assert_int_equal(ws_adamw_step(ws_backend_cpu(), &o, 0.1, 1, &pp, &gp, 1.0f, &mp, &vp, &n, NULL, NULL, 1, &err), -1);
    assert_non_null(strstr(err.msg, "beta1 1 is outside [0, 1)"));
    o = ws_adamw_defaults();
    o.beta2 = -0.1;
    assert_int_equal(ws_adamw_check(&o, &err), -1);
    assert_non_null(strstr(err.msg, "beta2"));
    o = ws_adamw_defaults();
    o.eps = 0;
    assert_int_equal(ws_adamw_check(&o, &err), -1);
    o = ws_adamw_defaults();
    o.weight_decay = -1;
    assert_int_equal(ws_adamw_check(&o, &err), -1);
    assert_true(p == 1 && m == 0 && v == 0); /* nothing touched */
}

static void test_default_decay(void **state)
{
    (void)state;
    assert_int_equal(ws_adamw_default_decay("encoder.layer.0.attention.self.query.weight", 2), 1);
    assert_int_equal(ws_adamw_default_decay("embeddings.word_embeddings.weight", 2), 1);
    assert_int_equal(ws_adamw_default_decay("encoder.layer.0.attention.self.query.bias", 1), 0);
    assert_int_equal(ws_adamw_default_decay("embeddings.LayerNorm.weight", 1), 0);
    assert_int_equal(ws_adamw_default_decay("embeddings.LayerNorm.weight", 2), 0);
    assert_int_equal(ws_adamw_default_decay("head.layer_norm.weight", 2), 0);
    assert_int_equal(ws_adamw_default_decay("odd.bias", 2), 0);
    assert_int_equal(ws_adamw_default_decay("scale", 0), 0);
}

static void test_clip(void **state)
{
    (void)state;
    float a[2] = {3, 4}, b[1] = {12};
    const float *g[2] = {a, b};
    size_t n[2] = {2, 1};
    double norm = ws_grad_norm(ws_backend_cpu(), g, n, 2, NULL);
    assert_true(norm == 13.0);
    /* over the limit: max_norm / (norm + 1e-6); under it, at it, or no limit: 1 */
    assert_true(ws_clip_factor(norm, 6.5) == (float)(6.5 / (13.0 + 1e-6)));
    assert_true(ws_clip_factor(norm, 20) == 1.0f);
    assert_true(ws_clip_factor(norm, 13.0) == 1.0f);
    assert_true(ws_clip_factor(norm, 0) == 1.0f);
    /* non-finite norms: 1 (the trainer skips the update) */
    assert_true(ws_clip_factor(NAN, 1.0) == 1.0f && ws_clip_factor(INFINITY, 1.0) == 1.0f);
    /* non-finite gradients: the norm says so (the trainer then skips the update); no tensors,
     * empty tensors: 0 */
    b[0] = NAN;
    assert_true(isnan(ws_grad_norm(ws_backend_cpu(), g, n, 2, NULL)));
    b[0] = INFINITY;
    assert_true(isinf(ws_grad_norm(ws_backend_cpu(), g, n, 2, NULL)));
    b[0] = 12;
    assert_true(ws_grad_norm(ws_backend_cpu(), NULL, NULL, 0, NULL) == 0.0);
    size_t zero = 0;
    assert_true(ws_grad_norm(ws_backend_cpu(), g, &zero, 1, NULL) == 0.0);
    /* the update with the factor is, bit for bit, the update of the gradients scaled in place
     * first (as the clipping did before it was folded into the update) */
    ws_adamw_opts o = ws_adamw_defaults();
    float factor = ws_clip_factor(norm, 6.5), scaled[3], p[3] = {0.5f, -1.0f, 2.0f}, q[3], m[3] = {0}, v[3] = {0},
          mq[3] = {0}, vq[3] = {0};
    memcpy(q, p, sizeof q);
    for (int i = 0; i < 3; i++)
        scaled[i] = (i < 2 ? a[i] : b[0]) * factor;
    float joined[3] = {a[0], a[1], b[0]};
    for (int64_t t = 1; t <= 3; t++) {
        ws_adamw_update(&o, 1e-2, t, p, joined, factor, m, v, 3, 1);
        ws_adamw_update(&o, 1e-2, t, q, scaled, 1.0f, mq, vq, 3, 1);
    }
    assert_memory_equal(p, q, sizeof p);
    assert_memory_equal(m, mq, sizeof m);
    assert_memory_equal(v, vq, sizeof v);
}

/* The norm of a large gradient is the same, bit for bit, whatever the number of threads, and
 * equals the documented block-wise sum. */
static void test_norm_deterministic(void **state)
{
    (void)state;
    size_t n = 1000003;
    float *x = malloc(n * sizeof *x), *y = malloc(777 * sizeof *y);
    uint64_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5) * (i % 7 ? 1.0f : 1000.0f);
    }
    for (size_t i = 0; i < 777; i++)
        y[i] = (float)i * 1e-3f;
    const float *g[2] = {x, y};
    size_t nn[2] = {n, 777};
    /* optim.h's order: blocks of WS_NORM_BLOCK, each in eight running sums (element i of the block
     * into sum i mod 8) added in order, the blocks' sums added in order, tensor by tensor */
    double want = 0, py = 0;
    for (size_t b = 0; b * WS_NORM_BLOCK < n; b++) {
        double lane[8] = {0}, part = 0;
        for (size_t i = b * WS_NORM_BLOCK; i < n && i < (b + 1) * WS_NORM_BLOCK; i++)
            lane[(i - b * WS_NORM_BLOCK) % 8] += (double)x[i] * x[i];
        for (int j = 0; j < 8; j++)
            part += lane[j];
        want += part;
    }
    double ylane[8] = {0};
    for (size_t i = 0; i < 777; i++)
        ylane[i % 8] += (double)y[i] * y[i];
    for (int j = 0; j < 8; j++)
        py += ylane[j];
    want = sqrt(want + py);
    double one = 0, many = 0;
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    one = ws_grad_norm(ws_backend_cpu(), g, nn, 2, NULL);
    omp_set_num_threads(7);
    many = ws_grad_norm(ws_backend_cpu(), g, nn, 2, NULL);
    omp_set_num_threads(saved);
#else
    one = many = ws_grad_norm(ws_backend_cpu(), g, nn, 2, NULL);
#endif
    assert_memory_equal(&one, &want, sizeof one);
    assert_memory_equal(&many, &want, sizeof many);
    free(x);
    free(y);
}

/* A tensor zero outside some rows: its norm read in those rows only has the bits of reading it
 * whole, for widths whose rows straddle the norm's blocks (5, 384 -- 4096 is no multiple of
 * either) or fill them (512), rows that share a block, the first and the last row, and none. */
static void test_norm_sparse_rows(void **state)
{
    (void)state;
    const size_t widths[] = {5, 384, 512};
    const int32_t rows[] = {0, 3, 4, 10, 11, 12, 700, 1021, 2047};
    for (size_t w = 0; w < sizeof widths / sizeof *widths; w++) {
        size_t width = widths[w], n_rows = 2048, numel = n_rows * width;
        float *x = calloc(numel, sizeof *x), other[3] = {1.5f, -2.0f, 0.25f};
        uint64_t s = 99 + w;
        for (size_t r = 0; r < sizeof rows / sizeof *rows; r++)
            for (size_t i = 0; i < width; i++) {
                s = s * 6364136223846793005ull + 1442695040888963407ull;
                x[(size_t)rows[r] * width + i] = (float)((double)(s >> 11) / 9007199254740992.0 - 0.5);
            }
        const float *g[2] = {other, x};
        size_t nn[2] = {3, numel}, used = sizeof rows / sizeof *rows;
        for (int subset = 0; subset < 3; subset++) { /* all the rows, the first three, none */
            size_t n = subset == 0 ? used : subset == 1 ? 3 : 0;
            if (subset == 1)
                memset(x + 4 * width, 0, (numel - 4 * width) * sizeof *x); /* rows past row 3 zero again */
            if (subset == 2)
                memset(x, 0, numel * sizeof *x);
            const ws_sparse_rows sparse = {.tensor = 1, .width = width, .n_rows = n, .rows = rows};
            double whole = ws_grad_norm(ws_backend_cpu(), g, nn, 2, NULL);
            double in_rows = ws_grad_norm(ws_backend_cpu(), g, nn, 2, &sparse);
            assert_memory_equal(&in_rows, &whole, sizeof whole);
            double sq_whole = ws_sum_squares(x, numel), sq_rows = ws_sum_squares_rows(x, width, rows, n);
            assert_memory_equal(&sq_rows, &sq_whole, sizeof sq_whole);
        }
        free(x);
    }
}

static void test_schedules(void **state)
{
    (void)state;
    ws_lr_schedule c = {WS_LR_CONSTANT, 1e-3, 0, 10, 0};
    ws_err err;
    assert_int_equal(ws_lr_check(&c, &err), 0);
    assert_true(ws_lr_at(&c, 0) == 0.0); /* HF: the first update has lr 0 during warm-up */
    assert_near(ws_lr_at(&c, 1), 1e-4, 1e-18);
    assert_near(ws_lr_at(&c, 5), 5e-4, 1e-18);
    assert_true(ws_lr_at(&c, 10) == 1e-3);
    assert_true(ws_lr_at(&c, 1000000) == 1e-3);
    assert_true(ws_lr_at(&c, -3) == 0.0);
    c.warmup_steps = 0;
    assert_true(ws_lr_at(&c, 0) == 1e-3);

    ws_lr_schedule l = {WS_LR_LINEAR, 1e-3, 0, 10, 110};
    assert_int_equal(ws_lr_check(&l, &err), 0);
    assert_near(ws_lr_at(&l, 5), 5e-4, 1e-18);
    assert_true(ws_lr_at(&l, 10) == 1e-3);
    assert_near(ws_lr_at(&l, 60), 5e-4, 1e-15);
    assert_near(ws_lr_at(&l, 109), 1e-5, 1e-15);
    assert_true(ws_lr_at(&l, 110) == 0.0);
    assert_true(ws_lr_at(&l, 500) == 0.0);
    l.min_lr = 1e-4;
    assert_near(ws_lr_at(&l, 60), 1e-4 + 9e-4 * 0.5, 1e-15);
    assert_true(ws_lr_at(&l, 110) == 1e-4);
    assert_true(ws_lr_at(&l, 5000) == 1e-4);

    ws_lr_schedule k = {WS_LR_COSINE, 1e-3, 0, 0, 100};
    assert_int_equal(ws_lr_check(&k, &err), 0);
    assert_true(ws_lr_at(&k, 0) == 1e-3);
    assert_near(ws_lr_at(&k, 25), 0.5 * (1 + cos(M_PI / 4)) * 1e-3, 1e-15); /* 8.5355e-4 */
    assert_near(ws_lr_at(&k, 50), 5e-4, 1e-15);
    assert_near(ws_lr_at(&k, 75), 0.5 * (1 - cos(M_PI / 4)) * 1e-3, 1e-15);
    assert_true(ws_lr_at(&k, 100) == 0.0);
    assert_true(ws_lr_at(&k, 101) == 0.0);
    k.min_lr = 1e-5;
    k.warmup_steps = 20;
    k.total_steps = 120;
    assert_near(ws_lr_at(&k, 10), 5e-4, 1e-18);
    assert_true(ws_lr_at(&k, 20) == 1e-3);
    assert_near(ws_lr_at(&k, 70), 1e-5 + (1e-3 - 1e-5) * 0.5, 1e-15);
    assert_true(ws_lr_at(&k, 120) == 1e-5);
    /* warm-up as long as the run: decay lands on the floor at once */
    ws_lr_schedule w = {WS_LR_LINEAR, 1e-3, 0, 10, 10};
    assert_int_equal(ws_lr_check(&w, &err), 0);
    assert_near(ws_lr_at(&w, 9), 9e-4, 1e-18);
    assert_true(ws_lr_at(&w, 10) == 0.0);

    /* checks */
    ws_lr_schedule bad = {WS_LR_COSINE, 1e-3, 0, 100, 50};
    assert_int_equal(ws_lr_check(&bad, &err), -1);
    assert_non_null(strstr(err.msg, "cosine schedule: 50 total steps, fewer than the 100 of warm-up"));
    bad = (ws_lr_schedule){WS_LR_LINEAR, 1e-3, 2e-3, 0, 50};
    assert_int_equal(ws_lr_check(&bad, &err), -1);
    assert_non_null(strstr(err.msg, "minimum learning rate"));
    bad = (ws_lr_schedule){WS_LR_CONSTANT, -1, 0, 0, 0};
    assert_int_equal(ws_lr_check(&bad, &err), -1);
    bad = (ws_lr_schedule){WS_LR_CONSTANT, 1, 0, -1, 0};
    assert_int_equal(ws_lr_check(&bad, &err), -1);
    assert_non_null(strstr(err.msg, "negative warm-up"));
    bad = (ws_lr_schedule){(ws_lr_kind)7, 1, 0, 0, 0};
    assert_int_equal(ws_lr_check(&bad, &err), -1);

    ws_lr_kind kind;
    assert_int_equal(ws_lr_kind_parse("cosine", &kind), 0);
    assert_int_equal(kind, WS_LR_COSINE);
    assert_int_equal(ws_lr_kind_parse("linear", &kind), 0);
    assert_int_equal(kind, WS_LR_LINEAR);
    assert_int_equal(ws_lr_kind_parse("constant", &kind), 0);
    assert_int_equal(ws_lr_kind_parse("step", &kind), -1);
    assert_string_equal(ws_lr_kind_name(WS_LR_LINEAR), "linear");
}

/* A schedule driving AdamW end to end: lr(step) with step = t - 1. */
static void test_schedule_with_adamw(void **state)
{
    (void)state;
    ws_lr_schedule s = {WS_LR_LINEAR, 0.1, 0, 1, 3};
    ws_adamw_opts o = ws_adamw_defaults();
    o.weight_decay = 0;
    float p = 1, g = 1, m = 0, v = 0;
    ws_adamw_update(&o, ws_lr_at(&s, 0), 1, &p, &g, 1.0f, &m, &v, 1, 1); /* warm-up: lr 0 */
    assert_true(p == 1.0f);
    ws_adamw_update(&o, ws_lr_at(&s, 1), 2, &p, &g, 1.0f, &m, &v, 1, 1); /* lr 0.1 */
    assert_near(p, 0.9, 1e-6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adamw_hand_computed),
        cmocka_unit_test(test_adamw_pure_decay_and_defaults),
        cmocka_unit_test(test_adamw_lr_scale),
        cmocka_unit_test(test_adamw_refusals),
        cmocka_unit_test(test_default_decay),
        cmocka_unit_test(test_clip),
        cmocka_unit_test(test_norm_deterministic),
        cmocka_unit_test(test_norm_sparse_rows),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_schedule_with_adamw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
