#include "scratch.h"

#include <stdlib.h>

void *ws_scratch_get(ws_scratch *s, size_t bytes)
{
    if (bytes > s->bytes) {
        size_t rounded = (bytes + 63) / 64 * 64; /* aligned_alloc wants a multiple of the alignment */
        void *grown = aligned_alloc(64, rounded);
        if (!grown)
            return NULL;
        free(s->p);
        s->p = grown;
        s->bytes = rounded;
    }
    return s->p;
}
