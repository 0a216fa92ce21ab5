/* pyrandom: Python's `random` module as far as WebShop's goal order needs it: the Mersenne
 * Twister seeded from an integer as CPython seeds it (init_by_array over the integer's 32-bit
 * words, least significant first), getrandbits, and random.shuffle (Fisher-Yates from the end,
 * each index drawn by rejection from getrandbits(bit_length)). The same seed gives the same
 * permutation as `random.seed(seed); random.shuffle(x)` in CPython 3 (tests/unit/test_rng.c and
 * tests/shell/test_goals.sh check it against python3). */
#ifndef WS_PYRANDOM_H
#define WS_PYRANDOM_H

#include <stddef.h>
#include <stdint.h>

typedef struct ws_pyrandom {
    uint32_t mt[624];
    int index;
} ws_pyrandom;

void ws_pyrandom_seed(ws_pyrandom *r, uint64_t seed);
/* getrandbits(k) for 0 <= k <= 32. */
uint32_t ws_pyrandom_getrandbits(ws_pyrandom *r, int k);
/* random._randbelow(n): uniform in [0, n), n >= 1, n < 2^32. */
uint32_t ws_pyrandom_below(ws_pyrandom *r, uint32_t n);
/* random.shuffle(items) in place; n < 2^32. */
void ws_pyrandom_shuffle(ws_pyrandom *r, size_t *items, size_t n);

#endif
