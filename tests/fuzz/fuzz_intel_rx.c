/*
 * tests/fuzz/fuzz_intel_rx.c - the Intel receive path both chips share
 * (driver/intel.c: intel_rx_batch and the drops under it) against a device
 * that writes back whatever the input says: lengths past the 2 KiB buffer,
 * runts and giants, no EOP (a frame over several buffers, ended or never
 * ended), DD out of order, on descriptors the driver has not handed over,
 * or twice. The queue is set up by the driver itself (intel_rx_setup,
 * intel_rx_start) behind a register file that says yes to everything.
 *
 * Input: byte 0 the ring size (64 << (b % 4)) and how frames are handed
 * out (b / 4 % 3: as they came, or with their first 16 bytes reversed by
 * the receive's rewrite, driver/rewrite.h, with PSHUFB or a byte at a
 * time), byte 1 the pool's buffers
 * beyond the ring (too few leaves frames for the next poll), then steps of
 * 4 bytes {op, a, b, c}:
 *   op % 4 == 0, 1  the device writes back descriptor head + (op == 1 ? a : 0)
 *                   with status c (DD set if c bit 7 is clear) and length a | b << 8
 *                   (op 0) or b << 4 (op 1), then moves its head on (op 0)
 *   op % 4 == 2     rx_batch for up to a + 1 frames
 *   op % 4 == 3     rx_batch for 256, then the device skips b descriptors
 * Every frame handed out is checked (60 to 1518 bytes, a buffer of the
 * pool's, its first 16 bytes a pattern of its buffer's, reversed if
 * rewritten, never rewritten twice or not at all) and freed; at the end
 * every buffer is in the ring or the pool.
 */
#include "driver/intel.h"
#include "driver/pktbuf.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/platform.h"

#define BAR 0xFE000000ull
#define RDBAL0 0x01000

static const struct intel_hw hw = {
    .driver = "intel",
    .model = "fuzz",
    .rx_base = RDBAL0,
    .tx_base = 0x06000,
    .srrctl_base = 0x01014,
    .srrctl_drop_en = 1u << 28,
};

static struct pci_dev pci = { .bus = 3 };
static struct intel_dev *dev;

static void check_ours(const struct pkt_buf *b, const struct mempool *pool)
{
    FUZZ_CHECK(b->pool == pool && b >= pool->bufs && b < pool->bufs + pool->count);
}

/* Byte j of buffer b's pattern: the device writes no frame data, so a
 * frame's first 16 bytes are its buffer's pattern, or the rewrite of it. */
static uint8_t pattern(const struct pkt_buf *b, int j)
{
    return (uint8_t)(b->index * 16 + (uint32_t)j);
}

static void set_pattern(struct pkt_buf *b)
{
    for (int j = 0; j < 16; j++)
        pkt_rx_data(b)[j] = pattern(b, j);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    console_log_clear();
    fake_io_reset(); /* registers read all ones: every enable bit is seen set */
    fuzz_dma_reset();
    dev = dma_alloc(sizeof(*dev), 64);
    intel_dev_init(dev, &hw, &pci, BAR, NULL, 1);
    uint16_t ring = (uint16_t)(64u << (data[0] % 4));
    struct mempool *pool = mempool_create("fuzz", ring + data[1]);
    FUZZ_CHECK(pool && intel_rx_setup(dev, 0, ring, pool) == 0 && intel_rx_start(dev, 0) == 0);
    struct intel_rxq *q = &dev->rxq[0];
    for (uint32_t i = 0; i < pool->count; i++)
        set_pattern(&pool->bufs[i]);
    static struct pkt_rewrite reverse;
    bool rewrites = data[0] / 4 % 3;
    if (rewrites) {
        pkt_rewrite_init(&reverse);
        for (int j = 0; j < 16; j++)
            reverse.map[j] = (uint8_t)(15 - j);
        reverse.pshufb &= data[0] / 4 % 3 == 1;
        dev->nic.rx_rewrite = &reverse;
    }

    uint32_t head = 0, mask = ring - 1u;
    for (size_t at = 2; at + 4 <= size; at += 4) {
        uint8_t op = data[at], a = data[at + 1], b = data[at + 2], c = data[at + 3];
        if (op % 4 <= 1) {
            volatile union intel_rx_desc *d = &q->ring[(head + (op % 4 ? a : 0u)) & mask];
            d->wb.info = 0, d->wb.rss = 0;
            d->wb.length = op % 4 ? (uint16_t)(b << 4) : (uint16_t)(a | b << 8);
            d->wb.vlan = 0;
            d->wb.status_error = (uint32_t)(c & 0x7F) | (c & 0x80 ? 0 : INTEL_RXD_DD);
            head += op % 4 == 0;
            continue;
        }
        struct pkt_buf *bufs[256];
        uint32_t want = op % 4 == 2 ? a + 1u : 256u;
        uint32_t got = intel_rx_batch(&dev->nic, 0, bufs, want);
        FUZZ_CHECK(got <= want);
        for (uint32_t i = 0; i < got; i++) {
            check_ours(bufs[i], pool);
            FUZZ_CHECK(bufs[i]->len >= PKT_MIN_FRAME && bufs[i]->len <= PKT_MAX_FRAME);
            for (int j = 0; j < 16; j++)
                FUZZ_CHECK(pkt_rx_data(bufs[i])[j] == pattern(bufs[i], rewrites ? 15 - j : j));
            set_pattern(bufs[i]);
        }
        pkt_free_batch(bufs, got);
        if (op % 4 == 3)
            head += b;
    }
    /* Nothing lost, nothing twice: the ring holds one buffer a descriptor,
     * each its own, and the pool the rest. */
    FUZZ_CHECK(pool->nfree + ring == pool->count);
    static uint8_t seen[4096 + 256];
    memset(seen, 0, pool->count);
    for (uint32_t i = 0; i < ring; i++) {
        check_ours(q->bufs[i], pool);
        FUZZ_CHECK(!seen[q->bufs[i]->index]++);
    }
    for (uint32_t i = 0; i < pool->nfree; i++)
        FUZZ_CHECK(!seen[pool->free[i]->index]++);
    return 0;
}
