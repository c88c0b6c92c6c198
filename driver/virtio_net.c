/*
 * driver/virtio_net.c - virtio-net, legacy and modern (Virtual I/O Device
 * (VIRTIO) Version 1.2, OASIS, §5.1 network device; §4.1 virtio over PCI;
 * §2.7 split virtqueues).
 *
 * Poll mode. One receive and one transmit queue (§5.1.2: receiveq1 = 0,
 * transmitq1 = 1), or, when more are asked for and the device offers MQ,
 * N pairs (receiveqK = 2(K-1), transmitqK = 2(K-1)+1), each pair polled by
 * one core and owning its own counters, with the control queue after them
 * carrying the one command that turns them on (§5.1.6.5.5: VQ_PAIRS_SET);
 * the device then spreads flows over the pairs (under QEMU: tap's queues).
 * The driver takes only what it uses: the MAC (F_MAC), the
 * link state (F_STATUS), VERSION_1 on modern devices, EVENT_IDX to notify
 * less, ANY_LAYOUT on legacy devices to put header and frame in one
 * descriptor, and MRG_RXBUF so that a frame too big for a buffer reaches
 * the driver (in several) to be counted and dropped instead of vanishing in
 * the device; a device without MRG_RXBUF drops such frames itself, unseen
 * and uncounted (§5.1.6.3). Without ANY_LAYOUT every frame takes two
 * descriptors, header and data (§2.7.4, legacy note). No checksum offload,
 * no GSO, and the control queue only with MQ: a device that offers none of
 * them works.
 *
 * Each packet buffer carries the virtio-net header in its headroom, right in
 * front of the frame, so a frame is never copied.
 */
#include "driver/virtio_net.h"

#include "driver/platform.h"

/* §2.1: device status bits. */
#define STATUS_ACKNOWLEDGE 1
#define STATUS_DRIVER 2
#define STATUS_DRIVER_OK 4
#define STATUS_FEATURES_OK 8
#define STATUS_FAILED 128

#define RX_BATCH_MAX 256 /* frames one vnet_rx_batch call hands out, at most */

/* §5.1.3 and §6: feature bits. */
#define F_MAC 5
#define F_MRG_RXBUF 15
#define F_STATUS 16
#define F_CTRL_VQ 17
#define F_MQ 22
#define F_ANY_LAYOUT 27
#define F_EVENT_IDX 29
#define F_VERSION_1 32
#define F_ACCESS_PLATFORM 33 /* §6: the device's DMA goes through the platform's IOMMU */

/* §5.1.4: device configuration. */
#define CFG_MAC 0
#define CFG_STATUS 6
#define CFG_MAX_VQ_PAIRS 8 /* with F_MQ; 1 to 0x8000 */
#define NET_S_LINK_UP 1

/* §5.1.6.5: control queue commands; the device writes the ack byte. */
#define CTRL_MQ 4
#define CTRL_MQ_VQ_PAIRS_SET 0
#define CTRL_OK 0
#define CTRL_TIMEOUT_US 1000000
#define CTRL_BUF 64 /* header, data, ack: one command at a time */
#define CTRL_REFUSED (-1)
#define CTRL_LOST (-2)

/* §4.1.4.8: the legacy I/O BAR, without MSI-X. */
#define L_DEVICE_FEATURES 0x00
#define L_DRIVER_FEATURES 0x04
#define L_QUEUE_ADDRESS 0x08 /* page frame number, 4096-byte units */
#define L_QUEUE_SIZE 0x0C
#define L_QUEUE_SELECT 0x0E
#define L_QUEUE_NOTIFY 0x10
#define L_DEVICE_STATUS 0x12
#define L_CONFIG 0x14
#define L_QUEUE_ALIGN 4096 /* §2.7.2 legacy: the used ring starts on this boundary */

/* §4.1.4.3: the modern common configuration structure. */
#define C_DEVICE_FEATURE_SELECT 0x00
#define C_DEVICE_FEATURE 0x04
#define C_DRIVER_FEATURE_SELECT 0x08
#define C_DRIVER_FEATURE 0x0C
#define C_DEVICE_STATUS 0x14
#define C_QUEUE_SELECT 0x16
#define C_QUEUE_SIZE 0x18
#define C_QUEUE_ENABLE 0x1C
#define C_QUEUE_NOTIFY_OFF 0x1E
#define C_QUEUE_DESC 0x20
#define C_QUEUE_DRIVER 0x28
#define C_QUEUE_DEVICE 0x30

/* §4.1.4: vendor-specific PCI capabilities that locate the structures. */
#define PCI_STATUS 0x06
#define PCI_STATUS_CAP_LIST 0x10
#define PCI_CAP_PTR 0x34
#define PCI_CAP_VENDOR 0x09
#define CAP_COMMON_CFG 1
#define CAP_NOTIFY_CFG 2
#define CAP_DEVICE_CFG 4

/* §2.7.5, §2.7.6, §2.7.8: split virtqueue layout. */
struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
_Static_assert(sizeof(struct vq_desc) == 16, "virtio 1.2 §2.7.5");
#define DESC_F_NEXT 1
#define DESC_F_WRITE 2

struct vq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[]; /* then used_event */
};
_Static_assert(sizeof(struct vq_avail) == 4, "virtio 1.2 §2.7.6: flags, idx, then the ring");
#define AVAIL_F_NO_INTERRUPT 1

struct vq_used_elem {
    uint32_t id;
    uint32_t len;
};
_Static_assert(sizeof(struct vq_used_elem) == 8, "virtio 1.2 §2.7.8");

struct vq_used {
    uint16_t flags;
    uint16_t idx;
    struct vq_used_elem ring[]; /* then avail_event */
};
_Static_assert(sizeof(struct vq_used) == 4, "virtio 1.2 §2.7.8: flags, idx, then the ring");
#define USED_F_NO_NOTIFY 1

#define QUEUE_SIZE 256      /* what a modern device is asked for */
#define QUEUE_SIZE_MAX 1024 /* a legacy device's own size, which cannot be changed */
#define RECLAIM_CHUNK 64
#define RESET_TIMEOUT_US 1000000

struct vq {
    uint16_t index, size, mask;
    uint16_t chain;      /* descriptors per packet: 1, or 2 (header, data) */
    uint8_t chain_shift; /* log2(chain): a slot from a descriptor id without dividing */
    struct vq_desc *desc;
    struct vq_avail *avail;
    struct vq_used *used;
    uint16_t avail_idx;   /* our copy of avail->idx */
    uint16_t last_used;   /* the next used entry to look at */
    uint16_t *free_slots; /* TX: slots not in flight (a stack) */
    uint16_t nfree;
    struct pkt_buf **bufs; /* per slot */
    uint64_t notify;       /* where to write the queue index */
    /* Used-ring entries no device should write (a lie, §2.7.8): an id never
     * made available, a length past the buffer, an index that jumps. Each
     * counted (nic_stats.dev_errors) and said at most once a second a kind. */
    uint64_t lies;
    uint64_t said_ns[3];
    bool jumped; /* the used index is more than size ahead: ignored until it is not */
};

/* A receive and transmit queue pair: one core's, with its own counters. */
struct vq_pair {
    struct vq rx, tx;
    struct nic_stats stats;
} __attribute__((aligned(64)));

struct vnet {
    struct nic nic;
    bool modern;
    bool event_idx;
    bool mrg_rxbuf;          /* taken only to see, and count, oversized frames */
    uint16_t io;             /* legacy: the I/O BAR */
    uint64_t common, device; /* modern: structure addresses */
    uint32_t device_len;     /* modern: the device configuration's length */
    uint64_t notify_base;
    uint32_t notify_mult, notify_len;
    uint16_t hdr_len; /* 10 legacy, 12 with VERSION_1 (§5.1.6) */
    bool has_status;
    uint16_t max_pairs; /* the device's (1 without MQ) */
    uint16_t npairs;    /* set up, and asked of the device */
    bool has_ctrl;
    struct vq ctrl;
    uint8_t *ctrl_buf; /* CTRL_BUF bytes of DMA memory */
    struct vq_pair qp[NIC_MAX_QUEUES];
    bool stopped;
};

/* --- transport: the same steps through the legacy or the modern layout ---- */

static uint8_t status_read(struct vnet *v)
{
    return v->modern ? mmio_read8(v->common + C_DEVICE_STATUS) : inb(v->io + L_DEVICE_STATUS);
}

static void status_write(struct vnet *v, uint8_t s)
{
    if (v->modern)
        mmio_write8(v->common + C_DEVICE_STATUS, s);
    else
        outb(v->io + L_DEVICE_STATUS, s);
}

static uint32_t features_read(struct vnet *v, uint32_t word)
{
    if (!v->modern)
        return word == 0 ? inl(v->io + L_DEVICE_FEATURES) : 0;
    mmio_write32(v->common + C_DEVICE_FEATURE_SELECT, word);
    return mmio_read32(v->common + C_DEVICE_FEATURE);
}

static void features_write(struct vnet *v, uint32_t word, uint32_t bits)
{
    if (!v->modern) {
        if (word == 0)
            outl(v->io + L_DRIVER_FEATURES, bits);
        return;
    }
    mmio_write32(v->common + C_DRIVER_FEATURE_SELECT, word);
    mmio_write32(v->common + C_DRIVER_FEATURE, bits);
}

/* A field past the end of a modern device's configuration structure (its
 * capability's length) reads 0: nothing is read outside what it mapped. */
static uint8_t config_read8(struct vnet *v, uint32_t off)
{
    if (!v->modern)
        return inb(v->io + L_CONFIG + off);
    return off + 1 <= v->device_len ? mmio_read8(v->device + off) : 0;
}

/* Little-endian (§4.1.3.1; a legacy device uses the guest's order: x86's). */
static uint16_t config_read16(struct vnet *v, uint32_t off)
{
    if (!v->modern)
        return inw(v->io + L_CONFIG + off);
    return off + 2 <= v->device_len ? mmio_read16(v->device + off) : 0;
}

/* The device's size for queue q (0: no such queue); selects it too. */
static uint16_t queue_max(struct vnet *v, uint16_t q)
{
    if (!v->modern) {
        outw(v->io + L_QUEUE_SELECT, q);
        return inw(v->io + L_QUEUE_SIZE);
    }
    mmio_write16(v->common + C_QUEUE_SELECT, q);
    return mmio_read16(v->common + C_QUEUE_SIZE);
}

/* §4.1.5.1.3: tells the device where the selected queue's rings are.
 * Returns -1 if its notify address lies outside the notify structure
 * (§4.1.4.4: the device must keep it inside; a write there would land in
 * whatever the BAR holds next, or fault past its end). */
static int queue_activate(struct vnet *v, struct vq *vq)
{
    if (!v->modern) {
        outl(v->io + L_QUEUE_ADDRESS, (uint32_t)(virt_to_phys(vq->desc) / L_QUEUE_ALIGN));
        vq->notify = v->io + L_QUEUE_NOTIFY;
        return 0;
    }
    uint64_t c = v->common;
    uint64_t notify_off = (uint64_t)mmio_read16(c + C_QUEUE_NOTIFY_OFF) * v->notify_mult;
    if (notify_off + 2 > v->notify_len) {
        kprintf("virtio-net %s: queue %u's notify address (offset 0x%lx) is outside the "
                "device's %u-byte notify structure\n",
                v->nic.name, vq->index, notify_off, v->notify_len);
        return -1;
    }
    mmio_write16(c + C_QUEUE_SIZE, vq->size);
    uint64_t addrs[3] = { virt_to_phys(vq->desc), virt_to_phys(vq->avail), virt_to_phys(vq->used) };
    for (int i = 0; i < 3; i++) { /* 64-bit fields as two 32-bit halves, §4.1.3.1 */
        mmio_write32(c + C_QUEUE_DESC + 8 * i, (uint32_t)addrs[i]);
        mmio_write32(c + C_QUEUE_DESC + 8 * i + 4, (uint32_t)(addrs[i] >> 32));
    }
    vq->notify = v->notify_base + notify_off;
    mmio_write16(c + C_QUEUE_ENABLE, 1);
    return 0;
}

static void queue_notify(struct vnet *v, struct vq *vq)
{
    if (v->modern)
        mmio_write16(vq->notify, vq->index);
    else
        outw((uint16_t)vq->notify, vq->index);
}

/* --- virtqueues --------------------------------------------------------------- */

static uint16_t *used_event(struct vq *vq)
{
    return &vq->avail->ring[vq->size];
}

static uint16_t *avail_event(struct vq *vq)
{
    return (uint16_t *)&vq->used->ring[vq->size];
}

/* A queue of size entries in the legacy layout (§2.7.2: descriptors, then
 * the available ring, then on the next 4096-byte boundary the used ring):
 * where its used ring starts, and its length. */
static size_t vq_used_off(uint16_t size)
{
    size_t avail_bytes = 6 + 2u * size;
    return (16u * size + avail_bytes + L_QUEUE_ALIGN - 1) & ~(size_t)(L_QUEUE_ALIGN - 1);
}

static size_t vq_bytes(uint16_t size)
{
    return vq_used_off(size) + 6 + 8u * size; /* the used ring last */
}

/* Allocates a queue in the legacy layout, which also meets the modern
 * alignment rules; on failure, what it had stays for vq_free. */
static int vq_alloc(struct vq *vq, uint16_t index, uint16_t size, uint16_t chain)
{
    size_t used_off = vq_used_off(size);
    vq->size = size; /* first: what vq_free gives back */
    uint8_t *mem = dma_alloc(vq_bytes(size), L_QUEUE_ALIGN);
    vq->desc = (struct vq_desc *)mem;
    vq->bufs = mem ? cpu_alloc(sizeof(*vq->bufs) * size, 64) : NULL;
    vq->free_slots = vq->bufs ? cpu_alloc(sizeof(uint16_t) * size, 64) : NULL;
    if (!vq->free_slots)
        return -1;
    vq->index = index;
    vq->mask = size - 1;
    vq->chain = chain;
    vq->chain_shift = chain == 2;
    vq->avail = (struct vq_avail *)(mem + 16u * size);
    vq->used = (struct vq_used *)(mem + used_off);
    vq->avail->flags = AVAIL_F_NO_INTERRUPT; /* poll mode, §2.7.10 */
    *used_event(vq) = 0xFFFF;                /* with EVENT_IDX: not before 65535 entries */
    uint16_t slots = size / chain;
    for (uint16_t s = 0; s < slots; s++) {
        vq->free_slots[vq->nfree++] = slots - 1 - s;
        if (chain == 2) { /* header descriptor, chained to the data one */
            vq->desc[2 * s].flags = DESC_F_NEXT;
            vq->desc[2 * s].next = 2 * s + 1;
        }
    }
    return 0;
}

/* Gives back what vq_alloc took, in reverse (its buffers are the caller's). */
static void vq_free(struct vq *vq)
{
    if (vq->free_slots)
        cpu_free(vq->free_slots, sizeof(uint16_t) * vq->size);
    if (vq->bufs)
        cpu_free(vq->bufs, sizeof(*vq->bufs) * vq->size);
    if (vq->desc)
        dma_free(vq->desc, vq_bytes(vq->size));
    *vq = (struct vq){ 0 };
}

/* Points slot s's descriptors at b: header in the headroom, then the frame. */
static void vq_fill(struct vnet *v, struct vq *vq, uint16_t s, struct pkt_buf *b, uint16_t flags)
{
    uint64_t hdr = pkt_phys(b) - v->hdr_len;
    uint32_t frame = flags & DESC_F_WRITE ? PKT_MAX_FRAME : b->len; /* RX: room for any */
    struct vq_desc *d = &vq->desc[s * vq->chain];
    if (vq->chain == 1) {
        d->addr = hdr;
        d->len = v->hdr_len + frame;
        d->flags = flags;
    } else {
        d[0].addr = hdr;
        d[0].len = v->hdr_len;
        d[0].flags = flags | DESC_F_NEXT;
        d[1].addr = pkt_phys(b);
        d[1].len = frame;
        d[1].flags = flags;
    }
    vq->bufs[s] = b;
    vq->avail->ring[vq->avail_idx++ & vq->mask] = s * vq->chain;
}

/* §2.7.13 and §2.7.10: publish the new available entries, then notify the
 * device once, unless it said it does not need it. */
static void vq_kick(struct vnet *v, struct vq *vq, uint16_t old_idx)
{
    if (vq->avail_idx == old_idx)
        return;
    dma_wmb(); /* descriptors and ring entries before the index */
    vq->avail->idx = vq->avail_idx;
    dma_mb(); /* the index out before reading whether the device wants a notify */
    bool notify;
    if (v->event_idx) { /* §2.7.10: notify if avail_event lies in [old, new) */
        uint16_t ev = *(volatile uint16_t *)avail_event(vq);
        notify = (uint16_t)(vq->avail_idx - ev - 1) < (uint16_t)(vq->avail_idx - old_idx);
    } else {
        notify = !(*(volatile uint16_t *)&vq->used->flags & USED_F_NO_NOTIFY);
    }
    if (notify)
        queue_notify(v, vq);
}

/* --- the data path -------------------------------------------------------------- */

enum lie { LIE_ID, LIE_LEN, LIE_IDX };

/* A used-ring entry no device should write (§2.7.8): counted, and said at
 * most once a second for each kind of lie; the entry is skipped, never
 * followed, and nothing outside a buffer the driver posted is touched. */
__attribute__((cold, noinline)) static void lie(struct vnet *v, struct vq *vq, enum lie kind,
                                                uint32_t value)
{
    static const char *const what[] = {
        [LIE_ID] = "an id it was never given",
        [LIE_LEN] = "a length past its buffer",
        [LIE_IDX] = "a used index more than the queue's size ahead",
    };
    uint64_t now = now_ns();
    vq->lies++;
    if (vq->said_ns[kind] && now - vq->said_ns[kind] < 1000000000ull)
        return;
    vq->said_ns[kind] = now;
    kprintf("virtio-net %s: queue %u returned %s (%u); skipped (%lu so far; device broken?)\n",
            v->nic.name, vq->index, what[kind], value, vq->lies);
}

/* The used entries waiting, or 0 if the device claims more than the queue
 * holds: its index cannot be trusted then, and is ignored (said once for
 * each jump) until it is back in range. */
static uint16_t used_pending(struct vnet *v, struct vq *vq, uint16_t used_idx)
{
    uint16_t pending = (uint16_t)(used_idx - vq->last_used);
    if (__builtin_expect(pending <= vq->size, 1)) {
        vq->jumped = false;
        return pending;
    }
    if (!vq->jumped)
        lie(v, vq, LIE_IDX, used_idx);
    vq->jumped = true;
    return 0;
}

#define VNET_HDR_MAX 12 /* §5.1.6: with num_buffers */
_Static_assert(PKT_HEADROOM >= VNET_HDR_MAX, "the header fits in the headroom");

/* The slot a used entry names, or -1 if it names no descriptor head. */
static int used_slot(struct vq *vq, uint32_t id)
{
    return id < vq->size && !(id & (vq->chain - 1u)) ? (int)(id >> vq->chain_shift) : -1;
}

/* Ethernet II frames carry at most 1500 bytes after a 14-byte header; one
 * 802.1Q or 802.1ad tag adds 4 (IEEE 802.3 §3.2.7, IEEE 802.1Q §9). */
static bool frame_size_ok(struct pkt_buf *b, uint32_t len)
{
    if (len < PKT_MIN_FRAME || len > PKT_MAX_FRAME)
        return false;
    const uint8_t *f = pkt_data(b);
    uint16_t type = (uint16_t)(f[12] << 8 | f[13]);
    return len <= 1514 || type == 0x8100 || type == 0x88A8;
}

/* §5.1.6.4: with MRG_RXBUF a frame too big for one buffer spans
 * num_buffers of them; a frame ixmetal takes always fits in one. */
static uint16_t num_buffers(struct vnet *v, struct pkt_buf *b)
{
    const uint8_t *hdr = pkt_data(b) - v->hdr_len;
    return v->mrg_rxbuf ? (uint16_t)(hdr[10] | hdr[11] << 8) : 1;
}

static uint32_t vnet_rx_batch(struct nic *nic, uint16_t queue, struct pkt_buf **bufs, uint32_t n)
{
    struct vnet *v = (struct vnet *)nic;
    struct vq_pair *qp = &v->qp[queue];
    struct vq *vq = &qp->rx;
    const struct pkt_rewrite *rw = nic->rx_rewrite;
    uint16_t used_idx = *(volatile uint16_t *)&vq->used->idx, old = vq->avail_idx;
    dma_rmb(); /* the index before the entries it covers */
    uint16_t pending = used_pending(v, vq, used_idx);
    if (!pending)
        return 0;
    /* Replacements for the buffers handed out, taken from the pool in one
     * go; the ones left over (dropped frames) go back in one go. */
    struct pkt_buf *fresh[RX_BATCH_MAX];
    if (n > RX_BATCH_MAX)
        n = RX_BATCH_MAX;
    uint32_t nfresh = pkt_alloc_batch(v->nic.pool[queue], fresh, pending < n ? pending : n);
    uint32_t got = 0;
    while (pending && got < n) {
        struct vq_used_elem *e = &vq->used->ring[vq->last_used & vq->mask];
        int s = used_slot(vq, e->id);
        if (s < 0) { /* §2.7.8: not a head we made available: a frame lost */
            lie(v, vq, LIE_ID, e->id);
            qp->stats.rx_dropped++;
            vq->last_used++, pending--;
            continue;
        }
        struct pkt_buf *b = vq->bufs[s];
        if (e->len > (uint32_t)v->hdr_len + PKT_MAX_FRAME) { /* more than vq_fill offered: unread */
            lie(v, vq, LIE_LEN, e->len);
            qp->stats.rx_dropped++;
            vq->last_used++, pending--;
            vq_fill(v, vq, (uint16_t)s, b, DESC_F_WRITE);
            continue;
        }
        uint16_t nb = num_buffers(v, b);
        uint32_t len = e->len >= v->hdr_len ? e->len - v->hdr_len : 0;
        if (nb != 1 || !frame_size_ok(b, len)) {
            /* a runt or an oversized frame (in nb buffers): counted, and
             * every buffer it took goes straight back */
            nb = nb < 1 ? 1 : nb > pending ? pending : nb;
            for (uint16_t k = 0; k < nb; k++, pending--) {
                e = &vq->used->ring[vq->last_used++ & vq->mask];
                if ((s = used_slot(vq, e->id)) < 0)
                    lie(v, vq, LIE_ID, e->id);
                else
                    vq_fill(v, vq, (uint16_t)s, vq->bufs[s], DESC_F_WRITE);
            }
            qp->stats.rx_dropped++;
            continue;
        }
        if (got == nfresh)
            break; /* no buffer to put in its place: leave it for the next poll */
        vq->last_used++, pending--;
        b->len = (uint16_t)len;
        if (rw)
            pkt_rewrite(pkt_rx_data(b), rw);
        bufs[got++] = b;
        qp->stats.rx_bytes += len;
        vq_fill(v, vq, (uint16_t)s, fresh[got - 1], DESC_F_WRITE);
    }
    if (got < nfresh)
        pkt_free_batch(fresh + got, nfresh - got);
    qp->stats.rx_packets += got;
    if (v->event_idx)
        *used_event(vq) = vq->last_used - 1; /* no interrupts, ever: see vq_alloc */
    vq_kick(v, vq, old);
    return got;
}

/* Takes back the slots whose frames the device has sent. */
static void tx_reclaim(struct vnet *v, struct vq *vq)
{
    struct pkt_buf *done[RECLAIM_CHUNK];
    uint32_t ndone = 0;
    uint16_t used_idx = *(volatile uint16_t *)&vq->used->idx;
    dma_rmb();
    for (uint16_t pending = used_pending(v, vq, used_idx); pending; pending--) {
        uint32_t id = vq->used->ring[vq->last_used++ & vq->mask].id;
        int s = used_slot(vq, id);
        if (s < 0 || !vq->bufs[s]) { /* no head, or one already back: never twice */
            lie(v, vq, LIE_ID, id);
            continue;
        }
        done[ndone++] = vq->bufs[s];
        vq->bufs[s] = NULL;
        vq->free_slots[vq->nfree++] = (uint16_t)s;
        if (ndone == RECLAIM_CHUNK) {
            pkt_free_batch(done, ndone);
            ndone = 0;
        }
    }
    pkt_free_batch(done, ndone);
}

static uint32_t vnet_tx_batch(struct nic *nic, uint16_t queue, struct pkt_buf **bufs, uint32_t n)
{
    struct vnet *v = (struct vnet *)nic;
    struct vq_pair *qp = &v->qp[queue];
    struct vq *vq = &qp->tx;
    tx_reclaim(v, vq);
    if (nic_link_is_down(nic)) { /* not sent, so not counted as sent (driver/link.h) */
        pkt_free_batch(bufs, n);
        qp->stats.tx_dropped += n;
        return n;
    }
    uint16_t old = vq->avail_idx;
    uint32_t sent = 0;
    for (; sent < n && vq->nfree; sent++) {
        struct pkt_buf *b = bufs[sent];
        /* No offloads: the header all zero. The longest header's 12 bytes
         * in fixed-size stores (no memset call; the 10-byte header's
         * 2 more are headroom nobody reads). */
        __builtin_memset(pkt_data(b) - VNET_HDR_MAX, 0, VNET_HDR_MAX);
        qp->stats.tx_bytes += b->len;
        vq_fill(v, vq, vq->free_slots[--vq->nfree], b, 0);
    }
    qp->stats.tx_packets += sent;
    if (v->event_idx)
        *used_event(vq) = vq->last_used - 1;
    vq_kick(v, vq, old);
    return sent;
}

static void vnet_read_stats(struct nic *nic, struct nic_stats *out)
{
    struct vnet *v = (struct vnet *)nic;
    *out = (struct nic_stats){ 0 };
    for (uint16_t q = 0; q < v->npairs; q++) {
        const struct nic_stats *s = &v->qp[q].stats;
        out->rx_packets += s->rx_packets, out->rx_bytes += s->rx_bytes;
        out->tx_packets += s->tx_packets, out->tx_bytes += s->tx_bytes;
        out->rx_dropped += s->rx_dropped, out->tx_dropped += s->tx_dropped;
        out->dev_errors += v->qp[q].rx.lies + v->qp[q].tx.lies;
    }
}

static int vnet_set_promisc(struct nic *nic, bool on)
{
    /* Without the control queue (§5.1.6.5.1) there is no switch; QEMU's
     * device passes every frame already. */
    (void)nic;
    return on ? 0 : -1;
}

static struct nic_link vnet_link(struct nic *nic)
{
    struct vnet *v = (struct vnet *)nic;
    struct nic_link l = { true, 0 }; /* §5.1.4: without F_STATUS the link is up */
    if (v->has_status)
        l.up = config_read8(v, CFG_STATUS) & NET_S_LINK_UP;
    return l;
}

#define STOP_TX_TIMEOUT_US 100000

/* §2.4 and §4.1.4.3.2: writing 0 resets the device; it is done with the
 * rings once the status reads 0 again. */
static int reset(struct vnet *v)
{
    status_write(v, 0);
    uint64_t end = now_ns() + RESET_TIMEOUT_US * 1000ull;
    while (status_read(v) != 0)
        if (now_ns() > end) {
            kprintf("virtio-net %s: reset did not finish within 1 s (status 0x%x); check the "
                    "device or the hypervisor\n",
                    v->nic.name, status_read(v));
            return -1;
        }
    return 0;
}

/* Frames the device delivered to vq that no core took (a pair nobody
 * polls, or frames after the last poll): received, and dropped at stop. */
static uint64_t rx_left(struct vnet *v, struct vq *vq)
{
    uint16_t pending = used_pending(v, vq, *(volatile uint16_t *)&vq->used->idx);
    dma_rmb();
    uint64_t frames = 0;
    for (uint16_t k = 0; k < pending; frames++) {
        int s = used_slot(vq, vq->used->ring[(uint16_t)(vq->last_used + k) & vq->mask].id);
        uint16_t nb = s < 0 ? 1 : num_buffers(v, vq->bufs[s]);
        k += nb ? nb : 1;
    }
    return frames;
}

static void vnet_stop(struct nic *nic)
{
    struct vnet *v = (struct vnet *)nic;
    if (v->stopped)
        return;
    v->stopped = true;
    uint64_t end = now_ns() + STOP_TX_TIMEOUT_US * 1000ull;
    for (uint16_t q = 0; q < v->npairs; q++) {
        struct vq *tx = &v->qp[q].tx;
        while (tx_reclaim(v, tx), tx->nfree < tx->size / tx->chain && now_ns() < end)
            ;
    }
    if (reset(v) != 0)
        return; /* the device may still write into them: its buffers stay its own */
    /* Whatever is still posted is ours again. Frames that never left are
     * taken back out of the TX counts and counted as dropped. */
    uint64_t unsent = 0;
    for (uint16_t q = 0; q < v->npairs; q++) {
        struct vq_pair *qp = &v->qp[q];
        qp->stats.rx_dropped += rx_left(v, &qp->rx);
        for (uint16_t s = 0; s < qp->tx.size / qp->tx.chain; s++) {
            struct pkt_buf *b = qp->tx.bufs[s];
            if (!b)
                continue;
            qp->stats.tx_packets--;
            qp->stats.tx_bytes -= b->len;
            qp->stats.tx_dropped++;
            qp->tx.bufs[s] = NULL;
            pkt_free(b);
            unsent++;
        }
        for (uint16_t s = 0; s < qp->rx.size / qp->rx.chain; s++) {
            pkt_free(qp->rx.bufs[s]);
            qp->rx.bufs[s] = NULL;
        }
    }
    if (unsent)
        kprintf("virtio-net %s: %lu frames still unsent after 100 ms; dropped at stop\n", nic->name,
                unsent);
}

/* §5.1.6.5: one command on the control queue, the header (class, command)
 * and its data each in a descriptor of their own (the legacy layout rule,
 * §5.1.6.5 legacy note) and the ack byte the device writes; waits, bounded,
 * for the device to hand it back. Returns 0, CTRL_REFUSED, or CTRL_LOST when
 * the device did not answer: it may still carry the command out later, and
 * it keeps the descriptors, so the queue is not used again. */
static int ctrl_command(struct vnet *v, uint8_t class, uint8_t cmd, const void *data, uint32_t len,
                        const char *what)
{
    struct vq *vq = &v->ctrl;
    uint8_t *hdr = v->ctrl_buf, *body = hdr + 2, *ack = hdr + CTRL_BUF - 1;
    if (!v->has_ctrl || len > CTRL_BUF - 3)
        return CTRL_LOST;
    hdr[0] = class;
    hdr[1] = cmd;
    memcpy(body, data, len);
    *ack = 0xFF;
    vq->desc[0] = (struct vq_desc){ virt_to_phys(hdr), 2, DESC_F_NEXT, 1 };
    vq->desc[1] = (struct vq_desc){ virt_to_phys(body), len, DESC_F_NEXT, 2 };
    vq->desc[2] = (struct vq_desc){ virt_to_phys(ack), 1, DESC_F_WRITE, 0 };
    uint16_t old = vq->avail_idx;
    vq->avail->ring[vq->avail_idx++ & vq->mask] = 0;
    vq_kick(v, vq, old);
    uint64_t end = now_ns() + CTRL_TIMEOUT_US * 1000ull;
    while (*(volatile uint16_t *)&vq->used->idx == vq->last_used)
        if (now_ns() > end) {
            kprintf("virtio-net %s: the device did not answer %s within 1 s; check the device "
                    "or the hypervisor\n",
                    v->nic.name, what);
            v->has_ctrl = false;
            return CTRL_LOST;
        }
    dma_rmb(); /* the used index before the entry and the ack it covers */
    uint32_t id = vq->used->ring[vq->last_used++ & vq->mask].id;
    if (id != 0) { /* the only chain ever posted starts at descriptor 0 */
        lie(v, vq, LIE_ID, id);
        v->has_ctrl = false;
        return CTRL_LOST;
    }
    if (*(volatile uint8_t *)ack != CTRL_OK) {
        kprintf("virtio-net %s: the device refused %s (ack %u)\n", v->nic.name, what, *ack);
        return CTRL_REFUSED;
    }
    return 0;
}

/* §5.1.6.5.5: receive and send on queue pairs 0..n-1 from now on. */
static int set_pairs(struct vnet *v, uint16_t n)
{
    uint8_t le[2] = { (uint8_t)n, (uint8_t)(n >> 8) };
    char what[40];
    ksnprintf(what, sizeof(what), "VQ_PAIRS_SET %u", n);
    return ctrl_command(v, CTRL_MQ, CTRL_MQ_VQ_PAIRS_SET, le, sizeof(le), what);
}

static void vnet_use_queues(struct nic *nic, uint16_t n)
{
    struct vnet *v = (struct vnet *)nic;
    if (n >= 1 && n < nic->rx_queues)
        set_pairs(v, n); /* if refused, the device goes on spreading over all; said */
}

/* One virtqueue for trace=rings (virtio 1.2 §2.7): the device's used index
 * is its head, the driver's available index its tail; used entries past
 * last_used are done, available ones past the used index pending. A slot
 * (one frame, chain descriptors) holds a buffer unless it is free. */
static void vq_ring_state(const struct vq *vq, struct nic_ring *r)
{
    uint16_t used = __atomic_load_n(&vq->used->idx, __ATOMIC_RELAXED);
    uint16_t avail = __atomic_load_n(&vq->avail_idx, __ATOMIC_RELAXED);
    uint16_t last = __atomic_load_n(&vq->last_used, __ATOMIC_RELAXED);
    uint32_t slots = vq->size >> vq->chain_shift;
    *r = (struct nic_ring){ .size = slots,
                            .head = used,
                            .tail = avail,
                            .done = (uint16_t)(used - last),
                            .pending = (uint16_t)(avail - used),
                            .bufs = slots - __atomic_load_n(&vq->nfree, __ATOMIC_RELAXED) };
}

/* nic_ops.ring_state, on the reporting core: the queue's own core moves
 * avail_idx, last_used and nfree; the device, used.idx. */
static bool vnet_ring_state(struct nic *nic, uint16_t queue, struct nic_ring *rx,
                            struct nic_ring *tx)
{
    struct vnet *v = (struct vnet *)nic;
    if (queue >= v->npairs || v->stopped || !v->qp[queue].rx.used || !v->qp[queue].tx.used)
        return false;
    vq_ring_state(&v->qp[queue].rx, rx);
    vq_ring_state(&v->qp[queue].tx, tx);
    return true;
}

static const struct nic_ops vnet_ops = {
    .rx_batch = vnet_rx_batch,
    .tx_batch = vnet_tx_batch,
    .read_stats = vnet_read_stats,
    .set_promisc = vnet_set_promisc,
    .use_queues = vnet_use_queues,
    .link = vnet_link,
    .ring_state = vnet_ring_state,
    .stop = vnet_stop,
};

/* --- bring-up ------------------------------------------------------------------- */

/* §4.1.4: finds the common, notify and device structures through the
 * vendor-specific capabilities. Returns 0 if all three were found. A
 * structure must lie inside its BAR (§4.1.4: offset and length), and the
 * common one be whole (§4.1.4.3, 0x38 bytes): a capability that says
 * otherwise is skipped, as one of a type the driver does not know. */
static int find_modern(struct vnet *v, struct pci_dev *d)
{
    if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST))
        return -1;
    int found = 0;
    for (uint8_t at = pci_read32(d, PCI_CAP_PTR) & 0xFC, hops = 0; at && hops < 48; hops++) {
        uint32_t head = pci_read32(d, at);
        uint8_t type = (head >> 24) & 0xFF, len = (head >> 16) & 0xFF;
        uint8_t bar = pci_read32(d, at + 4) & 0xFF;
        /* §4.1.4: the first capability of each type is the one to use */
        if ((head & 0xFF) == PCI_CAP_VENDOR && len >= 16 && bar < 6 &&
            d->bar[bar].type >= PCI_BAR_MEM32) {
            uint32_t off = pci_read32(d, at + 8), slen = pci_read32(d, at + 12);
            uint64_t addr = d->bar[bar].addr + off;
            bool inside = (uint64_t)off + slen <= d->bar[bar].size;
            if (type == CAP_COMMON_CFG && !(found & 1) && inside && slen >= C_QUEUE_DEVICE + 8) {
                v->common = addr;
                found |= 1;
            } else if (type == CAP_NOTIFY_CFG && !(found & 2) && len >= 20 && inside) {
                v->notify_base = addr;
                v->notify_mult = pci_read32(d, at + 16);
                v->notify_len = slen;
                found |= 2;
            } else if (type == CAP_DEVICE_CFG && !(found & 4) && inside) {
                v->device = addr;
                v->device_len = slen;
                found |= 4;
            }
        }
        at = (head >> 8) & 0xFC;
    }
    return found == 7 ? 0 : -1;
}

/* Whether to take MQ (and the control queue it needs) for queues pairs:
 * sets max_pairs from the device, or says why there is one pair. */
static bool want_mq(struct vnet *v, uint64_t offered, int queues)
{
    v->max_pairs = 1;
    if (queues < 2)
        return false;
    if (!(offered & 1ull << F_MQ)) {
        kprintf("virtio-net %s: the device offers one queue pair, %d asked for (no "
                "VIRTIO_NET_F_MQ; QEMU offers it with mq=on and a backend with queues=N, such as "
                "tap)\n",
                v->nic.name, queues);
        return false;
    }
    if (!(offered & 1ull << F_CTRL_VQ)) { /* §5.1.3.1: MQ requires it; a broken device */
        kprintf("virtio-net %s: the device offers VIRTIO_NET_F_MQ without the control queue "
                "that turns it on; one queue pair used\n",
                v->nic.name);
        return false;
    }
    /* §2.5: a field of an offered feature is readable before FEATURES_OK.
     * §5.1.4 allows up to 0x8000 pairs, but the control queue after them,
     * 2 * pairs, must still be a 16-bit queue number (§4.1.4.3 queue_select). */
    uint16_t max = config_read16(v, CFG_MAX_VQ_PAIRS);
    if (max < 1 || max > 0x7FFF) {
        kprintf("virtio-net %s: the device says it has %u queue pairs (1 to 32767 can be "
                "driven over PCI); one used\n",
                v->nic.name, max);
        return false;
    }
    v->max_pairs = max;
    return true;
}

/* §3.1.1 steps 1-6: reset, acknowledge, negotiate. */
static int negotiate(struct vnet *v, int queues)
{
    const char *name = v->nic.name;
    if (reset(v) != 0)
        return -1;
    status_write(v, STATUS_ACKNOWLEDGE);
    status_write(v, STATUS_ACKNOWLEDGE | STATUS_DRIVER);
    uint64_t offered = features_read(v, 0) | (uint64_t)features_read(v, 1) << 32;
    uint64_t want = 1ull << F_MAC | 1ull << F_STATUS | 1ull << F_EVENT_IDX | 1ull << F_MRG_RXBUF |
                    (v->modern ? 1ull << F_VERSION_1 : 1ull << F_ANY_LAYOUT);
    /* §6.1: a device offering ACCESS_PLATFORM may refuse a driver that does
     * not take it. Taking it lets the device's DMA go through the IOMMU
     * (kernel/iommu.c), where IOVA == physical address: the addresses the
     * driver gives are right with the IOMMU and without it. */
    if (v->modern)
        want |= 1ull << F_ACCESS_PLATFORM;
    if (want_mq(v, offered, queues))
        want |= 1ull << F_MQ | 1ull << F_CTRL_VQ;
    uint64_t take = offered & want;
    if (v->modern && !(take & 1ull << F_VERSION_1)) {
        kprintf("virtio-net %s: a modern device without VERSION_1; not used\n", name);
        return -1;
    }
    features_write(v, 0, (uint32_t)take);
    features_write(v, 1, (uint32_t)(take >> 32));
    if (v->modern) { /* §3.1.1 step 5-6: FEATURES_OK, and check the device kept it */
        status_write(v, STATUS_ACKNOWLEDGE | STATUS_DRIVER | STATUS_FEATURES_OK);
        if (!(status_read(v) & STATUS_FEATURES_OK)) {
            kprintf("virtio-net %s: the device refused features 0x%lx\n", name, take);
            return -1;
        }
    }
    v->event_idx = take & 1ull << F_EVENT_IDX;
    v->has_status = take & 1ull << F_STATUS;
    v->mrg_rxbuf = take & 1ull << F_MRG_RXBUF;
    v->has_ctrl = take & 1ull << F_CTRL_VQ;
    /* §6.1: without ACCESS_PLATFORM the device uses physical addresses,
     * around any IOMMU: its DMA is not confined, whatever the tables say. */
    v->nic.bypasses_iommu = !(take & 1ull << F_ACCESS_PLATFORM);
    v->npairs = (uint16_t)(queues < v->max_pairs ? queues : v->max_pairs);
    if (v->npairs < 1)
        v->npairs = 1;
    v->hdr_len = v->modern || v->mrg_rxbuf ? 12 : 10; /* §5.1.6: num_buffers, or not */
    for (int i = 0; i < 6; i++)
        v->nic.mac[i] = take & 1ull << F_MAC ? config_read8(v, CFG_MAC + i) : 0;
    if (!(take & 1ull << F_MAC)) { /* locally administered, from the PCI address */
        v->nic.mac[0] = 0x02;
        v->nic.mac[4] = v->nic.pci->bus;
        v->nic.mac[5] = (uint8_t)(v->nic.pci->dev << 3 | v->nic.pci->fn);
    }
    kprintf("virtio-net %s: %s, features 0x%lx of 0x%lx\n", name, v->nic.model, take, offered);
    return (take & 1ull << F_ANY_LAYOUT) || v->modern ? 1 : 2; /* descriptors per packet */
}

/* Queue index: its size from the device, its rings in memory, and the
 * device told where they are. */
static int vq_setup(struct vnet *v, struct vq *vq, uint16_t index, uint16_t chain)
{
    /* A legacy device's size is fixed (§4.1.4.8: read-only, and the ring
     * layout of §2.7.2 follows from it); a modern one takes ours. */
    uint16_t max = queue_max(v, index);
    uint16_t size = v->modern && max > QUEUE_SIZE ? QUEUE_SIZE : max;
    if (size > QUEUE_SIZE_MAX) {
        kprintf("virtio-net %s: queue %u has %u entries, more than the %u this driver takes\n",
                v->nic.name, index, size, QUEUE_SIZE_MAX);
        return -1;
    }
    if (size < 4 || (size & (size - 1)) || vq_alloc(vq, index, size, chain) != 0) {
        kprintf("virtio-net %s: queue %u: size %u unusable or no memory\n", v->nic.name, index,
                max);
        return -1;
    }
    return queue_activate(v, vq);
}

/* §3.1.1 step 7: each pair's queues and pool, RX filled, and the control
 * queue; then DRIVER_OK, and with several pairs VQ_PAIRS_SET. */
static int setup_queues(struct vnet *v, uint16_t chain)
{
    for (uint16_t k = 0; k < v->npairs; k++) {
        struct vq_pair *qp = &v->qp[k];
        if (vq_setup(v, &qp->rx, 2 * k, chain) || vq_setup(v, &qp->tx, 2 * k + 1, chain))
            return -1;
        char name[MEMPOOL_NAME_LEN];
        ksnprintf(name, sizeof(name), k ? "%s/%u" : "%s", v->nic.name, k);
        v->nic.pool[k] = mempool_create(name, 2u * qp->rx.size + 2u * qp->tx.size);
        if (!v->nic.pool[k])
            return -1;
        for (uint16_t s = 0; s < qp->rx.size / chain; s++)
            vq_fill(v, &qp->rx, s, pkt_alloc(v->nic.pool[k]), DESC_F_WRITE);
        qp->rx.nfree = 0;
    }
    /* §5.1.2: the control queue comes after every pair the device has */
    if (v->has_ctrl && (vq_setup(v, &v->ctrl, 2 * v->max_pairs, 1) != 0 ||
                        !(v->ctrl_buf = dma_alloc(CTRL_BUF, 64))))
        return -1;
    /* §3.1.1: the receive buffers are available before DRIVER_OK, so a
     * device holding frames from before the driver came up delivers them
     * then; the notify, allowed only after DRIVER_OK, follows. */
    dma_wmb();
    for (uint16_t k = 0; k < v->npairs; k++)
        v->qp[k].rx.avail->idx = v->qp[k].rx.avail_idx;
    status_write(v, status_read(v) | STATUS_DRIVER_OK);
    for (uint16_t k = 0; k < v->npairs; k++)
        queue_notify(v, &v->qp[k].rx);
    v->nic.rx_queues = v->nic.tx_queues = 1;
    if (v->npairs > 1) { /* §5.1.6.5.5: until then only the first pair is used */
        int r = set_pairs(v, v->npairs);
        if (r == CTRL_LOST) /* it may yet spread frames over pairs nobody polls */
            return -1;
        if (r == CTRL_REFUSED) {
            kprintf("virtio-net %s: one queue pair used\n", v->nic.name);
            return 0;
        }
        kprintf("virtio-net %s: %u queue pairs of the device's %u\n", v->nic.name, v->npairs,
                v->max_pairs);
        v->nic.rx_queues = v->nic.tx_queues = v->npairs;
    }
    return 0;
}

/* A failed open, the device reset (so it forgets its queues, §2.4) and
 * its bus mastering off: the queues and pools go back, the control
 * queue's first, each pair's receive buffers into their pool first. */
static void queues_free(struct vnet *v)
{
    if (v->ctrl_buf)
        dma_free(v->ctrl_buf, CTRL_BUF);
    vq_free(&v->ctrl);
    for (int k = NIC_MAX_QUEUES - 1; k >= 0; k--) {
        struct vq_pair *qp = &v->qp[k];
        if (qp->rx.chain) /* set up whole: its slots may hold buffers */
            for (uint16_t s = 0; s < qp->rx.size / qp->rx.chain; s++)
                if (qp->rx.bufs[s])
                    pkt_free(qp->rx.bufs[s]);
        mempool_destroy(v->nic.pool[k]);
        v->nic.pool[k] = NULL;
        vq_free(&qp->tx);
        vq_free(&qp->rx);
    }
}

struct nic *virtio_net_open(struct pci_dev *d, int queues)
{
    struct vnet *v = cpu_alloc(sizeof(*v), 64);
    if (!v) {
        char addr[PCI_ADDR_LEN];
        kprintf("virtio-net %s: no memory for the driver's state\n", pci_addr(addr, d));
        return NULL;
    }
    v->nic.driver = "virtio-net";
    v->nic.pci = d;
    v->nic.ops = &vnet_ops;
    pci_addr(v->nic.name, d);
    if (queues > NIC_MAX_QUEUES)
        queues = NIC_MAX_QUEUES;
    v->modern = find_modern(v, d) == 0;
    if (!v->modern && d->bar[0].type != PCI_BAR_IO) {
        kprintf("virtio-net %s: neither virtio 1.x capabilities nor a legacy I/O BAR\n",
                v->nic.name);
        goto free_state;
    }
    v->nic.model = v->modern ? "modern" : "legacy";
    v->io = (uint16_t)d->bar[0].addr;
    pci_enable(d, (v->modern ? PCI_CMD_MEMORY : PCI_CMD_IO) | PCI_CMD_BUS_MASTER);
    int chain = negotiate(v, queues);
    if (chain < 0 || setup_queues(v, (uint16_t)chain) != 0)
        goto fail;
    return &v->nic;
fail:
    /* §2.1.2: FAILED tells the device we gave up; a reset makes it forget
     * the queues, and without bus mastering it cannot reach memory handed
     * out again. A device that does not finish its reset may still use its
     * queues: their memory then stays taken. */
    status_write(v, STATUS_FAILED);
    bool quiet = reset(v) == 0;
    pci_disable(d, PCI_CMD_BUS_MASTER);
    if (quiet)
        queues_free(v);
    else
        kprintf("virtio-net %s: the queues and pools of the failed open stay taken\n", v->nic.name);
free_state:
    cpu_free(v, sizeof(*v));
    return NULL;
}
