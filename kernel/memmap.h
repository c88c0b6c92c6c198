/*
 * kernel/memmap.h - the machine's physical memory map, as the boot loader
 * reports it (Multiboot 0.6.96 §3.3 mmap_*, Multiboot2 §3.6.8; the types are
 * the ACPI address range types, ACPI 6.5 §15.1 Table 15.1).
 */
#ifndef KERNEL_MEMMAP_H
#define KERNEL_MEMMAP_H

#include <stdint.h>

enum mem_type {
    MEM_AVAILABLE = 1,
    MEM_RESERVED = 2,
    MEM_ACPI_RECLAIM = 3,
    MEM_ACPI_NVS = 4,
    MEM_BAD = 5,
};

struct mem_region {
    uint64_t base;
    uint64_t len;
    uint32_t type;
};

#define MEMMAP_MAX 128

/*
 * Sorts the map, resolves overlaps and merges neighbours of the same type, in
 * place. Where entries overlap the more restrictive type wins (anything else
 * beats AVAILABLE; among the rest the larger type number wins), so memory is
 * never handed out that some entry says is taken. Unknown types count as
 * reserved; zero-length entries vanish. Returns the new number of entries,
 * at most max (entries that do not fit are dropped from the top): overlaps
 * can split entries, so map must have room for max entries, not only n.
 */
int memmap_normalize(struct mem_region *map, int n, int max);

/* Cuts the map at limit: entries above it go, one across it is shortened.
 * Returns the bytes of RAM (available, ACPI reclaim, NVS) cut away. */
uint64_t memmap_clip(struct mem_region *map, int *n, uint64_t limit);

/* Bytes of type t in a normalized map. */
uint64_t memmap_total(const struct mem_region *map, int n, uint32_t t);

/* True if [base, base+len) overlaps RAM (available, ACPI reclaim or NVS). */
int memmap_is_ram(const struct mem_region *map, int n, uint64_t base, uint64_t len);

#endif
