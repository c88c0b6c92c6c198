/*
 * kernel/palloc.h - a physical page allocator over a list of free ranges.
 *
 * Hands out page-aligned, physically contiguous blocks (what DMA rings and
 * packet buffer pools need), top-down: the highest free memory goes first,
 * which keeps memory below 4 GiB for what must live there. A forwarding box
 * allocates its rings and pools once; a block is given back (palloc_add, which
 * merges it with the free ranges it touches) only when a failed open unwinds
 * (kernel/mem.c dma_free).
 */
#ifndef KERNEL_PALLOC_H
#define KERNEL_PALLOC_H

#include <stdint.h>

#define PAGE_SIZE 4096ull
#define PALLOC_MAX_RANGES 512

struct palloc {
    struct {
        uint64_t base, end; /* [base, end), page-aligned */
    } free[PALLOC_MAX_RANGES];
    int n; /* sorted by base, disjoint, non-empty */
};

void palloc_init(struct palloc *pa);
/* Adds the whole pages inside [base, base+len) to the free list, merged
 * with any free range they touch or overlap; page 0 never (an address of 0
 * is how palloc_alloc says it failed). Also how an allocated block goes back. */
void palloc_add(struct palloc *pa, uint64_t base, uint64_t len);
/* Removes every page touching [base, base+len) from the free list. */
void palloc_reserve(struct palloc *pa, uint64_t base, uint64_t len);
/*
 * Allocates size bytes (rounded up to whole pages) aligned to align (a power
 * of two; at least a page), ending at or below limit. Returns the physical
 * address, or 0 when nothing fits.
 */
uint64_t palloc_alloc(struct palloc *pa, uint64_t size, uint64_t align, uint64_t limit);
/* The same, the block inside [lo, hi): one NUMA node's memory. */
uint64_t palloc_alloc_range(struct palloc *pa, uint64_t size, uint64_t align, uint64_t lo,
                            uint64_t hi);
uint64_t palloc_free_bytes(const struct palloc *pa);

#endif
