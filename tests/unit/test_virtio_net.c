/*
 * tests/unit/test_virtio_net.c - the unchanged driver/virtio_net.c against a
 * fake legacy virtio-net device (virtio 1.2 §4.1.4.8 for its I/O BAR, §2.7
 * for the split virtqueues it reads and writes), which a test can make lie:
 * a used-ring entry with an id never made available, a length past the
 * buffer, a used index that jumps.
 *
 * The register door (kernel/io.h, IXM_HOST) leads to the fake: port reads
 * and writes at BAR0 (FAKE_IO). DMA memory comes from a block mapped below
 * 4 GiB, so the 32-bit page frame number a legacy device is given
 * (L_QUEUE_ADDRESS) names it, and is guarded: the fake device and the
 * driver must stay inside what was allocated (AddressSanitizer sees the
 * rest).
 */
#define _GNU_SOURCE /* MAP_ANONYMOUS, MAP_32BIT */
#include <stdlib.h>
#include <sys/mman.h>

#include "driver/nic.h"
#include "driver/virtio_net.h"
#include "tests/unit/host.h"

/* --- the platform: time, DMA memory, PCI ----------------------------------------- */

static uint64_t clock_ns;

uint64_t now_ns(void)
{
    return clock_ns += 1000;
}

void delay_us(uint64_t us)
{
    clock_ns += us * 1000;
}

/* DMA memory: a stack in one block below 4 GiB. A block given back while
 * it is the last one handed out lowers the stack to where it was before
 * it (a failed open unwinding in reverse gives its memory back so); the
 * blocks outstanding are listed, so a case can count what an open left
 * taken. cpu_alloc is dma_alloc here (driver/platform.h). */
#define DMA_SIZE (64u << 20)
#define DMA_BLOCKS 128
static uint8_t *dma_base;
static size_t dma_used;
static struct {
    uint8_t *p;
    size_t len, below; /* below: dma_used before it was handed out */
} blocks[DMA_BLOCKS];
static int nblocks;
static unsigned dma_allocs;  /* calls so far */
static unsigned dma_fail_at; /* set: that call (1 = the first) returns NULL */

void *dma_alloc(size_t size, size_t align)
{
    if (!dma_base) {
        dma_base = mmap(NULL, DMA_SIZE, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
        if (dma_base == MAP_FAILED)
            return dma_base = NULL;
    }
    size_t at = (dma_used + align - 1) / align * align;
    if (at + size > DMA_SIZE || nblocks == DMA_BLOCKS || ++dma_allocs == dma_fail_at)
        return NULL;
    blocks[nblocks].p = dma_base + at;
    blocks[nblocks].len = size;
    blocks[nblocks++].below = dma_used;
    dma_used = at + size;
    memset(dma_base + at, 0, size);
    return dma_base + at;
}

/* A block given back must be one handed out, whole, and given back once. */
void dma_free(void *p, size_t size)
{
    if (!p) /* as the kernel's: nothing */
        return;
    for (int i = nblocks - 1; i >= 0; i--) {
        if (blocks[i].p != p)
            continue;
        if (blocks[i].len != size)
            test_fail(__FILE__, __LINE__, "block of %zu bytes given back as %zu", blocks[i].len,
                      size);
        if (i == nblocks - 1)
            dma_used = blocks[i].below;
        memmove(&blocks[i], &blocks[i + 1], (size_t)(--nblocks - i) * sizeof(blocks[0]));
        return;
    }
    test_fail(__FILE__, __LINE__, "dma_free(%p, %zu): not a block handed out", p, size);
}

/* Configuration space: all zeros (no capability list: a legacy device)
 * unless a case writes capabilities into it. */
static uint8_t config[256];

uint32_t pci_read32(const struct pci_dev *d, uint16_t off)
{
    (void)d;
    if (off > 252)
        return 0xFFFFFFFF;
    uint32_t v;
    memcpy(&v, config + (off & ~3), 4);
    return v;
}

uint16_t pci_read16(const struct pci_dev *d, uint16_t off)
{
    return (uint16_t)(pci_read32(d, off & ~3) >> ((off & 2) * 8));
}

#define pci_command fake_pci_command[0] /* the function's Command register (host.c) */

/* --- the fake device --------------------------------------------------------------- */

#define FAKE_IO 0xC000
#define QSIZE 256
#define HDR 12 /* with MRG_RXBUF: num_buffers at 10 */
#define F_MAC (1u << 5)
#define F_MRG_RXBUF (1u << 15)
#define F_STATUS (1u << 16)
#define F_ANY_LAYOUT (1u << 27)
#define F_CTRL_VQ (1u << 17)
#define F_MQ (1u << 22)

struct fq {
    uint8_t *mem;        /* descriptors, available ring, then (4096-aligned) used ring */
    uint16_t last_avail; /* the next available entry the device takes */
};

static struct {
    uint8_t status;
    bool reset_stuck; /* set: a write of 0 to the status leaves it nonzero (§2.4 unfinished) */
    bool failed_seen; /* FAILED (0x80) was written to the status */
    bool mq;          /* offer MQ and the control queue: 2 pairs, queue 4 the control one */
    bool ctrl_silent; /* set: a control command is never answered */
    uint32_t features;
    uint16_t sel;
    struct fq q[5];
    uint8_t frames[64][1600]; /* what the driver transmitted */
    uint32_t lens[64];
    unsigned sent;
} dev;

static uint8_t *desc(struct fq *q, uint16_t i)
{
    return q->mem + 16u * i;
}

static volatile uint16_t *avail(struct fq *q, uint32_t i) /* 0: flags, 1: idx, 2 + k: ring */
{
    return (volatile uint16_t *)(q->mem + 16u * QSIZE) + i;
}

static uint8_t *used(struct fq *q)
{
    return q->mem + ((16u * QSIZE + 6 + 2 * QSIZE + 4095) & ~4095u);
}

static volatile uint16_t *used_idx(struct fq *q)
{
    return (volatile uint16_t *)(used(q) + 2);
}

static void push_used(struct fq *q, uint32_t id, uint32_t len)
{
    uint16_t at = *used_idx(q);
    memcpy(used(q) + 4 + 8u * (at % QSIZE), &id, 4);
    memcpy(used(q) + 4 + 8u * (at % QSIZE) + 4, &len, 4);
    __atomic_store_n(used_idx(q), (uint16_t)(at + 1), __ATOMIC_RELEASE);
}

/* The driver notified the transmit queue: every frame taken, kept, used. */
static void tx_notify(void)
{
    struct fq *q = &dev.q[1];
    while (q->last_avail != *avail(q, 1)) {
        uint16_t id = *avail(q, 2 + q->last_avail++ % QSIZE);
        uint64_t addr;
        uint32_t len;
        memcpy(&addr, desc(q, id), 8);
        memcpy(&len, desc(q, id) + 8, 4);
        if (dev.sent < 64 && len >= HDR && len - HDR <= 1600) {
            memcpy(dev.frames[dev.sent], (uint8_t *)(uintptr_t)addr + HDR, len - HDR);
            dev.lens[dev.sent] = len - HDR;
        }
        dev.sent++;
        push_used(q, id, 0);
    }
}

/* The driver notified the control queue (§5.1.6.5): each command taken
 * and acknowledged OK in its last descriptor, the device-writable ack. */
static void ctrl_notify(void)
{
    struct fq *q = &dev.q[4];
    while (q->last_avail != *avail(q, 1)) {
        uint16_t id = *avail(q, 2 + q->last_avail++ % QSIZE), at = id, flags;
        uint64_t addr;
        while (memcpy(&flags, desc(q, at) + 12, 2), flags & 1) /* NEXT */
            memcpy(&at, desc(q, at) + 14, 2);
        memcpy(&addr, desc(q, at), 8);
        *(uint8_t *)(uintptr_t)addr = 0; /* VIRTIO_NET_OK */
        push_used(q, id, 1);
    }
}

static uint32_t io_in(uint16_t port, int size)
{
    (void)size;
    switch (port - FAKE_IO) {
    case 0x00: /* device features */
        return F_MAC | F_STATUS | F_MRG_RXBUF | F_ANY_LAYOUT | (dev.mq ? F_CTRL_VQ | F_MQ : 0);
    case 0x0C: /* queue size */
        return dev.sel < (dev.mq ? 5 : 2) ? QSIZE : 0;
    case 0x14 + 8: /* max_virtqueue_pairs (§5.1.4) */
        return dev.mq ? 2 : 0;
    case 0x12:
        return dev.status;
    case 0x14 + 5: /* MAC 52:54:00:12:34:56 */
        return 0x56;
    case 0x14 + 6: /* config status: link up */
        return 1;
    default:
        if (port >= FAKE_IO + 0x14 && port < FAKE_IO + 0x14 + 5)
            return (uint8_t[]){ 0x52, 0x54, 0x00, 0x12, 0x34 }[port - FAKE_IO - 0x14];
        return 0;
    }
}

static void io_out(uint16_t port, uint32_t v, int size)
{
    (void)size;
    switch (port - FAKE_IO) {
    case 0x04:
        dev.features = v;
        return;
    case 0x08: /* the selected queue's page frame number */
        if (dev.sel < 5)
            dev.q[dev.sel] = (struct fq){ (uint8_t *)(uintptr_t)((uint64_t)v * 4096), 0 };
        return;
    case 0x0E:
        dev.sel = (uint16_t)v;
        return;
    case 0x10:
        if (v == 1)
            tx_notify();
        if (v == 4 && dev.mq && !dev.ctrl_silent)
            ctrl_notify();
        return;
    case 0x12:
        dev.status = (uint8_t)v;
        dev.failed_seen |= (v & 0x80) != 0;
        if (v == 0 && dev.reset_stuck)
            dev.status = 0x01; /* still ACKNOWLEDGE: the reset never finishes */
        return;
    }
}

/* A frame from the wire into the next available receive buffer; the used
 * entry says id and len (UINT32_MAX: the true ones). */
static bool deliver(const uint8_t *f, uint32_t len, uint32_t id, uint32_t used_len)
{
    struct fq *q = &dev.q[0];
    if (q->last_avail == *avail(q, 1))
        return false;
    uint16_t head = *avail(q, 2 + q->last_avail++ % QSIZE);
    uint64_t addr;
    uint32_t room;
    memcpy(&addr, desc(q, head), 8);
    memcpy(&room, desc(q, head) + 8, 4);
    CHECK(len + HDR <= room);
    uint8_t *buf = (uint8_t *)(uintptr_t)addr;
    memset(buf, 0, HDR);
    buf[10] = 1; /* num_buffers */
    memcpy(buf + HDR, f, len);
    push_used(q, id == UINT32_MAX ? head : id, used_len == UINT32_MAX ? len + HDR : used_len);
    return true;
}

static uint32_t test_frame(uint64_t k, uint8_t *f)
{
    uint32_t len = 60 + (uint32_t)(k * 97 % 1400);
    for (uint32_t i = 0; i < len; i++)
        f[i] = (uint8_t)(k * 31 + i * 7);
    f[0] = 0x02; /* unicast */
    f[12] = 0x08, f[13] = 0x00;
    memcpy(f + 14, &k, sizeof(k));
    return len;
}

static struct pci_dev pci = { .bus = 0, .dev = 3, .fn = 0, .vendor = 0x1af4, .device = 0x1000 };

static struct nic *open_fake(void)
{
    memset(&dev, 0, sizeof(dev));
    fake_io.in = io_in;
    fake_io.out = io_out;
    pci.bar[0] = (struct pci_bar){ .addr = FAKE_IO, .size = 32, .type = PCI_BAR_IO };
    struct nic *n = virtio_net_open(&pci, 1);
    CHECK(n != NULL);
    return n;
}

/* Up to 32 frames received; each compared with test_frame(k) for the k it carries. */
static uint32_t receive_checked(struct nic *n)
{
    struct pkt_buf *bufs[32];
    uint8_t want[1600];
    uint32_t got = n->ops->rx_batch(n, 0, bufs, 32);
    for (uint32_t i = 0; i < got; i++) {
        uint64_t k;
        memcpy(&k, pkt_data(bufs[i]) + 14, sizeof(k));
        uint32_t len = test_frame(k, want);
        CHECK_EQ(bufs[i]->len, len);
        CHECK(memcmp(pkt_data(bufs[i]), want, len) == 0);
    }
    pkt_free_batch(bufs, got);
    return got;
}

static struct nic_stats stats(struct nic *n)
{
    struct nic_stats s;
    n->ops->read_stats(n, &s);
    return s;
}

/* line said once, and nothing else of its kind (the rest held back). */
static void said_once(const char *line, const char *kind)
{
    CHECK_EQ(console_count(line), 1);
    CHECK_EQ(console_count(kind), 1);
}

/* --- cases ----------------------------------------------------------------------- */

/* The fake as an honest device: frames in and out, byte for byte. */
static void honest_device(void)
{
    struct nic *n = open_fake();
    if (!n)
        return;
    CHECK_STR(n->model, "legacy");
    CHECK(console_contains("virtio-net 0000:00:03.0: legacy, features 0x"));
    uint8_t f[1600];
    for (uint64_t k = 0; k < 5; k++)
        CHECK(deliver(f, test_frame(k, f), UINT32_MAX, UINT32_MAX));
    CHECK_EQ(receive_checked(n), 5);
    struct pkt_buf *bufs[4];
    CHECK_EQ(pkt_alloc_batch(n->pool[0], bufs, 4), 4);
    for (int i = 0; i < 4; i++) {
        bufs[i]->len = (uint16_t)test_frame(100 + (uint64_t)i, pkt_data(bufs[i]));
    }
    CHECK_EQ(n->ops->tx_batch(n, 0, bufs, 4), 4);
    CHECK_EQ(dev.sent, 4);
    for (int i = 0; i < 4; i++) {
        uint32_t len = test_frame(100 + (uint64_t)i, f);
        CHECK_EQ(dev.lens[i], len);
        CHECK(memcmp(dev.frames[i], f, len) == 0);
    }
    n->ops->stop(n);
    struct nic_stats s = stats(n);
    CHECK_EQ(s.rx_packets, 5);
    CHECK_EQ(s.tx_packets, 4);
    CHECK_EQ(s.rx_dropped + s.tx_dropped + s.dev_errors, 0);
    CHECK_EQ(n->pool[0]->nfree, n->pool[0]->count);
}

/* Receive: an id never made available (twice), a length past the buffer
 * (twice), a used index that jumps by 1000 and later comes back, between
 * good frames. Each lie is one counted drop (rx_dropped, dev_errors) and
 * each kind is said once (the second within a second is not); the good
 * frames arrive intact; no buffer is lost. */
static void lying_receive(void)
{
    struct nic *n = open_fake();
    if (!n)
        return;
    uint8_t f[1600];
    uint64_t k = 0;
    CHECK(deliver(f, test_frame(k++, f), UINT32_MAX, UINT32_MAX));
    CHECK(deliver(f, test_frame(k++, f), 4000, UINT32_MAX)); /* no such descriptor */
    CHECK(deliver(f, test_frame(k++, f), 300, UINT32_MAX));
    CHECK(deliver(f, test_frame(k++, f), UINT32_MAX, UINT32_MAX));
    CHECK(deliver(f, test_frame(k++, f), UINT32_MAX, HDR + 1518 + 1)); /* past the buffer */
    CHECK(deliver(f, test_frame(k++, f), UINT32_MAX, 0xFFFFFFFF - 1));
    CHECK(deliver(f, test_frame(k++, f), UINT32_MAX, UINT32_MAX));
    CHECK_EQ(receive_checked(n), 3);
    struct nic_stats s = stats(n);
    CHECK_EQ(s.rx_packets, 3);
    CHECK_EQ(s.rx_dropped, 4);
    CHECK_EQ(s.dev_errors, 4);
    said_once("virtio-net 0000:00:03.0: queue 0 returned an id it was never given (4000); "
              "skipped (1 so far; device broken?)\n",
              "an id it was never given");
    said_once("virtio-net 0000:00:03.0: queue 0 returned a length past its buffer (1531); "
              "skipped (3 so far; device broken?)\n",
              "a length past its buffer");

    /* The used index jumps 1000 ahead: nothing is taken, said once however
     * often it is polled; back in range, the entries behind it count. */
    struct fq *q = &dev.q[0];
    CHECK(deliver(f, test_frame(k++, f), UINT32_MAX, UINT32_MAX));
    *used_idx(q) += 1000;
    for (int i = 0; i < 3; i++)
        CHECK_EQ(receive_checked(n), 0);
    CHECK_EQ(console_count("a used index more than the queue's size ahead"), 1);
    *used_idx(q) -= 1000;
    CHECK_EQ(receive_checked(n), 1);
    s = stats(n);
    CHECK_EQ(s.rx_packets, 4);
    CHECK_EQ(s.dev_errors, 5);
    /* A second jump, more than a second later, is said again. */
    delay_us(2000000);
    *used_idx(q) += 1000;
    CHECK_EQ(receive_checked(n), 0);
    *used_idx(q) -= 1000;
    CHECK_EQ(console_count("a used index more than the queue's size ahead"), 2);
    n->ops->stop(n);
    CHECK_EQ(n->pool[0]->nfree, n->pool[0]->count);
}

/* Transmit: the device hands back a slot twice, and one it never had: the
 * buffer goes back to the pool once, the lies are counted and said. */
static void lying_transmit(void)
{
    struct nic *n = open_fake();
    if (!n)
        return;
    struct pkt_buf *bufs[2];
    CHECK_EQ(pkt_alloc_batch(n->pool[0], bufs, 2), 2);
    for (int i = 0; i < 2; i++)
        bufs[i]->len = (uint16_t)test_frame((uint64_t)i, pkt_data(bufs[i]));
    CHECK_EQ(n->ops->tx_batch(n, 0, bufs, 2), 2);
    CHECK_EQ(dev.sent, 2);
    struct fq *q = &dev.q[1];
    uint32_t first;
    memcpy(&first, used(q) + 4, 4);
    push_used(q, first, 0);                       /* the same slot again */
    push_used(q, 999, 0);                         /* none such */
    CHECK_EQ(n->ops->tx_batch(n, 0, bufs, 0), 0); /* reclaims */
    struct nic_stats s = stats(n);
    CHECK_EQ(s.dev_errors, 2);
    CHECK_EQ(s.tx_packets, 2);
    CHECK_EQ(console_count("virtio-net 0000:00:03.0: queue 1 returned an id it was never given ("),
             1);
    n->ops->stop(n);
    CHECK_EQ(n->pool[0]->nfree, n->pool[0]->count);
}

/* A modern device's register access, which no case here should make. */
static uint32_t mmio_refused(uint64_t addr, int size)
{
    test_fail(__FILE__, __LINE__, "read of %d bytes at 0x%llx", size, (unsigned long long)addr);
    return 0;
}

static void mmio_write_refused(uint64_t addr, uint32_t v, int size)
{
    (void)v;
    mmio_refused(addr, size);
}

/* virtio 1.2 §4.1.4: a vendor capability at config offset at; a notify
 * one (type 2) carries its multiplier, 4, too. */
static void put_cap(uint8_t at, uint8_t next, uint8_t type, uint8_t bar, uint32_t off, uint32_t len)
{
    uint8_t c[20] = { 0x09, next, type == 2 ? 20 : 16, type, bar, [16] = 4 };
    memcpy(c + 8, &off, 4);
    memcpy(c + 12, &len, 4);
    memcpy(config + at, c, type == 2 ? 20 : 16);
}

/* Capabilities whose structures lie past their 16 KiB BAR (what
 * fuzz_pci_caps found: the device configuration read 0x6000 bytes in) are
 * skipped: the device is driven as the legacy one it also is, and nothing
 * of the BAR is touched. */
static void capabilities_past_their_bar(void)
{
    memset(config, 0, sizeof(config));
    config[6] = 0x10; /* Status: capability list */
    config[0x34] = 0x40;
    put_cap(0x40, 0x50, 1, 4, 0x0000, 0x38);
    put_cap(0x50, 0x60, 4, 4, 0x6000, 0x100); /* device configuration, past the BAR */
    put_cap(0x60, 0x00, 2, 4, 0x3F00, 0x200); /* notify: its end past the BAR */
    pci.bar[4] = (struct pci_bar){ .addr = 0x800000000ull, .size = 0x4000, .type = PCI_BAR_MEM64 };
    fake_io.mmio_read = mmio_refused;
    fake_io.mmio_write = mmio_write_refused;
    struct nic *n = open_fake();
    CHECK(n && strcmp(n->model, "legacy") == 0);
    if (n)
        n->ops->stop(n);
    memset(config, 0, sizeof(config));
    pci.bar[4] = (struct pci_bar){ 0 };
}

/* The fake opened with pci_command cleared, the status and queue state of
 * a device fresh from power-on; NULL if the open failed. */
static struct nic *try_open(bool reset_stuck, bool mq, bool ctrl_silent)
{
    memset(&dev, 0, sizeof(dev));
    dev.reset_stuck = reset_stuck;
    dev.mq = mq;
    dev.ctrl_silent = ctrl_silent;
    fake_io.in = io_in;
    fake_io.out = io_out;
    pci.bar[0] = (struct pci_bar){ .addr = FAKE_IO, .size = 32, .type = PCI_BAR_IO };
    pci_command = 0;
    return virtio_net_open(&pci, mq ? 2 : 1);
}

/* Each allocation of the open made to fail in turn, k = 1, 2, ... until
 * the open succeeds: every block given back (the count, and the stack's
 * top, as before the open), FAILED said to the device and the device
 * reset, its bus mastering off. One pair: the driver's state; the receive
 * and the transmit queue, each its rings, buffer list and free-slot stack;
 * the pool, two blocks: 9. With MQ, two pairs, the control queue and its
 * command buffer: 1 + 2 * 8 + 3 + 1 = 21. */
static void fail_each_allocation(bool mq, unsigned allocations)
{
    unsigned k;
    for (k = 1; k < 100; k++) {
        int before = nblocks;
        size_t used = dma_used;
        dma_fail_at = dma_allocs + k;
        struct nic *n = try_open(false, mq, false);
        dma_fail_at = 0;
        if (n) {
            CHECK_EQ(pci_command & PCI_CMD_BUS_MASTER, PCI_CMD_BUS_MASTER);
            n->ops->stop(n);
            break;
        }
        CHECK_EQ(nblocks, before);
        CHECK_EQ(dma_used, used);
        CHECK_EQ(pci_command & PCI_CMD_BUS_MASTER, 0);
        CHECK(k == 1 || dev.failed_seen); /* the first fails before the device is touched */
        CHECK_EQ(dev.status, 0);
        if (test_case_failed) {
            printf("     (allocation %u of the open failed)\n", k);
            break;
        }
    }
    CHECK_EQ(k, allocations + 1); /* each failed the open; with none failing it opens */
}

static void open_fails_at_each_allocation(void)
{
    fail_each_allocation(false, 9);
}

static void open_fails_at_each_allocation_mq(void)
{
    fail_each_allocation(true, 21);
}

/* The open's bounded wait, the reset (§2.4), never finishing: the open
 * fails, said, with nothing left taken and bus mastering off. */
static void open_fails_when_reset_never_ends(void)
{
    int before = nblocks;
    size_t used = dma_used;
    CHECK(try_open(true, false, false) == NULL);
    CHECK(console_contains("virtio-net 0000:00:03.0: reset did not finish within 1 s"));
    CHECK_EQ(nblocks, before);
    CHECK_EQ(dma_used, used);
    CHECK_EQ(pci_command & PCI_CMD_BUS_MASTER, 0);
}

/* The open's other bounded wait, the control queue's answer to
 * VQ_PAIRS_SET (§5.1.6.5.5), never coming: the open fails, said, with
 * nothing left taken (the device reset first, so it forgets the command
 * it holds) and bus mastering off. */
static void open_fails_when_ctrl_never_answers(void)
{
    int before = nblocks;
    size_t used = dma_used;
    CHECK(try_open(false, true, true) == NULL);
    CHECK(console_contains("virtio-net 0000:00:03.0: the device did not answer VQ_PAIRS_SET 2 "
                           "within 1 s"));
    CHECK(dev.failed_seen);
    CHECK_EQ(dev.status, 0);
    CHECK_EQ(nblocks, before);
    CHECK_EQ(dma_used, used);
    CHECK_EQ(pci_command & PCI_CMD_BUS_MASTER, 0);
}

int main(void)
{
    RUN(honest_device);
    RUN(lying_receive);
    RUN(lying_transmit);
    RUN(capabilities_past_their_bar);
    RUN(open_fails_at_each_allocation);
    RUN(open_fails_at_each_allocation_mq);
    RUN(open_fails_when_reset_never_ends);
    RUN(open_fails_when_ctrl_never_answers);
    return test_finish();
}
