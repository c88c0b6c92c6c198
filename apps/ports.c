/*
 * apps/ports.c - choosing NICs, and reporting on them (see ports.h).
 */
#include "apps/ports.h"

#include "apps/apps.h"

#include "driver/link.h"

#include "kernel/acpi.h"
#include "kernel/iommu.h"
#include "kernel/kprintf.h"
#include "kernel/mem.h"
#include "kernel/string.h"

#define MAX_NICS 16

static struct nic *nics[MAX_NICS];
static int nnics = -1; /* probed once */

static void list_nics(void)
{
    kprintf("ports: NICs found:%s\n", nnics ? "" : " none");
    for (int i = 0; i < nnics; i++)
        kprintf("ports:   %s %s %s\n", nics[i]->name, nics[i]->driver, nics[i]->model);
}

/* The next comma-separated name of spec into buf; returns where it ends. */
static const char *next_name(const char *spec, char *buf, int len)
{
    int i = 0;
    while (*spec && *spec != ',') {
        if (i < len - 1)
            buf[i++] = *spec;
        spec++;
    }
    buf[i] = '\0';
    return *spec == ',' ? spec + 1 : spec;
}

/* A node number: decimal digits, below ACPI_MAX_NODES; -1 otherwise. */
static int node_number(const char *s)
{
    int n = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || (n = n * 10 + (*s - '0')) >= ACPI_MAX_NODES)
            return -1;
    }
    return n;
}

/* numa=: the node of the k-th entry (from 0); 0 past its end. */
static int numa_entry(int k)
{
    const char *s = app_config.numa;
    for (int i = 0; *s; i++) {
        char buf[32];
        s = next_name(s, buf, sizeof(buf));
        if (i == k)
            return node_number(buf);
    }
    return 0;
}

/* numa= checked before anything is opened: each entry a node this machine
 * has, with memory of its own. */
static bool numa_valid(void)
{
    int nodes = acpi.nnodes ? acpi.nnodes : 1;
    for (const char *s = app_config.numa; *s;) {
        char buf[32];
        s = next_name(s, buf, sizeof(buf));
        int node = node_number(buf);
        if (node < 0 || node >= nodes) {
            kprintf("ports: numa=%s: '%s' is not a node of this machine, which has %d (0-%d%s)\n",
                    app_config.numa, buf, nodes, nodes - 1,
                    acpi.nnodes ? "" : ": no SRAT, so one node");
            return false;
        }
        if (!mem_node_free_bytes(node)) {
            kprintf("ports: numa=%s: node %d has no free memory for rings and pools\n",
                    app_config.numa, node);
            return false;
        }
    }
    return true;
}

/* For nic_probe_all: the k-th NIC found, or the one ports= names k-th,
 * takes the k-th numa= entry's node. */
static int port_node(const struct pci_dev *d, int k)
{
    if (!app_config.ports[0])
        return numa_entry(k);
    char name[32], full[PCI_ADDR_LEN];
    pci_addr(full, d);
    int i = 0;
    for (const char *s = app_config.ports; *s; i++) {
        s = next_name(s, name, sizeof(name));
        if (strcmp(name, full) == 0 || strcmp(name, full + 5) == 0)
            return numa_entry(i);
    }
    return 0;
}

/* dma_test=rx: a page of no NIC's, filled with DMA_TEST_BYTE, that one
 * receive descriptor is pointed at; the IOMMU must keep it as it is. */
#define DMA_TEST_BYTE 0xA5
#define DMA_TEST_LEN 4096
static uint8_t *dma_test_page;

static void dma_test_arm(void)
{
    dma_test_page = (uint8_t *)(uintptr_t)mem_alloc_low_page();
    memset(dma_test_page, DMA_TEST_BYTE, DMA_TEST_LEN);
    nic_test_rx_outside((uint64_t)(uintptr_t)dma_test_page);
    kprintf("dma_test: page 0x%lx, outside every NIC's memory, filled with 0x%02x\n",
            (uint64_t)(uintptr_t)dma_test_page, DMA_TEST_BYTE);
}

static void dma_test_check(void)
{
    for (uint64_t i = 0; dma_test_page && i < DMA_TEST_LEN; i++)
        if (dma_test_page[i] != DMA_TEST_BYTE) {
            kprintf("dma_test: page 0x%lx changed at byte %lu: a NIC wrote outside its memory\n",
                    (uint64_t)(uintptr_t)dma_test_page, i);
            return;
        }
    if (dma_test_page)
        kprintf("dma_test: page 0x%lx unchanged\n", (uint64_t)(uintptr_t)dma_test_page);
}

int ports_probe(int queues)
{
    if (nnics < 0) {
        if (!numa_valid())
            return -1;
        if (app_config.dma_test == DMA_TEST_RX)
            dma_test_arm();
        nic_trace_registers(app_config.trace == TRACE_REGS);
        nnics = nic_probe_all(nics, MAX_NICS, queues, port_node);
    }
    return nnics;
}

void ports_lend_pool(struct nic *nic, const struct mempool *mp)
{
    iommu_lend(nic->pci, (uint64_t)(uintptr_t)mp->bufs, (uint64_t)mp->count * sizeof(*mp->bufs));
}

/* Each port may read (to send) the buffers of every other port's pools:
 * fwd sends out of one port what the other received. Writes stay each
 * port's own. */
static void lend_pools(struct port *ports, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            for (int q = 0; i != j && q < ports[j].nic->rx_queues; q++)
                ports_lend_pool(ports[i].nic, ports[j].nic->pool[q]);
}

int ports_open(const char *spec, int min, int max, int queues, struct port *ports)
{
    if (ports_probe(queues) < 0)
        return -1;
    memset(ports, 0, sizeof(*ports) * (size_t)max);
    int n = 0;
    if (!spec[0]) {
        for (; n < max && n < nnics; n++)
            ports[n].nic = nics[n];
    }
    while (spec[0] && n < max) {
        char name[32];
        spec = next_name(spec, name, sizeof(name));
        struct nic *nic = name[0] ? nic_by_name(nics, nnics, name) : 0;
        for (int k = 0; k < n && nic; k++) {
            if (ports[k].nic == nic) {
                kprintf("ports: %s is named twice\n", nic->name);
                return -1;
            }
        }
        if (!(ports[n++].nic = nic)) {
            kprintf("ports: no supported NIC at '%s' (ports= wants %s%d PCI addresses, "
                    "comma-separated)\n",
                    name, min == max ? "" : "up to ", max);
            list_nics();
            return -1;
        }
    }
    if (n < min || spec[0]) {
        char need[24];
        ksnprintf(need, sizeof(need), min == max ? "%d" : "%d to %d", min, max);
        kprintf("ports: %s NICs needed, %s%d %s\n", need, spec[0] ? "more than " : "", n,
                spec[0] ? "named" : "found");
        list_nics();
        return -1;
    }
    lend_pools(ports, n);
    return n;
}

void ports_promisc(struct port *ports, int n, const char *app)
{
    for (int i = 0; i < n; i++)
        if (ports[i].nic->ops->set_promisc(ports[i].nic, true) != 0)
            kprintf("%s: %s cannot be made promiscuous\n", app, ports[i].nic->name);
}

/* A rate per second as millions with three decimals: no floating point in
 * the kernel. count happened in dt_ms milliseconds. */
static void mega(char *buf, int len, uint64_t count, uint64_t dt_ms)
{
    uint64_t per_s = (count * 1000 + dt_ms / 2) / dt_ms + 500; /* rounded to the last digit */
    ksnprintf(buf, len, "%lu.%03lu", per_s / 1000000, per_s / 1000 % 1000);
}

/* trace=rings: a line per queue of the port, its receive and transmit
 * rings as the driver sees them (nic_ops.ring_state). */
static void print_rings(struct nic *nic)
{
    for (uint16_t q = 0; q < nic->rx_queues && nic->ops->ring_state; q++) {
        struct nic_ring r[2];
        if (!nic->ops->ring_state(nic, q, &r[0], &r[1]))
            continue;
        char line[2][96];
        for (int k = 0; k < 2; k++)
            ksnprintf(line[k], sizeof(line[k]),
                      "head=%u tail=%u done=%u pending=%u bufs=%u/%u", r[k].head, r[k].tail,
                      r[k].done, r[k].pending, r[k].bufs, r[k].size);
        kprintf("[%s] ring %u RX: %s  TX: %s\n", nic->name, q, line[0], line[1]);
    }
}

void ports_print_rates(struct port *ports, int n, uint64_t dt_ns)
{
    uint64_t dt_ms = dt_ns / 1000000;
    for (int i = 0; i < n && dt_ms; i++) {
        struct nic_stats s;
        ports[i].nic->ops->read_stats(ports[i].nic, &s);
        const struct nic_stats *l = &ports[i].last;
        char rxp[24], txp[24], rxb[24], txb[24]; /* Mpps; Mbit/s of frame bytes, no FCS */
        mega(rxp, sizeof(rxp), s.rx_packets - l->rx_packets, dt_ms);
        mega(txp, sizeof(txp), s.tx_packets - l->tx_packets, dt_ms);
        mega(rxb, sizeof(rxb), (s.rx_bytes - l->rx_bytes) * 8, dt_ms);
        mega(txb, sizeof(txb), (s.tx_bytes - l->tx_bytes) * 8, dt_ms);
        kprintf("[%s] RX: %s Mpps, %s Mbit/s  TX: %s Mpps, %s Mbit/s  drops %lu\n",
                ports[i].nic->name, rxp, rxb, txp, txb,
                s.rx_dropped + s.tx_dropped + s.rx_missed + ports[i].drops);
        ports[i].last = s;
        if (app_config.trace == TRACE_RINGS)
            print_rings(ports[i].nic);
    }
}

void ports_check_links(struct port *ports, int n)
{
    iommu_poll_faults();
    for (int i = 0; i < n; i++) {
        struct nic *nic = ports[i].nic;
        nic_link_check(nic, now_ns());
        if (nic->ops->tx_watch)
            nic->ops->tx_watch(nic, now_ns());
    }
}

void ports_finish(struct port *ports, int n)
{
    uint64_t end = now_ns();
    for (int i = 0; i < n; i++)
        ports[i].nic->ops->stop(ports[i].nic);
    iommu_poll_faults(); /* the last ones, before they are counted */
    dma_test_check();
    for (int i = 0; i < n; i++) {
        struct nic_stats s;
        ports[i].nic->ops->read_stats(ports[i].nic, &s);
        uint64_t tx_dropped = s.tx_dropped + ports[i].drops;
        kprintf("final %s rx_packets=%lu rx_bytes=%lu tx_packets=%lu tx_bytes=%lu drops=%lu "
                "rx_dropped=%lu tx_dropped=%lu rx_missed=%lu link_downs=%u down_ms=%lu "
                "tx_resets=%lu dev_errors=%lu dma_faults=%lu\n",
                ports[i].nic->name, s.rx_packets, s.rx_bytes, s.tx_packets, s.tx_bytes,
                s.rx_dropped + tx_dropped + s.rx_missed, s.rx_dropped, tx_dropped, s.rx_missed,
                ports[i].nic->link_downs, nic_link_down_ms(ports[i].nic, end), s.tx_resets,
                s.dev_errors, iommu_faults_of(ports[i].nic->pci));
        if (s.hw) /* the NIC's own count; its bytes include the FCS */
            kprintf("nic-counters %s rx_packets=%lu rx_bytes=%lu tx_packets=%lu tx_bytes=%lu\n",
                    ports[i].nic->name, s.hw_rx_packets, s.hw_rx_bytes, s.hw_tx_packets,
                    s.hw_tx_bytes);
    }
    for (int i = 0; i < n; i++)
        for (int q = 0; q < ports[i].nic->rx_queues; q++) {
            const struct mempool *mp = ports[i].nic->pool[q];
            kprintf("mempool %s free=%u size=%u\n", mp->name, mp->nfree, mp->count);
        }
}
