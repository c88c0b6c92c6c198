/*
 * kernel/mem.h - the kernel's memory: free RAM from the boot memory map, and
 * DMA memory for drivers. Virtual == physical (kernel/paging.c), so the
 * pointer dma_alloc returns is also the address a device is given.
 */
#ifndef KERNEL_MEM_H
#define KERNEL_MEM_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/bootinfo.h"

/* Cuts the boot memory map at what the CPU can address (saying how much RAM
 * that leaves out), then frees every AVAILABLE region, less the first MiB
 * (real-mode structures, and where application cores start) and the kernel. */
void mem_init(struct boot_info *bi);

/* Page-aligned (or align-aligned), physically contiguous, zeroed. NULL when
 * there is not enough contiguous memory left. */
void *dma_alloc(size_t size, size_t align);

/* A zeroed page below 4 GiB, for page tables: memory the boot map covers. */
uint64_t mem_alloc_low_page(void);

uint64_t mem_free_bytes(void);
int mem_free_ranges(void);

#endif
