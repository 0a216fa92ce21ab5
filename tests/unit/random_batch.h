/* Random batches of decisions for the model's unit tests (test_model_inference, test_trainer):
 * states and actions of random lengths, their tokens drawn from a window of the vocabulary. The
 * draws go in one order (a state's length and tokens, its number of actions, then each action's
 * length and tokens), so a seed gives one batch. Include after cmocka.h (allocation failures are
 * the test's). */
#ifndef WS_TEST_RANDOM_BATCH_H
#define WS_TEST_RANDOM_BATCH_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "rng.h"

enum { RANDOM_BATCH_MAX_DECISIONS = 8, RANDOM_BATCH_MAX_ACTIONS = 10 /* a decision's */ };

typedef struct random_batch_shape {
    int decisions;
    int state_min, state_max; /* a state's tokens, both included */
    int actions_max;          /* 1 .. actions_max actions a decision */
    int action_max;           /* 1 .. action_max tokens an action */
    int vocab, from, span;    /* tokens (from + a draw below span) mod vocab: span = vocab, from = 0 for any */
} random_batch_shape;

typedef struct random_batch {
    int32_t *states[RANDOM_BATCH_MAX_DECISIONS], *actions[RANDOM_BATCH_MAX_DECISIONS * RANDOM_BATCH_MAX_ACTIONS];
    int state_len[RANDOM_BATCH_MAX_DECISIONS], n_actions[RANDOM_BATCH_MAX_DECISIONS],
        action_len[RANDOM_BATCH_MAX_DECISIONS * RANDOM_BATCH_MAX_ACTIONS];
    ws_batch batch;
} random_batch;

static inline int32_t *random_batch_ids(ws_rng *r, int len, int vocab, int from, int span)
{
    int32_t *ids = malloc((size_t)len * sizeof *ids);
    assert_non_null(ids);
    for (int k = 0; k < len; k++)
        ids[k] = (int32_t)((from + (int)ws_rng_below(r, (uint64_t)span)) % vocab);
    return ids;
}

static inline void random_batch_make(random_batch *rb, ws_rng *r, const random_batch_shape *s)
{
    assert_true(s->decisions <= RANDOM_BATCH_MAX_DECISIONS && s->actions_max <= RANDOM_BATCH_MAX_ACTIONS);
    memset(rb, 0, sizeof *rb);
    int a = 0;
    for (int i = 0; i < s->decisions; i++) {
        rb->state_len[i] = s->state_min + (int)ws_rng_below(r, (uint64_t)(s->state_max - s->state_min + 1));
        rb->states[i] = random_batch_ids(r, rb->state_len[i], s->vocab, s->from, s->span);
        rb->n_actions[i] = 1 + (int)ws_rng_below(r, (uint64_t)s->actions_max);
        for (int j = 0; j < rb->n_actions[i]; j++, a++) {
            rb->action_len[a] = 1 + (int)ws_rng_below(r, (uint64_t)s->action_max);
            rb->actions[a] = random_batch_ids(r, rb->action_len[a], s->vocab, s->from, s->span);
        }
    }
    rb->batch = (ws_batch){s->decisions, (const int32_t *const *)rb->states, rb->state_len, rb->n_actions,
                           (const int32_t *const *)rb->actions, rb->action_len};
}

static inline void random_batch_free(random_batch *rb)
{
    for (int i = 0; i < RANDOM_BATCH_MAX_DECISIONS; i++)
        free(rb->states[i]);
    for (int a = 0; a < RANDOM_BATCH_MAX_DECISIONS * RANDOM_BATCH_MAX_ACTIONS; a++)
        free(rb->actions[a]);
}

static inline int random_batch_actions(const ws_batch *b)
{
    int A = 0;
    for (int i = 0; i < b->n_decisions; i++)
        A += b->n_actions[i];
    return A;
}

#endif
