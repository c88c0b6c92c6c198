/*
 * apps/pktgen.c - `app=pktgen`: a packet generator (ixy-pktgen, DPDK's
 * pktgen) that also measures what comes back.
 *
 * It sends Ethernet/IPv4/UDP frames of size= bytes on the first port, at
 * rate= frames per second in all (0: as fast as the port takes them),
 * count= of them in all (0: no limit), spread over flows= UDP source ports.
 * It receives on every port (promiscuous, as a forwarder may leave the
 * destination MAC as it was) and counts its own frames coming back: gaps
 * and reordering in each flow's sequence numbers, and the round-trip time
 * (min, median, 99th percentile, max).
 *
 * Frame layout (RFC 791 IPv4, RFC 768 UDP):
 *    0-13  Ethernet: to 02:00:00:00:00:01, from the first port's MAC, IPv4
 *   14-33  IPv4 10.0.0.1 -> 10.0.0.2, with a correct header checksum
 *   34-41  UDP from port 1024 + flow (flow 0..flows-1) to port 9000,
 *          checksum 0 ("not computed", allowed over IPv4)
 *   42-49  the frame's sequence number in its flow, u64 little-endian: each
 *          flow's frames are numbered from 0, so order and loss can be
 *          checked per flow however the flows are spread over queues
 *   50-57  the TSC when it was sent, u64 little-endian
 *   58-    zeros, to size= bytes
 *
 * Cores (apps/workers.h): with cores=N, N > 1, the boot core only reports
 * and N-1 workers run, worker w on core w+1; with cores=1 the boot core is
 * the one worker and reports between its passes. Worker w sends on TX queue
 * w of the first port and receives on RX queue w of every port, so fewer
 * workers run if a port has fewer queue pairs. The flows are split between
 * the workers in contiguous ranges: a flow is only ever sent by one core
 * through one TX queue, and keeps its order on the wire. With fewer flows
 * than workers, only as many workers send; all receive. count= and rate=
 * are split as evenly as they divide. A NIC hashing flows to queues (RSS)
 * hands every frame of a flow that comes back on a port to one queue, so
 * one worker sees the whole flow there. Each worker has its own buffer pool
 * ("pktgen", then "pktgen/1", ...), counters, expected sequence numbers and
 * latency histogram; nothing is shared on the data path. A frame sent by
 * one core may come back to another: the round-trip time then relies on
 * the cores' TSCs agreeing (an invariant TSC, SDM vol. 3B §19.17).
 *
 * idle=US (default 0): after a pass that sent and received nothing, halt
 * the core until the local APIC timer fires US microseconds later, as fwd
 * does (under TCG, worker vCPUs that spin starve QEMU's own threads).
 */
#include "apps/apps.h"
#include "apps/pktgen_rx.h"
#include "apps/ports.h"
#include "apps/workers.h"

#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/lapic.h"
#include "kernel/mem.h"
#include "kernel/string.h"

#define MAX_BATCH 256
#define POOL_SIZE 4096
#define DRAIN_NS 200000000ull /* after the last frame: 200 ms for stragglers to return */
#define STATS_EVERY_NS 1000000000ull

/* One worker: a core, its TX queue on the first port, its RX queue on every
 * port, and the flows it sends. Written only by its core once it runs; the
 * boot core reads the counters to report them. */
struct worker {
    int core;
    uint16_t queue, size;
    int nports;
    struct nic *nics[MAX_PORTS]; /* it sends on nics[0] */
    uint32_t batch, idle_us;
    uint64_t deadline_ns; /* duration=: now_ns() at which sending stops; 0 = none */
    /* Sending: frame i of this worker goes to flow flow_base + i mod nflows. */
    struct mempool *pool;       /* NULL if it does not send */
    char pool_name[16];         /* "pktgen", "pktgen/1", ... */
    uint64_t flow_base, nflows; /* its range of flows */
    uint64_t limit;             /* its share of count= (UINT64_MAX: no limit) */
    uint64_t interval, next;    /* TSC ticks between frames (rate=; 0 = unpaced), next due */
    bool sending;               /* until its share is sent or duration= ends */
    uint64_t sent;
    struct pktgen_rx rx;        /* receiving: what came back to its queue (apps/pktgen_rx.h) */
} __attribute__((aligned(64))); /* a cache line of its own: one core writes it */

static uint16_t ip_checksum(const uint8_t *h, int len)
{
    uint32_t sum = 0;
    for (int i = 0; i < len; i += 2)
        sum += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (sum >> 16)
        sum = (sum & 0xFFFF) + (sum >> 16);
    return (uint16_t)~sum;
}

/* The frame every buffer starts as; only the UDP source port, sequence
 * number and timestamp change per frame. */
static void build_template(uint8_t *f, uint32_t size, const uint8_t *src_mac)
{
    memset(f, 0, size);
    static const uint8_t dst_mac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    f[12] = 0x08; /* IPv4 */
    uint8_t *ip = f + 14;
    ip[0] = 0x45; /* version 4, 5 words of header */
    ip[2] = (uint8_t)((size - 14) >> 8);
    ip[3] = (uint8_t)(size - 14);
    ip[8] = 64; /* TTL */
    ip[9] = 17; /* UDP */
    memcpy(ip + 12, pktgen_ip_src, 4);
    memcpy(ip + 16, pktgen_ip_dst, 4);
    uint16_t c = ip_checksum(ip, 20);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    uint8_t *udp = f + 34;
    udp[2] = PKTGEN_UDP_DST >> 8;
    udp[3] = PKTGEN_UDP_DST & 0xFF;
    udp[4] = (uint8_t)((size - 34) >> 8);
    udp[5] = (uint8_t)(size - 34);
}

/* A sending worker's pool, from the sending port's NUMA node; every buffer
 * gets the template once (ixy-pktgen's trick). Run by the boot core, before
 * the worker starts. */
static int fill_pool(struct worker *w)
{
    static struct pkt_buf *all[POOL_SIZE];
    uint8_t tmpl[PKT_MAX_FRAME];
    uint64_t lo, hi;
    mem_node_begin(w->nics[0]->node); /* the buffers go out of the port they are sent on */
    w->pool = mempool_create(w->pool_name, POOL_SIZE);
    mem_node_end(&lo, &hi);
    if (!w->pool)
        return -1;
    ports_lend_pool(w->nics[0], w->pool); /* its DMA reads them */
    build_template(tmpl, w->size, w->nics[0]->mac);
    uint32_t n = pkt_alloc_batch(w->pool, all, POOL_SIZE);
    for (uint32_t i = 0; i < n; i++) {
        memcpy(pkt_data(all[i]), tmpl, w->size);
        all[i]->len = w->size;
    }
    pkt_free_batch(all, n);
    return 0;
}

/* Sends up to n frames; returns how many the port took. Frame i of this
 * worker is frame i / nflows of flow flow_base + i mod nflows: both follow
 * from the count sent so far, so no table of per-flow numbers is kept. */
static uint32_t send_batch(struct worker *w, uint32_t n)
{
    struct pkt_buf *bufs[MAX_BATCH];
    n = pkt_alloc_batch(w->pool, bufs, n);
    uint64_t now = rdtsc(), flow = w->sent % w->nflows, seq = w->sent / w->nflows;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *f = pkt_data(bufs[i]);
        uint16_t sport = (uint16_t)(PKTGEN_UDP_SRC_BASE + w->flow_base + flow);
        f[34] = (uint8_t)(sport >> 8);
        f[35] = (uint8_t)sport;
        memcpy(f + PKTGEN_PAYLOAD, &seq, 8); /* little-endian on the wire, as x86 holds it */
        memcpy(f + PKTGEN_PAYLOAD + 8, &now, 8);
        bufs[i]->len = w->size;
        if (++flow == w->nflows) { /* the next round over its flows */
            flow = 0;
            seq++;
        }
    }
    uint32_t took = nic_tx_batch(w->nics[0], w->queue, bufs, n);
    pkt_free_batch(bufs + took, n - took); /* they go again, same numbers */
    w->sent += took;
    return took;
}

/* Sends what is due: a batch, or with rate= the frames whose time has come
 * (at most a batch), never more than the worker's share of count=. Returns
 * how many went. */
static uint32_t send_due(struct worker *w)
{
    uint64_t want = w->batch;
    if (w->interval) {
        uint64_t t = rdtsc();
        want = t < w->next ? 0 : (t - w->next) / w->interval + 1;
        want = want > w->batch ? w->batch : want;
    }
    if (want > w->limit - w->sent)
        want = w->limit - w->sent;
    uint32_t took = want ? send_batch(w, (uint32_t)want) : 0;
    w->next += took * w->interval;
    return took;
}

/* A batch from the worker's queue of every port; returns how many frames. */
static uint32_t receive_all(struct worker *w)
{
    struct pkt_buf *bufs[MAX_BATCH];
    uint32_t got = 0;
    for (int p = 0; p < w->nports; p++) {
        uint32_t n = nic_rx_batch(w->nics[p], w->queue, bufs, w->batch);
        uint64_t now = rdtsc();
        for (uint32_t i = 0; i < n; i++)
            pktgen_rx_frame(&w->rx, p, pkt_data(bufs[i]), bufs[i]->len, now);
        pkt_free_batch(bufs, n);
        got += n;
    }
    return got;
}

/* One pass: send what is due, then receive; true if it moved frames. */
static bool pass(struct worker *w)
{
    uint32_t moved = 0;
    if (w->sending) {
        moved = send_due(w);
        if (w->sent == w->limit || (w->deadline_ns && now_ns() >= w->deadline_ns))
            __atomic_store_n(&w->sending, false, __ATOMIC_RELEASE); /* the boot core waits */
    }
    moved += receive_all(w);
    if (!moved && w->idle_us)
        lapic_sleep_us(w->idle_us);
    return moved != 0;
}

/* A worker core's loop, until the boot core says stop: receiving goes on
 * after sending ends, for the frames still on their way back. */
static void worker_main(void *arg)
{
    workers_loop(arg, pass);
}

/* Sender s's share of total (flows, count=, rate=) split between senders
 * as evenly as it divides: the first total % senders get one more. */
static uint64_t share(uint64_t total, int s, int senders)
{
    return total / (uint64_t)senders + ((uint64_t)s < total % (uint64_t)senders);
}

/* Worker i: its core and queue, its tables and, if it is one of the
 * senders, its flows (the range after those of senders 0..i-1), its share
 * of count= and rate=, and its pool. */
static int worker_init(struct worker *w, int i, int senders, const struct workers *ws,
                       const struct port *ports, int nports, const struct app_args *args)
{
    uint64_t flows = app_config.flows;
    *w = (struct worker){ .core = ws->core[i],
                          .queue = (uint16_t)i,
                          .size = (uint16_t)app_config.size,
                          .nports = nports,
                          .batch = (uint32_t)app_config.batch,
                          .idle_us = ws->idle_us,
                          .deadline_ns = args->deadline_ns,
                          .rx = { .flows = flows, .nports = nports } };
    for (int p = 0; p < nports; p++)
        w->nics[p] = ports[p].nic;
    /* Sized by this run: a row of flows per port; one bucket per us. */
    w->rx.next_seq = dma_alloc((size_t)nports * flows * sizeof(*w->rx.next_seq), 64);
    w->rx.lat = dma_alloc(PKTGEN_LAT_BUCKETS * sizeof(*w->rx.lat), 64);
    if (!w->rx.next_seq || !w->rx.lat) {
        kprintf("pktgen: no memory for worker %d's tables\n", i);
        return -1;
    }
    if (i >= senders)
        return 0;
    for (int s = 0; s < i; s++)
        w->flow_base += share(flows, s, senders);
    w->nflows = share(flows, i, senders);
    w->limit = app_config.count ? share(app_config.count, i, senders) : UINT64_MAX;
    uint64_t rate = share(app_config.rate, i, senders); /* >= 1 if rate= is set: see senders */
    w->interval = rate ? tsc_hz() / rate : 0;
    w->next = rdtsc();
    w->sending = w->limit > 0;
    if (i) /* worker 0's is "pktgen", as when it was the only one */
        ksnprintf(w->pool_name, sizeof(w->pool_name), "pktgen/%d", i);
    else
        ksnprintf(w->pool_name, sizeof(w->pool_name), "pktgen");
    return fill_pool(w);
}

/* The latency below which a fraction per_mille of all workers' samples
 * fall, in ns (the upper edge of its 1 us bucket); never above max, the
 * largest seen. */
static uint64_t percentile(const struct worker *w, int n, uint64_t received, uint64_t max,
                           uint32_t per_mille)
{
    uint64_t want = (received * per_mille + 999) / 1000, seen = 0;
    for (uint32_t b = 0; b < PKTGEN_LAT_BUCKETS && want; b++) {
        for (int i = 0; i < n; i++)
            seen += w[i].rx.lat[b];
        uint64_t edge = (uint64_t)(b + 1) * 1000;
        if (seen >= want)
            return edge < max ? edge : max;
    }
    return 0;
}

/* "[core 1 queue 0] sent=..." once a second; "final core 1 queue 0:
 * sent=..." at the end. */
static void print_workers(const struct worker *w, int n, bool final)
{
    for (int i = 0; i < n; i++)
        kprintf("%score %d queue %u%s sent=%lu received=%lu gaps=%lu reordered=%lu\n",
                final ? "final " : "[", w[i].core, w[i].queue, final ? ":" : "]", w[i].sent,
                w[i].rx.received, w[i].rx.gaps, w[i].rx.reordered);
}

/* The two summary lines, over all workers. */
static void print_summary(const struct worker *w, int n)
{
    uint64_t sent = 0, received = 0, gaps = 0, reordered = 0, lat_min = 0, lat_max = 0;
    for (int i = 0; i < n; i++) {
        const struct pktgen_rx *r = &w[i].rx;
        if (r->received && (!received || r->lat_min < lat_min))
            lat_min = r->lat_min;
        lat_max = r->lat_max > lat_max ? r->lat_max : lat_max;
        sent += w[i].sent;
        received += r->received;
        gaps += r->gaps;
        reordered += r->reordered;
    }
    kprintf("pktgen sent=%lu received=%lu lost=%lu gaps=%lu reordered=%lu\n", sent, received,
            received < sent ? sent - received : 0, gaps, reordered);
    kprintf("pktgen latency_ns min=%lu median=%lu p99=%lu max=%lu\n", lat_min,
            percentile(w, n, received, lat_max, 500), percentile(w, n, received, lat_max, 990),
            lat_max);
}

/* True while a worker still sends. */
static bool any_sending(const struct worker *w, int n)
{
    for (int i = 0; i < n; i++)
        if (__atomic_load_n(&w[i].sending, __ATOMIC_ACQUIRE))
            return true;
    return false;
}

/* Static: a worker that did not stop may still be using them. */
static struct port ports[MAX_PORTS];
static struct worker *workers; /* ws.n of them */
static struct workers ws;

/* Senders: a flow belongs to one of them, each gets a frame a second of
 * rate= at least (0 = unpaced, so a share of 0 must not happen) and a frame
 * of count= at least (no pool for a sender with nothing to send). */
static int senders_of(int nworkers)
{
    uint64_t n = (uint64_t)nworkers;
    n = app_config.flows < n ? app_config.flows : n;
    n = app_config.rate && app_config.rate < n ? app_config.rate : n;
    n = app_config.count && app_config.count < n ? app_config.count : n;
    if (n < (uint64_t)nworkers)
        kprintf("pktgen: %lu of %d worker cores send (flows %lu, rate %lu, count %lu); all "
                "receive\n",
                n, nworkers, app_config.flows, app_config.rate, app_config.count);
    return (int)n;
}

int pktgen_main(const struct app_args *args)
{
    int nports = ports_open(app_config.ports, 1, MAX_PORTS, app_workers(args), ports);
    if (nports < 1)
        return 1;
    ports_promisc(ports, nports, "pktgen");
    if (!workers_plan(&ws, "pktgen", args, ports, nports))
        return 1;
    workers = dma_alloc((size_t)ws.n * sizeof(*workers), 64);
    if (!workers) {
        kprintf("pktgen: no memory for %d workers\n", ws.n);
        return 1;
    }
    int senders = senders_of(ws.n);
    for (int i = 0; i < ws.n; i++)
        if (worker_init(&workers[i], i, senders, &ws, ports, nports, args) != 0)
            return 1;
    kprintf("pktgen: sending on %s, %lu bytes, rate %lu/s, count %lu, flows %lu, idle %u us, "
            "%d worker core%s\n",
            ports[0].nic->name, app_config.size, app_config.rate, app_config.count,
            app_config.flows, ws.idle_us, ws.n, ws.n == 1 ? "" : "s");
    if (!workers_start(&ws, worker_main, workers, sizeof(workers[0])))
        return 1;
    /* The boot core reports once a second: between its passes as worker 0,
     * or alone between naps. */
    uint64_t last = now_ns(), done_at = 0;
    for (uint32_t polls = 0;; polls++) {
        if (!ws.reporter && pass(&workers[0]) && polls % POLLS_PER_CLOCK_CHECK)
            continue;
        workers_nap(&ws);
        uint64_t now = now_ns();
        if (!done_at && (!any_sending(workers, ws.n) || app_time_up(args)))
            done_at = now; /* sending ends; receiving goes on a little */
        if (done_at && now > done_at + DRAIN_NS)
            break;
        if (now - last >= STATS_EVERY_NS) {
            ports_check_links(ports, nports);
            ports_print_rates(ports, nports, now - last);
            if (ws.reporter)
                print_workers(workers, ws.n, false);
            last = now;
        }
    }
    if (!workers_stop(&ws))
        return 1;
    print_summary(workers, ws.n);
    if (ws.reporter)
        print_workers(workers, ws.n, true);
    ports_finish(ports, nports);
    for (int i = 0; i < senders; i++)
        kprintf("mempool %s free=%u size=%u\n", workers[i].pool->name, workers[i].pool->nfree,
                workers[i].pool->count);
    return 0;
}
