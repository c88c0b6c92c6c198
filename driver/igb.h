/*
 * driver/igb.h - the Intel 82576 gigabit driver (driver/igb.c).
 */
#ifndef DRIVER_IGB_H
#define DRIVER_IGB_H

#include <stdbool.h>

#include "driver/nic.h"

/* True for the device ids igb.c takes. */
bool igb_supports(uint16_t vendor, uint16_t device);

/* Resets and brings up the device with up to queues RX and TX queue pairs,
 * without waiting for the link (nic_probe_all waits for all ports'); NULL,
 * with the failing step said, if it cannot. */
struct nic *igb_open(struct pci_dev *d, int queues);

#endif
