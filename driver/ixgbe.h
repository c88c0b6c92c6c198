/*
 * driver/ixgbe.h - the Intel 82599 / X540 / X550 driver (driver/ixgbe.c).
 */
#ifndef DRIVER_IXGBE_H
#define DRIVER_IXGBE_H

#include <stdbool.h>

#include "driver/nic.h"

struct ixgbe_options {
    bool loopback;         /* MAC loopback (HLREG0.LPBK, link forced up), no link wait */
    uint64_t link_wait_us; /* how long to wait for the link; 0: 10 s */
    bool no_link_wait;     /* return at once: the caller waits (nic_probe_all) */
    int queues;            /* queue pairs, RSS spreading frames over them; 0: 1 */
};

/* True for the device ids ixgbe.c takes. */
bool ixgbe_supports(uint16_t vendor, uint16_t device);

/* Resets and brings up the device with queues RX and TX queue pairs (RSS
 * over them when more than one), without waiting for the link
 * (nic_probe_all waits for all ports'); NULL, with the failing step said,
 * if it cannot. */
struct nic *ixgbe_open(struct pci_dev *d, int queues);

/* ixgbe_open with options: enables the device and opens it at its BAR0. */
struct nic *ixgbe_open_opts(struct pci_dev *d, const struct ixgbe_options *opt);

/* ixgbe_open with BAR0 at bar, already enabled: for the host tests, where
 * bar leads to the device model. */
struct nic *ixgbe_open_at(struct pci_dev *d, uint64_t bar, const struct ixgbe_options *opt);

/* Writes patterns to registers the running port does not use and reads
 * them back: 0, or -1 with why filled in (nic_ops.register_test, through
 * intel_ops, for app=selftest). */
int ixgbe_register_test(struct nic *nic, char *why, int len);

#endif
