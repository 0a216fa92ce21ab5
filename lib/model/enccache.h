/* enccache: the encoder's output for action sequences, kept across the forward passes of a model
 * whose weights no longer change (the players), so that an action seen before is not encoded again.
 *
 * The model encodes every action as a sequence of its own (its tokens, its listing, its token
 * types), and on the host every row of the encoder comes out the same whatever else is in the batch
 * (each product sums its rows in one order, attention runs per sequence, LayerNorm per row). So an
 * action's encoder output depends on its tokens and token types alone, and a copy kept from an
 * earlier batch has the same bits as the rows the encoder would compute now. Actions repeat a great
 * deal: the catalog's products come back on results page after results page, and every item page
 * has its "buy now" and "< prev"; in a 500-goal evaluation of a MiniLM agent 84% of the encoder's
 * action tokens were a sequence it had encoded before (docs/results, "Encoding each action once").
 *
 * Keys are a sequence's tokens, each id * 2 + its type, in the project's string map; rows are kept
 * in one growing array up to a budget, and when a new sequence would pass it everything is
 * forgotten and the cache fills again (the result never depends on what is cached, only the
 * time). */
#ifndef WS_ENCCACHE_H
#define WS_ENCCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"
#include "strmap.h"

typedef struct ws_enccache {
    int width;             /* reals a row (the model's hidden size) */
    size_t budget_rows;    /* rows kept at most; 0: the cache is off */
    ws_strmap keys;        /* a sequence's key -> its entry */
    size_t *first_row;     /* per entry: its first row in rows */
    size_t cap_entries;
    ws_real *rows;         /* the kept rows, width reals each */
    size_t n_rows, cap_rows;
    int32_t *key;          /* the key being built */
    size_t cap_key;
    size_t found_tokens, encoded_tokens; /* action tokens since the cache was made (the model counts) */
} ws_enccache;

/* A cache of at most `bytes` of rows of `width` reals (bytes 0: off). Returns -1 only when
 * width < 1. */
int ws_enccache_init(ws_enccache *c, int width, size_t bytes);
/* The sequence's key (tokens ids[0..len), types[0..len)) built into c->key; -1 out of memory. */
int ws_enccache_key(ws_enccache *c, const int32_t *ids, const int32_t *types, int len);
/* The rows kept for the key last built (len rows), or NULL. */
const ws_real *ws_enccache_find(const ws_enccache *c, int len);
/* Keep rows (len rows of width) for the key last built; when they would pass the budget the
 * cache is emptied first. A sequence longer than the budget is not kept. -1 out of memory (the
 * cache is then empty and still usable). */
int ws_enccache_add(ws_enccache *c, int len, const ws_real *rows);
/* Forget every sequence (the weights changed), keeping the budget. */
void ws_enccache_clear(ws_enccache *c);
void ws_enccache_free(ws_enccache *c);

#endif
