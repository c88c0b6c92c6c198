/*
 * driver/igb.c - Intel 82576 gigabit Ethernet (8086:10C9, copper), up to 8
 * RX/TX queue pairs with RSS over them, poll mode, no interrupts, written
 * from the Intel 82576 GbE Controller Datasheet rev 2.63 (section numbers
 * below are its).
 *
 * Bring-up follows §4.5: interrupts off, a global reset, interrupts off
 * again, the NVM auto-read, the link (§4.5.4), the statistics read once to
 * clear them, then receive (§4.5.9) and transmit (§4.5.10). The descriptor
 * rings are driver/intel.c's, shared with the 82599 (driver/ixgbe.c): the
 * same advanced descriptors, the queue registers at 0xC000 and 0xE000; so
 * are the open through PCI, CTRL.RST and nic_ops. A failed open undoes its
 * steps and gives back what it took.
 *
 * Tested under QEMU 10's `-device igb` (an 82576 model), never on silicon.
 * Where QEMU's model and the datasheet part ways, the comment says so.
 */
#include "driver/igb.h"

#include "driver/intel.h"
#include "driver/platform.h"

/* Registers, with their datasheet sections (chapter 8). */
#define CTRL INTEL_CTRL /* §8.2.1 Device Control (RST: intel.c) */
#define CTRL_SLU (1u << 6)
#define STATUS INTEL_STATUS /* §8.2.2 Device Status */
#define STATUS_LU (1u << 1)
#define STATUS_SPEED_SHIFT 6
#define EECD 0x00010 /* §8.4 EEPROM/Flash Control */
#define EECD_AUTO_RD (1u << 9)
#define MDIC 0x00020 /* §8.2 MDI Control */
#define MDIC_REG_SHIFT 16
#define MDIC_PHY_INTERNAL (1u << 21) /* PHYADD 1: the internal PHY */
#define MDIC_OP_WRITE (1u << 26)
#define MDIC_OP_READ (2u << 26)
#define MDIC_READY (1u << 28)
#define MDIC_ERROR (1u << 30)
#define IMC 0x000D8  /* §8.8 Interrupt Mask Clear; QEMU's igb answers here, not at 0x0150C */
#define EIMC 0x01528 /* §8.8 Extended Interrupt Mask Clear */
#define RCTL 0x00100 /* §8.10.1 Receive Control */
#define RCTL_EN (1u << 1)
#define RCTL_UPE (1u << 3)
#define RCTL_MPE (1u << 4)
#define RCTL_LPE (1u << 5)
#define RCTL_BAM (1u << 15)
#define RCTL_SECRC (1u << 26)
#define TCTL 0x00400 /* §8.12.1 Transmit Control */
#define TCTL_EN (1u << 1)
#define TCTL_PSP (1u << 3)
#define MRQC 0x05818                 /* §8.10 Multiple Receive Queues Command */
#define MRQC_RSS 0x2u                /* Multiple Receive Queues Enable 010b: RSS */
#define RETA(i) (0x05C00 + 4 * (i))  /* §8.10 Redirection Table: 32 x 4 one-byte entries */
#define RSSRK(i) (0x05C80 + 4 * (i)) /* §8.10 RSS Random Key: 10 x 4 bytes */
#define IGB_MAX_QUEUES 8             /* RSS spreads over at most 8 queues (§7.1.2.8) */
#define RAL(i) (0x05400 + 8 * (i))   /* §8.10 Receive Address Low */
#define RAH(i) (0x05404 + 8 * (i))   /* §8.10 Receive Address High */
#define RAH_AV (1u << 31)
#define RDBAL(i) (0x0C000 + 0x40 * (i))  /* §8.10, then RDBAH .. RXDCTL */
#define SRRCTL(i) (0x0C00C + 0x40 * (i)) /* §8.10.2 Split and Replication Receive Control */
#define SRRCTL_DROP_EN (1u << 31)
#define RXDCTL(i) (0x0C028 + 0x40 * (i)) /* §8.10.10 Receive Descriptor Control */
#define RQDPC(i) (0x0C030 + 0x40 * (i))  /* §8.10 Receive Queue Drop Packet Count, RC */
#define TDBAL(i) (0x0E000 + 0x40 * (i))  /* §8.12, then TDBAH .. TXDCTL */
#define TXDCTL(i) (0x0E028 + 0x40 * (i)) /* §8.12.13 Transmit Descriptor Control */
/* Statistics, §8.19, clear on read (the ones both chips have: intel.h).
 * QEMU's igb leaves CRCERRS and MPC as they are when read, but never counts
 * anything in them; it clears GORC and GOTC when their high half is read. */
#define MPC 0x04010

/* The internal PHY's Control register: register 0 of IEEE 802.3 clause
 * 22 (§22.2.4.1), reached through MDIC. */
#define PHY_CTRL 0
#define PHY_CTRL_RESTART_AN (1u << 9)
#define PHY_CTRL_AN_ENABLE (1u << 12)

/* TXDCTL thresholds (§8.12.13): prefetch when fewer than 8 descriptors are
 * on chip and at least 1 is waiting in memory, write 16 back at a time.
 * The 82576's fields are 5 bits wide (the 82599's 7). QEMU ignores them. */
#define TXDCTL_PTHRESH 8
#define TXDCTL_HTHRESH 1
#define TXDCTL_WTHRESH 16

#define RX_RING 512
#define TX_RING 512
#define AUTO_RD_WAIT_US 10000ul

/* The 82576's own registers (the shared ones are named in intel.c),
 * several a line. */
/* clang-format off */
static const struct intel_reg_name names[] = {
    INTEL_REG(EECD), INTEL_REG(MDIC), INTEL_REG(IMC), INTEL_REG(EIMC), INTEL_REG(RCTL),
    INTEL_REG(TCTL), INTEL_REGS(RQDPC, 0x40, 16), INTEL_REG(MPC), { 0, 0, 0, NULL },
};
/* clang-format on */

/* §8.10.1: RCTL.UPE and RCTL.MPE pass every unicast and multicast frame. */
static int igb_set_promisc(struct intel_dev *d, bool on)
{
    if (on)
        intel_set(d, RCTL, RCTL_UPE | RCTL_MPE);
    else
        intel_clear(d, RCTL, RCTL_UPE | RCTL_MPE);
    return 0;
}

static struct nic_link igb_link(const struct intel_dev *d)
{
    static const uint32_t mbps[4] = { 10, 100, 1000, 1000 }; /* STATUS.SPEED, §8.2.2 */
    uint32_t v = intel_read(d, STATUS);
    return (struct nic_link){ (v & STATUS_LU) != 0, mbps[(v >> STATUS_SPEED_SHIFT) & 3] };
}

static const struct intel_hw hw_82576 = {
    .driver = "igb",
    .model = "82576",
    .set_promisc = igb_set_promisc,
    .link = igb_link,
    .rx_base = RDBAL(0),
    .tx_base = TDBAL(0),
    .mrqc = MRQC,
    .mrqc_rss = MRQC_RSS,
    .reta0 = RETA(0),
    .rssrk0 = RSSRK(0),
    .srrctl_base = SRRCTL(0),
    .srrctl_drop_en = SRRCTL_DROP_EN,
    .rx_on = RCTL,
    .rx_on_bit = RCTL_EN,
    .tx_on = TCTL,
    .tx_on_bit = TCTL_EN,
    .ral0 = RAL(0),
    .nral = 16,
    .missed = { MPC, RQDPC(0), 0 },
    .octets_at_stop = true, /* see intel.h */
    .names = names,
};

/* §4.5.1 and §4.5.2: interrupts off, a global reset, interrupts off again. */
static int reset(struct intel_dev *d)
{
    intel_write(d, IMC, 0xFFFFFFFF);
    intel_write(d, EIMC, 0xFFFFFFFF);
    if (intel_global_reset(d, 0))
        return -1;
    intel_write(d, IMC, 0xFFFFFFFF);
    intel_write(d, EIMC, 0xFFFFFFFF);
    return 0;
}

/*
 * §4.5.2: after the reset the 82576 reloads its configuration, the MAC
 * address among it, from the NVM and then sets EECD.AUTO_RD (§8.4).
 * QEMU's igb never sets AUTO_RD, but has RAL(0)/RAH(0) ready at once with
 * RAH.AV set; a valid address is what the wait is for, so after 10 ms
 * without AUTO_RD an address marked valid is taken.
 */
static int wait_nvm(struct intel_dev *d)
{
    uint64_t start = now_ns();
    while (!(intel_read(d, EECD) & EECD_AUTO_RD)) {
        if (now_ns() - start >= AUTO_RD_WAIT_US * 1000) {
            if (intel_read(d, RAH(0)) & RAH_AV)
                return 0;
            kprintf("igb %s: NVM auto-read (EECD.AUTO_RD): EECD is 0x%08x and RAH(0) not valid "
                    "after %lu ms; the NVM may be blank or damaged, check it with the vendor's "
                    "tool\n",
                    d->nic.name, intel_read(d, EECD), AUTO_RD_WAIT_US / 1000);
            return -1;
        }
        delay_us(1000);
    }
    return 0;
}

/* §8.2, MDIC: one write to a register of the internal PHY. */
static int phy_write(struct intel_dev *d, uint32_t reg, uint16_t value)
{
    intel_write(d, MDIC, MDIC_OP_WRITE | MDIC_PHY_INTERNAL | reg << MDIC_REG_SHIFT | value);
    if (intel_wait(d, MDIC, MDIC_READY, MDIC_READY, INTEL_MDIC_US, "PHY register write (MDIC.R)",
                   "the internal PHY does not answer; reset the device"))
        return -1;
    if (intel_read(d, MDIC) & MDIC_ERROR) {
        kprintf("igb %s: PHY register %u write: MDIC.E set; the PHY refused it\n", d->nic.name,
                reg);
        return -1;
    }
    return 0;
}

static int phy_read(struct intel_dev *d, uint32_t reg, uint16_t *value)
{
    intel_write(d, MDIC, MDIC_OP_READ | MDIC_PHY_INTERNAL | reg << MDIC_REG_SHIFT);
    if (intel_wait(d, MDIC, MDIC_READY, MDIC_READY, INTEL_MDIC_US, "PHY register read (MDIC.R)",
                   "the internal PHY does not answer; reset the device"))
        return -1;
    uint32_t v = intel_read(d, MDIC);
    if (v & MDIC_ERROR) {
        kprintf("igb %s: PHY register %u read: MDIC.E set; the PHY refused it\n", d->nic.name, reg);
        return -1;
    }
    *value = (uint16_t)v;
    return 0;
}

/*
 * §4.5.4, copper through the internal PHY: CTRL.SLU lets the MAC take the
 * link the PHY reports, with the speed and duplex the PHY negotiated
 * (CTRL.FRCSPD and CTRL.FRCDPX stay 0 from the reset). The PHY is told to
 * negotiate anew: after CTRL.RST QEMU's igb brings the link up only when
 * auto-negotiation is restarted in the PHY's control register.
 */
static int link_setup(struct intel_dev *d)
{
    uint16_t ctrl;
    intel_set(d, CTRL, CTRL_SLU);
    if (phy_read(d, PHY_CTRL, &ctrl))
        return -1;
    return phy_write(d, PHY_CTRL, ctrl | PHY_CTRL_AN_ENABLE | PHY_CTRL_RESTART_AN);
}

/* §4.5.9: RSS over the queues when there are several, CRC stripped,
 * broadcast accepted, long packets off: the MAC drops frames over 1518
 * bytes (1522 tagged) and counts them in ROC, so every frame fits one of
 * intel.c's 2 KiB buffers. (QEMU's igb drops them too, but counts them
 * nowhere.) */
static int rx_init(struct intel_dev *d)
{
    intel_write(d, RCTL, 0); /* off while being set up; LPE, SBP, loopback all 0 */
    /* Queue 0 is enabled from reset (§8.10.10): off before its ring changes */
    intel_clear(d, RXDCTL(0), INTEL_DCTL_ENABLE);
    if (intel_wait(d, RXDCTL(0), INTEL_DCTL_ENABLE, 0, INTEL_QUEUE_ON_OFF_US,
                   "disabling receive queue 0", "the queue did not stop; reset the device"))
        return -1;
    intel_write(d, RCTL, RCTL_BAM | RCTL_SECRC);
    if (d->nq > 1)
        intel_rss_init(d);
    return 0; /* receive goes on after the queues: rx_on */
}

/* §4.5.9: receive on last, its queues ready. */
static void rx_on(struct intel_dev *d)
{
    intel_set(d, RCTL, RCTL_EN);
}

/* §4.5.10: transmit on, short frames padded, the FCS added per descriptor
 * (DCMD.IFCS, intel.c); each queue's own set-up is intel.c's. */
static int tx_init(struct intel_dev *d)
{
    /* Queue 0 is enabled from reset (§8.12.13): off before its ring changes */
    intel_clear(d, TXDCTL(0), INTEL_DCTL_ENABLE);
    if (intel_wait(d, TXDCTL(0), INTEL_DCTL_ENABLE, 0, INTEL_QUEUE_ON_OFF_US,
                   "disabling transmit queue 0", "the queue did not stop; reset the device"))
        return -1;
    intel_set(d, TCTL, TCTL_EN | TCTL_PSP); /* collision fields kept from the reset */
    return 0;
}

bool igb_supports(uint16_t vendor, uint16_t device)
{
    return vendor == 0x8086 && device == 0x10C9; /* 82576, copper */
}

/* §4.5 in order; on a failure the steps taken are undone (the queues'
 * by intel_queues_init itself) and d given back. */
static struct nic *open_at(struct pci_dev *pci, uint64_t bar, const void *queues_arg)
{
    int queues = *(const int *)queues_arg;
    struct intel_dev *d = cpu_alloc(sizeof(*d), 64);
    if (!d) {
        char addr[PCI_ADDR_LEN];
        kprintf("igb %s: no memory for the driver's state\n", pci_addr(addr, pci));
        return NULL;
    }
    intel_dev_init(d, &hw_82576, pci, bar, NULL, queues > IGB_MAX_QUEUES ? IGB_MAX_QUEUES : queues);

    if (reset(d) || wait_nvm(d))
        goto fail;
    intel_read_mac(d);
    if (link_setup(d))
        goto fail;
    intel_clear_stats(d); /* §4.5.8: read once to clear them */

    uint32_t thresholds = TXDCTL_PTHRESH | TXDCTL_HTHRESH << 8 | TXDCTL_WTHRESH << 16;
    /* receive and transmit go on only once their queues are (rx_on, and
     * TCTL.EN after tx_init's last wait): a failure before leaves them off */
    if (rx_init(d) || tx_init(d) || intel_queues_init(d, RX_RING, TX_RING, thresholds, rx_on))
        goto fail;
    return &d->nic; /* the link is waited for by nic_probe_all, all ports together */
fail:
    cpu_free(d, sizeof(*d));
    return NULL;
}

struct nic *igb_open(struct pci_dev *pci, int queues)
{
    return intel_open_pci(pci, "igb", open_at, &queues);
}
