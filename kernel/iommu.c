/*
 * kernel/iommu.c - DMA remapping with Intel VT-d (Intel Virtualization
 * Technology for Directed I/O, Architecture Specification, rev 4.1), in
 * legacy translation mode (§3.4: root table -> context table -> second-level
 * page tables).
 *
 * Each unit the DMAR lists (kernel/acpi.c) gets a root table of its own
 * (§9.1) with a context table (§9.3) for each bus that has a device
 * ixmetal lets do DMA: a NIC, or a device a reserved region (RMRR) names.
 * Each such device has a domain of its own: second-level page tables
 * (§9.8, 4 KiB pages, x86 layout) mapping exactly the blocks dma_alloc
 * handed out while it was opened, at IOVA == physical address. Any other
 * device, and any other address, is blocked by the unit and recorded in
 * its fault recording registers (§7.1), which the reporting core reads
 * once a second (iommu_poll_faults).
 *
 * Every register wait is bounded (IOMMU_WAIT_NS) and a timeout names the
 * unit, the step and what to check; the unit is then left alone and the
 * NICs under it say they are not confined.
 */
#include "kernel/iommu.h"

#include "kernel/io.h"
#include "kernel/kprintf.h"
#include "kernel/mem.h"
#include "kernel/paging.h"
#include "kernel/string.h"
#include "kernel/tsc.h"

/* The remapping unit's registers (the spec's Register Descriptions chapter,
 * names as there), offsets from its base (DRHD). */
#define VTD_VER 0x00    /* Version, RO */
#define VTD_CAP 0x08    /* Capability, RO, 64-bit */
#define VTD_ECAP 0x10   /* Extended Capability, RO, 64-bit */
#define VTD_GCMD 0x18   /* Global Command, WO */
#define VTD_GSTS 0x1C   /* Global Status, RO */
#define VTD_RTADDR 0x20 /* Root Table Address, RW, 64-bit */
#define VTD_CCMD 0x28   /* Context Command, RW, 64-bit */
#define VTD_FSTS 0x34   /* Fault Status, RW1C */
#define VTD_FECTL 0x38  /* Fault Event Control, RW */
#define VTD_PMEN 0x64   /* Protected Memory Enable, RW */
#define VTD_IQH 0x80    /* Invalidation Queue Head, RO, 64-bit */
#define VTD_IQT 0x88    /* Invalidation Queue Tail, RW, 64-bit */
#define VTD_IQA 0x90    /* Invalidation Queue Address, RW, 64-bit */

#define CAP_ND(c) ((c)&7)                       /* domains: 2^(4 + 2*ND) */
#define CAP_RWBF (1ull << 4)                    /* write buffers must be flushed */
#define CAP_PLMR (1ull << 5)                    /* protected low-memory region */
#define CAP_PHMR (1ull << 6)                    /* protected high-memory region */
#define CAP_SAGAW(c) (((c) >> 8) & 0x1F)        /* bit 1: 3-level (39-bit), bit 2: 4-level */
#define CAP_MGAW(c) ((((c) >> 16) & 0x3F) + 1)  /* maximum guest address width */
#define CAP_FRO(c) ((((c) >> 24) & 0x3FF) * 16) /* fault recording registers' offset */
#define CAP_NFR(c) ((((c) >> 40) & 0xFF) + 1)   /* how many */
#define ECAP_C (1ull << 0)                      /* page walks snoop the CPU's caches */
#define ECAP_IRO(e) ((((e) >> 8) & 0x3FF) * 16) /* IOTLB registers' offset */
#define VTD_IOTLB(u) ((u)->iro + 8)             /* IOTLB Invalidate, at IRO + 8 */

#define GCMD_TE (1u << 31)   /* Translation Enable; GSTS.TES */
#define GCMD_SRTP (1u << 30) /* Set Root Table Pointer; GSTS.RTPS */
#define GCMD_WBF (1u << 27)  /* Write Buffer Flush; GSTS.WBFS */
#define GCMD_QIE (1u << 26)  /* Queued Invalidation Enable; GSTS.QIES */
/* GCMD_REG is written whole; the persistent enables are carried over
 * from GSTS and the one-shot commands masked out of what is read. */
#define GSTS_KEEP 0x96FFFFFFu

#define CCMD_ICC (1ull << 63)     /* Invalidate Context-Cache; clears when done */
#define CCMD_GLOBAL (1ull << 61)  /* CIRG = 01: global */
#define IOTLB_IVT (1ull << 63)    /* Invalidate IOTLB; clears when done */
#define IOTLB_GLOBAL (1ull << 60) /* IIRG = 01: global */
#define IOTLB_DR_DW (3ull << 48)  /* drain reads and writes first */
#define FSTS_PFO (1u << 0)        /* Primary Fault Overflow, RW1C */
#define FSTS_PPF (1u << 1)        /* Primary Pending Fault */
#define FSTS_FRI(s) (((s) >> 8) & 0xFF)
#define FECTL_IM (1u << 31) /* fault interrupt masked: polled instead */
#define PMEN_EPM (1u << 31) /* Enable Protected Memory */
#define PMEN_PRS (1u << 0)  /* Protected Region Status */
#define IQA_DW (1ull << 11) /* 256-bit descriptors */
#define IQA_QS(a) ((a)&7)   /* 2^QS pages of descriptors */
#define IQ_TAIL 0x7FFF0ull  /* IQT/IQH bits 18:4: the offset of a descriptor */
/* §6.5.2.8: an Invalidation Wait descriptor; with SW, the unit writes
 * status data to an address once every descriptor before it is done. */
#define INV_WAIT 0x5ull
#define INV_WAIT_SW (1ull << 5)
#define INV_WAIT_FN (1ull << 6)
#define INV_WAIT_DONE 0x1D0E

/* FRCD_REG: a fault record is 16 bytes; in its upper dword F (bit 127,
 * RW1C) and T (bit 126: 1 = read), the reason (bits 103:96) below them. */
#define FRCD_F (1u << 31)
#define FRCD_READ (1u << 30)

/* §9.1, §9.3: root and context entries are two qwords; §9.8: second-level
 * entries one. Legacy mode: R and W in bits 0 and 1, non-leaf ones too. */
#define ENTRY_P 1ull
#define SL_R 1ull
#define SL_W 2ull
#define SL_ADDR 0x000FFFFFFFFFF000ull
#define CTX_AW_39 1 /* 3-level tables */
#define CTX_AW_48 2 /* 4-level tables */

#define VTD_REGS_LEN 0x4000        /* CAP.FRO and ECAP.IRO reach at most 16 KiB in */
#define IOMMU_WAIT_NS 100000000ull /* 100 ms: a unit finishes in microseconds */
#define MAX_DOMAINS 32
#define MAX_RANGES 32  /* kept per domain for app=info; more are counted only */
#define SAY_PER_POLL 4 /* fault lines printed per poll; the rest counted */

struct unit {
    const struct acpi_dmar_unit *acpi;
    uint64_t regs, cap, ecap;
    uint32_t fro, nfr, iro;
    int levels;     /* of the second-level tables: 3 or 4 */
    bool up;        /* translating with ixmetal's tables */
    bool coherent;  /* ECAP.C: else every table write is flushed from the cache */
    bool was_on;    /* the firmware left translation on */
    uint64_t *root; /* 256 entries, two qwords each: one per bus */
    uint64_t faults, overflows;
};

struct domain {
    struct unit *unit;
    uint16_t segment, did;
    uint8_t bus, devfn;
    uint64_t *top; /* the second-level tables' top */
    int nranges;
    uint64_t range[MAX_RANGES][2]; /* [lo, hi) mapped, merged where they touch */
    bool range_w[MAX_RANGES];      /* writable too, or read only (iommu_lend) */
    int nmore;                     /* ranges beyond MAX_RANGES: mapped, not listed */
    uint64_t bytes, faults;
    bool failed; /* a block it could not map: said */
    bool rmrr;   /* a reserved region's device, not a NIC */
};

static int mode = IOMMU_AUTO;
static const struct acpi_info *dmar;
static struct unit units[ACPI_MAX_DMAR_UNITS];
static int nunits, nup;
static struct domain domains[MAX_DOMAINS];
static int ndomains;
static struct domain *open_domain; /* between iommu_attach and iommu_detach */
static uint64_t other_faults;      /* from devices with no domain */

const char *iommu_choice(int i)
{
    static const char *const names[] = { "auto", "on", "off" };
    return i >= 0 && i < 3 ? names[i] : 0;
}

const char *iommu_test_choice(int i)
{
    static const char *const names[] = { "off", "preboot" };
    return i >= 0 && i < 2 ? names[i] : 0;
}

static uint32_t rd32(const struct unit *u, uint32_t off)
{
    return mmio_read32(u->regs + off);
}

static void wr32(const struct unit *u, uint32_t off, uint32_t v)
{
    mmio_write32(u->regs + off, v);
}

/* Where page walks do not snoop (ECAP.C clear), a table entry written must
 * leave the CPU's cache before the unit reads it (ECAP_REG.C: software
 * must flush what it writes to the tables). */
static void flush_entry(const struct unit *u, const void *p)
{
    if (!u->coherent)
        __asm__ volatile("clflush %0" : "+m"(*(volatile char *)p) : : "memory");
}

/* Waits until (reg & mask) == want, up to IOMMU_WAIT_NS; 64-bit registers
 * with wide. On timeout says which unit, step and what to check. */
static int wait_reg(struct unit *u, uint32_t reg, bool wide, uint64_t mask, uint64_t want,
                    const char *step, const char *check)
{
    uint64_t start = now_ns(), v;
    for (;;) {
        v = wide ? mmio_read64(u->regs + reg) : rd32(u, reg);
        if ((v & mask) == want)
            return 0;
        if (now_ns() - start > IOMMU_WAIT_NS)
            break;
        delay_us(1);
    }
    kprintf("iommu: unit at 0x%lx: %s did not finish within %lu ms (register 0x%x reads 0x%lx); "
            "%s. Its devices' DMA is not confined\n",
            u->regs, step, (uint64_t)(IOMMU_WAIT_NS / 1000000), reg, v, check);
    return -1;
}

/* One command bit set or cleared in GCMD_REG, then GSTS_REG awaited. */
static int gcmd(struct unit *u, uint32_t bit, bool on, const char *step, const char *check)
{
    uint32_t v = rd32(u, VTD_GSTS) & GSTS_KEEP;
    wr32(u, VTD_GCMD, on ? v | bit : v & ~bit);
    return wait_reg(u, VTD_GSTS, false, bit, on ? bit : 0, step, check);
}

/* §6.5.1, §6.5.2: after root or context entries change, the context cache,
 * then the IOTLB, both globally, each awaited; the write buffers first
 * where CAP.RWBF asks (§6.8). */
static int invalidate(struct unit *u)
{
    if (u->cap & CAP_RWBF) { /* GSTS.WBFS is set while it flushes */
        wr32(u, VTD_GCMD, (rd32(u, VTD_GSTS) & GSTS_KEEP) | GCMD_WBF);
        if (wait_reg(u, VTD_GSTS, false, GCMD_WBF, 0, "write buffer flush (GCMD.WBF)",
                     "the unit may be hung"))
            return -1;
    }
    mmio_write64(u->regs + VTD_CCMD, CCMD_ICC | CCMD_GLOBAL);
    if (wait_reg(u, VTD_CCMD, true, CCMD_ICC, 0, "global context-cache invalidation (CCMD.ICC)",
                 "queued invalidation may still be on, or the unit is hung"))
        return -1;
    mmio_write64(u->regs + VTD_IOTLB(u), IOTLB_IVT | IOTLB_GLOBAL | IOTLB_DR_DW);
    return wait_reg(u, VTD_IOTLB(u), true, IOTLB_IVT, 0, "global IOTLB invalidation (IOTLB.IVT)",
                    "ECAP.IRO may point at the wrong register");
}

/* Faults left over from before (the firmware's, or an earlier boot's):
 * cleared unread, so that what is printed is ours. */
static void clear_faults(struct unit *u)
{
    for (uint32_t i = 0; i < u->nfr; i++)
        wr32(u, u->fro + 16 * i + 12, FRCD_F);
    wr32(u, VTD_FSTS, FSTS_PFO);
}

/* A firmware's queued invalidation, left on: the unit takes no register-
 * based invalidation while it is. §6.5.2: before it is turned off, every
 * descriptor must be done, the last one an Invalidation Wait; one is
 * queued (its status written to memory of ours) and awaited. */
static volatile uint32_t qi_status;

static int queued_invalidation_off(struct unit *u)
{
    uint64_t iqa = mmio_read64(u->regs + VTD_IQA), base = iqa & ~0xFFFull;
    uint64_t len = 4096ull << IQA_QS(iqa), width = iqa & IQA_DW ? 32 : 16;
    uint64_t tail = mmio_read64(u->regs + VTD_IQT) & IQ_TAIL;
    volatile uint64_t *d = (volatile uint64_t *)(uintptr_t)(base + tail);
    qi_status = 0;
    d[0] = INV_WAIT | INV_WAIT_SW | INV_WAIT_FN | (uint64_t)INV_WAIT_DONE << 32;
    d[1] = (uint64_t)(uintptr_t)&qi_status;
    if (width == 32)
        d[2] = d[3] = 0;
    flush_entry(u, (const void *)d);
    tail = (tail + width) % len;
    mmio_write64(u->regs + VTD_IQT, tail);
    uint64_t start = now_ns();
    while (qi_status != INV_WAIT_DONE && now_ns() - start < IOMMU_WAIT_NS)
        delay_us(1);
    if (qi_status != INV_WAIT_DONE ||
        wait_reg(u, VTD_IQH, true, IQ_TAIL, tail, "draining the firmware's invalidation queue",
                 "the unit may be hung"))
        return -1;
    return gcmd(u, GCMD_QIE, false, "queued invalidation off (GCMD.QIE)", "the unit may be hung");
}

/* PMEN_REG: pre-boot DMA protection may use the protected memory
 * regions; with translation on they are not needed, and would block the
 * NICs' memory below them. */
static int protected_memory_off(struct unit *u)
{
    if (!(u->cap & (CAP_PLMR | CAP_PHMR)) || !(rd32(u, VTD_PMEN) & PMEN_EPM))
        return 0;
    kprintf("iommu: unit at 0x%lx: the firmware left protected memory regions on; turned off\n",
            u->regs);
    wr32(u, VTD_PMEN, 0);
    return wait_reg(u, VTD_PMEN, false, PMEN_PRS, 0, "turning protected memory off (PMEN.PRS)",
                    "the unit may be hung");
}

/*
 * One unit, in the order the spec gives (§6.5 and the registers' own
 * descriptions): queued invalidation
 * off (register-based invalidation is used), the root table pointer set and
 * awaited, the caches invalidated, fault interrupts masked and old faults
 * cleared, translation on. With translation already on (the firmware's
 * pre-boot DMA protection), the root table is switched under it: from then
 * on every device is blocked until its context entry is made.
 */
static int unit_up(struct unit *u)
{
    uint32_t ver = rd32(u, VTD_VER);
    if (ver == 0xFFFFFFFFu) {
        kprintf("iommu: unit at 0x%lx does not answer (version register reads 0x%x); check the "
                "DMAR's register base. Its devices' DMA is not confined\n",
                u->regs, ver);
        return -1;
    }
    u->cap = mmio_read64(u->regs + VTD_CAP);
    u->ecap = mmio_read64(u->regs + VTD_ECAP);
    u->fro = (uint32_t)CAP_FRO(u->cap);
    u->nfr = (uint32_t)CAP_NFR(u->cap);
    u->iro = (uint32_t)ECAP_IRO(u->ecap);
    u->coherent = u->ecap & ECAP_C;
    uint32_t gsts = rd32(u, VTD_GSTS);
    u->was_on = gsts & GCMD_TE;
    if ((gsts & GCMD_QIE) && queued_invalidation_off(u))
        return -1;
    u->root = (uint64_t *)(uintptr_t)mem_alloc_low_page();
    for (int i = 0; i < 4096; i += 64)
        flush_entry(u, (char *)u->root + i);
    mmio_write64(u->regs + VTD_RTADDR, (uint64_t)(uintptr_t)u->root); /* TTM 00: legacy */
    if (gcmd(u, GCMD_SRTP, true, "setting the root table pointer (GCMD.SRTP)",
             "the register base in the DMAR may be wrong") ||
        invalidate(u))
        return -1;
    int sagaw = (int)CAP_SAGAW(u->cap);
    u->levels = sagaw & 4 ? 4 : sagaw & 2 ? 3 : 0;
    if (!u->levels) {
        kprintf("iommu: unit at 0x%lx offers neither 3- nor 4-level tables (CAP 0x%lx); not "
                "used\n",
                u->regs, u->cap);
        return -1;
    }
    wr32(u, VTD_FECTL, FECTL_IM);
    clear_faults(u);
    if (!(rd32(u, VTD_GSTS) & GCMD_TE) &&
        gcmd(u, GCMD_TE, true, "enabling translation (GCMD.TE)", "the unit may be hung"))
        return -1;
    return protected_memory_off(u);
}

/* iommu_test=preboot: the unit as a firmware with pre-boot DMA protection
 * hands it over, so that the take-over can be seen under QEMU (which
 * resets its IOMMU at every boot): a root table of its own with no entry
 * (every DMA blocked), queued invalidation on, translation on. */
static int play_firmware(struct unit *u)
{
    kprintf("iommu: iommu_test=preboot: unit at 0x%lx: translation and queued invalidation "
            "turned on, as a firmware would leave them\n",
            u->regs);
    mmio_write64(u->regs + VTD_RTADDR, mem_alloc_low_page());
    if (gcmd(u, GCMD_SRTP, true, "the test's root table (GCMD.SRTP)", "the unit may be hung"))
        return -1;
    mmio_write64(u->regs + VTD_IQA, mem_alloc_low_page()); /* 256 entries, empty */
    if (gcmd(u, GCMD_QIE, true, "the test's queued invalidation (GCMD.QIE)",
             "ECAP.QI may be clear"))
        return -1;
    return gcmd(u, GCMD_TE, true, "the test's translation (GCMD.TE)", "the unit may be hung");
}

/* iommu=off: DMA untranslated, as with no IOMMU; where the firmware left
 * translation or its protected memory regions on, they are turned off. */
static void leave_off(const struct acpi_info *ai, int test)
{
    for (int i = 0; i < ai->ndmar_units; i++) {
        struct unit u = { .acpi = &ai->dmar_unit[i], .regs = ai->dmar_unit[i].base };
        if (paging_map(u.regs, VTD_REGS_LEN, CACHE_UC) != 0 || rd32(&u, VTD_VER) == 0xFFFFFFFFu)
            continue;
        u.cap = mmio_read64(u.regs + VTD_CAP);
        if (test == IOMMU_TEST_PREBOOT)
            play_firmware(&u);
        if (!(rd32(&u, VTD_GSTS) & GCMD_TE))
            continue;
        kprintf("iommu: iommu=off: unit at 0x%lx: the firmware left translation on; turned off\n",
                u.regs);
        if (gcmd(&u, GCMD_TE, false, "turning translation off (GCMD.TE)", "the unit may be hung") ==
            0)
            protected_memory_off(&u);
    }
}

static void map_rmrrs(void);

void iommu_init(const struct acpi_info *ai, const struct iommu_options *o)
{
    mode = o->mode;
    dmar = ai;
    if (!ai->has_dmar)
        return;
    if (mode == IOMMU_OFF) {
        leave_off(ai, o->test);
        return;
    }
    for (int i = 0; i < ai->ndmar_units; i++) {
        struct unit *u = &units[nunits++];
        u->acpi = &ai->dmar_unit[i];
        u->regs = u->acpi->base;
        if (paging_map(u->regs, VTD_REGS_LEN, CACHE_UC) != 0) {
            kprintf("iommu: unit at 0x%lx is beyond what this CPU addresses; not used\n", u->regs);
            continue;
        }
        if (o->test == IOMMU_TEST_PREBOOT && play_firmware(u))
            continue;
        if (unit_up(u) == 0) {
            u->up = true;
            nup++;
            if (u->was_on)
                kprintf("iommu: unit at 0x%lx: the firmware left translation on (pre-boot DMA "
                        "protection); now on ixmetal's tables\n",
                        u->regs);
        } else if (u->was_on) {
            kprintf("iommu: unit at 0x%lx: the firmware left translation on and it could not "
                    "be taken over: its devices' DMA may be blocked; try iommu=off, or turn "
                    "pre-boot DMA protection off in the firmware\n",
                    u->regs);
        }
    }
    if (nup)
        map_rmrrs();
}

void iommu_print_banner(void)
{
    if (mode == IOMMU_OFF)
        kprintf("iommu: off (iommu=off): NIC DMA is not confined\n");
    else if (dmar->dmar_bad && !dmar->has_dmar)
        kprintf("iommu: the DMAR table is corrupt (above): NIC DMA is not confined\n");
    else if (!dmar->has_dmar || !nunits)
        kprintf("iommu: %s: NIC DMA is not confined\n",
                mode == IOMMU_ON ? "none (no DMAR), though iommu=on" : "none (no DMAR)");
    else if (!nup)
        kprintf("iommu: no unit translating (above): NIC DMA is not confined\n");
    else
        kprintf("iommu: VT-d, %d of %d unit%s translating (iommu=%s); every other device's DMA "
                "is blocked\n",
                nup, nunits, nunits == 1 ? "" : "s", iommu_choice(mode));
}

/* The bridge at (bus, dev, fn) of segment seg: its secondary and
 * subordinate bus numbers (PCI-to-PCI Bridge spec 1.2 §3.2.5.3-5). */
static const struct pci_dev *find_fn(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
    for (int i = 0; i < pci_count(); i++) {
        const struct pci_dev *d = pci_get(i);
        if (d->segment == seg && d->bus == bus && d->dev == dev && d->fn == fn)
            return d;
    }
    return NULL;
}

/* §8.3.1: a device scope's path walked through its bridges to the bus and
 * devfn it ends at; also the bus range below it (a bridge). -1 if a bridge
 * on the way is not there. */
static int scope_resolve(uint16_t seg, const struct acpi_dmar_scope *s, uint8_t *bus,
                         uint8_t *devfn, uint8_t *sec, uint8_t *sub)
{
    uint8_t b = s->bus;
    for (int i = 0;; i++) {
        const struct pci_dev *d = find_fn(seg, b, s->path[i][0], s->path[i][1]);
        uint32_t buses = d && d->header_type == 1 ? pci_read32(d, 0x18) : 0;
        if (i == s->npath - 1) {
            *bus = b;
            *devfn = (uint8_t)(s->path[i][0] << 3 | s->path[i][1]);
            *sec = (uint8_t)(buses >> 8);
            *sub = (uint8_t)(buses >> 16);
            return 0;
        }
        if (!buses)
            return -1;
        b = (uint8_t)(buses >> 8);
    }
}

/* §8.3: the unit translating (seg, bus, devfn): the one whose scope names it
 * (the device, or a bridge above it), else the segment's INCLUDE_PCI_ALL
 * unit. NULL if none. */
static struct unit *unit_of(uint16_t seg, uint8_t bus, uint8_t devfn)
{
    struct unit *all = NULL;
    for (int i = 0; i < nunits; i++) {
        const struct acpi_dmar_unit *a = units[i].acpi;
        if (a->segment != seg)
            continue;
        if (a->include_pci_all)
            all = &units[i];
        for (int k = 0; k < a->nscopes; k++) {
            const struct acpi_dmar_scope *s = &a->scope[k];
            uint8_t b, df, sec, sub;
            if ((s->type != DMAR_SCOPE_ENDPOINT && s->type != DMAR_SCOPE_BRIDGE) ||
                scope_resolve(seg, s, &b, &df, &sec, &sub))
                continue;
            if ((b == bus && df == devfn) ||
                (s->type == DMAR_SCOPE_BRIDGE && sec && bus >= sec && bus <= sub))
                return &units[i];
        }
    }
    return all;
}

static struct domain *domain_of(uint16_t seg, uint8_t bus, uint8_t devfn)
{
    for (int i = 0; i < ndomains; i++)
        if (domains[i].segment == seg && domains[i].bus == bus && domains[i].devfn == devfn)
            return &domains[i];
    return NULL;
}

/* The entry of table t at index i, pointing at a new zeroed table if it
 * points nowhere yet (§9.8: R and W set on non-leaf entries too). */
static uint64_t *next_table(struct unit *u, uint64_t *t, unsigned i)
{
    if (!(t[i] & (SL_R | SL_W))) {
        uint64_t page = mem_alloc_low_page();
        for (int k = 0; k < 4096; k += 64)
            flush_entry(u, (char *)(uintptr_t)page + k);
        t[i] = page | SL_R | SL_W;
        flush_entry(u, &t[i]);
    }
    return (uint64_t *)(uintptr_t)(t[i] & SL_ADDR);
}

/* Maps the 4 KiB page at pa, at IOVA pa, readable, and writable if w. */
static void map_page(struct domain *dom, uint64_t pa, bool w)
{
    uint64_t *t = dom->top;
    for (int level = dom->unit->levels; level > 1; level--)
        t = next_table(dom->unit, t, (unsigned)(pa >> (12 + 9 * (level - 1))) & 511);
    uint64_t *e = &t[(pa >> 12) & 511];
    *e = pa | SL_R | (w || (*e & SL_W) ? SL_W : 0); /* never less than it had */
    flush_entry(dom->unit, e);
}

/* [lo, hi) as a range of its own; counted in nmore when the list is full. */
static void range_append(struct domain *dom, uint64_t lo, uint64_t hi, bool w)
{
    if (dom->nranges == MAX_RANGES) {
        dom->nmore++;
        return;
    }
    dom->range_w[dom->nranges] = w;
    dom->range[dom->nranges][0] = lo;
    dom->range[dom->nranges++][1] = hi;
}

static void add_range(struct domain *dom, uint64_t lo, uint64_t hi, bool w)
{
    dom->bytes += hi - lo;
    for (int i = 0; i < dom->nranges; i++) {
        if (dom->range_w[i] != w)
            continue;
        if (dom->range[i][0] == hi) { /* top-down allocation: usually just below */
            dom->range[i][0] = lo;
            return;
        }
        if (dom->range[i][1] == lo) {
            dom->range[i][1] = hi;
            return;
        }
    }
    range_append(dom, lo, hi, w);
}

static void domain_map(struct domain *dom, uint64_t lo, uint64_t hi, bool w)
{
    lo &= ~0xFFFull;
    hi = (hi + 0xFFF) & ~0xFFFull;
    if (hi > 1ull << (12 + 9 * dom->unit->levels) || hi > 1ull << CAP_MGAW(dom->unit->cap)) {
        if (!dom->failed)
            kprintf("iommu: %04x:%02x:%02x.%x: memory 0x%lx-0x%lx is beyond the unit's address "
                    "width; the device cannot reach it\n",
                    dom->segment, dom->bus, dom->devfn >> 3, dom->devfn & 7, lo, hi);
        dom->failed = true;
        return;
    }
    for (uint64_t pa = lo; pa < hi; pa += 4096)
        map_page(dom, pa, w);
    add_range(dom, lo, hi, w);
}

/* A domain for (seg, bus, devfn) under unit u, with its context entry
 * (§9.3): present, second-level tables at top, translation type 00 (its
 * requests without PASID translated), address width for u's levels. */
static struct domain *domain_new(struct unit *u, uint16_t seg, uint8_t bus, uint8_t devfn)
{
    if (ndomains == MAX_DOMAINS || (uint64_t)ndomains + 1 >= 1ull << (4 + 2 * CAP_ND(u->cap))) {
        kprintf("iommu: no domain left for %04x:%02x:%02x.%x\n", seg, bus, devfn >> 3, devfn & 7);
        return NULL;
    }
    struct domain *dom = &domains[ndomains++];
    memset(dom, 0, sizeof(*dom));
    dom->unit = u;
    dom->segment = seg;
    dom->bus = bus;
    dom->devfn = devfn;
    dom->did = (uint16_t)ndomains; /* 1..: domain 0 is reserved where CAP.CM is set */
    dom->top = (uint64_t *)(uintptr_t)mem_alloc_low_page();
    flush_entry(u, dom->top);
    uint64_t *re = &u->root[2 * bus];
    if (!(re[0] & ENTRY_P)) { /* §9.1: the bus's context table */
        uint64_t ct = mem_alloc_low_page();
        for (int k = 0; k < 4096; k += 64)
            flush_entry(u, (char *)(uintptr_t)ct + k);
        re[0] = ct | ENTRY_P;
        flush_entry(u, re);
    }
    uint64_t *ce = (uint64_t *)(uintptr_t)(re[0] & SL_ADDR) + 2 * devfn;
    ce[1] = (uint64_t)(u->levels == 4 ? CTX_AW_48 : CTX_AW_39) | (uint64_t)dom->did << 8;
    ce[0] = (uint64_t)(uintptr_t)dom->top | ENTRY_P; /* present last */
    flush_entry(u, ce);
    return dom;
}

bool iommu_attach(const struct pci_dev *d)
{
    uint8_t devfn = (uint8_t)(d->dev << 3 | d->fn);
    struct unit *u = nup ? unit_of(d->segment, d->bus, devfn) : NULL;
    if (!u || !u->up)
        return false;
    struct domain *dom = domain_of(d->segment, d->bus, devfn);
    if (!dom && !(dom = domain_new(u, d->segment, d->bus, devfn)))
        return false;
    if (invalidate(u)) { /* the new context entry, before the device may use it */
        u->up = false;
        return false;
    }
    open_domain = dom;
    return true;
}

void iommu_detach(void)
{
    struct domain *dom = open_domain;
    open_domain = NULL;
    /* Caching mode off (CAP.CM), entries that were not present need no
     * invalidation (§6.1); a global one anyway costs microseconds, once a
     * NIC, and covers a unit that caches them. */
    if (dom && invalidate(dom->unit))
        dom->unit->up = false;
}

bool iommu_mapping(void)
{
    return open_domain != NULL;
}

void iommu_map(uint64_t pa, uint64_t len)
{
    if (open_domain)
        domain_map(open_domain, pa, pa + len, true);
}

/* Takes [lo, hi) out of dom's list of writable ranges, splitting a range
 * it falls inside (a split with the list full is counted in nmore). */
static void remove_range(struct domain *dom, uint64_t lo, uint64_t hi)
{
    for (int i = 0; i < dom->nranges; i++) {
        uint64_t a = dom->range[i][0], b = dom->range[i][1];
        if (!dom->range_w[i] || hi <= a || lo >= b)
            continue;
        uint64_t cut_lo = lo > a ? lo : a, cut_hi = hi < b ? hi : b;
        dom->bytes -= cut_hi - cut_lo;
        if (cut_lo > a && cut_hi < b) { /* inside: two ranges where there was one */
            dom->range[i][1] = cut_lo;
            range_append(dom, cut_hi, b, true);
        } else if (cut_lo > a) {
            dom->range[i][1] = cut_lo;
        } else if (cut_hi < b) {
            dom->range[i][0] = cut_hi;
        } else { /* all of it: the last range takes its place */
            dom->range_w[i] = dom->range_w[dom->nranges - 1];
            dom->range[i][0] = dom->range[dom->nranges - 1][0];
            dom->range[i][1] = dom->range[--dom->nranges][1];
            i--;
        }
    }
}

/* Clears the leaf entry of the page at pa (§9.8: R and W both 0, not
 * present); the tables above it stay. */
static void unmap_page(struct domain *dom, uint64_t pa)
{
    uint64_t *t = dom->top;
    for (int level = dom->unit->levels; level > 1; level--) {
        uint64_t e = t[(pa >> (12 + 9 * (level - 1))) & 511];
        if (!(e & (SL_R | SL_W)))
            return; /* never mapped */
        t = (uint64_t *)(uintptr_t)(e & SL_ADDR);
    }
    t[(pa >> 12) & 511] = 0;
    flush_entry(dom->unit, &t[(pa >> 12) & 511]);
}

bool iommu_unmap(uint64_t pa, uint64_t len)
{
    struct domain *dom = open_domain;
    if (!dom)
        return true;
    uint64_t lo = pa & ~0xFFFull, hi = (pa + len + 0xFFF) & ~0xFFFull;
    for (uint64_t p = lo; p < hi; p += 4096)
        unmap_page(dom, p);
    remove_range(dom, lo, hi);
    /* §6.5.2: the IOTLB may hold the old translations; gone before the
     * pages can be handed out again */
    if (invalidate(dom->unit)) {
        dom->unit->up = false;
        return false;
    }
    return true;
}

void iommu_lend(const struct pci_dev *d, uint64_t pa, uint64_t len)
{
    struct domain *dom = domain_of(d->segment, d->bus, (uint8_t)(d->dev << 3 | d->fn));
    if (!dom || !dom->unit->up)
        return;
    domain_map(dom, pa, pa + len, false);
    if (invalidate(dom->unit))
        dom->unit->up = false;
}

/* The reserved regions (§8.4): each device they name gets them mapped,
 * identity, as the firmware expects, in a domain of its own; a NIC named
 * by one keeps it mapped beside its own memory. */
static void map_rmrrs(void)
{
    for (int i = 0; i < dmar->nrmrr; i++) {
        const struct acpi_dmar_rmrr *r = &dmar->rmrr[i];
        for (int k = 0; k < r->nscopes; k++) {
            uint8_t bus, devfn, sec, sub;
            if (r->scope[k].type != DMAR_SCOPE_ENDPOINT ||
                scope_resolve(r->segment, &r->scope[k], &bus, &devfn, &sec, &sub))
                continue;
            struct unit *u = unit_of(r->segment, bus, devfn);
            if (!u || !u->up)
                continue;
            struct domain *dom = domain_of(r->segment, bus, devfn);
            if (!dom && (dom = domain_new(u, r->segment, bus, devfn)))
                dom->rmrr = true;
            if (dom)
                domain_map(dom, r->base, r->limit + 1, true);
            if (dom && invalidate(u))
                u->up = false;
        }
    }
}

static struct domain *domain_of_dev(const struct pci_dev *d)
{
    return domain_of(d->segment, d->bus, (uint8_t)(d->dev << 3 | d->fn));
}

bool iommu_confined(const struct pci_dev *d)
{
    struct domain *dom = domain_of_dev(d);
    return dom && dom->unit->up && !dom->rmrr;
}

void iommu_describe(const struct pci_dev *d, char *buf, int len)
{
    struct domain *dom = domain_of_dev(d);
    if (dom && dom->unit->up)
        ksnprintf(buf, len,
                  "DMA confined by the IOMMU at 0x%lx (domain %u): %d range%s, %lu KiB, nothing "
                  "else",
                  dom->unit->regs, dom->did, dom->nranges + dom->nmore,
                  dom->nranges + dom->nmore == 1 ? "" : "s", dom->bytes >> 10);
    else if (mode == IOMMU_OFF)
        ksnprintf(buf, len, "DMA not confined (iommu=off)");
    else if (!nup)
        ksnprintf(buf, len, "DMA not confined (no IOMMU translating)");
    else
        ksnprintf(buf, len, "DMA not confined (no unit of the DMAR translates it, or it failed)");
}

static const char *fault_reason(uint32_t r)
{
    switch (r) { /* chapter 7: the fault reasons of legacy-mode translation */
    case 1:
        return "no root entry for its bus";
    case 2:
        return "no context entry: not a device ixmetal lets do DMA";
    case 3:
        return "context entry invalid";
    case 4:
        return "address beyond the unit's address width";
    case 5:
        return "not mapped writable for it";
    case 6:
        return "not mapped readable for it";
    case 7:
        return "page table not readable";
    default:
        return "see the VT-d spec's fault reasons";
    }
}

static void record_fault(struct unit *u, uint64_t addr, uint16_t sid, bool read, uint32_t reason,
                         int *said, uint64_t *unsaid)
{
    struct domain *dom = domain_of(u->acpi->segment, (uint8_t)(sid >> 8), (uint8_t)sid);
    u->faults++;
    if (dom)
        dom->faults++;
    else
        other_faults++;
    if (*said >= SAY_PER_POLL) {
        (*unsaid)++;
        return;
    }
    (*said)++;
    kprintf("iommu: DMA fault: %04x:%02x:%02x.%x %s at 0x%lx blocked: %s (reason %u)\n",
            u->acpi->segment, sid >> 8, (sid >> 3) & 31, sid & 7, read ? "read" : "write", addr,
            fault_reason(reason), reason);
}

/* §7.1, FRCD_REG: the records from FSTS.FRI on, round the ring; each
 * with F set read, then F written back (RW1C) to free it. */
void iommu_poll_faults(void)
{
    int said = 0;
    uint64_t unsaid = 0;
    for (int i = 0; i < nunits; i++) {
        struct unit *u = &units[i];
        if (!u->up)
            continue;
        uint32_t fsts = rd32(u, VTD_FSTS);
        if (!(fsts & (FSTS_PPF | FSTS_PFO)))
            continue;
        for (uint32_t k = 0; k < u->nfr; k++) {
            uint32_t off = u->fro + 16 * ((FSTS_FRI(fsts) + k) % u->nfr);
            uint32_t hi = rd32(u, off + 12);
            if (!(hi & FRCD_F))
                continue;
            uint64_t addr = mmio_read64(u->regs + off) & ~0xFFFull;
            uint16_t sid = (uint16_t)rd32(u, off + 8);
            wr32(u, off + 12, FRCD_F);
            record_fault(u, addr, sid, hi & FRCD_READ, hi & 0xFF, &said, &unsaid);
        }
        if (fsts & FSTS_PFO) { /* records were full: faults went unrecorded */
            wr32(u, VTD_FSTS, FSTS_PFO);
            if (!u->overflows++)
                kprintf("iommu: unit at 0x%lx: more DMA faults than its %u fault record%s; the "
                        "rest were not recorded\n",
                        u->regs, u->nfr, u->nfr == 1 ? "" : "s");
        }
    }
    if (unsaid)
        kprintf("iommu: %lu more DMA fault%s not printed (at most %d a second)\n", unsaid,
                unsaid == 1 ? "" : "s", SAY_PER_POLL);
}

uint64_t iommu_faults_of(const struct pci_dev *d)
{
    struct domain *dom = domain_of_dev(d);
    return dom ? dom->faults : 0;
}

static void print_scope(const struct acpi_dmar_scope *s)
{
    static const char *const kinds[] = { "?", "endpoint", "bridge", "ioapic", "hpet", "acpi" };
    kprintf(" %s %02x", kinds[s->type < 6 ? s->type : 0], s->bus);
    for (int i = 0; i < s->npath; i++)
        kprintf("%s%02x.%x", i ? "/" : ":", s->path[i][0], s->path[i][1]);
}

void iommu_print(void)
{
    iommu_print_banner();
    if (!dmar->has_dmar)
        return;
    kprintf("iommu: DMAR host address width %u, flags 0x%x\n", dmar->dmar_haw, dmar->dmar_flags);
    for (int i = 0; i < nunits; i++) {
        const struct unit *u = &units[i];
        kprintf("iommu: unit %d at 0x%lx, segment %u, %s, %s", i, u->regs, u->acpi->segment,
                u->up ? "translating" : "not used (above)",
                u->acpi->include_pci_all ? "every device (INCLUDE_PCI_ALL)" : "devices");
        for (int k = 0; k < u->acpi->nscopes; k++)
            print_scope(&u->acpi->scope[k]);
        kprintf("\n");
        if (u->up)
            kprintf("iommu: unit %d: version %u.%u, %d-level tables, %u fault record%s, "
                    "cap 0x%lx ecap 0x%lx, %lu faults\n",
                    i, (rd32(u, VTD_VER) >> 4) & 0xF, rd32(u, VTD_VER) & 0xF, u->levels, u->nfr,
                    u->nfr == 1 ? "" : "s", u->cap, u->ecap, u->faults);
    }
    for (int i = 0; i < dmar->nrmrr; i++) {
        const struct acpi_dmar_rmrr *r = &dmar->rmrr[i];
        kprintf("iommu: reserved region 0x%lx-0x%lx, segment %u, for", r->base, r->limit,
                r->segment);
        for (int k = 0; k < r->nscopes; k++)
            print_scope(&r->scope[k]);
        kprintf(" (mapped for those devices alone)\n");
    }
    for (int i = 0; i < ndomains; i++) {
        const struct domain *dom = &domains[i];
        kprintf("iommu: %04x:%02x:%02x.%x (domain %u%s) may reach %lu KiB:", dom->segment, dom->bus,
                dom->devfn >> 3, dom->devfn & 7, dom->did, dom->rmrr ? ", a reserved region's" : "",
                dom->bytes >> 10);
        for (int k = 0; k < dom->nranges; k++)
            kprintf(" 0x%lx-0x%lx %s", dom->range[k][0], dom->range[k][1],
                    dom->range_w[k] ? "rw" : "r");
        if (dom->nmore)
            kprintf(" and %d more", dom->nmore);
        kprintf("%s\n", dom->nranges ? "" : " nothing");
    }
}
