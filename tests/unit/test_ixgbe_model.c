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

/* §4.6.3.1-2: interrupts off, global reset, interrupts off again, then the
 * EEPROM auto-read and DMA init. */
static bool reset_and_wait(struct ixgbe_model *m)
{
    ixgbe_model_write(m, EIMC, 0x7FFFFFFF);
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

/* §4.6.7 for queue 0: ring, buffers, SRRCTL, enable, poll, tail; then RXEN
 * with the security block's receive path halted around it. */
static bool init_rx(struct port *p, uint32_t nrx)
{
    struct ixgbe_model *m = p->m;
    p->nrx = nrx;
    p->rx = dma(16 * nrx);
    for (uint32_t i = 0; i < nrx; i++) {
        p->rxbuf[i] = dma(BUF_KB * 1024);
        p->rx[2 * i] = pa(p->rxbuf[i]);
    }
    set_bits(m, RDRXCTL, RDRXCTL_CRCSTRIP); /* same as HLREG0.RXCRCSTRP (1 at reset) */
    ixgbe_model_write(m, FCTRL, FCTRL_BAM);
    ixgbe_model_write(m, RDBAL(0), (uint32_t)pa(p->rx));
    ixgbe_model_write(m, RDBAH(0), (uint32_t)(pa(p->rx) >> 32));
    ixgbe_model_write(m, RDLEN(0), 16 * nrx);
    ixgbe_model_write(m, SRRCTL(0), BUF_KB | 1u << SRRCTL_DESCTYPE_SHIFT | SRRCTL_DROP_EN);
    set_bits(m, RXDCTL(0), RXDCTL_ENABLE);
    if (!wait_reg(m, RXDCTL(0), RXDCTL_ENABLE, RXDCTL_ENABLE, 10 * MS))
        return false;
    ixgbe_model_write(m, RDT(0), nrx - 1);
    set_bits(m, SECRXCTRL, SECRXCTRL_RX_DIS);
    if (!wait_reg(m, SECRXSTAT, SECRXSTAT_SECRX_RDY, SECRXSTAT_SECRX_RDY, 10 * MS))
        return false;
    set_bits(m, RXCTRL, RXCTRL_RXEN);
    clear_bits(m, SECRXCTRL, SECRXCTRL_RX_DIS);
    p->rx_next = 0;
    return true;
}

/* §4.6.8 for queue 0. */
static bool init_tx(struct port *p)
{
    struct ixgbe_model *m = p->m;
    p->tx = dma(16 * RING);
    for (int i = 0; i < RING; i++)
        p->txbuf[i] = dma(BUF_KB * 1024);
    set_bits(m, RTTDCS, RTTDCS_ARBDIS);
    ixgbe_model_write(m, DTXMXSZRQ, 0xFFF);
    clear_bits(m, RTTDCS, RTTDCS_ARBDIS);
    ixgbe_model_write(m, TDBAL(0), (uint32_t)pa(p->tx));
    ixgbe_model_write(m, TDBAH(0), (uint32_t)(pa(p->tx) >> 32));
    ixgbe_model_write(m, TDLEN(0), 16 * RING);
    ixgbe_model_write(m, TXDCTL(0), 32 | 1u << TXDCTL_HTHRESH_SHIFT | 1u << TXDCTL_WTHRESH_SHIFT);
    set_bits(m, DMATXCTL, DMATXCTL_TE);
    set_bits(m, TXDCTL(0), TXDCTL_ENABLE);
    p->tx_next = 0;
    return wait_reg(m, TXDCTL(0), TXDCTL_ENABLE, TXDCTL_ENABLE, 10 * MS);
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
    CHECK_EQ(ixgbe_model_read(m, HLREG0),
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
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, RING));
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
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, RING));
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
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, RING));
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

/* Two ports cabled: a's frame lands in b's ring, and back. */
static void tx_to_cabled_peer(void)
{
    fresh();
    struct ixgbe_model_config ca = config(MAC_A, true), cb = config(MAC_B, true);
    struct ixgbe_model *a = ixgbe_model_new(&ca), *b = ixgbe_model_new(&cb);
    ixgbe_model_cable(a, b);
    struct port pa_, pb;
    CHECK(init_port(&pa_, a, RING));
    CHECK(init_port(&pb, b, RING));
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
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, RING));
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
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, RING));
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

/* A write the model does not know, and one to a read-only register. */
static void strict_unknown_register(void)
{
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    ixgbe_model_write(m, 0x05FF0, 1);
    CHECK_EQ(ixgbe_model_violations(m), 1);
    CHECK(said(m, 0, "0x05ff0, a register the model does not know"));
    CHECK_EQ(ixgbe_model_read(m, 0x05FF0), 0);
    ixgbe_model_write(m, LINKS, 0);
    CHECK(said(m, 0, "LINKS, a read-only register"));
    CHECK_EQ(ixgbe_model_violations(m), 2);
    ixgbe_model_free(m);

    /* not strict: nothing recorded */
    c.strict = false;
    m = ixgbe_model_new(&c);
    ixgbe_model_write(m, 0x05FF0, 1);
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
    fresh();
    struct ixgbe_model_config c = config(MAC_A, true);
    struct ixgbe_model *m = ixgbe_model_new(&c);
    struct port p;
    CHECK(init_port(&p, m, RING));
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

int main(void)
{
    arena = aligned_alloc(4096, ARENA_SIZE);
    RUN(reset_self_clears);
    RUN(reset_never_clears);
    RUN(eeprom_and_dma_init);
    RUN(link_comes_up);
    RUN(rx_enable_needs_ring);
    RUN(rx_frame_lands);
    RUN(rx_ring_wraps);
    RUN(rx_no_room_is_dropped);
    RUN(l2_filtering);
    RUN(rx_frame_sizes);
    RUN(rx_keeps_fcs_without_strip);
    RUN(tx_to_sink);
    RUN(tx_to_cabled_peer);
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
    RUN(threaded_loopback);
    free(arena);
    return test_finish();
}
