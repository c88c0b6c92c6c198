/*
 * kernel/iommu.h - confining each NIC's DMA with the IOMMU (Intel VT-d,
 * legacy translation mode): a NIC reaches its own rings and buffers and
 * nothing else; any other address, and any device that is no NIC, faults.
 *
 * IOVA == physical address, so virtual == physical still holds for the
 * drivers: they give a device the addresses they use themselves.
 */
#ifndef KERNEL_IOMMU_H
#define KERNEL_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/acpi.h"
#include "kernel/pci.h"

/* iommu=: an index of iommu_choice(). */
enum iommu_mode { IOMMU_AUTO, IOMMU_ON, IOMMU_OFF };
const char *iommu_choice(int i);

/* iommu_test=: an index of iommu_test_choice(). preboot: before taking a
 * unit over, turn its translation on as a firmware with pre-boot DMA
 * protection leaves it (a test hook: QEMU's IOMMU starts off). */
enum iommu_test { IOMMU_TEST_OFF, IOMMU_TEST_PREBOOT };
const char *iommu_test_choice(int i);

/* Brings up every unit the DMAR lists (auto, on): a root table of its own,
 * every context entry absent (all DMA blocked, whatever the firmware left),
 * fault interrupts masked (the faults are polled), translation on. A unit
 * that fails a step is said, with the step and what to check, and left
 * alone: the NICs under it are not confined, and say so. */
struct iommu_options {
    int mode; /* enum iommu_mode */
    int test; /* enum iommu_test */
};
void iommu_init(const struct acpi_info *ai, const struct iommu_options *o);

/* One line for the banner: the units, or why there is no confinement. */
void iommu_print_banner(void);

/*
 * Around a NIC's open (driver/nic.c): iommu_attach gives d a domain of its
 * own with nothing mapped, and its context entry; from then until
 * iommu_detach, dma_alloc (kernel/mem.c) hands out whole pages and maps
 * each block into that domain, readable and writable, before the driver
 * sees it. Returns true if d's DMA is confined; false (nothing done) with
 * the IOMMU off or absent, or no unit translating d.
 */
bool iommu_attach(const struct pci_dev *d);
void iommu_detach(void);

/* For dma_alloc: true while a domain is open (iommu_attach); then each
 * block it hands out goes to iommu_map. */
bool iommu_mapping(void);
void iommu_map(uint64_t pa, uint64_t len);
/* For dma_free, inside the open that took the block: [pa, pa+len) (whole
 * pages) unmapped from the open domain and the IOTLB invalidated, before
 * the pages go back to the allocator. Nothing outside an open. False if
 * the invalidation did not finish (said; the unit is then down): the
 * device may still reach the pages through stale translations, so they
 * must stay taken. */
bool iommu_unmap(uint64_t pa, uint64_t len);

/* Lets d read (not write) [pa, pa+len) too, whole pages: the buffers of
 * another NIC's pool that d transmits from (fwd), or an app's own pool
 * (pktgen). Nothing if d is not confined. */
void iommu_lend(const struct pci_dev *d, uint64_t pa, uint64_t len);

/* Is d's DMA confined, and a line saying what it may reach (the banner's
 * per-NIC line): "DMA confined by the IOMMU at 0x..: N ranges, M KiB". */
bool iommu_confined(const struct pci_dev *d);
void iommu_describe(const struct pci_dev *d, char *buf, int len);

/* The reporting core, once a second and at the end: reads every unit's
 * fault recording registers, prints each fault once (device, address, read
 * or write, reason; at most a few lines a second, the rest counted) and
 * clears it so the next is recorded. */
void iommu_poll_faults(void);

/* DMA faults recorded for d since boot. */
uint64_t iommu_faults_of(const struct pci_dev *d);

/* app=info: each unit, the reserved regions, what each NIC may reach. */
void iommu_print(void);

#endif
