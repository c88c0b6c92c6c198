/*
 * driver/virtio_net.h - the virtio-net driver (driver/virtio_net.c).
 */
#ifndef DRIVER_VIRTIO_NET_H
#define DRIVER_VIRTIO_NET_H

#include "driver/nic.h"

/* Brings the device up with one RX and one TX queue (more queues are not
 * supported yet: asked for more, it says so); NULL (said on the console,
 * with the reason) if it cannot. */
struct nic *virtio_net_open(struct pci_dev *d, int queues);

#endif
