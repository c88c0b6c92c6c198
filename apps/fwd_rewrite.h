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

/* macswap on one frame with 8-byte moves (x86 is little-endian and takes
 * unaligned ones): d = (bytes 0-7 ^ bytes 6-13), its first six bytes kept,
 * is the two MACs' difference; xored into bytes 0-7 it turns the
 * destination into the source, and into bytes 6-13 the source into the
 * destination, bytes 6-7 and 12-13 xored with zeros. Bytes 12 and 13 lie in
 * every buffer (PKT_DATA_ROOM) whatever the frame's length.
 * Both fields are loaded before either is stored: a load of bytes 6-13
 * after the store to bytes 0-7 overlaps it in part, and such a load cannot
 * take its data from the store still in flight but waits for it to reach
 * the cache (the Intel 64 and IA-32 Architectures Optimization Reference
 * Manual, "Store Forwarding"). On the host bench that wait cost 6-7 TSC
 * cycles a frame (docs/speed.md), for the 2 instructions it saved. */
static inline void fwd_mac_swap(uint8_t *f)
{
    const uint64_t mac = 0xFFFFFFFFFFFFull; /* a qword's first six bytes */
    uint64_t a, b, d;
    __builtin_memcpy(&a, f, 8);
    __builtin_memcpy(&b, f + 6, 8);
    d = (a ^ b) & mac;
    /* a is loaded again, so the first xor is one read-modify-write of
     * memory; b stays in a register for the second */
    __asm__("" : : : "memory");
    __builtin_memcpy(&a, f, 8);
    a ^= d;
    __builtin_memcpy(f, &a, 8);
    b ^= d;
    __builtin_memcpy(f + 6, &b, 8);
}

/* macswap: destination and source MAC exchanged. mac (DPDK l2fwd's):
 * source = out_mac, the sending port's; destination 02:00:00:00:00:out_index. */
static inline void fwd_rewrite(struct pkt_buf **bufs, uint32_t n, int mode, const uint8_t *out_mac,
                               uint8_t out_index)
{
    if (mode == FWD_MACSWAP) {
#pragma GCC unroll 4
        for (uint32_t i = 0; i < n; i++)
            fwd_mac_swap(pkt_data(bufs[i]));
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
