/*
 * apps/fwd_rewrite.h - how fwd's mode= rewrites each frame, as a table for
 * the receive (driver/rewrite.h): the driver applies it to each frame as
 * it takes it, so fwd itself passes frames on untouched. Here so that
 * tools/bench-ixgbe.c measures the same tables.
 */
#ifndef APPS_FWD_REWRITE_H
#define APPS_FWD_REWRITE_H

#include <stdint.h>

#include "driver/rewrite.h"

enum fwd_mode { FWD_IO, FWD_MACSWAP, FWD_MAC };

/* rw for frames that are received on one port and leave by the port out_mac
 * is the MAC of, index out_index; false for io (no rewrite).
 * macswap: destination and source MAC exchanged (bytes 0-5 and 6-11).
 * mac (DPDK l2fwd's): destination 02:00:00:00:00:out_index, source out_mac.
 * Bytes 12-15 (the EtherType and what follows) stay where they are. */
static inline bool fwd_rewrite_table(struct pkt_rewrite *rw, int mode, const uint8_t *out_mac,
                                     uint8_t out_index)
{
    pkt_rewrite_init(rw);
    for (int j = 0; j < 12; j++) {
        if (mode == FWD_MACSWAP) {
            rw->map[j] = (uint8_t)((j + 6) % 12);
        } else if (mode == FWD_MAC) {
            const uint8_t to[6] = { 0x02, 0, 0, 0, 0, out_index };
            rw->map[j] = REWRITE_ZERO;
            rw->set[j] = j < 6 ? to[j] : out_mac[j - 6];
        }
    }
    return mode != FWD_IO;
}

#endif
