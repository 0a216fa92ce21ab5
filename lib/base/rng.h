/* rng: the seeded generator behind every random choice (xoshiro256**).
 *
 * A (seed, stream name) pair selects an independent sequence, so adding a random choice in one
 * place never shifts the draws of another: prices, goal prices and the goal shuffle each use
 * their own named stream. Same seed, same outputs, on every platform. */
#ifndef WS_RNG_H
#define WS_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct ws_rng {
    uint64_t s[4];
} ws_rng;

void ws_rng_seed(ws_rng *r, uint64_t seed, const char *stream);
uint64_t ws_rng_next(ws_rng *r);
double ws_rng_uniform(ws_rng *r);               /* [0, 1), 53 random bits */
uint64_t ws_rng_below(ws_rng *r, uint64_t n);   /* uniform in [0, n), unbiased; n > 0 */
void ws_rng_shuffle(ws_rng *r, size_t *items, size_t n); /* Fisher-Yates */
/* The project's one policy sampler (every caller that picks an action from a model's scores uses
 * it: the agent, pair-prefs' reference): an index drawn from softmax(logp / temperature), from
 * log-probabilities or logits (a constant shift changes nothing); temperature 0 takes the argmax,
 * the lowest index on ties, and draws nothing. One uniform draw per call otherwise. n > 0. */
int ws_rng_softmax(ws_rng *r, const double *logp, int n, double temperature);

#endif
