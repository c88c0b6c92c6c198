/*
 * tests/unit/test_ixgbe.c - the unchanged driver/ixgbe.c and driver/intel.c
 * against the 82599 model (tests/model/ixgbe_model.c) in strict mode.
 *
 * The register door (kernel/io.h, IXM_HOST) leads to the model: each port's
 * BAR0 is a made-up address range that mmio_read32/mmio_write32 route to its
 * model. Time is virtual: delay_us moves it forward, so a 10 s wait for a
 * link that never comes takes no real time, and a hang would show as a test
 * that never ends.
 *
 * The fwd case is the dut of the paper's testbed, with the test as the
 * traffic generator: frames go into port A's wire, the driver forwards them
 * (rx_batch on A, tx_batch on B, as apps/fwd.c does), and come out of port
 * B's wire into a sink that checks every byte and the order; the same the
 * other way round.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "apps/fwd_rewrite.h"
#include "apps/selftest.h"
#include "driver/intel.h"
#include "driver/ixgbe.h"
#include "driver/link.h"
#include "tests/model/ixgbe_model.h"
#include "tests/unit/host.h"
#include "tests/unit/toeplitz.h"

/* --- the platform: virtual time, DMA memory ----------------------------------- */

static uint64_t clock_ns;

uint64_t now_ns(void)
{
    return clock_ns += 50; /* a register read or a look at the clock takes a little time */
}

void delay_us(uint64_t us)
{
    clock_ns += us * 1000;
}

/* Every block handed out and not given back (driver/platform.h: cpu_alloc
 * is dma_alloc here), so a case can count what an open left taken. */
static struct {
    uint8_t *p;
    size_t len;
} dma[256];
static int ndma;
static unsigned dma_allocs;  /* calls since the case began */
static unsigned dma_fail_at; /* set: that call (1 = the first) returns NULL */

void *dma_alloc(size_t size, size_t align)
{
    if (ndma == 256 || ++dma_allocs == dma_fail_at)
        return NULL;
    size_t rounded = (size + align - 1) / align * align;
    void *p = aligned_alloc(align, rounded);
    if (p) {
        memset(p, 0, size);
        dma[ndma].p = p;
        dma[ndma++].len = size;
    }
    return p;
}

/* A block given back must be one handed out, whole, and given back once. */
void dma_free(void *p, size_t size)
{
    if (!p) /* as the kernel's: nothing */
        return;
    for (int i = 0; i < ndma; i++)
        if (dma[i].p == p) {
            if (dma[i].len != size)
                test_fail(__FILE__, __LINE__, "block of %zu bytes given back as %zu", dma[i].len,
                          size);
            free(p);
            dma[i] = dma[--ndma];
            return;
        }
    test_fail(__FILE__, __LINE__, "dma_free(%p, %zu): not a block handed out", p, size);
}

static void dma_free_all(void)
{
    while (ndma)
        free(dma[--ndma].p);
    dma_allocs = dma_fail_at = 0;
}

static bool dma_ok(uint64_t addr, uint64_t len)
{
    for (int i = 0; i < ndma; i++) {
        uint64_t a = (uint64_t)(uintptr_t)dma[i].p;
        if (addr >= a && addr + len <= a + dma[i].len)
            return true;
    }
    return false;
}

static uint64_t model_clock(void)
{
    return clock_ns;
}

/* Each port's PCI Command register is host.c's fake_pci_command[fn]:
 * what ixgbe_open_opts turns on and, when the open fails, off again. Most
 * cases give the BAR to ixgbe_open_at directly, which touches neither. */
#define pci_command fake_pci_command

/* selftest_main walks the PCI functions and opens ports through
 * driver/nic.c, which is not built here: the cases here open the port
 * themselves and call selftest_port. */
bool nic_loops_back(const struct pci_dev *d)
{
    (void)d;
    return false;
}

struct nic *nic_open_loopback(struct pci_dev *d)
{
    (void)d;
    return NULL;
}

int pci_count(void)
{
    return 0;
}

struct pci_dev *pci_get(int i)
{
    (void)i;
    return NULL;
}

/* --- BARs leading to models --------------------------------------------------- */

#define BAR(i) (0xF0000000ull + (uint64_t)(i)*0x100000)
static struct ixgbe_model *models[4];
static unsigned violations_seen;
static uint32_t stuck_bits; /* set: these bits of RDBAH(1) read back as 0, a broken register */

static struct ixgbe_model *model_at(uint64_t addr, uint32_t *off)
{
    for (int i = 0; i < 4; i++)
        if (models[i] && addr >= BAR(i) && addr < BAR(i) + 0x80000) {
            *off = (uint32_t)(addr - BAR(i));
            return models[i];
        }
    return NULL;
}

static uint32_t bar_read(uint64_t addr, int size)
{
    uint32_t off;
    struct ixgbe_model *m = model_at(addr, &off);
    if (!m || size != 4) {
        test_fail(__FILE__, __LINE__, "%d-byte read at 0x%llx: no register there", size,
                  (unsigned long long)addr);
        return 0xFFFFFFFFu;
    }
    uint32_t v = ixgbe_model_read(m, off);
    return off == 0x01044 ? v & ~stuck_bits : v; /* RDBAH(1) */
}

static uint64_t rdt_writes;
/* Off while the model runs in another thread than the driver: the model
 * writes a frame's descriptors back before it moves RDH past them, so a
 * worker can refill them and write RDT in between, and RDT then meets an
 * RDH about to move on; the check holds only with the two in one thread. */
static bool rdt_meets_rdh_check;

static void bar_write(uint64_t addr, uint32_t v, int size)
{
    uint32_t off;
    struct ixgbe_model *m = model_at(addr, &off);
    if (!m || size != 4) {
        test_fail(__FILE__, __LINE__, "%d-byte write at 0x%llx: no register there", size,
                  (unsigned long long)addr);
        return;
    }
    if (off == 0x01018) { /* RDT(0): never moved onto RDH(0), which would mean an empty ring */
        __atomic_fetch_add(&rdt_writes, 1, __ATOMIC_RELAXED); /* workers may be threads */
        uint32_t rdh = ixgbe_model_read(m, 0x01010);
        if (rdt_meets_rdh_check && v == rdh)
            test_fail(__FILE__, __LINE__, "RDT(0) written with RDH(0)'s value %u", v);
    }
    ixgbe_model_write(m, off, v);
}

static void on_violation(void *ctx, const char *msg)
{
    (void)ctx;
    violations_seen++;
    fprintf(stderr, "  model violation: %s\n", msg);
}

/* The delays new_model gives a model unless told otherwise: all short. */
static struct ixgbe_model_config model_delays(void)
{
    return (struct ixgbe_model_config){
        .reset_ns = 100000,   /* 0.1 ms */
        .eeprom_ns = 2000000, /* 2 ms */
        .dmainit_ns = 3000000,
        .link_ns = 50000000, /* 50 ms */
        .queue_ns = 10000,
    };
}

/* Port i: a model with MAC 02:00:00:00:00:0i, strict, all delays short, SR
 * optics in its cage; the delays, master_stuck and sfp of d (if given)
 * replace them. */
static struct ixgbe_model *new_model(int i, const struct ixgbe_model_config *d)
{
    struct ixgbe_model_config c = model_delays();
    c.mac[0] = 0x02;
    c.mac[5] = (uint8_t)i;
    c.strict = true;
    c.now_ns = model_clock;
    c.dma_ok = dma_ok;
    c.on_violation = on_violation;
    c.sfp = IXGBE_MODEL_SFP_SR; /* 0x10FB is an X520: SR optics in its cage */
    c.lan_id = (uint8_t)(i & 1);
    if (d) {
        c.reset_ns = d->reset_ns;
        c.eeprom_ns = d->eeprom_ns;
        c.dmainit_ns = d->dmainit_ns;
        c.link_ns = d->link_ns;
        c.queue_ns = d->queue_ns ? d->queue_ns : c.queue_ns;
        c.master_stuck = d->master_stuck;
        c.sfp = d->sfp ? d->sfp : c.sfp;
    }
    models[i] = ixgbe_model_new(&c);
    return models[i];
}

static struct pci_dev pcis[4];

static struct nic *open_port(int i, const struct ixgbe_options *opt)
{
    pcis[i] = (struct pci_dev){
        .bus = 3, .dev = 0, .fn = (uint8_t)i, .vendor = 0x8086, .device = 0x10FB
    };
    return ixgbe_open_at(&pcis[i], BAR(i), opt);
}

static void setup(void)
{
    fake_io_reset();
    fake_io.mmio_read = bar_read;
    fake_io.mmio_write = bar_write;
    console_log_clear();
    violations_seen = 0;
    clock_ns = 0;
    intel_trace_regs = false;
    stuck_bits = 0;
    rdt_writes = 0;
    rdt_meets_rdh_check = true;
}

static void teardown(void)
{
    for (int i = 0; i < 4; i++) {
        if (models[i])
            ixgbe_model_free(models[i]);
        models[i] = NULL;
    }
    dma_free_all();
}

/* --- cases -------------------------------------------------------------------- */

/* Up to 10 s of virtual time for a port's link, as nic_probe_all waits. */
static bool link_within_10s(struct nic *n)
{
    for (int i = 0; i < 1000 && !n->ops->link(n).up; i++)
        delay_us(10000);
    return n->ops->link(n).up;
}

/* §4.6.3 end to end: two X520 ports cabled to each other, each with SR
 * optics: both come up, take their MAC from RAL/RAH and set their module up,
 * the link comes up once both are open (each end's laser is off until its
 * driver turns it on), and the model saw no rule broken. */
static void init_ok(void)
{
    setup();
    struct ixgbe_model *m = new_model(0, NULL);
    struct ixgbe_model *peer = new_model(1, NULL);
    ixgbe_model_cable(m, peer);
    struct ixgbe_options opt = { .no_link_wait = true };
    struct nic *a = open_port(0, &opt);
    CHECK(a != NULL && !a->ops->link(a).up); /* the other end is dark */
    struct nic *b = open_port(1, &opt);
    CHECK(a != NULL && b != NULL);
    if (!a || !b)
        return teardown();
    CHECK(link_within_10s(a) && link_within_10s(b));
    CHECK(
        console_contains("ixgbe 0000:03:00.0: SFP+ module: 10GBASE-SR, IXMETAL MODEL MODEL-SR\n"));
    CHECK(
        console_contains("ixgbe 0000:03:00.1: SFP+ module: 10GBASE-SR, IXMETAL MODEL MODEL-SR\n"));
    CHECK_STR(a->name, "0000:03:00.0");
    CHECK_STR(a->driver, "ixgbe");
    CHECK_STR(a->model, "82599 SFP+");
    CHECK_EQ(a->mac[0], 0x02);
    CHECK_EQ(a->mac[5], 0x00);
    CHECK_EQ(b->mac[5], 0x01);
    struct nic_link l = a->ops->link(a);
    CHECK(l.up);
    CHECK_EQ(l.mbps, 10000);
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count - 512); /* the RX ring holds 512 */
    CHECK_EQ(ixgbe_model_violations(m), 0);
    CHECK_EQ(ixgbe_model_violations(peer), 0);
    CHECK(!console_contains("waiting for the link"));
    a->ops->stop(a);
    b->ops->stop(b);
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count);
    CHECK_EQ(ixgbe_model_violations(m), 0);
    teardown();
}

/* One port with the given module in its cage, opened without waiting for
 * the link; NULL only if the open itself failed. */
static struct nic *open_with_module(enum ixgbe_model_sfp sfp, int lan)
{
    setup();
    struct ixgbe_model_config d = model_delays();
    d.sfp = sfp;
    new_model(lan, &d);
    struct ixgbe_options opt = { .no_link_wait = true };
    return open_port(lan, &opt);
}

/* Each 10 GbE module an X520 takes: identified over I2C, its NVM sequence in
 * CORECTL, SFI selected, the laser on for optics and rate select high for
 * dual-rate optics; the link comes up and no rule is broken. Port 1 looks
 * up its own NVM sequences (types 4 and 6). */
static void sfp_modules(void)
{
    static const struct {
        enum ixgbe_model_sfp sfp;
        int lan;
        const char *said;
        uint32_t esdp; /* SDP3/SDP5 and their directions after the set-up */
    } cases[] = {
        { IXGBE_MODEL_SFP_SR, 1, "SFP+ module: 10GBASE-SR, IXMETAL MODEL MODEL-SR\n", 1u << 11 },
        { IXGBE_MODEL_SFP_LR, 0, "SFP+ module: 10GBASE-LR, IXMETAL MODEL MODEL-LR\n", 1u << 11 },
        { IXGBE_MODEL_SFP_SR_DUAL, 0,
          "SFP+ module: 10GBASE-SR (dual rate), IXMETAL MODEL MODEL-SR-SX\n",
          1u << 11 | 1u << 13 | 1u << 5 },
        { IXGBE_MODEL_SFP_DA, 1, "SFP+ module: passive direct-attach, IXMETAL MODEL MODEL-DA\n",
          0 },
        { IXGBE_MODEL_SFP_DA_ACTIVE, 0,
          "SFP+ module: limiting active direct-attach, IXMETAL MODEL MODEL-DA-ACT\n", 0 },
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct nic *n = open_with_module(cases[i].sfp, cases[i].lan);
        CHECK(n != NULL);
        if (n) {
            CHECK(console_contains(cases[i].said));
            CHECK(link_within_10s(n));
            CHECK_EQ(ixgbe_model_read(models[cases[i].lan], 0x00020) & 0x2828u, cases[i].esdp);
            CHECK_EQ(ixgbe_model_read(models[cases[i].lan], 0x042A0) & (7u << 13), 3u << 13);
            n->ops->stop(n);
        }
        CHECK_EQ(violations_seen, 0);
        teardown();
    }
}

/* No module, or one that is not 10 GbE: said with what to do, the port
 * opens without link and nothing is written to CORECTL. */
static void sfp_missing_or_unsupported(void)
{
    struct nic *n = open_with_module(IXGBE_MODEL_SFP_EMPTY, 0);
    CHECK(n != NULL);
    CHECK(console_contains("ixgbe 0000:03:00.0: no SFP+ module answers in the cage (I2C address "
                           "0xA0); seat a 10 GbE SR or LR module or a direct-attach cable\n"));
    CHECK(n && !link_within_10s(n));
    CHECK_EQ(violations_seen, 0);
    teardown();

    n = open_with_module(IXGBE_MODEL_SFP_1G_T, 0);
    CHECK(n != NULL);
    CHECK(console_contains("ixgbe 0000:03:00.0: SFP+ module IXMETAL MODEL MODEL-1000T is not one "
                           "ixmetal drives at 10 Gb/s (identifier 0x03, 10G codes 0x00, 1G codes "
                           "0x08, cable 0x00); use 10GBASE-SR or LR optics or a direct-attach "
                           "cable\n"));
    CHECK(!console_contains("SFP+ module: "));
    CHECK(n && !link_within_10s(n));
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* A port whose PCIe requests never drain (STATUS.PCIE_MASTER_ENABLE stays
 * 1): the driver says so and resets twice, as the 82599 specification
 * update asks; the port comes up and the model saw no rule broken. */
static void init_master_stuck(void)
{
    setup();
    struct ixgbe_model_config d = model_delays();
    d.master_stuck = true;
    struct ixgbe_model *m = new_model(0, &d);
    struct nic *a = open_port(0, NULL);
    CHECK(a != NULL);
    CHECK(console_contains("ixgbe 0000:03:00.0: PCIe master disable (STATUS.PCIE_MASTER_ENABLE): "
                           "STATUS is 0x00080000 after 100 ms"));
    CHECK(console_contains("the reset is issued twice"));
    CHECK_EQ(ixgbe_model_violations(m), 0);
    if (a) {
        CHECK(a->ops->link(a).up);
        a->ops->stop(a);
    }
    teardown();
}

/* What a sink expects next, per direction: frames are checked in order. */
struct wire_check {
    uint64_t seed;     /* the payload generator of the side that sent them */
    uint64_t expected; /* frames seen so far */
    uint64_t bytes;
    unsigned bad;
};

static uint64_t rng(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return *s;
}

/* Frame k of a direction: a size from 60 to 1514 and a payload, both from
 * the direction's seed; a unicast to the other port's MAC or a broadcast;
 * the frame's number in its first payload bytes. */
static uint32_t make_frame(uint64_t *seed, uint64_t k, uint8_t *f)
{
    uint32_t len = 60 + (uint32_t)(rng(seed) % (1514 - 60 + 1));
    if (k % 1000 == 0)
        len = k % 2000 ? 60 : 1514; /* the edges, often */
    for (uint32_t i = 0; i < len; i += 8) {
        uint64_t r = rng(seed);
        memcpy(f + i, &r, len - i < 8 ? len - i : 8);
    }
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    if (k % 7 == 0)
        memcpy(f, bcast, 6);
    else
        f[0] &= 0xFE; /* unicast: promiscuous ports take foreign addresses */
    memcpy(f + 14, &k, sizeof(k));
    return len;
}

static void count_sink(void *ctx, const void *frame, uint32_t len)
{
    (void)frame, (void)len;
    (*(uint64_t *)ctx)++;
}

static void sink(void *ctx, const void *frame, uint32_t len)
{
    struct wire_check *w = ctx;
    uint8_t want[1514];
    uint32_t wlen = make_frame(&w->seed, w->expected, want);
    if (len != wlen || memcmp(frame, want, len) != 0) {
        if (w->bad++ < 3)
            test_fail(__FILE__, __LINE__, "frame %llu: %u bytes, expected %u, or other bytes",
                      (unsigned long long)w->expected, len, wlen);
    }
    w->expected++;
    w->bytes += len;
}

/* Two ports, models 0 and 1, promiscuous, not cabled: the test is the
 * other end of both wires. */
static bool open_pair(struct ixgbe_model **ma, struct ixgbe_model **mb, struct nic **a,
                      struct nic **b)
{
    setup();
    *ma = new_model(0, NULL);
    *mb = new_model(1, NULL);
    *a = open_port(0, NULL);
    *b = open_port(1, NULL);
    CHECK(*a && *b);
    if (!*a || !*b)
        return false;
    (*a)->ops->set_promisc(*a, true);
    (*b)->ops->set_promisc(*b, true);
    return true;
}

/* 1,000,000 frames, half each way, through the driver between two model
 * ports; counters reconciled against the model's. */
static void fwd_million(void)
{
    struct ixgbe_model *ma, *mb;
    struct nic *a, *b;
    if (!open_pair(&ma, &mb, &a, &b))
        return teardown();
    struct wire_check out_b = { .seed = 1 }, out_a = { .seed = 2 };
    ixgbe_model_set_sink(mb, sink, &out_b); /* A -> B */
    ixgbe_model_set_sink(ma, sink, &out_a); /* B -> A */

    const uint64_t per_dir = 500000;
    uint64_t seed_a = 1, seed_b = 2, sent_a = 0, sent_b = 0, bytes_a = 0, bytes_b = 0;
    uint8_t f[1514];
    struct pkt_buf *bufs[32];
    uint64_t drops = 0, rx_batches = 0, rdt_before = rdt_writes;
    for (uint64_t round = 0; out_b.expected < per_dir || out_a.expected < per_dir; round++) {
        /* Keep at most 256 frames in flight each way: well under the ring */
        while (sent_a < per_dir && sent_a - out_b.expected < 256) {
            uint32_t len = make_frame(&seed_a, sent_a, f);
            if (!ixgbe_model_inject(ma, f, len))
                break;
            sent_a++, bytes_a += len;
        }
        while (sent_b < per_dir && sent_b - out_a.expected < 256) {
            uint32_t len = make_frame(&seed_b, sent_b, f);
            if (!ixgbe_model_inject(mb, f, len))
                break;
            sent_b++, bytes_b += len;
        }
        for (int dir = 0; dir < 2; dir++) {
            struct nic *in = dir ? b : a, *out = dir ? a : b;
            uint32_t n = in->ops->rx_batch(in, 0, bufs, 32);
            rx_batches += n > 0;
            uint32_t s = out->ops->tx_batch(out, 0, bufs, n);
            if (s < n) {
                pkt_free_batch(bufs + s, n - s);
                drops += n - s;
            }
        }
        ixgbe_model_step(ma);
        ixgbe_model_step(mb);
        if (round > 20 * per_dir) {
            test_fail(__FILE__, __LINE__, "no progress: %llu and %llu of %llu frames arrived",
                      (unsigned long long)out_b.expected, (unsigned long long)out_a.expected,
                      (unsigned long long)per_dir);
            break;
        }
    }
    CHECK_EQ(out_b.bad, 0);
    CHECK_EQ(out_a.bad, 0);
    CHECK_EQ(drops, 0);
    CHECK_EQ(out_b.expected, per_dir);
    CHECK_EQ(out_a.expected, per_dir);
    CHECK_EQ(out_b.bytes, bytes_a);
    CHECK_EQ(out_a.bytes, bytes_b);
    /* RDT written exactly once per batch that took frames, never per frame
     * (a per-frame write would give about 2 * per_dir) and never for an
     * empty poll; each write checked by the hook above */
    CHECK_EQ(rdt_writes - rdt_before, rx_batches);
    CHECK(rx_batches < per_dir);

    a->ops->stop(a);
    b->ops->stop(b);
    struct nic_stats sa, sb;
    a->ops->read_stats(a, &sa);
    b->ops->read_stats(b, &sb);
    /* the driver's own counts */
    CHECK_EQ(sa.rx_packets, per_dir);
    CHECK_EQ(sa.rx_bytes, bytes_a);
    CHECK_EQ(sb.tx_packets, per_dir);
    CHECK_EQ(sb.tx_bytes, bytes_a);
    CHECK_EQ(sb.rx_packets, per_dir);
    CHECK_EQ(sa.tx_packets, per_dir);
    CHECK_EQ(sa.rx_dropped + sa.tx_dropped + sa.rx_missed, 0);
    CHECK_EQ(sb.rx_dropped + sb.tx_dropped + sb.rx_missed, 0);
    /* the NIC's counters, summed by the driver, against the model's */
    CHECK(sa.hw && sb.hw);
    CHECK_EQ(sa.hw_rx_packets, ixgbe_model_counter(ma, "GPRC"));
    CHECK_EQ(sa.hw_rx_bytes, ixgbe_model_counter(ma, "GORC"));
    CHECK_EQ(sa.hw_tx_packets, ixgbe_model_counter(ma, "GPTC"));
    CHECK_EQ(sa.hw_tx_bytes, ixgbe_model_counter(ma, "GOTC"));
    CHECK_EQ(sb.hw_rx_packets, ixgbe_model_counter(mb, "GPRC"));
    CHECK_EQ(sb.hw_tx_bytes, ixgbe_model_counter(mb, "GOTC"));
    CHECK_EQ(sa.hw_rx_packets, per_dir);
    CHECK_EQ(sa.hw_rx_bytes, bytes_a + 4 * per_dir); /* with the FCS */
    CHECK_EQ(sb.hw_tx_packets, per_dir);
    CHECK_EQ(ixgbe_model_counter(ma, "MPC"), 0);
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count);
    CHECK_EQ(b->pool[0]->nfree, b->pool[0]->count);
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* --- link loss, a stuck queue, a device that lies: traffic with gaps ---------- */

/* Frame k of direction dir, made again from those two alone: 60 to 1514
 * bytes, unicast, k at bytes 14-21. A sink can then check frames with gaps
 * between them, where the driver or the wire dropped some. */
static uint32_t numbered_frame(int dir, uint64_t k, uint8_t *f)
{
    uint64_t s = (k + 1) * 0x9E3779B97F4A7C15ull ^ (uint64_t)(dir + 1) << 56;
    uint32_t len = 60 + (uint32_t)(rng(&s) % (1514 - 60 + 1));
    for (uint32_t i = 0; i < len; i += 8) {
        uint64_t r = rng(&s);
        memcpy(f + i, &r, len - i < 8 ? len - i : 8);
    }
    f[0] &= 0xFE;
    memcpy(f + 14, &k, sizeof(k));
    return len;
}

/* What came out of a port: every frame whole and as made, numbers rising. */
struct gap_check {
    int dir;
    uint64_t frames, bytes, next;
    unsigned bad;
};

static void gap_sink(void *ctx, const void *frame, uint32_t len)
{
    struct gap_check *g = ctx;
    uint8_t want[1514];
    uint64_t k = UINT64_MAX;
    if (len >= 22)
        memcpy(&k, (const uint8_t *)frame + 14, sizeof(k));
    if (len < 22 || k < g->next || k == UINT64_MAX || numbered_frame(g->dir, k, want) != len ||
        memcmp(frame, want, len) != 0) {
        if (g->bad++ < 3)
            test_fail(__FILE__, __LINE__, "direction %d: frame %llu (%u bytes) unexpected", g->dir,
                      (unsigned long long)k, len);
    } else {
        g->next = k + 1;
    }
    g->frames++;
    g->bytes += len;
}

/* Two ports and the test as both fwd (rx_batch on one port, tx_batch on the
 * other, the rest dropped and counted when TX is full) and the traffic on
 * both wires; a round is 1 ms of virtual time, and every 1000 rounds the
 * test looks at the links as fwd's reporting core does. */
struct traffic {
    struct ixgbe_model *m[2];
    struct nic *n[2];
    struct gap_check out[2];    /* out[i]: what came out of port i */
    uint64_t tried[2], sent[2]; /* frames made for port i's wire, and those it took */
    uint64_t bytes[2], full[2]; /* their bytes; frames port i's TX ring had no room for */
    uint64_t round;
};

static bool traffic_open(struct traffic *t)
{
    memset(t, 0, sizeof(*t));
    if (!open_pair(&t->m[0], &t->m[1], &t->n[0], &t->n[1]))
        return false;
    for (int i = 0; i < 2; i++) {
        t->out[i].dir = 1 - i;
        ixgbe_model_set_sink(t->m[i], gap_sink, &t->out[i]);
        nic_link_init(t->n[i], clock_ns);
    }
    return true;
}

static void traffic_round(struct traffic *t, uint32_t per_port)
{
    uint8_t f[1514];
    struct pkt_buf *bufs[32];
    for (int i = 0; i < 2; i++)
        for (uint32_t k = 0; k < per_port; k++) {
            uint32_t len = numbered_frame(i, t->tried[i]++, f);
            if (ixgbe_model_inject(t->m[i], f, len))
                t->sent[i]++, t->bytes[i] += len;
        }
    for (int i = 0; i < 2; i++) {
        struct nic *in = t->n[i], *out = t->n[1 - i];
        uint32_t n = in->ops->rx_batch(in, 0, bufs, 32);
        uint32_t s = out->ops->tx_batch(out, 0, bufs, n);
        if (s < n) {
            pkt_free_batch(bufs + s, n - s);
            t->full[1 - i] += n - s;
        }
    }
    ixgbe_model_step(t->m[0]);
    ixgbe_model_step(t->m[1]);
    delay_us(1000);
    if (++t->round % 1000 == 0) /* as apps/ports.c's ports_check_links */
        for (int i = 0; i < 2; i++) {
            nic_link_check(t->n[i], clock_ns);
            t->n[i]->ops->tx_watch(t->n[i], clock_ns);
        }
}

/* 8 s of traffic, 8 frames a ms each way; at(t) before each ms. */
static void traffic_run(struct traffic *t, void (*at)(struct traffic *t))
{
    while (t->round < 8000) {
        at(t);
        traffic_round(t, 8);
    }
}

/* Rounds of no new frames, for the last ones to arrive; then both ports
 * stopped and their counters read. */
static void traffic_stop(struct traffic *t, struct nic_stats *sa, struct nic_stats *sb)
{
    for (int i = 0; i < 10; i++)
        traffic_round(t, 0);
    for (int i = 0; i < 2; i++)
        t->n[i]->ops->stop(t->n[i]);
    t->n[0]->ops->read_stats(t->n[0], sa);
    t->n[1]->ops->read_stats(t->n[1], sb);
}

/* Port B's cable pulled at 2.5 s and put back at 5.5 s, 8 frames a ms
 * each way: the checks at 3 s and 6 s see it, and say so; what B's ring
 * took before (511 frames) waits and leaves when the link is back; what it
 * is handed while seen down (3 s of A's frames) is tx_dropped; what could
 * not reach B's wire (3 s of its frames) never counts; every frame and
 * buffer is accounted for, and B's own counters agree. */
static void pull_cable_b(struct traffic *t)
{
    if (t->round == 2500 || t->round == 5500)
        ixgbe_model_set_cable(t->m[1], t->round == 5500);
}

static void link_loss_mid_traffic(void)
{
    struct traffic t;
    if (!traffic_open(&t))
        return teardown();
    struct nic *a = t.n[0], *b = t.n[1];
    struct nic_stats sa, sb;
    traffic_run(&t, pull_cable_b);
    traffic_stop(&t, &sa, &sb);
    CHECK(console_contains("link 0000:03:00.1 down\nlink 0000:03:00.1 up after 3.0 s\n"));
    CHECK(!console_contains("link 0000:03:00.0"));
    CHECK_EQ(b->link_downs, 1);
    CHECK_EQ(a->link_downs, 0);
    CHECK_EQ(nic_link_down_ms(b, clock_ns), 3000);
    CHECK_EQ(nic_link_down_ms(a, clock_ns), 0);
    CHECK_EQ(t.sent[0], 64000);
    CHECK_EQ(t.sent[1], 64000 - 24000); /* B's wire dark from 2.5 s to 5.5 s */
    CHECK_EQ(t.full[1], 4000 - 511);    /* 2.5 s to 3 s: B's ring filled, then full */
    CHECK_EQ(t.full[0], 0);
    CHECK_EQ(sb.tx_dropped, 24000); /* 3 s to 6 s */
    CHECK_EQ(sb.tx_packets, 64000 - 24000 - 3489);
    CHECK_EQ(sa.rx_packets, sb.tx_packets + sb.tx_dropped + t.full[1]);
    CHECK_EQ(t.out[1].frames, sb.tx_packets);
    CHECK_EQ(t.out[1].bytes, sb.tx_bytes);
    CHECK_EQ(sb.hw_tx_packets, sb.tx_packets);
    CHECK_EQ(sb.hw_tx_bytes, sb.tx_bytes + 4 * sb.tx_packets);
    CHECK_EQ(sa.rx_bytes, t.bytes[0]);
    CHECK_EQ(sb.rx_packets, t.sent[1]);
    CHECK_EQ(sa.tx_packets, t.sent[1]);
    CHECK_EQ(sa.tx_dropped, 0);
    CHECK_EQ(t.out[0].frames, t.sent[1]);
    CHECK_EQ(t.out[0].bytes, t.bytes[1]);
    CHECK_EQ(sa.rx_dropped + sa.rx_missed + sb.rx_dropped + sb.rx_missed, 0);
    CHECK_EQ(t.out[0].bad + t.out[1].bad, 0);
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count);
    CHECK_EQ(b->pool[0]->nfree, b->pool[0]->count);
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* Port B's transmit queue hangs at 1.5 s (TDH stops, link up), 8 frames a
 * ms each way: the ring takes 511 more, then is full; the check at 2 s sees
 * the head where it stopped, the one at 3 s a second later says "stalled"
 * once, and B's core resets the queue at its next batch: the 511 stuck
 * frames are tx_dropped (not sent, so not tx_packets), their buffers back
 * in the pool, and forwarding goes on; every frame is accounted for, and
 * the model's counters agree. */
static void freeze_b(struct traffic *t)
{
    if (t->round == 1500)
        ixgbe_model_freeze_tx(t->m[1], 0);
}

static void tx_queue_stall(void)
{
    struct traffic t;
    if (!traffic_open(&t))
        return teardown();
    struct nic *a = t.n[0], *b = t.n[1];
    struct nic_stats sa, sb;
    traffic_run(&t, freeze_b);
    traffic_stop(&t, &sa, &sb);
    CHECK(console_contains("tx queue 0 of 0000:03:00.1 stalled\n"));
    CHECK(!strstr(strstr(console_log, "stalled\n") + 8, "stalled")); /* once */
    CHECK(!console_contains("link 0000:03:00"));
    CHECK_EQ(t.full[1], 12000 - 511); /* 1.5 s to 3 s: 511 taken, then the ring full */
    CHECK_EQ(t.full[0], 0);
    CHECK_EQ(sb.tx_resets, 1);
    CHECK_EQ(sa.tx_resets, 0);
    CHECK_EQ(sb.tx_dropped, 511);
    CHECK_EQ(sb.tx_packets, 64000 - 12000);
    CHECK_EQ(sa.rx_packets, 64000);
    CHECK_EQ(sa.rx_packets, sb.tx_packets + sb.tx_dropped + t.full[1]);
    CHECK_EQ(t.out[1].frames, sb.tx_packets);
    CHECK_EQ(t.out[1].bytes, sb.tx_bytes);
    CHECK_EQ(ixgbe_model_counter(t.m[1], "GPTC"), sb.tx_packets);
    CHECK_EQ(sb.hw_tx_bytes, sb.tx_bytes + 4 * sb.tx_packets);
    CHECK_EQ(t.out[0].frames, 64000); /* the other way: untouched */
    CHECK_EQ(sa.tx_packets + sa.tx_dropped, 64000);
    CHECK_EQ(sa.tx_dropped, 0);
    CHECK_EQ(t.out[0].bad + t.out[1].bad, 0);
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count);
    CHECK_EQ(b->pool[0]->nfree, b->pool[0]->count);
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* The model lies in its receive write-backs: 2 frames with a length of
 * twice their buffer, then 2 without EOP (buffers not full), between good
 * ones. Each lie is one counted drop (rx_dropped, dev_errors), each kind
 * said once (the second within the second is not), the frame after a lie
 * taken as its own, no buffer lost, and the good frames intact. */
static void rx_write_back_lies(void)
{
    struct ixgbe_model *ma, *mb;
    struct nic *a, *b;
    if (!open_pair(&ma, &mb, &a, &b))
        return teardown();
    uint8_t f[1514];
    uint64_t seq = 0;
    uint32_t good_len[6];
    int ngood = 0;
    static const enum ixgbe_model_lie plan[] = { 0,
                                                 IXGBE_MODEL_LIE_LENGTH,
                                                 IXGBE_MODEL_LIE_LENGTH,
                                                 0,
                                                 IXGBE_MODEL_LIE_NO_EOP,
                                                 IXGBE_MODEL_LIE_NO_EOP,
                                                 0,
                                                 0,
                                                 0,
                                                 0 };
    for (unsigned k = 0; k < sizeof(plan) / sizeof(plan[0]); k++) {
        uint32_t len = numbered_frame(0, seq++, f);
        if (plan[k])
            ixgbe_model_rx_lie(ma, plan[k], 1);
        else if (ngood < 6)
            good_len[ngood++] = len;
        CHECK(ixgbe_model_inject(ma, f, len));
    }
    struct pkt_buf *bufs[32];
    uint32_t n = a->ops->rx_batch(a, 0, bufs, 32);
    CHECK_EQ(n, 6);
    for (uint32_t i = 0; i < n && i < 6; i++) {
        uint64_t k;
        memcpy(&k, pkt_data(bufs[i]) + 14, sizeof(k));
        CHECK_EQ(bufs[i]->len, good_len[i]);
        CHECK_EQ(numbered_frame(0, k, f), bufs[i]->len);
        CHECK(memcmp(pkt_data(bufs[i]), f, bufs[i]->len) == 0);
    }
    pkt_free_batch(bufs, n);
    struct nic_stats sa;
    a->ops->read_stats(a, &sa);
    CHECK_EQ(sa.rx_packets, 6);
    CHECK_EQ(sa.rx_dropped, 4);
    CHECK_EQ(sa.dev_errors, 4);
    CHECK_EQ(sa.rx_packets + sa.rx_dropped, ixgbe_model_counter(ma, "GPRC"));
    CHECK_EQ(console_count("ixgbe 0000:03:00.0: receive queue 0, descriptor 1 written back with "
                           "length 4096, past its 2048-byte buffer; dropped (1 bad write-backs so "
                           "far; device broken?)\n"),
             1);
    CHECK_EQ(console_count("past its"), 1);
    CHECK_EQ(console_count("ixgbe 0000:03:00.0: receive queue 0, descriptor 4 written back without "
                           "EOP and "),
             1);
    CHECK_EQ(console_count("without EOP"), 1);
    a->ops->stop(a);
    b->ops->stop(b);
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count);
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* A TX ring the device does not drain: tx_batch takes what fits (size - 1
 * descriptors, TDT never reaching TDH), the caller frees and counts the
 * rest, and all of it is accounted for at the end. */
static void tx_ring_full(void)
{
    struct ixgbe_model *ma, *mb;
    struct nic *a, *b;
    if (!open_pair(&ma, &mb, &a, &b))
        return teardown();
    struct wire_check out_b = { .seed = 1 };
    ixgbe_model_set_sink(mb, sink, &out_b);
    uint64_t seed = 1, sent = 0, taken = 0, dropped = 0;
    uint8_t f[1514];
    struct pkt_buf *bufs[32];
    for (int round = 0; round < 2; round++) { /* 600 frames, B's model not running */
        for (int i = 0; i < 300; i++, sent++)
            CHECK(ixgbe_model_inject(ma, f, make_frame(&seed, sent, f)));
        uint32_t n;
        while ((n = a->ops->rx_batch(a, 0, bufs, 32)) != 0) {
            uint32_t s = b->ops->tx_batch(b, 0, bufs, n);
            taken += s;
            dropped += n - s;
            pkt_free_batch(bufs + s, n - s);
        }
    }
    CHECK_EQ(taken, 511);
    CHECK_EQ(dropped, 600 - 511);
    ixgbe_model_step(mb);
    CHECK_EQ(out_b.expected, 511); /* the first 511, in order, byte for byte */
    CHECK_EQ(out_b.bad, 0);
    a->ops->stop(a);
    b->ops->stop(b);
    struct nic_stats sb;
    b->ops->read_stats(b, &sb);
    CHECK_EQ(sb.tx_packets, 511);
    CHECK_EQ(sb.tx_dropped, 0);
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count);
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* Frames still queued when the port stops (the device never sends them):
 * the drain wait ends, bounded and said; they are counted as tx_dropped and
 * their buffers are back in the pool. */
static void stop_with_unsent(void)
{
    struct ixgbe_model *ma, *mb;
    struct nic *a, *b;
    if (!open_pair(&ma, &mb, &a, &b))
        return teardown();
    struct pkt_buf *bufs[32];
    uint32_t n = pkt_alloc_batch(b->pool[0], bufs, 32);
    for (uint32_t i = 0; i < n; i++)
        bufs[i]->len = 60;
    CHECK_EQ(b->ops->tx_batch(b, 0, bufs, n), 32);
    b->ops->stop(b); /* the model is never stepped: nothing leaves */
    struct nic_stats sb;
    b->ops->read_stats(b, &sb);
    CHECK_EQ(sb.tx_packets, 32);
    CHECK_EQ(sb.tx_dropped, 32);
    CHECK_EQ(sb.hw_tx_packets, 0);
    CHECK(console_contains("ixgbe 0000:03:00.1: draining the transmit ring: TDH(0) is "
                           "0x00000000 after 100 ms, waiting for 0x00000020"));
    CHECK_EQ(b->pool[0]->nfree, b->pool[0]->count);
    a->ops->stop(a);
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* More frames than the receive ring holds, with nobody polling: the rest
 * are dropped by the NIC (QPRDC, SRRCTL.DROP_EN) and show as rx_missed. */
static void rx_ring_overflow(void)
{
    struct ixgbe_model *ma, *mb;
    struct nic *a, *b;
    if (!open_pair(&ma, &mb, &a, &b))
        return teardown();
    uint64_t seed = 1, placed = 0;
    uint8_t f[1514];
    for (int i = 0; i < 600; i++)
        placed += ixgbe_model_inject(ma, f, make_frame(&seed, (uint64_t)i, f));
    CHECK_EQ(placed, 511); /* all descriptors but the one RDT keeps back */
    struct nic_stats sa;
    a->ops->read_stats(a, &sa);
    CHECK_EQ(sa.rx_missed, 600 - 511);
    a->ops->stop(a);
    b->ops->stop(b);
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count);
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* Every buffer a frame arrives in says where the frame is, whatever its
 * header said when it was last freed: 1,100 frames, each buffer freed with
 * a wrong headroom and length, so that from frame 512 on frames arrive in
 * buffers the ring took back off the pool's stack. */
static void rx_buffer_header_set(void)
{
    struct ixgbe_model *ma, *mb;
    struct nic *a, *b;
    if (!open_pair(&ma, &mb, &a, &b))
        return teardown();
    uint64_t seed = 5, check = 5, bad = 0;
    uint8_t f[1514], want[1514];
    for (uint64_t k = 0; k < 1100; k++) {
        CHECK(ixgbe_model_inject(ma, f, make_frame(&seed, k, f)));
        struct pkt_buf *got;
        CHECK_EQ(a->ops->rx_batch(a, 0, &got, 1), 1);
        uint32_t len = make_frame(&check, k, want);
        if (got->headroom != PKT_HEADROOM || got->len != len || memcmp(pkt_data(got), want, len))
            bad++;
        got->headroom = 7;
        got->len = 99;
        pkt_free(got);
    }
    CHECK_EQ(bad, 0);
    a->ops->stop(a);
    b->ops->stop(b);
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count);
    teardown();
}

/* What a frame's first 16 bytes become by PSHUFB's rule (driver/rewrite.h):
 * byte j is old byte map[j] & 15, or 0 if map[j] has bit 7 set; then ORed
 * with set[j]. */
static void rewritten(uint8_t *f, const struct pkt_rewrite *rw)
{
    uint8_t old[16];
    memcpy(old, f, 16);
    for (int j = 0; j < 16; j++)
        f[j] = (uint8_t)((rw->map[j] >= 0x80 ? 0 : old[rw->map[j] % 16]) | rw->set[j]);
}

/* 700 frames of 60-1514 bytes taken in batches of 1 to 32 (so that runs
 * meet the ring's end), rewritten by rw as received: each frame's every byte
 * and length as expected. */
static void rx_rewritten(const struct pkt_rewrite *rw, void (*expect)(uint8_t *f))
{
    struct ixgbe_model *ma, *mb;
    struct nic *a, *b;
    if (!open_pair(&ma, &mb, &a, &b))
        return teardown();
    a->rx_rewrite = rw;
    uint64_t seed = 9, check = 9, k = 0, got_k = 0, bad = 0;
    uint8_t f[1514], want[1514];
    while (got_k < 700) {
        uint32_t batch = 1 + (uint32_t)(k % 32);
        for (uint32_t i = 0; i < batch && k < 700; i++, k++)
            CHECK(ixgbe_model_inject(ma, f, make_frame(&seed, k, f)));
        struct pkt_buf *got[32];
        uint32_t n = a->ops->rx_batch(a, 0, got, 32);
        CHECK(n > 0);
        if (!n)
            break;
        for (uint32_t i = 0; i < n; i++, got_k++) {
            uint32_t len = make_frame(&check, got_k, want);
            expect(want);
            if (got[i]->len != len || memcmp(pkt_data(got[i]), want, len))
                bad++;
        }
        pkt_free_batch(got, n);
    }
    CHECK_EQ(got_k, 700);
    CHECK_EQ(bad, 0);
    a->ops->stop(a);
    b->ops->stop(b);
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count);
    CHECK_EQ(violations_seen, 0);
    teardown();
}

static const uint8_t out_mac[6] = { 0x52, 0x54, 0x00, 0xab, 0xcd, 0xef };
static struct pkt_rewrite random_rw; /* random_table's */

static void swapped(uint8_t *f)
{
    uint8_t dst[6];
    memcpy(dst, f, 6);
    memmove(f, f + 6, 6);
    memcpy(f + 6, dst, 6);
}

static void l2fwd(uint8_t *f)
{
    static const uint8_t to[6] = { 0x02, 0, 0, 0, 0, 1 };
    memcpy(f, to, 6);
    memcpy(f + 6, out_mac, 6);
}

static void random_table(uint8_t *f)
{
    rewritten(f, &random_rw);
}

/* The receive's rewrite (driver/rewrite.h), with PSHUFB and a byte at a
 * time: fwd's macswap and mac tables (apps/fwd_rewrite.h), and a random
 * table with zeroed and set bytes and bytes 12-15 moved too. */
static void rx_rewrite_exact(void)
{
    struct pkt_rewrite rw;
    uint64_t seed = 77;
    CHECK(fwd_rewrite_table(&rw, FWD_MACSWAP, out_mac, 1));
    CHECK(rw.pshufb); /* the host's CPU has SSSE3: both ways are tested */
    for (int way = 0; way < 2; way++) {
        CHECK(fwd_rewrite_table(&rw, FWD_MACSWAP, out_mac, 1));
        rw.pshufb = way == 0;
        rx_rewritten(&rw, swapped);
        CHECK(fwd_rewrite_table(&rw, FWD_MAC, out_mac, 1));
        rw.pshufb = way == 0;
        rx_rewritten(&rw, l2fwd);
        pkt_rewrite_init(&random_rw);
        for (int j = 0; j < 16; j++) {
            uint64_t r = rng(&seed);
            random_rw.map[j] = (uint8_t)(r % 4 == 0 ? 0x80 | (r >> 8) : (r >> 8) & 0x7F);
            random_rw.set[j] = (uint8_t)(r % 3 == 0 ? r >> 16 : 0);
        }
        random_rw.pshufb = way == 0;
        rx_rewritten(&random_rw, random_table);
    }
    CHECK(!fwd_rewrite_table(&rw, FWD_IO, out_mac, 1)); /* io: no table */
}

/* PSHUFB and the byte-at-a-time fallback agree with PSHUFB's rule on 10,000
 * random tables (every map value 0-255 at every position, bits 4-6 too)
 * over random bytes, and leave the bytes after the 16th alone. */
static void rewrite_ways_agree(void)
{
    uint64_t seed = 3;
    unsigned bad = 0;
    struct pkt_rewrite rw;
    pkt_rewrite_init(&rw);
    CHECK(rw.pshufb);
    for (int k = 0; k < 10000; k++) {
        uint8_t f[20], a[20], b[20];
        for (int j = 0; j < 16; j++) {
            uint64_t r = rng(&seed);
            rw.map[j] = (uint8_t)r;
            rw.set[j] = (uint8_t)(r >> 8 & r >> 16); /* mostly few bits set */
        }
        for (int j = 0; j < 20; j++)
            f[j] = (uint8_t)rng(&seed);
        memcpy(a, f, 20);
        memcpy(b, f, 20);
        rewritten(f, &rw);
        pkt_rewrite_pshufb(a, &rw);
        pkt_rewrite_bytes(b, &rw);
        bad += memcmp(a, f, 20) != 0 || memcmp(b, f, 20) != 0;
    }
    CHECK_EQ(bad, 0);
}

/* A frame longer than a buffer, spread over two descriptors (jumbo frames
 * turned on behind the driver's back): dropped and counted once, both
 * buffers back in the ring, and the frames around it delivered intact. */
static void rx_frame_over_buffers(void)
{
    struct ixgbe_model *ma, *mb;
    struct nic *a, *b;
    if (!open_pair(&ma, &mb, &a, &b))
        return teardown();
    ixgbe_model_write(ma, 0x04240, ixgbe_model_read(ma, 0x04240) | 1u << 2); /* HLREG0.JUMBOEN */
    ixgbe_model_write(ma, 0x04268, 9018u << 16);                             /* MAXFRS.MFS */
    uint8_t f[3000];
    memset(f, 0xAB, sizeof(f));
    CHECK(ixgbe_model_inject(ma, f, 100));
    CHECK(ixgbe_model_inject(ma, f, 3000));
    CHECK(ixgbe_model_inject(ma, f, 200));
    struct pkt_buf *bufs[32];
    uint32_t n = a->ops->rx_batch(a, 0, bufs, 32);
    CHECK_EQ(n, 2);
    if (n == 2) {
        CHECK_EQ(bufs[0]->len, 100);
        CHECK_EQ(bufs[1]->len, 200);
    }
    pkt_free_batch(bufs, n);
    struct nic_stats sa;
    a->ops->read_stats(a, &sa);
    CHECK_EQ(sa.rx_dropped, 1);
    CHECK_EQ(sa.rx_packets, 2);
    a->ops->stop(a);
    b->ops->stop(b);
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count);
    teardown();
}

/* An IPv4/UDP frame from 10.0.0.1:sport to 10.0.0.2:9000, 60 bytes. */
static uint32_t udp_frame(uint8_t *f, uint16_t sport)
{
    static const uint8_t hdr[34] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0,  0,  0, 9, 0x08, 0x00, /* Ethernet */
        0x45, 0,    0,    46,   0,    0,    0x40, 0, 64, 17, 0, 0, 10,   0,
        0,    1,    10,   0,    0,    2, /* IPv4 */
    };
    memset(f, 0, 60);
    memcpy(f, hdr, sizeof(hdr));
    f[34] = (uint8_t)(sport >> 8), f[35] = (uint8_t)sport; /* UDP */
    f[36] = 9000 >> 8, f[37] = 9000 & 0xFF;
    f[39] = 26;
    return 60;
}

/* RSS with nq queue pairs: each of 64 UDP flows lands in the queue the
 * driver's redirection table names for its Toeplitz hash (computed here,
 * apart from the model, with the key the driver says it uses: entry j of the
 * 128 names queue j mod nq, so with 3 queues all 7 index bits matter),
 * every queue gets some, and all queue pairs forward to the other port. */
static void rss_queues(uint16_t nq)
{
    setup();
    struct ixgbe_model *ma = new_model(0, NULL), *mb = new_model(1, NULL);
    struct ixgbe_options opt = { .queues = nq };
    struct nic *a = open_port(0, &opt), *b = open_port(1, &opt);
    CHECK(a && b);
    if (!a || !b)
        return teardown();
    CHECK_EQ(a->rx_queues, nq);
    a->ops->set_promisc(a, true);
    uint64_t sunk = 0;
    ixgbe_model_set_sink(mb, count_sink, &sunk);
    const uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 };
    uint8_t f[60];
    uint32_t per_queue[NIC_MAX_QUEUES] = { 0 }, wrong = 0, sum = 0;
    for (int round = 0; round < 4; round++) { /* 4 x 64 frames: well inside each ring */
        for (uint16_t flow = 0; flow < 64; flow++)
            CHECK(ixgbe_model_inject(ma, f, udp_frame(f, (uint16_t)(1024 + flow))));
        for (uint16_t q = 0; q < nq; q++) {
            struct pkt_buf *bufs[64];
            uint32_t n = a->ops->rx_batch(a, q, bufs, 64);
            for (uint32_t i = 0; i < n; i++) {
                const uint8_t *d = pkt_data(bufs[i]);
                uint16_t sport = (uint16_t)(d[34] << 8 | d[35]);
                uint32_t hash = ref_hash(MS_KEY, src, dst, 4, true, sport, 9000);
                wrong += (hash & 0x7F) % nq != q;
                per_queue[q]++;
            }
            CHECK_EQ(b->ops->tx_batch(b, q, bufs, n), n);
        }
        ixgbe_model_step(mb);
    }
    CHECK_EQ(wrong, 0);
    for (int q = 0; q < nq; q++) {
        CHECK(per_queue[q] > 0);
        sum += per_queue[q];
    }
    CHECK_EQ(sum, 4 * 64);
    CHECK_EQ(sunk, 4 * 64);
    a->ops->stop(a);
    b->ops->stop(b);
    for (int q = 0; q < nq; q++) {
        CHECK_EQ(a->pool[q]->nfree, a->pool[q]->count);
        CHECK_EQ(b->pool[q]->nfree, b->pool[q]->count);
    }
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* A port opened with 4 queue pairs of which fwd polls only 2 (the other
 * port has 2): use_queues(2) rewrites the redirection table, and every flow
 * lands in queue 0 or 1, the one RETA (entry j: j mod 2) names. */
static void rss_use_fewer_queues(void)
{
    setup();
    new_model(0, NULL);
    struct ixgbe_options opt = { .queues = 4 };
    struct nic *a = open_port(0, &opt);
    CHECK(a != NULL);
    if (!a)
        return teardown();
    a->ops->set_promisc(a, true);
    a->ops->use_queues(a, 2);
    const uint8_t src[4] = { 10, 0, 0, 1 }, dst[4] = { 10, 0, 0, 2 };
    uint8_t f[60];
    for (uint16_t flow = 0; flow < 64; flow++)
        CHECK(ixgbe_model_inject(models[0], f, udp_frame(f, (uint16_t)(1024 + flow))));
    uint32_t got[4] = { 0 }, wrong = 0;
    for (uint16_t q = 0; q < 4; q++) {
        struct pkt_buf *bufs[64];
        uint32_t n = a->ops->rx_batch(a, q, bufs, 64);
        for (uint32_t i = 0; i < n; i++) {
            const uint8_t *d = pkt_data(bufs[i]);
            uint16_t sport = (uint16_t)(d[34] << 8 | d[35]);
            wrong += (ref_hash(MS_KEY, src, dst, 4, true, sport, 9000) & 0x7F) % 2 != q;
        }
        got[q] = n;
        pkt_free_batch(bufs, n);
    }
    CHECK_EQ(wrong, 0);
    CHECK(got[0] > 0 && got[1] > 0);
    CHECK_EQ(got[2] + got[3], 0);
    CHECK_EQ(got[0] + got[1], 64);
    a->ops->stop(a);
    CHECK_EQ(violations_seen, 0);
    teardown();
}

static void rss_three_queues(void)
{
    rss_queues(3);
}

static void rss_four_queues(void)
{
    rss_queues(4);
}

/* fwd's worker cores, as threads: each owns queue pair q of both ports and
 * forwards A -> B on it; nothing else is shared but the flag that stops
 * them. */
struct tworker {
    struct nic *a, *b;
    uint16_t q;
    atomic_bool *stop;
    uint64_t moved, tx_full;
    pthread_t thread;
};

static void *tworker_main(void *arg)
{
    struct tworker *w = arg;
    struct pkt_buf *bufs[32];
    while (!atomic_load_explicit(w->stop, memory_order_acquire)) {
        uint32_t n = w->a->ops->rx_batch(w->a, w->q, bufs, 32);
        uint32_t sent = w->b->ops->tx_batch(w->b, w->q, bufs, n);
        pkt_free_batch(bufs + sent, n - sent);
        w->moved += sent;
        w->tx_full += n - sent;
    }
    return NULL;
}

/* What leaves port B, per flow: frames carry their flow's sequence number. */
struct flow_check {
    uint64_t last[64], count[64], frames, bad;
};

static void flow_sink(void *ctx, const void *frame, uint32_t len)
{
    struct flow_check *c = ctx;
    const uint8_t *f = frame;
    uint16_t flow = (uint16_t)((f[34] << 8 | f[35]) - 1024);
    uint64_t seq;
    memcpy(&seq, f + 42, sizeof(seq));
    if (len != 60 || flow >= 64 || seq != c->count[flow]) /* in order within its flow */
        c->bad++;
    else
        c->count[flow]++;
    c->frames++;
}

/* Four worker threads on four queue pairs, 64 flows spread by RSS, 100,000
 * frames: each arrives once, in order within its flow, every worker moved
 * some, nothing dropped, every pool full after stop. */
static void four_worker_threads(void)
{
    setup();
    struct ixgbe_model *ma = new_model(0, NULL), *mb = new_model(1, NULL);
    struct ixgbe_options opt = { .queues = 4 };
    struct nic *a = open_port(0, &opt), *b = open_port(1, &opt);
    CHECK(a && b);
    if (!a || !b)
        return teardown();
    a->ops->set_promisc(a, true);
    struct flow_check fc = { 0 };
    ixgbe_model_set_sink(mb, flow_sink, &fc);
    atomic_bool stop = false;
    rdt_meets_rdh_check = false; /* the model steps here, the driver in four threads */
    struct tworker w[4];
    for (uint16_t q = 0; q < 4; q++) {
        w[q] = (struct tworker){ .a = a, .b = b, .q = q, .stop = &stop };
        pthread_create(&w[q].thread, NULL, tworker_main, &w[q]);
    }
    const uint64_t total = 100000;
    uint64_t sent = 0, next[64] = { 0 }, spins = 0;
    uint8_t f[60];
    while (fc.frames < total && spins++ < 50000000) {
        while (sent < total && sent - fc.frames < 256) { /* inside every ring */
            uint16_t flow = (uint16_t)(sent % 64);
            udp_frame(f, (uint16_t)(1024 + flow));
            memcpy(f + 42, &next[flow], sizeof(next[flow]));
            if (!ixgbe_model_inject(ma, f, 60))
                break;
            next[flow]++, sent++;
        }
        ixgbe_model_step(mb);
    }
    atomic_store_explicit(&stop, true, memory_order_release);
    uint64_t moved = 0, tx_full = 0;
    for (int q = 0; q < 4; q++) {
        pthread_join(w[q].thread, NULL);
        CHECK(w[q].moved > 0);
        moved += w[q].moved, tx_full += w[q].tx_full;
    }
    CHECK_EQ(fc.frames, total);
    CHECK_EQ(fc.bad, 0);
    CHECK_EQ(moved, total);
    CHECK_EQ(tx_full, 0);
    a->ops->stop(a);
    b->ops->stop(b);
    struct nic_stats sa, sb;
    a->ops->read_stats(a, &sa);
    b->ops->read_stats(b, &sb);
    CHECK_EQ(sa.rx_packets, total);
    CHECK_EQ(sb.tx_packets, total);
    CHECK_EQ(sa.rx_missed + sa.rx_dropped + sb.tx_dropped, 0);
    for (int q = 0; q < 4; q++) {
        CHECK_EQ(a->pool[q]->nfree, a->pool[q]->count);
        CHECK_EQ(b->pool[q]->nfree, b->pool[q]->count);
    }
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* A reset that never ends, a DMA init that never ends, a link that never
 * comes: each a bounded wait that names the device, the step and a hint. */
static void reset_never_clears(void)
{
    setup();
    struct ixgbe_model_config d = {
        .reset_ns = IXGBE_MODEL_NEVER, .eeprom_ns = 1000, .dmainit_ns = 1000, .link_ns = 1000
    };
    new_model(0, &d);
    struct nic *a = open_port(0, NULL);
    CHECK(a == NULL);
    CHECK(console_contains("ixgbe 0000:03:00.0: global reset (CTRL.RST): CTRL is 0x"));
    CHECK(console_contains("after 1000 ms"));
    CHECK(console_contains("check that it is powered"));
    CHECK(clock_ns < 3000000000ull); /* 1 s and the steps around it, not more */
    teardown();
}

static void dmaidone_never_sets(void)
{
    setup();
    struct ixgbe_model_config d = {
        .reset_ns = 1000, .eeprom_ns = 1000, .dmainit_ns = IXGBE_MODEL_NEVER, .link_ns = 1000
    };
    new_model(0, &d);
    CHECK(open_port(0, NULL) == NULL);
    CHECK(console_contains(
        "ixgbe 0000:03:00.0: DMA initialization (RDRXCTL.DMAIDONE): RDRXCTL is 0x"));
    CHECK(console_contains("check its PCIe link"));
    teardown();
}

static void link_never_comes(void)
{
    setup();
    struct ixgbe_model_config d = {
        .reset_ns = 1000, .eeprom_ns = 1000, .dmainit_ns = 1000, .link_ns = IXGBE_MODEL_NEVER
    };
    new_model(0, &d);
    uint64_t t0 = clock_ns;
    struct nic *a = open_port(0, NULL);
    CHECK(a != NULL); /* the NIC is up; only its link is not */
    CHECK(console_contains("ixgbe 0000:03:00.0: waiting for the link: LINKS is 0x"));
    CHECK(console_contains("after 10000 ms"));
    CHECK(console_contains("check the cable or SFP+ module"));
    CHECK(clock_ns - t0 >= 10000000000ull && clock_ns - t0 < 12000000000ull);
    if (a)
        CHECK(!a->ops->link(a).up);
    teardown();
}

static void queue_never_enables(void)
{
    setup();
    struct ixgbe_model_config d = { .reset_ns = 1000,
                                    .eeprom_ns = 1000,
                                    .dmainit_ns = 1000,
                                    .link_ns = 1000,
                                    .queue_ns = IXGBE_MODEL_NEVER };
    new_model(0, &d);
    CHECK(open_port(0, NULL) == NULL);
    CHECK(console_contains("ixgbe 0000:03:00.0: enabling receive queue 0: RXDCTL(0) is 0x"));
    CHECK(console_contains("after 1000 ms"));
    CHECK(console_contains("the queue's base, length and SRRCTL may be wrong"));
    teardown();
}

/* After a failed open of port 0 through ixgbe_open_opts: every block it
 * took given back (outstanding is the count before the open), its bus
 * mastering off, receive and transmit off, no queue enabled, no rule of
 * the model broken. */
static void nothing_left_taken(int outstanding)
{
    CHECK_EQ(ndma, outstanding);
    CHECK_EQ(pci_command[0] & PCI_CMD_BUS_MASTER, 0);
    CHECK_EQ(ixgbe_model_read(models[0], 0x03000) & 1, 0); /* RXCTRL.RXEN */
    CHECK_EQ(ixgbe_model_read(models[0], 0x04A80) & 1, 0); /* DMATXCTL.TE */
    CHECK_EQ(ixgbe_model_queues_enabled(models[0]), 0);
    CHECK_EQ(ixgbe_model_violations(models[0]), 0);
}

static struct nic *open_opts_port0(const struct ixgbe_options *opt)
{
    pcis[0] = (struct pci_dev){ .bus = 3, .vendor = 0x8086, .device = 0x10FB };
    pcis[0].bar[0] = (struct pci_bar){ .addr = BAR(0), .size = 0x80000, .type = PCI_BAR_MEM64 };
    pci_command[0] = 0;
    return ixgbe_open_opts(&pcis[0], opt);
}

/* Each allocation of an open with two queue pairs made to fail in turn,
 * the k-th for k = 1, 2, ... until the open succeeds: the port's state,
 * then for each queue its pool (two blocks), receive ring and its buffer
 * list, transmit ring and its list: 13 allocations, each of which the open
 * unwinds from. */
static void open_fails_at_each_allocation(void)
{
    struct ixgbe_options opt = { .queues = 2, .no_link_wait = true };
    unsigned k;
    for (k = 1; k < 100; k++) {
        setup();
        new_model(0, NULL);
        int before = ndma;
        dma_fail_at = dma_allocs + k;
        struct nic *n = open_opts_port0(&opt);
        if (n) {
            CHECK_EQ(pci_command[0] & PCI_CMD_BUS_MASTER, PCI_CMD_BUS_MASTER);
            teardown();
            break;
        }
        CHECK(console_contains("no memory"));
        nothing_left_taken(before);
        teardown();
        if (test_case_failed) {
            printf("     (allocation %u of the open failed)\n", k);
            break;
        }
    }
    CHECK_EQ(k, 14); /* allocations 1..13 each failed the open; with none failing it opens */
}

/* Each bounded wait of the open that fails it, made to time out: the reset,
 * the EEPROM auto-read, the DMA init, and each of two receive and two
 * transmit queues' enable. */
static void open_fails_at_each_wait(void)
{
    static const struct {
        uint64_t reset_ns, eeprom_ns, dmainit_ns;
        uint32_t rx_never, tx_never;
        const char *said;
    } waits[] = {
        { IXGBE_MODEL_NEVER, 1000, 1000, 0, 0, "global reset (CTRL.RST): CTRL is" },
        { 1000, IXGBE_MODEL_NEVER, 1000, 0, 0, "EEPROM auto-read (EEC.ARD): EEC is" },
        { 1000, 1000, IXGBE_MODEL_NEVER, 0, 0, "DMA initialization (RDRXCTL.DMAIDONE)" },
        { 1000, 1000, 1000, 1, 0, "enabling receive queue 0: RXDCTL(0) is" },
        { 1000, 1000, 1000, 2, 0, "enabling receive queue 1: RXDCTL(1) is" },
        { 1000, 1000, 1000, 0, 1, "enabling transmit queue 0: TXDCTL(0) is" },
        { 1000, 1000, 1000, 0, 2, "enabling transmit queue 1: TXDCTL(1) is" },
    };
    struct ixgbe_options opt = { .queues = 2, .no_link_wait = true };
    for (unsigned i = 0; i < sizeof(waits) / sizeof(waits[0]); i++) {
        setup();
        struct ixgbe_model_config c = model_delays();
        c.reset_ns = waits[i].reset_ns;
        c.eeprom_ns = waits[i].eeprom_ns;
        c.dmainit_ns = waits[i].dmainit_ns;
        c.strict = true;
        c.now_ns = model_clock;
        c.dma_ok = dma_ok;
        c.on_violation = on_violation;
        c.sfp = IXGBE_MODEL_SFP_SR;
        c.rx_never = waits[i].rx_never;
        c.tx_never = waits[i].tx_never;
        models[0] = ixgbe_model_new(&c);
        int before = ndma;
        CHECK(open_opts_port0(&opt) == NULL);
        CHECK(console_contains(waits[i].said));
        nothing_left_taken(before);
        teardown();
        if (test_case_failed) {
            printf("     (wait: %s)\n", waits[i].said);
            break;
        }
    }
}

/* HLREG0.LPBK: what the port sends comes back to it, byte for byte. */
static void mac_loopback(void)
{
    setup();
    new_model(0, NULL);
    struct ixgbe_options lb = { .loopback = true };
    struct nic *a = open_port(0, &lb);
    CHECK(a != NULL);
    if (!a)
        return teardown();
    a->ops->set_promisc(a, true);
    struct pkt_buf *bufs[32];
    uint32_t n = pkt_alloc_batch(a->pool[0], bufs, 32);
    CHECK_EQ(n, 32);
    for (uint32_t i = 0; i < n; i++) {
        bufs[i]->len = (uint16_t)(60 + i * 40);
        for (uint32_t k = 0; k < bufs[i]->len; k++)
            pkt_data(bufs[i])[k] = (uint8_t)(i * 7 + k);
    }
    CHECK_EQ(a->ops->tx_batch(a, 0, bufs, n), 32);
    ixgbe_model_step(models[0]);
    uint32_t got = a->ops->rx_batch(a, 0, bufs, 32);
    CHECK_EQ(got, 32);
    for (uint32_t i = 0; i < got; i++) {
        CHECK_EQ(bufs[i]->len, 60 + i * 40);
        int same = 1;
        for (uint32_t k = 0; k < bufs[i]->len; k++)
            same &= pkt_data(bufs[i])[k] == (uint8_t)(i * 7 + k);
        CHECK(same);
    }
    pkt_free_batch(bufs, got);
    a->ops->stop(a);
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count);
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* Queue 0's rings as ring_state gives them, field by field against want
 * (rx then tx: head, tail, done, pending, bufs; size 512 on both). */
static void rings_are(struct nic *n, const uint32_t want[2][5], int line)
{
    struct nic_ring r[2];
    if (!n->ops->ring_state(n, 0, &r[0], &r[1])) {
        test_fail(__FILE__, line, "ring_state said queue 0 is not set up");
        return;
    }
    for (int k = 0; k < 2; k++) {
        uint32_t got[6] = { r[k].head, r[k].tail, r[k].done, r[k].pending, r[k].bufs, r[k].size };
        const uint32_t exp[6] = { want[k][0], want[k][1], want[k][2], want[k][3], want[k][4], 512 };
        static const char *const what[6] = { "head", "tail", "done", "pending", "bufs", "size" };
        for (int f = 0; f < 6; f++)
            if (got[f] != exp[f])
                test_fail(__FILE__, line, "%s %s = %u, expected %u", k ? "TX" : "RX", what[f],
                          got[f], exp[f]);
    }
}
#define RINGS_ARE(n, ...) rings_are(n, (const uint32_t[2][5]){ __VA_ARGS__ }, __LINE__)

/* trace=rings against the model: each ring's head (RDH/TDH), tail and the
 * descriptors done, pending and holding buffers, exactly, as frames arrive,
 * are taken, sent and freed, and across the end of the ring. */
static void ring_state_exact(void)
{
    struct ixgbe_model *ma, *mb;
    struct nic *a, *b;
    if (!open_pair(&ma, &mb, &a, &b))
        return teardown();
    uint64_t out = 0, seed = 1;
    ixgbe_model_set_sink(mb, count_sink, &out);
    /* RDT one behind RDH's start: all but one descriptor the device's */
    RINGS_ARE(a, { 0, 511, 0, 511, 512 }, { 0, 0, 0, 0, 0 });
    uint8_t f[1514];
    for (int i = 0; i < 100; i++)
        CHECK(ixgbe_model_inject(ma, f, make_frame(&seed, (uint64_t)i, f)));
    RINGS_ARE(a, { 100, 511, 100, 411, 512 }, { 0, 0, 0, 0, 0 });
    struct pkt_buf *bufs[32];
    CHECK_EQ(a->ops->rx_batch(a, 0, bufs, 32), 32);
    RINGS_ARE(a, { 100, 31, 68, 443, 512 }, { 0, 0, 0, 0, 0 }); /* RDT moved to 31 */
    CHECK_EQ(b->ops->tx_batch(b, 0, bufs, 32), 32);
    RINGS_ARE(b, { 0, 511, 0, 511, 512 }, { 0, 32, 0, 32, 32 }); /* handed over, not sent */
    CHECK_EQ(ixgbe_model_step(mb), 32);
    CHECK_EQ(out, 32);
    RINGS_ARE(b, { 0, 511, 0, 511, 512 }, { 32, 32, 32, 0, 32 }); /* sent, not yet freed */
    CHECK_EQ(b->ops->tx_batch(b, 0, bufs, 0), 0);                 /* frees a batch of 32 */
    RINGS_ARE(b, { 0, 511, 0, 511, 512 }, { 32, 32, 0, 0, 0 });
    /* Around the end: 500 more frames in, all 568 taken and sent. */
    for (int i = 100; i < 600; i++)
        if (i < 100 + 443) /* 443 descriptors are the device's; the rest are missed */
            CHECK(ixgbe_model_inject(ma, f, make_frame(&seed, (uint64_t)i, f)));
    RINGS_ARE(a, { 31, 31, 511, 0, 512 }, { 0, 0, 0, 0, 0 }); /* full: RDH reached RDT */
    uint32_t n, taken = 32;
    while ((n = a->ops->rx_batch(a, 0, bufs, 32)) != 0) {
        taken += n;
        CHECK_EQ(b->ops->tx_batch(b, 0, bufs, n), n);
        ixgbe_model_step(mb);
    }
    CHECK_EQ(taken, 543);
    RINGS_ARE(a, { 31, 30, 0, 511, 512 }, { 0, 0, 0, 0, 0 });
    /* 543 sent: TDT at 543 mod 512; freed in 32s up to 512, the last 31 wait */
    RINGS_ARE(b, { 0, 511, 0, 511, 512 }, { 31, 31, 31, 0, 31 });
    CHECK_EQ(out, 543);
    CHECK(!a->ops->ring_state(a, 1, &(struct nic_ring){ 0 }, &(struct nic_ring){ 0 }));
    a->ops->stop(a);
    b->ops->stop(b);
    CHECK(!a->ops->ring_state(a, 0, &(struct nic_ring){ 0 }, &(struct nic_ring){ 0 }));
    CHECK_EQ(a->pool[0]->nfree, a->pool[0]->count);
    CHECK_EQ(b->pool[0]->nfree, b->pool[0]->count);
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* trace=regs names: the registers both chips have (intel.c), at the
 * 82599's offsets where they differ (§8.2.3.7), and the 82599's own. */
static void register_names(void)
{
    setup();
    new_model(0, NULL);
    struct ixgbe_options opt = { .no_link_wait = true };
    struct nic *a = open_port(0, &opt);
    CHECK(a != NULL);
    if (!a)
        return teardown();
    static const struct {
        uint32_t off;
        const char *name;
    } regs[] = {
        { 0x00000, "CTRL" },      { 0x00008, "STATUS" },   { 0x05000, "RXCSUM" },
        { 0x0EC80, "MRQC" },      { 0x0EB7C, "RETA(31)" }, { 0x0EB80, "RSSRK(0)" },
        { 0x0A5F8, "RAL(127)" },  { 0x0A5FC, "RAH(127)" }, { 0x0A600, "0x0a600" },
        { 0x10010, "EEC" },       { 0x01470, "QPRDC(1)" }, { 0x03FA4, "MPC(1)" },
        { 0x01068, "RXDCTL(1)" }, { 0x06018, "TDT(0)" },   { 0x01054, "SRRCTL(1)" },
    };
    for (unsigned i = 0; i < sizeof(regs) / sizeof(regs[0]); i++) {
        char buf[32];
        CHECK_STR(intel_reg_name((struct intel_dev *)a, regs[i].off, buf, sizeof(buf)),
                  regs[i].name);
    }
    teardown();
}

/* trace=regs: every access by name, in the order the datasheet gives. */
static void trace_regs(void)
{
    setup();
    new_model(0, NULL);
    intel_trace_regs = true;
    struct ixgbe_options lb = { .loopback = true };
    struct nic *a = open_port(0, &lb);
    intel_trace_regs = false;
    CHECK(a != NULL);
    CHECK(console_contains("ixgbe 0000:03:00.0 W EIMC = 0x7fffffff\n"));
    CHECK(console_contains("ixgbe 0000:03:00.0 R EEC = 0x"));
    CHECK(console_contains("ixgbe 0000:03:00.0 W RDLEN(0) = 0x00002000\n"));
    CHECK(console_contains("ixgbe 0000:03:00.0 W RXDCTL(0) = 0x02"));
    CHECK(console_contains("ixgbe 0000:03:00.0 W RDT(0) = 0x000001ff\n"));
    CHECK(console_contains("ixgbe 0000:03:00.0 W TXDCTL(0) = 0x00040824\n"));
    const char *en = strstr(console_log, " W RXDCTL(0) = 0x02");
    const char *tail = strstr(console_log, " W RDT(0) = ");
    CHECK(en && tail && en < tail); /* the tail moves only after the enable */
    teardown();
}

/* The model moves frames only when stepped. A selftest port whose
 * rx_batch steps port 0's model first: once a pass of selftest's loopback
 * loop, as the hardware would run beside it. */
static const struct nic_ops *driver_ops;
static struct nic_ops stepping_ops;

static uint32_t rx_stepping(struct nic *nic, uint16_t q, struct pkt_buf **bufs, uint32_t n)
{
    ixgbe_model_step(models[0]);
    return driver_ops->rx_batch(nic, q, bufs, n);
}

/* Port 0 opened in MAC loopback, as nic_open_loopback opens it; with the
 * model stepped (step) or never run. */
static struct nic *selftest_open(bool step)
{
    setup();
    new_model(0, NULL);
    struct ixgbe_options lb = { .loopback = true };
    struct nic *nic = open_port(0, &lb);
    if (nic && step) {
        driver_ops = nic->ops;
        stepping_ops = *nic->ops;
        stepping_ops.rx_batch = rx_stepping;
        nic->ops = &stepping_ops;
    }
    return nic;
}

/* app=selftest on a healthy port: PASS, in so many words. */
static void selftest_pass(void)
{
    struct nic *nic = selftest_open(true);
    CHECK(nic != NULL);
    CHECK_EQ(selftest_port(nic, SELFTEST_FRAMES), 0);
    CHECK(console_contains("selftest 0000:03:00.0: PASS ixgbe 82599 SFP+; registers: 24 "
                           "patterns written and read back; loopback: 1000 frames of 60-1514 "
                           "bytes back intact; pool full after stop\n"));
    CHECK_EQ(ixgbe_model_counter(models[0], "GPTC"), SELFTEST_FRAMES);
    CHECK_EQ(ixgbe_model_counter(models[0], "GPRC"), SELFTEST_FRAMES);
    CHECK_EQ(violations_seen, 0);
    teardown();
}

/* A register bit that does not hold what was written: FAIL registers,
 * naming the register and both values. */
static void selftest_bad_register(void)
{
    struct nic *nic = selftest_open(true);
    CHECK(nic != NULL);
    stuck_bits = 0x00100000;
    CHECK_EQ(selftest_port(nic, SELFTEST_FRAMES), -1);
    CHECK(console_contains("selftest 0000:03:00.0: FAIL registers: RDBAH(1) reads 0xffefffff "
                           "after 0xffffffff was written\n"));
    teardown();
}

/* Frames that never come back (here: the model never runs): FAIL loopback
 * after the bounded wait, with the counts. */
static void selftest_no_loopback(void)
{
    struct nic *nic = selftest_open(false);
    CHECK(nic != NULL);
    CHECK_EQ(selftest_port(nic, SELFTEST_FRAMES), -1);
    CHECK(console_contains("selftest 0000:03:00.0: FAIL loopback: sent 256 of 1000 frames, 0 "
                           "came back (0 different from what was sent) within 2000 ms\n"));
    teardown();
}

int main(void)
{
    RUN(init_ok);
    RUN(init_master_stuck);
    RUN(sfp_modules);
    RUN(sfp_missing_or_unsupported);
    RUN(fwd_million);
    RUN(tx_ring_full);
    RUN(link_loss_mid_traffic);
    RUN(tx_queue_stall);
    RUN(rx_write_back_lies);
    RUN(stop_with_unsent);
    RUN(rx_ring_overflow);
    RUN(rx_frame_over_buffers);
    RUN(rx_buffer_header_set);
    RUN(rx_rewrite_exact);
    RUN(rewrite_ways_agree);
    RUN(rss_three_queues);
    RUN(rss_use_fewer_queues);
    RUN(rss_four_queues);
    RUN(four_worker_threads);
    RUN(reset_never_clears);
    RUN(dmaidone_never_sets);
    RUN(link_never_comes);
    RUN(queue_never_enables);
    RUN(open_fails_at_each_allocation);
    RUN(open_fails_at_each_wait);
    RUN(mac_loopback);
    RUN(trace_regs);
    RUN(ring_state_exact);
    RUN(register_names);
    RUN(selftest_pass);
    RUN(selftest_bad_register);
    RUN(selftest_no_loopback);
    return test_finish();
}
