#include "strmap.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hash.h"

/* The slot holding the key, or the empty slot where it would go. */
static size_t slot_of(const ws_strmap *m, const void *key, size_t len)
{
    size_t mask = m->n_slots - 1;
    for (size_t s = (size_t)ws_hash_bytes(key, len) & mask;; s = (s + 1) & mask) {
        uint32_t v = m->slots[s];
        if (!v || (m->key_len[v - 1] == len && memcmp(m->arena + m->key_off[v - 1], key, len) == 0))
            return s;
    }
}

long ws_strmap_find(const ws_strmap *m, const void *key, size_t len)
{
    if (!m->n_slots)
        return -1;
    uint32_t v = m->slots[slot_of(m, key, len)];
    return v ? (long)v - 1 : -1;
}

static int rehash(ws_strmap *m, size_t n_slots)
{
    uint32_t *slots = calloc(n_slots, sizeof *slots);
    if (!slots)
        return -1;
    free(m->slots);
    m->slots = slots;
    m->n_slots = n_slots;
    for (size_t i = 0; i < m->n; i++)
        slots[slot_of(m, m->arena + m->key_off[i], m->key_len[i])] = (uint32_t)i + 1;
    return 0;
}

/* Maps start small (an episode keeps one per session for a handful of products, and a thousand
 * sessions may be open) and double, so a large one pays the same amortised cost. */
enum { FIRST_KEYS = 16, FIRST_ARENA = 256, FIRST_SLOTS = 32 };

static int reserve(ws_strmap *m, size_t len)
{
    if (m->n == m->cap) {
        size_t cap = ws_grow_cap(m->cap, m->n + 1, FIRST_KEYS);
        size_t *off = ws_realloc_array(m->key_off, cap, sizeof *off);
        if (!off)
            return -1;
        m->key_off = off;
        uint32_t *l = ws_realloc_array(m->key_len, cap, sizeof *l);
        if (!l)
            return -1;
        m->key_len = l;
        m->cap = cap;
    }
    char *a = ws_grow(m->arena, &m->arena_cap, m->arena_len + len + 1, 1, FIRST_ARENA);
    if (!a)
        return -1;
    m->arena = a;
    return 0;
}

long ws_strmap_add(ws_strmap *m, const void *key, size_t len, int *added)
{
    long found = ws_strmap_find(m, key, len);
    if (added)
        *added = found < 0;
    if (found >= 0)
        return found;
    if (len > UINT32_MAX || m->n >= UINT32_MAX - 1)
        return -1;
    if ((m->n + 1) * 2 > m->n_slots && rehash(m, m->n_slots ? m->n_slots * 2 : FIRST_SLOTS))
        return -1;
    if (reserve(m, len))
        return -1;
    m->key_off[m->n] = m->arena_len;
    m->key_len[m->n] = (uint32_t)len;
    if (len)
        memcpy(m->arena + m->arena_len, key, len);
    m->arena[m->arena_len + len] = '\0';
    m->arena_len += len + 1;
    m->slots[slot_of(m, key, len)] = (uint32_t)m->n + 1;
    return (long)m->n++;
}

const char *ws_strmap_key(const ws_strmap *m, size_t i, size_t *len)
{
    if (len)
        *len = m->key_len[i];
    return m->arena + m->key_off[i];
}

size_t ws_strmap_bytes(const ws_strmap *m)
{
    return m->arena_cap + m->cap * (sizeof *m->key_off + sizeof *m->key_len) + m->n_slots * sizeof *m->slots;
}

void ws_strmap_free(ws_strmap *m)
{
    free(m->arena);
    free(m->key_off);
    free(m->key_len);
    free(m->slots);
    memset(m, 0, sizeof *m);
}

int ws_strmap_view(ws_strmap *m, const char *arena, size_t arena_len, const size_t *key_off,
                   const uint32_t *key_len, size_t n, const uint32_t *slots, size_t n_slots)
{
    memset(m, 0, sizeof *m);
    if ((n_slots ? n >= n_slots : n > 0) || (n_slots & (n_slots - 1)))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (key_off[i] >= arena_len || key_len[i] >= arena_len - key_off[i])
            return -1;
    size_t empty = 0;
    for (size_t s = 0; s < n_slots; s++) {
        if (slots[s] > n)
            return -1;
        empty += slots[s] == 0;
    }
    if (n_slots && !empty)
        return -1; /* a probe for an absent key would never end */
    /* the map never writes through these: the casts only fit the one struct both uses share */
    *m = (ws_strmap){.arena = (char *)arena, .arena_len = arena_len, .key_off = (size_t *)key_off,
                     .key_len = (uint32_t *)key_len, .n = n, .slots = (uint32_t *)slots, .n_slots = n_slots};
    return 0;
}
