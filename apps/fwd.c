/*
 * apps/fwd.c - `app=fwd`: a two-port forwarder, both directions (ixy-fwd,
 * DPDK's l2fwd). Each pass receives a batch on one port and sends it out of
 * the other; what the other port cannot take is freed and counted as a drop.
 *
 * mode=io leaves frames untouched; mode=macswap swaps destination and source
 * MAC; mode=mac does what l2fwd does: source = the sending port's MAC,
 * destination = 02:00:00:00:00:<sending port's index>.
 *
 * idle=US (default 0): after a pass over both ports that found nothing, halt
 * the core until the local APIC timer fires US microseconds later. A box
 * that owns its core polls (0); a guest sharing host CPUs with its own
 * emulator, as under QEMU's TCG, gives them back this way (make bench).
 */
#include "apps/apps.h"
#include "apps/ports.h"

#include "kernel/kprintf.h"
#include "kernel/lapic.h"
#include "kernel/string.h"

#define MAX_BATCH 256
#define STATS_EVERY_NS 1000000000ull
#define POLLS_PER_CLOCK_CHECK 256

static void rewrite(struct pkt_buf **bufs, uint32_t n, int mode, const struct nic *out,
                    uint8_t out_index)
{
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *f = pkt_data(bufs[i]), tmp[6];
        if (mode == FWD_MACSWAP) {
            memcpy(tmp, f, 6);
            memcpy(f, f + 6, 6);
            memcpy(f + 6, tmp, 6);
        } else if (mode == FWD_MAC) {
            static const uint8_t dst[5] = { 0x02, 0, 0, 0, 0 };
            memcpy(f, dst, 5);
            f[5] = out_index;
            memcpy(f + 6, out->mac, 6);
        }
    }
}

/* One direction, one batch: in -> out. */
static uint32_t forward(struct port *in, struct port *out, uint8_t out_index, uint32_t batch,
                        int mode)
{
    struct pkt_buf *bufs[MAX_BATCH];
    uint32_t n = nic_rx_batch(in->nic, 0, bufs, batch);
    if (!n)
        return 0;
    if (mode != FWD_IO)
        rewrite(bufs, n, mode, out->nic, out_index);
    uint32_t sent = nic_tx_batch(out->nic, 0, bufs, n);
    if (sent < n) { /* TX ring full: drop the rest, as a NIC would */
        pkt_free_batch(bufs + sent, n - sent);
        out->drops += n - sent;
    }
    return n;
}

int fwd_main(const struct app_args *args)
{
    struct port ports[2];
    if (ports_open(app_config.ports, 2, 2, ports) != 2)
        return 1;
    for (int i = 0; i < 2; i++)
        if (ports[i].nic->ops->set_promisc(ports[i].nic, true) != 0)
            kprintf("fwd: %s cannot be made promiscuous\n", ports[i].nic->name);
    kprintf("fwd: %s <-> %s, batch %lu, idle %lu us, mode %s\n", ports[0].nic->name,
            ports[1].nic->name, app_config.batch, app_config.idle,
            app_config.mode == FWD_IO    ? "io"
            : app_config.mode == FWD_MAC ? "mac"
                                         : "macswap");
    uint32_t batch = (uint32_t)app_config.batch;
    uint32_t idle_us = (uint32_t)app_config.idle;
    if (idle_us && !lapic_ready()) {
        kprintf("fwd: idle=%u needs the local APIC timer (lapic: %s); polling instead\n", idle_us,
                lapic_describe());
        idle_us = 0;
    }
    uint64_t last = now_ns();
    for (uint32_t polls = 0;; polls++) {
        uint32_t moved = forward(&ports[0], &ports[1], 1, batch, app_config.mode);
        moved += forward(&ports[1], &ports[0], 0, batch, app_config.mode);
        if (!moved && idle_us)
            lapic_sleep_us(idle_us); /* and then look at the clock: a sleep is long */
        else if (polls % POLLS_PER_CLOCK_CHECK)
            continue;
        if (app_time_up(args))
            break;
        uint64_t now = now_ns();
        if (now - last >= STATS_EVERY_NS) {
            ports_print_rates(ports, 2, now - last);
            last = now;
        }
    }
    ports_finish(ports, 2);
    return 0;
}
