/* ws_trainer's word-embedding rows updated late (train.h): the bits of updating every row in every
 * step. Two copies of a model train on the same batches, one updating the embedding rows late
 * (the default on the CPU backends), one every row each step; each forward must read the same
 * weights (its logits the same bits), and after the state is brought to the host (as saving
 * does) the weights and both moments must be the same bits. Batches draw their tokens from a
 * window of the vocabulary that moves, so that rows sit out runs of steps of different lengths
 * and come back; the schedule warms up and decays, so each replayed step has its own rate; weight
 * decay is on; halfway the state is brought to the host as a periodic save does, and training
 * goes on, past the trainer's own catch-up of every row each 64 updates. The late model's
 * gradients are zeroed, normed and scanned in the rows its backward wrote only
 * (ws_model_grad_rows), the other's whole. On each CPU backend (fp32, and bf16 where the CPU has
 * it).
 * The timed backend (ws_backend_timed_new, model_bench --profile-ops) around a CPU one: the same
 * bits, late rows and all (it answers as a host backend), and every kernel's calls counted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "backend.h"
#include "model.h"
#include "random_batch.h"
#include "rng.h"
#include "train.h"

enum { VOCAB = 300, HIDDEN = 32, WINDOW = 60, DECISIONS = 3, MAX_ACTIONS = 4, STEPS = 150 };
static const char WTE_NAME[] = "embeddings.word_embeddings.weight";

/* the window's tokens from `from` on */
static void make_batch(random_batch *rb, ws_rng *r, int from)
{
    const random_batch_shape shape = {.decisions = DECISIONS, .state_min = 4, .state_max = 23,
                                      .actions_max = MAX_ACTIONS, .action_max = 6, .vocab = VOCAB, .from = from,
                                      .span = WINDOW};
    random_batch_make(rb, r, &shape);
}

/* A loss gradient for each of the batch's actions, uniform in [-0.5, 0.5); returns their number. */
static int random_dlogits(ws_rng *r, const random_batch *bd, ws_real *dlogits)
{
    int A = 0;
    for (int i = 0; i < DECISIONS; i++)
        A += bd->n_actions[i];
    for (int a = 0; a < A; a++)
        dlogits[a] = (ws_real)(ws_rng_uniform(r) - 0.5);
    return A;
}

static ws_model *new_model(const ws_backend *be)
{
    ws_model_config cfg = {.vocab_size = VOCAB, .hidden = HIDDEN, .layers = 1, .heads = 4, .intermediate = 64,
                           .max_position = 64, .type_vocab = 2, .ln_eps = 1e-12, .value_hidden = 8};
    ws_err err;
    ws_model *m = ws_model_new(&cfg, &err);
    assert_non_null(m);
    ws_model_init_random(m, 7);
    assert_int_equal(ws_model_to_backend(m, be, &err), 0);
    return m;
}

static void train_both(const ws_backend *be)
{
    ws_model *late = new_model(be), *every = new_model(be);
    ws_adamw_opts adam = ws_adamw_defaults();
    ws_lr_schedule sched = {.kind = WS_LR_LINEAR, .lr = 1e-2, .warmup_steps = 5, .total_steps = STEPS};
    ws_trainer tl, te;
    ws_err err;
    assert_int_equal(ws_trainer_init(&tl, late, &adam, &sched, 1.0, 1.0, &err), 0);
    assert_int_equal(ws_trainer_init(&te, every, &adam, &sched, 1.0, 1.0, &err), 0);
    assert_int_equal(ws_trainer_lazy_rows(&te, 0, &err), 0);
    assert_true(tl.lazy < tl.n_tensors);
    assert_true(te.lazy == te.n_tensors);
    ws_rng r;
    ws_rng_seed(&r, 3, "trainer");
    size_t n = ws_model_n_params(late);
    for (int step = 0; step < STEPS; step++) {
        random_batch bd;
        /* the window jumps about: some rows come back after one step, some after dozens */
        make_batch(&bd, &r, (step * 37) % VOCAB);
        ws_real dlogits[DECISIONS * MAX_ACTIONS];
        int A = random_dlogits(&r, &bd, dlogits);
        ws_model *models[2] = {late, every};
        ws_trainer *trainers[2] = {&tl, &te};
        for (int k = 0; k < 2; k++) {
            ws_model_zero_grad(models[k]);
            assert_int_equal(ws_model_forward(models[k], &bd.batch, &err), 0);
            assert_int_equal(ws_model_backward(models[k], dlogits, NULL, &err), 0);
        }
        assert_memory_equal(ws_model_logits(late), ws_model_logits(every), (size_t)A * sizeof(ws_real));
        /* The late model's list of word-embedding rows written (the norm, the late rows and the next
         * zeroing visit only those): sorted, and holding every row whose gradient is not zero. Read
         * in the other model's gradients, the same bits; taking those also makes its next zeroing
         * whole, so that the two compare zeroing the rows written with zeroing everything. */
        size_t n_rows;
        const int32_t *rows = ws_model_grad_rows(late, &n_rows);
        assert_non_null(rows);
        const ws_real *wte = ws_model_device_grads(every) + ws_model_find_tensor(every, WTE_NAME)->offset;
        size_t listed = 0;
        for (size_t i = 0; i < VOCAB; i++) {
            int nonzero = 0;
            for (int c = 0; c < HIDDEN; c++)
                nonzero |= wte[i * HIDDEN + c] != 0;
            int in_list = listed < n_rows && rows[listed] == (int32_t)i;
            listed += in_list;
            assert_true(!nonzero || in_list);
        }
        assert_int_equal(listed, n_rows); /* each listed row met in order: sorted, distinct, in range */
        double norm[2], lr[2];
        for (int k = 0; k < 2; k++)
            assert_int_equal(ws_trainer_update(trainers[k], &norm[k], &lr[k], &err), 0);
        assert_memory_equal(&norm[0], &norm[1], sizeof norm[0]);
        if (step == STEPS / 2) /* a periodic save halfway: every row caught up, then on as before */
            assert_int_equal(ws_trainer_state_to_host(&tl, &err), 0);
        random_batch_free(&bd);
    }
    /* rows that sat out the last steps are behind until they are brought up to date */
    int behind = 0;
    for (int row = 0; row < tl.lazy_rows; row++)
        behind += tl.row_step[row] < tl.step;
    assert_true(behind > VOCAB / 2 && behind < VOCAB);
    assert_int_equal(ws_trainer_state_to_host(&tl, &err), 0);
    assert_int_equal(ws_trainer_state_to_host(&te, &err), 0);
    assert_int_equal(ws_model_params_to_host(late, &err), 0);
    assert_int_equal(ws_model_params_to_host(every, &err), 0);
    assert_memory_equal(ws_model_params(late), ws_model_params(every), n * sizeof(ws_real));
    assert_memory_equal(tl.adam_m, te.adam_m, n * sizeof(float));
    assert_memory_equal(tl.adam_v, te.adam_v, n * sizeof(float));
    ws_trainer_free(&tl);
    ws_trainer_free(&te);
    ws_model_free(late);
    ws_model_free(every);
}

static void test_late_rows_same_bits_fp32(void **state)
{
    (void)state;
    ws_backend_set_threads(2);
    train_both(ws_backend_cpu());
}

static void test_late_rows_same_bits_bf16(void **state)
{
    (void)state;
    const ws_backend *be = ws_backend_cpu_bf16();
    if (!be) {
        print_message("# SKIP reason: this CPU lacks AVX512_BF16 (cpuid)\n");
        skip();
    }
    ws_backend_set_threads(2);
    train_both(be);
}

/* A model on the timed backend and one on the plain backend, the same batches: the same logits
 * each step and the same weights after; the kernels' calls counted, and none after a reset. */
static void test_timed_backend_same_bits(void **state)
{
    (void)state;
    ws_err err;
    const ws_backend *plain = ws_backend_cpu();
    ws_backend *timed = ws_backend_timed_new(plain, &err);
    assert_non_null(timed);
    assert_true(ws_backend_on_host(timed));
    ws_backend_set_threads(2);
    ws_model *models[2] = {new_model(plain), new_model(timed)};
    ws_adamw_opts adam = ws_adamw_defaults();
    ws_lr_schedule sched = {.kind = WS_LR_CONSTANT, .lr = 1e-2};
    ws_trainer trainers[2];
    for (int k = 0; k < 2; k++)
        assert_int_equal(ws_trainer_init(&trainers[k], models[k], &adam, &sched, 1.0, 1.0, &err), 0);
    assert_true(trainers[1].lazy < trainers[1].n_tensors);
    ws_rng r;
    ws_rng_seed(&r, 3, "timed trainer");
    enum { TIMED_STEPS = 4 };
    for (int step = 0; step < TIMED_STEPS; step++) {
        random_batch bd;
        make_batch(&bd, &r, step * 11);
        ws_real dlogits[DECISIONS * MAX_ACTIONS];
        int A = random_dlogits(&r, &bd, dlogits);
        for (int k = 0; k < 2; k++) {
            double norm, lr;
            ws_model_zero_grad(models[k]);
            assert_int_equal(ws_model_forward(models[k], &bd.batch, &err), 0);
            assert_int_equal(ws_model_backward(models[k], dlogits, NULL, &err), 0);
            assert_int_equal(ws_trainer_update(&trainers[k], &norm, &lr, &err), 0);
        }
        assert_memory_equal(ws_model_logits(models[0]), ws_model_logits(models[1]), (size_t)A * sizeof(ws_real));
        random_batch_free(&bd);
    }
    ws_backend_op_time ops[64];
    int n = ws_backend_timed_ops(timed, ops, 64), seen = 0;
    for (int i = 0; i < n; i++) {
        assert_true(ops[i].calls > 0 && ops[i].seconds >= 0);
        if (strcmp(ops[i].op, "attention_forward") == 0 || strcmp(ops[i].op, "adamw") == 0) {
            assert_int_equal(ops[i].calls % TIMED_STEPS, 0);
            seen++;
        }
    }
    assert_int_equal(seen, 2);
    ws_backend_timed_reset(timed);
    assert_int_equal(ws_backend_timed_ops(timed, ops, 64), 0);
    size_t n_params = ws_model_n_params(models[0]);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(ws_trainer_state_to_host(&trainers[k], &err), 0);
        assert_int_equal(ws_model_params_to_host(models[k], &err), 0);
    }
    assert_memory_equal(ws_model_params(models[0]), ws_model_params(models[1]), n_params * sizeof(ws_real));
    for (int k = 0; k < 2; k++) {
        ws_trainer_free(&trainers[k]);
        ws_model_free(models[k]);
    }
    ws_backend_close(timed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_late_rows_same_bits_fp32),
                                       cmocka_unit_test(test_late_rows_same_bits_bf16),
                                       cmocka_unit_test(test_timed_backend_same_bits)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
