#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

size_t ws_grow_cap(size_t cap, size_t need, size_t first_cap)
{
    if (need <= cap)
        return cap;
    size_t c = cap ? cap : first_cap ? first_cap : 1;
    while (c < need)
        c = c > SIZE_MAX / 2 ? SIZE_MAX : c * 2;
    return c;
}

void *ws_realloc_array(void *items, size_t n, size_t item_size)
{
    /* malloc refuses more than PTRDIFF_MAX bytes anyway (pointer differences must fit); checking
     * here keeps a wrapped product from becoming a small, successful allocation */
    if (n == 0 || item_size == 0 || n > PTRDIFF_MAX / item_size)
        return NULL;
    return realloc(items, n * item_size);
}

void *ws_grow_realloc(void *items, size_t *cap, size_t need, size_t item_size, size_t first_cap)
{
    if (need == 0)
        need = 1; /* so that success is never NULL, even before the first allocation */
    if (need <= *cap)
        return items;
    size_t c = ws_grow_cap(*cap, need, first_cap);
    void *grown = ws_realloc_array(items, c, item_size);
    if (grown)
        *cap = c;
    return grown;
}
