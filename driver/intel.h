/*
 * driver/intel.h - what Intel's 82599 (driver/ixgbe.c) and 82576
 * (driver/igb.c) share: the register door with its trace and the names of
 * the registers both have, the open through PCI and the global reset, the
 * advanced receive and transmit descriptors, the queues built on them
 * (given back when an open fails), and nic_ops (driver/intel.c).
 *
 * The two chips use one descriptor format (82599 datasheet rev 3.3 §7.1.6
 * and §7.2.3.2.4; 82576 datasheet §7.1.5 and §7.2.2.3) and one layout of
 * per-queue registers (base, length, head, tail, control at the same
 * distances from each other); each driver says where its queues' registers
 * start and which few bits differ (struct intel_hw).
 */
#ifndef DRIVER_INTEL_H
#define DRIVER_INTEL_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/nic.h"
#include "driver/platform.h"

/* --- what differs between the chips --------------------------------------- */

/* A register name for trace=regs: count registers stride bytes apart from
 * base, shown as NAME(i); count 1 shows NAME alone. */
struct intel_reg_name {
    uint32_t base, stride, count;
    const char *name;
};
/* An entry named as the driver's own macro for the register: INTEL_REG(EEC);
 * INTEL_REGS(MPC, 4, 8) for MPC(0) .. MPC(7), 4 bytes apart. */
#define INTEL_REG(r)                                                                               \
    {                                                                                              \
        r, 4, 1, #r                                                                                \
    }
#define INTEL_REGS(r, stride, count)                                                               \
    {                                                                                              \
        r(0), stride, count, #r                                                                    \
    }

struct intel_dev;

struct intel_hw {
    const char *driver; /* "ixgbe", "igb" */
    const char *model;  /* when the driver's table names none */
    /* nic_ops set_promisc and link (intel_ops calls them): the filter and
     * link-status registers differ */
    int (*set_promisc)(struct intel_dev *d, bool on);
    struct nic_link (*link)(const struct intel_dev *d);
    /* nic_ops register_test, where the chip has one (the 82599's) */
    int (*register_test)(struct nic *nic, char *why, int len);
    /* Queue n's registers: RDBAL(n) = rx_base + n * INTEL_Q_STRIDE,
     * TDBAL(n) = tx_base + n * INTEL_Q_STRIDE; the others at the INTEL_Q_*
     * distances from it. */
    uint32_t rx_base, tx_base;
    uint32_t srrctl_base;      /* SRRCTL(n) = srrctl_base + n * INTEL_Q_STRIDE */
    uint32_t srrctl_drop_en;   /* the SRRCTL.DROP_EN bit: 28 on the 82599, 31 on the 82576 */
    uint32_t rx_on, rx_on_bit; /* receive on: RXCTRL.RXEN (82599), RCTL.EN (82576) */
    uint32_t tx_on, tx_on_bit; /* transmit on: DMATXCTL.TE (82599), TCTL.EN (82576) */
    /* RAL(0), the MAC's low 4 bytes, with RAH(0) 4 bytes on; nral such
     * pairs, 8 bytes apart (82599 128, §8.2.3.7.8; 82576 16, §8.10) */
    uint32_t ral0, nral;
    /* Clear-on-read counters of frames dropped for want of room: the packet
     * buffer full (MPC) or queue 0 without a free descriptor (82599 QPRDC,
     * 82576 RQDPC); 0 ends the list. */
    uint32_t missed[10];
    /* The octet counters (GORC, GOTC) are read once, at stop, not once a
     * second: where reading the high half clears both halves, bytes that
     * arrive between the two reads are lost (QEMU's igb does this, found by
     * make soak), and a 64-bit counter needs no reading against wrap-around
     * (the 82576's high half is a full 32 bits, as Linux's igb and QEMU read
     * it). The 82599's are 36 bits, 55 s at 10 Gb/s: read once a second. */
    bool octets_at_stop;
    /* RSS: MRQC and the value of its RSS-only mode, the redirection
     * table's first register (RETA(0)) and the key's (RSSRK(0)). */
    uint32_t mrqc, mrqc_rss, reta0, rssrk0;
    /* The chip's own registers' names (trace=regs); those at the offsets
     * above and those both chips have (intel.c) are named there. Ends with
     * a NULL name. */
    const struct intel_reg_name *names;
};

/* Registers at the same offsets, with the same bits used, on both chips. */
#define INTEL_CTRL 0x00000 /* 82599 §8.2.3.1.1, 82576 §8.2.1: Device Control */
#define INTEL_CTRL_RST (1u << 26)
#define INTEL_STATUS 0x00008 /* 82599 §8.2.3.1.2, 82576 §8.2.2: Device Status */

/* Statistics registers at the same offsets on both chips (82599 §8.2.3.23,
 * 82576 §8.19), all clear on read; the octet counters' low half is read
 * before the high half. */
#define INTEL_CRCERRS 0x04000
#define INTEL_GPRC 0x04074
#define INTEL_GPTC 0x04080
#define INTEL_GORCL 0x04088
#define INTEL_GORCH 0x0408C
#define INTEL_GOTCL 0x04090
#define INTEL_GOTCH 0x04094
#define INTEL_RUC 0x040A4
#define INTEL_ROC 0x040AC

/* Queue n's registers are n * 0x40 from queue 0's on both chips (the
 * 82599's first 64 receive queues, §8.2.3.8; the 82576's 16, §8.10, §8.12). */
#define INTEL_Q_STRIDE 0x40u

/* Distances from a queue's RDBAL/TDBAL (82599 §8.2.3.8, §8.2.3.9; 82576 §8.10, §8.12). */
#define INTEL_Q_BAL 0x00
#define INTEL_Q_BAH 0x04
#define INTEL_Q_LEN 0x08
#define INTEL_Q_HEAD 0x10
#define INTEL_Q_TAIL 0x18
#define INTEL_Q_DCTL 0x28                /* RXDCTL / TXDCTL */
#define INTEL_DCTL_ENABLE (1u << 25)     /* RXDCTL.ENABLE, TXDCTL.ENABLE: bit 25 on both */
#define INTEL_SRRCTL_BSIZEPKT_2K 2       /* BSIZEPACKET, in 1 KiB units */
#define INTEL_SRRCTL_DESC_ADV (1u << 25) /* DESCTYPE 001b: advanced, one buffer */

/* --- the register door ---------------------------------------------------- */

struct intel_dev;

/* Set by trace=regs: every register access below is printed by name. */
extern bool intel_trace_regs;
/* nic_test_rx_outside: where the next receive queue 0 opened points its
 * descriptor 0 (0: nowhere); taken by that queue. */
extern uint64_t intel_test_rx_pa;
void intel_trace(const struct intel_dev *d, char rw, uint32_t off, uint32_t v);

/* --- advanced descriptors ------------------------------------------------- */

/* 82599 §7.1.6.1/§7.1.6.2, 82576 §7.1.5.1/§7.1.5.2: what the driver writes
 * (read format) and what the device writes back in its place. */
union intel_rx_desc {
    struct {
        uint64_t pkt_addr;
        uint64_t hdr_addr; /* 0: no header split */
    } read;
    struct {
        uint32_t info, rss;
        uint32_t status_error;
        uint16_t length;
        uint16_t vlan;
    } wb;
};
_Static_assert(sizeof(union intel_rx_desc) == 16, "descriptors are 16 bytes");
#define INTEL_RXD_DD (1u << 0)
#define INTEL_RXD_EOP (1u << 1)

/* The write-back's second qword (status and errors, length, VLAN) in one
 * load, ordered before every later load: the device wrote the rest of the
 * descriptor and the buffer before it set DD there. On x86 this is a plain
 * mov; the acquire tells the compiler (and the host build's sanitizers,
 * where the device is another thread) the same. */
static inline uint64_t intel_rx_wb_status(volatile union intel_rx_desc *d)
{
    return __atomic_load_n((volatile uint64_t *)&d->wb.status_error, __ATOMIC_ACQUIRE);
}
#define INTEL_RXD_LEN(wb) ((uint32_t)((wb) >> 32) & 0xFFFF)

/* 82599 §7.2.3.2.4, 82576 §7.2.2.3: an advanced data descriptor. */
union intel_tx_desc {
    struct {
        uint64_t buf_addr;
        uint32_t cmd_type_len;
        uint32_t olinfo_status;
    } read;
    struct {
        uint64_t reserved;
        uint32_t reserved2;
        uint32_t status;
    } wb;
};
_Static_assert(sizeof(union intel_tx_desc) == 16, "descriptors are 16 bytes");
#define INTEL_TXD_DTYP_DATA (3u << 20) /* DTYP 0011b: advanced data */
#define INTEL_TXD_EOP (1u << 24)       /* DCMD.EOP: last descriptor of the frame */
#define INTEL_TXD_IFCS (1u << 25)      /* DCMD.IFCS: the MAC appends the FCS */
#define INTEL_TXD_RS (1u << 27)        /* DCMD.RS: write DD back when done */
#define INTEL_TXD_DEXT (1u << 29)      /* DCMD.DEXT: advanced format */
#define INTEL_TXD_PAYLEN_SHIFT 14      /* olinfo PAYLEN: the frame's length */
#define INTEL_TXD_STAT_DD (1u << 0)

static inline uint32_t intel_tx_wb_status(volatile union intel_tx_desc *d)
{
    return __atomic_load_n(&d->wb.status, __ATOMIC_ACQUIRE);
}

/* --- queues --------------------------------------------------------------- */

struct intel_dev;

struct intel_rxq {
    volatile union intel_rx_desc *ring;
    struct intel_dev *dev; /* the port: for what is said of the queue */
    struct pkt_buf **bufs; /* bufs[i]: the buffer descriptor i points at */
    struct mempool *pool;
    uint64_t tail;       /* address of RDT */
    uint16_t size, next; /* next: the first descriptor not yet seen done */
    bool split;          /* inside a frame spread over buffers: dropping to its end */
    uint64_t packets, bytes, dropped;
    uint64_t bad_wb;     /* write-backs no device should make (intel.c, rx_bad_wb) */
    uint64_t said_ns[2]; /* when each kind of bad write-back was last said */
    bool test_armed;     /* descriptor test_slot points outside (intel_test_rx_pa) */
    uint16_t test_slot;
} __attribute__((aligned(64))); /* a cache line of its own: one core writes it */

struct intel_txq {
    volatile union intel_tx_desc *ring;
    struct pkt_buf **bufs;
    uint64_t tail;              /* address of TDT */
    uint16_t size, next, clean; /* [clean, next): handed to the device, not yet freed */
    uint64_t packets, bytes;
    uint64_t dropped;  /* handed over while the link was seen down, or stuck at a reset */
    uint64_t resets;   /* times the queue was reset after a stall */
    bool reset_wanted; /* set by the reporting core (intel_tx_watch), cleared at the reset */
} __attribute__((aligned(64)));

/* What the reporting core last saw of a transmit queue's head. */
struct intel_txwatch {
    uint32_t head;
    uint64_t since; /* when the head was last seen moving, or the ring empty */
};

/* One port of either chip: the part of the driver state intel.c knows.
 * Queue i's rings and counters are touched only by the core that polls
 * queue i; the statistics registers only by the core that reports. */
struct intel_dev {
    struct nic nic;
    const struct intel_hw *hw;
    uint64_t bar; /* BAR0: memory-mapped registers */
    int nq;       /* queue pairs in use: nic.rx_queues == nic.tx_queues */
    bool stopped;
    struct intel_rxq rxq[NIC_MAX_QUEUES];
    struct intel_txq txq[NIC_MAX_QUEUES];
    uint64_t tx_unsent; /* frames taken for sending but still queued at stop */
    struct intel_txwatch watch[NIC_MAX_QUEUES]; /* the reporting core's alone */
    /* The NIC's clear-on-read counters, summed since open. */
    uint64_t gprc, gptc, gorc, gotc, missed, errors;
};

static inline uint32_t intel_read(const struct intel_dev *d, uint32_t off)
{
    uint32_t v = mmio_read32(d->bar + off);
    if (__builtin_expect(intel_trace_regs, 0))
        intel_trace(d, 'R', off, v);
    return v;
}

static inline void intel_write(const struct intel_dev *d, uint32_t off, uint32_t v)
{
    if (__builtin_expect(intel_trace_regs, 0))
        intel_trace(d, 'W', off, v);
    mmio_write32(d->bar + off, v);
}

static inline void intel_set(const struct intel_dev *d, uint32_t off, uint32_t bits)
{
    intel_write(d, off, intel_read(d, off) | bits);
}

static inline void intel_clear(const struct intel_dev *d, uint32_t off, uint32_t bits)
{
    intel_write(d, off, intel_read(d, off) & ~bits);
}

/* How long intel_wait waits, in microseconds, for what both chips do: far
 * more than the device takes (the datasheets give no bound for most),
 * short enough that a dead device is said within a second. */
#define INTEL_RESET_US 1000000        /* CTRL.RST to clear; the EEPROM and DMA init */
#define INTEL_QUEUE_ON_OFF_US 1000000 /* a queue's [RT]XDCTL.ENABLE to read back, at bring-up */
#define INTEL_QUEUE_STOP_US 10000     /* the same on a running queue: a forwarding core waits */
#define INTEL_TX_DRAIN_US 100000      /* at stop, the transmit head to reach the tail */
#define INTEL_MDIC_US 10000           /* a PHY register read or write (82576 MDIC.R) */

/* Polls register off until (value & mask) == want, for at most timeout_us.
 * On time-out says "<driver> <pci>: <step>: <register> did not ... ; <hint>"
 * and returns -1. */
int intel_wait(const struct intel_dev *d, uint32_t off, uint32_t mask, uint32_t want,
               uint64_t timeout_us, const char *step, const char *hint);

/* The printable name of the register at off ("RXDCTL(0)"), into buf. */
const char *intel_reg_name(const struct intel_dev *d, uint32_t off, char *buf, int len);

/*
 * Queue q's bring-up, in the order 82599 §4.6.7 / §4.6.8 and 82576 §4.5.9 /
 * §4.5.10 give:
 *   intel_rx_setup   ring and buffers in memory, SRRCTL, base, length
 *                    (the queue still disabled; head and tail 0 from reset)
 *   intel_rx_start   RXDCTL.ENABLE, wait for it to read 1, then RDT: the
 *                    ring handed over, all but one descriptor
 *   intel_tx_setup   ring in memory, base, length, TXDCTL thresholds
 *                    (given by the caller)
 *   intel_tx_start   TXDCTL.ENABLE, wait for it to read 1
 * Each returns 0, or -1 after saying what failed.
 */
int intel_rx_setup(struct intel_dev *d, int q, uint16_t size, struct mempool *pool);
int intel_rx_start(struct intel_dev *d, int q);
int intel_tx_setup(struct intel_dev *d, int q, uint16_t size, uint32_t txdctl_thresholds);
int intel_tx_start(struct intel_dev *d, int q);

/* Sets up and starts queues 0..d->nq-1, each with a pool of its own
 * (2 * rx_ring + 2 * tx_ring buffers, nic.pool[q]); rx_on() is called after
 * the receive queues are enabled, before the transmit queues are. On
 * failure, receive, transmit and every queue it touched are turned off and
 * the rings, arrays and pools it took given back (a queue that does not
 * read disabled keeps them, said: the device may still reach them). */
int intel_queues_init(struct intel_dev *d, uint16_t rx_ring, uint16_t tx_ring,
                      uint32_t txdctl_thresholds, void (*rx_on)(struct intel_dev *d));

/* The data path: nic_ops rx_batch and tx_batch for both chips. */
uint32_t intel_rx_batch(struct nic *nic, uint16_t queue, struct pkt_buf **bufs, uint32_t n);
uint32_t intel_tx_batch(struct nic *nic, uint16_t queue, struct pkt_buf **bufs, uint32_t n);

/* nic_ops tx_watch for both chips: a queue whose TDH has not moved for 1 s
 * while TDT is ahead of it and the link is up is said ("tx queue 0 of
 * 0000:03:00.0 stalled") and marked; its own core's next tx_batch with a
 * batch of frames to clean (32) disables it, frees what was sent, drops
 * (tx_dropped) what was not, and enables it again with the ring empty. */
void intel_tx_watch(struct nic *nic, uint64_t now);

/* nic_ops.ring_state for both chips (trace=rings): RDH/TDH read, the rest
 * from the driver's state. */
bool intel_ring_state(struct nic *nic, uint16_t queue, struct nic_ring *rx, struct nic_ring *tx);

/* RSS (82599 §7.1.2.8, 82576 §7.1.2.8): the hash over IPv4/IPv6 addresses
 * and TCP/UDP ports picks one of 128 redirection-table entries (RETA, four
 * one-byte entries a register from intel_hw.reta0), which names the queue;
 * entry j names queue j mod nq. Sets RXCSUM.PCSD (the hash goes into the
 * write-back instead of a checksum), the key in the 10 registers from
 * intel_hw.rssrk0, the table, then MRQC (intel_hw.mrqc): its RSS mode
 * (mrqc_rss: 82599 MRQE 0001b, 82576 010b) and the hashed fields, at the
 * same bits on both chips. */
#define INTEL_RXCSUM 0x05000 /* 82599 §8.2.3.7.5, 82576 §8.10: Receive Checksum Control */
#define INTEL_RXCSUM_PCSD (1u << 13)
#define INTEL_MRQC_TCPIPV4 (1u << 16)
#define INTEL_MRQC_IPV4 (1u << 17)
#define INTEL_MRQC_IPV6 (1u << 20)
#define INTEL_MRQC_TCPIPV6 (1u << 21)
#define INTEL_MRQC_UDPIPV4 (1u << 22)
#define INTEL_MRQC_UDPIPV6 (1u << 23)
void intel_rss_init(struct intel_dev *d);

/* nic_ops.use_queues: rewrites the redirection table so that it names only
 * queues 0..n-1, for when fewer cores poll than the NIC has queues. */
void intel_use_queues(struct nic *nic, uint16_t n);

/* nic_ops for both chips: set_promisc and link go to intel_hw's. */
extern const struct nic_ops intel_ops;

/* nic_ops read_stats and stop for both chips. stop turns receive off, stops
 * the queues (intel_queues_stop), turns transmit off and reads the
 * statistics for the last time. */
void intel_read_stats(struct nic *nic, struct nic_stats *out);
void intel_stop(struct nic *nic);

/* A driver's open through PCI: BAR0 must be memory; memory decoding and bus
 * mastering on, then open_at(pci, BAR0's address, arg); if that fails (it
 * has given back what it took), bus mastering off again. */
struct nic *intel_open_pci(struct pci_dev *pci, const char *driver,
                           struct nic *(*open_at)(struct pci_dev *pci, uint64_t bar,
                                                  const void *arg),
                           const void *arg);

/* The start of an open: fills d's fields (name from the PCI address, the
 * model from hw unless model is given, queues pairs of queues, intel_ops). */
void intel_dev_init(struct intel_dev *d, const struct intel_hw *hw, struct pci_dev *pci,
                    uint64_t bar, const char *model, int queues);

/* 82599 §4.6.3.2, 82576 §4.5.2: CTRL.RST, with extra (more self-clearing
 * CTRL bits), set; 1 ms, then a bounded wait for them to read 0. 0, or -1
 * said. */
int intel_global_reset(struct intel_dev *d, uint32_t extra);

/* After the reset: the MAC address from RAL(0)/RAH(0), and the statistics
 * read once so that they count from here. */
void intel_read_mac(struct intel_dev *d);
void intel_clear_stats(struct intel_dev *d);

/* Stop, once receive is off: waits (bounded) for the TX ring to drain,
 * disables both queues, waits for each to read disabled, and frees every
 * buffer they hold (a queue that does not stop keeps its buffers, said).
 * Returns how many frames were queued but never sent. */
uint64_t intel_queues_stop(struct intel_dev *d);

#endif
