/*
 * tests/unit/test_iommu.c - kernel/iommu.c against a model of a VT-d unit
 * (Intel VT-d spec rev 4.1), behind the MMIO door of tests/unit/host.c.
 *
 * The model keeps the registers the kernel uses: GCMD/GSTS (TE, SRTP, QIE
 * as status bits; RTPS set when SRTP is written, unless the unit is
 * "dead"), RTADDR, CCMD and the IOTLB register at ECAP.IRO + 8 (their
 * busy bits clear at once), FSTS (PPF from the records, PFO RW1C), FECTL,
 * eight fault recording registers at CAP.FRO (F RW1C), and the queued-
 * invalidation registers (an Invalidation Wait descriptor written at the
 * tail writes its status when IQT moves). It logs the commands in order.
 * translate() walks the kernel's tables as the unit would (§3.4.3: root
 * entry, context entry, second-level tables by the context's AW), so a
 * test asks what a device may reach, page by page.
 *
 * The kernel's file is included, so each case starts from a clean state.
 */
#include "kernel/iommu.c"

#include <stdlib.h>

#include "tests/unit/host.h"

/* --- what iommu.c needs from the rest of the kernel ----------------------- */

static uint64_t clock_ns;
uint64_t now_ns(void)
{
    return clock_ns;
}
void delay_us(uint64_t us)
{
    clock_ns += us * 1000;
}

static void *pages[256];
static int npages;
uint64_t mem_alloc_low_page(void)
{
    void *p = aligned_alloc(4096, 4096);
    memset(p, 0, 4096);
    pages[npages++] = p;
    return (uint64_t)(uintptr_t)p;
}

int paging_map(uint64_t pa, uint64_t len, enum cache c)
{
    (void)pa, (void)len, (void)c;
    return 0;
}

static struct pci_dev devs[2] = { { .bus = 0, .dev = 3, .vendor = 0x8086, .device = 0x10c9 },
                                  { .bus = 0, .dev = 5, .vendor = 0x8086, .device = 0x10c9 } };
int pci_count(void)
{
    return 2;
}
struct pci_dev *pci_get(int i)
{
    return &devs[i];
}
uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
    (void)d, (void)off;
    return 0;
}

/* --- the unit ------------------------------------------------------------- */

#define BASE 0xfed90000ull
#define NFR 8
#define FRO 0x220
#define CAP_MODEL (0xd2008c222f0606ull | (uint64_t)(NFR - 1) << 40)
#define ECAP_MODEL 0xf00f4aull /* IRO 0xF0: the IOTLB register at 0xF8 */

static struct {
    uint32_t gsts, fsts, fectl;
    uint64_t rtaddr, iqa, iqt, iqh;
    uint32_t rec[NFR][4];
    bool dead;         /* SRTP never completes */
    bool iotlb_stuck;  /* an IOTLB invalidation never completes (IVT stays 1) */
    char log[256];
} m;

static void say(const char *what)
{
    strcat(m.log, what);
    strcat(m.log, " ");
}

static void set64(uint64_t *r, uint64_t off, uint32_t v)
{
    *r = off & 4 ? (*r & 0xFFFFFFFFull) | (uint64_t)v << 32 : (*r & ~0xFFFFFFFFull) | v;
}

static uint32_t get64(uint64_t r, uint64_t off)
{
    return (uint32_t)(off & 4 ? r >> 32 : r);
}

static uint32_t model_read(uint64_t addr, int size)
{
    uint64_t off = addr - BASE;
    CHECK_EQ(size, 4);
    if (off >= FRO && off < FRO + 16 * NFR)
        return m.rec[(off - FRO) / 16][(off % 16) / 4];
    switch (off & ~3ull) {
    case 0x00:
        return 0x10;
    case 0x08:
    case 0x0C:
        return get64(CAP_MODEL, off);
    case 0x10:
    case 0x14:
        return get64(ECAP_MODEL, off);
    case 0x1C:
        return m.gsts;
    case 0x34: {
        uint32_t ppf = 0;
        for (int i = 0; i < NFR; i++)
            ppf |= m.rec[i][3] & FRCD_F ? FSTS_PPF : 0;
        return m.fsts | ppf;
    }
    case 0x38:
        return m.fectl;
    case 0x80:
    case 0x84:
        return get64(m.iqh, off);
    case 0x88:
    case 0x8C:
        return get64(m.iqt, off);
    case 0x90:
    case 0x94:
        return get64(m.iqa, off);
    case 0xFC: /* IOTLB's high half: IVT */
        return m.iotlb_stuck ? (uint32_t)(IOTLB_IVT >> 32) : 0;
    default:
        return 0; /* CCMD and IOTLB: done at once; PMEN: off */
    }
}

/* §6.5.2.8: the descriptors from head to tail, each an Invalidation Wait
 * whose status is written. */
static void model_queue(void)
{
    while (m.iqh != m.iqt) {
        uint64_t *d = (uint64_t *)(uintptr_t)((m.iqa & ~0xFFFull) + m.iqh);
        if ((d[0] & 0xF) == INV_WAIT && (d[0] & INV_WAIT_SW))
            *(volatile uint32_t *)(uintptr_t)d[1] = (uint32_t)(d[0] >> 32);
        m.iqh = (m.iqh + 16) % 4096;
        say("wait");
    }
}

static void model_gcmd(uint32_t v)
{
    uint32_t persistent = GCMD_TE | GCMD_QIE;
    if ((v & GCMD_QIE) != (m.gsts & GCMD_QIE))
        say(v & GCMD_QIE ? "qi-on" : "qi-off");
    if ((v & GCMD_TE) != (m.gsts & GCMD_TE))
        say(v & GCMD_TE ? "te-on" : "te-off");
    m.gsts = (m.gsts & ~persistent) | (v & persistent);
    if (v & GCMD_SRTP) {
        say("srtp");
        if (!m.dead)
            m.gsts |= GCMD_SRTP;
    }
}

static void model_write(uint64_t addr, uint32_t v, int size)
{
    uint64_t off = addr - BASE;
    CHECK_EQ(size, 4);
    if (off >= FRO && off < FRO + 16 * NFR) {
        if (off % 16 == 12 && (v & FRCD_F))
            m.rec[(off - FRO) / 16][3] &= ~FRCD_F;
        return;
    }
    switch (off) {
    case 0x18:
        model_gcmd(v);
        break;
    case 0x20:
    case 0x24:
        set64(&m.rtaddr, off, v);
        break;
    case 0x2C:
        if (v & (uint32_t)(CCMD_ICC >> 32))
            say("ccmd");
        break;
    case 0xFC:
        if (v & (uint32_t)(IOTLB_IVT >> 32))
            say("iotlb");
        break;
    case 0x34:
        m.fsts &= ~(v & FSTS_PFO);
        break;
    case 0x38:
        m.fectl = v;
        break;
    case 0x88:
    case 0x8C:
        set64(&m.iqt, off, v);
        model_queue();
        break;
    case 0x90:
    case 0x94:
        set64(&m.iqa, off, v);
        break;
    }
}

/* §3.4.3: 0 if (bus, devfn) may access iova (write or read), else the fault
 * reason the unit would record: 1 no root entry, 2 no context entry, 5/6
 * not writable/readable. */
static int translate(uint8_t bus, uint8_t devfn, uint64_t iova, bool write)
{
    const uint64_t *root = (const uint64_t *)(uintptr_t)(m.rtaddr & SL_ADDR);
    if (!(root[2 * bus] & ENTRY_P))
        return 1;
    const uint64_t *ce = (const uint64_t *)(uintptr_t)(root[2 * bus] & SL_ADDR) + 2 * devfn;
    if (!(ce[0] & ENTRY_P))
        return 2;
    int levels = (ce[1] & 7) == CTX_AW_48 ? 4 : 3;
    const uint64_t *t = (const uint64_t *)(uintptr_t)(ce[0] & SL_ADDR);
    for (int level = levels; level >= 1; level--) {
        uint64_t e = t[(iova >> (12 + 9 * (level - 1))) & 511];
        if (!(e & (write ? SL_W : SL_R)))
            return write ? 5 : 6;
        if (level == 1)
            return (e & SL_ADDR) == (iova & ~0xFFFull) ? 0 : -1; /* IOVA == physical */
        t = (const uint64_t *)(uintptr_t)(e & SL_ADDR);
    }
    return -1;
}

/* --- set-up ----------------------------------------------------------------- */

static struct acpi_info ai;

static void fresh(void)
{
    memset(&m, 0, sizeof(m));
    for (int i = 0; i < npages; i++)
        free(pages[i]);
    npages = 0;
    memset(units, 0, sizeof(units));
    memset(domains, 0, sizeof(domains));
    nunits = nup = ndomains = 0;
    open_domain = NULL;
    other_faults = 0;
    memset(&ai, 0, sizeof(ai));
    ai.has_dmar = 1;
    ai.ndmar_units = 1;
    ai.dmar_unit[0].base = BASE;
    ai.dmar_unit[0].include_pci_all = 1;
    fake_io.mmio_read = model_read;
    fake_io.mmio_write = model_write;
    console_log_clear();
}

static void up(int test)
{
    struct iommu_options o = { IOMMU_AUTO, test };
    iommu_init(&ai, &o);
}

/* Two blocks of "DMA memory", each pages long, 4 KiB aligned. */
static uint8_t *block(int npg)
{
    void *p = aligned_alloc(4096, (size_t)npg * 4096);
    pages[npages++] = p;
    return p;
}

#define DEVFN3 (3 << 3)
#define DEVFN5 (5 << 3)

/* --- cases ------------------------------------------------------------------ */

/* §10.4 / §6.5: the root table set, the context cache then the IOTLB
 * invalidated, fault interrupts masked, then translation on; nothing
 * reachable by any device yet. */
static void bring_up_in_order(void)
{
    fresh();
    up(IOMMU_TEST_OFF);
    CHECK_STR(m.log, "srtp ccmd iotlb te-on ");
    CHECK_EQ(nup, 1);
    CHECK(m.fectl & FECTL_IM);
    CHECK_EQ(translate(0, DEVFN3, 0x1000, false), 1);
    iommu_print_banner();
    CHECK(console_contains("iommu: VT-d, 1 of 1 unit translating (iommu=auto); every other "
                           "device's DMA is blocked\n"));
}

/* A NIC reaches exactly the blocks handed out while it was attached, read
 * and write; a lent block read only; the page on either side of each, and
 * every other device, nothing. */
static void nic_reaches_its_own_memory_only(void)
{
    fresh();
    up(IOMMU_TEST_OFF);
    uint8_t *ring = block(1), *pool = block(3), *other = block(2);
    CHECK(iommu_attach(&devs[0]));
    CHECK(iommu_mapping());
    iommu_map((uint64_t)(uintptr_t)ring, 4096);
    iommu_map((uint64_t)(uintptr_t)pool, 3 * 4096 - 100); /* rounded to whole pages */
    iommu_detach();
    CHECK(!iommu_mapping());
    CHECK(strstr(m.log, "ccmd iotlb") != NULL);
    for (int pg = 0; pg < 3; pg++) {
        uint64_t a = (uint64_t)(uintptr_t)pool + 4096u * (unsigned)pg + 8;
        CHECK_EQ(translate(0, DEVFN3, a, true), 0);
        CHECK_EQ(translate(0, DEVFN3, a, false), 0);
    }
    CHECK_EQ(translate(0, DEVFN3, (uint64_t)(uintptr_t)ring, true), 0);
    CHECK_EQ(translate(0, DEVFN3, (uint64_t)(uintptr_t)other, true), 5);
    CHECK_EQ(translate(0, DEVFN3, (uint64_t)(uintptr_t)other, false), 6);
    CHECK_EQ(translate(0, DEVFN3, (uint64_t)(uintptr_t)pages[0], false), 6); /* the root table */
    CHECK_EQ(translate(0, DEVFN5, (uint64_t)(uintptr_t)ring, false), 2);     /* not a NIC of ours */
    iommu_lend(&devs[0], (uint64_t)(uintptr_t)other, 2 * 4096);
    CHECK_EQ(translate(0, DEVFN3, (uint64_t)(uintptr_t)other + 4096, false), 0);
    CHECK_EQ(translate(0, DEVFN3, (uint64_t)(uintptr_t)other + 4096, true), 5);
    CHECK(iommu_confined(&devs[0]));
    CHECK(!iommu_confined(&devs[1]));
    char buf[160];
    iommu_describe(&devs[0], buf, sizeof(buf));
    CHECK_STR(buf, "DMA confined by the IOMMU at 0xfed90000 (domain 1): 3 ranges, 24 KiB, nothing "
                   "else");
    iommu_describe(&devs[1], buf, sizeof(buf));
    CHECK_STR(buf, "DMA not confined (no unit of the DMAR translates it, or it failed)");
}

/* A failed open giving blocks back (kernel/mem.c dma_free, inside the
 * open): their pages unreachable again, the IOTLB invalidated before they
 * can be handed out, the rest still mapped, the ranges and bytes that
 * app=info shows less what went. */
static void unmapped_pages_unreachable(void)
{
    fresh();
    up(IOMMU_TEST_OFF);
    uint8_t *ring = block(1), *pool = block(3);
    CHECK(iommu_attach(&devs[0]));
    iommu_map((uint64_t)(uintptr_t)ring, 4096);
    iommu_map((uint64_t)(uintptr_t)pool, 3 * 4096);
    size_t logged = strlen(m.log);
    iommu_unmap((uint64_t)(uintptr_t)pool + 4096, 4096); /* the pool's middle page */
    CHECK_STR(m.log + logged, "ccmd iotlb ");
    uint64_t mid = (uint64_t)(uintptr_t)pool + 4096;
    CHECK_EQ(translate(0, DEVFN3, mid, true), 5);
    CHECK_EQ(translate(0, DEVFN3, mid, false), 6);
    CHECK_EQ(translate(0, DEVFN3, (uint64_t)(uintptr_t)pool, true), 0);
    CHECK_EQ(translate(0, DEVFN3, mid + 4096, true), 0);
    CHECK_EQ(translate(0, DEVFN3, (uint64_t)(uintptr_t)ring, true), 0);
    char buf[160];
    iommu_describe(&devs[0], buf, sizeof(buf)); /* the pool's range split in two */
    CHECK_STR(buf, "DMA confined by the IOMMU at 0xfed90000 (domain 1): 3 ranges, 12 KiB, "
                   "nothing else");
    iommu_unmap((uint64_t)(uintptr_t)pool, 100); /* whole pages: the first */
    iommu_unmap((uint64_t)(uintptr_t)pool + 2 * 4096, 4096);
    iommu_unmap((uint64_t)(uintptr_t)ring, 4096);
    iommu_detach();
    for (int pg = 0; pg < 3; pg++)
        CHECK_EQ(translate(0, DEVFN3, (uint64_t)(uintptr_t)pool + 4096u * (unsigned)pg, false), 6);
    CHECK_EQ(translate(0, DEVFN3, (uint64_t)(uintptr_t)ring, false), 6);
    iommu_describe(&devs[0], buf, sizeof(buf));
    CHECK_STR(buf, "DMA confined by the IOMMU at 0xfed90000 (domain 1): 0 ranges, 0 KiB, nothing "
                   "else");
}

/* An IOTLB invalidation that never completes while a failed open gives a
 * block back: stale translations may remain, so iommu_unmap says the pages
 * must stay taken (dma_free keeps them), and the unit is down. */
static void unmap_invalidation_never_ends(void)
{
    fresh();
    up(IOMMU_TEST_OFF);
    uint8_t *pool = block(2);
    CHECK(iommu_attach(&devs[0]));
    iommu_map((uint64_t)(uintptr_t)pool, 2 * 4096);
    CHECK(iommu_unmap((uint64_t)(uintptr_t)pool, 4096));
    m.iotlb_stuck = true;
    CHECK(!iommu_unmap((uint64_t)(uintptr_t)pool + 4096, 4096));
    CHECK(console_contains("iommu: unit at 0xfed90000: global IOTLB invalidation (IOTLB.IVT) did "
                           "not finish within 100 ms (register 0xf8 reads 0x8000000000000000); "
                           "ECAP.IRO may point at the wrong register. Its devices' DMA is not "
                           "confined\n"));
    CHECK(!iommu_attach(&devs[0])); /* the unit is down */
    iommu_detach();
    m.iotlb_stuck = false;
}

static void fault(int i, uint64_t addr, uint16_t sid, bool read, uint8_t reason)
{
    m.rec[i][0] = (uint32_t)addr;
    m.rec[i][1] = (uint32_t)(addr >> 32);
    m.rec[i][2] = sid;
    m.rec[i][3] = FRCD_F | (read ? FRCD_READ : 0) | reason;
}

/* Each fault printed once (device, address, read or write, reason), at
 * most 4 lines a poll and the rest counted; every record cleared so the
 * next is recorded; counted per device; an overflow said once. */
static void faults_polled_counted_cleared(void)
{
    fresh();
    up(IOMMU_TEST_OFF);
    CHECK(iommu_attach(&devs[0]));
    iommu_detach();
    for (int i = 0; i < NFR; i++)
        fault(i, 0x7000000ull + 0x1000u * (unsigned)i + 0x10, i < 6 ? DEVFN3 : DEVFN5, i & 1,
              i >= 6  ? 2
              : i & 1 ? 6
                      : 5);
    iommu_poll_faults();
    CHECK(console_contains(
        "iommu: DMA fault: 0000:00:03.0 write at 0x7000000 blocked: not mapped writable for it "
        "(reason 5)\n"));
    CHECK(console_contains(
        "iommu: DMA fault: 0000:00:03.0 read at 0x7001000 blocked: not mapped readable for it "
        "(reason 6)\n"));
    CHECK_EQ(console_count("iommu: DMA fault: "), 4);
    CHECK(console_contains("iommu: 4 more DMA faults not printed (at most 4 a second)\n"));
    for (int i = 0; i < NFR; i++)
        CHECK_EQ(m.rec[i][3] & FRCD_F, 0);
    CHECK_EQ(iommu_faults_of(&devs[0]), 6);
    CHECK_EQ(iommu_faults_of(&devs[1]), 0);
    CHECK_EQ(other_faults, 2);
    console_log_clear();
    iommu_poll_faults(); /* nothing new: nothing said */
    CHECK_STR(console_log, "");
    fault(3, 0x9000, DEVFN5, true, 2);
    m.fsts = FSTS_PFO;
    iommu_poll_faults();
    CHECK_STR(console_log, "iommu: DMA fault: 0000:00:05.0 read at 0x9000 blocked: no context "
                           "entry: not a device ixmetal lets do DMA (reason 2)\n"
                           "iommu: unit at 0xfed90000: more DMA faults than its 8 fault records; "
                           "the rest were not recorded\n");
    CHECK_EQ(m.fsts & FSTS_PFO, 0);
    m.fsts = FSTS_PFO;
    console_log_clear();
    iommu_poll_faults(); /* said once */
    CHECK_STR(console_log, "");
}

/* A unit whose root table pointer never takes: the bounded wait names it
 * and the step; nothing is confined, and the NICs say so. */
static void unit_never_answers(void)
{
    fresh();
    m.dead = true;
    up(IOMMU_TEST_OFF);
    CHECK(console_contains("iommu: unit at 0xfed90000: setting the root table pointer "
                           "(GCMD.SRTP) did not finish within 100 ms (register 0x1c reads 0x0); "
                           "the register base in the DMAR may be wrong. Its devices' DMA is not "
                           "confined\n"));
    CHECK(clock_ns >= IOMMU_WAIT_NS);
    CHECK_EQ(nup, 0);
    CHECK(!iommu_attach(&devs[0]));
    CHECK(!iommu_mapping());
    iommu_print_banner();
    CHECK(console_contains("iommu: no unit translating (above): NIC DMA is not confined\n"));
}

/* A firmware's translation and queued invalidation left on: the queue
 * drained with an Invalidation Wait, queued invalidation off, then the
 * root table switched under translation, which stays on. */
static void firmware_left_translation_on(void)
{
    fresh();
    up(IOMMU_TEST_PREBOOT);
    CHECK_STR(m.log, "srtp qi-on te-on wait qi-off srtp ccmd iotlb ");
    CHECK(console_contains("iommu: unit at 0xfed90000: the firmware left translation on "
                           "(pre-boot DMA protection); now on ixmetal's tables\n"));
    CHECK_EQ(nup, 1);
    CHECK(m.gsts & GCMD_TE);
    CHECK(!(m.gsts & GCMD_QIE));
    CHECK(iommu_attach(&devs[1]));
    iommu_detach();
    CHECK_EQ(translate(0, DEVFN5, 0x5000, false), 6);
}

/* iommu=off leaves DMA untranslated: a firmware's translation turned off. */
static void off_turns_firmware_translation_off(void)
{
    fresh();
    struct iommu_options o = { IOMMU_OFF, IOMMU_TEST_PREBOOT };
    iommu_init(&ai, &o);
    CHECK(!(m.gsts & GCMD_TE));
    CHECK(console_contains(
        "iommu: iommu=off: unit at 0xfed90000: the firmware left translation on; turned off\n"));
    CHECK(!iommu_attach(&devs[0]));
    iommu_print_banner();
    CHECK(console_contains("iommu: off (iommu=off): NIC DMA is not confined\n"));
}

/* A unit whose scope names 00:03.0 alone translates only that device. */
static void scopes_pick_the_unit(void)
{
    fresh();
    ai.dmar_unit[0].include_pci_all = 0;
    ai.dmar_unit[0].nscopes = 1;
    ai.dmar_unit[0].scope[0] =
        (struct acpi_dmar_scope){ DMAR_SCOPE_ENDPOINT, 0, 0, 1, { { 3, 0 } } };
    up(IOMMU_TEST_OFF);
    CHECK(iommu_attach(&devs[0]));
    iommu_detach();
    CHECK(!iommu_attach(&devs[1]));
    char buf[160];
    iommu_describe(&devs[1], buf, sizeof(buf));
    CHECK_STR(buf, "DMA not confined (no unit of the DMAR translates it, or it failed)");
}

int main(void)
{
    RUN(bring_up_in_order);
    RUN(nic_reaches_its_own_memory_only);
    RUN(unmapped_pages_unreachable);
    RUN(unmap_invalidation_never_ends);
    RUN(faults_polled_counted_cleared);
    RUN(unit_never_answers);
    RUN(firmware_left_translation_on);
    RUN(off_turns_firmware_translation_off);
    RUN(scopes_pick_the_unit);
    fresh(); /* the last case's pages back */
    return test_finish();
}
