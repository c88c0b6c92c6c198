/*
 * driver/ixgbe.h - the Intel 82599 / X540 / X550 driver (driver/ixgbe.c).
 */
#ifndef DRIVER_IXGBE_H
#define DRIVER_IXGBE_H

#include <stdbool.h>

#include "driver/nic.h"

/* True for the device ids ixgbe.c takes. */
bool ixgbe_supports(uint16_t vendor, uint16_t device);

/* Resets and brings up the device with one RX and one TX queue, waits up
 * to 10 s for the link (a link still down is said, and the NIC returned);
 * NULL, with the failing step said, if it cannot. */
struct nic *ixgbe_open(struct pci_dev *d);

struct ixgbe_options {
    bool loopback;         /* HLREG0.LPBK on instead of waiting for the link */
    uint64_t link_wait_us; /* how long to wait for the link */
};

/* ixgbe_open with BAR0 at bar, already enabled: for app=selftest and the
 * host tests, where bar leads to the device model. */
struct nic *ixgbe_open_at(struct pci_dev *d, uint64_t bar, const struct ixgbe_options *opt);

/* MAC loopback (HLREG0.LPBK, §8.2.3.22.8): what the port sends, it receives. */
void ixgbe_loopback(struct nic *nic, bool on);

#endif
