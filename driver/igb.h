/*
 * driver/igb.h - the Intel 82576 gigabit driver (driver/igb.c).
 */
#ifndef DRIVER_IGB_H
#define DRIVER_IGB_H

#include <stdbool.h>

#include "driver/nic.h"

/* True for the device ids igb.c takes. */
bool igb_supports(uint16_t vendor, uint16_t device);

/* Resets and brings up the device with one RX and one TX queue, waits up
 * to 10 s for the link (a link still down is said, and the NIC returned);
 * NULL, with the failing step said, if it cannot. */
struct nic *igb_open(struct pci_dev *d, int queues);

#endif
