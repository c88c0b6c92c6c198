/*
 * driver/virtio_net.h - the virtio-net driver (driver/virtio_net.c).
 */
#ifndef DRIVER_VIRTIO_NET_H
#define DRIVER_VIRTIO_NET_H

#include "driver/nic.h"

/* Brings the device up with up to queues RX/TX queue pairs: more than one
 * only where the device offers VIRTIO_NET_F_MQ and a control queue (else
 * one, said); NULL (said on the console, with the reason) if it cannot. */
struct nic *virtio_net_open(struct pci_dev *d, int queues);

#endif
