/*
 * tests/fuzz/platform.h - what the driver targets (virtio_used, pci_caps,
 * intel_rx) give the drivers from below (driver/platform.h with IXM_HOST):
 * DMA memory that each input starts afresh, and a clock.
 */
#ifndef TESTS_FUZZ_PLATFORM_H
#define TESTS_FUZZ_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

/* Forgets every allocation: the next input's driver gets the same memory,
 * zeroed as it is handed out. */
void fuzz_dma_reset(void);

/* True if [p, p + len) lies in what dma_alloc handed out for this input. */
int fuzz_dma_owns(const void *p, size_t len);

#endif
