/*
 * driver/intel.c - what the 82599 and the 82576 share (see intel.h): the
 * advanced-descriptor queues, the open, the register trace.
 *
 * Receive (82599 §7.1.6, 82576 §7.1.5): every descriptor in the ring points
 * at a buffer. The device fills the ones from RDH up to, not including, RDT
 * and writes each back with DD set; the driver takes those, puts a fresh
 * buffer in each, and moves RDT once per batch to the descriptor before the
 * next one it will look at. So RDT never equals RDH: one descriptor stays
 * the driver's, and RDH == RDT keeps meaning "nothing for the device".
 *
 * Transmit (82599 §7.2.3, 82576 §7.2.2): the driver writes one descriptor
 * per frame (RS set, so the device writes DD back), moves TDT once per batch,
 * and frees sent buffers a batch of TX_CLEAN at a time, when the last
 * descriptor of the batch shows DD. At most size - 1 descriptors are the
 * device's, since TDT == TDH means an empty ring.
 */
#include "driver/intel.h"
#include "driver/platform.h"

_Static_assert(PKT_DATA_ROOM == INTEL_SRRCTL_BSIZEPKT_2K * 1024, "a buffer holds what SRRCTL says");

#define TX_CLEAN 32 /* buffers freed together once the device is done with them */

bool intel_trace_regs;
uint64_t intel_test_rx_pa;

/* Names both chips share: the registers and statistics at the same
 * offsets (several a line), and each queue's registers at the same
 * distances from its base. */
/* clang-format off */
static const struct intel_reg_name common_names[] = {
    { INTEL_CTRL, 4, 1, "CTRL" }, { INTEL_STATUS, 4, 1, "STATUS" },
    { INTEL_RXCSUM, 4, 1, "RXCSUM" }, { INTEL_CRCERRS, 4, 1, "CRCERRS" },
    { INTEL_GPRC, 4, 1, "GPRC" }, { INTEL_GPTC, 4, 1, "GPTC" }, { INTEL_GORCL, 4, 1, "GORCL" },
    { INTEL_GORCH, 4, 1, "GORCH" }, { INTEL_GOTCL, 4, 1, "GOTCL" }, { INTEL_GOTCH, 4, 1, "GOTCH" },
    { INTEL_RUC, 4, 1, "RUC" }, { INTEL_ROC, 4, 1, "ROC" }, { 0, 0, 0, NULL },
};
/* clang-format on */

static const struct {
    uint32_t at;
    const char *rx, *tx;
} queue_names[] = {
    { INTEL_Q_BAL, "RDBAL", "TDBAL" }, { INTEL_Q_BAH, "RDBAH", "TDBAH" },
    { INTEL_Q_LEN, "RDLEN", "TDLEN" }, { INTEL_Q_HEAD, "RDH", "TDH" },
    { INTEL_Q_TAIL, "RDT", "TDT" },    { INTEL_Q_DCTL, "RXDCTL", "TXDCTL" },
};
#define NAMED_QUEUES 16

static const char *table_name(const struct intel_reg_name *r, uint32_t off, char *buf, int len)
{
    for (; r && r->name; r++) {
        if (off < r->base || off >= r->base + r->stride * r->count || (off - r->base) % r->stride)
            continue;
        if (r->count == 1)
            return r->name;
        ksnprintf(buf, (size_t)len, "%s(%u)", r->name, (off - r->base) / r->stride);
        return buf;
    }
    return NULL;
}

const char *intel_reg_name(const struct intel_dev *d, uint32_t off, char *buf, int len)
{
    const struct intel_hw *hw = d->hw;
    /* Both chips have these, at offsets of their own (intel_hw) */
    const struct intel_reg_name at_hw[] = {
        { hw->mrqc, 4, 1, "MRQC" },           { hw->reta0, 4, 32, "RETA" },
        { hw->rssrk0, 4, 10, "RSSRK" },       { hw->ral0, 8, hw->nral, "RAL" },
        { hw->ral0 + 4, 8, hw->nral, "RAH" }, { 0, 0, 0, NULL },
    };
    const char *name = table_name(hw->names, off, buf, len);
    if (!name)
        name = table_name(common_names, off, buf, len);
    if (!name)
        name = table_name(at_hw, off, buf, len);
    if (name)
        return name;
    for (int tx = 0; tx < 2; tx++) {
        uint32_t base = tx ? hw->tx_base : hw->rx_base, rel = (off - base) % INTEL_Q_STRIDE;
        if (off < base || off >= base + INTEL_Q_STRIDE * NAMED_QUEUES)
            continue;
        for (unsigned k = 0; k < sizeof(queue_names) / sizeof(queue_names[0]); k++)
            if (queue_names[k].at == rel) {
                ksnprintf(buf, (size_t)len, "%s(%u)", tx ? queue_names[k].tx : queue_names[k].rx,
                          (off - base) / INTEL_Q_STRIDE);
                return buf;
            }
    }
    if (off >= hw->srrctl_base && off < hw->srrctl_base + INTEL_Q_STRIDE * NAMED_QUEUES &&
        (off - hw->srrctl_base) % INTEL_Q_STRIDE == 0) {
        ksnprintf(buf, (size_t)len, "SRRCTL(%u)", (off - hw->srrctl_base) / INTEL_Q_STRIDE);
        return buf;
    }
    ksnprintf(buf, (size_t)len, "0x%05x", off);
    return buf;
}

void intel_trace(const struct intel_dev *d, char rw, uint32_t off, uint32_t v)
{
    char name[32];
    kprintf("%s %s %c %s = 0x%08x\n", d->hw->driver, d->nic.name, rw,
            intel_reg_name(d, off, name, sizeof(name)), v);
}

int intel_wait(const struct intel_dev *d, uint32_t off, uint32_t mask, uint32_t want,
               uint64_t timeout_us, const char *step, const char *hint)
{
    uint64_t start = now_ns(), pause_us = 10;
    uint32_t v;
    while (((v = intel_read(d, off)) & mask) != want) {
        if (now_ns() - start >= timeout_us * 1000) {
            char name[32];
            kprintf("%s %s: %s: %s is 0x%08x after %lu ms, waiting for 0x%08x under mask "
                    "0x%08x; %s\n",
                    d->hw->driver, d->nic.name, step, intel_reg_name(d, off, name, sizeof(name)), v,
                    timeout_us / 1000, want, mask, hint);
            return -1;
        }
        delay_us(pause_us);
        if (pause_us < 10000) /* 10 us doubling to 10 ms: quick when quick, few reads when slow */
            pause_us *= 2;
    }
    return 0;
}

static uint32_t rxq_reg(const struct intel_dev *d, int q, uint32_t which)
{
    return d->hw->rx_base + (uint32_t)q * INTEL_Q_STRIDE + which;
}

static uint32_t txq_reg(const struct intel_dev *d, int q, uint32_t which)
{
    return d->hw->tx_base + (uint32_t)q * INTEL_Q_STRIDE + which;
}

/* Rings are 128-byte aligned, and their length a multiple of 128 bytes
 * (82599 §8.2.3.8.1 and §8.2.3.8.3; 82576 §8.10.1, §8.10.3). With the ring,
 * its array of buffer pointers in *bufs, zeroed: a slot not yet filled
 * holds NULL (rings_free). NULL in *bufs, said, if either cannot be had;
 * what was had stays for rings_free. */
static void *ring_alloc(struct intel_dev *d, uint16_t size, const char *what,
                        struct pkt_buf ***bufs)
{
    *bufs = NULL;
    /* 64 at least: transmit buffers are freed TX_CLEAN at a time, and a
     * ring holds at most size - 1 */
    if (size < 64 || size > 4096 || (size & (size - 1))) {
        kprintf("%s %s: %s ring of %u descriptors: must be a power of two, 64..4096\n",
                d->hw->driver, d->nic.name, what, size);
        return NULL;
    }
    void *ring = dma_alloc((size_t)size * 16, 128);
    if (!ring) {
        kprintf("%s %s: no memory for the %s ring\n", d->hw->driver, d->nic.name, what);
        return NULL;
    }
    memset(ring, 0, (size_t)size * 16);
    *bufs = cpu_alloc(size * sizeof((*bufs)[0]), 64);
    if (!*bufs)
        kprintf("%s %s: no memory for the %s ring's buffer list\n", d->hw->driver, d->nic.name,
                what);
    return ring;
}

static void program_ring(struct intel_dev *d, uint32_t base, const volatile void *ring,
                         uint16_t size)
{
    uint64_t pa = virt_to_phys((const void *)ring);
    intel_write(d, base + INTEL_Q_BAL, (uint32_t)pa);
    intel_write(d, base + INTEL_Q_BAH, (uint32_t)(pa >> 32));
    intel_write(d, base + INTEL_Q_LEN, (uint32_t)size * 16);
    /* Head and tail are 0 from the reset; a tail write before the queue
     * is enabled would break 82599 §4.6.7, so none is made here. */
}

int intel_rx_setup(struct intel_dev *d, int qi, uint16_t size, struct mempool *pool)
{
    struct intel_rxq *q = &d->rxq[qi];
    q->size = size; /* first: what rings_free gives back */
    q->ring = ring_alloc(d, size, "receive", &q->bufs);
    if (!q->bufs)
        return -1;
    q->pool = pool;
    q->dev = d;
    q->next = 0;
    q->tail = d->bar + rxq_reg(d, qi, INTEL_Q_TAIL);
    for (uint16_t i = 0; i < size; i++) {
        struct pkt_buf *b = pkt_alloc(pool);
        if (!b) {
            kprintf("%s %s: pool %s too small for the receive ring\n", d->hw->driver, d->nic.name,
                    pool->name);
            return -1;
        }
        q->bufs[i] = b;
        q->ring[i].read.pkt_addr = pkt_phys_fresh(b);
        q->ring[i].read.hdr_addr = 0;
    }
    if (qi == 0 && intel_test_rx_pa) { /* the test hook: its own buffer stays in bufs[0] */
        q->ring[0].read.pkt_addr = intel_test_rx_pa;
        q->test_armed = true;
        q->test_slot = 0;
        kprintf("%s %s: dma_test: receive descriptor 0 points at 0x%lx, outside its memory\n",
                d->hw->driver, d->nic.name, intel_test_rx_pa);
        intel_test_rx_pa = 0;
    }
    /* 2 KiB per buffer (PKT_DATA_ROOM follows pkt_phys); a frame longer
     * than that would be spread over several, which intel_rx_batch drops,
     * but neither chip is set up to accept one (HLREG0.JUMBOEN, RCTL.LPE
     * clear: at most 1522 bytes). */
    intel_write(d, d->hw->srrctl_base + (uint32_t)qi * INTEL_Q_STRIDE,
                INTEL_SRRCTL_BSIZEPKT_2K | INTEL_SRRCTL_DESC_ADV | d->hw->srrctl_drop_en);
    program_ring(d, rxq_reg(d, qi, 0), q->ring, size);
    return 0;
}

/* Sets a queue's [RT]XDCTL.ENABLE and waits for it to read 1 (82599
 * §8.2.3.8.6, §8.2.3.9.10; 82576 §8.10.10, §8.12.13). */
static int queue_enable(struct intel_dev *d, uint32_t dctl, const char *what, int q,
                        const char *hint)
{
    char step[32];
    ksnprintf(step, sizeof(step), "enabling %s queue %d", what, q);
    intel_set(d, dctl, INTEL_DCTL_ENABLE);
    return intel_wait(d, dctl, INTEL_DCTL_ENABLE, INTEL_DCTL_ENABLE, INTEL_QUEUE_ON_OFF_US, step,
                      hint);
}

int intel_rx_start(struct intel_dev *d, int q)
{
    if (queue_enable(d, rxq_reg(d, q, INTEL_Q_DCTL), "receive", q,
                     "the queue's base, length and SRRCTL may be wrong"))
        return -1;
    /* Only now may RDT move (82599 §4.6.7): all descriptors but one. */
    intel_write(d, rxq_reg(d, q, INTEL_Q_TAIL), (uint32_t)d->rxq[q].size - 1);
    return 0;
}

int intel_tx_setup(struct intel_dev *d, int qi, uint16_t size, uint32_t txdctl_thresholds)
{
    struct intel_txq *q = &d->txq[qi];
    q->size = size; /* first: what rings_free gives back */
    q->ring = ring_alloc(d, size, "transmit", &q->bufs);
    if (!q->bufs)
        return -1;
    q->next = q->clean = 0;
    q->tail = d->bar + txq_reg(d, qi, INTEL_Q_TAIL);
    program_ring(d, txq_reg(d, qi, 0), q->ring, size);
    intel_write(d, txq_reg(d, qi, INTEL_Q_DCTL), txdctl_thresholds);
    return 0;
}

int intel_tx_start(struct intel_dev *d, int q)
{
    return queue_enable(d, txq_reg(d, q, INTEL_Q_DCTL), "transmit", q,
                        "the queue's base and length, or the transmit enable, may be wrong");
}

static int queue_disable(struct intel_dev *d, uint32_t dctl, const char *step);

/* Gives back what queue qi's set-up took, in reverse: its receive buffers
 * to the pool, then the arrays, the rings and the pool. */
static void rings_free(struct intel_dev *d, int qi)
{
    struct intel_rxq *rq = &d->rxq[qi];
    struct intel_txq *tq = &d->txq[qi];
    if (tq->bufs)
        cpu_free(tq->bufs, tq->size * sizeof(tq->bufs[0]));
    if (tq->ring)
        dma_free((void *)tq->ring, (size_t)tq->size * 16);
    if (rq->bufs) {
        for (uint32_t i = 0; i < rq->size; i++)
            if (rq->bufs[i])
                pkt_free(rq->bufs[i]);
        cpu_free(rq->bufs, rq->size * sizeof(rq->bufs[0]));
    }
    if (rq->ring)
        dma_free((void *)rq->ring, (size_t)rq->size * 16);
    mempool_destroy(d->nic.pool[qi]);
    *rq = (struct intel_rxq){ 0 };
    *tq = (struct intel_txq){ 0 };
    d->nic.pool[qi] = NULL;
}

/* intel_queues_init failed: receive off, every queue set up turned off,
 * transmit off, then their memory given back, the last queue's first. A
 * queue that does not read disabled may still reach its memory: then all
 * of it stays taken, said. */
static void queues_unwind(struct intel_dev *d)
{
    bool stuck = false;
    char step[40];
    intel_clear(d, d->hw->rx_on, d->hw->rx_on_bit);
    for (int qi = d->nq - 1; qi >= 0; qi--) {
        ksnprintf(step, sizeof(step), "turning transmit queue %d off", qi);
        if (d->txq[qi].ring && queue_disable(d, txq_reg(d, qi, INTEL_Q_DCTL), step))
            stuck = true;
        ksnprintf(step, sizeof(step), "turning receive queue %d off", qi);
        if (d->rxq[qi].ring && queue_disable(d, rxq_reg(d, qi, INTEL_Q_DCTL), step))
            stuck = true;
    }
    intel_clear(d, d->hw->tx_on, d->hw->tx_on_bit);
    if (stuck) {
        kprintf("%s %s: the rings and pools of the failed open stay taken\n", d->hw->driver,
                d->nic.name);
        return;
    }
    for (int qi = d->nq - 1; qi >= 0; qi--)
        rings_free(d, qi);
}

int intel_queues_init(struct intel_dev *d, uint16_t rx_ring, uint16_t tx_ring,
                      uint32_t txdctl_thresholds, void (*rx_on)(struct intel_dev *d))
{
    for (int q = 0; q < d->nq; q++) {
        char name[MEMPOOL_NAME_LEN];
        ksnprintf(name, sizeof(name), q ? "%s/%d" : "%s", d->nic.name, q);
        d->nic.pool[q] = mempool_create(name, 2u * rx_ring + 2u * tx_ring);
        if (!d->nic.pool[q] || intel_rx_setup(d, q, rx_ring, d->nic.pool[q]) ||
            intel_tx_setup(d, q, tx_ring, txdctl_thresholds))
            goto unwind;
    }
    for (int q = 0; q < d->nq; q++)
        if (intel_rx_start(d, q))
            goto unwind;
    rx_on(d);
    for (int q = 0; q < d->nq; q++)
        if (intel_tx_start(d, q))
            goto unwind;
    return 0;
unwind:
    queues_unwind(d);
    return -1;
}

/* Hands descriptor i, with the buffer it has, back to the device: the
 * device writes a frame at data[PKT_HEADROOM] (pkt_received says so). */
static inline void rx_recycle(volatile union intel_rx_desc *desc, struct pkt_buf *b)
{
    desc->read.pkt_addr = pkt_phys_fresh(b);
    desc->read.hdr_addr = 0; /* also clears DD: the write-back's status word */
}

/* The rest of a frame spread over buffers, from descriptor i on: each
 * descriptor the device has done goes back with its buffer, up to the one
 * with EOP. Returns the next descriptor; q->split stays set if the frame's
 * end has not arrived yet. */
static uint32_t rx_skip_split(struct intel_rxq *q, uint32_t i)
{
    uint32_t mask = q->size - 1u;
    for (;;) {
        volatile union intel_rx_desc *desc = &q->ring[i];
        uint32_t status = (uint32_t)intel_rx_wb_status(desc);
        if (!(status & INTEL_RXD_DD))
            return i;
        rx_recycle(desc, q->bufs[i]);
        i = (i + 1) & mask;
        if (status & INTEL_RXD_EOP) {
            q->split = false;
            return i;
        }
    }
}

#define SAY_EVERY_NS 1000000000ull

/*
 * A write-back no device should make (82599 §7.1.6.2, 82576 §7.1.5.2):
 * a length past the buffer (SRRCTL.BSIZEPACKET, PKT_DATA_ROOM), or no EOP
 * with the buffer not full (a frame continues in the next buffer only once
 * this one is full, §7.1.6: so that frame ended here, and the next
 * descriptor starts a frame of its own). Counted, and said at most once a
 * second for each kind. Returns true if it was one.
 */
static bool rx_bad_wb(struct intel_rxq *q, uint32_t i, uint32_t status, uint32_t len)
{
    int kind = len > PKT_DATA_ROOM ? 0 : !(status & INTEL_RXD_EOP) && len < PKT_DATA_ROOM ? 1 : -1;
    if (kind < 0)
        return false;
    struct intel_dev *d = q->dev;
    int qi = (int)(q - d->rxq);
    uint64_t now = now_ns();
    q->bad_wb++;
    if (q->said_ns[kind] && now - q->said_ns[kind] < SAY_EVERY_NS)
        return true;
    q->said_ns[kind] = now;
    if (kind == 0)
        kprintf("%s %s: receive queue %d, descriptor %u written back with length %u, past its "
                "%u-byte buffer; dropped (%lu bad write-backs so far; device broken?)\n",
                d->hw->driver, d->nic.name, qi, i, len, PKT_DATA_ROOM, q->bad_wb);
    else
        kprintf("%s %s: receive queue %d, descriptor %u written back without EOP and %u bytes "
                "in its %u-byte buffer; dropped (%lu bad write-backs so far; device broken?)\n",
                d->hw->driver, d->nic.name, qi, i, len, PKT_DATA_ROOM, q->bad_wb);
    return true;
}

/* Descriptor i's write-back (wb: its second qword) is not a frame to take:
 * a size the MAC should not pass, a write-back no device should make
 * (rx_bad_wb), or the first buffer of a frame spread over several, longer
 * than this setup accepts (q->split set until its end has come). Counted
 * once; every buffer goes straight back in, its data never read. Returns
 * the next descriptor to look at. Out of line, so that the batch's loop
 * keeps its registers (make bench). */
__attribute__((cold, noinline)) static uint32_t rx_drop(struct intel_rxq *q, uint32_t i,
                                                        uint64_t wb)
{
    uint32_t status = (uint32_t)wb, len = INTEL_RXD_LEN(wb), next = (i + 1) & (q->size - 1u);
    q->dropped++;
    rx_recycle(&q->ring[i], q->bufs[i]);
    if ((status & INTEL_RXD_EOP) && len <= PKT_DATA_ROOM)
        return next;
    if (rx_bad_wb(q, i, status, len))
        return next;
    q->split = true;
    return rx_skip_split(q, next);
}

/* dma_test: the batch stops before the descriptor that points outside;
 * once the device has done it, its frame (never written where the driver
 * would read it) is dropped, counted in rx_dropped, and the descriptor gets
 * its own buffer back. Returns how many frames the batch may take. */
__attribute__((cold, noinline)) static uint32_t rx_test_slot(struct intel_rxq *q, uint32_t *i,
                                                             uint32_t n)
{
    uint32_t mask = q->size - 1u, ahead = (q->test_slot - *i) & mask;
    if (ahead)
        return n < ahead ? n : ahead;
    if (!(intel_rx_wb_status(&q->ring[*i]) & INTEL_RXD_DD))
        return 0;
    kprintf("%s %s: dma_test: receive descriptor %u done; its frame dropped\n", q->dev->hw->driver,
            q->dev->nic.name, *i);
    q->dropped++;
    rx_recycle(&q->ring[*i], q->bufs[*i]);
    *i = (*i + 1) & mask;
    q->test_armed = false;
    return n;
}

/* How rx_batch leaves each frame: as it came, or rewritten by the nic's
 * rx_rewrite (driver/rewrite.h) with PSHUFB or a byte at a time. */
enum rx_rewrite { RX_AS_IS, RX_PSHUFB, RX_BYTES };

/*
 * intel_rx_batch's work. how is a constant where it is called, so the
 * function is compiled three times and a receive without a rewrite pays
 * one test a call for it. With one, each frame is rewritten as it is
 * taken, in the loop that already holds its buffer: with PSHUFB 4
 * instructions a frame, and no second pass over the batch (docs/speed.md).
 */
static inline __attribute__((always_inline)) uint32_t
rx_batch(struct nic *nic, uint16_t queue, struct pkt_buf **bufs, uint32_t n, enum rx_rewrite how)
{
    struct intel_dev *d = (struct intel_dev *)nic;
    struct intel_rxq *q = &d->rxq[queue];
    /* The queue's fields in locals, indices and counts as wide as
     * pointers: the barrier below makes the compiler reload anything in
     * memory, and so would every store through a descriptor or a buffer
     * that might alias them. */
    volatile union intel_rx_desc *ring = q->ring;
    struct pkt_buf **held = q->bufs;
    struct mempool *pool = q->pool;
    const struct pkt_rewrite *rw = nic->rx_rewrite;
    size_t size = q->size, mask = size - 1u, i = q->next;
    /* Each frame taken leaves its descriptor a buffer off the top of the
     * pool's stack, read in place: no more frames than the pool has
     * buffers (an empty pool leaves frames for the next poll). */
    struct pkt_buf *const *top = pkt_stack_top(pool);
    struct pkt_buf **out = bufs, **end;
    uint64_t bytes = 0;
    if (n > pool->nfree)
        n = pool->nfree;
    if (__builtin_expect(q->split, 0)) { /* inside a frame spread over buffers */
        i = rx_skip_split(q, (uint32_t)i);
        if (q->split)
            n = 0; /* its end has not arrived: nothing more to take yet */
    }
    if (__builtin_expect(q->test_armed, 0)) {
        uint32_t at = (uint32_t)i; /* a copy: i itself stays in a register */
        n = rx_test_slot(q, &at, n);
        i = at;
    }
    for (end = bufs + n; out < end;) {
        /* A run of descriptors up to the batch's or the ring's end, so
         * that no index wraps inside the loop over it. */
        size_t k, run = (size_t)(end - out) < size - i ? (size_t)(end - out) : size - i;
        volatile union intel_rx_desc *desc = ring + i;
        struct pkt_buf **h = held + i;
        uint64_t wb = 0;
        for (k = 0; k < run; k++) {
            wb = intel_rx_wb_status(&desc[k]); /* DD, then the rest */
            uint32_t len = desc[k].wb.length; /* the same qword, loaded again: one move */
            /* not done yet, or not a frame to take: after the loop */
            if ((~wb & (INTEL_RXD_DD | INTEL_RXD_EOP)) ||
                len - PKT_MIN_FRAME > PKT_MAX_FRAME - PKT_MIN_FRAME)
                break;
            struct pkt_buf *b = h[k];
            pkt_received(b, len);
            if (how == RX_PSHUFB)
                pkt_rewrite_pshufb(pkt_rx_data(b), rw);
            else if (how == RX_BYTES)
                pkt_rewrite_bytes(pkt_rx_data(b), rw);
            bytes += len;
            out[k] = b;
            b = top[-1 - (ptrdiff_t)k];
            h[k] = b;
            desc[k].read.pkt_addr = pkt_phys_fresh(b);
            desc[k].read.hdr_addr = 0; /* also clears DD: the write-back's status word */
        }
        out += k;
        top -= k;
        i = (i + k) & mask;
        if (k == run)
            continue; /* the ring's end: on from its start */
        if (!(wb & INTEL_RXD_DD))
            break; /* nothing more from the device */
        i = rx_drop(q, (uint32_t)i, wb);
        if (q->split)
            break; /* the frame's end is still to come: the next poll */
    }
    uint32_t got = (uint32_t)(out - bufs);
    pkt_stack_taken(pool, got);
    q->bytes += bytes;
    if (i != q->next) {
        q->next = (uint16_t)i;
        q->packets += got;
        dma_wmb(); /* the descriptors before the tail that hands them over */
        mmio_write32(q->tail, (uint32_t)((i - 1) & mask));
        if (__builtin_expect(intel_trace_regs, 0))
            intel_trace(d, 'W', rxq_reg(d, queue, INTEL_Q_TAIL), (uint32_t)((i - 1) & mask));
    }
    return got;
}

uint32_t intel_rx_batch(struct nic *nic, uint16_t queue, struct pkt_buf **bufs, uint32_t n)
{
    if (!nic->rx_rewrite)
        return rx_batch(nic, queue, bufs, n, RX_AS_IS);
    return nic->rx_rewrite->pshufb ? rx_batch(nic, queue, bufs, n, RX_PSHUFB)
                                   : rx_batch(nic, queue, bufs, n, RX_BYTES);
}

#define TX_STALL_NS 1000000000ull

void intel_tx_watch(struct nic *nic, uint64_t now)
{
    struct intel_dev *d = (struct intel_dev *)nic;
    for (int qi = 0; qi < d->nq; qi++) {
        struct intel_txwatch *w = &d->watch[qi];
        if (__atomic_load_n(&d->txq[qi].reset_wanted, __ATOMIC_ACQUIRE))
            continue; /* said already; its core has not come to it yet */
        uint32_t head = intel_read(d, txq_reg(d, qi, INTEL_Q_HEAD));
        uint32_t tail = intel_read(d, txq_reg(d, qi, INTEL_Q_TAIL));
        if (nic->link_down || head == tail || head != w->head) {
            w->head = head; /* moving, empty, or held by a dark link: not stalled */
            w->since = now;
        } else if (now - w->since >= TX_STALL_NS) {
            kprintf("tx queue %d of %s stalled\n", qi, nic->name);
            w->since = now;
            __atomic_store_n(&d->txq[qi].reset_wanted, true, __ATOMIC_RELEASE);
        }
    }
}

/* nic_ops.ring_state, on the reporting core: the queue's own core writes
 * next and clean, read here once each. The rings as the head of this file
 * describes them (82599 §7.1.9, §7.2.3.5.1; the 82576 the same). Receive:
 * the device fills descriptors from RDH up to the one before RDT, the
 * driver takes them from next, and RDT stays one behind next, so done +
 * pending = size - 1 and every descriptor holds a buffer. Transmit: the
 * device sends from TDH up to TDT (= next); the driver frees from clean,
 * TX_CLEAN at a time, so done + pending = bufs. */
bool intel_ring_state(struct nic *nic, uint16_t queue, struct nic_ring *rx, struct nic_ring *tx)
{
    struct intel_dev *d = (struct intel_dev *)nic;
    if (queue >= d->nq || d->stopped || !d->rxq[queue].ring || !d->txq[queue].ring)
        return false;
    const struct intel_rxq *rq = &d->rxq[queue];
    uint32_t mask = rq->size - 1u, next = __atomic_load_n(&rq->next, __ATOMIC_RELAXED);
    uint32_t head = intel_read(d, rxq_reg(d, queue, INTEL_Q_HEAD)) & mask;
    uint32_t tail = (next - 1u) & mask;
    *rx = (struct nic_ring){ .size = rq->size,
                             .head = head,
                             .tail = tail,
                             .done = (head - next) & mask,
                             .pending = (tail - head) & mask,
                             .bufs = rq->size };
    const struct intel_txq *tq = &d->txq[queue];
    mask = tq->size - 1u;
    next = __atomic_load_n(&tq->next, __ATOMIC_RELAXED);
    uint32_t clean = __atomic_load_n(&tq->clean, __ATOMIC_RELAXED);
    head = intel_read(d, txq_reg(d, queue, INTEL_Q_HEAD)) & mask;
    *tx = (struct nic_ring){ .size = tq->size,
                             .head = head,
                             .tail = next,
                             .done = (head - clean) & mask,
                             .pending = (next - head) & mask,
                             .bufs = (next - clean) & mask };
    return true;
}

/* Queue qi stalled (intel_tx_watch): on its own core, disable it (82599
 * §8.2.3.9.10, 82576 §8.12.13: ENABLE reads 0 once the queue has stopped),
 * free the buffers of the frames its head passed, drop and count the rest,
 * put the head where the tail is (TDH is written only while the queue is
 * disabled: 82599 §8.2.3.9.8, 82576 §8.12.8), so the ring is empty and TDT
 * need not move before the queue reads enabled again (§4.6.8), and enable
 * it. If it does not stop, its buffers stay where they are, said. */
static void tx_reset(struct intel_dev *d, int qi)
{
    struct intel_txq *q = &d->txq[qi];
    uint32_t dctl = txq_reg(d, qi, INTEL_Q_DCTL), mask = q->size - 1u;
    char step[48];
    __atomic_store_n(&q->reset_wanted, false, __ATOMIC_RELAXED);
    ksnprintf(step, sizeof(step), "resetting stalled transmit queue %d", qi);
    intel_clear(d, dctl, INTEL_DCTL_ENABLE);
    if (intel_wait(d, dctl, INTEL_DCTL_ENABLE, 0, INTEL_QUEUE_STOP_US, step,
                   "its frames and buffers stay queued; reset the device"))
        return;
    uint32_t head = intel_read(d, txq_reg(d, qi, INTEL_Q_HEAD));
    uint32_t outstanding = (q->next - q->clean) & mask, sent = (head - q->clean) & mask;
    if (head >= q->size || sent > outstanding) /* a head outside what was queued */
        sent = 0;
    for (uint32_t k = 0; k < outstanding; k++) {
        struct pkt_buf *b = q->bufs[(q->clean + k) & mask];
        if (k >= sent) { /* taken, counted as sent, never sent */
            q->packets--;
            q->bytes -= b->len;
            q->dropped++;
        }
        pkt_free(b);
    }
    intel_write(d, txq_reg(d, qi, INTEL_Q_HEAD), q->next);
    q->clean = q->next;
    q->resets++;
    intel_set(d, dctl, INTEL_DCTL_ENABLE);
    intel_wait(d, dctl, INTEL_DCTL_ENABLE, INTEL_DCTL_ENABLE, INTEL_QUEUE_ON_OFF_US, step,
               "the queue stays off; reset the device");
}

/* Frees, TX_CLEAN at a time, the buffers of frames the device has sent.
 * Where the device has not finished the next batch, a queue the reporting
 * core found stalled is reset (tx_reset): a stalled queue gets here as soon
 * as TX_CLEAN frames wait, and the data path pays for the look only then. */
static void tx_clean(struct intel_dev *d, int qi)
{
    struct intel_txq *q = &d->txq[qi];
    uint16_t mask = q->size - 1;
    while ((uint16_t)((q->next - q->clean) & mask) >= TX_CLEAN) {
        uint16_t last = (q->clean + TX_CLEAN - 1) & mask;
        if (!(intel_tx_wb_status(&q->ring[last]) & INTEL_TXD_STAT_DD)) {
            if (__builtin_expect(__atomic_load_n(&q->reset_wanted, __ATOMIC_ACQUIRE), 0))
                tx_reset(d, qi);
            break;
        }
        /* DD on the batch's last descriptor: the device is done with all
         * before it too (descriptors complete in order) */
        if (q->clean + TX_CLEAN <= q->size) {
            pkt_free_batch(&q->bufs[q->clean], TX_CLEAN);
        } else {
            uint16_t first = q->size - q->clean;
            pkt_free_batch(&q->bufs[q->clean], first);
            pkt_free_batch(&q->bufs[0], TX_CLEAN - first);
        }
        q->clean = (q->clean + TX_CLEAN) & mask;
    }
}

/* Descriptors from desc on, and the ring's record of their buffers from
 * held on, for n frames with no wrap in between; returns their bytes. */
static inline __attribute__((always_inline)) uint64_t
tx_fill(volatile union intel_tx_desc *desc, struct pkt_buf **held, struct pkt_buf **bufs, size_t n)
{
    uint64_t bytes = 0;
    for (size_t k = 0; k < n; k++) {
        struct pkt_buf *b = bufs[k];
        uint32_t len = b->len;
        held[k] = b;
        bytes += len;
        desc[k].read.buf_addr = pkt_phys(b);
        desc[k].read.cmd_type_len = INTEL_TXD_DTYP_DATA | INTEL_TXD_DEXT | INTEL_TXD_EOP |
                                    INTEL_TXD_IFCS | INTEL_TXD_RS | len;
        desc[k].read.olinfo_status = len << INTEL_TXD_PAYLEN_SHIFT;
    }
    return bytes;
}

uint32_t intel_tx_batch(struct nic *nic, uint16_t queue, struct pkt_buf **bufs, uint32_t n)
{
    struct intel_dev *d = (struct intel_dev *)nic;
    struct intel_txq *q = &d->txq[queue];
    tx_clean(d, queue);
    if (nic_link_is_down(nic)) { /* not sent, so not counted as sent (driver/link.h) */
        pkt_free_batch(bufs, n);
        q->dropped += n;
        return n;
    }
    uint32_t size = q->size, mask = size - 1u, i = q->next;
    uint32_t room = mask - ((i - q->clean) & mask);
    if (n > room)
        n = room;
    if (!n)
        return 0;
    /* up to the ring's end, then from its start: no index wraps inside a loop */
    uint32_t first = n < size - i ? n : size - i;
    uint64_t bytes = tx_fill(q->ring + i, q->bufs + i, bufs, first);
    if (n > first)
        bytes += tx_fill(q->ring, q->bufs, bufs + first, n - first);
    i = (i + n) & mask;
    q->next = (uint16_t)i;
    q->packets += n;
    q->bytes += bytes;
    dma_wmb(); /* the descriptors before the tail that hands them over */
    mmio_write32(q->tail, i);
    if (__builtin_expect(intel_trace_regs, 0))
        intel_trace(d, 'W', txq_reg(d, queue, INTEL_Q_TAIL), i);
    return n;
}

/* Clears a queue's ENABLE and waits for it to read 0: until then the device
 * may still be reading or writing the queue's buffers (82599 §4.6.7.1,
 * 82576 §4.5.9). */
static int queue_disable(struct intel_dev *d, uint32_t dctl, const char *step)
{
    intel_clear(d, dctl, INTEL_DCTL_ENABLE);
    return intel_wait(d, dctl, INTEL_DCTL_ENABLE, 0, INTEL_QUEUE_STOP_US, step,
                      "its buffers stay out of the pool, as the device may still use them");
}

uint64_t intel_queues_stop(struct intel_dev *d)
{
    uint64_t unsent = 0;
    char step[40];
    for (int qi = 0; qi < d->nq; qi++) {
        struct intel_txq *tq = &d->txq[qi];
        struct intel_rxq *rq = &d->rxq[qi];
        if (tq->ring) {
            /* Sent is what the device's head has passed (82599 §7.2.3.5.1). */
            intel_wait(d, txq_reg(d, qi, INTEL_Q_HEAD), 0xFFFF, tq->next, INTEL_TX_DRAIN_US,
                       "draining the transmit ring",
                       "frames still queued are counted as tx_dropped");
            uint32_t head = intel_read(d, txq_reg(d, qi, INTEL_Q_HEAD));
            uint32_t mask = tq->size - 1u, outstanding = (tq->next - tq->clean) & mask;
            uint32_t left = (tq->next - head) & mask;
            if (head >= tq->size || left > outstanding) /* a head outside what was queued */
                left = outstanding;
            unsent += left;
            ksnprintf(step, sizeof(step), "stopping transmit queue %d", qi);
            if (queue_disable(d, txq_reg(d, qi, INTEL_Q_DCTL), step) == 0) {
                for (uint32_t i = tq->clean; i != tq->next; i = (i + 1) & mask)
                    pkt_free(tq->bufs[i]);
                tq->clean = tq->next;
            }
        }
        if (rq->ring) {
            ksnprintf(step, sizeof(step), "stopping receive queue %d", qi);
            if (queue_disable(d, rxq_reg(d, qi, INTEL_Q_DCTL), step) == 0)
                for (uint32_t i = 0; i < rq->size; i++)
                    pkt_free(rq->bufs[i]);
        }
    }
    return unsent;
}

/* Adds the NIC's clear-on-read counters to d's sums; last: the final read,
 * at stop or before the counters are cleared (octets_at_stop, intel.h). */
static void accumulate_stats(struct intel_dev *d, bool last)
{
    d->gprc += intel_read(d, INTEL_GPRC);
    d->gptc += intel_read(d, INTEL_GPTC);
    if (last || !d->hw->octets_at_stop) {
        uint64_t lo = intel_read(d, INTEL_GORCL); /* the low half first */
        d->gorc += lo | (uint64_t)intel_read(d, INTEL_GORCH) << 32;
        lo = intel_read(d, INTEL_GOTCL);
        d->gotc += lo | (uint64_t)intel_read(d, INTEL_GOTCH) << 32;
    }
    for (const uint32_t *r = d->hw->missed; *r; r++)
        d->missed += intel_read(d, *r);
    /* runts, frames over 1518 bytes (1522 tagged) and bad CRCs: the MAC
     * drops them (82599 §8.2.3.23, 82576 §8.19) */
    d->errors += intel_read(d, INTEL_RUC) + intel_read(d, INTEL_ROC) + intel_read(d, INTEL_CRCERRS);
}

void intel_clear_stats(struct intel_dev *d)
{
    accumulate_stats(d, true);
    d->gprc = d->gptc = d->gorc = d->gotc = d->missed = d->errors = 0;
}

void intel_read_stats(struct nic *nic, struct nic_stats *out)
{
    struct intel_dev *d = (struct intel_dev *)nic;
    if (!d->stopped) /* after stop, intel_stop has read them for the last time */
        accumulate_stats(d, false);
    *out = (struct nic_stats){ 0 };
    for (int q = 0; q < d->nq; q++) {
        out->rx_packets += d->rxq[q].packets;
        out->rx_bytes += d->rxq[q].bytes;
        out->tx_packets += d->txq[q].packets;
        out->tx_bytes += d->txq[q].bytes;
        out->rx_dropped += d->rxq[q].dropped;
        out->dev_errors += d->rxq[q].bad_wb;
        out->tx_dropped += d->txq[q].dropped;
        out->tx_resets += d->txq[q].resets;
    }
    *out = (struct nic_stats){
        .rx_packets = out->rx_packets,
        .rx_bytes = out->rx_bytes,
        .tx_packets = out->tx_packets,
        .tx_bytes = out->tx_bytes,
        .rx_dropped = out->rx_dropped + d->errors,
        .tx_dropped = out->tx_dropped + d->tx_unsent,
        .tx_resets = out->tx_resets,
        .dev_errors = out->dev_errors,
        .rx_missed = d->missed,
        .hw = true,
        .hw_rx_packets = d->gprc,
        .hw_rx_bytes = d->gorc,
        .hw_tx_packets = d->gptc,
        .hw_tx_bytes = d->gotc,
    };
}

void intel_stop(struct nic *nic)
{
    struct intel_dev *d = (struct intel_dev *)nic;
    if (d->stopped)
        return;
    d->stopped = true;
    intel_clear(d, d->hw->rx_on, d->hw->rx_on_bit); /* receive off before its queues */
    d->tx_unsent += intel_queues_stop(d);
    intel_clear(d, d->hw->tx_on, d->hw->tx_on_bit);
    accumulate_stats(d, true); /* the last read: what moved while the rings drained */
}

static int intel_set_promisc(struct nic *nic, bool on)
{
    struct intel_dev *d = (struct intel_dev *)nic;
    return d->hw->set_promisc(d, on);
}

static struct nic_link intel_link(struct nic *nic)
{
    const struct intel_dev *d = (const struct intel_dev *)nic;
    return d->hw->link(d);
}

static int intel_register_test(struct nic *nic, char *why, int len)
{
    const struct intel_dev *d = (const struct intel_dev *)nic;
    if (d->hw->register_test)
        return d->hw->register_test(nic, why, len);
    ksnprintf(why, (size_t)len, "no register test for the %s", d->hw->model);
    return 0;
}

const struct nic_ops intel_ops = {
    .rx_batch = intel_rx_batch,
    .tx_batch = intel_tx_batch,
    .read_stats = intel_read_stats,
    .set_promisc = intel_set_promisc,
    .use_queues = intel_use_queues,
    .link = intel_link,
    .tx_watch = intel_tx_watch,
    .ring_state = intel_ring_state,
    .stop = intel_stop,
    .register_test = intel_register_test,
};

struct nic *intel_open_pci(struct pci_dev *pci, const char *driver,
                           struct nic *(*open_at)(struct pci_dev *pci, uint64_t bar,
                                                  const void *arg),
                           const void *arg)
{
    if (pci->bar[0].type != PCI_BAR_MEM32 && pci->bar[0].type != PCI_BAR_MEM64) {
        char addr[PCI_ADDR_LEN];
        kprintf("%s %s: BAR0 is not memory\n", driver, pci_addr(addr, pci));
        return NULL;
    }
    pci_enable(pci, PCI_CMD_MEMORY | PCI_CMD_BUS_MASTER);
    struct nic *nic = open_at(pci, pci->bar[0].addr, arg);
    if (!nic)
        pci_disable(pci, PCI_CMD_BUS_MASTER);
    return nic;
}

int intel_global_reset(struct intel_dev *d, uint32_t extra)
{
    intel_write(d, INTEL_CTRL, intel_read(d, INTEL_CTRL) | INTEL_CTRL_RST | extra);
    delay_us(1000); /* 82599 §4.6.3.2, 82576 §4.5.2: at least 1 ms before looking again */
    return intel_wait(d, INTEL_CTRL, INTEL_CTRL_RST | extra, 0, INTEL_RESET_US,
                      "global reset (CTRL.RST)",
                      "the device did not come out of reset; check that it is powered (D0) and "
                      "that its BAR is mapped");
}

void intel_dev_init(struct intel_dev *d, const struct intel_hw *hw, struct pci_dev *pci,
                    uint64_t bar, const char *model, int queues)
{
    memset(d, 0, sizeof(*d));
    d->hw = hw;
    d->bar = bar;
    d->nic.driver = hw->driver;
    d->nic.model = model ? model : hw->model;
    d->nic.pci = pci;
    d->nic.ops = &intel_ops;
    d->nq = queues < 1 ? 1 : queues > NIC_MAX_QUEUES ? NIC_MAX_QUEUES : queues;
    d->nic.rx_queues = d->nic.tx_queues = (uint16_t)d->nq;
    pci_addr(d->nic.name, pci);
}

void intel_read_mac(struct intel_dev *d)
{
    uint32_t lo = intel_read(d, d->hw->ral0), hi = intel_read(d, d->hw->ral0 + 4);
    for (int i = 0; i < 4; i++)
        d->nic.mac[i] = (uint8_t)(lo >> (8 * i));
    d->nic.mac[4] = (uint8_t)hi;
    d->nic.mac[5] = (uint8_t)(hi >> 8);
}

/* The Toeplitz hash key: the example key of Microsoft's RSS specification,
 * which spreads addresses and ports well. */
static const uint8_t rss_key[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static void rss_spread(struct intel_dev *d, int n)
{
    for (int i = 0; i < 32; i++) {
        uint32_t v = 0;
        for (int k = 0; k < 4; k++)
            v |= (uint32_t)((4 * i + k) % n) << (8 * k);
        intel_write(d, d->hw->reta0 + 4 * (uint32_t)i, v);
    }
}

void intel_rss_init(struct intel_dev *d)
{
    intel_set(d, INTEL_RXCSUM, INTEL_RXCSUM_PCSD);
    for (int i = 0; i < 10; i++) /* the key's first byte in RSSRK(0)'s low byte */
        intel_write(d, d->hw->rssrk0 + 4 * (uint32_t)i,
                    (uint32_t)rss_key[4 * i] | (uint32_t)rss_key[4 * i + 1] << 8 |
                        (uint32_t)rss_key[4 * i + 2] << 16 | (uint32_t)rss_key[4 * i + 3] << 24);
    rss_spread(d, d->nq);
    intel_write(d, d->hw->mrqc,
                d->hw->mrqc_rss | INTEL_MRQC_TCPIPV4 | INTEL_MRQC_IPV4 | INTEL_MRQC_IPV6 |
                    INTEL_MRQC_TCPIPV6 | INTEL_MRQC_UDPIPV4 | INTEL_MRQC_UDPIPV6);
}

void intel_use_queues(struct nic *nic, uint16_t n)
{
    struct intel_dev *d = (struct intel_dev *)nic;
    if (d->nq > 1 && n >= 1)
        rss_spread(d, n);
}
