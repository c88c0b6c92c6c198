/*
 * tests/fuzz/fuzz_pci_caps.c - virtio-net's walk of the PCI capability
 * list (driver/virtio_net.c find_modern, virtio 1.2 §4.1.4) over a
 * configuration space the input writes whole: pointers that loop, point
 * past the header or at themselves, lengths and BAR numbers that lie,
 * structure offsets past their BAR. Then the bring-up goes on as far as
 * the device's answers (the input's tail, read in turn) let it: whatever
 * the capabilities said, the driver must only touch registers inside the
 * BARs the device has.
 *
 * Input: 256 bytes of configuration space (PCI 3.0 §6.1), a byte of which
 * BARs exist (bit 0: BAR0 I/O; bit 1: BAR1 32-bit memory; bit 2: BAR4
 * 64-bit memory, BAR5 its upper half), a byte of queue pairs asked for
 * (1 to 4), then what each register read returns, 4 bytes a read.
 */
#include "driver/virtio_net.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/platform.h"

#define IO_BASE 0xC000u
#define IO_SIZE 0x40u
#define MEM32_BASE 0xFE000000ull
#define MEM32_SIZE 0x1000ull
#define MEM64_BASE 0x800000000ull
#define MEM64_SIZE 0x4000ull

static uint8_t config[256];
static const uint8_t *answers;
static size_t nanswers, answered;
static struct pci_dev pci;

/* --- configuration space: what kernel/pci.c would read ---------------------- */

uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
    (void)d;
    if (off > 252 || off & 3)
        return 0xFFFFFFFF; /* past the first 256 bytes, as through ports 0xCF8/0xCFC */
    return config[off] | config[off + 1] << 8 | config[off + 2] << 16 |
           (uint32_t)config[off + 3] << 24;
}

uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
    return (uint16_t)(pci_read32(d, off & ~3) >> ((off & 2) * 8));
}

void pci_enable(const struct pci_dev *d, uint16_t bits)
{
    (void)d, (void)bits;
}

void pci_disable(const struct pci_dev *d, uint16_t bits)
{
    (void)d, (void)bits;
}

/* --- the device's registers: only inside its BARs --------------------------- */

static uint32_t next_answer(int size)
{
    uint32_t v = fuzz_u32(answers, nanswers, answered);
    answered += 4;
    return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void check_mmio(uint64_t addr, int size)
{
    for (int i = 1; i < 6; i++) {
        const struct pci_bar *b = &pci.bar[i];
        if (b->type >= PCI_BAR_MEM32 && addr >= b->addr && addr - b->addr <= b->size - size)
            return;
    }
    fprintf(stderr, "virtio-net touched %d bytes at 0x%llx, outside its memory BARs\n", size,
            (unsigned long long)addr);
    abort();
}

static void check_io(uint16_t port, int size)
{
    const struct pci_bar *b = &pci.bar[0];
    if (b->type == PCI_BAR_IO && port >= b->addr && port - b->addr <= b->size - size)
        return;
    fprintf(stderr, "virtio-net touched %d bytes at port 0x%x, outside its I/O BAR\n", size, port);
    abort();
}

static uint32_t mmio_read(uint64_t addr, int size)
{
    check_mmio(addr, size);
    return next_answer(size);
}

static void mmio_write(uint64_t addr, uint32_t v, int size)
{
    (void)v;
    check_mmio(addr, size);
}

static uint32_t io_in(uint16_t port, int size)
{
    check_io(port, size);
    return next_answer(size);
}

static void io_out(uint16_t port, uint32_t v, int size)
{
    (void)v;
    check_io(port, size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < sizeof(config) + 2)
        return 0;
    console_log_clear();
    fuzz_dma_reset();
    memcpy(config, data, sizeof(config));
    uint8_t bars = data[256];
    pci = (struct pci_dev){ .bus = 0, .dev = 3, .vendor = 0x1af4, .device = 0x1041 };
    if (bars & 1)
        pci.bar[0] = (struct pci_bar){ IO_BASE, IO_SIZE, PCI_BAR_IO, 0 };
    if (bars & 2)
        pci.bar[1] = (struct pci_bar){ MEM32_BASE, MEM32_SIZE, PCI_BAR_MEM32, 0 };
    if (bars & 4)
        pci.bar[4] = (struct pci_bar){ MEM64_BASE, MEM64_SIZE, PCI_BAR_MEM64, 1 };
    answers = data + 258, nanswers = size - 258, answered = 0;
    fake_io_reset();
    fake_io.in = io_in, fake_io.out = io_out;
    fake_io.mmio_read = mmio_read, fake_io.mmio_write = mmio_write;

    struct nic *nic = virtio_net_open(&pci, 1 + data[257] % 4);
    if (nic)
        nic->ops->stop(nic);
    return 0;
}
