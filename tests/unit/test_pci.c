/*
 * tests/unit/test_pci.c - kernel/pci.c: BAR decoding, and enumeration of a
 * model PCI bus through configuration mechanism #1 (ports 0xCF8/0xCFC,
 * PCI 3.0 §3.2.2.3.2) and through ECAM (PCIe Base 4.0 §7.2.2).
 *
 * The model keeps 256 bytes of configuration space per function with a
 * writable mask per dword, as hardware does: a BAR's address bits below its
 * size and its type bits are read-only, so writing all ones reads back
 * ~(size - 1) | type (PCI 3.0 §6.2.5.1), and Status bits are write-1-to-clear.
 */
#include "kernel/paging.h"
#include "kernel/pci.h"
#include "tests/unit/host.h"

#define KiB 0x400ull
#define MiB 0x100000ull

/* --- pci_bar_decode ---------------------------------------------------------- */

#define CHECK_BAR(b, t, a, s, pf)                                                                  \
    do {                                                                                           \
        CHECK_EQ((b).type, t);                                                                     \
        CHECK_EQ((b).addr, a);                                                                     \
        CHECK_EQ((b).size, s);                                                                     \
        CHECK_EQ((b).prefetchable, pf);                                                            \
    } while (0)

/* An I/O BAR of 32 ports behind a 16-bit decoder: bits 31:16 read back 0. */
static void bar_io_16bit_decoder(void)
{
    struct pci_bar b;
    memset(&b, 0xEE, sizeof(b));
    CHECK_EQ(pci_bar_decode(0xC001, 0x0000FFE1, 0, 0, &b), 1);
    CHECK_BAR(b, PCI_BAR_IO, 0xC000, 0x20, 0);
    CHECK_EQ(pci_bar_decode(0xD001, 0xFFFFFFE1, 0, 0, &b), 1); /* a 32-bit decoder */
    CHECK_BAR(b, PCI_BAR_IO, 0xD000, 0x20, 0);
    CHECK_EQ(pci_bar_decode(0x0701, 0x0000FFC1, 0, 0, &b), 1);
    CHECK_BAR(b, PCI_BAR_IO, 0x0700, 0x40, 0);
}

/* 32-bit memory, plain and prefetchable. */
static void bar_mem32(void)
{
    struct pci_bar b;
    CHECK_EQ(pci_bar_decode(0xFEBD1000, 0xFFFFF000, 0, 0, &b), 1);
    CHECK_BAR(b, PCI_BAR_MEM32, 0xFEBD1000, 0x1000, 0);
    CHECK_EQ(pci_bar_decode(0xFD000008, 0xFF000008, 0, 0, &b), 1);
    CHECK_BAR(b, PCI_BAR_MEM32, 0xFD000000, 16 * MiB, 1);
    CHECK_EQ(pci_bar_decode(0x80000000, 0x80000000, 0, 0, &b), 1); /* 2 GiB */
    CHECK_BAR(b, PCI_BAR_MEM32, 0x80000000, 0x80000000, 0);
}

/* 64-bit memory above 4 GiB, and larger than 4 GiB: two slots. */
static void bar_mem64(void)
{
    struct pci_bar b;
    CHECK_EQ(pci_bar_decode(0x0000000C, 0xFFFFC00C, 0xE0, 0xFFFFFFFF, &b), 2);
    CHECK_BAR(b, PCI_BAR_MEM64, 0xE000000000, 16 * KiB, 1);
    CHECK_EQ(pci_bar_decode(0xFE800004, 0xFFF80004, 0, 0xFFFFFFFF, &b), 2);
    CHECK_BAR(b, PCI_BAR_MEM64, 0xFE800000, 512 * KiB, 0);
    CHECK_EQ(pci_bar_decode(0x0000000C, 0x0000000C, 0x80, 0xFFFFFFFE, &b), 2); /* 8 GiB */
    CHECK_BAR(b, PCI_BAR_MEM64, 0x8000000000, 0x200000000, 1);
    /* A 64-bit BAR whose upper half is hardwired to 0 (it decodes below
     * 4 GiB only): the size is still the lowest writable bit, 64 KiB. */
    CHECK_EQ(pci_bar_decode(0xFEA00004, 0xFFFF0004, 0, 0, &b), 2);
    CHECK_BAR(b, PCI_BAR_MEM64, 0xFEA00000, 64 * KiB, 0);
}

/* Unimplemented BARs decode as none: 32-bit (reads 0), 64-bit (only the
 * type bits stick), I/O (only bit 0 sticks). */
static void bar_unimplemented(void)
{
    struct pci_bar b;
    memset(&b, 0xEE, sizeof(b));
    CHECK_EQ(pci_bar_decode(0, 0, 0, 0, &b), 1);
    CHECK_BAR(b, PCI_BAR_NONE, 0, 0, 0);
    memset(&b, 0xEE, sizeof(b));
    CHECK_EQ(pci_bar_decode(0x0000000C, 0x0000000C, 0, 0, &b), 2);
    CHECK_BAR(b, PCI_BAR_NONE, 0, 0, 0);
    memset(&b, 0xEE, sizeof(b));
    CHECK_EQ(pci_bar_decode(0x1, 0x1, 0, 0, &b), 1);
    CHECK_BAR(b, PCI_BAR_NONE, 0, 0, 0);
}

/* --- the model bus ------------------------------------------------------------- */

struct fn_model {
    uint16_t seg;
    uint8_t bus, dev, fn;
    uint32_t cfg[64];
    uint32_t wmask[64]; /* bits a write sets or clears */
    uint32_t w1c[64];   /* bits a written 1 clears */
};

static struct fn_model fns[16], saved[16];
static int nfns;

/* What the model saw that it should not have. */
static int odd_accesses, status_cleared, sized_while_decoding, port_accesses, mmio_accesses;

#define CMD_STATUS 1 /* dword index of Command/Status */
#define STATUS_CAP_LIST 0x0010
#define STATUS_RECEIVED_MASTER_ABORT 0x2000 /* RW1C */

static struct fn_model *add_fn(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t vendor,
                               uint16_t device, uint32_t class_code, uint8_t header_type,
                               uint16_t cmd)
{
    struct fn_model *f = &fns[nfns++];
    memset(f, 0, sizeof(*f));
    f->seg = seg;
    f->bus = bus;
    f->dev = dev;
    f->fn = fn;
    f->cfg[0] = (uint32_t)device << 16 | vendor;
    f->cfg[CMD_STATUS] = (uint32_t)(STATUS_CAP_LIST | STATUS_RECEIVED_MASTER_ABORT) << 16 | cmd;
    f->wmask[CMD_STATUS] = 0x00000547; /* IO, memory, bus master, parity, SERR, INTx disable */
    f->w1c[CMD_STATUS] = 0xF9000000;
    f->cfg[2] = class_code << 8 | 0x01; /* revision 1 */
    f->cfg[3] = (uint32_t)header_type << 16;
    return f;
}

enum bar_kind { IO16, IO32, MEM32, MEM32_PF, MEM64, MEM64_PF };

static void add_bar(struct fn_model *f, int i, uint64_t addr, uint64_t size, enum bar_kind k)
{
    uint64_t mask = ~(size - 1);
    int d = 4 + i;
    if (k == IO16 || k == IO32) {
        f->cfg[d] = (uint32_t)addr | 1;
        f->wmask[d] = (uint32_t)mask & ~3u & (k == IO16 ? 0xFFFFu : 0xFFFFFFFFu);
        return;
    }
    uint32_t type = (k == MEM32_PF || k == MEM64_PF ? 8 : 0) | (k >= MEM64 ? 4 : 0);
    f->cfg[d] = (uint32_t)addr | type;
    f->wmask[d] = (uint32_t)mask & ~0xFu;
    if (k >= MEM64) {
        f->cfg[d + 1] = (uint32_t)(addr >> 32);
        f->wmask[d + 1] = (uint32_t)(mask >> 32);
    }
}

static struct fn_model *find_fn(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (int i = 0; i < nfns; i++)
        if (fns[i].seg == seg && fns[i].bus == bus && fns[i].dev == dev && fns[i].fn == fn)
            return &fns[i];
    return NULL;
}

static uint32_t cfg_read(struct fn_model *f, uint32_t reg)
{
    if (!f)
        return 0xFFFFFFFF;                  /* no function: master abort */
    return reg < 256 ? f->cfg[reg / 4] : 0; /* extended space: empty */
}

static void cfg_write(struct fn_model *f, uint32_t reg, uint32_t v)
{
    if (!f || reg >= 256)
        return;
    uint32_t d = reg / 4;
    int is_bar = d >= 4 && d < ((f->cfg[3] >> 16 & 0x7F) == 1 ? 6u : 10u);
    if (is_bar && v == 0xFFFFFFFF && (f->cfg[CMD_STATUS] & 3))
        sized_while_decoding++;
    if (f->w1c[d] & v)
        status_cleared++;
    f->cfg[d] = (f->cfg[d] & ~f->wmask[d]) | (v & f->wmask[d]);
    f->cfg[d] &= ~(v & f->w1c[d]);
}

/* Configuration mechanism #1: 0xCF8 holds enable, bus, device, function and
 * register; 0xCFC reads or writes that dword. */
static uint32_t cf8;

static uint32_t port_in(uint16_t port, int size)
{
    port_accesses++;
    if (port != 0xCFC || size != 4 || !(cf8 & 0x80000000)) {
        odd_accesses++;
        return 0xFFFFFFFF;
    }
    return cfg_read(find_fn(0, cf8 >> 16 & 0xFF, cf8 >> 11 & 0x1F, cf8 >> 8 & 7), cf8 & 0xFC);
}

static void port_out(uint16_t port, uint32_t v, int size)
{
    port_accesses++;
    if (port == 0xCF8 && size == 4)
        cf8 = v;
    else if (port == 0xCFC && size == 4 && (cf8 & 0x80000000))
        cfg_write(find_fn(0, cf8 >> 16 & 0xFF, cf8 >> 11 & 0x1F, cf8 >> 8 & 7), cf8 & 0xFC, v);
    else
        odd_accesses++;
}

/* ECAM: segment 0 at 0xB0000000 for buses 0-255; segment 1 at 0xC0000000
 * for buses 0x10-0x1F (its base is still bus 0's address). */
#define ECAM0 0xB0000000ull
#define ECAM1 0xC0000000ull

static struct fn_model *ecam_fn(uint64_t addr, uint32_t *reg)
{
    uint16_t seg;
    uint64_t off;
    if (addr >= ECAM0 && addr < ECAM0 + 256 * MiB) {
        seg = 0;
        off = addr - ECAM0;
    } else if (addr >= ECAM1 + 0x10 * MiB && addr < ECAM1 + 0x20 * MiB) {
        seg = 1;
        off = addr - ECAM1;
    } else {
        odd_accesses++;
        return NULL;
    }
    *reg = off & 0xFFF;
    return find_fn(seg, off >> 20 & 0xFF, off >> 15 & 0x1F, off >> 12 & 7);
}

static uint32_t ecam_read(uint64_t addr, int size)
{
    uint32_t reg = 0;
    mmio_accesses++;
    struct fn_model *f = ecam_fn(addr, &reg);
    if (size != 4 || (reg & 3))
        odd_accesses++;
    return cfg_read(f, reg);
}

static void ecam_write(uint64_t addr, uint32_t v, int size)
{
    uint32_t reg = 0;
    mmio_accesses++;
    struct fn_model *f = ecam_fn(addr, &reg);
    if (size != 4 || (reg & 3))
        odd_accesses++;
    cfg_write(f, reg, v);
}

/* paging_map() (kernel/paging.c) as pci.c sees it: every call recorded;
 * the address in map_fail_pa is "beyond the physical address width". */
struct map_call {
    uint64_t pa, len;
    enum cache c;
};
static struct map_call maps[32];
static int nmaps;
static uint64_t map_fail_pa;

int paging_map(uint64_t pa, uint64_t len, enum cache c)
{
    if (nmaps < 32)
        maps[nmaps++] = (struct map_call){ pa, len, c };
    return map_fail_pa && pa == map_fail_pa ? -1 : 0;
}

/*
 * The machine: a host bridge; a VGA with a prefetchable and a plain 32-bit
 * BAR; virtio-net with I/O, 32-bit and 64-bit-above-4-GiB BARs; a PCI-to-PCI
 * bridge to bus 1, where an 82599 sits; a multi-function device at slot 0x1f
 * (functions 0, 2, 3; function 1 absent). Also two functions that must not
 * be found: 00:03.1 (virtio-net is single-function, so function 1 is never
 * probed) and one on bus 2, which no bridge leads to.
 */
static void build_bus(uint16_t seg, uint8_t root)
{
    struct fn_model *f;
    nfns = 0;
    add_fn(seg, root, 0, 0, 0x8086, 0x29C0, 0x060000, 0x00, 0x0000);
    f = add_fn(seg, root, 1, 0, 0x1234, 0x1111, 0x030000, 0x00, 0x0003);
    add_bar(f, 0, 0xFD000000, 16 * MiB, MEM32_PF);
    add_bar(f, 2, 0xFEBD0000, 4 * KiB, MEM32);
    f = add_fn(seg, root, 3, 0, 0x1AF4, 0x1000, 0x020000, 0x00, 0x0003);
    add_bar(f, 0, 0xC000, 0x20, IO16);
    add_bar(f, 1, 0xFEBD1000, 4 * KiB, MEM32);
    add_bar(f, 4, 0xE000000000, 16 * KiB, MEM64_PF);
    add_fn(seg, root, 3, 1, 0x1AF4, 0x1000, 0x020000, 0x00, 0x0000);
    f = add_fn(seg, root, 0x1E, 0, 0x8086, 0x244E, 0x060401, 0x01, 0x0007);
    f->cfg[6] = (uint32_t)(root + 1) << 16 | (uint32_t)(root + 1) << 8 | root; /* buses */
    f->wmask[6] = 0x00FFFFFF;
    f = add_fn(seg, root + 1, 0, 0, 0x8086, 0x10FB, 0x020000, 0x00, 0x0006);
    add_bar(f, 0, 0xFE800000, 512 * KiB, MEM64);
    add_bar(f, 2, 0xD000, 0x20, IO32);
    add_bar(f, 4, 0xFE880000, 16 * KiB, MEM64);
    add_fn(seg, root, 0x1F, 0, 0x8086, 0x2918, 0x060100, 0x80, 0x0007);
    f = add_fn(seg, root, 0x1F, 2, 0x8086, 0x2922, 0x010601, 0x00, 0x0007);
    add_bar(f, 4, 0xC040, 0x20, IO16);
    add_bar(f, 5, 0xFEBD2000, 4 * KiB, MEM32);
    f = add_fn(seg, root, 0x1F, 3, 0x8086, 0x2930, 0x0C0500, 0x00, 0x0001);
    add_bar(f, 4, 0x0700, 0x40, IO16);
    add_fn(seg, root + 2, 0, 0, 0x8086, 0x100E, 0x020000, 0x00, 0x0007);
    memcpy(saved, fns, sizeof(fns));
}

static void use_ports(void)
{
    fake_io.in = port_in;
    fake_io.out = port_out;
}

static void use_ecam(void)
{
    fake_io.mmio_read = ecam_read;
    fake_io.mmio_write = ecam_write;
}

static void reset_counters(void)
{
    odd_accesses = status_cleared = sized_while_decoding = port_accesses = mmio_accesses = 0;
    nmaps = 0;
    map_fail_pa = 0;
    cf8 = 0;
}

/* --- what must be found ---------------------------------------------------------- */

struct want_dev {
    uint8_t bus, dev, fn, header_type;
    uint16_t vendor, device;
    uint32_t class_code;
    struct pci_bar bar[6];
};

/* clang-format off */
#define NONE_BAR {0, 0, PCI_BAR_NONE, 0}
#define IO(a, s) {a, s, PCI_BAR_IO, 0}
#define MEM32(a, s, pf) {a, s, PCI_BAR_MEM32, pf}
#define MEM64(a, s, pf) {a, s, PCI_BAR_MEM64, pf}

static const struct want_dev want_devs[] = {
    {0, 0x00, 0, 0, 0x8086, 0x29C0, 0x060000, {NONE_BAR}},
    {0, 0x01, 0, 0, 0x1234, 0x1111, 0x030000,
     {[0] = MEM32(0xFD000000, 16 * MiB, 1), [2] = MEM32(0xFEBD0000, 4 * KiB, 0)}},
    {0, 0x03, 0, 0, 0x1AF4, 0x1000, 0x020000,
     {[0] = IO(0xC000, 0x20), [1] = MEM32(0xFEBD1000, 4 * KiB, 0),
      [4] = MEM64(0xE000000000, 16 * KiB, 1)}},
    {0, 0x1E, 0, 1, 0x8086, 0x244E, 0x060401, {NONE_BAR}},
    {0, 0x1F, 0, 0, 0x8086, 0x2918, 0x060100, {NONE_BAR}},
    {0, 0x1F, 2, 0, 0x8086, 0x2922, 0x010601,
     {[4] = IO(0xC040, 0x20), [5] = MEM32(0xFEBD2000, 4 * KiB, 0)}},
    {0, 0x1F, 3, 0, 0x8086, 0x2930, 0x0C0500, {[4] = IO(0x0700, 0x40)}},
    {1, 0x00, 0, 0, 0x8086, 0x10FB, 0x020000,
     {[0] = MEM64(0xFE800000, 512 * KiB, 0), [2] = IO(0xD000, 0x20),
      [4] = MEM64(0xFE880000, 16 * KiB, 0)}},
    /* on a bus no bridge leads to, as on a second root complex */
    {2, 0x00, 0, 0, 0x8086, 0x100E, 0x020000, {NONE_BAR}},
};
/* clang-format on */
#define NWANT ((int)(sizeof(want_devs) / sizeof(want_devs[0])))

/* The memory BARs, in the order the functions are found. */
static const struct {
    uint64_t pa, len;
} want_maps[] = {
    { 0xFD000000, 16 * MiB },   { 0xFEBD0000, 4 * KiB }, { 0xFEBD1000, 4 * KiB },
    { 0xE000000000, 16 * KiB }, { 0xFEBD2000, 4 * KiB }, { 0xFE800000, 512 * KiB },
    { 0xFE880000, 16 * KiB },
};
#define NWANT_MAPS ((int)(sizeof(want_maps) / sizeof(want_maps[0])))

/* Every function found, in bus order, with its BARs, on bus root and the
 * two after it. */
static void check_devices(uint16_t seg, uint8_t root)
{
    CHECK_EQ(pci_count(), NWANT);
    for (int i = 0; i < NWANT && i < pci_count(); i++) {
        const struct pci_dev *d = pci_get(i);
        const struct want_dev *w = &want_devs[i];
        CHECK_EQ(d->segment, seg);
        CHECK_EQ(d->bus, root + w->bus);
        CHECK_EQ(d->dev, w->dev);
        CHECK_EQ(d->fn, w->fn);
        CHECK_EQ(d->header_type, w->header_type);
        CHECK_EQ(d->vendor, w->vendor);
        CHECK_EQ(d->device, w->device);
        CHECK_EQ(d->class_code, w->class_code);
        for (int b = 0; b < 6; b++) {
            CHECK_EQ(d->bar[b].type, w->bar[b].type);
            CHECK_EQ(d->bar[b].addr, w->bar[b].addr);
            CHECK_EQ(d->bar[b].size, w->bar[b].size);
            CHECK_EQ(d->bar[b].prefetchable, w->bar[b].prefetchable);
        }
    }
    CHECK(pci_get(NWANT) == NULL);
    CHECK(pci_get(-1) == NULL);
}

/* Every memory BAR mapped uncacheable, after the first `skip` calls. */
static void check_bar_maps(int skip)
{
    CHECK_EQ(nmaps, skip + NWANT_MAPS);
    for (int i = 0; i < NWANT_MAPS && skip + i < nmaps; i++) {
        CHECK_EQ(maps[skip + i].pa, want_maps[i].pa);
        CHECK_EQ(maps[skip + i].len, want_maps[i].len);
        CHECK_EQ(maps[skip + i].c, CACHE_UC);
    }
}

/* Sizing left no trace: every function's configuration space (Command,
 * every BAR) is as it was, no Status bit was cleared, and no BAR was
 * sized while the function decoded its space. */
static void check_config_untouched(void)
{
    for (int i = 0; i < nfns; i++)
        for (int d = 0; d < 64; d++)
            if (fns[i].cfg[d] != saved[i].cfg[d])
                test_fail(__FILE__, __LINE__, "%02x:%02x.%x offset 0x%02x is 0x%08x, was 0x%08x",
                          fns[i].bus, fns[i].dev, fns[i].fn, d * 4, fns[i].cfg[d], saved[i].cfg[d]);
    CHECK_EQ(status_cleared, 0);
    CHECK_EQ(sized_while_decoding, 0);
    CHECK_EQ(odd_accesses, 0);
}

/* --- enumeration cases ------------------------------------------------------------ */

/* No MCFG: ports 0xCF8/0xCFC find every function and size every BAR. */
static void enumerate_through_ports(void)
{
    struct acpi_info ai;
    memset(&ai, 0, sizeof(ai));
    build_bus(0, 0);
    reset_counters();
    use_ports();
    pci_init(&ai);
    CHECK_STR(pci_method(), "ports 0xcf8/0xcfc");
    check_devices(0, 0);
    check_bar_maps(0);
    check_config_untouched();
    CHECK_EQ(mmio_accesses, 0);
    CHECK_STR(console_log, "");
}

/* One MCFG entry: the same functions through ECAM, after the ECAM window
 * itself was mapped uncacheable; no port is touched. */
static void enumerate_through_ecam(void)
{
    struct acpi_info ai;
    memset(&ai, 0, sizeof(ai));
    ai.nmcfg = 1;
    ai.mcfg[0] = (struct acpi_mcfg){ ECAM0, 0, 0, 255 };
    build_bus(0, 0);
    reset_counters();
    use_ecam();
    pci_init(&ai);
    CHECK_STR(pci_method(), "ecam");
    CHECK(nmaps >= 1);
    CHECK_EQ(maps[0].pa, ECAM0);
    CHECK_EQ(maps[0].len, 256 * MiB);
    CHECK_EQ(maps[0].c, CACHE_UC);
    check_devices(0, 0);
    check_bar_maps(1);
    check_config_untouched();
    CHECK_EQ(port_accesses, 0);
}

/* Two MCFG entries for one segment whose bus ranges overlap (0-1 and 1-255):
 * each bus is scanned once, so every function is listed once. */
static void overlapping_mcfg_entries(void)
{
    struct acpi_info ai;
    memset(&ai, 0, sizeof(ai));
    ai.nmcfg = 2;
    ai.mcfg[0] = (struct acpi_mcfg){ ECAM0, 0, 0, 1 };
    ai.mcfg[1] = (struct acpi_mcfg){ ECAM0, 0, 1, 255 };
    build_bus(0, 0);
    reset_counters();
    use_ecam();
    pci_init(&ai);
    check_devices(0, 0);
}

/* A segment whose buses start at 0x10: its window is mapped from bus 0x10,
 * scanning starts there, and addresses count from the bus-0 base. */
static void ecam_segment_with_bus_offset(void)
{
    struct acpi_info ai;
    memset(&ai, 0, sizeof(ai));
    ai.nmcfg = 1;
    ai.mcfg[0] = (struct acpi_mcfg){ ECAM1, 1, 0x10, 0x1F };
    build_bus(1, 0x10);
    reset_counters();
    use_ecam();
    pci_init(&ai);
    CHECK_EQ(maps[0].pa, ECAM1 + 0x10 * MiB);
    CHECK_EQ(maps[0].len, 16 * MiB);
    CHECK_EQ(maps[0].c, CACHE_UC);
    check_devices(1, 0x10);
    check_config_untouched();
}

/* An ECAM window the CPU cannot address: said, and ports used instead. */
static void unmappable_ecam_falls_back_to_ports(void)
{
    struct acpi_info ai;
    memset(&ai, 0, sizeof(ai));
    ai.nmcfg = 1;
    ai.mcfg[0] = (struct acpi_mcfg){ ECAM0, 0, 0, 255 };
    build_bus(0, 0);
    reset_counters();
    map_fail_pa = ECAM0;
    use_ports();
    pci_init(&ai);
    CHECK_STR(console_log, "pci: ECAM at 0xb0000000 is beyond this CPU's physical address width; "
                           "using ports 0xCF8/0xCFC\n");
    CHECK_STR(pci_method(), "ports 0xcf8/0xcfc");
    check_devices(0, 0);
    check_bar_maps(1);
    CHECK_EQ(mmio_accesses, 0);
}

/* A BAR the CPU cannot address: said, the function still listed. */
static void unmappable_bar_reported(void)
{
    struct acpi_info ai;
    memset(&ai, 0, sizeof(ai));
    build_bus(0, 0);
    reset_counters();
    map_fail_pa = 0xE000000000;
    use_ports();
    pci_init(&ai);
    CHECK_STR(console_log, "pci 0000:00:03.0: bar4 at 0xe000000000 is beyond this CPU's physical "
                           "address width; not mapped\n");
    check_devices(0, 0);
}

/* pci_init() a second time starts the list again. */
static void init_twice_does_not_append(void)
{
    struct acpi_info ai;
    memset(&ai, 0, sizeof(ai));
    build_bus(0, 0);
    reset_counters();
    use_ports();
    pci_init(&ai);
    pci_init(&ai);
    check_devices(0, 0);
}

/* Every bus is probed, not only those bridges lead to: a bridge whose
 * secondary bus points backwards changes nothing, and the functions are
 * listed in bus order, each once. */
static void every_bus_probed_once(void)
{
    struct acpi_info ai;
    memset(&ai, 0, sizeof(ai));
    nfns = 0;
    struct fn_model *f = add_fn(0, 0, 1, 0, 0x8086, 0x244E, 0x060400, 0x01, 0x0007);
    f->cfg[6] = 5u << 16 | 5u << 8 | 0;
    f = add_fn(0, 5, 0, 0, 0x8086, 0x244E, 0x060400, 0x01, 0x0007);
    f->cfg[6] = 2u << 16 | 2u << 8 | 5;
    add_fn(0, 2, 0, 0, 0x1AF4, 0x1000, 0x020000, 0x00, 0x0007);
    add_fn(0, 255, 31, 0, 0x8086, 0x10FB, 0x020000, 0x00, 0x0007);
    reset_counters();
    use_ports();
    pci_init(&ai);
    CHECK_EQ(pci_count(), 4);
    CHECK_EQ(pci_get(0)->bus, 0);
    CHECK_EQ(pci_get(1)->bus, 2);
    CHECK_EQ(pci_get(2)->bus, 5);
    CHECK_EQ(pci_get(3)->bus, 255);
    CHECK_EQ(pci_get(3)->dev, 31);
}

/* Configuration access after init: 16-bit reads pick the right half; Command
 * bits are set without writing 1s into Status; beyond 0xFF the ports give
 * all ones and ECAM reaches extended space. */
static void config_access(void)
{
    struct acpi_info ai;
    memset(&ai, 0, sizeof(ai));
    build_bus(0, 0);
    reset_counters();
    use_ports();
    pci_init(&ai);
    const struct pci_dev *d = pci_get(2); /* 00:03.0 */
    CHECK_EQ(pci_read16(d, 0x00), 0x1AF4);
    CHECK_EQ(pci_read16(d, 0x02), 0x1000);
    CHECK_EQ(pci_read32(d, 0x10), 0xC001);
    pci_enable(d, PCI_CMD_BUS_MASTER);
    struct fn_model *f = find_fn(0, 0, 3, 0);
    CHECK_EQ(f->cfg[CMD_STATUS] & 0xFFFF, 0x0007);
    CHECK_EQ(f->cfg[CMD_STATUS] >> 16, STATUS_CAP_LIST | STATUS_RECEIVED_MASTER_ABORT);
    CHECK_EQ(status_cleared, 0);
    CHECK_EQ(pci_read32(d, 0x100), 0xFFFFFFFF);
    pci_write32(d, 0x100, 0x12345678); /* goes nowhere */
    CHECK_EQ(odd_accesses, 0);

    ai.nmcfg = 1;
    ai.mcfg[0] = (struct acpi_mcfg){ ECAM0, 0, 0, 255 };
    use_ecam();
    pci_init(&ai);
    CHECK_EQ(pci_read32(pci_get(2), 0x100), 0); /* the model's empty extended space */
    CHECK_EQ(odd_accesses, 0);
}

/* --- names and printing ------------------------------------------------------------- */

/* A known device by its id (even with a class that has a name), else its
 * class, else "other". */
static void names(void)
{
    struct pci_dev d;
    memset(&d, 0, sizeof(d));
    d.vendor = 0x1AF4;
    d.device = 0x1000;
    d.class_code = 0x020000;
    CHECK_STR(pci_name(&d), "virtio-net");
    d.vendor = 0x8086;
    d.device = 0x10FB;
    CHECK_STR(pci_name(&d), "82599 ixgbe");
    d.device = 0x1234;
    CHECK_STR(pci_name(&d), "ethernet");
    d.vendor = 0x1234;
    d.device = 0x1111;
    d.class_code = 0x030000;
    CHECK_STR(pci_name(&d), "vga");
    d.class_code = 0x060400;
    CHECK_STR(pci_name(&d), "pci bridge");
    d.class_code = 0x060401; /* subtractive decode: programming interface ignored */
    CHECK_STR(pci_name(&d), "pci bridge");
    d.class_code = 0xFF0000;
    CHECK_STR(pci_name(&d), "other");
}

/* The listing for virtio-net alone: one line for the function, one per BAR. */
static void print_all(void)
{
    struct acpi_info ai;
    memset(&ai, 0, sizeof(ai));
    build_bus(0, 0);
    fns[0] = fns[2]; /* keep only 00:03.0 */
    nfns = 1;
    reset_counters();
    use_ports();
    pci_init(&ai);
    console_log_clear();
    pci_print_all();
    CHECK_STR(console_log, "pci 0000:00:03.0 1af4:1000 class 0200 virtio-net\n"
                           "    bar0 io 0xc000 size 0x20\n"
                           "    bar1 mem32 0xfebd1000 size 0x1000\n"
                           "    bar4 mem64 prefetchable 0xe000000000 size 0x4000\n");
}

int main(void)
{
    RUN(bar_io_16bit_decoder);
    RUN(bar_mem32);
    RUN(bar_mem64);
    RUN(bar_unimplemented);
    RUN(enumerate_through_ports);
    RUN(enumerate_through_ecam);
    RUN(ecam_segment_with_bus_offset);
    RUN(unmappable_ecam_falls_back_to_ports);
    RUN(unmappable_bar_reported);
    RUN(init_twice_does_not_append);
    RUN(every_bus_probed_once);
    RUN(overlapping_mcfg_entries);
    RUN(config_access);
    RUN(names);
    RUN(print_all);
    return test_finish();
}
