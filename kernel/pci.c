/*
 * kernel/pci.c - enumerating PCI, sizing BARs, configuration space access.
 *
 * Two ways into configuration space: ECAM, memory-mapped, 4 KiB per function
 * at base + (bus << 20 | device << 15 | function << 12) (PCIe Base 4.0
 * §7.2.2, base and bus range from the ACPI MCFG table); and, where there is
 * no MCFG (QEMU's -M pc), configuration mechanism #1 through ports 0xCF8 and
 * 0xCFC (PCI 3.0 §3.2.2.3.2), which reaches the first 256 bytes of segment 0.
 *
 * Every bus of every segment is probed, 32 devices each (8192 reads for a
 * full segment), rather than only buses reached through bridges: server
 * chipsets have several root buses per socket that no bridge on bus 0 leads
 * to, and that is where the PCIe slots are.
 */
#include "kernel/pci.h"

#include "kernel/io.h"
#include "kernel/kprintf.h"
#include "kernel/paging.h"

#define PCI_CONFIG_ADDRESS 0xCF8
#define PCI_CONFIG_DATA 0xCFC
#define CONFIG_ENABLE (1u << 31)

/* PCI 3.0 §6.1, Figure 6-1: the configuration header. */
#define PCI_VENDOR_ID 0x00
#define PCI_COMMAND 0x04
#define PCI_CLASS_REV 0x08
#define PCI_HEADER_TYPE 0x0E
#define PCI_BAR0 0x10
#define HEADER_MULTIFUNCTION 0x80

static struct pci_dev devs[PCI_MAX_DEVS];
static int ndevs;
static const struct acpi_mcfg *ecam; /* segment list when ECAM is used */
static int necam;

static uint64_t ecam_addr(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    for (int i = 0; i < necam; i++)
        if (ecam[i].segment == seg && bus >= ecam[i].bus_start && bus <= ecam[i].bus_end)
            return ecam[i].base +
                   ((uint64_t)bus << 20 | (uint64_t)dev << 15 | (uint64_t)fn << 12 | off);
    return 0;
}

static uint32_t port_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    return CONFIG_ENABLE | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 |
           (off & 0xFC);
}

static uint32_t cfg_read32(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off)
{
    if (necam) {
        uint64_t a = ecam_addr(seg, bus, dev, fn, off);
        return a ? mmio_read32(a) : 0xFFFFFFFF;
    }
    if (seg != 0 || off > 0xFC)
        return 0xFFFFFFFF;
    outl(PCI_CONFIG_ADDRESS, port_addr(bus, dev, fn, off));
    return inl(PCI_CONFIG_DATA);
}

static void cfg_write32(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t off,
                        uint32_t v)
{
    if (necam) {
        uint64_t a = ecam_addr(seg, bus, dev, fn, off);
        if (a)
            mmio_write32(a, v);
        return;
    }
    if (seg != 0 || off > 0xFC)
        return;
    outl(PCI_CONFIG_ADDRESS, port_addr(bus, dev, fn, off));
    outl(PCI_CONFIG_DATA, v);
}

uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
    return cfg_read32(d->segment, d->bus, d->dev, d->fn, off);
}

void pci_write32(const struct pci_dev *d, uint16_t off, uint32_t v)
{
    cfg_write32(d->segment, d->bus, d->dev, d->fn, off, v);
}

uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
    return (uint16_t)(pci_read32(d, off & ~3) >> ((off & 2) * 8));
}

/* A 16-bit write as a read-modify-write of the dword. Safe for the registers
 * we write this way (Command: its neighbour Status is write-1-to-clear, and
 * writing back zeros there clears nothing). */
void pci_write16(const struct pci_dev *d, uint16_t off, uint16_t v)
{
    uint32_t shift = (off & 2) * 8;
    uint32_t old = pci_read32(d, off & ~3);
    if ((off & ~3) == PCI_COMMAND)
        old &= 0x0000FFFF; /* never write 1s back into Status */
    pci_write32(d, off & ~3, (old & ~(0xFFFFu << shift)) | (uint32_t)v << shift);
}

void pci_enable(const struct pci_dev *d, uint16_t cmd_bits)
{
    pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) | cmd_bits);
}

void pci_disable(const struct pci_dev *d, uint16_t cmd_bits)
{
    pci_write16(d, PCI_COMMAND, pci_read16(d, PCI_COMMAND) & (uint16_t)~cmd_bits);
}

/* A BAR's size is its lowest writable address bit (PCI 3.0 §6.2.5.1). */
static uint64_t lowest_bit(uint64_t mask)
{
    return mask & (~mask + 1);
}

int pci_bar_decode(uint32_t lo, uint32_t lo_sized, uint32_t hi, uint32_t hi_sized,
                   struct pci_bar *b)
{
    *b = (struct pci_bar){ 0, 0, PCI_BAR_NONE, 0 };
    if (lo & 1) { /* I/O space: bits 31:2 address */
        uint32_t mask = lo_sized & ~3u;
        if (!mask)
            return 1;
        b->type = PCI_BAR_IO;
        b->addr = lo & ~3u;
        b->size = lowest_bit(mask); /* a 16-bit decoder reads 0 above bit 15 */
        return 1;
    }
    b->prefetchable = (lo >> 3) & 1;
    if (((lo >> 1) & 3) == 2) { /* 64-bit memory: this BAR and the next */
        uint64_t mask = (uint64_t)hi_sized << 32 | (lo_sized & ~0xFu);
        if (!mask) {
            b->prefetchable = 0;
            return 2;
        }
        b->type = PCI_BAR_MEM64;
        b->addr = (uint64_t)hi << 32 | (lo & ~0xFu);
        b->size = lowest_bit(mask); /* also when the upper half is hardwired to 0 */
        return 2;
    }
    uint32_t mask = lo_sized & ~0xFu;
    if (!mask) {
        b->prefetchable = 0;
        return 1;
    }
    b->type = PCI_BAR_MEM32;
    b->addr = lo & ~0xFu;
    b->size = lowest_bit(mask);
    return 1;
}

/* PCI 3.0 §6.2.5.1: write all ones, read back, restore; decoding off
 * meanwhile so the device never answers at a half-written address. */
static void size_bars(struct pci_dev *d)
{
    int nbars = d->header_type == 0 ? 6 : d->header_type == 1 ? 2 : 0;
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_IO | PCI_CMD_MEMORY));
    for (int i = 0; i < nbars;) {
        uint16_t off = PCI_BAR0 + 4 * i;
        uint32_t lo = pci_read32(d, off), hi = 0, lo_sized, hi_sized = 0;
        pci_write32(d, off, 0xFFFFFFFF);
        lo_sized = pci_read32(d, off);
        pci_write32(d, off, lo);
        int is64 = !(lo & 1) && ((lo >> 1) & 3) == 2 && i + 1 < nbars;
        if (is64) {
            hi = pci_read32(d, off + 4);
            pci_write32(d, off + 4, 0xFFFFFFFF);
            hi_sized = pci_read32(d, off + 4);
            pci_write32(d, off + 4, hi);
        }
        int used = pci_bar_decode(lo, lo_sized, hi, hi_sized, &d->bar[i]);
        i += is64 ? used : 1;
    }
    pci_write16(d, PCI_COMMAND, cmd);
}

static void map_bars(const struct pci_dev *d)
{
    for (int i = 0; i < 6; i++) {
        const struct pci_bar *b = &d->bar[i];
        char addr[PCI_ADDR_LEN];
        if ((b->type == PCI_BAR_MEM32 || b->type == PCI_BAR_MEM64) && b->addr &&
            paging_map(b->addr, b->size, CACHE_UC) != 0)
            kprintf("pci %s: bar%d at 0x%lx is beyond this CPU's physical address width; not "
                    "mapped\n",
                    pci_addr(addr, d), i, b->addr);
    }
}

static void add_function(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint32_t id)
{
    if (ndevs == PCI_MAX_DEVS) {
        char addr[PCI_ADDR_LEN];
        kprintf("pci: more than %d functions; %s ignored\n", PCI_MAX_DEVS,
                pci_addr_of(addr, seg, bus, dev, fn));
        return;
    }
    struct pci_dev *d = &devs[ndevs++];
    *d = (struct pci_dev){ .segment = seg, .bus = bus, .dev = dev, .fn = fn };
    d->vendor = id & 0xFFFF;
    d->device = id >> 16;
    d->class_code = pci_read32(d, PCI_CLASS_REV) >> 8;
    d->header_type = (pci_read32(d, PCI_HEADER_TYPE & ~3) >> 16) & 0x7F;
    size_bars(d);
    map_bars(d);
}

static void scan_bus(uint16_t seg, uint8_t bus)
{
    for (uint8_t dev = 0; dev < 32; dev++) {
        uint32_t id = cfg_read32(seg, bus, dev, 0, PCI_VENDOR_ID);
        if ((id & 0xFFFF) == 0xFFFF)
            continue;
        uint8_t ht = cfg_read32(seg, bus, dev, 0, PCI_HEADER_TYPE & ~3) >> 16;
        int nfn = (ht & HEADER_MULTIFUNCTION) ? 8 : 1;
        for (uint8_t fn = 0; fn < nfn; fn++) {
            if (fn)
                id = cfg_read32(seg, bus, dev, fn, PCI_VENDOR_ID);
            if ((id & 0xFFFF) == 0xFFFF)
                continue;
            add_function(seg, bus, dev, fn, id);
        }
    }
}

/* True if an earlier MCFG entry of the same segment covers this bus too. */
static int scanned_before(int entry, int bus)
{
    for (int j = 0; j < entry; j++)
        if (ecam[j].segment == ecam[entry].segment && bus >= ecam[j].bus_start &&
            bus <= ecam[j].bus_end)
            return 1;
    return 0;
}

void pci_init(const struct acpi_info *ai)
{
    ndevs = 0;
    ecam = ai->mcfg;
    necam = ai->nmcfg;
    for (int i = 0; i < necam; i++) {
        const struct acpi_mcfg *m = &ai->mcfg[i];
        uint64_t start = m->base + ((uint64_t)m->bus_start << 20);
        uint64_t len = (uint64_t)(m->bus_end - m->bus_start + 1) << 20;
        if (paging_map(start, len, CACHE_UC) != 0) {
            kprintf("pci: ECAM at 0x%lx is beyond this CPU's physical address width; "
                    "using ports 0xCF8/0xCFC\n",
                    start);
            necam = 0;
        }
    }
    if (!necam) {
        for (int bus = 0; bus < 256; bus++)
            scan_bus(0, (uint8_t)bus);
        return;
    }
    for (int i = 0; i < necam; i++)
        for (int bus = ecam[i].bus_start; bus <= ecam[i].bus_end; bus++)
            if (!scanned_before(i, bus))
                scan_bus(ecam[i].segment, (uint8_t)bus);
}

int pci_count(void)
{
    return ndevs;
}

struct pci_dev *pci_get(int i)
{
    return i >= 0 && i < ndevs ? &devs[i] : 0;
}

const char *pci_method(void)
{
    return necam ? "ecam" : "ports 0xcf8/0xcfc";
}

/* Names for the devices ixmetal meets in QEMU and drives; everything else is
 * named by its class (PCI Code and ID Assignment Specification 1.11). */
static const struct {
    uint16_t vendor, device;
    const char *name;
} known[] = {
    { 0x1af4, 0x1000, "virtio-net" },    { 0x1af4, 0x1041, "virtio-net" },
    { 0x8086, 0x10c9, "82576 igb" },     { 0x8086, 0x10d3, "82574L e1000e" },
    { 0x8086, 0x100e, "82540EM e1000" }, { 0x8086, 0x10fb, "82599 ixgbe" },
    { 0x8086, 0x1528, "X540 ixgbe" },    { 0x8086, 0x1563, "X550 ixgbe" },
};

static const struct {
    uint16_t class_sub;
    const char *name;
} classes[] = {
    { 0x0100, "scsi" },       { 0x0101, "ide" },         { 0x0106, "sata" },
    { 0x0108, "nvme" },       { 0x0200, "ethernet" },    { 0x0300, "vga" },
    { 0x0380, "display" },    { 0x0600, "host bridge" }, { 0x0601, "isa bridge" },
    { 0x0604, "pci bridge" }, { 0x0680, "bridge" },      { 0x0700, "serial" },
    { 0x0c03, "usb" },        { 0x0c05, "smbus" },       { 0x0880, "system" },
};

const char *pci_name(const struct pci_dev *d)
{
    for (unsigned i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (known[i].vendor == d->vendor && known[i].device == d->device)
            return known[i].name;
    for (unsigned i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
        if (classes[i].class_sub == d->class_code >> 8)
            return classes[i].name;
    return "other";
}

static const char *const bar_type_names[] = { "none", "io", "mem32", "mem64" };

void pci_print_all(void)
{
    for (int i = 0; i < ndevs; i++) {
        const struct pci_dev *d = &devs[i];
        char addr[PCI_ADDR_LEN];
        kprintf("pci %s %04x:%04x class %04x %s\n", pci_addr(addr, d), d->vendor, d->device,
                d->class_code >> 8, pci_name(d));
        for (int b = 0; b < 6; b++) {
            const struct pci_bar *bar = &d->bar[b];
            if (bar->type == PCI_BAR_NONE)
                continue;
            kprintf("    bar%d %s%s 0x%lx size 0x%lx\n", b, bar_type_names[bar->type],
                    bar->prefetchable ? " prefetchable" : "", bar->addr, bar->size);
        }
    }
}
