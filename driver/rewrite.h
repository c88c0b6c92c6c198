/*
 * driver/rewrite.h - a receive that rewrites each frame's first 16 bytes as
 * it takes the frame, by a table the app gives (struct nic's rx_rewrite):
 * in software, what some NICs offer as a header-rewrite action (DPDK's
 * rte_flow MAC_SWAP and SET_MAC_SRC/DST). The app describes the rewrite;
 * the driver applies it while the buffer is at hand, so the app makes no
 * second pass over the batch and the frame's line is read once, in the
 * loop that takes it (docs/speed.md).
 *
 * The rule is SSSE3's PSHUFB followed by POR (SDM vol. 2B, PSHUFB): new byte
 * j is old byte map[j] & 15, or 0 if map[j] has bit 7 set, then ORed with
 * set[j]. Bytes 0-15 lie in every buffer (PKT_DATA_ROOM), whatever the
 * frame's length.
 */
#ifndef DRIVER_REWRITE_H
#define DRIVER_REWRITE_H

#include <stdbool.h>
#include <stdint.h>

#include "driver/platform.h"

#define REWRITE_ZERO 0x80 /* a map byte that makes its byte 0 (before set) */

/* 16-byte aligned: PSHUFB and POR take map and set from memory, and a
 * legacy-SSE 128-bit memory operand off a 16-byte boundary is a #GP (SDM
 * vol. 2B, PSHUFB and POR, their exceptions). */
struct pkt_rewrite {
    uint8_t map[16] __attribute__((aligned(16)));
    uint8_t set[16] __attribute__((aligned(16)));
    /* The CPU has SSSE3 (CPUID.01H:ECX[9]): PSHUFB and POR do it, 4
     * instructions a frame. Else a byte at a time (QEMU's default qemu64
     * CPU has no SSSE3). pkt_rewrite_init sets it. */
    bool pshufb;
};
_Static_assert(_Alignof(struct pkt_rewrite) == 16, "PSHUFB's and POR's operands");

/* map: every byte where it is (no set bytes); pshufb as the CPU has it. */
static inline void pkt_rewrite_init(struct pkt_rewrite *rw)
{
    for (int j = 0; j < 16; j++) {
        rw->map[j] = (uint8_t)j;
        rw->set[j] = 0;
    }
    rw->pshufb = cpu_has_ssse3();
}

struct pkt_bytes16 {
    uint8_t b[16];
};

/* The kernel is built with -mgeneral-regs-only, so its compiler keeps
 * nothing in an XMM register that the asm below could overwrite (and GCC
 * refuses to hear of XMM0 there): the asm names only the flags, which an
 * x86 asm clobbers anyway. The host builds' compiler may keep things in
 * XMM0, so there the asm names it. The kernel turns SSE on
 * (boot/long_mode.h); no interrupt or fault handler uses XMM registers, so
 * none saves them. */
#ifdef IXM_HOST
#define REWRITE_CLOBBER "xmm0"
#else
#define REWRITE_CLOBBER "cc"
#endif

static inline __attribute__((always_inline)) void pkt_rewrite_pshufb(uint8_t *f,
                                                                     const struct pkt_rewrite *rw)
{
    __asm__("movdqu %0, %%xmm0\n\t"
            "pshufb %1, %%xmm0\n\t"
            "por %2, %%xmm0\n\t"
            "movdqu %%xmm0, %0"
            : "+m"(*(struct pkt_bytes16 *)f)
            : "m"(*(const struct pkt_bytes16 *)rw->map), "m"(*(const struct pkt_bytes16 *)rw->set)
            : REWRITE_CLOBBER);
}

static inline void pkt_rewrite_bytes(uint8_t *f, const struct pkt_rewrite *rw)
{
    uint8_t old[16];
    __builtin_memcpy(old, f, 16);
#pragma GCC unroll 16
    for (int j = 0; j < 16; j++)
        f[j] = (uint8_t)((rw->map[j] & REWRITE_ZERO ? 0 : old[rw->map[j] & 15]) | rw->set[j]);
}

/* One frame, by whichever way rw says (a receive loop that has chosen
 * already calls the one it chose). */
static inline void pkt_rewrite(uint8_t *f, const struct pkt_rewrite *rw)
{
    if (rw->pshufb)
        pkt_rewrite_pshufb(f, rw);
    else
        pkt_rewrite_bytes(f, rw);
}

#endif
