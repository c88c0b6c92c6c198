/*
 * apps/pktgen_rx.c - pktgen's receive parser (apps/pktgen_rx.h).
 */
#include "apps/pktgen_rx.h"

#include "kernel/string.h"
#include "kernel/tsc.h"

const uint8_t pktgen_ip_src[4] = { 10, 0, 0, 1 }, pktgen_ip_dst[4] = { 10, 0, 0, 2 };

/* One of this run's frames: the addresses, ports and room pktgen writes.
 * The length first: a runt's bytes past its end are whatever the buffer
 * held before (fuzz_pktgen_rx: the source port was read from there). */
static bool ours(const uint8_t *f, uint32_t len, uint64_t flows)
{
    if (len < PKTGEN_MIN_LEN)
        return false;
    uint16_t sport = (uint16_t)(f[34] << 8 | f[35]);
    return f[12] == 0x08 && f[13] == 0 && f[23] == 17 && memcmp(f + 26, pktgen_ip_src, 4) == 0 &&
           memcmp(f + 30, pktgen_ip_dst, 4) == 0 && f[36] == PKTGEN_UDP_DST >> 8 &&
           f[37] == (PKTGEN_UDP_DST & 0xFF) && sport >= PKTGEN_UDP_SRC_BASE &&
           (uint64_t)(sport - PKTGEN_UDP_SRC_BASE) < flows;
}

/* One of our frames came back on a port: its flow's sequence, its
 * round-trip time. */
static void account(struct pktgen_rx *r, int port, const uint8_t *f, uint64_t now)
{
    uint64_t seq, sent_at, flow = (uint64_t)(f[34] << 8 | f[35]) - PKTGEN_UDP_SRC_BASE;
    memcpy(&seq, f + PKTGEN_PAYLOAD, 8);
    memcpy(&sent_at, f + PKTGEN_PAYLOAD + 8, 8);
    /* Sent by another core, it carries that core's TSC: never below 0. */
    uint64_t ns = tsc_ticks_to_ns(now > sent_at ? now - sent_at : 0);
    uint64_t *next = &r->next_seq[(uint64_t)port * r->flows + flow];
    if (seq > *next)
        r->gaps += seq - *next;
    if (seq < *next) { /* late: it fills a gap its flow left (a duplicate would too) */
        r->reordered++;
        r->gaps -= r->gaps ? 1 : 0;
    } else {
        *next = seq + 1;
    }
    r->received++;
    r->lat_min = r->received == 1 || ns < r->lat_min ? ns : r->lat_min;
    r->lat_max = ns > r->lat_max ? ns : r->lat_max;
    r->lat[ns / 1000 < PKTGEN_LAT_BUCKETS ? ns / 1000 : PKTGEN_LAT_BUCKETS - 1]++;
}

bool pktgen_rx_frame(struct pktgen_rx *r, int port, const uint8_t *f, uint32_t len, uint64_t now)
{
    if (port < 0 || port >= r->nports || !ours(f, len, r->flows))
        return false;
    account(r, port, f, now);
    return true;
}
