/*
 * apps/fwd.c - `app=fwd`: a two-port forwarder, both directions (ixy-fwd,
 * DPDK's l2fwd). Each pass receives a batch on one port and sends it out of
 * the other; what the other port cannot take is freed and counted as a drop.
 *
 * mode=io leaves frames untouched; mode=macswap swaps destination and source
 * MAC; mode=mac does what l2fwd does: source = the sending port's MAC,
 * destination = 02:00:00:00:00:<sending port's index>. The receiving
 * driver rewrites each frame as it takes it, by a table fwd gives it
 * (apps/fwd_rewrite.h), so the loop below passes frames on as they come.
 *
 * With cores=N (default: every core running), N > 1, the boot core only
 * reports and N-1 worker cores forward at once, worker w on core w+1 and on
 * queue w of both ports (the NIC spreads flows over the queues: RSS), as
 * far as the ports have queue pairs; nothing is shared between them but the
 * flag that stops them. Once a second the boot core prints the ports' rates,
 * then a line per worker (its packets, drops, passes and the passes that
 * found nothing). With cores=1 the boot core is the one worker and reports
 * between its passes.
 *
 * idle=US (default 0): after a pass over both ports that found nothing, halt
 * the core until the local APIC timer fires US microseconds later. A box
 * that owns its core polls (0); a guest sharing host CPUs with its own
 * emulator, as under QEMU's TCG, gives them back this way (make bench).
 */
#include "apps/apps.h"
#include "apps/ports.h"
#include "apps/workers.h"

#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/mem.h"
#include "kernel/lapic.h"
#include "kernel/smp.h"
#include "kernel/string.h"

#define MAX_BATCH 256
#define STATS_EVERY_NS 1000000000ull

/* One worker: a core, and the queue pair it owns on both ports. Written
 * only by its core; the boot core reads the counters to report them. */
struct worker {
    int core;
    uint16_t queue;
    struct port *ports;
    uint32_t batch, idle_us;
    uint64_t packets, polls, empty_polls;
    uint64_t busy_tsc;          /* TSC ticks in the passes that moved frames */
    uint64_t drops[2];          /* what port i's TX queue could not take */
} __attribute__((aligned(64))); /* a cache line of its own: one core writes it */

/* One direction, one batch: in -> out, on the worker's queue. */
static uint32_t forward(struct worker *w, int in, int out)
{
    struct pkt_buf *bufs[MAX_BATCH];
    struct nic *out_nic = w->ports[out].nic;
    uint32_t n = nic_rx_batch(w->ports[in].nic, w->queue, bufs, w->batch);
    if (!n)
        return 0;
    uint32_t sent = nic_tx_batch(out_nic, w->queue, bufs, n);
    if (sent < n) { /* TX ring full: drop the rest, as a NIC would */
        pkt_free_batch(bufs + sent, n - sent);
        w->drops[out] += n - sent;
    }
    return n;
}

/* One pass over both ports; true if it moved frames. Its TSC ticks count
 * toward the cost per frame when it did (two RDTSCs a pass, not a frame). */
static bool pass(struct worker *w)
{
    uint64_t t0 = rdtsc();
    uint32_t moved = forward(w, 0, 1) + forward(w, 1, 0);
    w->polls++;
    w->packets += moved;
    if (moved) {
        w->busy_tsc += rdtsc() - t0;
        return true;
    }
    w->empty_polls++;
    if (w->idle_us)
        lapic_sleep_us(w->idle_us);
    return false;
}

/* An application core's loop, until the boot core says stop. */
static void worker_main(void *arg)
{
    workers_loop(arg, pass);
}

/* Each port's drops: what its TX queues could not take, all workers'. */
static void sum_drops(struct port *ports, const struct worker *w, int n)
{
    for (int i = 0; i < 2; i++) {
        ports[i].drops = 0;
        for (int k = 0; k < n; k++)
            ports[i].drops += w[k].drops[i];
    }
}

/* "[core 1 queue 1] packets=..." once a second; "final core 1 queue 1:
 * packets=..." at the end. */
static void print_workers(const struct worker *w, int n, bool final)
{
    for (int i = 0; i < n; i++)
        kprintf("%score %d queue %u%s packets=%lu drops=%lu polls=%lu empty_polls=%lu\n",
                final ? "final " : "[", w[i].core, w[i].queue, final ? ":" : "]", w[i].packets,
                w[i].drops[0] + w[i].drops[1], w[i].polls, w[i].empty_polls);
}

/* The guest's own cost per frame: TSC ticks in the passes that moved
 * frames, over the frames they moved (all workers). Under QEMU with
 * -icount shift=0 a tick is an instruction (make bench). */
static void print_cost(const struct worker *w, int n)
{
    uint64_t ticks = 0, frames = 0;
    for (int i = 0; i < n; i++) {
        ticks += w[i].busy_tsc;
        frames += w[i].packets;
    }
    if (frames)
        kprintf("fwd: %lu TSC ticks per frame in the passes that moved frames (%lu frames)\n",
                ticks / frames, frames);
}

/* Static: a worker that did not stop may still be reading them. */
static struct port ports[2];
static struct worker *workers; /* ws.n of them */

int fwd_main(const struct app_args *args)
{
    if (ports_open(app_config.ports, 2, 2, app_workers(args), ports) != 2)
        return 1;
    ports_promisc(ports, 2, "fwd");
    /* macswap and mac: each port's receive rewrites its frames for the
     * other port, which sends them (driver/rewrite.h) */
    static struct pkt_rewrite rewrite[2];
    for (int i = 0; i < 2; i++)
        if (fwd_rewrite_table(&rewrite[i], app_config.mode, ports[1 - i].nic->mac,
                              (uint8_t)(1 - i)))
            ports[i].nic->rx_rewrite = &rewrite[i];
    /* One worker per core, each with its own queue pair on both ports. */
    static struct workers ws;
    if (!workers_plan(&ws, "fwd", args, ports, 2))
        return 1;
    int nworkers = ws.n;
    workers = dma_alloc((size_t)nworkers * sizeof(*workers), 64);
    if (!workers) {
        kprintf("fwd: no memory for %d workers\n", nworkers);
        return 1;
    }
    kprintf("fwd: %s <-> %s, batch %lu, idle %lu us, mode %s, %d worker core%s\n",
            ports[0].nic->name, ports[1].nic->name, app_config.batch, app_config.idle,
            app_config.mode == FWD_IO    ? "io"
            : app_config.mode == FWD_MAC ? "mac"
                                         : "macswap",
            nworkers, nworkers == 1 ? "" : "s");
    if (app_config.mode != FWD_IO)
        kprintf("fwd: each frame rewritten as it is received, %s\n",
                rewrite[0].pshufb ? "with PSHUFB" : "a byte at a time (the CPU has no SSSE3)");
    for (int i = 0; i < nworkers; i++)
        workers[i] = (struct worker){ .core = ws.core[i],
                                      .queue = (uint16_t)i,
                                      .ports = ports,
                                      .batch = (uint32_t)app_config.batch,
                                      .idle_us = ws.idle_us };
    if (!workers_start(&ws, worker_main, workers, sizeof(workers[0])))
        return 1;
    uint64_t last = now_ns();
    for (uint32_t polls = 0;; polls++) {
        if (!ws.reporter && pass(&workers[0]) && polls % POLLS_PER_CLOCK_CHECK)
            continue;
        workers_nap(&ws);
        if (app_time_up(args))
            break;
        uint64_t now = now_ns();
        if (now - last >= STATS_EVERY_NS) {
            sum_drops(ports, workers, nworkers);
            ports_check_links(ports, 2);
            ports_print_rates(ports, 2, now - last);
            if (ws.reporter)
                print_workers(workers, nworkers, false);
            last = now;
        }
    }
    if (!workers_stop(&ws))
        return 1;
    sum_drops(ports, workers, nworkers);
    ports_finish(ports, 2);
    if (ws.reporter)
        print_workers(workers, nworkers, true);
    print_cost(workers, nworkers);
    return 0;
}
