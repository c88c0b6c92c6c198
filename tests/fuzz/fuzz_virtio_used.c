/*
 * tests/fuzz/fuzz_virtio_used.c - driver/virtio_net.c's data path against
 * a legacy virtio-net device (virtio 1.2 §4.1.4.8, §2.7) that writes its
 * used rings and configuration as the input says: ids never made available
 * or already returned, lengths past the buffer, runts, num_buffers beyond
 * what is waiting, a used index that jumps ahead or back, queue sizes that
 * are not powers of two, any feature bits, a control queue that answers
 * with the wrong id or refuses.
 *
 * Input: u32 device features; a byte for the queue size (1 << (b % 11), or
 * with bit 7 the raw u16 that follows); the u16; queue pairs asked for
 * (1 + b % 4); u16 max_virtqueue_pairs; the link status byte; the control
 * queue's answer (id byte, ack byte); then steps of 8 bytes
 * {op, a, u16 b, u32 c}:
 *   op % 8 == 0  RX used entry: the next head made available (a bit 0) or
 *                id c; length b; num_buffers a >> 4 in its header; an
 *                802.1Q frame if a bit 2
 *   op % 8 == 1  the RX used index moves by b (a jump, or back)
 *   op % 8 == 2  rx_batch for up to a + 1 frames
 *   op % 8 == 3  tx_batch of 1 + a % 8 frames of 60 + b % 1459 bytes
 *   op % 8 == 4  TX used entry: the next head made available (a bit 0) or id c
 *   op % 8 == 5  link and statistics read
 *   op % 8 == 6  the TX used index moves by b
 *   op % 8 == 7  rx_batch for 256
 * At the end the driver stops; every buffer of both pools must be back.
 */
#include "driver/virtio_net.h"
#include "driver/pktbuf.h"
#include "tests/fuzz/fuzz.h"
#include "tests/fuzz/platform.h"

#define IO 0xC000u
#define F_MRG_RXBUF (1u << 15)
#define F_ANY_LAYOUT (1u << 27)

/* --- PCI: a legacy device, no capabilities ---------------------------------- */

uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
    (void)d, (void)off;
    return 0;
}

uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
    (void)d, (void)off;
    return 0;
}

void pci_enable(const struct pci_dev *d, uint16_t bits)
{
    (void)d, (void)bits;
}

void pci_disable(const struct pci_dev *d, uint16_t bits)
{
    (void)d, (void)bits;
}

/* --- the device ------------------------------------------------------------- */

#define NQ 16 /* queues whose rings the device remembers */

struct fq {
    uint16_t index;
    uint8_t *mem;        /* the legacy layout (§2.7.2) from the page frame number */
    uint16_t last_avail; /* the next available entry the device takes */
};

static struct {
    uint32_t features, driver_features;
    uint16_t qsize, max_pairs, sel;
    uint8_t status, link, ctrl_id, ctrl_ack;
    struct fq q[NQ];
    int nq;
} dev;

static struct fq *queue(uint16_t index)
{
    for (int i = 0; i < dev.nq; i++)
        if (dev.q[i].index == index)
            return &dev.q[i];
    return NULL;
}

static uint8_t *desc(struct fq *q, uint16_t i)
{
    return q->mem + 16u * (i % dev.qsize);
}

static volatile uint16_t *avail(struct fq *q, uint32_t i) /* 0: flags, 1: idx, 2 + k: ring */
{
    return (volatile uint16_t *)(q->mem + 16u * dev.qsize) + i;
}

static uint8_t *used(struct fq *q)
{
    return q->mem + ((16u * dev.qsize + 6 + 2u * dev.qsize + 4095) & ~4095u);
}

static void push_used(struct fq *q, uint32_t id, uint32_t len)
{
    uint16_t at;
    memcpy(&at, used(q) + 2, 2);
    memcpy(used(q) + 4 + 8u * (at % dev.qsize), &id, 4);
    memcpy(used(q) + 4 + 8u * (at % dev.qsize) + 4, &len, 4);
    at++;
    memcpy(used(q) + 2, &at, 2);
}

static void move_used(struct fq *q, uint16_t by)
{
    uint16_t at;
    memcpy(&at, used(q) + 2, 2);
    at = (uint16_t)(at + by);
    memcpy(used(q) + 2, &at, 2);
}

/* The next head the driver made available, or -1. */
static int next_head(struct fq *q)
{
    if (q->last_avail == *avail(q, 1))
        return -1;
    return *avail(q, 2 + q->last_avail++ % dev.qsize);
}

static uint64_t desc_addr(struct fq *q, uint16_t i)
{
    uint64_t a;
    memcpy(&a, desc(q, i), 8);
    return a;
}

/* The control queue was notified: one command, answered as the input says. */
static void ctrl_answer(struct fq *q)
{
    if (next_head(q) < 0)
        return;
    uint64_t ack = desc_addr(q, 2); /* the driver's layout: header, data, ack */
    if (fuzz_dma_owns((void *)(uintptr_t)ack, 1))
        *(uint8_t *)(uintptr_t)ack = dev.ctrl_ack;
    push_used(q, dev.ctrl_id, 1);
}

static uint32_t io_in(uint16_t port, int size)
{
    uint16_t r = port - IO;
    if (port < IO || r + size > 0x14 + 10) {
        fprintf(stderr, "virtio-net read port 0x%x, outside the legacy layout\n", port);
        abort();
    }
    switch (r) {
    case 0x00:
        return dev.features;
    case 0x0C:
        return dev.qsize;
    case 0x12:
        return dev.status;
    case 0x14 + 6:
        return dev.link;
    case 0x14 + 8:
        return dev.max_pairs;
    default:
        return r >= 0x14 && r < 0x14 + 6 ? 0x50u + r : 0; /* the MAC */
    }
}

static void io_out(uint16_t port, uint32_t v, int size)
{
    (void)size;
    switch (port - IO) {
    case 0x04:
        dev.driver_features = v;
        return;
    case 0x08: { /* the selected queue's page frame number */
        struct fq *q = queue(dev.sel);
        if (!q && dev.nq < NQ)
            q = &dev.q[dev.nq++];
        if (q)
            *q = (struct fq){ dev.sel, (uint8_t *)(uintptr_t)((uint64_t)v * 4096), 0 };
        return;
    }
    case 0x0E:
        dev.sel = (uint16_t)v;
        return;
    case 0x10: {
        struct fq *q = queue((uint16_t)v);
        if (q && v == 2u * dev.max_pairs && v > 1)
            ctrl_answer(q);
        return;
    }
    case 0x12:
        dev.status = (uint8_t)v;
        return;
    }
}

/* --- the driver's side ------------------------------------------------------ */

static void check_rx(struct pkt_buf *b, struct nic *nic)
{
    FUZZ_CHECK(b->pool == nic->pool[0]);
    FUZZ_CHECK(b->len >= PKT_MIN_FRAME && b->len <= PKT_MAX_FRAME);
}

/* Step 0: a used entry on the receive queue, and what the buffer holds. */
static void rx_entry(struct fq *q, uint8_t a, uint16_t len, uint32_t id)
{
    if (a & 1) {
        int h = next_head(q);
        if (h < 0)
            return;
        id = (uint32_t)h;
    }
    if (id < dev.qsize) { /* a header and frame start where the head points, if it points */
        bool any = dev.driver_features & F_ANY_LAYOUT;
        uint32_t hdr = dev.driver_features & F_MRG_RXBUF ? 12 : 10;
        uint8_t *h = (uint8_t *)(uintptr_t)desc_addr(q, (uint16_t)id);
        uint8_t *f = any ? h + hdr : (uint8_t *)(uintptr_t)desc_addr(q, (uint16_t)(id + 1));
        if (fuzz_dma_owns(h, hdr) && fuzz_dma_owns(f, 14)) {
            memset(h, 0, hdr);
            h[10] = a >> 4; /* num_buffers */
            f[12] = a & 4 ? 0x81 : 0x08;
            f[13] = 0;
        }
    }
    push_used(q, id, len);
}

static struct mempool *tx_pool;

static void tx_frames(struct nic *nic, uint8_t a, uint16_t b)
{
    struct pkt_buf *bufs[8];
    uint32_t n = pkt_alloc_batch(tx_pool, bufs, 1 + a % 8u);
    for (uint32_t i = 0; i < n; i++) {
        bufs[i]->len = (uint16_t)(60 + b % 1459);
        memset(pkt_data(bufs[i]), 0xA5, bufs[i]->len);
    }
    uint32_t sent = nic->ops->tx_batch(nic, 0, bufs, n);
    FUZZ_CHECK(sent <= n);
    pkt_free_batch(bufs + sent, n - sent);
}

static void rx_frames(struct nic *nic, uint32_t n)
{
    struct pkt_buf *bufs[256];
    uint32_t got = nic->ops->rx_batch(nic, 0, bufs, n);
    FUZZ_CHECK(got <= n);
    for (uint32_t i = 0; i < got; i++)
        check_rx(bufs[i], nic);
    pkt_free_batch(bufs, got);
}

static struct pci_dev pci = { .bus = 0, .dev = 3, .vendor = 0x1af4, .device = 0x1000 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 13)
        return 0;
    console_log_clear();
    fuzz_dma_reset();
    memset(&dev, 0, sizeof(dev));
    dev.features = fuzz_u32(data, size, 0);
    dev.qsize =
        data[4] & 0x80 ? (uint16_t)(data[5] | data[6] << 8) : (uint16_t)(1u << (data[4] % 11));
    int pairs = 1 + data[7] % 4;
    dev.max_pairs = (uint16_t)(data[8] | data[9] << 8);
    dev.link = data[10];
    dev.ctrl_id = data[11], dev.ctrl_ack = data[12];
    fake_io_reset();
    fake_io.in = io_in, fake_io.out = io_out;
    pci.bar[0] = (struct pci_bar){ .addr = IO, .size = 32, .type = PCI_BAR_IO };
    tx_pool = mempool_create("fuzz tx", 64);
    FUZZ_CHECK(tx_pool);

    struct nic *nic = virtio_net_open(&pci, pairs);
    if (!nic)
        return 0;
    struct fq *rxq = queue(0), *txq = queue(1);
    FUZZ_CHECK(rxq && txq);
    for (size_t at = 13; at + 8 <= size; at += 8) {
        uint8_t op = data[at], a = data[at + 1];
        uint16_t b = (uint16_t)(data[at + 2] | data[at + 3] << 8);
        uint32_t c = fuzz_u32(data, size, at + 4);
        switch (op % 8) {
        case 0:
            rx_entry(rxq, a, b, c);
            break;
        case 1:
            move_used(rxq, b);
            break;
        case 2:
            rx_frames(nic, a + 1u);
            break;
        case 3:
            tx_frames(nic, a, b);
            break;
        case 4: {
            int h = a & 1 ? next_head(txq) : (int)c;
            if (!(a & 1) || h >= 0)
                push_used(txq, (uint32_t)h, 0);
            break;
        }
        case 5: {
            struct nic_stats st;
            nic->ops->link(nic);
            nic->ops->read_stats(nic, &st);
            FUZZ_CHECK(st.rx_packets <= UINT64_MAX / 2);
            break;
        }
        case 6:
            move_used(txq, b);
            break;
        case 7:
            rx_frames(nic, 256);
            break;
        }
    }
    nic->ops->stop(nic);
    /* The device was reset: every buffer is the driver's again, and back. */
    for (int k = 0; k < NIC_MAX_QUEUES && nic->pool[k]; k++)
        FUZZ_CHECK(nic->pool[k]->nfree == nic->pool[k]->count);
    FUZZ_CHECK(tx_pool->nfree == tx_pool->count);
    return 0;
}
