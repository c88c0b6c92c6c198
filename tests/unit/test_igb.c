/*
 * tests/unit/test_igb.c - the unchanged driver/igb.c and driver/intel.c
 * against a fake 82576: a register file answering the handshakes of an open
 * (82576 datasheet §4.5: CTRL.RST self-clearing, EECD.AUTO_RD, MDIC.R for
 * the internal PHY, RXDCTL/TXDCTL.ENABLE reading back what was written),
 * each of which a case can make never complete. No frame moves: what the
 * igb driver does with traffic is intel.c's, which test_ixgbe.c runs
 * against the 82599 model, and QEMU's igb under tests/run.py.
 *
 * The cases make each step of an open fail in turn, and check that the
 * failed open left nothing taken: every allocation given back, bus
 * mastering off in the function's Command register, receive, transmit and
 * every queue the driver touched off. Time is virtual, as in test_ixgbe.c.
 */
#include <stdlib.h>

#include "driver/igb.h"
#include "driver/intel.h"
#include "tests/unit/host.h"

/* --- the platform: virtual time, memory, PCI -------------------------------------- */

static uint64_t clock_ns;

uint64_t now_ns(void)
{
    return clock_ns += 50;
}

void delay_us(uint64_t us)
{
    clock_ns += us * 1000;
}

/* Every block handed out and not given back (cpu_alloc is dma_alloc here). */
#define BLOCKS 64
static void *blocks[BLOCKS];
static size_t lens[BLOCKS];
static int nblocks;
static unsigned allocs;  /* calls so far */
static unsigned fail_at; /* set: that call (1 = the first) returns NULL */

void *dma_alloc(size_t size, size_t align)
{
    if (nblocks == BLOCKS || ++allocs == fail_at)
        return NULL;
    void *p = aligned_alloc(align, (size + align - 1) / align * align);
    if (p) {
        memset(p, 0, size);
        blocks[nblocks] = p;
        lens[nblocks++] = size;
    }
    return p;
}

/* A block given back must be one handed out, whole, and given back once. */
void dma_free(void *p, size_t size)
{
    if (!p)
        return;
    for (int i = 0; i < nblocks; i++)
        if (blocks[i] == p) {
            if (lens[i] != size)
                test_fail(__FILE__, __LINE__, "block of %zu bytes given back as %zu", lens[i],
                          size);
            free(p);
            blocks[i] = blocks[--nblocks];
            lens[i] = lens[nblocks];
            return;
        }
    test_fail(__FILE__, __LINE__, "dma_free(%p, %zu): not a block handed out", p, size);
}

static void free_all(void)
{
    while (nblocks)
        free(blocks[--nblocks]);
}

#define pci_command fake_pci_command[0] /* the function's Command register (host.c) */

/* --- the fake 82576 ----------------------------------------------------------------- */

#define BAR0 0xFE000000ull
#define BAR_LEN 0x20000 /* 128 KiB */
#define CTRL 0x00000
#define CTRL_RST (1u << 26)
#define EECD 0x00010
#define EECD_AUTO_RD (1u << 9)
#define MDIC 0x00020
#define MDIC_OP_READ (2u << 26)
#define MDIC_READY (1u << 28)
#define MDIC_ERROR (1u << 30)
#define RCTL 0x00100
#define RCTL_EN (1u << 1)
#define TCTL 0x00400
#define TCTL_EN (1u << 1)
#define RAL0 0x05400
#define RAH0 0x05404
#define RAH_AV (1u << 31)
#define RXDCTL(n) (0x0C028 + 0x40 * (n))
#define TXDCTL(n) (0x0E028 + 0x40 * (n))
#define ENABLE (1u << 25)

/* What a case makes go wrong. */
struct faults {
    bool rst_stuck;       /* CTRL.RST never reads 0 */
    bool nvm_blank;       /* EECD.AUTO_RD never set, RAH(0).AV clear */
    unsigned mdic_stuck;  /* MDIC operation k (1: the first) never sets MDIC.R */
    unsigned mdic_error;  /* MDIC operation k answers with MDIC.E */
    uint32_t rx_never_on; /* bit n: RXDCTL(n).ENABLE never reads 1 */
    uint32_t tx_never_on;
    uint32_t rx_never_off; /* bit n: RXDCTL(n).ENABLE never reads 0 once it was 1 */
    uint32_t tx_never_off;
};

static struct {
    uint32_t reg[BAR_LEN / 4];
    struct faults f;
    unsigned mdic_ops;
    uint32_t rx_was_on, tx_was_on; /* bit n: the queue's ENABLE has read 1 */
} fake;

/* §4.5.2 as the fake does it: registers to 0, the MAC from the NVM into
 * RAL(0)/RAH(0), queue 0 enabled (§8.10.10, §8.12.13). */
static void fake_reset(void)
{
    memset(fake.reg, 0, sizeof(fake.reg));
    fake.reg[RAL0 / 4] = 0x00005402;                               /* 02:54:00:00 */
    fake.reg[RAH0 / 4] = 0x7600 | (fake.f.nvm_blank ? 0 : RAH_AV); /* 00:76 */
    fake.reg[RXDCTL(0) / 4] = ENABLE;
    fake.reg[TXDCTL(0) / 4] = ENABLE;
    fake.rx_was_on = fake.tx_was_on = 1;
    if (fake.f.rst_stuck)
        fake.reg[CTRL / 4] = CTRL_RST;
}

/* A queue's ENABLE as read: what was written, but for a stuck queue. */
static uint32_t dctl_read(uint32_t v, unsigned n, uint32_t never_on, uint32_t never_off,
                          uint32_t *was_on)
{
    if ((v & ENABLE) && (never_on >> n & 1))
        return v & ~ENABLE;
    if (v & ENABLE)
        *was_on |= 1u << n;
    if (!(v & ENABLE) && (never_off >> n & 1) && (*was_on >> n & 1))
        return v | ENABLE;
    return v;
}

static uint32_t bar_read(uint64_t addr, int size)
{
    uint32_t off = (uint32_t)(addr - BAR0);
    if (addr < BAR0 || off >= BAR_LEN || size != 4 || off % 4) {
        test_fail(__FILE__, __LINE__, "%d-byte read at 0x%llx: no register there", size,
                  (unsigned long long)addr);
        return 0xFFFFFFFFu;
    }
    uint32_t v = fake.reg[off / 4];
    if (off == EECD)
        return fake.f.nvm_blank ? v : v | EECD_AUTO_RD;
    for (unsigned n = 0; n < 16; n++) {
        if (off == RXDCTL(n))
            return dctl_read(v, n, fake.f.rx_never_on, fake.f.rx_never_off, &fake.rx_was_on);
        if (off == TXDCTL(n))
            return dctl_read(v, n, fake.f.tx_never_on, fake.f.tx_never_off, &fake.tx_was_on);
    }
    return v;
}

static void bar_write(uint64_t addr, uint32_t v, int size)
{
    uint32_t off = (uint32_t)(addr - BAR0);
    if (addr < BAR0 || off >= BAR_LEN || size != 4 || off % 4) {
        test_fail(__FILE__, __LINE__, "%d-byte write at 0x%llx: no register there", size,
                  (unsigned long long)addr);
        return;
    }
    if (off == CTRL && (v & CTRL_RST)) {
        fake_reset();
        return;
    }
    if (off == MDIC) { /* PHY register 0 reads 0x1140 (clause 22 reset value) */
        unsigned op = ++fake.mdic_ops;
        v = (v & MDIC_OP_READ) ? (v & 0xFFFF0000u) | 0x1140 : v;
        if (op != fake.f.mdic_stuck)
            v |= MDIC_READY;
        if (op == fake.f.mdic_error)
            v |= MDIC_ERROR;
    }
    fake.reg[off / 4] = v;
}

/* --- cases -------------------------------------------------------------------------- */

static struct pci_dev pci = { .bus = 5, .vendor = 0x8086, .device = 0x10C9 };

static struct nic *open_fake(const struct faults *f)
{
    memset(&fake, 0, sizeof(fake));
    fake_reset(); /* powered on: as after a reset that went well */
    if (f)
        fake.f = *f;
    fake_io.mmio_read = bar_read;
    fake_io.mmio_write = bar_write;
    pci.bar[0] = (struct pci_bar){ .addr = BAR0, .size = BAR_LEN, .type = PCI_BAR_MEM32 };
    pci_command = 0;
    clock_ns = 0;
    return igb_open(&pci, 2);
}

/* After a failed open: every block given back, bus mastering off, receive
 * and transmit off, and no queue's ENABLE left written as 1 but queue 0's
 * from the reset (rx0, tx0) where the open failed before it came to them. */
static void nothing_left_taken(bool rx0, bool tx0)
{
    CHECK_EQ(nblocks, 0);
    CHECK_EQ(pci_command & PCI_CMD_BUS_MASTER, 0);
    CHECK_EQ(fake.reg[RCTL / 4] & RCTL_EN, 0);
    CHECK_EQ(fake.reg[TCTL / 4] & TCTL_EN, 0);
    for (int n = 0; n < 16; n++) {
        CHECK_EQ(fake.reg[RXDCTL(n) / 4] & ENABLE, n == 0 && rx0 ? ENABLE : 0);
        CHECK_EQ(fake.reg[TXDCTL(n) / 4] & ENABLE, n == 0 && tx0 ? ENABLE : 0);
    }
}

/* The fake as a healthy 82576: the open succeeds, two queue pairs, the MAC
 * from RAL(0)/RAH(0), every queue enabled, receive and transmit on. */
static void open_ok(void)
{
    struct nic *n = open_fake(NULL);
    CHECK(n != NULL);
    if (!n)
        return free_all();
    CHECK_STR(n->driver, "igb");
    CHECK_EQ(n->rx_queues, 2);
    CHECK_EQ(n->mac[0], 0x02);
    CHECK_EQ(n->mac[1], 0x54);
    CHECK_EQ(n->mac[5], 0x76);
    CHECK_EQ(pci_command, PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER);
    CHECK_EQ(fake.reg[RCTL / 4] & RCTL_EN, RCTL_EN);
    CHECK_EQ(fake.reg[TCTL / 4] & TCTL_EN, TCTL_EN);
    for (int q = 0; q < 2; q++) {
        CHECK_EQ(fake.reg[RXDCTL(q) / 4] & ENABLE, ENABLE);
        CHECK_EQ(fake.reg[TXDCTL(q) / 4] & ENABLE, ENABLE);
    }
    CHECK_EQ(nblocks, 13); /* the state; per queue its pool (2), two rings and two lists */
    free_all();
}

/* trace=regs names: the registers both chips have (intel.c), at the
 * 82576's offsets where they differ (§8.10), and the 82576's own. */
static void register_names(void)
{
    struct nic *n = open_fake(NULL);
    CHECK(n != NULL);
    if (!n)
        return free_all();
    static const struct {
        uint32_t off;
        const char *name;
    } regs[] = {
        { 0x00000, "CTRL" },      { 0x00008, "STATUS" },   { 0x05000, "RXCSUM" },
        { 0x05818, "MRQC" },      { 0x05C0C, "RETA(3)" },  { 0x05CA4, "RSSRK(9)" },
        { 0x05478, "RAL(15)" },   { 0x05404, "RAH(0)" },   { 0x05480, "0x05480" },
        { 0x00010, "EECD" },      { 0x0C070, "RQDPC(1)" }, { 0x04010, "MPC" },
        { 0x0C068, "RXDCTL(1)" }, { 0x0E018, "TDT(0)" },   { 0x0C04C, "SRRCTL(1)" },
    };
    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        char buf[32];
        CHECK_STR(intel_reg_name((struct intel_dev *)n, regs[i].off, buf, sizeof(buf)),
                  regs[i].name);
    }
    free_all();
}

/* Each allocation made to fail in turn, k = 1, 2, ... until the open
 * succeeds: 13 of them, each of which the open unwinds from. */
static void open_fails_at_each_allocation(void)
{
    unsigned k;
    for (k = 1; k < 100; k++) {
        fail_at = allocs + k;
        struct nic *n = open_fake(NULL);
        fail_at = 0;
        if (n) {
            free_all();
            break;
        }
        CHECK(console_contains("no memory"));
        nothing_left_taken(k == 1, k == 1); /* the first: the state's, the device untouched */
        if (test_case_failed) {
            printf("     (allocation %u of the open failed)\n", k);
            break;
        }
    }
    CHECK_EQ(k, 14);
}

/* Each bounded wait of the open, and each refusal it fails on, in turn. */
static void open_fails_at_each_wait(void)
{
    static const struct {
        struct faults f;
        const char *said;
        bool rx0, tx0; /* queue 0 left enabled from the reset: the open failed before it */
    } cases[] = {
        { { .rst_stuck = true }, "igb 0000:05:00.0: global reset (CTRL.RST): CTRL is", 1, 1 },
        { { .nvm_blank = true }, "igb 0000:05:00.0: NVM auto-read (EECD.AUTO_RD)", 1, 1 },
        { { .mdic_stuck = 1 }, "PHY register read (MDIC.R): MDIC is", 1, 1 },
        { { .mdic_error = 1 }, "PHY register 0 read: MDIC.E set", 1, 1 },
        { { .mdic_stuck = 2 }, "PHY register write (MDIC.R): MDIC is", 1, 1 },
        { { .mdic_error = 2 }, "PHY register 0 write: MDIC.E set", 1, 1 },
        { { .rx_never_off = 1 }, "disabling receive queue 0: RXDCTL(0) is", 0, 1 },
        { { .tx_never_off = 1 }, "disabling transmit queue 0: TXDCTL(0) is", 0, 0 },
        { { .rx_never_on = 1 }, "enabling receive queue 0: RXDCTL(0) is", 0, 0 },
        { { .rx_never_on = 2 }, "enabling receive queue 1: RXDCTL(1) is", 0, 0 },
        { { .tx_never_on = 1 }, "enabling transmit queue 0: TXDCTL(0) is", 0, 0 },
        { { .tx_never_on = 2 }, "enabling transmit queue 1: TXDCTL(1) is", 0, 0 },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        console_log_clear();
        CHECK(open_fake(&cases[i].f) == NULL);
        CHECK(console_contains(cases[i].said));
        nothing_left_taken(cases[i].rx0, cases[i].tx0);
        free_all();
        if (test_case_failed) {
            printf("     (case: %s)\n", cases[i].said);
            break;
        }
    }
}

int main(void)
{
    RUN(open_ok);
    RUN(register_names);
    RUN(open_fails_at_each_allocation);
    RUN(open_fails_at_each_wait);
    return test_finish();
}
