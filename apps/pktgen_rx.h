/*
 * apps/pktgen_rx.h - pktgen's receive side: which frames coming back are
 * its own, and what each says of its flow (gaps, reordering) and of the
 * round trip. Apart from apps/pktgen.c so that a host build (the fuzz
 * target tests/fuzz/fuzz_pktgen_rx.c) runs the same parser on any bytes.
 *
 * The frame layout pktgen sends (apps/pktgen.c's head has the whole table):
 *    0-13  Ethernet, type IPv4
 *   14-33  IPv4 10.0.0.1 -> 10.0.0.2, protocol UDP
 *   34-41  UDP from port PKTGEN_UDP_SRC_BASE + flow to PKTGEN_UDP_DST
 *   42-49  the frame's sequence number in its flow, u64 little-endian
 *   50-57  the TSC when it was sent, u64 little-endian
 */
#ifndef APPS_PKTGEN_RX_H
#define APPS_PKTGEN_RX_H

#include <stdbool.h>
#include <stdint.h>

#define PKTGEN_UDP_SRC_BASE 1024
#define PKTGEN_UDP_DST 9000
#define PKTGEN_PAYLOAD 42 /* where the sequence number starts */
#define PKTGEN_MIN_LEN (PKTGEN_PAYLOAD + 16)
#define PKTGEN_LAT_BUCKETS 100000 /* 1 us each; later ones count in the last */

extern const uint8_t pktgen_ip_src[4], pktgen_ip_dst[4];

/* One worker's receive counters; next_seq and lat are its tables, sized by
 * the run: nports * flows sequence numbers, PKTGEN_LAT_BUCKETS buckets. */
struct pktgen_rx {
    uint64_t flows;     /* flows=: the length of a row of next_seq */
    int nports;         /* rows of next_seq */
    uint64_t *next_seq; /* [port * flows + flow]: the sequence number that flow brings next */
    uint32_t *lat;      /* round-trip times, 1 us a bucket */
    uint64_t received, gaps, reordered, lat_min, lat_max;
};

/* The len bytes at f came back on port at TSC now: if the frame is one of
 * this run's, it is counted and true returned; anything else is left alone. */
bool pktgen_rx_frame(struct pktgen_rx *r, int port, const uint8_t *f, uint32_t len, uint64_t now);

#endif
