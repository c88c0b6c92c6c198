/*
 * driver/ixgbe_sfp.c - the SFP+ module of an 82599 with SFP+ cages (X520).
 *
 * The 82599 datasheet rev 3.3 gives the registers (I2CCTL, ESDP, EERD,
 * CORECTL, AUTOC, SWSM and SW_FW_SYNC, §8.2.3); the steps an X520 needs are
 * those the Linux ixgbe driver and DPDK's PMD take (docs/ixgbe-bring-up.md,
 * section 3), written here from that description:
 *
 *   1. read the module's serial ID (SFF-8472, I2C address 0xA0) over the
 *      port's two-wire bus, bit by bit through I2CCTL, holding the port's
 *      PHY semaphore in SW_FW_SYNC (the bus is shared with firmware);
 *   2. take its kind from the compliance codes: 10GBASE-SR or LR optics,
 *      a passive or a limiting active direct-attach cable;
 *   3. write the NVM's init sequence for that kind into CORECTL, holding
 *      the MAC CSR semaphore;
 *   4. AUTOC.LMS = 10 GbE serial (SFI), with auto-negotiation restarted;
 *   5. the laser on (SDP3 low) and, for dual-rate optics, rate select high
 *      (SDP5) for 10 Gb/s.
 *
 * Tested against the 82599 model's module, NVM and bus, never on an X520.
 * Not done: 1 GbE modules and the multispeed fall-back to 1 Gb/s, module
 * hot-plug (SDP2), and the vendor check Linux makes (any vendor is taken).
 */
#include "driver/ixgbe_sfp.h"

#define STATUS 0x00008 /* §8.2.3.1.2 Device Status */
#define STATUS_LAN_ID(v) (((v) >> 2) & 1)
#define ESDP 0x00020        /* §8.2.3.1.4 Extended SDP Control */
#define ESDP_SDP3 (1u << 3) /* X520: the module's TX_DISABLE, 1 = laser off */
#define ESDP_SDP5 (1u << 5) /* X520: rate select, 1 = 10 Gb/s */
#define ESDP_SDP3_IODIR (1u << 11)
#define ESDP_SDP5_IODIR (1u << 13)
#define I2CCTL 0x00028 /* I2C Control: the cage's two-wire bus */
#define I2CCTL_CLK_IN (1u << 0)
#define I2CCTL_CLK_OUT (1u << 1)
#define I2CCTL_DATA_IN (1u << 2)
#define I2CCTL_DATA_OUT (1u << 3)
#define EERD 0x10014 /* §8.2.3.2.2 EEPROM Read */
#define EERD_START (1u << 0)
#define EERD_DONE (1u << 1)
#define SWSM 0x10140 /* §8.2.3.4.9 Software Semaphore */
#define SWSM_SMBI (1u << 0)
#define SWSM_SWESMBI (1u << 1)
#define SW_FW_SYNC 0x10160 /* §8.2.3.4.11 Software-Firmware Synchronization */
#define SW_FW_SYNC_PHY_SM(lan) (2u << (lan))
#define SW_FW_SYNC_MAC_CSR_SM (1u << 3)
#define SW_FW_SYNC_FW_SHIFT 5 /* the firmware's bits, 9:5, mirror the software's */
#define CORECTL 0x14F00       /* Core Analog Configuration */
#define AUTOC 0x042A0         /* §8.2.3.22.19 Auto Negotiation Control */
#define AUTOC_RESTART_AN (1u << 12)
#define AUTOC_LMS_MASK (7u << 13)
#define AUTOC_LMS_10G_SERIAL (3u << 13) /* 011b */

#define NVM_SFP_LIST 0x2B /* the NVM word pointing at the SFP+ init sequences */
#define NVM_END 0xFFFF

#define SFP_ADDR 0xA0 /* the serial ID's I2C address (write; 0xA1 read) */

/* --- step 1: the two-wire bus ----------------------------------------------- */

/* I2C standard mode: SCL at least 4.7 us low and 4 us high; 5 us each. */
#define I2C_HALF_US 5

#define LASER_SETTLE_US 100000 /* after TX_DISABLE goes low, before the link is looked at */

static void i2c_drive(struct intel_dev *d, bool scl, bool sda)
{
    intel_write(d, I2CCTL, (scl ? I2CCTL_CLK_OUT : 0) | (sda ? I2CCTL_DATA_OUT : 0));
    delay_us(I2C_HALF_US);
}

/* SCL released high; a module may hold it low a while (clock stretching). */
static int i2c_clock_high(struct intel_dev *d, bool sda)
{
    i2c_drive(d, true, sda);
    for (int i = 0; i < 100; i++, delay_us(I2C_HALF_US))
        if (intel_read(d, I2CCTL) & I2CCTL_CLK_IN)
            return 0;
    return -1;
}

static void i2c_start(struct intel_dev *d)
{
    i2c_drive(d, false, true);
    i2c_clock_high(d, true);
    i2c_drive(d, true, false); /* SDA falls while SCL is high */
    i2c_drive(d, false, false);
}

static void i2c_stop(struct intel_dev *d)
{
    i2c_drive(d, false, false);
    i2c_clock_high(d, false);
    i2c_drive(d, true, true); /* SDA rises while SCL is high */
}

/* One bit out (the driver's) or in (the module's: sda released). */
static int i2c_bit(struct intel_dev *d, bool sda, bool *in)
{
    i2c_drive(d, false, sda);
    if (i2c_clock_high(d, sda))
        return -1;
    *in = (intel_read(d, I2CCTL) & I2CCTL_DATA_IN) != 0;
    i2c_drive(d, false, sda);
    return 0;
}

/* A byte out, MSB first; 0 if the module acknowledged it. */
static int i2c_write_byte(struct intel_dev *d, uint8_t b)
{
    bool in;
    for (int k = 7; k >= 0; k--)
        if (i2c_bit(d, (b >> k) & 1, &in))
            return -1;
    if (i2c_bit(d, true, &in)) /* the ninth clock: the module pulls SDA low */
        return -1;
    return in ? -1 : 0;
}

static int i2c_read_byte(struct intel_dev *d, bool ack, uint8_t *b)
{
    bool in;
    *b = 0;
    for (int k = 0; k < 8; k++) {
        if (i2c_bit(d, true, &in))
            return -1;
        *b = (uint8_t)(*b << 1 | in);
    }
    return i2c_bit(d, !ack, &in); /* ACK (low) for more, NACK after the last */
}

/* Bytes [off, off + n) of the serial ID: one random, then sequential read. */
static int sfp_read(struct intel_dev *d, uint8_t off, uint8_t *buf, int n)
{
    int rc = -1;
    i2c_start(d);
    if (i2c_write_byte(d, SFP_ADDR) || i2c_write_byte(d, off))
        goto out;
    i2c_start(d); /* repeated START, then the read address */
    if (i2c_write_byte(d, SFP_ADDR | 1))
        goto out;
    for (int i = 0; i < n; i++)
        if (i2c_read_byte(d, i + 1 < n, &buf[i]))
            goto out;
    rc = 0;
out:
    i2c_stop(d);
    return rc;
}

/* --- the semaphores shared with firmware (§8.2.3.4.9, §8.2.3.4.11) ------- */

/* SWSM: reading SMBI as 0 takes it; then SWESMBI, read back as 1. Held
 * for microseconds at a time, so 5 ms without it means a holder that is
 * gone (an earlier driver stopped mid-way): it is taken back once. */
static bool swsm_take(struct intel_dev *d)
{
    for (int i = 0; i < 101; i++, delay_us(50)) {
        if (i == 100)
            intel_write(d, SWSM, 0);
        if (intel_read(d, SWSM) & SWSM_SMBI)
            continue;
        intel_write(d, SWSM, SWSM_SMBI | SWSM_SWESMBI);
        if (intel_read(d, SWSM) & SWSM_SWESMBI)
            return true;
        intel_write(d, SWSM, 0);
    }
    return false;
}

/* The resources in mask (SW_FW_SYNC's software bits), when neither software
 * nor firmware holds them; bounded at 200 ms. */
static int swfw_take(struct intel_dev *d, uint32_t mask, const char *what)
{
    for (uint64_t start = now_ns(); now_ns() - start < 200000000ull; delay_us(1000)) {
        if (!swsm_take(d))
            continue;
        uint32_t sync = intel_read(d, SW_FW_SYNC);
        bool free = !(sync & (mask | mask << SW_FW_SYNC_FW_SHIFT));
        if (free)
            intel_write(d, SW_FW_SYNC, sync | mask);
        intel_write(d, SWSM, 0);
        if (free)
            return 0;
    }
    kprintf("ixgbe %s: %s: SW_FW_SYNC is 0x%08x after 200 ms, the firmware holds it; "
            "reset the card (power cycle) if this persists\n",
            d->nic.name, what, intel_read(d, SW_FW_SYNC));
    return -1;
}

static void swfw_give(struct intel_dev *d, uint32_t mask)
{
    bool held = swsm_take(d); /* if not, clear the bit regardless: it is ours */
    intel_write(d, SW_FW_SYNC, intel_read(d, SW_FW_SYNC) & ~mask);
    if (held)
        intel_write(d, SWSM, 0);
}

/* --- step 2: what the module is ------------------------------------------- */

struct sfp_module {
    const char *kind;
    int nvm_type;   /* its init sequence's id in the NVM list: 3 DA, 5 SR/LR (+1 on port 1) */
    bool laser;     /* optics: SDP3 drives its TX_DISABLE */
    bool dual_rate; /* 10G and 1G optics: SDP5 selects the rate */
};

/* SFF-8472 serial ID: byte 0 identifier, 3 the 10G Ethernet compliance
 * codes, 6 the 1G codes, 8 the SFP+ cable technology, 60 an active cable's
 * compliance (bit 2: limiting). */
static int sfp_kind(const uint8_t *id, int lan, struct sfp_module *m)
{
    *m = (struct sfp_module){ NULL, 0, false, false };
    if (id[0] != 0x03)
        return -1;
    if (id[8] & 0x04) {
        *m = (struct sfp_module){ "passive direct-attach", 3 + lan, false, false };
    } else if ((id[8] & 0x08) && (id[60] & 0x04)) {
        *m = (struct sfp_module){ "limiting active direct-attach", 5 + lan, false, false };
    } else if (id[3] & 0x30) {
        bool dual = ((id[3] & 0x10) && (id[6] & 0x01)) || ((id[3] & 0x20) && (id[6] & 0x02));
        *m = (struct sfp_module){ (id[3] & 0x10) ? "10GBASE-SR" : "10GBASE-LR", 5 + lan, true,
                                  dual };
    } else {
        return -1;
    }
    return 0;
}

/* A printable copy of a space-padded serial ID field. */
static void sfp_text(char *out, const uint8_t *in, int n)
{
    int len = n;
    while (len > 0 && (in[len - 1] == ' ' || in[len - 1] == 0))
        len--;
    for (int i = 0; i < len; i++)
        out[i] = (in[i] >= 0x20 && in[i] < 0x7F) ? (char)in[i] : '?';
    out[len] = 0;
}

static int sfp_identify(struct intel_dev *d, int lan, struct sfp_module *m)
{
    uint8_t id[64];
    char vendor[17], part[17];
    if (swfw_take(d, SW_FW_SYNC_PHY_SM(lan), "reading the SFP+ module (SW_FW_SYNC PHY)"))
        return -1;
    int rc = sfp_read(d, 0, id, sizeof(id));
    swfw_give(d, SW_FW_SYNC_PHY_SM(lan));
    if (rc) {
        kprintf("ixgbe %s: no SFP+ module answers in the cage (I2C address 0xA0); seat a "
                "10 GbE SR or LR module or a direct-attach cable\n",
                d->nic.name);
        return -1;
    }
    sfp_text(vendor, id + 20, 16);
    sfp_text(part, id + 40, 16);
    if (sfp_kind(id, lan, m)) {
        kprintf("ixgbe %s: SFP+ module %s %s is not one ixmetal drives at 10 Gb/s (identifier "
                "0x%02x, 10G codes 0x%02x, 1G codes 0x%02x, cable 0x%02x); use 10GBASE-SR or "
                "LR optics or a direct-attach cable\n",
                d->nic.name, vendor, part, id[0], id[3], id[6], id[8]);
        return -1;
    }
    kprintf("ixgbe %s: SFP+ module: %s%s, %s %s\n", d->nic.name, m->kind,
            m->dual_rate ? " (dual rate)" : "", vendor, part);
    return 0;
}

/* --- step 3: the NVM's init sequence into CORECTL --------------------------- */

static int nvm_read(struct intel_dev *d, uint32_t addr, uint16_t *v)
{
    intel_write(d, EERD, addr << 2 | EERD_START);
    for (int i = 0; i < 1000; i++, delay_us(5)) {
        uint32_t r = intel_read(d, EERD);
        if (r & EERD_DONE) {
            *v = (uint16_t)(r >> 16);
            return 0;
        }
    }
    kprintf("ixgbe %s: reading NVM word 0x%04x (EERD.DONE) did not finish within 5 ms; check "
            "the card's NVM with the vendor's tool\n",
            d->nic.name, addr);
    return -1;
}

/* Where the NVM keeps this module's sequence: a list after word 0x2B's
 * pointer (one header word first) of (type, data offset) pairs up to 0xFFFF. */
static int nvm_sequence(struct intel_dev *d, int type, uint16_t *data)
{
    uint16_t list, id, at;
    if (nvm_read(d, NVM_SFP_LIST, &list))
        return -1;
    if (list == 0 || list == NVM_END)
        goto none;
    for (at = list + 1; at < list + 1 + 2 * 64; at += 2) {
        if (nvm_read(d, at, &id))
            return -1;
        if (id == NVM_END)
            break;
        if (id != type)
            continue;
        if (nvm_read(d, at + 1, data))
            return -1;
        if (*data != 0 && *data != NVM_END)
            return 0;
        break;
    }
none:
    kprintf("ixgbe %s: the NVM has no SFP+ init sequence for module type %d (word 0x2B = "
            "0x%04x); the card's NVM may be for other media\n",
            d->nic.name, type, list);
    return -1;
}

static int sfp_init_sequence(struct intel_dev *d, int type)
{
    uint16_t at, v;
    int n = 0, rc = -1;
    if (swfw_take(d, SW_FW_SYNC_MAC_CSR_SM, "writing the SFP+ init sequence (SW_FW_SYNC MAC)"))
        return -1;
    if (nvm_sequence(d, type, &at))
        goto out;
    for (at++; n < 256; at++, n++) {
        if (nvm_read(d, at, &v))
            goto out;
        if (v == NVM_END)
            break;
        intel_write(d, CORECTL, v);
        intel_read(d, STATUS); /* each write reaches the device before the next */
    }
    rc = n < 256 ? 0 : -1;
out:
    swfw_give(d, SW_FW_SYNC_MAC_CSR_SM);
    return rc;
}

/* --- steps 4 and 5 ---------------------------------------------------------- */

int ixgbe_sfp_setup(struct intel_dev *d)
{
    struct sfp_module m;
    int lan = (int)STATUS_LAN_ID(intel_read(d, STATUS));
    if (sfp_identify(d, lan, &m) || sfp_init_sequence(d, m.nvm_type))
        return -1;
    uint32_t autoc = intel_read(d, AUTOC) & ~AUTOC_LMS_MASK;
    intel_write(d, AUTOC, autoc | AUTOC_LMS_10G_SERIAL | AUTOC_RESTART_AN);
    uint32_t esdp = intel_read(d, ESDP);
    if (m.laser) /* TX_DISABLE low: the laser on, then 100 ms for it to settle */
        esdp = (esdp | ESDP_SDP3_IODIR) & ~ESDP_SDP3;
    if (m.dual_rate) /* rate select high: 10 Gb/s */
        esdp |= ESDP_SDP5_IODIR | ESDP_SDP5;
    intel_write(d, ESDP, esdp);
    if (m.laser)
        delay_us(LASER_SETTLE_US);
    return 0;
}
