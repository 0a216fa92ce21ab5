#include "rng.h"

#include <math.h>
#include <string.h>

#include "hash.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void ws_rng_seed(ws_rng *r, uint64_t seed, const char *stream)
{
    uint64_t x = seed ^ ws_fnv1a(stream, stream ? strlen(stream) : 0);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t ws_rng_next(ws_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double ws_rng_uniform(ws_rng *r)
{
    return (double)(ws_rng_next(r) >> 11) * 0x1.0p-53;
}

uint64_t ws_rng_below(ws_rng *r, uint64_t n)
{
    /* Rejection keeps it unbiased: drop the top partial block of 2^64 mod n values. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = ws_rng_next(r);
    while (x >= limit);
    return x % n;
}

void ws_rng_shuffle(ws_rng *r, size_t *items, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)ws_rng_below(r, i);
        size_t t = items[i - 1];
        items[i - 1] = items[j];
        items[j] = t;
    }
}

int ws_rng_softmax(ws_rng *r, const double *logp, int n, double temperature)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (logp[j] > logp[best])
            best = j;
    if (temperature <= 0)
        return best;
    /* the largest term is exp(0) = 1: no overflow whatever the scale */
    double mx = logp[best], total = 0, u;
    for (int j = 0; j < n; j++)
        total += exp((logp[j] - mx) / temperature);
    u = ws_rng_uniform(r) * total;
    for (int j = 0; j < n; j++) {
        u -= exp((logp[j] - mx) / temperature);
        if (u < 0)
            return j;
    }
    return n - 1; /* rounding left u at or above 0 */
}
