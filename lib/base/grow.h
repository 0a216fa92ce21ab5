/* grow: the one growth policy for arrays that are appended to (tokens, postings, clickables,
 * queued states, a line gathered across refills): the capacity doubles, from a first capacity
 * each array picks, until it holds what is needed, so n appends copy O(n) items in all; and the
 * reallocation that refuses a byte count past PTRDIFF_MAX (where `cap * item_size` would wrap
 * size_t into a small block that the caller would then overrun) instead of asking for it.
 *
 * Most arrays need only ws_grow. Arrays indexed alike that share one capacity (a builder's
 * per-document columns) take the capacity from ws_grow_cap and reallocate each with
 * ws_realloc_array, storing the capacity once all of them have grown. */
#ifndef WS_GROW_H
#define WS_GROW_H

#include <stddef.h>

/* ws_grow past its first test, out of line: the reallocation. Call ws_grow. */
void *ws_grow_realloc(void *items, size_t *cap, size_t need, size_t item_size, size_t first_cap);

/* `items` (of *cap items of item_size bytes) with room for `need` items: `items` itself when it
 * has it, else reallocated to the capacity ws_grow_cap gives, which is stored in *cap. NULL when
 * memory runs out or the size is refused: then *cap is unchanged and `items` still belongs to the
 * caller. Never NULL otherwise: an empty request (`need` 0) with nothing allocated yet gets the
 * first capacity, so a caller can read NULL as the failure. item_size is at least 1.
 *
 * Inline for the test alone, which is all most calls do: the tokenizers append per code point,
 * the index builder per posting. */
static inline void *ws_grow(void *items, size_t *cap, size_t need, size_t item_size, size_t first_cap)
{
    return need && need <= *cap ? items : ws_grow_realloc(items, cap, need, item_size, first_cap);
}

/* The capacity that holds `need` items: `cap` when it does, else `cap` (first_cap when 0; 1 when
 * that is 0 too) doubled until it does. A doubling that would wrap size_t stops at SIZE_MAX, which
 * ws_realloc_array then refuses. */
size_t ws_grow_cap(size_t cap, size_t need, size_t first_cap);

/* realloc to n items of item_size bytes; NULL, leaving `items` as it was, when memory runs out or
 * when n * item_size would pass PTRDIFF_MAX or n or item_size is 0 (realloc would free `items`). */
void *ws_realloc_array(void *items, size_t n, size_t item_size);

#endif
