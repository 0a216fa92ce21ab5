/* CPU vs CUDA parity of the choice model: forward outputs, gradients and a 20-update imitation
 * run, for each GPU precision (fp32, tf32, bf16), against the CPU reference on the same weights
 * and batch. Skipped where no GPU is usable (or the build has no CUDA backend).
 * Bounds (relative, over whole arrays): fp32 1e-4, tf32 1e-3, bf16 1e-2 (the CUDA issue's).
 * A second batch is shaped like WebShop's decisions, for a model with token types
 * (WS_SEGMENTS_MATCH) and item titles: an instruction, product buttons with their listings, clicks
 * on the products and on an instruction word, so that the packed types and listings the CPU and
 * the GPU both consume are not all zero. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backend.h"
#include "model.h"
#include "objectives.h"
#include "rel_diff.h"
#include "rng.h"
#include "train.h"

enum { B = 4, N_ACT = 5 };

typedef struct fixture {
    int32_t *states[B], *actions[B * N_ACT];
    int state_len[B], n_actions[B], action_len[B * N_ACT], target[B];
    ws_batch batch;
} fixture;

/* States of 40-120 tokens and actions of 2-9: ragged, as in WebShop. */
static void make_batch(fixture *f, int vocab)
{
    ws_rng r;
    ws_rng_seed(&r, 7, "cuda-parity");
    for (int i = 0; i < B; i++) {
        f->state_len[i] = 40 + (int)ws_rng_below(&r, 80);
        f->states[i] = malloc((size_t)f->state_len[i] * sizeof **f->states);
        for (int k = 0; k < f->state_len[i]; k++)
            f->states[i][k] = (int32_t)ws_rng_below(&r, (uint64_t)vocab);
        f->n_actions[i] = N_ACT;
        f->target[i] = (int)ws_rng_below(&r, N_ACT);
    }
    for (int a = 0; a < B * N_ACT; a++) {
        f->action_len[a] = 2 + (int)ws_rng_below(&r, 8);
        f->actions[a] = malloc((size_t)f->action_len[a] * sizeof **f->actions);
        for (int k = 0; k < f->action_len[a]; k++)
            f->actions[a][k] = (int32_t)ws_rng_below(&r, (uint64_t)vocab);
    }
    f->batch = (ws_batch){B, (const int32_t *const *)f->states, f->state_len, f->n_actions,
                          (const int32_t *const *)f->actions, f->action_len};
}

/* Words drawn from ids that none of the rules' marker tokens (model.h) fall in. */
static int32_t word(ws_rng *r)
{
    return (int32_t)(3000 + ws_rng_below(r, 4000));
}

/* [CLS] instruction : six words, three products ([button] b ##0 v [button_] five-word listing),
 * filler, [SEP]; actions: a click on each product (a listing follows at packing), a click on an
 * instruction word (type 1 under WS_SEGMENTS_MATCH), a random search-like sequence. */
static void make_webshop_batch(fixture *f)
{
    ws_rng r;
    ws_rng_seed(&r, 7, "cuda-parity-webshop");
    for (int i = 0; i < B; i++) {
        int len = 60 + (int)ws_rng_below(&r, 60), k = 0;
        int32_t *st = f->states[i] = malloc((size_t)len * sizeof *st), ins[6], asin[3];
        st[k++] = 101;
        st[k++] = WS_TOKEN_INSTRUCTION;
        st[k++] = WS_TOKEN_COLON;
        for (int w = 0; w < 6; w++)
            st[k++] = ins[w] = word(&r);
        for (int p = 0; p < 3; p++) {
            st[k++] = WS_TOKEN_FIRST_ADDED;
            st[k++] = WS_TOKEN_B;
            st[k++] = WS_TOKEN_SUFFIX_0;
            st[k++] = asin[p] = word(&r);
            st[k++] = WS_TOKEN_BUTTON_END;
            for (int w = 0; w < 5; w++)
                st[k++] = word(&r);
        }
        while (k < len - 1)
            st[k++] = word(&r);
        st[k++] = WS_TOKEN_SEP;
        f->state_len[i] = len;
        f->n_actions[i] = N_ACT;
        f->target[i] = (int)ws_rng_below(&r, N_ACT);
        for (int j = 0; j < N_ACT; j++) {
            int a = i * N_ACT + j, n = 0;
            int32_t *act = f->actions[a] = malloc(10 * sizeof *act);
            act[n++] = 101;
            if (j < 3) {
                const int32_t click[] = {WS_TOKEN_CLICK, WS_TOKEN_OPEN_BRACKET, WS_TOKEN_B, WS_TOKEN_SUFFIX_0, asin[j],
                                         WS_TOKEN_CLOSE_BRACKET};
                memcpy(act + n, click, sizeof click);
                n += 6;
            } else if (j == 3) {
                act[n++] = WS_TOKEN_CLICK;
                act[n++] = WS_TOKEN_OPEN_BRACKET;
                act[n++] = ins[ws_rng_below(&r, 6)];
                act[n++] = WS_TOKEN_CLOSE_BRACKET;
            } else {
                for (int w = 1 + (int)ws_rng_below(&r, 7); w > 0; w--)
                    act[n++] = word(&r);
            }
            act[n++] = WS_TOKEN_SEP;
            f->action_len[a] = n;
        }
    }
    f->batch = (ws_batch){B, (const int32_t *const *)f->states, f->state_len, f->n_actions,
                          (const int32_t *const *)f->actions, f->action_len};
}

static void free_batch(fixture *f)
{
    for (int i = 0; i < B; i++)
        free(f->states[i]);
    for (int a = 0; a < B * N_ACT; a++)
        free(f->actions[a]);
}

/* Tensors the imitation loss cannot move (their gradient is exactly zero: rounding noise that
 * AdamW turns into full steps), left out of the weight comparison. */
static int gauge(const char *name)
{
    return strstr(name, "key.bias") || strcmp(name, "linear_2.bias") == 0;
}

static ws_model *new_model(const ws_model_config *cfg)
{
    ws_err err;
    ws_model *m = ws_model_new(cfg, &err);
    assert_non_null(m);
    ws_model_init_random(m, 11);
    return m;
}

static void parity(ws_gpu_math math, double bound, int webshop)
{
    if (ws_cuda_device_count() == 0) {
        print_message("# SKIP reason: %s\n", ws_cuda_built() ? "no CUDA device on this machine"
                                                            : "a build without the CUDA backend (make CUDA=1)");
        skip();
        return;
    }
    ws_model_config cfg = {.vocab_size = 1000, .hidden = 128, .layers = 2, .heads = 4, .intermediate = 512,
                           .max_position = 512, .type_vocab = 2, .ln_eps = 1e-12, .value_hidden = 32};
    fixture f;
    if (webshop) {
        cfg.vocab_size = WS_TOKEN_FIRST_ADDED + 4;
        cfg.segments = WS_SEGMENTS_MATCH;
        cfg.item_titles = 1;
        make_webshop_batch(&f);
    } else {
        make_batch(&f, cfg.vocab_size);
    }
    ws_err err;
    ws_model *cpu = new_model(&cfg), *gpu = new_model(&cfg);
    ws_backend *be = ws_backend_cuda_new(0, math, &err);
    if (!be)
        fail_msg("%s", err.msg);
    assert_int_equal(ws_model_to_backend(gpu, be, &err), 0);

    /* forward */
    assert_int_equal(ws_model_forward(cpu, &f.batch, &err), 0);
    assert_int_equal(ws_model_forward(gpu, &f.batch, &err), 0);
    size_t A = B * N_ACT;
    double e_logits = rel_diff(ws_model_logits(cpu), ws_model_logits(gpu), A);
    double e_logp = rel_diff(ws_model_logp(cpu), ws_model_logp(gpu), A);
    double e_values = rel_diff(ws_model_values(cpu), ws_model_values(gpu), B);
    /* the encoder's output alone: tells the encoder from the head when the logits are off */
    size_t enc_n = ws_model_batch_tokens(cpu) * (size_t)cfg.hidden;
    float *enc = malloc(enc_n * sizeof *enc);
    be->download(be, enc, ws_model_encoder_output(gpu), enc_n * sizeof *enc);
    double e_enc = rel_diff(ws_model_encoder_output(cpu), enc, enc_n);
    free(enc);

    /* Gradients for a fixed upstream gradient. Not the imitation loss's: its dlogits sum to zero
     * over each decision's actions, and at random initialisation the actions' scores are nearly
     * the same function of the weights, so its parameter gradients are small differences of
     * large terms; on an H100 TF32's rounding of the terms came out as 1.2e-2 of the difference
     * (fp32: 8.5e-7). The backward is linear in the upstream gradient, so a fixed random one
     * whose terms do not cancel checks the same code at the precision's own scale. */
    ws_real dl_cpu[B * N_ACT] = {0}, dl_gpu[B * N_ACT] = {0}, dv[B] = {0.3f, -0.2f, 0.1f, 0.5f};
    size_t P = ws_model_n_params(cpu);
    float *g = malloc(P * sizeof *g);
    ws_il_stats st;
    ws_il_objective(ws_model_logp(cpu), f.n_actions, f.target, B, dl_cpu, &st);
    ws_il_objective(ws_model_logp(gpu), f.n_actions, f.target, B, dl_gpu, &st);
    ws_model_zero_grad(cpu);
    ws_model_zero_grad(gpu);
    assert_int_equal(ws_model_backward(cpu, dl_cpu, NULL, &err), 0);
    assert_int_equal(ws_model_backward(gpu, dl_gpu, NULL, &err), 0);
    be->download(be, g, ws_model_device_grads(gpu), P * sizeof *g);
    double e_il_grads = rel_diff(ws_model_device_grads(cpu), g, P); /* reported, not bounded */
    assert_int_equal(ws_model_forward(cpu, &f.batch, &err), 0); /* fresh activations for the next backward */
    assert_int_equal(ws_model_forward(gpu, &f.batch, &err), 0);
    ws_rng r;
    ws_rng_seed(&r, 3, "cuda-parity-dlogits");
    for (int a = 0; a < B * N_ACT; a++)
        dl_cpu[a] = dl_gpu[a] = (ws_real)(2 * ws_rng_uniform(&r) - 1);
    ws_model_zero_grad(cpu);
    ws_model_zero_grad(gpu);
    assert_int_equal(ws_model_backward(cpu, dl_cpu, dv, &err), 0);
    assert_int_equal(ws_model_backward(gpu, dl_gpu, dv, &err), 0);
    be->download(be, g, ws_model_device_grads(gpu), P * sizeof *g);
    assert_int_equal(be->status(be, &err), 0);
    double e_grads = rel_diff(ws_model_device_grads(cpu), g, P), worst = 0;
    /* How far the gradients move on the CPU alone when every weight is perturbed by the
     * precision's unit roundoff (random sign): the scale at which this model's gradients are
     * determined in that precision (2.7e-2 for TF32, 1.0e-1 for BF16 with this random model,
     * against 7.8e-7 for fp32). Gradients must be within the larger of the bound and that. */
    double roundoff = math == WS_MATH_FP32 ? 0x1p-24 : math == WS_MATH_TF32 ? 0x1p-11 : 0x1p-8;
    ws_model *pert = new_model(&cfg);
    ws_rng pr;
    ws_rng_seed(&pr, 5, "cuda-parity-perturb");
    for (size_t i = 0; i < P; i++)
        ws_model_params(pert)[i] *= (ws_real)(1 + (ws_rng_below(&pr, 2) ? roundoff : -roundoff));
    assert_int_equal(ws_model_forward(pert, &f.batch, &err), 0);
    ws_model_zero_grad(pert);
    assert_int_equal(ws_model_backward(pert, dl_cpu, dv, &err), 0);
    double floor_grads = rel_diff(ws_model_device_grads(cpu), ws_model_device_grads(pert), P);
    ws_model_free(pert);
    const char *worst_name = "";
    for (size_t t = 0; t < ws_model_n_tensors(cpu); t++) {
        const ws_tensor *tt = ws_model_tensor(cpu, t);
        if (gauge(tt->name))
            continue;
        double e = rel_diff(ws_model_device_grads(cpu) + tt->offset, g + tt->offset, tt->numel);
        if (e > bound)
            print_message("#   gradient of %s: %.2e\n", tt->name, e);
        if (e > worst)
            worst = e, worst_name = tt->name;
    }

    /* 20 AdamW updates on the same batch, each side on its own outputs */
    ws_adamw_opts adam = ws_adamw_defaults();
    ws_lr_schedule sched = {.kind = WS_LR_CONSTANT, .lr = 1e-4};
    ws_trainer tc, tg;
    assert_int_equal(ws_trainer_init(&tc, cpu, &adam, &sched, 1.0, 1.0, &err), 0);
    assert_int_equal(ws_trainer_init(&tg, gpu, &adam, &sched, 1.0, 1.0, &err), 0);
    for (int step = 0; step < 20; step++) {
        ws_model *ms[2] = {cpu, gpu};
        ws_trainer *ts[2] = {&tc, &tg};
        for (int k = 0; k < 2; k++) {
            ws_real dl[B * N_ACT] = {0};
            double norm, lr;
            assert_int_equal(ws_model_forward(ms[k], &f.batch, &err), 0);
            ws_il_objective(ws_model_logp(ms[k]), f.n_actions, f.target, B, dl, &st);
            ws_model_zero_grad(ms[k]);
            assert_int_equal(ws_model_backward(ms[k], dl, NULL, &err), 0);
            assert_int_equal(ws_trainer_update(ts[k], &norm, &lr, &err), 0);
        }
    }
    /* the CPU trainer updates the embedding rows late: all of them up to date, as saving does */
    assert_int_equal(ws_trainer_state_to_host(&tc, &err), 0);
    assert_int_equal(ws_model_params_to_host(gpu, &err), 0);
    double dw = 0, sw = 0;
    for (size_t t = 0; t < ws_model_n_tensors(cpu); t++) {
        const ws_tensor *tt = ws_model_tensor(cpu, t);
        if (gauge(tt->name))
            continue;
        const float *a = ws_model_params(cpu) + tt->offset, *b = ws_model_params(gpu) + tt->offset;
        for (size_t i = 0; i < tt->numel; i++) {
            dw += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
            sw += (double)a[i] * a[i];
        }
    }
    double e_weights = sqrt(dw / sw);
    print_message("# %s%s: encoder output %.2e, logits %.2e, logp %.2e, values %.2e, "
                  "gradients %.2e (worst tensor %.2e, %s; imitation loss's %.2e; "
                  "CPU under a roundoff perturbation of the weights %.2e), weights after 20 updates %.2e "
                  "(bound %.0e)\n",
                  math == WS_MATH_FP32 ? "fp32" : math == WS_MATH_TF32 ? "tf32" : "bf16",
                  webshop ? " (token types, item titles)" : "", e_enc, e_logits, e_logp,
                  e_values, e_grads, worst, worst_name, e_il_grads, floor_grads, e_weights, bound);
    assert_true(e_enc <= bound && e_logits <= bound && e_logp <= bound && e_values <= bound);
    double grad_bound = bound > floor_grads ? bound : floor_grads;
    assert_true(e_grads <= grad_bound && worst <= 10 * grad_bound);
    assert_true(e_weights <= bound);
    ws_trainer_free(&tc);
    ws_trainer_free(&tg);
    free(g);
    ws_model_free(cpu);
    ws_model_free(gpu);
    ws_backend_close(be);
    free_batch(&f);
}

static void test_fp32(void **state)
{
    (void)state;
    parity(WS_MATH_FP32, 1e-4, 0);
}

static void test_tf32(void **state)
{
    (void)state;
    parity(WS_MATH_TF32, 1e-3, 0);
}

static void test_bf16(void **state)
{
    (void)state;
    parity(WS_MATH_BF16, 1e-2, 0);
}

/* fp32 alone: the packing (types, listings) is the CPU's code for both backends, so one precision
 * checks that the GPU consumes it as the CPU does. */
static void test_fp32_webshop(void **state)
{
    (void)state;
    parity(WS_MATH_FP32, 1e-4, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_fp32), cmocka_unit_test(test_tf32),
                                       cmocka_unit_test(test_bf16), cmocka_unit_test(test_fp32_webshop)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
