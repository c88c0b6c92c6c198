/*
 * driver/pktbuf.h - packet buffers and the pools they come from (the design
 * of ixy's pkt_buf and DPDK's mbuf, reduced to what a forwarder needs).
 *
 * A buffer is a 64-byte header, then the data area: PKT_HEADROOM bytes of
 * room in front of the frame, for a driver's per-packet header (virtio-net's
 * is 10 or 12 bytes), then PKT_DATA_ROOM bytes from where the frame starts,
 * the 2 KiB an Intel NIC is told it may write there (SRRCTL.BSIZEPACKET). Buffers of a
 * pool sit in one physically contiguous block; a pool belongs to one queue
 * of one core and is never shared, so it needs no lock.
 */
#ifndef DRIVER_PKTBUF_H
#define DRIVER_PKTBUF_H

#include <stddef.h>
#include <stdint.h>

#define PKT_HEADROOM 64
#define PKT_DATA_ROOM 2048
#define PKT_BUF_SIZE (64 + PKT_HEADROOM + PKT_DATA_ROOM) /* 2176: buffers stay 128-byte aligned */
#define PKT_MAX_FRAME 1518 /* 1500-byte payload, Ethernet header, one VLAN tag; no FCS */
#define PKT_MIN_FRAME 60   /* without FCS: shorter frames are runts */

struct mempool;

struct pkt_buf {
    uint64_t phys;        /* physical address of data[] */
    struct mempool *pool; /* where pkt_free() returns it */
    uint32_t index;       /* in the pool */
    uint16_t len;         /* of the frame, in bytes */
    uint16_t headroom;    /* the frame starts at data[headroom] */
    uint8_t on_stack;     /* MEMPOOL_CHECKS: 1 while the buffer is free */
    uint8_t reserved[39];
    uint8_t data[PKT_BUF_SIZE - 64];
};
_Static_assert(offsetof(struct pkt_buf, data) == 64, "the header is 64 bytes");
_Static_assert(sizeof(struct pkt_buf) == PKT_BUF_SIZE, "buffers are PKT_BUF_SIZE apart");
_Static_assert(PKT_BUF_SIZE % 128 == 0, "buffers are 128-byte aligned");
_Static_assert(PKT_MAX_FRAME <= PKT_DATA_ROOM, "a frame fits");

static inline uint8_t *pkt_data(struct pkt_buf *b)
{
    return b->data + b->headroom;
}

/* The frame of a buffer a receive has just taken: every driver's is at
 * data[PKT_HEADROOM] (driver/nic.h), found without a load of headroom. */
static inline uint8_t *pkt_rx_data(struct pkt_buf *b)
{
    return b->data + PKT_HEADROOM;
}

static inline uint64_t pkt_phys(const struct pkt_buf *b)
{
    return b->phys + b->headroom;
}

/*
 * MEMPOOL_CHECKS (defined for the host unit tests and fuzz targets by the
 * Makefile, not for the image or the bench): every buffer freed must lie in
 * the pool its header names, at its index, and must not be free already
 * (on_stack); either panics. Buffers taken off a stack are marked taken.
 * Without it the data path keeps one check, in every build: a buffer freed
 * into a full pool panics (freed twice). The unit tests that use pools run
 * in both builds (test_X and test_X_nochecks).
 */
#ifdef MEMPOOL_CHECKS
#define MEMPOOL_CHECKED 1
#else
#define MEMPOOL_CHECKED 0
#endif

#define MEMPOOL_NAME_LEN 24

struct mempool {
    char name[MEMPOOL_NAME_LEN]; /* a copy: "0000:00:03.0/1" */
    struct pkt_buf *bufs;        /* count buffers, contiguous */
    uint32_t count;
    uint32_t nfree;
    struct pkt_buf **free; /* a stack of the free buffers: O(1) alloc and free */
};

/* A pool of count buffers in DMA memory, named name (copied); NULL (said)
 * if memory ran out. */
struct mempool *mempool_create(const char *name, uint32_t count);

/* Gives a pool's memory back (a failed open unwinding): every buffer must
 * be back in it, else it panics (a buffer still in a ring or in flight).
 * NULL: nothing. */
void mempool_destroy(struct mempool *mp);

/* Up to n buffers, headroom and length reset; returns how many. */
uint32_t pkt_alloc_batch(struct mempool *mp, struct pkt_buf **bufs, uint32_t n);
struct pkt_buf *pkt_alloc(struct mempool *mp);

/* Back to their own pools (buffers of several pools may be mixed: each run
 * of buffers of one pool is pushed in one go). A buffer that would overfill
 * its pool was freed twice, or is not the pool's: panic. */
void pkt_free_batch(struct pkt_buf **bufs, uint32_t n);

/*
 * A receive ring's refill (driver/intel.c) takes buffers straight off the
 * top of the free stack, one at a time, without copying them into a batch
 * first: the free ones are top[-1], top[-2], ... top[-mp->nfree], and
 * pkt_stack_taken says how many were taken. A buffer taken so keeps the
 * headroom and len it was freed with: its descriptor points at
 * data[PKT_HEADROOM] (pkt_phys_fresh), and the ring sets both when a frame
 * arrives in it (pkt_received).
 */
static inline struct pkt_buf *const *pkt_stack_top(const struct mempool *mp)
{
    return mp->free + mp->nfree;
}

static inline void pkt_stack_taken(struct mempool *mp, uint32_t k)
{
    mp->nfree -= k;
    for (uint32_t i = 0; MEMPOOL_CHECKED && i < k; i++)
        mp->free[mp->nfree + i]->on_stack = 0;
}

static inline uint64_t pkt_phys_fresh(const struct pkt_buf *b)
{
    return b->phys + PKT_HEADROOM;
}

/* A frame of len bytes arrived at data[PKT_HEADROOM]: len and headroom in
 * one store (they are neighbours, len first, on a little-endian CPU). */
static inline void pkt_received(struct pkt_buf *b, uint32_t len)
{
    uint32_t both = len | (uint32_t)PKT_HEADROOM << 16;
    __builtin_memcpy(&b->len, &both, 4);
}
_Static_assert(offsetof(struct pkt_buf, headroom) == offsetof(struct pkt_buf, len) + 2,
               "headroom follows len");

static inline void pkt_free(struct pkt_buf *b)
{
    pkt_free_batch(&b, 1);
}

#endif
