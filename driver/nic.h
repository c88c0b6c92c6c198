/*
 * driver/nic.h - the device interface every NIC driver fills in (the shape
 * of ixy's ixy_device and DPDK's eth_dev ops): batched receive and transmit
 * on numbered queues, statistics, promiscuous mode, link state, MAC.
 *
 * rx_batch and tx_batch are the data path: they never block and never
 * panic. rx_batch hands over up to n received buffers (the caller owns them
 * and must send or free them), each frame at data[PKT_HEADROOM] and
 * rewritten as the nic's rx_rewrite says. tx_batch takes up to n buffers
 * and returns how many it took; the ones it did not take stay the caller's.
 */
#ifndef DRIVER_NIC_H
#define DRIVER_NIC_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/pktbuf.h"
#include "driver/rewrite.h"
#include "kernel/pci.h"

struct nic;

/* Queue pairs a NIC may be opened with: one per worker core. */
#define NIC_MAX_QUEUES 16

/* Counted by the driver; all since the NIC was opened. */
struct nic_stats {
    uint64_t rx_packets, rx_bytes; /* frames handed to the app */
    uint64_t tx_packets, tx_bytes; /* frames the app handed over */
    uint64_t rx_dropped;           /* received but dropped: runts, oversized frames, and
                                    * (virtio-net) frames no core took before stop */
    uint64_t tx_dropped;           /* taken from the app but never sent: left at stop, or
                                    * handed over while the link was down (driver/link.h),
                                    * or stuck in a stalled queue when it was reset */
    uint64_t tx_resets;            /* stalled transmit queues reset (nic_ops.tx_watch) */
    uint64_t dev_errors;           /* descriptors or ring entries the device should never
                                    * have written back: each said (at most once a second
                                    * for each kind) and dropped, its frame in rx_dropped */
    uint64_t rx_missed;            /* the NIC had no free descriptor for them */
    /* The NIC's own counters, where it has them (hw true): good frames and
     * their bytes including the 4-byte FCS (82599 GPRC, GORC, GPTC, GOTC). */
    bool hw;
    uint64_t hw_rx_packets, hw_rx_bytes, hw_tx_packets, hw_tx_bytes;
};

/* trace=rings: one ring of a queue as the driver sees it, for watching it
 * fill and drain. Indices are the ring's own: descriptor numbers on the
 * Intel NICs, the 16-bit free-running ring indices on virtio-net. */
struct nic_ring {
    uint32_t size;    /* entries: descriptors (Intel), one frame's slots (virtio-net) */
    uint32_t head;    /* the device's: RDH/TDH, or virtio's used.idx */
    uint32_t tail;    /* the driver's: RDT/TDT as last written, or virtio's avail.idx */
    uint32_t done;    /* completed by the device, not yet taken (RX) or freed (TX) */
    uint32_t pending; /* handed to the device, not yet completed by it */
    uint32_t bufs;    /* packet buffers the ring holds (out of the pool) */
};

struct nic_link {
    bool up;
    uint32_t mbps; /* 0 if the device does not say */
};

struct nic_ops {
    uint32_t (*rx_batch)(struct nic *nic, uint16_t queue, struct pkt_buf **bufs, uint32_t n);
    uint32_t (*tx_batch)(struct nic *nic, uint16_t queue, struct pkt_buf **bufs, uint32_t n);
    void (*read_stats)(struct nic *nic, struct nic_stats *out);
    int (*set_promisc)(struct nic *nic, bool on); /* 0, or -1 if the device cannot */
    /* Receive only on queues 0..n-1 from now on (n <= rx_queues): RSS
     * spreads flows over those alone. NULL where there is one queue. */
    void (*use_queues)(struct nic *nic, uint16_t n);
    struct nic_link (*link)(struct nic *nic);
    /* The reporting core's look at the transmit queues, once a second, the
     * link up: a queue whose device stopped taking frames for 1 s is said
     * once and reset by the core that owns it, at its next tx_batch. NULL
     * where the device has no head to watch. */
    void (*tx_watch)(struct nic *nic, uint64_t now);
    /* trace=rings, on the reporting core: queue's receive and transmit
     * rings from the driver's own state and the device's head (a register
     * read, or virtio's used index in memory); the data path is untouched.
     * A snapshot of a running queue: its fields may be a batch apart.
     * False if the queue is not set up. */
    bool (*ring_state)(struct nic *nic, uint16_t queue, struct nic_ring *rx, struct nic_ring *tx);
    /* Waits (bounded) for sent frames to leave, stops the device, and gives
     * every buffer it held back to its pool. */
    void (*stop)(struct nic *nic);
    /* app=selftest: writes patterns to registers the running port does not
     * use and reads them back: 0, or -1; why (len bytes) says what was
     * tested, or what read back wrong. NULL where the driver has no such test. */
    int (*register_test)(struct nic *nic, char *why, int len);
};

struct nic {
    const char *driver; /* "virtio-net" */
    const char *model;  /* "legacy", "modern", "82599", ... */
    struct pci_dev *pci;
    char name[16]; /* the PCI address: "0000:00:03.0" */
    uint8_t mac[6];
    uint16_t rx_queues, tx_queues;
    struct mempool *pool[NIC_MAX_QUEUES]; /* pool[q]: where queue q's receive buffers come from */
    const struct nic_ops *ops;
    int node; /* the NUMA node its rings, buffers and pools were taken from */
    /* Its DMA goes around the IOMMU (virtio-net without ACCESS_PLATFORM):
     * not confined, whatever the IOMMU's tables say. */
    bool bypasses_iommu;
    /* Set by the reporting core (driver/link.c) when it sees the link down,
     * cleared when it sees it up; read by tx_batch once a batch, which then
     * drops what it is given and counts it in tx_dropped. */
    bool link_down;
    uint32_t link_downs;    /* times the link went down since open */
    uint64_t down_since_ns; /* when it was seen down (link_down set) */
    uint64_t down_total_ns; /* the link's time down, up to its last coming up */
    /* Set by an app that rewrites each received frame's first bytes
     * (fwd's macswap and mac modes), before its first rx_batch: rx_batch
     * then rewrites each frame it returns so (driver/rewrite.h). NULL:
     * frames as they came. Read-only while the nic is in use. */
    const struct pkt_rewrite *rx_rewrite;
};

/* In tx_batch: has the reporting core seen the link down? One load a batch. */
static inline bool nic_link_is_down(const struct nic *n)
{
    return __builtin_expect(__atomic_load_n(&n->link_down, __ATOMIC_RELAXED), 0);
}

static inline uint32_t nic_rx_batch(struct nic *n, uint16_t q, struct pkt_buf **b, uint32_t cnt)
{
    return n->ops->rx_batch(n, q, b, cnt);
}

static inline uint32_t nic_tx_batch(struct nic *n, uint16_t q, struct pkt_buf **b, uint32_t cnt)
{
    return n->ops->tx_batch(n, q, b, cnt);
}

/* Every PCI function a driver in the table takes, opened with up to queues
 * RX and TX queue pairs each (as many as the driver and device allow: see
 * nic.rx_queues), then up to 10 s for all their links together (two ports
 * cabled to each other come up only once both are set up); says on the
 * console which driver took which device with its link, which links stayed
 * down, and which supported devices failed to start and why. Returns the
 * count. node_of(d, k), for the k-th supported device found (from 0), says
 * which NUMA node's memory its rings, buffers and pools come from
 * (kernel/mem.h); with more than one node, a line per NIC gives the node and
 * the span of memory it took. */
int nic_probe_all(struct nic **out, int max, int queues,
                  int (*node_of)(const struct pci_dev *d, int k));

/* trace=regs: the drivers print every register access by name (only the
 * Intel drivers, whose registers have names). trace=rings is the apps'
 * (apps/ports.c, nic_ops.ring_state). */
void nic_trace_registers(bool on);

/* dma_test=rx (apps/ports.c), before the NICs are opened: the first Intel
 * port opened points receive descriptor 0 of queue 0 at pa, a page outside
 * its memory, and drops (rx_dropped) the frame the descriptor completes:
 * with the IOMMU the write is blocked, and faults. */
void nic_test_rx_outside(uint64_t pa);

/* app=selftest: true if a driver in the table takes d and can bring it up
 * in MAC loopback (ixgbe: 82599, X520, X540, X550). */
bool nic_loops_back(const struct pci_dev *d);

/* app=selftest: opens d with one queue pair in MAC loopback, its link
 * forced up and the frames it sends received again, so no cable is
 * needed; NULL, the failing step said, if it cannot. */
struct nic *nic_open_loopback(struct pci_dev *d);

/* The NIC whose PCI address is name ("0000:00:03.0", or "00:03.0" for
 * segment 0); NULL if none. */
struct nic *nic_by_name(struct nic **nics, int n, const char *name);

#endif
