/* scratch: a buffer kept from one call to the next and grown when a call needs more, for the
 * working memory of a hot loop (the bf16 product's packed operands, an attention block's
 * probabilities). Allocated afresh at every call such memory costs a page fault per 4 KiB, which
 * for a small product is as long as its arithmetic.
 *
 * Declare one per thread (`static _Thread_local ws_scratch s;`): it then lives as long as the
 * thread (the program's, or one of OpenMP's pool, which last as long) and needs no lock. */
#ifndef WS_SCRATCH_H
#define WS_SCRATCH_H

#include <stddef.h>

typedef struct ws_scratch {
    void *p;
    size_t bytes;
} ws_scratch;

/* At least `bytes` bytes, aligned to 64 (a cache line, an AVX-512 vector), the contents not kept
 * when it grows; NULL when memory runs out (the buffer held so far stays). */
void *ws_scratch_get(ws_scratch *s, size_t bytes);

#endif
