/*
 * driver/link.h - watching a NIC's link from the reporting core.
 *
 * Once a second the core that reports asks each port's driver for its link
 * (nic_ops.link: virtio-net's config status with F_STATUS, the 82576's
 * STATUS.LU, the 82599's LINKS.Link_Up) and says when it changed:
 *
 *     link 0000:00:03.0 down
 *     link 0000:00:03.0 up after 3.0 s
 *
 * While it is seen down, nic.link_down is set and every driver's tx_batch
 * takes the frames it is given and drops them, counted in tx_dropped: a
 * frame handed to a port without a link is not counted as sent. (QEMU's
 * virtio-net and igb discard what they are given while down; a real NIC
 * would hold it in the ring and send it, late, when the link returns.)
 * Frames handed over between the link going down and the next check are
 * the device's: see docs/limits.md.
 */
#ifndef DRIVER_LINK_H
#define DRIVER_LINK_H

#include <stdint.h>

#include "driver/nic.h"

/* After the probe: the link as it is now, without a line. */
void nic_link_init(struct nic *nic, uint64_t now);

/* The reporting core's look at the link, once a second (now: now_ns()). */
void nic_link_check(struct nic *nic, uint64_t now);

/* The link's time down since open, in ms, counting a down still going on. */
uint64_t nic_link_down_ms(const struct nic *nic, uint64_t now);

#endif
