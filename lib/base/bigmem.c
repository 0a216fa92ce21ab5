#include "bigmem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__linux__) && !defined(__SANITIZE_ADDRESS__)
#include <sys/mman.h>
#if defined(MADV_HUGEPAGE)
#define BIGMEM_MAPS 1
#endif
#endif

enum { HUGE_PAGE = 2u << 20, ALIGN = 64 };

/* The 64 bytes before the array say where its memory starts and, for a mapping, its length. */
typedef struct big_header {
    void *start;
    size_t mapped; /* 0: from the heap */
} big_header;
_Static_assert(sizeof(big_header) <= ALIGN, "the header fits before the array");

static void *finish(void *start, size_t mapped)
{
    big_header h = {start, mapped};
    memcpy(start, &h, sizeof h);
    return (char *)start + ALIGN;
}

#if BIGMEM_MAPS
/* A mapping of `span` bytes (a multiple of 2 MiB) starting on a 2 MiB boundary: map 2 MiB more
 * and give back the unaligned ends. */
static void *map_aligned(size_t span)
{
    char *map = mmap(NULL, span + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED)
        return NULL;
    char *start = (char *)(((uintptr_t)map + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (start > map)
        munmap(map, (size_t)(start - map));
    size_t tail = (size_t)(map + span + HUGE_PAGE - (start + span));
    if (tail)
        munmap(start + span, tail);
    (void)madvise(start, span, MADV_HUGEPAGE); /* a hint: refused, the pages stay small */
    return start;
}
#endif

void *ws_calloc_big(size_t n, size_t size)
{
    if (size && n > (SIZE_MAX - 2 * (size_t)HUGE_PAGE) / size)
        return NULL;
    size_t bytes = n * size;
#if BIGMEM_MAPS
    if (bytes >= HUGE_PAGE) {
        size_t span = (bytes + ALIGN + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE;
        void *start = map_aligned(span); /* fresh mappings read as zeros */
        return start ? finish(start, span) : NULL;
    }
#endif
    size_t rounded = (bytes + ALIGN + ALIGN - 1) / ALIGN * ALIGN; /* aligned_alloc: a multiple of it */
    void *start = aligned_alloc(ALIGN, rounded);
    if (!start)
        return NULL;
    memset(start, 0, rounded);
    return finish(start, 0);
}

void ws_free_big(void *p)
{
    if (!p)
        return;
    big_header h;
    memcpy(&h, (char *)p - ALIGN, sizeof h);
#if BIGMEM_MAPS
    if (h.mapped) {
        munmap(h.start, h.mapped);
        return;
    }
#endif
    free(h.start);
}
