/* strmap: the project's one string map (as Redis has one dict): byte strings to dense indices.
 *
 * Keys get indices 0, 1, 2... in the order they are first added, and keep them; the caller keeps
 * whatever it maps to in its own arrays indexed by them (a vocabulary's ids, a lexicon's counts, a
 * term's postings, a product's serialised record). Keys (any bytes, NULs too) are copied into one
 * arena, each followed by a NUL so that text keys read as C strings. Open addressing with linear
 * probing on ws_hash_bytes, at most half full. A zeroed ws_strmap is an empty map. */
#ifndef WS_STRMAP_H
#define WS_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct ws_strmap {
    char *arena;       /* the keys, back to back, each NUL-terminated */
    size_t arena_len, arena_cap;
    size_t *key_off;   /* per index: the key's offset in arena */
    uint32_t *key_len; /* per index: its length in bytes */
    size_t n, cap;     /* keys, and room in the per-index arrays */
    uint32_t *slots;   /* index + 1; 0: empty */
    size_t n_slots;    /* a power of two */
} ws_strmap;

/* The index of the key, or -1 when absent. */
long ws_strmap_find(const ws_strmap *m, const void *key, size_t len);
/* The index of the key, added when absent (*added says which; added may be NULL); -1 when
 * memory runs out or the map is full (2^32 - 2 keys, or a key over 4 GiB). The key must not
 * point into the map's own arena (adding may move it). */
long ws_strmap_add(ws_strmap *m, const void *key, size_t len, int *added);
/* Key i and its length (len may be NULL). */
const char *ws_strmap_key(const ws_strmap *m, size_t i, size_t *len);
static inline size_t ws_strmap_count(const ws_strmap *m) { return m->n; }
/* Bytes held (arena, per-index arrays, slots), for memory reports. */
size_t ws_strmap_bytes(const ws_strmap *m);
void ws_strmap_free(ws_strmap *m); /* leaves an empty map */

/* A read-only map over arrays laid out as a map's own (a file mapped into memory holding a map's
 * arena, key_off, key_len and slots): finds work, adding or freeing must not be called. -1 when
 * the arrays do not make a map (a key outside the arena, a slot naming no key, no empty slot, a
 * slot count that is not a power of two), so that no find can read outside them or loop. */
int ws_strmap_view(ws_strmap *m, const char *arena, size_t arena_len, const size_t *key_off,
                   const uint32_t *key_len, size_t n, const uint32_t *slots, size_t n_slots);

#endif
