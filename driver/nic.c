/*
 * driver/nic.c - the table of drivers, and finding NICs by PCI address.
 */
#include "driver/nic.h"

#include "driver/intel.h"
#include "driver/igb.h"
#include "driver/ixgbe.h"
#include "driver/link.h"
#include "driver/platform.h"
#include "driver/virtio_net.h"
#include "kernel/iommu.h" /* nic.c alone: it opens each NIC inside its IOMMU domain */

static bool virtio_net_supports(uint16_t vendor, uint16_t device)
{
    /* transitional virtio-net (virtio 1.2 §4.1.2.1); modern: 0x1040 + device id 1 */
    return vendor == 0x1af4 && (device == 0x1000 || device == 0x1041);
}

static const struct {
    bool (*supports)(uint16_t vendor, uint16_t device);
    struct nic *(*open)(struct pci_dev *d, int queues);
} drivers[] = {
    { virtio_net_supports, virtio_net_open },
    { ixgbe_supports, ixgbe_open },
    { igb_supports, igb_open },
};

#define LINK_WAIT_NS 10000000000ull

/* Waits for every link together, up to LINK_WAIT_NS; says which stayed down. */
static void wait_links(struct nic **nics, int n)
{
    uint64_t start = now_ns(), pause_us = 100;
    for (int i = 0; i < n; i++) {
        while (!nics[i]->ops->link(nics[i]).up && now_ns() - start < LINK_WAIT_NS) {
            delay_us(pause_us);
            if (pause_us < 10000)
                pause_us *= 2;
        }
        if (!nics[i]->ops->link(nics[i]).up)
            kprintf("nic %s: link down after %llu s; check the cable or SFP+ module, and that "
                    "the other end is up\n",
                    nics[i]->name, (unsigned long long)(LINK_WAIT_NS / 1000000000ull));
    }
}

int nic_probe_all(struct nic **out, int max, int queues,
                  int (*node_of)(const struct pci_dev *d, int k))
{
    int n = 0, found = 0;
    for (int i = 0; i < pci_count() && n < max; i++) {
        struct pci_dev *d = pci_get(i);
        for (unsigned k = 0; k < sizeof(drivers) / sizeof(drivers[0]); k++) {
            if (!drivers[k].supports(d->vendor, d->device))
                continue;
            int node = node_of(d, found++);
            uint64_t lo, hi;
            mem_node_begin(node);
            iommu_attach(d); /* from here its DMA memory is mapped for it alone */
            struct nic *nic = drivers[k].open(d, queues);
            iommu_detach();
            mem_node_end(&lo, &hi);
            if (nic) {
                nic->node = node;
                if (mem_node_count() > 1)
                    kprintf("nic %s: node %d, memory 0x%lx-0x%lx (rings, buffers, pools)\n",
                            nic->name, node, lo, hi);
            }
            if (!nic) {
                char addr[PCI_ADDR_LEN];
                kprintf("nic %s: %04x:%04x not started (see above)\n", pci_addr(addr, d), d->vendor,
                        d->device);
                break;
            }
            out[n++] = nic;
            break;
        }
    }
    wait_links(out, n);
    for (int i = 0; i < n; i++) {
        nic_link_init(out[i], now_ns());
        const uint8_t *m = out[i]->mac;
        kprintf("nic %s: %s %s, mac %02x:%02x:%02x:%02x:%02x:%02x, link %s\n", out[i]->name,
                out[i]->driver, out[i]->model, m[0], m[1], m[2], m[3], m[4], m[5],
                out[i]->ops->link(out[i]).up ? "up" : "down");
        char dma[160];
        iommu_describe(out[i]->pci, dma, sizeof(dma));
        if (out[i]->bypasses_iommu && iommu_confined(out[i]->pci))
            kprintf("nic %s: DMA not confined: a virtio device without ACCESS_PLATFORM uses "
                    "physical addresses around the IOMMU (QEMU: disable-legacy=on,"
                    "iommu_platform=on)\n",
                    out[i]->name);
        else
            kprintf("nic %s: %s\n", out[i]->name, dma);
    }
    return n;
}

void nic_trace_registers(bool on)
{
    intel_trace_regs = on;
}

void nic_test_rx_outside(uint64_t pa)
{
    intel_test_rx_pa = pa;
}

bool nic_loops_back(const struct pci_dev *d)
{
    return ixgbe_supports(d->vendor, d->device);
}

struct nic *nic_open_loopback(struct pci_dev *d)
{
    if (!nic_loops_back(d))
        return NULL;
    struct ixgbe_options opt = { .loopback = true };
    return ixgbe_open_opts(d, &opt);
}

struct nic *nic_by_name(struct nic **nics, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        const char *full = nics[i]->name; /* "0000:00:03.0" */
        if (strcmp(full, name) == 0 ||
            (strncmp(full, "0000:", 5) == 0 && strcmp(full + 5, name) == 0))
            return nics[i];
    }
    return NULL;
}
