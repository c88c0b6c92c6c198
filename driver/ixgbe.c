/*
 * driver/ixgbe.c - Intel 82599 (X520), X540 and X550 10 GbE: up to
 * NIC_MAX_QUEUES RX/TX queue pairs with RSS spreading flows over them, poll
 * mode, no interrupts: the design of ixy's ixgbe driver, written from the
 * 82599 datasheet rev 3.3 (section numbers below are its).
 *
 * Bring-up follows §4.6.3: disable interrupts, global reset, disable
 * interrupts again, wait for the EEPROM auto-read and the DMA init, set up
 * the link, clear the statistics, then receive (§4.6.7) and transmit
 * (§4.6.8), then enable the queues. The descriptor rings themselves are
 * driver/intel.c's, shared with the 82576 (driver/igb.c), as are the open
 * through PCI, CTRL.RST and nic_ops. A failed open undoes its steps and
 * gives back what it took.
 *
 * Tested against the 82599 model in tests/model/, never on silicon. The X540
 * and X550 take the same path but for the link set-up (a copper PHY
 * negotiates by itself); no model of them exists.
 */
#include "driver/ixgbe.h"

#include "driver/intel.h"
#include "driver/platform.h"
#include "driver/ixgbe_sfp.h"

/* Registers, with their datasheet sections (§8.2.3). */
#define CTRL INTEL_CTRL /* §8.2.3.1.1 Device Control (RST: intel.c) */
#define CTRL_PCIE_MASTER_DISABLE (1u << 2)
#define CTRL_LRST (1u << 3)
#define STATUS INTEL_STATUS /* §8.2.3.1.2 Device Status */
#define STATUS_PCIE_MASTER_ENABLE (1u << 19)
#define CTRL_EXT 0x00018 /* §8.2.3.1.3 Extended Device Control */
#define CTRL_EXT_NS_DIS (1u << 16)
#define EIMC 0x00888 /* §8.2.3.5.4 Extended Interrupt Mask Clear */
#define EIMC_ALL 0x7FFFFFFFu
#define EEC 0x10010 /* §8.2.3.2.1 EEPROM/Flash Control */
#define EEC_ARD (1u << 9)
#define RDRXCTL 0x02F00 /* §8.2.3.8.8 Receive DMA Control */
#define RDRXCTL_CRCSTRIP (1u << 1)
#define RDRXCTL_DMAIDONE (1u << 3)
#define RDRXCTL_RSCFRSTSIZE (0x1Fu << 17) /* reset 0x8; software sets 0x0 */
#define RDRXCTL_RSCACKC (1u << 25)        /* reset 0; software sets 1b */
#define RDRXCTL_FCOE_WRFIX (1u << 26)     /* reset 0; software sets 1b */
#define AUTOC 0x042A0                     /* §8.2.3.22.19 Auto-Negotiation Control */
#define AUTOC_FLU (1u << 0)               /* force link up */
#define AUTOC_RESTART_AN (1u << 12)
#define AUTOC_LMS_MASK (7u << 13)
#define AUTOC_LMS_10G_NO_AN (1u << 13) /* 001b: 10 GbE, no auto-negotiation */
#define MACC 0x04330                   /* X540: MAC Control */
#define MACC_FLU (1u << 0)
#define LINKS 0x042A4 /* §8.2.3.22.20 Link Status */
#define LINKS_UP (1u << 30)
#define LINKS_SPEED_SHIFT 28
#define HLREG0 0x04240 /* §8.2.3.22.8 MAC Core Control 0 */
#define HLREG0_TXCRCEN (1u << 0)
#define HLREG0_RXCRCSTRP (1u << 1)
#define HLREG0_TXPADEN (1u << 10)
#define HLREG0_LPBK (1u << 15)
#define RXCTRL 0x03000 /* §8.2.3.8.10 Receive Control */
#define RXCTRL_RXEN (1u << 0)
#define RXPBSIZE(i) (0x03C00 + 4 * (i)) /* §8.2.3.8.9 Receive Packet Buffer Size */
#define RXPBSIZE_512K (512u << 10)
#define FCRTH(i) (0x03260 + 4 * (i)) /* §8.2.3.3.4 Flow Control Receive Threshold High */
#define FCTRL 0x05080                /* §8.2.3.7.1 Filter Control */
#define FCTRL_MPE (1u << 8)
#define FCTRL_UPE (1u << 9)
#define FCTRL_BAM (1u << 10)
#define SRRCTL(i) (0x01014 + 0x40 * (i)) /* §8.2.3.8.7 Split Receive Control */
#define SRRCTL_DROP_EN (1u << 28)
#define DCA_RXCTRL(i) (0x0100C + 0x40 * (i)) /* §8.2.3.11.1 Rx DCA Control */
#define DCA_RXCTRL_BIT12 (1u << 12)
#define RDBAL(i) (0x01000 + 0x40 * (i)) /* §8.2.3.8.1, then RDBAH .. RXDCTL */
#define RXDCTL(i) (0x01028 + 0x40 * (i))
#define TDBAL(i) (0x06000 + 0x40 * (i)) /* §8.2.3.9.5, then TDBAH .. TXDCTL */
#define TXDCTL(i) (0x06028 + 0x40 * (i))
#define TXPBSIZE(i) (0x0CC00 + 4 * (i)) /* §8.2.3.9.13 Transmit Packet Buffer Size */
#define TXPBSIZE_160K (160u << 10)
#define DTXMXSZRQ 0x08100 /* §8.2.3.9.1 DMA Tx Max Total Allowed Size Requests */
#define MTQC 0x08120      /* §8.2.3.9.15 Multiple Transmit Queues Command */
#define RTTDCS 0x04900    /* §8.2.3.10.2 DCB Transmit Descriptor Plane Control */
#define RTTDCS_ARBDIS (1u << 6)
#define DMATXCTL 0x04A80 /* §8.2.3.9.2 DMA Tx Control */
#define DMATXCTL_TE (1u << 0)
/* RSS: the 82599's own addresses; it also decodes the 82598's (0x05818,
 * 0x05C00, 0x05C80), which other drivers use. */
#define MRQC 0x0EC80                 /* §8.2.3.7.12 Multiple Receive Queues Command */
#define MRQC_RSS 0x1u                /* MRQE 0001b: RSS only */
#define RETA(i) (0x0EB00 + 4 * (i))  /* §8.2.3.7.15 Redirection Table, 32 x 4 entries */
#define RSSRK(i) (0x0EB80 + 4 * (i)) /* §8.2.3.7.14 RSS Random Key, 10 x 4 bytes */
#define SECRXCTRL 0x08D00            /* §8.2.3.12.5 Security Rx Control */
#define SECRXCTRL_RX_DIS (1u << 1)
#define SECRXSTAT 0x08D04 /* §8.2.3.12.6 Security Rx Status */
#define SECRXSTAT_SECRX_RDY (1u << 0)
#define RAL(i) (0x0A200 + 8 * (i)) /* §8.2.3.7.8 Receive Address Low */
#define RAH(i) (0x0A204 + 8 * (i)) /* §8.2.3.7.9 Receive Address High */
/* Statistics, §8.2.3.23, clear on read (the ones both chips have: intel.h) */
#define MPC(i) (0x03FA0 + 4 * (i))
#define QPRDC(i) (0x01430 + 0x40 * (i)) /* dropped: queue i had no descriptor (SRRCTL.DROP_EN) */

/* TXDCTL thresholds (§7.2.3.4.1, §8.2.3.9.10): prefetch when fewer than 36
 * descriptors are on chip and 8 are available, write back 4 at a time. A
 * single queue without them stalls near 12-13 Mpps at 64 bytes. */
#define TXDCTL_PTHRESH 36
#define TXDCTL_HTHRESH 8
#define TXDCTL_WTHRESH 4

#define RX_RING 512
#define TX_RING 512
#define LINK_WAIT_US 10000000ull
#define RESET_SETTLE_US 10000    /* §4.6.3.2: 10 ms after a reset before the next step */
#define MASTER_DISABLE_US 100000 /* pending PCIe requests to end (§5.2.5.3.2) */
#define SECRX_RDY_US 100000      /* the receive security path to halt (SECRXSTAT.SECRX_RDY) */

/* The 82599's own registers (the shared ones are named in intel.c),
 * several a line. */
/* clang-format off */
static const struct intel_reg_name names[] = {
    INTEL_REG(CTRL_EXT), INTEL_REG(EIMC), INTEL_REG(EEC), INTEL_REG(RDRXCTL), INTEL_REG(AUTOC),
    INTEL_REG(LINKS), INTEL_REG(HLREG0), INTEL_REG(RXCTRL), INTEL_REGS(RXPBSIZE, 4, 8),
    INTEL_REGS(FCRTH, 4, 8), INTEL_REG(FCTRL), INTEL_REGS(DCA_RXCTRL, 0x40, 64),
    INTEL_REGS(TXPBSIZE, 4, 8), INTEL_REG(DTXMXSZRQ), INTEL_REG(MTQC), INTEL_REG(RTTDCS),
    INTEL_REG(DMATXCTL), INTEL_REG(SECRXCTRL), INTEL_REG(SECRXSTAT), INTEL_REGS(MPC, 4, 8),
    INTEL_REGS(QPRDC, 0x40, 16), INTEL_REG(MACC), { 0, 0, 0, NULL },
};
/* clang-format on */

static int ixgbe_set_promisc(struct intel_dev *d, bool on);
static struct nic_link ixgbe_link(const struct intel_dev *d);

static const struct intel_hw hw_82599 = {
    .driver = "ixgbe",
    .model = "82599",
    .set_promisc = ixgbe_set_promisc,
    .link = ixgbe_link,
    .register_test = ixgbe_register_test,
    .rx_base = RDBAL(0),
    .tx_base = TDBAL(0),
    .mrqc = MRQC,
    .mrqc_rss = MRQC_RSS,
    .reta0 = RETA(0),
    .rssrk0 = RSSRK(0),
    .srrctl_base = SRRCTL(0),
    .srrctl_drop_en = SRRCTL_DROP_EN,
    .rx_on = RXCTRL,
    .rx_on_bit = RXCTRL_RXEN,
    .tx_on = DMATXCTL,
    .tx_on_bit = DMATXCTL_TE,
    .ral0 = RAL(0),
    .nral = 128,
    .missed = { MPC(0), MPC(1), MPC(2), MPC(3), MPC(4), MPC(5), MPC(6), MPC(7), QPRDC(0), 0 },
    .names = names,
};

struct ixgbe {
    struct intel_dev dev; /* first: a struct nic * is a struct ixgbe * */
    bool copper;          /* 10GBASE-T parts: the PHY negotiates the link itself */
    bool sfp;             /* SFP+ cages (X520): the module is set up (driver/ixgbe_sfp.c) */
};

/* Device ids (§9.3.3.2 for the 82599; the X540 and X550 datasheets). */
static const struct {
    uint16_t id;
    const char *model;
    bool copper, sfp;
} models[] = {
    { 0x10FB, "82599 SFP+", false, true },
    { 0x10F7, "82599 KX4", false, false },
    { 0x10F8, "82599 combined backplane", false, false },
    { 0x10F9, "82599 CX4", false, false },
    { 0x10FC, "82599 XAUI", false, false },
    { 0x1514, "82599 KX4 mezzanine", false, false },
    { 0x1517, "82599 KR", false, false },
    { 0x151C, "82599 10GBASE-T", false, false },
    { 0x154D, "82599 SFP+ SF2", false, true },
    { 0x1557, "82599EN SFP+", false, true },
    { 0x10D8, "82599", false, false },
    { 0x1528, "X540", true, false },
    { 0x1563, "X550", true, false },
    { 0x15AD, "X550EM_x 10GBASE-T", true, false },
    { 0x15AB, "X550EM_x KR", false, false },
};

/* §4.6.7 (and §8.2.3.8.10): receive goes on with the security block's
 * receive path halted and drained around it; after the queues are enabled. */
static void rx_enable(struct intel_dev *d)
{
    intel_set(d, SECRXCTRL, SECRXCTRL_RX_DIS);
    /* Not ready in time: said, and receive goes on regardless, so the port
     * is not left deaf */
    intel_wait(d, SECRXSTAT, SECRXSTAT_SECRX_RDY, SECRXSTAT_SECRX_RDY, SECRX_RDY_US,
               "halting the receive security path (SECRXSTAT.SECRX_RDY)",
               "receive is turned on regardless; if no frames arrive, reset the device");
    intel_set(d, RXCTRL, RXCTRL_RXEN);
    intel_clear(d, SECRXCTRL, SECRXCTRL_RX_DIS);
}

/* §8.2.3.7.1: the filters change only while receive is off. */
static int ixgbe_set_promisc(struct intel_dev *d, bool on)
{
    intel_clear(d, RXCTRL, RXCTRL_RXEN);
    if (on)
        intel_set(d, FCTRL, FCTRL_MPE | FCTRL_UPE);
    else
        intel_clear(d, FCTRL, FCTRL_MPE | FCTRL_UPE);
    rx_enable(d);
    return 0;
}

static struct nic_link ixgbe_link(const struct intel_dev *d)
{
    static const uint32_t mbps[4] = { 0, 100, 1000, 10000 }; /* LINKS.LINK_SPEED, §8.2.3.22.20 */
    uint32_t v = intel_read(d, LINKS);
    return (struct nic_link){ (v & LINKS_UP) != 0, mbps[(v >> LINKS_SPEED_SHIFT) & 3] };
}

/* §5.2.5.3.2: no new PCIe requests, then wait for those pending to end.
 * False if they did not end. */
static bool master_disable(struct intel_dev *d)
{
    intel_set(d, CTRL, CTRL_PCIE_MASTER_DISABLE);
    return intel_wait(d, STATUS, STATUS_PCIE_MASTER_ENABLE, 0, MASTER_DISABLE_US,
                      "PCIe master disable (STATUS.PCIE_MASTER_ENABLE)",
                      "the reset is issued twice, as the 82599 specification update asks") == 0;
}

/* §4.6.3.1 and §4.6.3.2: interrupts off, a global reset, interrupts off
 * again. §4.2.1.6.1: before a software reset, the master disable of
 * §5.2.5.3.2 (no receive queue is on yet). The reset clears CTRL, mastering
 * included. Where requests stay pending (flow control or the link down can
 * hold them), §5.2.5.3.2 and the specification update's clarification 9
 * have two resets, more than 1 us apart. */
static int reset(struct intel_dev *d)
{
    intel_write(d, EIMC, EIMC_ALL);
    int resets = master_disable(d) ? 1 : 2;
    for (int i = 0; i < resets; i++)
        if (intel_global_reset(d, CTRL_LRST))
            return -1;
    delay_us(RESET_SETTLE_US); /* §4.6.3.2: at least 10 ms after the reset before going on */
    intel_write(d, EIMC, EIMC_ALL);
    return 0;
}

/* §4.6.4: the link mode (AUTOC.LMS and the PMA/PMD fields) is the one the
 * EEPROM loaded for the board: SFP+, KX4, CX4 and backplane cards differ.
 * Auto-negotiation is restarted with it. */
static void link_setup(struct intel_dev *d)
{
    intel_write(d, AUTOC, intel_read(d, AUTOC) | AUTOC_RESTART_AN);
}

/* §4.6.7: receive, its queues set up by intel_queues_init: no VT, RSS when
 * more than one queue, CRC stripped, broadcast accepted. */
static void rx_init(struct intel_dev *d)
{
    intel_clear(d, RXCTRL, RXCTRL_RXEN);        /* off while being set up */
    intel_write(d, RXPBSIZE(0), RXPBSIZE_512K); /* §4.6.11.3.1: all of it to buffer 0 */
    for (int i = 1; i < 8; i++)
        intel_write(d, RXPBSIZE(i), 0);
    /* §4.6.3.2: FCRTH[n].RTH "must be set by default regardless if flow
     * control is enabled or not", typically RXPBSIZE[n] - 0x6000; flow
     * control itself (FCRTH.FCEN, MFLCN) stays off */
    intel_write(d, FCRTH(0), RXPBSIZE_512K - 0x6000);
    intel_set(d, HLREG0, HLREG0_RXCRCSTRP); /* §4.6.7: both strip bits agree */
    /* CRCStrip as HLREG0 (§4.6.7), RSCFRSTSIZE to 0x0 "as opposed to its
     * hardware default" (§4.6.7), RSCACKC and FCOE_WRFIX to 1b (§8.2.3.8.8:
     * "Software should set this bit to 1b") */
    uint32_t rdrxctl = intel_read(d, RDRXCTL) & ~RDRXCTL_RSCFRSTSIZE;
    intel_write(d, RDRXCTL, rdrxctl | RDRXCTL_CRCSTRIP | RDRXCTL_RSCACKC | RDRXCTL_FCOE_WRFIX);
    intel_set(d, FCTRL, FCTRL_BAM);
    if (d->nq > 1)
        intel_rss_init(d);
    /* §4.6.7, last step: clear DCA_RXCTRL bit 12 for every queue used, and
     * set CTRL_EXT.NS_DIS (no snoop off) */
    for (int q = 0; q < d->nq; q++)
        intel_clear(d, DCA_RXCTRL(q), DCA_RXCTRL_BIT12);
    intel_set(d, CTRL_EXT, CTRL_EXT_NS_DIS);
}

/* §4.6.8: transmit, its queues set up by intel_queues_init: CRC and padding
 * added by the MAC, DCB off. */
static void tx_init(struct intel_dev *d)
{
    intel_set(d, HLREG0, HLREG0_TXCRCEN | HLREG0_TXPADEN);
    /* §4.6.11.3.4, DCB and VT off: the packet buffer, the request size and
     * MTQC are set with the descriptor arbiter disabled */
    intel_set(d, RTTDCS, RTTDCS_ARBDIS);
    intel_write(d, TXPBSIZE(0), TXPBSIZE_160K);
    for (int i = 1; i < 8; i++)
        intel_write(d, TXPBSIZE(i), 0);
    intel_write(d, DTXMXSZRQ, 0xFFF); /* §8.2.3.9.1: the largest request size */
    intel_write(d, MTQC, 0);          /* one pool, no DCB: 64 queues */
    intel_clear(d, RTTDCS, RTTDCS_ARBDIS);
    intel_set(d, DMATXCTL, DMATXCTL_TE); /* §4.6.8: before the queues are enabled */
}

/* MAC loopback with no cable: the link is forced up at 10 Gb/s without
 * auto-negotiation (AUTOC.LMS = 001b and AUTOC.FLU, §8.2.3.22.19; MACC.FLU
 * on the copper parts, untested), else the MAC would send nothing. */
static void loopback_on(struct ixgbe *x)
{
    struct intel_dev *d = &x->dev;
    if (x->copper) {
        intel_set(d, MACC, MACC_FLU);
    } else {
        uint32_t autoc = intel_read(d, AUTOC);
        autoc = (autoc & ~AUTOC_LMS_MASK) | AUTOC_LMS_10G_NO_AN | AUTOC_FLU;
        intel_write(d, AUTOC, autoc | AUTOC_RESTART_AN);
    }
    intel_set(d, HLREG0, HLREG0_LPBK);
}

bool ixgbe_supports(uint16_t vendor, uint16_t device)
{
    if (vendor != 0x8086)
        return false;
    for (unsigned i = 0; i < sizeof(models) / sizeof(models[0]); i++)
        if (models[i].id == device)
            return true;
    return false;
}

/* §4.6.3 in order; on a failure the steps taken are undone (the queues'
 * by intel_queues_init itself) and x given back. */
struct nic *ixgbe_open_at(struct pci_dev *pci, uint64_t bar, const struct ixgbe_options *opt)
{
    struct ixgbe *x = cpu_alloc(sizeof(*x), 64);
    if (!x) {
        char addr[PCI_ADDR_LEN];
        kprintf("ixgbe %s: no memory for the driver's state\n", pci_addr(addr, pci));
        return NULL;
    }
    x->copper = x->sfp = false;
    struct intel_dev *d = &x->dev;
    const char *model = NULL;
    for (unsigned i = 0; i < sizeof(models) / sizeof(models[0]); i++)
        if (models[i].id == pci->device) {
            model = models[i].model;
            x->copper = models[i].copper;
            x->sfp = models[i].sfp;
        }
    intel_dev_init(d, &hw_82599, pci, bar, model, opt ? opt->queues : 1);

    if (reset(d))
        goto fail;
    if (intel_wait(d, EEC, EEC_ARD, EEC_ARD, INTEL_RESET_US, "EEPROM auto-read (EEC.ARD)",
                   "the NVM may be blank or damaged; check the card's EEPROM with the vendor's "
                   "tool") ||
        intel_wait(d, RDRXCTL, RDRXCTL_DMAIDONE, RDRXCTL_DMAIDONE, INTEL_RESET_US,
                   "DMA initialization (RDRXCTL.DMAIDONE)",
                   "the device did not finish its DMA init after reset; check its PCIe link"))
        goto fail;
    intel_read_mac(d);
    /* a module that cannot be set up is said; the port opens without link */
    if (x->sfp && !(opt && opt->loopback))
        ixgbe_sfp_setup(d);
    else if (!x->copper && !(opt && opt->loopback))
        link_setup(d);
    intel_clear_stats(d); /* §4.6.5: read once to clear them */

    rx_init(d);
    tx_init(d);
    uint32_t thresholds = TXDCTL_PTHRESH | TXDCTL_HTHRESH << 8 | TXDCTL_WTHRESH << 16;
    if (intel_queues_init(d, RX_RING, TX_RING, thresholds, rx_enable))
        goto fail; /* receive, transmit and the queues off: intel_queues_init */
    if (opt && opt->loopback)
        loopback_on(x);
    else if (!(opt && opt->no_link_wait))
        intel_wait(d, LINKS, LINKS_UP, LINKS_UP,
                   opt && opt->link_wait_us ? opt->link_wait_us : LINK_WAIT_US,
                   "waiting for the link",
                   "check the cable or SFP+ module, and that the other end is up");
    return &d->nic;
fail:
    cpu_free(x, sizeof(*x));
    return NULL;
}

static struct nic *open_at(struct pci_dev *pci, uint64_t bar, const void *opt)
{
    return ixgbe_open_at(pci, bar, opt);
}

struct nic *ixgbe_open_opts(struct pci_dev *pci, const struct ixgbe_options *opt)
{
    return intel_open_pci(pci, "ixgbe", open_at, opt);
}

struct nic *ixgbe_open(struct pci_dev *pci, int queues)
{
    struct ixgbe_options opt = { .queues = queues, .no_link_wait = true };
    return ixgbe_open_opts(pci, &opt);
}

/* Registers a running port does not use, so patterns written there change
 * nothing: queue 1's ring base and length (one queue is used), with the
 * bits the datasheet says are writable (§8.2.3.8.1-3, §8.2.3.9.5-7: the
 * bases are 128-byte aligned, the lengths multiples of 128 below 2^20). */
static const struct {
    uint32_t off, writable;
} pattern_regs[] = {
    { RDBAL(1), 0xFFFFFF80u }, { RDBAL(1) + 4, 0xFFFFFFFFu }, { RDBAL(1) + 8, 0x000FFF80u },
    { TDBAL(1), 0xFFFFFF80u }, { TDBAL(1) + 4, 0xFFFFFFFFu }, { TDBAL(1) + 8, 0x000FFF80u },
};

int ixgbe_register_test(struct nic *nic, char *why, int len)
{
    static const uint32_t patterns[] = { 0x00000000u, 0xFFFFFFFFu, 0x5A5A5A5Au, 0xA5A5A5A5u };
    struct intel_dev *d = (struct intel_dev *)nic;
    int n = 0;
    for (unsigned r = 0; r < sizeof(pattern_regs) / sizeof(pattern_regs[0]); r++) {
        for (unsigned p = 0; p < sizeof(patterns) / sizeof(patterns[0]); p++, n++) {
            uint32_t want = patterns[p] & pattern_regs[r].writable;
            intel_write(d, pattern_regs[r].off, want);
            uint32_t got = intel_read(d, pattern_regs[r].off) & pattern_regs[r].writable;
            if (got != want) {
                char name[32];
                ksnprintf(why, (size_t)len, "%s reads 0x%08x after 0x%08x was written",
                          intel_reg_name(d, pattern_regs[r].off, name, sizeof(name)), got, want);
                intel_write(d, pattern_regs[r].off, 0);
                return -1;
            }
        }
        intel_write(d, pattern_regs[r].off, 0);
    }
    ksnprintf(why, (size_t)len, "%d patterns written and read back", n);
    return 0;
}
