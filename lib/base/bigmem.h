/* bigmem: the large arrays a model step streams through (weights, gradients, optimiser moments,
 * activations, the working buffers of the products and of attention), zeroed, aligned to 64
 * bytes, and backed by 2 MiB pages where the kernel gives them.
 *
 * With 4 KiB pages a MiniLM training step touches some 200,000 pages (about 870 MB), far more
 * than the TLB maps: packing the products' operands, AdamW and the elementwise layers each walk
 * the page tables again. Linux backs anonymous memory with 2 MiB pages only where the program
 * asks (transparent_hugepage "madvise", Debian's default), so an array of at least 2 MiB is
 * mapped here on its own, aligned to 2 MiB and advised as such before anything is written to it
 * (docs/results, "Huge pages": the bf16 step about 8% faster on the AMD EPYC). The advice is a hint:
 * where the kernel has no such pages the memory is ordinary memory, never an error. Pages are
 * still brought in by the first write, so capacity reserved and not used costs no memory.
 * Smaller arrays, and every array under AddressSanitizer (which checks only the heap), come from
 * the heap. */
#ifndef WS_BIGMEM_H
#define WS_BIGMEM_H

#include <stddef.h>

/* n * size zeroed bytes aligned to 64, or NULL when memory runs out (or n * size overflows).
 * Freed only by ws_free_big. */
void *ws_calloc_big(size_t n, size_t size);

/* Frees what ws_calloc_big returned; NULL is ignored. */
void ws_free_big(void *p);

#endif
