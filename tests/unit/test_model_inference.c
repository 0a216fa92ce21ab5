/* The model's inference mode (ws_model_set_inference): the same logits, log-probabilities, values
 * and encoder output as the training forward, bit for bit, over batches that grow and shrink (so
 * buffers are regrown between forwards in both modes, at different times); backward refused in
 * inference and working again once the model is back in training. Kept action encodings
 * (ws_model_cache_encodings): the same bits as encoding every action, on each CPU backend, with
 * actions repeated inside a batch and across batches, and a cache small enough to be emptied. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gemm_bf16.h"
#include "model.h"
#include "random_batch.h"
#include "rng.h"

/* A batch of `decisions` decisions whose states have 2 to max_state tokens. */
static void make_batch(random_batch *rb, ws_rng *r, int decisions, int max_state, int vocab)
{
    const random_batch_shape shape = {.decisions = decisions, .state_min = 2, .state_max = max_state,
                                      .actions_max = 10, .action_max = 12, .vocab = vocab, .span = vocab};
    random_batch_make(rb, r, &shape);
}

static ws_model *new_model(int layers)
{
    ws_model_config cfg = {.vocab_size = 100, .hidden = 32, .layers = layers, .heads = 4, .intermediate = 64,
                           .max_position = 64, .type_vocab = 2, .ln_eps = 1e-12, .value_hidden = 8};
    ws_err err;
    ws_model *m = ws_model_new(&cfg, &err);
    assert_non_null(m);
    ws_model_init_random(m, 7);
    return m;
}

/* Both models' last forward gave the same bits. */
static void assert_same_forward(const ws_model *x, const ws_model *y, const ws_batch *b)
{
    size_t A = (size_t)random_batch_actions(b), B = (size_t)b->n_decisions;
    assert_memory_equal(ws_model_logits(x), ws_model_logits(y), A * sizeof(ws_real));
    assert_memory_equal(ws_model_logp(x), ws_model_logp(y), A * sizeof(ws_real));
    assert_memory_equal(ws_model_values(x), ws_model_values(y), B * sizeof(ws_real));
    size_t enc = ws_model_batch_tokens(x) * (size_t)ws_model_get_config(x)->hidden;
    assert_int_equal(ws_model_batch_tokens(x), ws_model_batch_tokens(y));
    assert_memory_equal(ws_model_encoder_output(x), ws_model_encoder_output(y), enc * sizeof(ws_real));
}

/* Decision counts and state lengths that grow, shrink and grow past every earlier batch. */
static const int sizes[][2] = {{1, 8}, {3, 30}, {2, 10}, {6, 60}, {1, 4}, {8, 64}, {4, 40}};

static void test_inference_matches_training(void **state)
{
    (void)state;
    /* odd and even layer counts end on either of the two alternating buffers; 0: no encoder layer */
    for (int layers = 0; layers <= 3; layers++) {
        ws_model *train = new_model(layers), *infer = new_model(layers);
        ws_model_set_inference(infer, 1);
        ws_rng r;
        ws_rng_seed(&r, (uint64_t)layers, "test-model-inference");
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            random_batch rb;
            make_batch(&rb, &r, sizes[k][0], sizes[k][1], 100);
            ws_err err;
            assert_int_equal(ws_model_forward(train, &rb.batch, &err), 0);
            assert_int_equal(ws_model_forward(infer, &rb.batch, &err), 0);
            assert_same_forward(train, infer, &rb.batch);
            random_batch_free(&rb);
        }
        ws_model_free(train);
        ws_model_free(infer);
    }
}

static void test_backward_refused_in_inference(void **state)
{
    (void)state;
    ws_model *m = new_model(2), *reference = new_model(2);
    ws_rng r;
    ws_rng_seed(&r, 1, "test-model-inference");
    random_batch rb;
    make_batch(&rb, &r, 3, 20, 100);
    int A = random_batch_actions(&rb.batch);
    ws_real *dlogits = calloc((size_t)A, sizeof *dlogits);
    assert_non_null(dlogits);
    dlogits[0] = 1;
    ws_err err;

    ws_model_set_inference(m, 1);
    assert_int_equal(ws_model_forward(m, &rb.batch, &err), 0);
    assert_int_equal(ws_model_backward(m, dlogits, NULL, &err), -1);
    assert_non_null(strstr(err.msg, "inference"));

    /* back in training: forward and backward as a model that never left it */
    ws_model_set_inference(m, 0);
    assert_int_equal(ws_model_backward(m, dlogits, NULL, &err), -1); /* its activations went with the mode */
    assert_int_equal(ws_model_forward(m, &rb.batch, &err), 0);
    assert_int_equal(ws_model_forward(reference, &rb.batch, &err), 0);
    assert_same_forward(m, reference, &rb.batch);
    ws_model_zero_grad(m);
    ws_model_zero_grad(reference);
    assert_int_equal(ws_model_backward(m, dlogits, NULL, &err), 0);
    assert_int_equal(ws_model_backward(reference, dlogits, NULL, &err), 0);
    assert_memory_equal(ws_model_device_grads(m), ws_model_device_grads(reference),
                        ws_model_n_params(m) * sizeof(ws_real));
    free(dlogits);
    random_batch_free(&rb);
    ws_model_free(m);
    ws_model_free(reference);
}

/* A batch like make_batch's whose actions are drawn from `pool` fixed sequences, so that the same
 * action comes back within the batch and in later ones. */
static void make_repeating_batch(random_batch *rb, ws_rng *r, int decisions, int max_state, int vocab,
                                 int32_t *const *pool, const int *pool_len, int n_pool)
{
    make_batch(rb, r, decisions, max_state, vocab);
    for (int a = 0; a < random_batch_actions(&rb->batch); a++) {
        int p = (int)ws_rng_below(r, (uint64_t)n_pool);
        free(rb->actions[a]);
        rb->actions[a] = malloc((size_t)pool_len[p] * sizeof *rb->actions[a]);
        assert_non_null(rb->actions[a]);
        memcpy(rb->actions[a], pool[p], (size_t)pool_len[p] * sizeof *pool[p]);
        rb->action_len[a] = pool_len[p];
    }
}

static void test_kept_encodings_give_the_same_bits(void **state)
{
    (void)state;
    enum { POOL = 6 };
    ws_rng r;
    ws_rng_seed(&r, 5, "test-model-inference");
    int32_t *pool[POOL];
    int pool_len[POOL];
    for (int p = 0; p < POOL; p++) {
        pool_len[p] = 1 + (int)ws_rng_below(&r, 12);
        pool[p] = random_batch_ids(&r, pool_len[p], 100, 0, 100);
    }
    /* the fp32 table keeps them where its products are gemm_f32's (CPUs without AVX-512), not
     * where they are OpenBLAS's (its rows depend on the batch's shape) */
    const ws_backend *backends[] = {ws_backend_cpu_bf16(), ws_backend_cpu()};
    /* room for everything, and for about two actions (emptied again and again) */
    const size_t budgets[] = {1 << 20, 24 * 32 * sizeof(ws_real)};
    for (size_t b = 0; b < sizeof backends / sizeof *backends; b++) {
        if (!backends[b]) /* no bf16 products on this CPU */
            continue;
        for (size_t k = 0; k < sizeof budgets / sizeof *budgets; k++) {
            ws_err err;
            ws_model *plain = new_model(2), *kept = new_model(2);
            assert_int_equal(ws_model_to_backend(plain, backends[b], &err), 0);
            assert_int_equal(ws_model_to_backend(kept, backends[b], &err), 0);
            ws_model_set_inference(plain, 1);
            ws_model_set_inference(kept, 1);
            assert_int_equal(ws_model_cache_encodings(kept, budgets[k], &err), 0);
            for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
                random_batch rb;
                make_repeating_batch(&rb, &r, sizes[i][0], sizes[i][1], 100, pool, pool_len, POOL);
                assert_int_equal(ws_model_forward(plain, &rb.batch, &err), 0);
                assert_int_equal(ws_model_forward(kept, &rb.batch, &err), 0);
                assert_same_forward(plain, kept, &rb.batch);
                random_batch_free(&rb);
            }
            size_t found, encoded;
            ws_model_cache_stats(kept, &found, &encoded);
            int uses_them = ws_backend_rows_independent(backends[b]);
            assert_int_equal(found > 0, uses_them);
            assert_int_equal(encoded > 0, uses_them);
            ws_model_free(plain);
            ws_model_free(kept);
        }
    }
    for (int p = 0; p < POOL; p++)
        free(pool[p]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_inference_matches_training),
                                       cmocka_unit_test(test_backward_refused_in_inference),
                                       cmocka_unit_test(test_kept_encodings_give_the_same_bits)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
