#include "scratch.h"

#include "bigmem.h"

void *ws_scratch_get(ws_scratch *s, size_t bytes)
{
    if (bytes > s->bytes) {
        void *grown = ws_calloc_big(1, bytes);
        if (!grown)
            return NULL;
        ws_free_big(s->p);
        s->p = grown;
        s->bytes = bytes;
    }
    return s->p;
}
