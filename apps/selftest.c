/*
 * apps/selftest.c - `app=selftest`: the first boot of a box with Intel 10 GbE
 * ports, before any cable is plugged in. For each port a driver can bring
 * up in MAC loopback (nic_loops_back: the ixgbe driver's), in turn:
 *   1. bring-up as usual, but in MAC loopback (nic_open_loopback; the
 *      82599's HLREG0.LPBK) instead of waiting for a link;
 *   2. registers: patterns written to registers the port does not use, and
 *      read back (the driver's nic_ops.register_test);
 *   3. loopback: SELFTEST_FRAMES frames of sizes 60 to 1514 sent and
 *      received again, every byte compared, in order;
 *   4. stop, and every buffer back in the port's pool.
 * One line per port, "selftest <pci>: PASS ..." or "selftest <pci>: FAIL
 * <step>: <why>", then a summary; the status is 0 only if every port passed.
 */
#include "apps/apps.h"
#include "apps/selftest.h"

#include "driver/nic.h"
#include "kernel/kprintf.h"
#include "kernel/pci.h"

#define SELFTEST_WAIT_NS 2000000000ul /* for the looped-back frames to return */

/* The k-th byte of the i-th test frame; its length. Bytes 12-13 are the
 * EtherType 0x88B5 (IEEE 802 local experimental), so no byte pattern can
 * pass for an 802.3 length field the MAC would check. */
static uint8_t frame_byte(uint32_t i, uint32_t k)
{
    if (k == 12 || k == 13)
        return k == 12 ? 0x88 : 0xB5;
    return (uint8_t)(i * 31 + k * 7 + (k >> 8));
}

static uint16_t frame_len(uint32_t i)
{
    return (uint16_t)(60 + (i * 97) % (1514 - 60 + 1));
}

/* Sends frames on nic and takes them back; returns what was wrong, or NULL. */
static const char *loopback(struct nic *nic, uint32_t frames, char *why, int len)
{
    struct pkt_buf *bufs[32];
    uint32_t sent = 0, got = 0, corrupt = 0;
    uint64_t deadline = now_ns() + SELFTEST_WAIT_NS;
    while (got < frames && now_ns() < deadline) {
        uint32_t n = 0;
        if (sent < frames && sent - got < 256) { /* well inside both rings */
            uint32_t want = frames - sent < 32 ? frames - sent : 32;
            n = pkt_alloc_batch(nic->pool[0], bufs, want);
            for (uint32_t b = 0; b < n; b++) {
                bufs[b]->len = frame_len(sent + b);
                uint8_t *d = pkt_data(bufs[b]);
                for (uint32_t k = 0; k < bufs[b]->len; k++)
                    d[k] = frame_byte(sent + b, k);
            }
            uint32_t s = nic->ops->tx_batch(nic, 0, bufs, n);
            pkt_free_batch(bufs + s, n - s);
            sent += s;
        }
        n = nic->ops->rx_batch(nic, 0, bufs, 32);
        for (uint32_t b = 0; b < n; b++, got++) {
            const uint8_t *d = pkt_data(bufs[b]);
            int same = bufs[b]->len == frame_len(got);
            for (uint32_t k = 0; same && k < bufs[b]->len; k++)
                same = d[k] == frame_byte(got, k);
            corrupt += !same;
        }
        pkt_free_batch(bufs, n);
    }
    if (got == frames && !corrupt)
        return NULL;
    ksnprintf(why, (size_t)len,
              "sent %u of %u frames, %u came back (%u different from what was sent) within "
              "%lu ms",
              sent, frames, got, corrupt, SELFTEST_WAIT_NS / 1000000);
    return why;
}

int selftest_port(struct nic *nic, uint32_t frames)
{
    char why[160], regs[80] = "none (the driver has no register test)";
    const char *step = "registers";
    int bad = 0;
    if (nic->ops->register_test) {
        bad = nic->ops->register_test(nic, why, sizeof(why));
        ksnprintf(regs, sizeof(regs), "%s", why);
    }
    if (!bad) {
        step = "loopback";
        if (nic->ops->set_promisc(nic, true) != 0)
            ksnprintf(why, sizeof(why), "the port cannot be made promiscuous"), bad = 1;
        else
            bad = loopback(nic, frames, why, sizeof(why)) != NULL;
    }
    nic->ops->stop(nic);
    const struct mempool *mp = nic->pool[0];
    if (!bad && mp->nfree != mp->count) {
        step = "stop";
        ksnprintf(why, sizeof(why), "%u of %u buffers came back to the pool", mp->nfree, mp->count);
        bad = 1;
    }
    if (bad) {
        kprintf("selftest %s: FAIL %s: %s\n", nic->name, step, why);
        return -1;
    }
    kprintf("selftest %s: PASS %s %s; registers: %s; loopback: %u frames of 60-1514 bytes "
            "back intact; pool full after stop\n",
            nic->name, nic->driver, nic->model, regs, frames);
    return 0;
}

int selftest_main(const struct app_args *args)
{
    (void)args;
    int ports = 0, passed = 0;
    for (int i = 0; i < pci_count(); i++) {
        struct pci_dev *d = pci_get(i);
        if (!nic_loops_back(d))
            continue;
        ports++;
        struct nic *nic = nic_open_loopback(d);
        if (!nic) {
            char name[PCI_ADDR_LEN];
            kprintf("selftest %s: FAIL bring-up: the driver said why above\n", pci_addr(name, d));
            continue;
        }
        passed += selftest_port(nic, SELFTEST_FRAMES) == 0;
    }
    if (!ports) {
        kprintf("selftest: FAIL: no port the ixgbe driver takes (82599, X520, X540, X550) was "
                "found\n");
        return 1;
    }
    kprintf("selftest: %d of %d ports PASS\n", passed, ports);
    return passed == ports ? 0 : 1;
}
