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
 * there is not enough contiguous memory left. While a NIC is being opened
 * with the IOMMU on (kernel/iommu.h), whole pages, each block mapped for
 * that NIC alone before it is returned. */
void *dma_alloc(size_t size, size_t align);

/* The same for memory only the CPU touches (a driver's own state, its
 * arrays of buffer pointers): never mapped for a device. */
void *cpu_alloc(size_t size, size_t align);

/* Gives back a block dma_alloc or cpu_alloc returned, size as asked then:
 * its whole pages go back to the free list, and a DMA block freed while its
 * NIC is still being opened (a failed open unwinding) is first unmapped
 * from that NIC's IOMMU domain. The caller makes sure no device still
 * reaches it. */
void dma_free(void *p, size_t size);
void cpu_free(void *p, size_t size);

/*
 * NUMA. Between mem_node_begin(node) and mem_node_end(), dma_alloc takes
 * memory only from that node's ranges in the SRAT (kernel/acpi.h), and
 * fails rather than take another node's; mem_node_end gives the span
 * [lo, hi) of what it handed out meanwhile (lo == hi: nothing). Without an
 * SRAT there is one node, 0, and it is all memory. Not nested; the boot
 * core only (drivers open their ports there).
 */
void mem_node_begin(int node);
void mem_node_end(uint64_t *lo, uint64_t *hi);

/* The NUMA nodes: 1 without an SRAT. */
int mem_node_count(void);

/* Free bytes in node's ranges. */
uint64_t mem_node_free_bytes(int node);

/* A zeroed page below 4 GiB, for page tables: memory the boot map covers. */
uint64_t mem_alloc_low_page(void);

uint64_t mem_free_bytes(void);
int mem_free_ranges(void);

#endif
