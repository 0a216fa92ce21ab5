#include "pyrandom.h"

/* MT19937 as Matsumoto and Nishimura define it (the reference's init_genrand and init_by_array),
 * which is what CPython's _randommodule.c runs. */
#define MT_N 624
#define MT_M 397

static void init_genrand(ws_pyrandom *r, uint32_t s)
{
    r->mt[0] = s;
    for (int i = 1; i < MT_N; i++)
        r->mt[i] = 1812433253u * (r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) + (uint32_t)i;
    r->index = MT_N;
}

static void init_by_array(ws_pyrandom *r, const uint32_t *key, int len)
{
    init_genrand(r, 19650218u);
    int i = 1, j = 0;
    for (int k = MT_N > len ? MT_N : len; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1664525u)) + key[j] + (uint32_t)j;
        i++;
        j++;
        if (i >= MT_N) {
            r->mt[0] = r->mt[MT_N - 1];
            i = 1;
        }
        if (j >= len)
            j = 0;
    }
    for (int k = MT_N - 1; k; k--) {
        r->mt[i] = (r->mt[i] ^ ((r->mt[i - 1] ^ (r->mt[i - 1] >> 30)) * 1566083941u)) - (uint32_t)i;
        i++;
        if (i >= MT_N) {
            r->mt[0] = r->mt[MT_N - 1];
            i = 1;
        }
    }
    r->mt[0] = 0x80000000u; /* a non-zero initial state, whatever the key */
}

void ws_pyrandom_seed(ws_pyrandom *r, uint64_t seed)
{
    /* CPython keys the generator with the integer's 32-bit words, as many as it needs (one for 0) */
    uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)};
    init_by_array(r, key, key[1] ? 2 : 1);
}

static uint32_t genrand_uint32(ws_pyrandom *r)
{
    static const uint32_t mag01[2] = {0, 0x9908b0dfu};
    if (r->index >= MT_N) {
        int k;
        uint32_t y;
        for (k = 0; k < MT_N - MT_M; k++) {
            y = (r->mt[k] & 0x80000000u) | (r->mt[k + 1] & 0x7fffffffu);
            r->mt[k] = r->mt[k + MT_M] ^ (y >> 1) ^ mag01[y & 1];
        }
        for (; k < MT_N - 1; k++) {
            y = (r->mt[k] & 0x80000000u) | (r->mt[k + 1] & 0x7fffffffu);
            r->mt[k] = r->mt[k + (MT_M - MT_N)] ^ (y >> 1) ^ mag01[y & 1];
        }
        y = (r->mt[MT_N - 1] & 0x80000000u) | (r->mt[0] & 0x7fffffffu);
        r->mt[MT_N - 1] = r->mt[MT_M - 1] ^ (y >> 1) ^ mag01[y & 1];
        r->index = 0;
    }
    uint32_t y = r->mt[r->index++];
    y ^= y >> 11;
    y ^= (y << 7) & 0x9d2c5680u;
    y ^= (y << 15) & 0xefc60000u;
    y ^= y >> 18;
    return y;
}

uint32_t ws_pyrandom_getrandbits(ws_pyrandom *r, int k)
{
    return k <= 0 ? 0 : genrand_uint32(r) >> (32 - k);
}

uint32_t ws_pyrandom_below(ws_pyrandom *r, uint32_t n)
{
    int k = 0;
    while (k < 32 && (n >> k))
        k++; /* n.bit_length() */
    uint32_t x = ws_pyrandom_getrandbits(r, k);
    while (x >= n)
        x = ws_pyrandom_getrandbits(r, k);
    return x;
}

void ws_pyrandom_shuffle(ws_pyrandom *r, size_t *items, size_t n)
{
    for (size_t i = n; i-- > 1;) {
        size_t j = ws_pyrandom_below(r, (uint32_t)(i + 1));
        size_t t = items[i];
        items[i] = items[j];
        items[j] = t;
    }
}
