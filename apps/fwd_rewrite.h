/*
 * apps/fwd_rewrite.h - how fwd rewrites a batch of frames before sending it
 * on (mode=), here so that tools/bench-ixgbe.c measures the same code.
 *
 * The MAC fields are moved with fixed-size __builtin_memcpy, which the
 * compiler turns into a few moves even under -ffreestanding, where a plain
 * memcpy would be a call to the kernel's (a `rep movsb` set up per field).
 */
#ifndef APPS_FWD_REWRITE_H
#define APPS_FWD_REWRITE_H

#include <stdint.h>

#include "driver/pktbuf.h"

enum fwd_mode { FWD_IO, FWD_MACSWAP, FWD_MAC };

/* macswap: destination and source MAC exchanged. mac (DPDK l2fwd's):
 * source = out_mac, the sending port's; destination 02:00:00:00:00:out_index. */
static inline void fwd_rewrite(struct pkt_buf **bufs, uint32_t n, int mode, const uint8_t *out_mac,
                               uint8_t out_index)
{
    if (mode == FWD_MACSWAP) {
        for (uint32_t i = 0; i < n; i++) {
            uint8_t *f = pkt_data(bufs[i]), t[6];
            __builtin_memcpy(t, f, 6);
            __builtin_memcpy(f, f + 6, 6);
            __builtin_memcpy(f + 6, t, 6);
        }
    } else if (mode == FWD_MAC) {
        const uint8_t to[6] = { 0x02, 0, 0, 0, 0, out_index };
        for (uint32_t i = 0; i < n; i++) {
            uint8_t *f = pkt_data(bufs[i]);
            __builtin_memcpy(f, to, 6);
            __builtin_memcpy(f + 6, out_mac, 6);
        }
    }
}

#endif
