/*
 * tests/fuzz/fuzz_pktgen_rx.c - pktgen's receive parser (apps/pktgen_rx.c):
 * frames of any length and content, on any port, one after the other, as
 * they would come back to one worker. Each frame is a buffer of exactly its
 * length, so AddressSanitizer sees a byte read past the frame.
 *
 * Input: byte 0 flows - 1, byte 1 ports - 1 (1 to 4), then frames, each a
 * port byte, a u16 little-endian length, and that many bytes (fewer if the
 * input ends first).
 */
#include "apps/pktgen_rx.h"
#include "tests/fuzz/fuzz.h"

#define MAX_PORTS 4

uint64_t tsc_ticks_to_ns(uint64_t ticks)
{
    return ticks / 3; /* a 3 GHz TSC */
}

static uint64_t next_seq[MAX_PORTS * 256];
static uint32_t lat[PKTGEN_LAT_BUCKETS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    struct pktgen_rx r = {
        .flows = data[0] + 1u, .nports = 1 + data[1] % MAX_PORTS, .next_seq = next_seq, .lat = lat
    };
    memset(next_seq, 0, sizeof(next_seq)); /* lat: cleared after the last input */
    uint64_t ours = 0;
    for (size_t at = 2; at + 3 <= size;) {
        int port = data[at] % (MAX_PORTS + 1); /* one past the ports there are, too */
        size_t len = data[at + 1] | (size_t)data[at + 2] << 8;
        at += 3;
        if (len > size - at)
            len = size - at;
        uint8_t *f = malloc(len ? len : 1);
        memcpy(f, data + at, len);
        ours += pktgen_rx_frame(&r, port, f, (uint32_t)len, 3000000000ull);
        free(f);
        at += len;
    }
    FUZZ_CHECK(r.received == ours);
    /* Every sample between lat_min and lat_max: only those buckets are
     * summed, and cleared for the next input (all 100,000 would be most
     * of the time of a run). */
    uint64_t counted = 0, last = PKTGEN_LAT_BUCKETS - 1;
    if (r.received) {
        uint64_t lo = r.lat_min / 1000, hi = r.lat_max / 1000;
        for (uint64_t b = lo < last ? lo : last; b <= (hi < last ? hi : last); b++)
            counted += lat[b], lat[b] = 0;
    }
    FUZZ_CHECK(counted == r.received);
    FUZZ_CHECK(r.reordered <= r.received);
    return 0;
}
