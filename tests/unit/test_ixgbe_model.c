/*
 * tests/unit/test_ixgbe_model.c - tests/model/ixgbe_model.c, the 82599 model,
 * driven through its registers as a minimal driver following the 82599
 * datasheet (rev 3.3) §4.6.3 would drive it, on a virtual clock.
 */
#define _POSIX_C_SOURCE 200809L
#define IXGBE_MODEL_REGISTERS
#include "tests/model/ixgbe_model.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "tests/unit/host.h"
#include "tests/unit/toeplitz.h"

/* HLREG0's fields §8.2.3.22.8 gives init values for that tests check: TXCRCEN,
 * RXCRCSTRP, TXPADEN and RXLNGTHERREN 1b, JUMBOEN and LPBK 0b. */
#define HLREG0_DOCUMENTED                                                                          \
    (HLREG0_TXCRCEN | HLREG0_RXCRCSTRP | HLREG0_TXPADEN | HLREG0_RXLNGTHERREN | HLREG0_JUMBOEN |   \
     HLREG0_LPBK)

/* --- a virtual clock and DMA memory ------------------------------------------ */

static _Atomic uint64_t clock_ns;
static uint64_t vclock(void)
{
    return atomic_load(&clock_ns);
}
static void advance(uint64_t ns)
{
    atomic_fetch_add(&clock_ns, ns);
}

#define MS 1000000ull
#define US 1000ull

/* The only memory the model may touch: a bump-allocated arena. */
#define ARENA_SIZE (8u << 20)
static uint8_t *arena;
static size_t arena_used;

static bool in_arena(uint64_t addr, uint64_t len)
{
    uint64_t base = (uint64_t)(uintptr_t)arena;
    return addr >= base && len <= ARENA_SIZE && addr - base <= ARENA_SIZE - len;
}

static void *dma(size_t size)
{
    size_t at = (arena_used + 127) / 128 * 128;
    if (at + size > ARENA_SIZE) {
        printf("FAIL test_ixgbe_model: DMA arena exhausted\n");
        exit(1);
    }
    arena_used = at + size;
    memset(arena + at, 0, size);
    return arena + at;
}

static uint64_t pa(const void *p)
{
    return (uint64_t)(uintptr_t)p;
}

static const uint8_t MAC_A[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a };
static const uint8_t MAC_B[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x0b };
static const uint8_t BCAST[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static struct ixgbe_model_config config(const uint8_t *mac, bool strict)
{
    struct ixgbe_model_config c = {
        .strict = strict,
        .now_ns = vclock,
        .dma_ok = in_arena,
        .reset_ns = 2 * MS,
        .eeprom_ns = 5 * MS,
        .dmainit_ns = 6 * MS,
        .link_ns = 100 * MS,
        .queue_ns = 10 * US,
    };
    memcpy(c.mac, mac, 6);
    return c;
}

/* Every case starts at time 0 with an empty arena. */
static void fresh(void)
{
    atomic_store(&clock_ns, 0);
    arena_used = 0;
}

/* A bounded wait, as a driver must do it: polls every 10 us of virtual time. */
static bool wait_reg(struct ixgbe_model *m, uint32_t off, uint32_t mask, uint32_t want,
                     uint64_t limit_ns)
{
    for (uint64_t t = 0; t <= limit_ns; t += 10 * US) {
        if ((ixgbe_model_read(m, off) & mask) == want)
            return true;
        advance(10 * US);
    }
    return false;
}

static void set_bits(struct ixgbe_model *m, uint32_t off, uint32_t bits)
{
    ixgbe_model_write(m, off, ixgbe_model_read(m, off) | bits);
}

static void clear_bits(struct ixgbe_model *m, uint32_t off, uint32_t bits)
{
    ixgbe_model_write(m, off, ixgbe_model_read(m, off) & ~bits);
}

/* --- a minimal driver, step by step as §4.6.3 lists them ---------------------- */

#define RING 16  /* descriptors per ring in these tests */
#define BUF_KB 2 /* SRRCTL.BSIZEPACKET */

struct port {
    struct ixgbe_model *m;
    uint64_t *rx, *tx;    /* rings: two qwords a descriptor */
    uint8_t *rxbuf[RING]; /* what each RX descriptor was given */
    uint8_t *txbuf[RING];
    uint32_t nrx, rx_next, tx_next;
};

/* §5.2.5.3.2: no new PCIe requests, and none pending. */
static bool master_disable(struct ixgbe_model *m)
{
    set_bits(m, CTRL, CTRL_PCIE_MASTER_DISABLE);
    return wait_reg(m, STATUS, STATUS_PCIE_MASTER_ENABLE, 0, 1 * MS);
}

/* §4.6.3.1-2: interrupts off, PCIe master disable (§5.2.5.3.2), global
 * reset, interrupts off again, then the EEPROM auto-read and DMA init. */
static bool reset_and_wait(struct ixgbe_model *m)
{
    ixgbe_model_write(m, EIMC, 0x7FFFFFFF);
    if (!master_disable(m))
        return false;
    ixgbe_model_write(m, CTRL, ixgbe_model_read(m, CTRL) | CTRL_LRST | CTRL_RST);
    advance(1 * MS); /* §8.2.3.1.1: wait about 1 ms before checking the bit */
    if (!wait_reg(m, CTRL, CTRL_RST, 0, 20 * MS))
        return false;
    advance(10 * MS); /* §4.6.3.2: at least 10 ms after a global reset */
    ixgbe_model_write(m, EIMC, 0x7FFFFFFF);
    return wait_reg(m, EEC, EEC_ARD, EEC_ARD, 20 * MS) &&
           wait_reg(m, RDRXCTL, RDRXCTL_DMAIDONE, RDRXCTL_DMAIDONE, 20 * MS);
}

/* §4.6.5: the statistics are cleared on read. */
static void clear_stats(struct ixgbe_model *m)
{
    static const uint32_t regs[] = { GPRC, GPTC, GORCL, GORCH, GOTCL, GOTCH, BPRC,
                                     MPRC, RUC,  ROC,   TPR,   TPT,   MPTC,  BPTC };
    for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
        ixgbe_model_read(m, regs[i]);
    for (int i = 0; i < 8; i++)
        ixgbe_model_read(m, MPC(i));
}

/* §4.6.7 for receive queue q: a ring of n descriptors, each given a buffer
 * (kept in bufs), SRRCTL (advanced one-buffer descriptors, DROP_EN), enable,
 * poll, tail. */
static bool rx_queue_up(struct ixgbe_model *m, uint32_t q, uint64_t **ring, uint8_t **bufs,
                        uint32_t n)
{
    uint64_t *r = dma(16 * n);
    for (uint32_t i = 0; i < n; i++) {
        bufs[i] = dma(BUF_KB * 1024);
        r[2 * i] = pa(bufs[i]);
    }
    *ring = r;
    ixgbe_model_write(m, RDBAL(q), (uint32_t)pa(r));
    ixgbe_model_write(m, RDBAH(q), (uint32_t)(pa(r) >> 32));
    ixgbe_model_write(m, RDLEN(q), 16 * n);
    ixgbe_model_write(m, SRRCTL(q), BUF_KB | 1u << SRRCTL_DESCTYPE_SHIFT | SRRCTL_DROP_EN);
    set_bits(m, RXDCTL(q), RXDCTL_ENABLE);
    if (!wait_reg(m, RXDCTL(q), RXDCTL_ENABLE, RXDCTL_ENABLE, 10 * MS))
        return false;
    ixgbe_model_write(m, RDT(q), n - 1);
    return true;
}

/* RDRXCTL: CRCStrip as HLREG0.RXCRCSTRP (1 at reset, §4.6.7), and the
 * fields §4.6.7 and §8.2.3.8.8 have software change from their reset
 * values; FCRTH(0).RTH, which §4.6.3.2 has software set in any case. */
static void rdrxctl_init(struct ixgbe_model *m)
{
    uint32_t v = ixgbe_model_read(m, RDRXCTL) & ~RDRXCTL_RSCFRSTSIZE_MASK;
    ixgbe_model_write(m, RDRXCTL, v | RDRXCTL_CRCSTRIP | RDRXCTL_RSCACKC | RDRXCTL_FCOE_WRFIX);
    ixgbe_model_write(m, FCRTH(0), 0x80000 - 0x6000); /* §4.6.3.2: RTH set, FCEN off */
}

/* §4.6.7, last: RXEN with the security block's receive path halted around it. */
static bool rx_on(struct ixgbe_model *m)
{
    set_bits(m, SECRXCTRL, SECRXCTRL_RX_DIS);
    if (!wait_reg(m, SECRXSTAT, SECRXSTAT_SECRX_RDY, SECRXSTAT_SECRX_RDY, 10 * MS))
        return false;
    set_bits(m, RXCTRL, RXCTRL_RXEN);
    clear_bits(m, SECRXCTRL, SECRXCTRL_RX_DIS);
    return true;
}

/* §4.6.7 for queue 0, then RXEN. */
static bool init_rx(struct port *p, uint32_t nrx)
{
    struct ixgbe_model *m = p->m;
    p->nrx = nrx;
    p->rx_next = 0;
    rdrxctl_init(m);
    ixgbe_model_write(m, FCTRL, FCTRL_BAM);
    return rx_queue_up(m, 0, &p->rx, p->rxbuf, nrx) && rx_on(m);
}

/* §4.6.8, the part for all queues: the descriptor arbiter off while the
 * request size is set, then DMATXCTL.TE before any queue is enabled. */
static void tx_on(struct ixgbe_model *m)
{
    set_bits(m, RTTDCS, RTTDCS_ARBDIS);
    ixgbe_model_write(m, DTXMXSZRQ, 0xFFF);
    clear_bits(m, RTTDCS, RTTDCS_ARBDIS);
    set_bits(m, DMATXCTL, DMATXCTL_TE);
}

/* §4.6.8 for transmit queue q: a ring of RING descriptors and their
 * buffers, the thresholds, enable, poll. */
static bool tx_queue_up(struct ixgbe_model *m, uint32_t q, uint64_t **ring, uint8_t **bufs)
{
    uint64_t *r = dma(16 * RING);
    for (int i = 0; i < RING; i++)
        bufs[i] = dma(BUF_KB * 1024);
    *ring = r;
    ixgbe_model_write(m, TDBAL(q), (uint32_t)pa(r));
    ixgbe_model_write(m, TDBAH(q), (uint32_t)(pa(r) >> 32));
    ixgbe_model_write(m, TDLEN(q), 16 * RING);
    ixgbe_model_write(m, TXDCTL(q), 32 | 1u << TXDCTL_HTHRESH_SHIFT | 1u << TXDCTL_WTHRESH_SHIFT);
    set_bits(m, TXDCTL(q), TXDCTL_ENABLE);
    return wait_reg(m, TXDCTL(q), TXDCTL_ENABLE, TXDCTL_ENABLE, 10 * MS);
}

/* §4.6.8 for queue 0. */
static bool init_tx(struct port *p)
{
    p->tx_next = 0;
    tx_on(p->m);
    return tx_queue_up(p->m, 0, &p->tx, p->txbuf);
}

static bool init_port(struct port *p, struct ixgbe_model *m, uint32_t nrx)
{
    memset(p, 0, sizeof(*p));
    p->m = m;
    if (!reset_and_wait(m))
        return false;
    clear_stats(m);
    return init_rx(p, nrx) && init_tx(p) &&
           wait_reg(m, LINKS, LINKS_LINK_UP, LINKS_LINK_UP, 500 * MS);
}

/* A fresh strict model with MAC_A, its queue 0 set up by init_port. */
static struct ixgbe_model *model_with_port(struct port *p)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(init_port(p, m, RING));
    return m;
}

/* One frame from RX queue 0 into out, or -1; the descriptor goes back to the
 * device and RDT stays one behind it. */
static int rx_one(struct port *p, uint8_t *out)
{
    uint64_t *d = &p->rx[2 * p->rx_next];
    uint64_t wb = __atomic_load_n(&d[1], __ATOMIC_ACQUIRE);
    if (!(wb & RXD_STAT_DD))
        return -1;
    int len = (int)((wb >> RXD_PKT_LEN_SHIFT) & 0xFFFF);
    memcpy(out, p->rxbuf[p->rx_next], (size_t)len);
    d[0] = pa(p->rxbuf[p->rx_next]);
    d[1] = 0;
    ixgbe_model_write(p->m, RDT(0), p->rx_next);
    p->rx_next = (p->rx_next + 1) % p->nrx;
    return len;
}

/* Writes one frame's advanced data descriptors on TX queue 0, split in
 * buffers of at most `part` bytes; EOP and RS on the last, PAYLEN in the
 * first. Returns the number of descriptors used; TDT is not moved. */
static uint32_t tx_put(struct port *p, const uint8_t *f, uint32_t len, uint32_t part)
{
    uint32_t used = 0;
    for (uint32_t off = 0; off < len; off += part, used++) {
        uint32_t n = len - off < part ? len - off : part;
        uint32_t i = p->tx_next;
        bool last = off + n == len;
        memcpy(p->txbuf[i], f + off, n);
        p->tx[2 * i] = pa(p->txbuf[i]);
        p->tx[2 * i + 1] = n | TXD_DTYP_DATA << TXD_DTYP_SHIFT | TXD_CMD_DEXT | TXD_CMD_IFCS |
                           (last ? TXD_CMD_EOP | TXD_CMD_RS : 0) |
                           (off == 0 ? (uint64_t)len << TXD_PAYLEN_SHIFT : 0);
        p->tx_next = (i + 1) % RING;
    }
    return used;
}

/* tx_put, then TDT past the frame. */
static uint32_t tx_one(struct port *p, const uint8_t *f, uint32_t len, uint32_t part)
{
    uint32_t used = tx_put(p, f, len, part);
    ixgbe_model_write(p->m, TDT(0), p->tx_next);
    return used;
}

static void make_frame(uint8_t *f, uint32_t len, const uint8_t *dst, const uint8_t *src,
                       unsigned seed)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = 0x08;
    f[13] = 0x00;
    for (uint32_t i = 14; i < len; i++)
        f[i] = (uint8_t)(i * 7 + seed);
}

/* Does the i-th most recent violation message contain text? */
static bool said(const struct ixgbe_model *m, unsigned i, const char *text)
{
    const char *msg = ixgbe_model_violation(m, i);
    return msg && strstr(msg, text);
}

/* --- bring-up: reset, EEPROM, DMA init, link ---------------------------------- */

/* CTRL.RST reads 1 until reset_ns has passed, then 0; the register file is
 * back at its reset values. */
static void reset_self_clears(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, false);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    ixgbe_model_write(m, FCTRL, FCTRL_UPE);
    ixgbe_model_write(m, CTRL, CTRL_RST);
    advance(1 * MS);
    CHECK_EQ(ixgbe_model_read(m, CTRL) & CTRL_RST, CTRL_RST);
    advance(1 * MS - 1);
    CHECK_EQ(ixgbe_model_read(m, CTRL) & CTRL_RST, CTRL_RST);
    advance(1);
    CHECK_EQ(ixgbe_model_read(m, CTRL) & CTRL_RST, 0);
    CHECK_EQ(ixgbe_model_read(m, FCTRL), 0);
    CHECK_EQ(ixgbe_model_read(m, HLREG0) & HLREG0_DOCUMENTED,
             HLREG0_TXCRCEN | HLREG0_RXCRCSTRP | HLREG0_TXPADEN | HLREG0_RXLNGTHERREN);
    CHECK_EQ(ixgbe_model_read(m, SRRCTL(5)), 0x402);
    CHECK_EQ(ixgbe_model_read(m, MAXFRS), 1518u << 16);
    CHECK_EQ(ixgbe_model_read(m, RXPBSIZE(0)), 512u << 10);
    CHECK_EQ(ixgbe_model_read(m, TXPBSIZE(0)), 160u << 10);
    CHECK_EQ(ixgbe_model_read(m, DMATXCTL), 0x8100u << 16);
    ixgbe_model_free(m);
}

/* A reset that never clears: RST stays 1, nothing else comes up, and
 * writes are ignored, so a driver's bounded wait must fail. */
static void reset_never_clears(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    c.reset_ns = IXGBE_MODEL_NEVER;
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(!reset_and_wait(m));
    advance(10000 * MS);
    CHECK_EQ(ixgbe_model_read(m, CTRL) & CTRL_RST, CTRL_RST);
    CHECK_EQ(ixgbe_model_read(m, EEC) & EEC_ARD, 0);
    CHECK_EQ(ixgbe_model_read(m, LINKS) & LINKS_LINK_UP, 0);
    ixgbe_model_clear_violations(m);
    ixgbe_model_write(m, FCTRL, FCTRL_UPE);
    CHECK_EQ(ixgbe_model_read(m, FCTRL), 0);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "FCTRL while CTRL.RST still reads 1"));
    ixgbe_model_free(m);
}

/* EEC.ARD after eeprom_ns and RDRXCTL.DMAIDONE after dmainit_ns, counted from
 * the end of the reset; RAL(0)/RAH(0) hold the MAC once the EEPROM is read. */
static void eeprom_and_dma_init(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, false);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    ixgbe_model_write(m, CTRL, CTRL_RST);
    advance(2 * MS); /* the reset ends */
    CHECK_EQ(ixgbe_model_read(m, EEC), EEC_EE_PRES);
    CHECK_EQ(ixgbe_model_read(m, RAH(0)), 0);
    advance(5 * MS - 1);
    CHECK_EQ(ixgbe_model_read(m, EEC) & EEC_ARD, 0);
    advance(1);
    CHECK_EQ(ixgbe_model_read(m, EEC), EEC_EE_PRES | EEC_ARD);
    CHECK_EQ(ixgbe_model_read(m, RAL(0)), 0x0000000002u);
    CHECK_EQ(ixgbe_model_read(m, RAH(0)), RAH_AV | 0x0a00);
    CHECK_EQ(ixgbe_model_read(m, RDRXCTL) & RDRXCTL_DMAIDONE, 0);
    advance(1 * MS);
    CHECK_EQ(ixgbe_model_read(m, RDRXCTL) & RDRXCTL_DMAIDONE, RDRXCTL_DMAIDONE);
    ixgbe_model_write(m, RDRXCTL, 0); /* DMAIDONE is read-only */
    CHECK_EQ(ixgbe_model_read(m, RDRXCTL), RDRXCTL_DMAIDONE);
    ixgbe_model_free(m);

    /* never */
    c.eeprom_ns = IXGBE_MODEL_NEVER;
    c.dmainit_ns = IXGBE_MODEL_NEVER;
    m = ixgbe_model_new(&c);
    CHECK(!wait_reg(m, EEC, EEC_ARD, EEC_ARD, 1000 * MS));
    CHECK(!wait_reg(m, RDRXCTL, RDRXCTL_DMAIDONE, RDRXCTL_DMAIDONE, 1000 * MS));
    ixgbe_model_free(m);
}

/* LINKS: up at 10 Gb/s link_ns after the reset; an AUTOC Restart_AN takes it
 * down for link_ns again; cabled, both ends must be up; "never" stays down. */
static void link_comes_up(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, false);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    advance(100 * MS - 1);
    CHECK_EQ(ixgbe_model_read(m, LINKS), 0);
    advance(1);
    CHECK_EQ(ixgbe_model_read(m, LINKS), LINKS_LINK_UP | LINKS_LINK_SPEED_10G);
    CHECK_EQ(ixgbe_model_read(m, AUTOC) >> AUTOC_LMS_SHIFT & 7, 3); /* 10 GbE serial */
    set_bits(m, AUTOC, AUTOC_RESTART_AN);
    CHECK_EQ(ixgbe_model_read(m, AUTOC) & AUTOC_RESTART_AN, 0); /* self-clearing */
    CHECK_EQ(ixgbe_model_read(m, LINKS) & LINKS_LINK_UP, 0);
    CHECK(wait_reg(m, LINKS, LINKS_LINK_UP, LINKS_LINK_UP, 100 * MS));

    struct ixgbe_model_config cb = config(MAC_B, false);
    cb.link_ns = IXGBE_MODEL_NEVER;
    struct ixgbe_model *b = ixgbe_model_new(&cb);
    ixgbe_model_cable(m, b);
    CHECK_EQ(ixgbe_model_read(m, LINKS) & LINKS_LINK_UP, 0); /* the other end never comes up */
    CHECK(!wait_reg(b, LINKS, LINKS_LINK_UP, LINKS_LINK_UP, 1000 * MS));
    ixgbe_model_free(b); /* unplugged */
    CHECK_EQ(ixgbe_model_read(m, LINKS) & LINKS_LINK_UP, LINKS_LINK_UP);
    ixgbe_model_free(m);
}

/* RXDCTL.ENABLE reads 1 only once set with a usable ring, queue_ns later. */
static void rx_enable_needs_ring(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, false);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(reset_and_wait(m));
    ixgbe_model_write(m, RXDCTL(0), RXDCTL_ENABLE); /* RDLEN is 0 */
    advance(1 * MS);
    CHECK_EQ(ixgbe_model_read(m, RXDCTL(0)) & RXDCTL_ENABLE, 0);
    ixgbe_model_write(m, RXDCTL(0), 0);
    uint64_t *ring = dma(16 * RING);
    ixgbe_model_write(m, RDBAL(0), (uint32_t)pa(ring));
    ixgbe_model_write(m, RDBAH(0), (uint32_t)(pa(ring) >> 32));
    ixgbe_model_write(m, RDLEN(0), 16 * RING);
    ixgbe_model_write(m, RXDCTL(0), RXDCTL_ENABLE);
    CHECK_EQ(ixgbe_model_read(m, RXDCTL(0)) & RXDCTL_ENABLE, 0); /* not yet: queue_ns */
    advance(10 * US);
    CHECK_EQ(ixgbe_model_read(m, RXDCTL(0)) & RXDCTL_ENABLE, RXDCTL_ENABLE);
    ixgbe_model_write(m, RXDCTL(0), 0);
    CHECK_EQ(ixgbe_model_read(m, RXDCTL(0)) & RXDCTL_ENABLE, 0);
    ixgbe_model_free(m);
}

/* --- receive -------------------------------------------------------------------- */

/* A frame for our MAC lands in descriptor 0: DD, EOP, PKT_LEN, the exact
 * bytes; RDH moves on; GPRC and GORC (with FCS) count it. */
static void rx_frame_lands(void)
{
    struct port p;
    struct ixgbe_model *m = model_with_port(&p);
    uint8_t f[1514], got[2048];
    make_frame(f, 1514, MAC_A, MAC_B, 1);
    CHECK(ixgbe_model_inject(m, f, 1514));
    CHECK_EQ(p.rx[1] & (RXD_STAT_DD | RXD_STAT_EOP), RXD_STAT_DD | RXD_STAT_EOP);
    CHECK_EQ(p.rx[1] >> RXD_PKT_LEN_SHIFT & 0xFFFF, 1514);
    CHECK_EQ(ixgbe_model_read(m, RDH(0)), 1);
    CHECK_EQ(rx_one(&p, got), 1514);
    CHECK(memcmp(got, f, 1514) == 0);
    CHECK_EQ(rx_one(&p, got), -1);
    CHECK_EQ(ixgbe_model_read(m, GPRC), 1);
    CHECK_EQ(ixgbe_model_read(m, GORCL), 1518);
    CHECK_EQ(ixgbe_model_read(m, GORCH), 0);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* The case issue 11 reports: a driver that writes SRRCTL(0) and reads
 * RAL(0)/RAH(0) at the 82598-compatible 0x02100 and 0x05400, as Linux's and
 * DPDK's do for queues and entries 0-15. The queue takes advanced
 * descriptors, the frame's write-back is the advanced one, and the MAC reads
 * as the EEPROM's. */
static void aliases_drive_the_data_path(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(reset_and_wait(m));
    CHECK_EQ(ixgbe_model_read(m, 0x05400), 0x00000002u); /* RAL(0): 02:00:00:00 */
    CHECK_EQ(ixgbe_model_read(m, 0x05404), 0x80000a00u); /* RAH(0): AV, 00:0a */
    rdrxctl_init(m);
    ixgbe_model_write(m, FCTRL, FCTRL_BAM);
    uint64_t *ring = dma(16 * RING);
    uint8_t *bufs[RING];
    for (int i = 0; i < RING; i++) {
        bufs[i] = dma(BUF_KB * 1024);
        ring[2 * i] = pa(bufs[i]);
    }
    ixgbe_model_write(m, RDBAL(0), (uint32_t)pa(ring));
    ixgbe_model_write(m, RDBAH(0), (uint32_t)(pa(ring) >> 32));
    ixgbe_model_write(m, RDLEN(0), 16 * RING);
    ixgbe_model_write(m, 0x02100, BUF_KB | 1u << SRRCTL_DESCTYPE_SHIFT); /* SRRCTL(0) */
    CHECK_EQ(ixgbe_model_read(m, SRRCTL(0)), BUF_KB | 1u << SRRCTL_DESCTYPE_SHIFT);
    set_bits(m, RXDCTL(0), RXDCTL_ENABLE);
    CHECK(wait_reg(m, RXDCTL(0), RXDCTL_ENABLE, RXDCTL_ENABLE, 10 * MS));
    ixgbe_model_write(m, RDT(0), RING - 1);
    CHECK(rx_on(m));
    uint8_t f[100];
    make_frame(f, sizeof(f), MAC_A, MAC_B, 7);
    CHECK(ixgbe_model_inject(m, f, sizeof(f)));
    CHECK_EQ(ring[1] & (RXD_STAT_DD | RXD_STAT_EOP), RXD_STAT_DD | RXD_STAT_EOP);
    CHECK_EQ(ring[1] >> RXD_PKT_LEN_SHIFT & 0xFFFF, sizeof(f)); /* advanced, not legacy */
    CHECK_EQ(ring[0], 0);                                       /* no RSS, hash 0 */
    CHECK(memcmp(bufs[0], f, sizeof(f)) == 0);
    CHECK_EQ(ixgbe_model_read(m, GPRC), 1);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* 40 frames through an 8-descriptor ring: RDH passes the end and wraps. */
static void rx_ring_wraps(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, 8));
    uint8_t f[200], got[2048];
    for (unsigned k = 0; k < 40; k++) {
        make_frame(f, 60 + k, MAC_A, MAC_B, k);
        CHECK(ixgbe_model_inject(m, f, 60 + k));
        CHECK_EQ(ixgbe_model_read(m, RDH(0)), (k + 1) % 8);
        CHECK_EQ(rx_one(&p, got), 60 + k);
        CHECK(memcmp(got, f, 60 + k) == 0);
    }
    CHECK_EQ(ixgbe_model_read(m, GPRC), 40);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* RDH == RDT: no descriptor; with SRRCTL.DROP_EN (set by init_port) the
 * frame is dropped and counted in QPRDC(0), not queued, and MPC stays 0;
 * once the driver gives descriptors back, frames land again. */
static void rx_no_room_is_dropped(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, 8));
    uint8_t f[64], got[2048];
    make_frame(f, 64, MAC_A, MAC_B, 0);
    for (int k = 0; k < 7; k++) /* RDT = 7: descriptors 0..6 */
        CHECK(ixgbe_model_inject(m, f, 64));
    CHECK_EQ(ixgbe_model_read(m, RDH(0)), ixgbe_model_read(m, RDT(0)));
    CHECK(!ixgbe_model_inject(m, f, 64));
    CHECK(!ixgbe_model_inject(m, f, 64));
    CHECK_EQ(ixgbe_model_read(m, QPRDC(0)), 2);
    CHECK_EQ(ixgbe_model_read(m, QPRDC(0)), 0);
    CHECK_EQ(ixgbe_model_read(m, MPC(0)), 0);
    CHECK_EQ(ixgbe_model_read(m, GPRC), 7);
    CHECK_EQ(rx_one(&p, got), 64);
    CHECK(ixgbe_model_inject(m, f, 64));
    CHECK_EQ(ixgbe_model_counter(m, "QPRDC"), 2);
    CHECK_EQ(ixgbe_model_counter(m, "MPC"), 0);
    ixgbe_model_free(m);
}

/* §7.1.1.1: foreign unicast only with UPE, broadcast only with BAM (or MPE),
 * multicast only with MPE, our own MAC always. */
static void l2_filtering(void)
{
    struct port p;
    struct ixgbe_model *m = model_with_port(&p);
    static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    uint8_t own[64], foreign[64], bcast[64], multi[64];
    make_frame(own, 64, MAC_A, MAC_B, 0);
    make_frame(foreign, 64, MAC_B, MAC_A, 0);
    make_frame(bcast, 64, BCAST, MAC_B, 0);
    make_frame(multi, 64, mcast, MAC_B, 0);

    CHECK(ixgbe_model_inject(m, own, 64));
    CHECK(!ixgbe_model_inject(m, foreign, 64));
    CHECK(ixgbe_model_inject(m, bcast, 64)); /* FCTRL.BAM set by init */
    CHECK(!ixgbe_model_inject(m, multi, 64));
    CHECK_EQ(ixgbe_model_counter(m, "FILTERED"), 2);

    /* §8.2.3.7.1: filters change with RXEN clear */
    clear_bits(m, RXCTRL, RXCTRL_RXEN);
    ixgbe_model_write(m, FCTRL, FCTRL_UPE);
    set_bits(m, SECRXCTRL, SECRXCTRL_RX_DIS);
    set_bits(m, RXCTRL, RXCTRL_RXEN);
    clear_bits(m, SECRXCTRL, SECRXCTRL_RX_DIS);
    CHECK(ixgbe_model_inject(m, foreign, 64));
    CHECK(!ixgbe_model_inject(m, bcast, 64));
    CHECK(!ixgbe_model_inject(m, multi, 64));

    clear_bits(m, RXCTRL, RXCTRL_RXEN);
    ixgbe_model_write(m, FCTRL, FCTRL_MPE);
    set_bits(m, SECRXCTRL, SECRXCTRL_RX_DIS);
    set_bits(m, RXCTRL, RXCTRL_RXEN);
    clear_bits(m, SECRXCTRL, SECRXCTRL_RX_DIS);
    CHECK(ixgbe_model_inject(m, multi, 64));
    CHECK(ixgbe_model_inject(m, bcast, 64));
    CHECK(!ixgbe_model_inject(m, foreign, 64));
    CHECK(ixgbe_model_inject(m, own, 64));

    CHECK_EQ(ixgbe_model_read(m, GPRC), 6);
    CHECK_EQ(ixgbe_model_read(m, BPRC), 2);
    CHECK_EQ(ixgbe_model_read(m, MPRC), 1);
    CHECK_EQ(ixgbe_model_read(m, MPC(0)), 0);

    /* receiver off: ignored, and no datasheet counter counts it */
    clear_bits(m, RXCTRL, RXCTRL_RXEN);
    CHECK(!ixgbe_model_inject(m, own, 64));
    CHECK_EQ(ixgbe_model_counter(m, "RX_OFF"), 1);
    CHECK_EQ(ixgbe_model_read(m, MPC(0)), 0);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* Sizes with the FCS counted: under 64 is RUC, over 1518 (1522 tagged) is
 * ROC; with JUMBOEN the limit is MAXFRS.MFS and a frame longer than one
 * buffer spans descriptors, EOP on the last. */
static void rx_frame_sizes(void)
{
    struct port p;
    struct ixgbe_model *m = model_with_port(&p);
    static uint8_t f[9000], got[9000];
    make_frame(f, sizeof(f), MAC_A, MAC_B, 3);
    CHECK(!ixgbe_model_inject(m, f, 59));
    CHECK(ixgbe_model_inject(m, f, 60));
    CHECK(ixgbe_model_inject(m, f, 1514));
    CHECK(!ixgbe_model_inject(m, f, 1515));
    f[12] = 0x81; /* 802.1Q tag: 4 bytes more allowed */
    CHECK(ixgbe_model_inject(m, f, 1518));
    CHECK(!ixgbe_model_inject(m, f, 1519));
    f[12] = 0x08;
    CHECK_EQ(ixgbe_model_read(m, RUC), 1);
    CHECK_EQ(ixgbe_model_read(m, ROC), 2);
    CHECK_EQ(ixgbe_model_read(m, GPRC), 3);
    for (int k = 0; k < 3; k++)
        CHECK(rx_one(&p, got) > 0);

    set_bits(m, HLREG0, HLREG0_JUMBOEN);
    ixgbe_model_write(m, MAXFRS, 9004u << 16);
    CHECK(ixgbe_model_inject(m, f, 9000)); /* 5 buffers of 2 KB */
    CHECK(!ixgbe_model_inject(m, f, 9001));
    uint32_t at = 0;
    for (int k = 0; k < 5; k++) {
        uint64_t wb = p.rx[2 * p.rx_next + 1];
        CHECK_EQ(wb & RXD_STAT_DD, RXD_STAT_DD);
        CHECK_EQ(wb & RXD_STAT_EOP, k == 4 ? RXD_STAT_EOP : 0);
        int len = rx_one(&p, got + at);
        CHECK_EQ(len, k == 4 ? 9000 - 4 * 2048 : 2048);
        at += (uint32_t)len;
    }
    CHECK_EQ(at, 9000);
    CHECK(memcmp(got, f, 9000) == 0);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* Without CRC strip (both bits clear) the buffer holds the FCS too. */
static void rx_keeps_fcs_without_strip(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    struct port p;
    CHECK(reset_and_wait(m));
    memset(&p, 0, sizeof(p));
    p.m = m;
    clear_bits(m, HLREG0, HLREG0_RXCRCSTRP);
    clear_bits(m, RDRXCTL, RDRXCTL_CRCSTRIP); /* init_rx sets it: set both back below */
    CHECK(init_rx(&p, RING));
    clear_bits(m, RXCTRL, RXCTRL_RXEN);
    clear_bits(m, RDRXCTL, RDRXCTL_CRCSTRIP);
    set_bits(m, SECRXCTRL, SECRXCTRL_RX_DIS);
    set_bits(m, RXCTRL, RXCTRL_RXEN);
    clear_bits(m, SECRXCTRL, SECRXCTRL_RX_DIS);
    /* the 802.3 FCS of this 60-byte frame, by the CRC-32 check value method */
    uint8_t f[60] = { 0 }, got[2048];
    memcpy(f, MAC_A, 6);
    CHECK(ixgbe_model_inject(m, f, 60));
    CHECK_EQ(rx_one(&p, got), 64);
    CHECK(memcmp(got, f, 60) == 0);
    /* CRC-32 over frame + its FCS leaves the fixed residue 0x2144DF1C */
    uint32_t c32 = 0xFFFFFFFFu;
    for (int i = 0; i < 64; i++) {
        c32 ^= got[i];
        for (int k = 0; k < 8; k++)
            c32 = (c32 >> 1) ^ (0xEDB88320u & -(c32 & 1));
    }
    CHECK_EQ(~c32, 0x2144DF1Cu);
    CHECK_EQ(ixgbe_model_read(m, GORCL), 64); /* octets are counted with the FCS either way */
    CHECK_EQ(ixgbe_model_violations(m), 1);   /* init_rx set RXEN while CRC bits disagreed */
    CHECK(said(m, 0, "RDRXCTL.CRCStrip = 1 and HLREG0.RXCRCSTRP = 0"));
    ixgbe_model_free(m);
}

/* --- transmit ------------------------------------------------------------------- */

static uint8_t sunk[16][2048];
static uint32_t sunk_len[16];
static unsigned nsunk;

static void sink(void *ctx, const void *frame, uint32_t len)
{
    (void)ctx;
    if (nsunk < 16) {
        memcpy(sunk[nsunk], frame, len);
        sunk_len[nsunk] = len;
    }
    nsunk++;
}

/* A frame in two descriptors arrives whole at the sink; DD is written in the
 * RS descriptor; TDH reaches TDT; GPTC/GOTC count it. A frame whose EOP is
 * not yet before TDT waits. */
static void tx_to_sink(void)
{
    fresh();
    nsunk = 0;
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, RING));
    ixgbe_model_set_sink(m, sink, NULL);
    uint8_t f[1000];
    make_frame(f, 1000, MAC_B, MAC_A, 9);
    CHECK_EQ(tx_one(&p, f, 1000, 600), 2);
    CHECK_EQ(ixgbe_model_step(m), 1);
    CHECK_EQ(nsunk, 1);
    CHECK_EQ(sunk_len[0], 1000);
    CHECK(memcmp(sunk[0], f, 1000) == 0);
    CHECK_EQ(p.tx[3] & TXD_STAT_DD, TXD_STAT_DD);
    CHECK_EQ(ixgbe_model_read(m, TDH(0)), 2);
    CHECK_EQ(ixgbe_model_step(m), 0);

    /* only the first half of the next frame is before TDT */
    tx_put(&p, f, 1000, 600);
    ixgbe_model_write(m, TDT(0), 3);
    CHECK_EQ(ixgbe_model_step(m), 0);
    CHECK_EQ(ixgbe_model_read(m, TDH(0)), 2);
    ixgbe_model_write(m, TDT(0), 4);
    CHECK_EQ(ixgbe_model_step(m), 1);
    CHECK_EQ(nsunk, 2);

    /* a short frame is padded to 60 bytes (64 with FCS) under TXPADEN */
    tx_one(&p, f, 42, 600);
    CHECK_EQ(ixgbe_model_step(m), 1);
    CHECK_EQ(sunk_len[2], 60);
    CHECK(memcmp(sunk[2], f, 42) == 0);
    CHECK_EQ(sunk[2][59], 0);

    CHECK_EQ(ixgbe_model_read(m, GPTC), 3);
    CHECK_EQ(ixgbe_model_read(m, GOTCL), 1004 + 1004 + 64);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* Fresh strict models with MAC_A and MAC_B, cabled, each port set up. */
static void cabled_pair(struct ixgbe_model **a, struct ixgbe_model **b, struct port *pa,
                        struct port *pb)
{
    fresh();
    struct ixgbe_model_config ca = config(MAC_A, true), cb = config(MAC_B, true);
    *a = ixgbe_model_new(&ca);
    *b = ixgbe_model_new(&cb);
    ixgbe_model_cable(*a, *b);
    CHECK(init_port(pa, *a, RING));
    CHECK(init_port(pb, *b, RING));
}

/* Two ports cabled: a's frame lands in b's ring, and back. */
static void tx_to_cabled_peer(void)
{
    struct ixgbe_model *a, *b;
    struct port pa_, pb;
    cabled_pair(&a, &b, &pa_, &pb);
    uint8_t f[300], got[2048];
    make_frame(f, 300, MAC_B, MAC_A, 5);
    tx_one(&pa_, f, 300, 128);
    CHECK_EQ(ixgbe_model_step(a), 1);
    CHECK_EQ(rx_one(&pb, got), 300);
    CHECK(memcmp(got, f, 300) == 0);
    make_frame(f, 300, MAC_A, MAC_B, 6);
    tx_one(&pb, f, 300, 2048);
    CHECK_EQ(ixgbe_model_step(b), 1);
    CHECK_EQ(rx_one(&pa_, got), 300);
    CHECK(memcmp(got, f, 300) == 0);
    CHECK_EQ(ixgbe_model_counter(a, "GPTC"), 1);
    CHECK_EQ(ixgbe_model_counter(a, "GPRC"), 1);
    CHECK_EQ(ixgbe_model_counter(b, "GOTC"), 304);
    CHECK_EQ(ixgbe_model_violations(a) + ixgbe_model_violations(b), 0);
    ixgbe_model_free(a);
    ixgbe_model_free(b);
}

/* ixgbe_model_set_cable: out, LINKS drops on both cabled ends at once, a's
 * frame waits in its ring (TDH stays) and what is injected into b is not
 * received, nor counted; back, the link is up at once and the frame leaves. */
static void cable_pulled_and_back(void)
{
    struct ixgbe_model *a, *b;
    struct port pa_, pb;
    cabled_pair(&a, &b, &pa_, &pb);
    ixgbe_model_set_cable(b, false);
    CHECK_EQ(ixgbe_model_read(a, LINKS) & LINKS_LINK_UP, 0);
    CHECK_EQ(ixgbe_model_read(b, LINKS) & LINKS_LINK_UP, 0);
    uint8_t f[300], got[2048];
    make_frame(f, 300, MAC_B, MAC_A, 5);
    tx_one(&pa_, f, 300, 2048);
    CHECK_EQ(ixgbe_model_step(a), 0);
    CHECK_EQ(ixgbe_model_read(a, TDH(0)), 0);
    CHECK(!ixgbe_model_inject(b, f, 300));
    CHECK_EQ(ixgbe_model_counter(b, "TPR") + ixgbe_model_counter(b, "RX_OFF"), 0);
    ixgbe_model_set_cable(b, true);
    CHECK_EQ(ixgbe_model_read(a, LINKS) & LINKS_LINK_UP, LINKS_LINK_UP);
    CHECK_EQ(ixgbe_model_step(a), 1);
    CHECK_EQ(rx_one(&pb, got), 300);
    CHECK(memcmp(got, f, 300) == 0);
    CHECK_EQ(ixgbe_model_violations(a) + ixgbe_model_violations(b), 0);
    ixgbe_model_free(a);
    ixgbe_model_free(b);
}

/* ixgbe_model_freeze_tx: the queue sends nothing, TDH stays, until it is
 * disabled; enabled again with TDH at TDT, it sends what comes next. */
static void tx_queue_frozen_until_reset(void)
{
    fresh();
    nsunk = 0;
    struct port p;
    struct ixgbe_model *m = model_with_port(&p);
    ixgbe_model_set_sink(m, sink, NULL);
    uint8_t f[200];
    make_frame(f, 200, MAC_B, MAC_A, 3);
    ixgbe_model_freeze_tx(m, 0);
    tx_one(&p, f, 200, 2048);
    CHECK_EQ(ixgbe_model_step(m), 0);
    CHECK_EQ(ixgbe_model_read(m, TDH(0)), 0);
    clear_bits(m, TXDCTL(0), TXDCTL_ENABLE);
    CHECK(wait_reg(m, TXDCTL(0), TXDCTL_ENABLE, 0, MS));
    ixgbe_model_write(m, TDH(0), 1); /* where TDT is: an empty ring */
    set_bits(m, TXDCTL(0), TXDCTL_ENABLE);
    CHECK(wait_reg(m, TXDCTL(0), TXDCTL_ENABLE, TXDCTL_ENABLE, MS));
    CHECK_EQ(ixgbe_model_step(m), 0); /* the stuck frame is not sent after all */
    tx_one(&p, f, 200, 2048);
    CHECK_EQ(ixgbe_model_step(m), 1);
    CHECK_EQ(nsunk, 1);
    CHECK_EQ(ixgbe_model_read(m, TDH(0)), 2);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* ixgbe_model_rx_lie: the next frame's write-back says twice the buffer's
 * size, the one after has no EOP; the buffers hold the frames as sent and
 * the frames after are honest again. */
static void rx_write_back_lies(void)
{
    uint8_t f[100];
    make_frame(f, 100, MAC_A, MAC_B, 1);
    struct port p;
    struct ixgbe_model *m = model_with_port(&p);
    ixgbe_model_rx_lie(m, IXGBE_MODEL_LIE_LENGTH, 1);
    CHECK(ixgbe_model_inject(m, f, 100));
    ixgbe_model_rx_lie(m, IXGBE_MODEL_LIE_NO_EOP, 1);
    CHECK(ixgbe_model_inject(m, f, 100));
    CHECK(ixgbe_model_inject(m, f, 100));
    uint64_t wb[3];
    for (int i = 0; i < 3; i++)
        wb[i] = p.rx[2 * i + 1];
    CHECK_EQ((wb[0] >> RXD_PKT_LEN_SHIFT) & 0xFFFF, 2 * 2048);
    CHECK_EQ(wb[0] & RXD_STAT_EOP, RXD_STAT_EOP);
    CHECK_EQ((wb[1] >> RXD_PKT_LEN_SHIFT) & 0xFFFF, 100);
    CHECK_EQ(wb[1] & (RXD_STAT_EOP | RXD_STAT_DD), RXD_STAT_DD);
    CHECK_EQ((wb[2] >> RXD_PKT_LEN_SHIFT) & 0xFFFF, 100);
    CHECK_EQ(wb[2] & RXD_STAT_EOP, RXD_STAT_EOP);
    CHECK(memcmp(p.rxbuf[0], f, 100) == 0 && memcmp(p.rxbuf[1], f, 100) == 0);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* HLREG0.LPBK: transmitted frames come back through this port's receiver
 * and do not leave it. */
static void tx_loopback(void)
{
    fresh();
    nsunk = 0;
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, RING));
    ixgbe_model_set_sink(m, sink, NULL);
    set_bits(m, HLREG0, HLREG0_LPBK);
    uint8_t f[700], got[2048];
    make_frame(f, 700, MAC_A, MAC_A, 2);
    CHECK_EQ(tx_one(&p, f, 700, 256), 3);
    CHECK_EQ(ixgbe_model_step(m), 1);
    CHECK_EQ(rx_one(&p, got), 700);
    CHECK(memcmp(got, f, 700) == 0);
    CHECK_EQ(nsunk, 0);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* Head write-back (§7.2.3.5.2): TDH goes to memory, no DD is written. */
static void tx_head_write_back(void)
{
    struct port p;
    struct ixgbe_model *m = model_with_port(&p);
    uint32_t *head = dma(16);
    ixgbe_model_write(m, TDWBAH(0), (uint32_t)(pa(head) >> 32));
    ixgbe_model_write(m, TDWBAL(0), (uint32_t)pa(head) | TDWBAL_HEAD_WB_EN);
    uint8_t f[100];
    make_frame(f, 100, MAC_B, MAC_A, 0);
    tx_one(&p, f, 100, 2048);
    tx_one(&p, f, 100, 2048);
    CHECK_EQ(ixgbe_model_step(m), 2);
    CHECK_EQ(*head, 2);
    CHECK_EQ(p.tx[3] & TXD_STAT_DD, 0);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* --- statistics ------------------------------------------------------------------ */

/* Every statistic clears on read; the test peek keeps totals. GORCL latches
 * the high half for GORCH. */
static void stats_clear_on_read(void)
{
    struct port p;
    struct ixgbe_model *m = model_with_port(&p);
    set_bits(m, HLREG0, HLREG0_LPBK);
    uint8_t f[128], got[2048];
    make_frame(f, 128, BCAST, MAC_A, 1);
    for (int k = 0; k < 3; k++) {
        tx_one(&p, f, 128, 2048);
        CHECK_EQ(ixgbe_model_step(m), 1);
        CHECK_EQ(rx_one(&p, got), 128);
    }
    CHECK_EQ(ixgbe_model_read(m, GPRC), 3);
    CHECK_EQ(ixgbe_model_read(m, GPRC), 0);
    CHECK_EQ(ixgbe_model_read(m, GPTC), 3);
    CHECK_EQ(ixgbe_model_read(m, GPTC), 0);
    CHECK_EQ(ixgbe_model_read(m, BPTC), 3);
    CHECK_EQ(ixgbe_model_read(m, BPRC), 3);
    CHECK_EQ(ixgbe_model_read(m, TPR), 3);
    CHECK_EQ(ixgbe_model_read(m, TPT), 3);
    CHECK_EQ(ixgbe_model_read(m, GORCL), 3 * 132);
    CHECK_EQ(ixgbe_model_read(m, GORCH), 0);
    CHECK_EQ(ixgbe_model_read(m, GORCL), 0);
    CHECK_EQ(ixgbe_model_read(m, GOTCL), 3 * 132);
    CHECK_EQ(ixgbe_model_read(m, GOTCL), 0);
    CHECK_EQ(ixgbe_model_counter(m, "GPRC"), 3);
    CHECK_EQ(ixgbe_model_counter(m, "GORC"), 3 * 132);
    CHECK_EQ(ixgbe_model_counter(m, "GOTC"), 3 * 132);
    CHECK_EQ(ixgbe_model_counter(m, "NOPE"), UINT64_MAX);
    ixgbe_model_write(m, GPRC, 0); /* read-only */
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "GPRC, a read-only register"));
    ixgbe_model_free(m);
}

/* --- strict mode ------------------------------------------------------------------ */

static unsigned callback_calls;
static void on_violation(void *ctx, const char *msg)
{
    (void)msg;
    CHECK(ctx == &callback_calls);
    callback_calls++;
}

/* The datasheet's init and traffic both ways: no violation at all. */
static void strict_correct_init_is_clean(void)
{
    fresh();
    callback_calls = 0;
    struct ixgbe_model_config ca = config(MAC_A, true), cb = config(MAC_B, true);
    ca.on_violation = cb.on_violation = on_violation;
    ca.ctx = cb.ctx = &callback_calls;
    struct ixgbe_model *a = ixgbe_model_new(&ca), *b = ixgbe_model_new(&cb);
    ixgbe_model_cable(a, b);
    struct port pa_, pb;
    CHECK(init_port(&pa_, a, RING));
    CHECK(init_port(&pb, b, RING));
    uint8_t f[512], got[2048];
    for (unsigned k = 0; k < 50; k++) {
        make_frame(f, 60 + k * 9, MAC_B, MAC_A, k);
        tx_one(&pa_, f, 60 + k * 9, 256);
        CHECK_EQ(ixgbe_model_step(a), 1);
        CHECK_EQ(rx_one(&pb, got), (int)(60 + k * 9));
        CHECK(memcmp(got, f, 60 + k * 9) == 0);
    }
    CHECK_EQ(ixgbe_model_violations(a), 0);
    CHECK_EQ(ixgbe_model_violations(b), 0);
    CHECK(ixgbe_model_last_violation(a) == NULL);
    CHECK_EQ(callback_calls, 0);
    ixgbe_model_free(a);
    ixgbe_model_free(b);
}

/* Sets up RX queue 0's ring on a freshly initialised device (stopping before
 * ENABLE), with the given RDLEN and SRRCTL. */
static struct ixgbe_model *rx_ring_without_enable(uint64_t ring, uint32_t rdlen, uint32_t srrctl)
{
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(reset_and_wait(m));
    ixgbe_model_write(m, RDBAL(0), (uint32_t)ring);
    ixgbe_model_write(m, RDBAH(0), (uint32_t)(ring >> 32));
    ixgbe_model_write(m, RDLEN(0), rdlen);
    ixgbe_model_write(m, SRRCTL(0), srrctl);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    return m;
}

/* §4.6.7: RDT bumped before RXDCTL.ENABLE was read as 1. */
static void strict_rdt_before_enable(void)
{
    fresh();
    uint64_t *ring = dma(16 * RING);
    struct ixgbe_model *m = rx_ring_without_enable(pa(ring), 16 * RING, 2 | 1u << 25);
    ixgbe_model_write(m, RXDCTL(0), RXDCTL_ENABLE);
    ixgbe_model_write(m, RDT(0), RING - 1);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "RDT(0) = 15 written while RXDCTL(0).ENABLE has not been read as 1"));
    CHECK(said(m, 0, "§4.6.7"));
    ixgbe_model_free(m);

    /* the same for TDT */
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    m = ixgbe_model_new(&c);
    CHECK(reset_and_wait(m));
    tx_on(m);
    uint64_t *tx = dma(16 * RING);
    ixgbe_model_write(m, TDBAL(0), (uint32_t)pa(tx));
    ixgbe_model_write(m, TDBAH(0), (uint32_t)(pa(tx) >> 32));
    ixgbe_model_write(m, TDLEN(0), 16 * RING);
    ixgbe_model_write(m, TXDCTL(0), TXDCTL_ENABLE);
    ixgbe_model_write(m, TDT(0), 1);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "TDT(0) = 1 written while TXDCTL(0).ENABLE"));
    ixgbe_model_free(m);
}

/* A ring outside DMA memory: flagged, the queue never enables, nothing touched. */
static void strict_ring_outside_dma(void)
{
    fresh();
    static uint64_t not_dma[2 * RING] __attribute__((aligned(128)));
    struct ixgbe_model *m = rx_ring_without_enable(pa(not_dma), 16 * RING, 2 | 1u << 25);
    ixgbe_model_write(m, RXDCTL(0), RXDCTL_ENABLE);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "RDBAH/RDBAL(0)"));
    CHECK(said(m, 0, "outside DMA memory"));
    CHECK(!wait_reg(m, RXDCTL(0), RXDCTL_ENABLE, RXDCTL_ENABLE, 10 * MS));
    ixgbe_model_free(m);

    /* a buffer outside DMA memory: flagged when a frame would go there */
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, RING));
    static uint8_t not_dma_buf[2048];
    p.rx[0] = pa(not_dma_buf);
    uint8_t f[64];
    make_frame(f, 64, MAC_A, MAC_B, 0);
    CHECK(!ixgbe_model_inject(m, f, 64));
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "RDT(0): descriptor 0 points at packet buffer"));
    CHECK_EQ(not_dma_buf[0], 0);
    ixgbe_model_free(m);
}

/* RDLEN must be a multiple of 128 (§8.2.3.8.3). */
static void strict_rdlen_not_multiple_of_128(void)
{
    fresh();
    uint64_t *ring = dma(16 * RING);
    struct ixgbe_model *m = rx_ring_without_enable(pa(ring), 16 * 10, 2 | 1u << 25);
    ixgbe_model_write(m, RXDCTL(0), RXDCTL_ENABLE);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "RDLEN(0) = 160, not a non-zero multiple of 128"));
    CHECK(!wait_reg(m, RXDCTL(0), RXDCTL_ENABLE, RXDCTL_ENABLE, 10 * MS));
    ixgbe_model_free(m);
}

/* SRRCTL.BSIZEPACKET = 0: no buffer size (§8.2.3.8.7). */
static void strict_no_buffer_size(void)
{
    fresh();
    uint64_t *ring = dma(16 * RING);
    struct ixgbe_model *m = rx_ring_without_enable(pa(ring), 16 * RING, 1u << 25);
    ixgbe_model_write(m, RXDCTL(0), RXDCTL_ENABLE);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "SRRCTL(0).BSIZEPACKET = 0"));
    ixgbe_model_free(m);
}

/* An address the 82599 does not decode, written and read, and a write to a
 * read-only register (issue 11, item 2): each recorded with its offset. */
static void strict_unknown_register(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    ixgbe_model_write(m, 0x05FF0, 1);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "write of 0x00000001 to 0x05ff0, an address the 82599 does not decode"));
    CHECK_EQ(ixgbe_model_read(m, 0x05FF0), 0);
    CHECK_EQ(ixgbe_model_violations(m), 2);
    CHECK(said(m, 0, "read of 0x05ff0, an address the 82599 does not decode"));
    CHECK_EQ(ixgbe_model_read(m, CTRL + 2), 0); /* not 4-byte aligned: no register */
    CHECK(said(m, 0, "read of 0x00002, an address the 82599 does not decode"));
    ixgbe_model_write(m, LINKS, 0);
    CHECK(said(m, 0, "LINKS, a read-only register"));
    CHECK_EQ(ixgbe_model_violations(m), 4);
    ixgbe_model_free(m);

    /* not strict: nothing recorded, and the address reads 0 */
    c.strict = false;
    m = ixgbe_model_new(&c);
    ixgbe_model_write(m, 0x05FF0, 1);
    CHECK_EQ(ixgbe_model_read(m, 0x05FF0), 0);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* TX descriptors: DEXT clear (legacy) is flagged and still sent; a bad DTYP
 * is flagged and not sent; both get DD. */
static void strict_bad_tx_descriptors(void)
{
    fresh();
    nsunk = 0;
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, RING));
    ixgbe_model_set_sink(m, sink, NULL);
    uint8_t f[100];
    make_frame(f, 100, MAC_B, MAC_A, 0);
    memcpy(p.txbuf[0], f, 100);
    p.tx[0] = pa(p.txbuf[0]);
    p.tx[1] = 100 | TXD_CMD_EOP | TXD_CMD_IFCS | TXD_CMD_RS; /* legacy */
    ixgbe_model_write(m, TDT(0), 1);
    CHECK_EQ(ixgbe_model_step(m), 1);
    CHECK_EQ(nsunk, 1);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "TDT(0): descriptor 0 has DCMD.DEXT = 0"));
    p.tx[2] = pa(p.txbuf[0]);
    p.tx[3] = 100 | 5ull << TXD_DTYP_SHIFT | TXD_CMD_DEXT | TXD_CMD_EOP | TXD_CMD_RS |
              100ull << TXD_PAYLEN_SHIFT;
    ixgbe_model_write(m, TDT(0), 2);
    CHECK_EQ(ixgbe_model_step(m), 0);
    CHECK_EQ(nsunk, 1);
    CHECK_EQ(ixgbe_model_violations(m), 2);
    CHECK(said(m, 0, "descriptor 1 has DTYP = 5"));
    CHECK_EQ(p.tx[3] & TXD_STAT_DD, TXD_STAT_DD);
    CHECK_EQ(ixgbe_model_read(m, TDH(0)), 2);
    CHECK_EQ(ixgbe_model_counter(m, "TX_DROPPED"), 1);
    ixgbe_model_free(m);
}

/* §8.2.3.1.1: a register touched within 1 ms of CTRL.RST; §8.2.3.7.1: FCTRL
 * changed with the receiver on; §4.6.3: a queue enabled before DMAIDONE. */
static void strict_sequence_rules(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(master_disable(m));
    ixgbe_model_write(m, CTRL, CTRL_RST);
    advance(100 * US);
    ixgbe_model_read(m, CTRL);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "CTRL read 100000 ns after CTRL.RST was set"));
    ixgbe_model_free(m);

    fresh();
    m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, RING));
    ixgbe_model_write(m, FCTRL, FCTRL_UPE | FCTRL_BAM);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0,
               "FCTRL changed from 0x00000400 to 0x00000600 "
               "while RXCTRL.RXEN is 1"));
    ixgbe_model_free(m);

    fresh();
    c.dmainit_ns = 50 * MS;
    m = ixgbe_model_new(&c);
    uint64_t *ring = dma(16 * RING);
    ixgbe_model_write(m, RDBAL(0), (uint32_t)pa(ring));
    ixgbe_model_write(m, RDBAH(0), (uint32_t)(pa(ring) >> 32));
    ixgbe_model_write(m, RDLEN(0), 16 * RING);
    ixgbe_model_write(m, RXDCTL(0), RXDCTL_ENABLE);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "before RDRXCTL.DMAIDONE was read as 1"));
    ixgbe_model_free(m);
}

/* --- the register map (issue 11, item 1) ----------------------------------------- */

/* The table as ixgbe_regs.def types it, read here on its own: the test walks
 * the data, the model must answer as it says. */
enum map_access { A_RW, A_RO, A_RC, A_RW1C, A_RWS, A_WO };
struct map_reg {
    const char *name;
    uint32_t count, reset0, reset;
    enum map_access access;
    struct {
        uint32_t base, stride, first, n;
    } at[4];
};
// clang-format off
static const struct map_reg map[] = {
#define RANGE(base, stride, first, n) { base, stride, first, n }
#define REG(name, sec, cnt, r0, r, acc, ...) { #name, cnt, r0, r, A_##acc, { __VA_ARGS__ } },
#include "tests/model/ixgbe_regs.def"
#undef REG
#undef RANGE
};
// clang-format on
#define MAP_REGS (sizeof(map) / sizeof(map[0]))

/* Calls fn for every address of every instance of r: its own first, then
 * its aliases. */
static void map_each(const struct map_reg *r,
                     void (*fn)(const struct map_reg *, uint32_t n, uint32_t addr, bool own,
                                void *ctx),
                     void *ctx)
{
    for (int k = 0; k < 4 && r->at[k].n; k++)
        for (uint32_t j = 0; j < r->at[k].n; j++) {
            uint32_t n = r->at[k].first + j;
            bool own = true; /* no earlier range holds n */
            for (int e = 0; e < k; e++)
                own &= !(n >= r->at[e].first && n < r->at[e].first + r->at[e].n);
            fn(r, n, r->at[k].base + r->at[k].stride * j, own, ctx);
        }
}

static void check_decode(const struct map_reg *r, uint32_t n, uint32_t addr, bool own, void *ctx)
{
    (void)own;
    uint32_t got_n = UINT32_MAX;
    bool special;
    const char *name = ixgbe_model_decode(addr, &got_n, &special);
    if (!name || strcmp(name, r->name) != 0 || got_n != n)
        test_fail(__FILE__, __LINE__, "0x%05x decodes to %s(%u), the table says %s(%u)", addr,
                  name ? name : "nothing", got_n, r->name, n);
    (*(uint32_t *)ctx)++;
}

/* Every address the table lists decodes to its register and instance, and
 * no other address decodes. */
static void register_map_decodes(void)
{
    uint32_t listed = 0, decoded = 0, n;
    bool special;
    for (size_t i = 0; i < MAP_REGS; i++)
        map_each(&map[i], check_decode, &listed);
    for (uint32_t off = 0; off < 0x20000; off += 4)
        decoded += ixgbe_model_decode(off, &n, &special) != NULL;
    CHECK_EQ(decoded, listed);
    CHECK(ixgbe_model_decode(0x05FF0, &n, &special) == NULL); /* strict_unknown_register's */
    CHECK(ixgbe_model_decode(CTRL + 2, &n, &special) == NULL);
    CHECK(ixgbe_model_decode(0x20000, &n, &special) == NULL);
    /* the aliases issue 11 names, by hand: 82598 addresses reach 82599 registers */
    CHECK_STR(ixgbe_model_decode(0x02100 + 4 * 15, &n, &special), "SRRCTL");
    CHECK_EQ(n, 15);
    CHECK_STR(ixgbe_model_decode(0x02200 + 4 * 3, &n, &special), "DCA_RXCTRL");
    CHECK_EQ(n, 3);
    CHECK_STR(ixgbe_model_decode(0x05400 + 8 * 2, &n, &special), "RAL");
    CHECK_EQ(n, 2);
    CHECK_STR(ixgbe_model_decode(0x05404, &n, &special), "RAH");
    CHECK_EQ(n, 0);
    CHECK_STR(ixgbe_model_decode(0x0D000 + 0x40 * 63, &n, &special), "RDBAL");
    CHECK_EQ(n, 127);
    CHECK_STR(ixgbe_model_decode(0x0D018, &n, &special), "RDT");
    CHECK_EQ(n, 64);
}

/* Registers whose value the model computes or that move by themselves:
 * their reads are checked by their own cases, not against the table. */
static bool map_computed(const struct map_reg *r, uint32_t n)
{
    static const char *const names[] = {
        "STATUS", "EEC", "LINKS", "RDRXCTL", "AUTOC", "SECRXSTAT"
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcmp(r->name, names[i]) == 0)
            return true;
    return n == 0 && (strcmp(r->name, "RAL") == 0 || strcmp(r->name, "RAH") == 0); /* the MAC */
}

struct walk {
    struct ixgbe_model *m;
    unsigned expected_violations;
};

/* Each address reads its reset value; a write-only one reads 0 and is flagged. */
static void check_reset(const struct map_reg *r, uint32_t n, uint32_t addr, bool own, void *ctx)
{
    (void)own;
    struct walk *w = ctx;
    uint32_t v = ixgbe_model_read(w->m, addr);
    if (r->access == A_WO) {
        w->expected_violations++;
        if (v != 0)
            test_fail(__FILE__, __LINE__, "%s(%u) at 0x%05x, write-only, reads 0x%08x", r->name, n,
                      addr, v);
    } else if (!map_computed(r, n) && v != (n == 0 ? r->reset0 : r->reset)) {
        test_fail(__FILE__, __LINE__,
                  "%s(%u) at 0x%05x reads 0x%08x after reset, the table says "
                  "0x%08x",
                  r->name, n, addr, v, n == 0 ? r->reset0 : r->reset);
    }
}

/* A value to write that no rule of the model objects to: CTRL only its
 * master-disable bit, MRQC without MRQE, the queue controls without ENABLE. */
static uint32_t safe_pattern(const struct map_reg *r, uint32_t addr)
{
    uint32_t p = 0xA5A5A5A5u ^ (addr * 0x9E3779B1u);
    if (strcmp(r->name, "CTRL") == 0)
        return CTRL_PCIE_MASTER_DISABLE;
    if (strcmp(r->name, "MRQC") == 0)
        return p & ~MRQC_MRQE_MASK;
    if (strcmp(r->name, "RXDCTL") == 0 || strcmp(r->name, "TXDCTL") == 0)
        return p & ~(RXDCTL_ENABLE | TXDCTL_SWFLSH);
    return p;
}

/* The instance's own address, for an alias. */
static uint32_t own_address(const struct map_reg *r, uint32_t n)
{
    for (int k = 0; k < 4 && r->at[k].n; k++)
        if (n >= r->at[k].first && n < r->at[k].first + r->at[k].n)
            return r->at[k].base + r->at[k].stride * (n - r->at[k].first);
    return UINT32_MAX;
}

/* Plain registers behave by their access type at their own address; every
 * alias reaches the same register, both ways. */
static void check_access(const struct map_reg *r, uint32_t n, uint32_t addr, bool own, void *ctx)
{
    struct walk *w = ctx;
    uint32_t i, home = own_address(r, n), p = safe_pattern(r, addr), before;
    bool special;
    ixgbe_model_decode(addr, &i, &special);
    if (!own) { /* an alias: written here, read at home, and the other way */
        if (r->access != A_RW)
            return;
        ixgbe_model_write(w->m, addr, p);
        uint32_t got = ixgbe_model_read(w->m, home);
        ixgbe_model_write(w->m, home, ~p & safe_pattern(r, home ^ 4));
        uint32_t back = ixgbe_model_read(w->m, addr);
        if (got != p || back != (~p & safe_pattern(r, home ^ 4)))
            test_fail(__FILE__, __LINE__, "%s(%u): 0x%05x and 0x%05x are not one register", r->name,
                      n, addr, home);
        return;
    }
    if (special)
        return; /* behaviour of its own: its own cases */
    before = r->access == A_WO ? 0 : ixgbe_model_read(w->m, addr);
    ixgbe_model_write(w->m, addr, p);
    uint32_t after = r->access == A_WO ? 0 : ixgbe_model_read(w->m, addr), want = 0;
    switch (r->access) {
    case A_RW:
        want = p;
        break;
    case A_RO:
    case A_RC:
        want = r->access == A_RC ? 0 : before;
        w->expected_violations++;
        break;
    case A_RW1C:
        want = before & ~p;
        break;
    case A_RWS:
        want = before | p;
        break;
    case A_WO:
        want = 0;
        break;
    }
    if (after != want)
        test_fail(__FILE__, __LINE__,
                  "%s(%u) at 0x%05x: 0x%08x written over 0x%08x reads 0x%08x, "
                  "not 0x%08x",
                  r->name, n, addr, p, before, after, want);
}

/* After a reset, as a driver would see it: every address reads what the
 * table says, behaves by its access type, and aliases are one register.
 * Only the expected violations are recorded (writes to read-only
 * registers, reads of write-only ones). */
static void register_map_walk(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct walk w = { ixgbe_model_new(&c), 0 };
    CHECK(reset_and_wait(w.m));
    for (size_t i = 0; i < MAP_REGS; i++)
        map_each(&map[i], check_reset, &w);
    CHECK_EQ(ixgbe_model_violations(w.m), w.expected_violations);
    for (size_t i = 0; i < MAP_REGS; i++)
        map_each(&map[i], check_access, &w);
    CHECK_EQ(ixgbe_model_violations(w.m), w.expected_violations);
    ixgbe_model_free(w.m);
}

/* The packet buffer and flow control registers after a reset, each against
 * the value the datasheet states (typed here, not taken from the table):
 * §8.2.3.8.9 RXPBSIZE "SIZE, Init val 0x200" (KB, bits 19:10), and "the
 * default size of PB[1-7] is also 512 KB"; §8.2.3.9.13 TXPBSIZE "SIZE, Init
 * val 0xA0" (bits 19:10), meaningless for 1-7 without DCB; §8.2.3.9.16
 * TXPBTHRESH "Default values: 0x96 for [0], 0x0 for [1-7]"; §8.2.3.3.2-7
 * FCTTV, FCRTL, FCRTH, FCRTV, FCCFG 0; §8.2.3.11.1 DCA_RXCTRL bit 12
 * "Default 1b"; §8.2.3.8.8 RDRXCTL.RSCFRSTSIZE 0x8 (§4.6.7: "its hardware
 * default"); §8.2.3.22.8 HLREG0 TXCRCEN, RXCRCSTRP, TXPADEN and RXLNGTHERREN
 * "Init val 1b". */
static void buffer_register_resets(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(reset_and_wait(m));
    for (int n = 0; n < 8; n++) {
        CHECK_EQ(ixgbe_model_read(m, RXPBSIZE(n)), 0x200u << 10);
        CHECK_EQ(ixgbe_model_read(m, TXPBSIZE(n)), 0xA0u << 10);
        CHECK_EQ(ixgbe_model_read(m, TXPBTHRESH(n)), n == 0 ? 0x96u : 0u);
        CHECK_EQ(ixgbe_model_read(m, FCRTL(n)), 0);
        CHECK_EQ(ixgbe_model_read(m, FCRTH(n)), 0);
    }
    for (int n = 0; n < 4; n++)
        CHECK_EQ(ixgbe_model_read(m, FCTTV(n)), 0);
    CHECK_EQ(ixgbe_model_read(m, FCRTV), 0);
    CHECK_EQ(ixgbe_model_read(m, FCCFG), 0);
    CHECK_EQ(ixgbe_model_read(m, DCA_RXCTRL(0)) & (1u << 12), 1u << 12);
    CHECK_EQ(ixgbe_model_read(m, 0x02200 + 4 * 15) & (1u << 12), 1u << 12); /* 82598 address */
    CHECK_EQ(ixgbe_model_read(m, RDRXCTL) & RDRXCTL_RSCFRSTSIZE_MASK,
             0x8u << RDRXCTL_RSCFRSTSIZE_SHIFT);
    CHECK_EQ(ixgbe_model_read(m, HLREG0) & HLREG0_DOCUMENTED,
             HLREG0_TXCRCEN | HLREG0_RXCRCSTRP | HLREG0_TXPADEN | HLREG0_RXLNGTHERREN);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* --- the bring-up steps drivers skip or misorder (issue 11, item 3) -------------- */

/* §4.2.1.6.1, §5.2.5.3.2: a software reset without the PCIe master disable,
 * and one with it asked for but STATUS never polled. */
static void strict_master_disable_before_reset(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    ixgbe_model_write(m, CTRL, CTRL_RST);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "CTRL.RST set without the PCIe master disable first (§4.2.1.6.1, §5.2.5.3.2"));
    advance(2 * MS);
    CHECK_EQ(ixgbe_model_read(m, CTRL), 0); /* the reset cleared CTRL */

    /* the bit set, STATUS not looked at, one reset: a second was due */
    set_bits(m, CTRL, CTRL_PCIE_MASTER_DISABLE);
    ixgbe_model_write(m, CTRL, CTRL_PCIE_MASTER_DISABLE | CTRL_RST);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    advance(2 * MS);
    CHECK_EQ(ixgbe_model_read(m, CTRL), 0); /* polling the reset is allowed */
    CHECK_EQ(ixgbe_model_violations(m), 1);
    ixgbe_model_read(m, EEC);
    CHECK_EQ(ixgbe_model_violations(m), 2);
    CHECK(said(m, 0,
               "EEC accessed after one CTRL.RST, while STATUS.PCIE_MASTER_ENABLE had not "
               "read 0 (§5.2.5.3.2"));

    /* done right: no violation, and mastering is back on after the reset */
    CHECK(reset_and_wait(m));
    CHECK_EQ(ixgbe_model_violations(m), 2);
    CHECK_EQ(ixgbe_model_read(m, STATUS) & STATUS_PCIE_MASTER_ENABLE, STATUS_PCIE_MASTER_ENABLE);
    ixgbe_model_free(m);

    /* §5.2.5.3.2 starts with the receive queues off */
    struct port p;
    m = model_with_port(&p);
    CHECK(master_disable(m));
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "CTRL.PCIE_MASTER_DISABLE set while a receive queue is enabled (§5.2.5.3.2"));
    ixgbe_model_free(m);
}

/* The specification update's way out when STATUS.PCIE_MASTER_ENABLE never
 * clears: two software resets in a row are clean, one is not. */
static void strict_master_stuck_needs_two_resets(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    c.master_stuck = true;
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(!master_disable(m)); /* never clears */
    for (int i = 0; i < 2; i++) {
        ixgbe_model_write(m, CTRL, CTRL_RST);
        advance(1 * MS);
        CHECK(wait_reg(m, CTRL, CTRL_RST, 0, 20 * MS));
    }
    advance(10 * MS);
    CHECK(wait_reg(m, EEC, EEC_ARD, EEC_ARD, 20 * MS));
    CHECK_EQ(ixgbe_model_violations(m), 0);

    CHECK(!master_disable(m));
    ixgbe_model_write(m, CTRL, CTRL_RST);
    advance(1 * MS);
    CHECK(wait_reg(m, CTRL, CTRL_RST, 0, 20 * MS));
    ixgbe_model_read(m, EEC);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "after one CTRL.RST"));
    ixgbe_model_free(m);
}

/* §4.6.3: the MAC address in RAL(0)/RAH(0), at either address, read before
 * the driver saw EEC.ARD set; RAL(1) is not the EEPROM's and is not flagged. */
static void strict_mac_read_before_eeprom(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(master_disable(m));
    ixgbe_model_write(m, CTRL, CTRL_RST);
    advance(20 * MS); /* the auto-read is over, but nobody looked */
    CHECK_EQ(ixgbe_model_read(m, RAL(0)), 0x00000002u);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "RAL(0) read before EEC.ARD was read as 1 (§4.6.3"));
    ixgbe_model_read(m, 0x05404); /* RAH(0) at the 82598's address */
    CHECK_EQ(ixgbe_model_violations(m), 2);
    CHECK(said(m, 0, "RAH(0) read before EEC.ARD"));
    ixgbe_model_read(m, RAL(1));
    CHECK_EQ(ixgbe_model_violations(m), 2);
    CHECK(wait_reg(m, EEC, EEC_ARD, EEC_ARD, 1 * MS));
    CHECK_EQ(ixgbe_model_read(m, RAH(0)), 0x80000a00u); /* AV, bytes 4 and 5 */
    CHECK_EQ(ixgbe_model_violations(m), 2);
    ixgbe_model_free(m);
}

/* §8.2.3.8.8: receive enabled with RDRXCTL's three fields at their reset
 * values; then §4.6.7's order: receive enabled before any queue is (a
 * recommendation, and said as one). */
static void strict_rdrxctl_and_rxen_order(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(reset_and_wait(m));
    CHECK_EQ(ixgbe_model_read(m, RDRXCTL), 0x00100000u | RDRXCTL_DMAIDONE); /* RSCFRSTSIZE 8 */
    set_bits(m, RDRXCTL, RDRXCTL_CRCSTRIP);
    uint64_t *ring;
    uint8_t *bufs[RING];
    CHECK(rx_queue_up(m, 0, &ring, bufs, RING));
    CHECK(rx_on(m));
    CHECK_EQ(ixgbe_model_violations(m), 4);
    CHECK(said(m, 3, "RXCTRL.RXEN set with RDRXCTL.RSCFRSTSIZE = 0x8 (§4.6.7"));
    CHECK(said(m, 2, "RDRXCTL.RSCACKC = 0 (§8.2.3.8.8: software should set this bit to 1b"));
    CHECK(said(m, 1, "RDRXCTL.FCOE_WRFIX = 0 (§8.2.3.8.8"));
    CHECK(said(m, 0,
               "FCRTH(0).RTH = 0 while RXPBSIZE(0) = 0x80000 (§4.6.3.2: FCRTH[n].RTH "
               "must be set"));
    ixgbe_model_free(m);

    fresh();
    m = ixgbe_model_new(&c);
    CHECK(reset_and_wait(m));
    rdrxctl_init(m);
    CHECK(rx_on(m));
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0,
               "RXCTRL.RXEN set while no receive queue is enabled (a recommendation, "
               "§4.6.7"));
    ixgbe_model_free(m);
}

/* §4.6.8: a transmit queue enabled before DMATXCTL.TE. */
static void strict_tx_queue_before_te(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(reset_and_wait(m));
    uint64_t *ring;
    uint8_t *bufs[RING];
    CHECK(tx_queue_up(m, 0, &ring, bufs));
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "TXDCTL(0).ENABLE set while DMATXCTL.TE is 0 (§4.6.8"));
    ixgbe_model_free(m);
}

/* --- SFP+: the module's I2C bus, the NVM, the link of an X520 port -------------- */

/* A two-wire master by hand, each line change one I2CCTL write. */
static void i2c_put(struct ixgbe_model *m, bool scl, bool sda)
{
    ixgbe_model_write(m, I2CCTL, (scl ? I2CCTL_CLK_OUT : 0) | (sda ? I2CCTL_DATA_OUT : 0));
}

/* One clock with SDA as given (1: released); SDA as read with SCL high. */
static bool i2c_clock(struct ixgbe_model *m, bool sda)
{
    i2c_put(m, false, sda);
    i2c_put(m, true, sda);
    bool in = (ixgbe_model_read(m, I2CCTL) & I2CCTL_DATA_IN) != 0;
    i2c_put(m, false, sda);
    return in;
}

static void i2c_start(struct ixgbe_model *m)
{
    i2c_put(m, false, true);
    i2c_put(m, true, true);
    i2c_put(m, true, false);
    i2c_put(m, false, false);
}

static void i2c_stop(struct ixgbe_model *m)
{
    i2c_put(m, false, false);
    i2c_put(m, true, false);
    i2c_put(m, true, true);
}

static bool i2c_send(struct ixgbe_model *m, uint8_t b) /* true: acknowledged */
{
    for (int k = 7; k >= 0; k--)
        i2c_clock(m, (b >> k) & 1);
    return !i2c_clock(m, true);
}

static uint8_t i2c_recv(struct ixgbe_model *m, bool ack)
{
    uint8_t v = 0;
    for (int k = 0; k < 8; k++)
        v = (uint8_t)(v << 1 | i2c_clock(m, true));
    i2c_clock(m, !ack);
    return v;
}

/* SWSM, then the software bits in SW_FW_SYNC, as firmware-free hardware
 * grants them at once. */
static void swfw_take(struct ixgbe_model *m, uint32_t mask)
{
    CHECK_EQ(ixgbe_model_read(m, SWSM) & SWSM_SMBI, 0); /* and now it is set */
    CHECK_EQ(ixgbe_model_read(m, SWSM) & SWSM_SMBI, SWSM_SMBI);
    ixgbe_model_write(m, SWSM, SWSM_SMBI | SWSM_SWESMBI);
    ixgbe_model_write(m, SW_FW_SYNC, ixgbe_model_read(m, SW_FW_SYNC) | mask);
    ixgbe_model_write(m, SWSM, 0);
}

/* The serial ID over the bus: a random read of byte 0, then a sequential
 * read across the vendor name; an empty cage acknowledges nothing; the bus
 * used without the PHY semaphore is said (once). */
static void sfp_i2c_serial_id(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    c.sfp = IXGBE_MODEL_SFP_SR;
    c.lan_id = 1;
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(reset_and_wait(m));
    CHECK_EQ(ixgbe_model_read(m, STATUS) >> STATUS_LAN_ID_SHIFT & 3, 1);
    swfw_take(m, SW_FW_SYNC_PHY_SM(1));
    i2c_start(m);
    CHECK(i2c_send(m, 0xA0));
    CHECK(i2c_send(m, 0));
    i2c_start(m);
    CHECK(i2c_send(m, 0xA1));
    CHECK_EQ(i2c_recv(m, false), 0x03); /* SFP */
    i2c_stop(m);
    i2c_start(m);
    CHECK(i2c_send(m, 0xA0));
    CHECK(i2c_send(m, 20));
    i2c_start(m);
    CHECK(i2c_send(m, 0xA1));
    char name[8];
    for (int i = 0; i < 7; i++)
        name[i] = (char)i2c_recv(m, i < 6);
    name[7] = 0;
    i2c_stop(m);
    CHECK_STR(name, "IXMETAL");
    i2c_start(m);
    CHECK(!i2c_send(m, 0xA2)); /* no diagnostics page here */
    i2c_stop(m);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);

    fresh();
    c.sfp = IXGBE_MODEL_SFP_EMPTY;
    m = ixgbe_model_new(&c);
    CHECK(reset_and_wait(m));
    i2c_start(m); /* no semaphore: said once, for the first write */
    CHECK(!i2c_send(m, 0xA0));
    i2c_stop(m);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "I2CCTL written without SW_FW_SYNC.SW_PHY_SM1 held (§8.2.3.4.11"));
    ixgbe_model_write(m, SW_FW_SYNC, 0);
    CHECK(said(m, 0, "SW_FW_SYNC written without SWSM.SWESMBI held"));
    ixgbe_model_free(m);
}

static uint16_t eerd(struct ixgbe_model *m, uint32_t word)
{
    ixgbe_model_write(m, EERD, word << EERD_ADDR_SHIFT | EERD_START);
    uint32_t v = ixgbe_model_read(m, EERD);
    CHECK(v & EERD_DONE);
    return (uint16_t)(v >> EERD_DATA_SHIFT);
}

/* An X520 port links only once its module is set up: the NVM's sequence
 * for the module in CORECTL (under the MAC CSR semaphore), LMS at 10 GbE
 * serial, the laser on. Each missing step keeps the link down. */
static void sfp_link_needs_setup(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    c.sfp = IXGBE_MODEL_SFP_LR;
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(reset_and_wait(m));
    advance(200 * MS);
    CHECK_EQ(ixgbe_model_read(m, LINKS) & LINKS_LINK_UP, 0); /* nothing set up */
    uint16_t list = eerd(m, 0x2B), at = 0;
    for (uint16_t w = list + 1; eerd(m, w) != 0xFFFF; w += 2)
        if (eerd(m, w) == 5) /* SR/LR on port 0 */
            at = eerd(m, w + 1);
    CHECK(at != 0);
    ixgbe_model_write(m, CORECTL, 0x1234); /* no semaphore, and a word not in it */
    CHECK(said(m, 0, "CORECTL written without SW_FW_SYNC.SW_MAC_CSR_SM held"));
    swfw_take(m, SW_FW_SYNC_MAC_CSR_SM);
    for (uint16_t w = at + 1; eerd(m, w) != 0xFFFF; w++)
        ixgbe_model_write(m, CORECTL, eerd(m, w));
    ixgbe_model_write(m, AUTOC, 3u << AUTOC_LMS_SHIFT | AUTOC_RESTART_AN);
    advance(200 * MS);
    CHECK_EQ(ixgbe_model_read(m, LINKS) & LINKS_LINK_UP, 0); /* the laser is off */
    ixgbe_model_write(m, ESDP, ESDP_SDP3_IODIR);             /* SDP3 an output, low: the laser on */
    CHECK_EQ(ixgbe_model_read(m, LINKS) & LINKS_LINK_UP, LINKS_LINK_UP);
    ixgbe_model_write(m, AUTOC, 1u << AUTOC_LMS_SHIFT | AUTOC_RESTART_AN); /* not SFI */
    advance(200 * MS);
    CHECK_EQ(ixgbe_model_read(m, LINKS) & LINKS_LINK_UP, 0);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    ixgbe_model_free(m);
}

/* --- two threads: the driver here, the model's DMA on another ------------------- */

static atomic_bool stop_stepping;

static void *stepper(void *arg)
{
    while (!atomic_load(&stop_stepping))
        ixgbe_model_step(arg);
    return NULL;
}

/* 2000 frames through loopback while another thread runs ixgbe_model_step:
 * every frame comes back once, in order, with its bytes. */
static void threaded_loopback(void)
{
    struct port p;
    struct ixgbe_model *m = model_with_port(&p);
    set_bits(m, HLREG0, HLREG0_LPBK);
    atomic_store(&stop_stepping, false);
    pthread_t t;
    CHECK(pthread_create(&t, NULL, stepper, m) == 0);
    uint8_t f[256], got[2048];
    unsigned sent = 0, received = 0, bad = 0;
    while (received < 2000) {
        /* fewer frames out than either ring holds: none is ever missed, and a
         * TX descriptor is reused only after TDH passed it */
        if (sent < 2000 && sent - received < RING - 2) {
            make_frame(f, 60 + sent % 190, MAC_A, MAC_A, sent);
            tx_one(&p, f, 60 + sent % 190, 2048);
            sent++;
        }
        int len;
        while ((len = rx_one(&p, got)) >= 0) {
            make_frame(f, 60 + received % 190, MAC_A, MAC_A, received);
            if (len != (int)(60 + received % 190) || memcmp(got, f, (size_t)len) != 0)
                bad++;
            received++;
        }
    }
    atomic_store(&stop_stepping, true);
    pthread_join(t, NULL);
    CHECK_EQ(bad, 0);
    CHECK_EQ(received, 2000);
    CHECK_EQ(ixgbe_model_counter(m, "GPTC"), 2000);
    CHECK_EQ(ixgbe_model_counter(m, "MPC"), 0);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* --- receive-side scaling (§7.1.2.8) ---------------------------------------------- */

/* Microsoft's "Verifying the RSS Hash Calculation" suite, which the 82599
 * datasheet repeats (§7.1.2.8.3): the hash with addresses only, and with the
 * TCP ports. */
struct rss_vector {
    uint8_t src[16], dst[16];
    uint16_t sport, dport;
    uint32_t ip, tcp;
};

static const struct rss_vector IPV4_VECTORS[] = {
    { { 66, 9, 149, 187 }, { 161, 142, 100, 80 }, 2794, 1766, 0x323e8fc2, 0x51ccc178 },
    { { 199, 92, 111, 2 }, { 65, 69, 140, 83 }, 14230, 4739, 0xd718262a, 0xc626b0ea },
    { { 24, 19, 198, 95 }, { 12, 22, 207, 184 }, 12898, 38024, 0xd2d0a5de, 0x5c2b394a },
    { { 38, 27, 205, 30 }, { 209, 142, 163, 6 }, 48228, 2217, 0x82989176, 0xafc7327f },
    { { 153, 39, 163, 191 }, { 202, 188, 127, 2 }, 44251, 1303, 0x5d1809c5, 0x10e828a2 },
};

static const struct rss_vector IPV6_VECTORS[] = {
    /* 3ffe:2501:200:1fff::7 -> 3ffe:2501:200:3::1 */
    { { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x1f, 0xff, 0, 0, 0, 0, 0, 0, 0, 0x07 },
      { 0x3f, 0xfe, 0x25, 0x01, 0x02, 0x00, 0x00, 0x03, 0, 0, 0, 0, 0, 0, 0, 0x01 },
      2794,
      1766,
      0x2cc18cd5,
      0x40207d3d },
    /* 3ffe:501:8::260:97ff:fe40:efab -> ff02::1 */
    { { 0x3f, 0xfe, 0x05, 0x01, 0x00, 0x08, 0, 0, 0x02, 0x60, 0x97, 0xff, 0xfe, 0x40, 0xef, 0xab },
      { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01 },
      14230,
      4739,
      0x0f0c461c,
      0xdde51bbf },
    /* 3ffe:1900:4545:3:200:f8ff:fe21:67cf -> fe80::200:f8ff:fe21:67cf */
    { { 0x3f, 0xfe, 0x19, 0x00, 0x45, 0x45, 0x00, 0x03, 0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67,
        0xcf },
      { 0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0x02, 0x00, 0xf8, 0xff, 0xfe, 0x21, 0x67, 0xcf },
      44251,
      38024,
      0x4b61e985,
      0x02d1feef },
};

/* The test's Toeplitz against the published suite, before anything is
 * checked against it. */
static void toeplitz_matches_microsoft_suite(void)
{
    for (size_t i = 0; i < sizeof(IPV4_VECTORS) / sizeof(IPV4_VECTORS[0]); i++) {
        const struct rss_vector *v = &IPV4_VECTORS[i];
        CHECK_EQ(ref_hash(MS_KEY, v->src, v->dst, 4, false, 0, 0), v->ip);
        CHECK_EQ(ref_hash(MS_KEY, v->src, v->dst, 4, true, v->sport, v->dport), v->tcp);
    }
    for (size_t i = 0; i < sizeof(IPV6_VECTORS) / sizeof(IPV6_VECTORS[0]); i++) {
        const struct rss_vector *v = &IPV6_VECTORS[i];
        CHECK_EQ(ref_hash(MS_KEY, v->src, v->dst, 16, false, 0, 0), v->ip);
        CHECK_EQ(ref_hash(MS_KEY, v->src, v->dst, 16, true, v->sport, v->dport), v->tcp);
    }
}

/* Frames to MAC_A with an IP header and the first 8 bytes of a TCP or UDP
 * header (the ports), then 32 bytes of payload from the ports. flags_frag
 * is the IPv4 header's bytes 6-7 (MF, fragment offset); options adds 4
 * bytes of NOP options. Each returns the frame's length. */
static uint32_t ipv4_frame(uint8_t *f, const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
                           uint16_t sport, uint16_t dport, uint16_t flags_frag, bool options)
{
    uint32_t ihl = options ? 24 : 20, len = 14 + ihl + 8 + 32;
    make_frame(f, len, MAC_A, MAC_B, sport ^ dport); /* ethertype 0x0800 */
    memset(f + 14, 0, ihl + 8);
    f[14] = (uint8_t)(0x40 | ihl / 4);
    f[16] = (uint8_t)((len - 14) >> 8);
    f[17] = (uint8_t)(len - 14);
    f[20] = (uint8_t)(flags_frag >> 8);
    f[21] = (uint8_t)flags_frag;
    f[22] = 64;
    f[23] = proto;
    memcpy(f + 26, src, 4);
    memcpy(f + 30, dst, 4);
    memset(f + 34, 1, ihl - 20);
    uint8_t *l4 = f + 14 + ihl;
    l4[0] = (uint8_t)(sport >> 8);
    l4[1] = (uint8_t)sport;
    l4[2] = (uint8_t)(dport >> 8);
    l4[3] = (uint8_t)dport;
    return len;
}

static uint32_t ipv6_frame(uint8_t *f, const uint8_t src[16], const uint8_t dst[16], uint8_t next,
                           uint16_t sport, uint16_t dport)
{
    uint32_t len = 14 + 40 + 8 + 32;
    make_frame(f, len, MAC_A, MAC_B, sport ^ dport);
    memset(f + 14, 0, 48);
    f[12] = 0x86;
    f[13] = 0xDD;
    f[14] = 0x60;
    f[19] = 8 + 32; /* payload length */
    f[20] = next;
    f[21] = 64;
    memcpy(f + 22, src, 16);
    memcpy(f + 38, dst, 16);
    f[54] = (uint8_t)(sport >> 8);
    f[55] = (uint8_t)sport;
    f[56] = (uint8_t)(dport >> 8);
    f[57] = (uint8_t)dport;
    return len;
}

#define MQ 4 /* queue pairs in the RSS tests */
#define MRQC_ALL_FIELDS                                                                            \
    (MRQC_TCPIPV4 | MRQC_IPV4 | MRQC_IPV6 | MRQC_TCPIPV6 | MRQC_UDPIPV4 | MRQC_UDPIPV6)

/* A port with MQ receive and transmit queues. */
struct mq_port {
    struct ixgbe_model *m;
    uint64_t *rx[MQ], *tx[MQ];
    uint8_t *rxbuf[MQ][RING], *txbuf[MQ][RING];
    uint32_t rx_next[MQ], tx_next[MQ];
};

/* What RSS is set to: key, the 128 RETA entries, MRQC, RXCSUM. */
struct rss_setup {
    const uint8_t *key, *reta;
    uint32_t mrqc, rxcsum;
};

/* §4.6.7 with RSS (RXCSUM, RSSRK, RETA and MRQC before the queues, §7.1.2.8)
 * and nq queue pairs, then §4.6.8. RSSRK and MRQC are written at the
 * 82598's offsets, as the ixgbe driver writes them, RETA at the 82599's:
 * both must decode. */
static bool mq_init(struct mq_port *p, struct ixgbe_model *m, uint32_t nq,
                    const struct rss_setup *rs)
{
    memset(p, 0, sizeof(*p));
    p->m = m;
    if (!reset_and_wait(m))
        return false;
    clear_stats(m);
    rdrxctl_init(m);
    ixgbe_model_write(m, FCTRL, FCTRL_BAM);
    ixgbe_model_write(m, RXCSUM, rs->rxcsum);
    for (int i = 0; i < 10; i++) /* §8.2.3.7.14: key byte 4i + k in bits 8k+7:8k */
        ixgbe_model_write(m, RSSRK_82598(i),
                          rs->key[4 * i] | rs->key[4 * i + 1] << 8 | rs->key[4 * i + 2] << 16 |
                              (uint32_t)rs->key[4 * i + 3] << 24);
    for (int i = 0; i < 32; i++) /* §8.2.3.7.15: entry 4i + k in byte k */
        ixgbe_model_write(m, RETA(i),
                          rs->reta[4 * i] | rs->reta[4 * i + 1] << 8 | rs->reta[4 * i + 2] << 16 |
                              (uint32_t)rs->reta[4 * i + 3] << 24);
    ixgbe_model_write(m, MRQC_82598, rs->mrqc);
    for (uint32_t q = 0; q < nq; q++)
        if (!rx_queue_up(m, q, &p->rx[q], p->rxbuf[q], RING))
            return false;
    if (!rx_on(m))
        return false;
    tx_on(m);
    for (uint32_t q = 0; q < nq; q++)
        if (!tx_queue_up(m, q, &p->tx[q], p->txbuf[q]))
            return false;
    return wait_reg(m, LINKS, LINKS_LINK_UP, LINKS_LINK_UP, 500 * MS);
}

/* One frame from RX queue q into out (and the write-back's first qword into
 * *q0), or -1; the descriptor goes back to the device. */
static int mq_rx(struct mq_port *p, uint32_t q, uint8_t *out, uint64_t *q0)
{
    uint32_t i = p->rx_next[q];
    uint64_t *d = &p->rx[q][2 * i];
    uint64_t wb = __atomic_load_n(&d[1], __ATOMIC_ACQUIRE);
    if (!(wb & RXD_STAT_DD))
        return -1;
    int len = (int)((wb >> RXD_PKT_LEN_SHIFT) & 0xFFFF);
    memcpy(out, p->rxbuf[q][i], (size_t)len);
    *q0 = d[0];
    d[0] = pa(p->rxbuf[q][i]);
    d[1] = 0;
    ixgbe_model_write(p->m, RDT(q), i);
    p->rx_next[q] = (i + 1) % RING;
    return len;
}

/* One frame in one descriptor on TX queue q, TDT moved past it. */
static void mq_tx(struct mq_port *p, uint32_t q, const uint8_t *f, uint32_t len)
{
    uint32_t i = p->tx_next[q];
    memcpy(p->txbuf[q][i], f, len);
    p->tx[q][2 * i] = pa(p->txbuf[q][i]);
    p->tx[q][2 * i + 1] = len | TXD_DTYP_DATA << TXD_DTYP_SHIFT | TXD_CMD_DEXT | TXD_CMD_IFCS |
                          TXD_CMD_EOP | TXD_CMD_RS | (uint64_t)len << TXD_PAYLEN_SHIFT;
    p->tx_next[q] = (i + 1) % RING;
    ixgbe_model_write(p->m, TDT(q), p->tx_next[q]);
}

/* The frame just injected is in RX queue `want` and no other, byte for byte,
 * with `q0` as its write-back's first qword (RSS Type, RSS Hash). */
static void expect_on(struct mq_port *p, uint32_t nq, uint32_t want, const uint8_t *f, uint32_t len,
                      uint64_t q0)
{
    uint8_t got[2048];
    uint64_t wb0 = 0;
    for (uint32_t q = 0; q < nq; q++) {
        int n = mq_rx(p, q, got, &wb0);
        if (q != want) {
            CHECK_EQ(n, -1);
            continue;
        }
        CHECK_EQ(n, (int)len);
        CHECK(n == (int)len && memcmp(got, f, len) == 0);
        CHECK_EQ(wb0, q0);
    }
}

/* The write-back's first qword for a hash of this type (§7.1.6.2). */
static uint64_t rss_q0(uint64_t type, uint32_t hash)
{
    return type | (uint64_t)hash << RXD_RSS_HASH_SHIFT;
}

/* MRQC, RSSRK and RETA: 0 at reset, plain read-write, one register at either
 * offset (the 82599's and the 82598's); an MRQE the model does not do is
 * flagged. */
static void rss_registers(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    CHECK(reset_and_wait(m));
    CHECK_EQ(ixgbe_model_read(m, MRQC), 0);
    CHECK_EQ(ixgbe_model_read(m, RETA(31)), 0);
    CHECK_EQ(ixgbe_model_read(m, RSSRK(9)), 0);
    CHECK_EQ(ixgbe_model_read(m, RQSMR(31)), 0);
    ixgbe_model_write(m, MRQC_82598, MRQC_MRQE_RSS | MRQC_IPV4);
    CHECK_EQ(ixgbe_model_read(m, MRQC), MRQC_MRQE_RSS | MRQC_IPV4);
    ixgbe_model_write(m, MRQC, MRQC_MRQE_RSS | MRQC_UDPIPV6);
    CHECK_EQ(ixgbe_model_read(m, MRQC_82598), MRQC_MRQE_RSS | MRQC_UDPIPV6);
    for (int i = 0; i < 32; i++)
        ixgbe_model_write(m, i % 2 ? RETA(i) : RETA_82598(i), 0x01010101u * (uint32_t)i);
    for (int i = 0; i < 10; i++)
        ixgbe_model_write(m, i % 2 ? RSSRK_82598(i) : RSSRK(i), 0xA0B0C0D0u + (uint32_t)i);
    for (int i = 0; i < 32; i++) {
        CHECK_EQ(ixgbe_model_read(m, RETA(i)), 0x01010101u * (uint32_t)i);
        CHECK_EQ(ixgbe_model_read(m, RETA_82598(i)), 0x01010101u * (uint32_t)i);
    }
    for (int i = 0; i < 10; i++) {
        CHECK_EQ(ixgbe_model_read(m, RSSRK(i)), 0xA0B0C0D0u + (uint32_t)i);
        CHECK_EQ(ixgbe_model_read(m, RSSRK_82598(i)), 0xA0B0C0D0u + (uint32_t)i);
    }
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_write(m, MRQC, 0x2); /* DCB, 8 traffic classes */
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "MRQC.MRQE = 2"));
    ixgbe_model_free(m);
}

/* 64 UDP/IPv4 flows, 16 TCP/IPv4, 16 UDP/IPv6 and 8 TCP/IPv6 over four
 * queues: each frame lands in exactly the queue RETA[hash & 0x7F] names,
 * with the test's own hash and the RSS Type in its write-back. */
static void rss_spreads_flows(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    uint8_t reta[128];
    for (int j = 0; j < 128; j++) /* not j % 4: a slip in the entry's index shows */
        reta[j] = (uint8_t)((j * 5 + j / 32) % MQ);
    struct rss_setup rs = { MS_KEY, reta, MRQC_MRQE_RSS | MRQC_ALL_FIELDS, RXCSUM_PCSD };
    struct mq_port p;
    CHECK(mq_init(&p, m, MQ, &rs));
    unsigned hits[MQ] = { 0 }, frames = 0;
    uint8_t f[256];
    for (unsigned k = 0; k < 104; k++, frames++) {
        uint8_t src[16] = { 10, 0, (uint8_t)k, 1 }, dst[16] = { 192, 168, 1, (uint8_t)(k * 7) };
        uint16_t sport = (uint16_t)(1024 + k * 37), dport = (uint16_t)(53 + k * 1001);
        uint32_t len, hash;
        uint64_t type;
        if (k < 80) { /* IPv4: 64 UDP flows, then 16 TCP */
            uint8_t proto = k < 64 ? 17 : 6;
            len = ipv4_frame(f, src, dst, proto, sport, dport, 0, false);
            hash = ref_hash(MS_KEY, src, dst, 4, true, sport, dport);
            type = proto == 17 ? RXD_RSSTYPE_UDPIPV4 : RXD_RSSTYPE_TCPIPV4;
        } else { /* IPv6: 16 UDP flows, then 8 TCP */
            uint8_t proto = k < 96 ? 17 : 6;
            static const uint8_t net6[2] = { 0x20, 0x01 }; /* 2001::k -> fd00:0:0:k*3::2 */
            memset(src, 0, 16);
            memset(dst, 0, 16);
            memcpy(src, net6, 2);
            src[15] = (uint8_t)k;
            dst[0] = 0xfd;
            dst[7] = (uint8_t)(k * 3);
            dst[15] = 2;
            len = ipv6_frame(f, src, dst, proto, sport, dport);
            hash = ref_hash(MS_KEY, src, dst, 16, true, sport, dport);
            type = proto == 17 ? RXD_RSSTYPE_UDPIPV6 : RXD_RSSTYPE_TCPIPV6;
        }
        uint32_t want = reta[hash & 0x7F];
        CHECK(ixgbe_model_inject(m, f, len));
        expect_on(&p, MQ, want, f, len, rss_q0(type, hash));
        hits[want]++;
    }
    for (int q = 0; q < MQ; q++) { /* every queue had frames, its RDH moved with them */
        CHECK(hits[q] > 0);
        CHECK_EQ(ixgbe_model_read(m, RDH(q)), hits[q] % RING);
    }
    CHECK_EQ(ixgbe_model_read(m, GPRC), frames);
    CHECK_EQ(ixgbe_model_counter(m, "QPRDC") + ixgbe_model_counter(m, "MPC"), 0);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* §7.1.2.8.1 field by field: a type not enabled falls back to the next (TCP
 * or UDP to addresses only); a fragment has no ports; IPv4 options are
 * skipped; an 802.1Q tag is looked past; a frame RSS cannot hash (not IP,
 * or no enabled type) goes to queue 0 with hash 0 and RSS Type 0, whatever
 * RETA's entry 0 says. Another key than Microsoft's, so the key is read from
 * RSSRK. */
static void rss_field_selection(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    uint8_t key[40], reta[128];
    for (int i = 0; i < 40; i++)
        key[i] = (uint8_t)(i * 37 + 11);
    for (int j = 0; j < 128; j++)
        reta[j] = (uint8_t)(3 - j % MQ); /* entry 0 names queue 3 */
    struct rss_setup rs = { key, reta, MRQC_MRQE_RSS | MRQC_IPV4, RXCSUM_PCSD };
    struct mq_port p;
    CHECK(mq_init(&p, m, MQ, &rs));
    static const uint8_t src[4] = { 10, 1, 2, 3 }, dst[4] = { 10, 4, 5, 6 };
    uint8_t f[256], tagged[256];
    uint32_t ip = ref_hash(key, src, dst, 4, false, 0, 0);
    uint32_t ports = ref_hash(key, src, dst, 4, true, 4000, 80);

    /* IPv4 only: a UDP datagram is hashed on its addresses */
    uint32_t len = ipv4_frame(f, src, dst, 17, 4000, 80, 0, false);
    CHECK(ixgbe_model_inject(m, f, len));
    expect_on(&p, MQ, reta[ip & 0x7F], f, len, rss_q0(RXD_RSSTYPE_IPV4, ip));

    /* UDP and IPv4: TCP falls back to the addresses, UDP has its ports */
    clear_bits(m, RXCTRL, RXCTRL_RXEN);
    ixgbe_model_write(m, MRQC, MRQC_MRQE_RSS | MRQC_IPV4 | MRQC_UDPIPV4);
    CHECK(rx_on(m));
    len = ipv4_frame(f, src, dst, 6, 4000, 80, 0, false);
    CHECK(ixgbe_model_inject(m, f, len));
    expect_on(&p, MQ, reta[ip & 0x7F], f, len, rss_q0(RXD_RSSTYPE_IPV4, ip));
    len = ipv4_frame(f, src, dst, 17, 4000, 80, 0, false);
    CHECK(ixgbe_model_inject(m, f, len));
    expect_on(&p, MQ, reta[ports & 0x7F], f, len, rss_q0(RXD_RSSTYPE_UDPIPV4, ports));

    /* a fragment, first (MF) or later (offset), has only addresses to hash */
    len = ipv4_frame(f, src, dst, 17, 4000, 80, 0x2000, false);
    CHECK(ixgbe_model_inject(m, f, len));
    expect_on(&p, MQ, reta[ip & 0x7F], f, len, rss_q0(RXD_RSSTYPE_IPV4, ip));
    len = ipv4_frame(f, src, dst, 17, 4000, 80, 0x00B9, false);
    CHECK(ixgbe_model_inject(m, f, len));
    expect_on(&p, MQ, reta[ip & 0x7F], f, len, rss_q0(RXD_RSSTYPE_IPV4, ip));

    /* IPv4 options (IHL 6) are skipped; one 802.1Q tag is looked past */
    len = ipv4_frame(f, src, dst, 17, 4000, 80, 0, true);
    CHECK(ixgbe_model_inject(m, f, len));
    expect_on(&p, MQ, reta[ports & 0x7F], f, len, rss_q0(RXD_RSSTYPE_UDPIPV4, ports));
    len = ipv4_frame(f, src, dst, 17, 4000, 80, 0, false);
    memcpy(tagged, f, 12);
    memcpy(tagged + 12, "\x81\x00\x00\x05", 4); /* VLAN 5 */
    memcpy(tagged + 16, f + 12, len - 12);
    CHECK(ixgbe_model_inject(m, tagged, len + 4));
    expect_on(&p, MQ, reta[ports & 0x7F], tagged, len + 4, rss_q0(RXD_RSSTYPE_UDPIPV4, ports));

    /* UDP only: a fragment has no type to be hashed by; nor has ARP */
    clear_bits(m, RXCTRL, RXCTRL_RXEN);
    ixgbe_model_write(m, MRQC, MRQC_MRQE_RSS | MRQC_UDPIPV4);
    CHECK(rx_on(m));
    len = ipv4_frame(f, src, dst, 17, 4000, 80, 0x2000, false);
    CHECK(ixgbe_model_inject(m, f, len));
    expect_on(&p, MQ, 0, f, len, 0);
    make_frame(f, 60, MAC_A, MAC_B, 1);
    memcpy(f + 12, "\x08\x06", 2); /* ARP */
    CHECK(ixgbe_model_inject(m, f, 60));
    expect_on(&p, MQ, 0, f, 60, 0);

    /* IPv6 only: a UDP datagram over IPv6 is hashed on its 32 address bytes */
    clear_bits(m, RXCTRL, RXCTRL_RXEN);
    ixgbe_model_write(m, MRQC, MRQC_MRQE_RSS | (MRQC_ALL_FIELDS & ~MRQC_UDPIPV6));
    CHECK(rx_on(m));
    const struct rss_vector *v = &IPV6_VECTORS[1];
    uint32_t ip6 = ref_hash(key, v->src, v->dst, 16, false, 0, 0);
    len = ipv6_frame(f, v->src, v->dst, 17, v->sport, v->dport);
    CHECK(ixgbe_model_inject(m, f, len));
    expect_on(&p, MQ, reta[ip6 & 0x7F], f, len, rss_q0(RXD_RSSTYPE_IPV6, ip6));
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* Without RXCSUM.PCSD the queue is still RSS's, but the write-back carries
 * no RSS Type or Hash (§7.1.2.8); with MRQC.MRQE = 0000b every frame goes to
 * queue 0 unhashed, whatever the field enables and RETA say. */
static void rss_hash_needs_pcsd_and_mrqe(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    uint8_t reta[128];
    memset(reta, 2, sizeof(reta));
    struct rss_setup rs = { MS_KEY, reta, MRQC_MRQE_RSS | MRQC_ALL_FIELDS, 0 };
    struct mq_port p;
    CHECK(mq_init(&p, m, MQ, &rs));
    const struct rss_vector *v = &IPV4_VECTORS[0];
    uint8_t f[256];
    uint32_t len = ipv4_frame(f, v->src, v->dst, 6, v->sport, v->dport, 0, false);
    CHECK(ixgbe_model_inject(m, f, len));
    expect_on(&p, MQ, 2, f, len, 0);

    clear_bits(m, RXCTRL, RXCTRL_RXEN);
    ixgbe_model_write(m, RXCSUM, RXCSUM_PCSD);
    ixgbe_model_write(m, MRQC, MRQC_ALL_FIELDS); /* MRQE 0000b: RSS off */
    CHECK(rx_on(m));
    for (int k = 0; k < 8; k++) {
        len = ipv4_frame(f, v->src, v->dst, 17, (uint16_t)(v->sport + k), v->dport, 0, false);
        CHECK(ixgbe_model_inject(m, f, len));
        expect_on(&p, MQ, 0, f, len, 0);
    }
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* A frame RSS sends to a queue that is not enabled is treated as one for a
 * queue with no descriptors: with that queue's SRRCTL.DROP_EN it is dropped
 * and counted in the QPRDC that RQSMR maps the queue to (QPRDC(0) at reset);
 * without, it is a miss (MPC). Nothing is written anywhere. */
static void rss_to_disabled_queue(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    uint8_t reta[128];
    memset(reta, 2, sizeof(reta));
    struct rss_setup rs = { MS_KEY, reta, MRQC_MRQE_RSS | MRQC_ALL_FIELDS, RXCSUM_PCSD };
    struct mq_port p;
    CHECK(mq_init(&p, m, 2, &rs)); /* queues 0 and 1 only */
    ixgbe_model_write(m, SRRCTL(2), BUF_KB | 1u << SRRCTL_DESCTYPE_SHIFT | SRRCTL_DROP_EN);
    const struct rss_vector *v = &IPV4_VECTORS[2];
    uint8_t f[256], got[2048];
    uint64_t q0;
    uint32_t len = ipv4_frame(f, v->src, v->dst, 6, v->sport, v->dport, 0, false);
    CHECK(!ixgbe_model_inject(m, f, len));
    CHECK_EQ(ixgbe_model_read(m, QPRDC(0)), 1);
    CHECK_EQ(ixgbe_model_read(m, QPRDC(2)), 0);

    ixgbe_model_write(m, RQSMR(0), 2u << 16); /* queue 2 counts in QPRDC(2) */
    CHECK(!ixgbe_model_inject(m, f, len));
    CHECK_EQ(ixgbe_model_read(m, QPRDC(2)), 1);
    CHECK_EQ(ixgbe_model_read(m, QPRDC(0)), 0);

    ixgbe_model_write(m, SRRCTL(2), BUF_KB | 1u << SRRCTL_DESCTYPE_SHIFT);
    CHECK(!ixgbe_model_inject(m, f, len));
    CHECK_EQ(ixgbe_model_read(m, MPC(0)), 1);
    CHECK_EQ(ixgbe_model_read(m, QPRDC(2)), 0);

    CHECK_EQ(mq_rx(&p, 0, got, &q0), -1);
    CHECK_EQ(mq_rx(&p, 1, got, &q0), -1);
    CHECK_EQ(ixgbe_model_read(m, GPRC), 0);
    CHECK_EQ(ixgbe_model_counter(m, "QPRDC"), 2);
    CHECK_EQ(ixgbe_model_counter(m, "MPC"), 1);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

/* The datasheet's init with four queue pairs and RSS, and one frame sent on
 * each transmit queue through MAC loopback: one ixgbe_model_step sends from
 * every enabled queue, each frame comes back on its RSS queue, and nothing
 * breaks a rule. */
static void strict_multiqueue_init_is_clean(void)
{
    fresh();
    callback_calls = 0;
    struct ixgbe_model_config c = config(MAC_A, true);
    c.on_violation = on_violation;
    c.ctx = &callback_calls;
    struct ixgbe_model *m = ixgbe_model_new(&c);
    uint8_t reta[128];
    for (int j = 0; j < 128; j++)
        reta[j] = (uint8_t)(j % MQ);
    struct rss_setup rs = { MS_KEY, reta, MRQC_MRQE_RSS | MRQC_ALL_FIELDS, RXCSUM_PCSD };
    struct mq_port p;
    CHECK(mq_init(&p, m, MQ, &rs));
    set_bits(m, HLREG0, HLREG0_LPBK);
    uint8_t f[MQ][256], got[2048];
    uint32_t len[MQ], hash[MQ];
    static const uint8_t src[4] = { 172, 16, 0, 1 }, dst[4] = { 172, 16, 0, 2 };
    for (uint32_t q = 0; q < MQ; q++) {
        uint16_t sport = (uint16_t)(5000 + q);
        len[q] = ipv4_frame(f[q], src, dst, 17, sport, 9, 0, false);
        hash[q] = ref_hash(MS_KEY, src, dst, 4, true, sport, 9);
        mq_tx(&p, q, f[q], len[q]);
    }
    CHECK_EQ(ixgbe_model_step(m), MQ);
    for (uint32_t q = 0; q < MQ; q++) {
        CHECK_EQ(ixgbe_model_read(m, TDH(q)), 1);
        CHECK_EQ(p.tx[q][1] & TXD_STAT_DD, TXD_STAT_DD);
    }
    unsigned received = 0;
    for (uint32_t q = 0; q < MQ; q++) {
        uint64_t q0;
        int n;
        while ((n = mq_rx(&p, q, got, &q0)) >= 0) {
            uint32_t k = got[14 + 20 + 1] - 0x88; /* source port 5000 + k: 0x1388 + k */
            CHECK(k < MQ && reta[hash[k] & 0x7F] == q);
            CHECK(k < MQ && n == (int)len[k] && memcmp(got, f[k], len[k]) == 0);
            CHECK(k < MQ && q0 == rss_q0(RXD_RSSTYPE_UDPIPV4, hash[k]));
            received++;
        }
    }
    CHECK_EQ(received, MQ);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    CHECK_EQ(callback_calls, 0);
    ixgbe_model_free(m);
}

/* --- several driver threads, one per queue pair, and the model on another ----- */

#define THREADED_FRAMES 600 /* per queue pair */

struct rss_worker {
    struct mq_port *p;
    const uint8_t *reta;
    uint32_t q;
    _Atomic unsigned *in_flight, *received;
    unsigned bad, stuck; /* read after the join */
};

/* The frame a worker sends as its k-th: UDP/IPv4 from 10.0.q.1 port 2000 + k
 * to 10.9.9.9 port 7000 + q, so flows spread over all queues. */
static uint32_t worker_frame(uint8_t *f, uint32_t q, uint32_t k, uint8_t src[4])
{
    static const uint8_t dst[4] = { 10, 9, 9, 9 };
    memcpy(src, (const uint8_t[4]){ 10, 0, (uint8_t)q, 1 }, 4);
    return ipv4_frame(f, src, dst, 17, (uint16_t)(2000 + k), (uint16_t)(7000 + q), 0, false);
}

/* A driver's core for queue pair q: sends its frames on TX queue q, and
 * takes from RX queue q whatever RSS put there, checking each against the
 * test's hash and RETA. Frames in flight stay fewer than a ring holds, so
 * no receive ring overflows; a TX descriptor is reused only once TDH(q)
 * has passed it. */
static void *rss_worker(void *arg)
{
    struct rss_worker *w = arg;
    static const uint8_t dst[4] = { 10, 9, 9, 9 };
    uint8_t f[256], got[2048], src[4];
    uint32_t sent = 0;
    for (uint64_t spins = 0; atomic_load(w->received) < MQ * THREADED_FRAMES; spins++) {
        if (spins > 200000000) {
            w->stuck = 1;
            break;
        }
        unsigned flying = atomic_load(w->in_flight);
        uint32_t head = ixgbe_model_read(w->p->m, TDH(w->q));
        if (sent < THREADED_FRAMES && (w->p->tx_next[w->q] + 1) % RING != head &&
            flying < RING - 2 && atomic_compare_exchange_weak(w->in_flight, &flying, flying + 1)) {
            uint32_t len = worker_frame(f, w->q, sent, src);
            mq_tx(w->p, w->q, f, len);
            sent++;
        }
        uint64_t q0;
        int n;
        while ((n = mq_rx(w->p, w->q, got, &q0)) >= 0) {
            uint32_t from = got[28], k = (uint32_t)(got[34] << 8 | got[35]) - 2000;
            uint32_t len = worker_frame(f, from, k, src);
            uint32_t hash =
                ref_hash(MS_KEY, src, dst, 4, true, (uint16_t)(2000 + k), (uint16_t)(7000 + from));
            if (n != (int)len || memcmp(got, f, len) != 0 || w->reta[hash & 0x7F] != w->q ||
                q0 != rss_q0(RXD_RSSTYPE_UDPIPV4, hash))
                w->bad++;
            atomic_fetch_sub(w->in_flight, 1);
            atomic_fetch_add(w->received, 1);
        }
    }
    return NULL;
}

/* Four driver threads, each owning one RX and one TX queue and writing only
 * their RDT and TDT, and ixgbe_model_step on a fifth, through loopback with
 * RSS: every frame arrives once, whole, on its RSS queue. Run under
 * -fsanitize=thread this is the model's data-race check. */
static void threaded_rss_queue_pairs(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    uint8_t reta[128];
    for (int j = 0; j < 128; j++)
        reta[j] = (uint8_t)((j * 3 + 1) % MQ);
    struct rss_setup rs = { MS_KEY, reta, MRQC_MRQE_RSS | MRQC_ALL_FIELDS, RXCSUM_PCSD };
    static struct mq_port p;
    CHECK(mq_init(&p, m, MQ, &rs));
    set_bits(m, HLREG0, HLREG0_LPBK);
    _Atomic unsigned in_flight = 0, received = 0;
    struct rss_worker w[MQ];
    pthread_t t[MQ], stepper_thread;
    atomic_store(&stop_stepping, false);
    CHECK(pthread_create(&stepper_thread, NULL, stepper, m) == 0);
    for (uint32_t q = 0; q < MQ; q++) {
        w[q] = (struct rss_worker){ &p, reta, q, &in_flight, &received, 0, 0 };
        CHECK(pthread_create(&t[q], NULL, rss_worker, &w[q]) == 0);
    }
    unsigned bad = 0, stuck = 0;
    for (uint32_t q = 0; q < MQ; q++) {
        pthread_join(t[q], NULL);
        bad += w[q].bad;
        stuck += w[q].stuck;
    }
    atomic_store(&stop_stepping, true);
    pthread_join(stepper_thread, NULL);
    CHECK_EQ(stuck, 0);
    CHECK_EQ(bad, 0);
    CHECK_EQ(atomic_load(&received), MQ * THREADED_FRAMES);
    CHECK_EQ(ixgbe_model_counter(m, "GPTC"), MQ * THREADED_FRAMES);
    CHECK_EQ(ixgbe_model_counter(m, "GPRC"), MQ * THREADED_FRAMES);
    CHECK_EQ(ixgbe_model_counter(m, "QPRDC") + ixgbe_model_counter(m, "MPC"), 0);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    ixgbe_model_free(m);
}

int main(void)
{
    arena = aligned_alloc(4096, ARENA_SIZE);
    RUN(register_map_decodes);
    RUN(register_map_walk);
    RUN(buffer_register_resets);
    RUN(reset_self_clears);
    RUN(reset_never_clears);
    RUN(eeprom_and_dma_init);
    RUN(link_comes_up);
    RUN(rx_enable_needs_ring);
    RUN(rx_frame_lands);
    RUN(aliases_drive_the_data_path);
    RUN(rx_ring_wraps);
    RUN(rx_no_room_is_dropped);
    RUN(l2_filtering);
    RUN(rx_frame_sizes);
    RUN(rx_keeps_fcs_without_strip);
    RUN(tx_to_sink);
    RUN(tx_to_cabled_peer);
    RUN(cable_pulled_and_back);
    RUN(tx_queue_frozen_until_reset);
    RUN(rx_write_back_lies);
    RUN(tx_loopback);
    RUN(tx_head_write_back);
    RUN(stats_clear_on_read);
    RUN(strict_correct_init_is_clean);
    RUN(strict_rdt_before_enable);
    RUN(strict_ring_outside_dma);
    RUN(strict_rdlen_not_multiple_of_128);
    RUN(strict_no_buffer_size);
    RUN(strict_unknown_register);
    RUN(strict_bad_tx_descriptors);
    RUN(strict_sequence_rules);
    RUN(strict_master_disable_before_reset);
    RUN(strict_master_stuck_needs_two_resets);
    RUN(strict_mac_read_before_eeprom);
    RUN(strict_rdrxctl_and_rxen_order);
    RUN(strict_tx_queue_before_te);
    RUN(sfp_i2c_serial_id);
    RUN(sfp_link_needs_setup);
    RUN(threaded_loopback);
    RUN(toeplitz_matches_microsoft_suite);
    RUN(rss_registers);
    RUN(rss_spreads_flows);
    RUN(rss_field_selection);
    RUN(rss_hash_needs_pcsd_and_mrqe);
    RUN(rss_to_disabled_queue);
    RUN(strict_multiqueue_init_is_clean);
    RUN(threaded_rss_queue_pairs);
    free(arena);
    return test_finish();
}
