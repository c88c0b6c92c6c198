/*
 * kernel/paging.h - the identity map: virtual address == physical address.
 *
 * RAM is mapped write-back; device memory (PCI BARs, ECAM, the local APIC)
 * uncacheable. 2 MiB pages, and 1 GiB pages where CPUID offers them.
 */
#ifndef KERNEL_PAGING_H
#define KERNEL_PAGING_H

#include <stdint.h>

#include "kernel/bootinfo.h"

enum cache { CACHE_WB, CACHE_UC };

/* Replaces the boot map with one covering all RAM in the memory map (WB) and
 * everything else below 4 GiB (UC: the legacy devices and the PCI hole). */
void paging_init(const struct boot_info *bi);

/*
 * Makes sure [pa, pa+len) is mapped; memory mapped for a device stays or
 * becomes uncacheable (CACHE_UC wins over CACHE_WB at 2 MiB granularity).
 * Returns 0, or -1 if the range is beyond the CPU's physical address width.
 */
int paging_map(uint64_t pa, uint64_t len, enum cache c);

/* Counts the pages of the map: 1 GiB ones and 2 MiB ones. */
void paging_count(uint64_t *pages_1g, uint64_t *pages_2m);

#endif
