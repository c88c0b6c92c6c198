/*
 * driver/platform.h - everything a driver needs from below it: DMA memory,
 * time, logging, and (through kernel/io.h) the one door to device registers.
 *
 * Drivers include this and nothing else of the kernel, so the same driver
 * source builds for the host (IXM_HOST), where these come from a test
 * harness and the register door leads to a device model. (driver/nic.c, the
 * table that opens them and only built for the kernel, also reaches the
 * IOMMU: kernel/iommu.h.)
 */
#ifndef DRIVER_PLATFORM_H
#define DRIVER_PLATFORM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kernel/cpu.h"
#include "kernel/io.h"
#include "kernel/kprintf.h"
#include "kernel/string.h"

#ifdef IXM_HOST
void *dma_alloc(size_t size, size_t align);
/* Gives back what dma_alloc returned, size as asked; NULL: nothing (kernel/mem.h). */
void dma_free(void *p, size_t size);
uint64_t now_ns(void);
void delay_us(uint64_t us);
/* Memory no device is given (kernel/mem.h): on the host, any memory. */
static inline void *cpu_alloc(size_t size, size_t align)
{
    return dma_alloc(size, align);
}
static inline void cpu_free(void *p, size_t size)
{
    dma_free(p, size);
}
#else
#include "kernel/mem.h"
#include "kernel/tsc.h"
#endif

/* SSSE3 (CPUID.01H:ECX[9], SDM vol. 2A, CPUID): PSHUFB, for
 * driver/rewrite.h. The same instruction on the host. */
static inline bool cpu_has_ssse3(void)
{
    return (cpuid(1, 0).ecx >> 9) & 1;
}

/* Memory is identity-mapped (kernel/paging.c): a buffer's address is what a
 * device is given. In the host build, a device model reads host memory the
 * same way. */
static inline uint64_t virt_to_phys(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

/* x86 does not reorder stores with other stores, nor loads with other loads
 * (Intel SDM vol. 3A §10.2.2), so ordering descriptor writes before an index
 * or register write only needs the compiler held back. */
static inline void dma_wmb(void)
{
    __asm__ volatile("" ::: "memory");
}

static inline void dma_rmb(void)
{
    __asm__ volatile("" ::: "memory");
}

/* The one reordering x86 does: a later load may pass an earlier store
 * (SDM vol. 3A §10.2.2). Where a driver stores an index and then reads
 * whether the device wants to hear of it, a full fence goes between. */
static inline void dma_mb(void)
{
    __asm__ volatile("mfence" ::: "memory");
}

#endif
