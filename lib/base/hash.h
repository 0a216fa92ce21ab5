/* hash: the project's one string hash, FNV-1a (64-bit).
 *
 * ws_fnv1a is the plain function (rng names its streams with it, so its values are part of every
 * seeded result and must never change); ws_hash_bytes adds a final avalanche so that tables
 * indexed by the low bits (ws_strmap) see every input byte there. */
#ifndef WS_HASH_H
#define WS_HASH_H

#include <stddef.h>
#include <stdint.h>

static inline uint64_t ws_fnv1a(const void *data, size_t n)
{
    const unsigned char *p = data;
    uint64_t h = 0xcbf29ce484222325ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ULL;
    return h;
}

static inline uint64_t ws_hash_bytes(const void *data, size_t n)
{
    uint64_t h = ws_fnv1a(data, n);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

#endif
