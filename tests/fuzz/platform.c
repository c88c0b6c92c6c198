/*
 * tests/fuzz/platform.c - DMA memory and time for the driver targets
 * (tests/fuzz/platform.h).
 *
 * DMA memory is one block mapped below 4 GiB, as in test_virtio_net.c: a
 * legacy virtio device is given a 32-bit page frame number. The clock moves
 * 1 ms at every look, so a driver's bounded wait on a device that never
 * answers ends after a thousand looks, not a million.
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_32BIT */
#include "tests/fuzz/platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define DMA_SIZE (64u << 20)
static uint8_t *dma_base;
static size_t dma_used;
static uint64_t clock_ns;

uint64_t now_ns(void)
{
    return clock_ns += 1000000;
}

void delay_us(uint64_t us)
{
    clock_ns += us * 1000;
}

void *dma_alloc(size_t size, size_t align)
{
    if (!dma_base) {
        dma_base = mmap(NULL, DMA_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (dma_base == MAP_FAILED) {
            perror("mmap");
            abort();
        }
    }
    size_t at = (dma_used + align - 1) / align * align;
    if (at > DMA_SIZE || size > DMA_SIZE - at)
        return NULL;
    dma_used = at + size;
    memset(dma_base + at, 0, size);
    return dma_base + at;
}

/* A failed open gives its blocks back; they stay used until the next
 * input (fuzz_dma_reset), which is as much reuse as a fuzz run needs. */
void dma_free(void *p, size_t size)
{
    (void)p, (void)size;
}

void fuzz_dma_reset(void)
{
    dma_used = 0;
}

int fuzz_dma_owns(const void *p, size_t len)
{
    const uint8_t *b = p;
    return dma_base && b >= dma_base && len <= dma_used && (size_t)(b - dma_base) <= dma_used - len;
}
