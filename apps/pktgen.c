/*
 * apps/pktgen.c - `app=pktgen`: a packet generator (ixy-pktgen, DPDK's
 * pktgen) that also measures what comes back.
 *
 * It sends Ethernet/IPv4/UDP frames of size= bytes on the first port, at
 * rate= frames per second (0: as fast as the port takes them), count= of
 * them (0: no limit), spread over flows= UDP source ports. Every frame
 * carries, at the start of its UDP payload, a 64-bit sequence number and the
 * TSC when it was sent (both little-endian). It receives on every port and
 * counts its own frames coming back: sequence gaps, reordering, and the
 * round-trip time (min, median, 99th percentile, max).
 *
 * Frame layout (RFC 791 IPv4, RFC 768 UDP): Ethernet 0-13, IPv4 14-33 with
 * a correct header checksum, UDP 34-41 with checksum 0 ("not computed",
 * allowed over IPv4), payload from 42.
 */
#include "apps/apps.h"
#include "apps/ports.h"

#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/string.h"

#define MAX_BATCH 256
#define POOL_SIZE 4096
#define UDP_SRC_BASE 1024
#define UDP_DST 9000
#define PAYLOAD 42
#define LAT_BUCKETS 100000    /* 1 us each; later ones count in the last */
#define DRAIN_NS 200000000ull /* after the last frame: 200 ms for stragglers to return */
#define STATS_EVERY_NS 1000000000ull

static const uint8_t ip_src[4] = { 10, 0, 0, 1 }, ip_dst[4] = { 10, 0, 0, 2 };

struct gen {
    struct port ports[MAX_PORTS];
    int nports;
    struct mempool *pool;
    uint64_t sent, received, gaps, reordered;
    uint64_t next_seq[MAX_PORTS]; /* the sequence number expected next, per port */
    uint64_t lat_min, lat_max;
    uint32_t lat[LAT_BUCKETS];
};

static struct gen gen; /* ~400 KiB of latency buckets: not on the stack */

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
    memcpy(ip + 12, ip_src, 4);
    memcpy(ip + 16, ip_dst, 4);
    uint16_t c = ip_checksum(ip, 20);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    uint8_t *udp = f + 34;
    udp[2] = UDP_DST >> 8;
    udp[3] = UDP_DST & 0xFF;
    udp[4] = (uint8_t)((size - 34) >> 8);
    udp[5] = (uint8_t)(size - 34);
}

/* Every buffer of the pool gets the template once (ixy-pktgen's trick). */
static int fill_pool(uint32_t size)
{
    static struct pkt_buf *all[POOL_SIZE];
    uint8_t tmpl[PKT_MAX_FRAME];
    gen.pool = mempool_create("pktgen", POOL_SIZE);
    if (!gen.pool)
        return -1;
    build_template(tmpl, size, gen.ports[0].nic->mac);
    uint32_t n = pkt_alloc_batch(gen.pool, all, POOL_SIZE);
    for (uint32_t i = 0; i < n; i++) {
        memcpy(pkt_data(all[i]), tmpl, size);
        all[i]->len = (uint16_t)size;
    }
    pkt_free_batch(all, n);
    return 0;
}

/* Sends up to n frames; returns how many the port took. */
static uint32_t send_batch(uint32_t n)
{
    struct pkt_buf *bufs[MAX_BATCH];
    n = pkt_alloc_batch(gen.pool, bufs, n);
    uint64_t now = rdtsc();
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *f = pkt_data(bufs[i]);
        uint64_t seq = gen.sent + i;
        uint16_t sport = (uint16_t)(UDP_SRC_BASE + seq % app_config.flows);
        f[34] = (uint8_t)(sport >> 8);
        f[35] = (uint8_t)sport;
        memcpy(f + PAYLOAD, &seq, 8); /* little-endian on the wire, as x86 holds it */
        memcpy(f + PAYLOAD + 8, &now, 8);
        bufs[i]->len = (uint16_t)app_config.size;
    }
    uint32_t took = nic_tx_batch(gen.ports[0].nic, 0, bufs, n);
    pkt_free_batch(bufs + took, n - took); /* they go again, same numbers */
    gen.sent += took;
    return took;
}

/* Sends what is due: a batch, or with rate= the frames whose time has come
 * (at most a batch), never more than count= in all. */
static void send_due(uint32_t batch, uint64_t interval, uint64_t *next)
{
    uint64_t want = batch;
    if (interval) {
        uint64_t t = rdtsc();
        want = t < *next ? 0 : (t - *next) / interval + 1;
        want = want > batch ? batch : want;
    }
    if (app_config.count && want > app_config.count - gen.sent)
        want = app_config.count - gen.sent;
    if (want)
        *next += send_batch((uint32_t)want) * interval;
}

static bool ours(const uint8_t *f, uint32_t len)
{
    return len >= PAYLOAD + 16 && f[12] == 0x08 && f[13] == 0 && f[23] == 17 &&
           memcmp(f + 26, ip_src, 4) == 0 && memcmp(f + 30, ip_dst, 4) == 0 &&
           f[36] == UDP_DST >> 8 && f[37] == (UDP_DST & 0xFF);
}

static void account(int port, const uint8_t *f, uint64_t now)
{
    uint64_t seq, sent_at;
    memcpy(&seq, f + PAYLOAD, 8);
    memcpy(&sent_at, f + PAYLOAD + 8, 8);
    uint64_t ns = tsc_ticks_to_ns(now - sent_at);
    if (seq > gen.next_seq[port])
        gen.gaps += seq - gen.next_seq[port];
    if (seq < gen.next_seq[port]) { /* late: it fills a gap it left (a duplicate would too) */
        gen.reordered++;
        gen.gaps -= gen.gaps ? 1 : 0;
    } else {
        gen.next_seq[port] = seq + 1;
    }
    gen.received++;
    gen.lat_min = gen.received == 1 || ns < gen.lat_min ? ns : gen.lat_min;
    gen.lat_max = ns > gen.lat_max ? ns : gen.lat_max;
    gen.lat[ns / 1000 < LAT_BUCKETS ? ns / 1000 : LAT_BUCKETS - 1]++;
}

static void receive_all(uint32_t batch)
{
    struct pkt_buf *bufs[MAX_BATCH];
    for (int p = 0; p < gen.nports; p++) {
        uint32_t n = nic_rx_batch(gen.ports[p].nic, 0, bufs, batch);
        uint64_t now = rdtsc();
        for (uint32_t i = 0; i < n; i++)
            if (ours(pkt_data(bufs[i]), bufs[i]->len))
                account(p, pkt_data(bufs[i]), now);
        pkt_free_batch(bufs, n);
    }
}

/* The latency below which a fraction per_mille of the samples fall, in ns
 * (the upper edge of its 1 us bucket). */
static uint64_t percentile(uint32_t per_mille)
{
    uint64_t want = (gen.received * per_mille + 999) / 1000, seen = 0;
    for (uint32_t b = 0; b < LAT_BUCKETS; b++) {
        uint64_t edge = (uint64_t)(b + 1) * 1000;
        if ((seen += gen.lat[b]) >= want && want)
            return edge < gen.lat_max ? edge : gen.lat_max; /* never above the largest seen */
    }
    return 0;
}

int pktgen_main(const struct app_args *args)
{
    memset(&gen, 0, sizeof(gen));
    gen.nports = ports_open(app_config.ports, 1, MAX_PORTS, 1, gen.ports);
    if (gen.nports < 1 || fill_pool((uint32_t)app_config.size) != 0)
        return 1;
    uint32_t batch = (uint32_t)app_config.batch;
    uint64_t interval = app_config.rate ? tsc_hz() / app_config.rate : 0, next = rdtsc();
    kprintf("pktgen: sending on %s, %lu bytes, rate %lu/s, count %lu, flows %lu\n",
            gen.ports[0].nic->name, app_config.size, app_config.rate, app_config.count,
            app_config.flows);
    uint64_t last = now_ns(), done_at = 0;
    for (;;) {
        if (!done_at) {
            send_due(batch, interval, &next);
            if ((app_config.count && gen.sent == app_config.count) || app_time_up(args))
                done_at = now_ns(); /* sending ends; receiving goes on a little */
        } else if (now_ns() > done_at + DRAIN_NS) {
            break;
        }
        receive_all(batch);
        uint64_t now = now_ns();
        if (now - last >= STATS_EVERY_NS) {
            ports_print_rates(gen.ports, gen.nports, now - last);
            last = now;
        }
    }
    kprintf("pktgen sent=%lu received=%lu lost=%lu gaps=%lu reordered=%lu\n", gen.sent,
            gen.received, gen.received < gen.sent ? gen.sent - gen.received : 0, gen.gaps,
            gen.reordered);
    kprintf("pktgen latency_ns min=%lu median=%lu p99=%lu max=%lu\n", gen.lat_min, percentile(500),
            percentile(990), gen.lat_max);
    ports_finish(gen.ports, gen.nports);
    kprintf("mempool %s free=%u size=%u\n", gen.pool->name, gen.pool->nfree, gen.pool->count);
    return 0;
}
