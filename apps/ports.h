/*
 * apps/ports.h - the NICs an app works with: choosing them from ports=,
 * the once-a-second rates, and the exact counters when the app ends.
 */
#ifndef APPS_PORTS_H
#define APPS_PORTS_H

#include <stdint.h>

#include "driver/nic.h"

#define MAX_PORTS 8

struct port {
    struct nic *nic;
    uint64_t drops;        /* frames the app dropped because TX was full */
    struct nic_stats last; /* at the previous stats line */
};

/* Probes the NICs once (each driver says what it took), each opened with up
 * to queues queue pairs; returns how many. */
int ports_probe(int queues);

/* Probes the NICs and picks from min to max of them: those ports= names
 * ("A,B,...", PCI addresses), or the first max found. Returns how many, or
 * -1 after saying what is wrong and which NICs there are. */
int ports_open(const char *spec, int min, int max, int queues, struct port *ports);

/* With the IOMMU: nic may read mp's buffers (an app's pool it sends from).
 * ports_open already lends each port the other ports' pools. */
void ports_lend_pool(struct nic *nic, const struct mempool *mp);

/* Every port promiscuous; one that cannot be is said, as app says. */
void ports_promisc(struct port *ports, int n, const char *app);

/* One line per port with the rates since the last call (dt_ns ago); with
 * trace=rings, after each a line per queue with its rings (nic_ring). */
void ports_print_rates(struct port *ports, int n, uint64_t dt_ns);

/* The reporting core's look at each port's link, once a second: a line
 * when one went down or came up (driver/link.h); and at its transmit
 * queues, where the driver watches them (nic_ops.tx_watch). */
void ports_check_links(struct port *ports, int n);

/* Stops the ports, then prints one `final` line per port with exact
 * counters, how often its link went down and its time down, and one line
 * per port's pool: free buffers of the pool's size. */
void ports_finish(struct port *ports, int n);

#endif
