/*
 * kernel/paging.h - the identity map: virtual address == physical address.
 *
 * RAM is mapped write-back; everything else below 4 GiB (legacy areas, the
 * PCI hole) and device memory anywhere (BARs, ECAM) uncacheable, but the
 * framebuffer write-combining. 1 GiB pages where CPUID offers them, 2 MiB
 * pages elsewhere, and 4 KiB pages in the 2 MiB chunks that hold both RAM
 * and something else, or write-combining memory and something else.
 */
#ifndef KERNEL_PAGING_H
#define KERNEL_PAGING_H

#include <stdint.h>

#include "kernel/bootinfo.h"

/* In the order in which one request overrides another (paging_map). */
enum cache { CACHE_WB, CACHE_UC, CACHE_WC };

/* The first address the identity map cannot reach: 2^MAXPHYADDR (CPUID
 * 80000008h), and never more than 2^47, where 4-level paging's canonical
 * lower half ends. RAM above it is not used. */
uint64_t paging_phys_limit(void);

/* Replaces the boot map with one covering all RAM in the memory map (WB)
 * and everything else below 4 GiB (UC). */
void paging_init(const struct boot_info *bi);

/*
 * Makes sure [pa, pa+len) is mapped; memory mapped for a device stays or
 * becomes uncacheable (CACHE_UC wins over CACHE_WB). CACHE_WC, for the
 * framebuffer only, wins over both, so that mapping a PCI BAR uncached later
 * leaves the framebuffer inside it write-combining; it covers exactly the
 * 4 KiB pages of the range, never a neighbour's registers in the same 2 MiB.
 * Without a PAT (kernel/cpu.h) CACHE_WC is CACHE_UC. Returns 0, or -1 if the
 * range reaches past paging_phys_limit().
 */
int paging_map(uint64_t pa, uint64_t len, enum cache c);

/* Counts the pages of the map by size. */
void paging_count(uint64_t *pages_1g, uint64_t *pages_2m, uint64_t *pages_4k);

#endif
