/*
 * kernel/pci.h - PCI and PCI Express functions: finding them, their BARs,
 * their configuration space (PCI Local Bus Specification 3.0 §6; PCI Express
 * Base Specification 4.0 §7.2.2 for ECAM).
 */
#ifndef KERNEL_PCI_H
#define KERNEL_PCI_H

#include <stdint.h>

#include "kernel/acpi.h"
#include "kernel/kprintf.h"

enum pci_bar_type { PCI_BAR_NONE, PCI_BAR_IO, PCI_BAR_MEM32, PCI_BAR_MEM64 };

struct pci_bar {
    uint64_t addr; /* bus address == physical address on x86 */
    uint64_t size;
    uint8_t type; /* enum pci_bar_type */
    uint8_t prefetchable;
};

struct pci_dev {
    uint16_t segment;
    uint8_t bus, dev, fn;
    uint8_t header_type; /* without the multi-function bit */
    uint16_t vendor, device;
    uint32_t class_code; /* base class << 16 | sub-class << 8 | programming interface */
    struct pci_bar bar[6];
};

#define PCI_MAX_DEVS 256

/* A function's address as ixmetal writes it everywhere, "0000:00:03.0"
 * (segment:bus:device.function), into buf; returns buf. */
#define PCI_ADDR_LEN 13 /* "ssss:bb:dd.f" and its NUL */
static inline char *pci_addr_of(char buf[PCI_ADDR_LEN], uint16_t seg, uint8_t bus, uint8_t dev,
                                uint8_t fn)
{
    ksnprintf(buf, PCI_ADDR_LEN, "%04x:%02x:%02x.%x", seg, bus, dev, fn);
    return buf;
}

static inline char *pci_addr(char buf[PCI_ADDR_LEN], const struct pci_dev *d)
{
    return pci_addr_of(buf, d->segment, d->bus, d->dev, d->fn);
}

/* PCI 3.0 §6.2.2: Command register bits. */
#define PCI_CMD_IO 0x1
#define PCI_CMD_MEMORY 0x2
#define PCI_CMD_BUS_MASTER 0x4

/*
 * Decodes one BAR from its original value and the value read back after
 * writing all ones (PCI 3.0 §6.2.5.1); hi and hi_sized are the next BAR's
 * for a 64-bit BAR. Returns how many BAR slots it used: 2 for a 64-bit BAR,
 * else 1. An unimplemented BAR (reads back 0) decodes as PCI_BAR_NONE.
 */
int pci_bar_decode(uint32_t lo, uint32_t lo_sized, uint32_t hi, uint32_t hi_sized,
                   struct pci_bar *b);

/* Finds every function: through ECAM for each MCFG segment, else through
 * ports 0xCF8/0xCFC; sizes every BAR and maps every memory BAR uncacheable. */
void pci_init(const struct acpi_info *ai);
int pci_count(void);
struct pci_dev *pci_get(int i);
const char *pci_method(void); /* "ecam" or "ports 0xcf8/0xcfc" */

uint32_t pci_read32(const struct pci_dev *d, uint16_t off);
void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v);
uint16_t pci_read16(const struct pci_dev *d, uint16_t off);
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v);

/* Sets bits (PCI_CMD_*) in the Command register: memory space, bus master. */
void pci_enable(const struct pci_dev *d, uint16_t cmd_bits);
/* Clears them: a driver giving up on a device stops its DMA this way. */
void pci_disable(const struct pci_dev *d, uint16_t cmd_bits);

/* A short name: the device if known, else its class. */
const char *pci_name(const struct pci_dev *d);

/* One lspci-style line per function, then its BARs. */
void pci_print_all(void);

#endif
