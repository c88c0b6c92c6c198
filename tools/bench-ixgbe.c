/*
 * tools/bench-ixgbe.c - the ixgbe driver's forwarding cost on the host, with
 * two 82599 model ports (tests/model/ixgbe_model.c) as the NICs. A
 * benchmark, not a test: it prints numbers to read (make bench).
 *
 *   bench-ixgbe threads W N [BATCH [MODE [cached|evict]]]
 *                           the model runs on a thread of its own
 *                           as the NICs' side, injecting frames of 64 UDP
 *                           flows into both ports and taking what they
 *                           send; W workers (this thread and W-1 more), each
 *                           owning one queue pair of both ports (RSS spreads
 *                           the flows), run apps/fwd.c's loop (batch BATCH,
 *                           32 by default, MODE as below) until N frames are
 *                           forwarded, each counting TSC cycles per frame
 *                           over its passes that moved frames. evict: the
 *                           models flush each line they write as DMA from
 *                           the CPU caches (cfg.dma_evicts, as a DMA write
 *                           without DDIO; docs/speed.md).
 *   bench-ixgbe single N [MODE [BATCH]]  one thread, one queue pair, in
 *                           turns: the model puts BATCH frames into both
 *                           receive rings, bench_fwd_pass() forwards, the
 *                           model sends. Deterministic, for callgrind with
 *                           --toggle-collect=bench_fwd_pass
 *                           (tools/bench-ixgbe.sh). MODE: fwd's mode= (io,
 *                           macswap or mac; io by default), the receive
 *                           rewriting each frame by apps/fwd_rewrite.h's
 *                           table as fwd's does; macswap-bytes and
 *                           mac-bytes rewrite a byte at a time, as on a
 *                           CPU without SSSE3.
 *
 * The driver is the kernel's source, built for the host (IXM_HOST): its
 * register door leads to the models through mmio_read32/mmio_write32 below.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "apps/fwd_rewrite.h"
#include "driver/ixgbe.h"
#include "driver/platform.h"
#include "tests/model/ixgbe_model.h"

#define MAX_BATCH 256 /* apps/fwd.c's */
#define WINDOW 448 /* frames in flight each way: under the 512-entry rings */
#define FRAME_LEN 60
#define FLOWS 64
#define MAX_WORKERS 8
#define SHORT_PASS_WAIT 40000 /* TSC cycles: 10-20 us */

/* --- platform shims: console, time, DMA memory, registers -------------------- */

void console_write(const char *s, size_t n)
{
    fwrite(s, 1, n, stderr);
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "panic at %s:%d: ", file, line);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    exit(2);
}

static _Atomic uint64_t clock_ns; /* virtual: bring-up waits take no real time */

uint64_t now_ns(void)
{
    return atomic_fetch_add(&clock_ns, 50) + 50;
}

void delay_us(uint64_t us)
{
    atomic_fetch_add(&clock_ns, us * 1000);
}

static uint64_t model_clock(void)
{
    return atomic_load(&clock_ns);
}

void *dma_alloc(size_t size, size_t align)
{
    void *p = aligned_alloc(align, (size + align - 1) / align * align);
    if (p)
        memset(p, 0, size);
    return p;
}

void dma_free(void *p, size_t size)
{
    (void)size;
    free(p);
}

void pci_enable(const struct pci_dev *d, uint16_t bits)
{
    (void)d, (void)bits;
}

void pci_disable(const struct pci_dev *d, uint16_t bits)
{
    (void)d, (void)bits;
}

#define BAR(i) (0xF0000000ull + (uint64_t)(i)*0x100000)
static struct ixgbe_model *models[2];

uint32_t mmio_read32(uint64_t a)
{
    int i = a >= BAR(1);
    return ixgbe_model_read(models[i], (uint32_t)(a - BAR(i)));
}

void mmio_write32(uint64_t a, uint32_t v)
{
    int i = a >= BAR(1);
    ixgbe_model_write(models[i], (uint32_t)(a - BAR(i)), v);
}

/* --- the NICs' side ------------------------------------------------------------ */

static uint8_t frames[FLOWS][FRAME_LEN]; /* IPv4/UDP, source ports 1024.. */
static uint32_t batch = 32; /* fwd's batch=: frames a receive call asks for */
static _Atomic uint64_t sunk[2];         /* frames out of port i */
static uint64_t injected[2];             /* frames into port i */
static atomic_bool done;

static void sink(void *ctx, const void *f, uint32_t len)
{
    (void)f, (void)len;
    atomic_fetch_add_explicit(&sunk[(uintptr_t)ctx], 1, memory_order_relaxed);
}

/* Frames into port i while fewer than WINDOW of them are on their way
 * through the other port; returns how many. */
static unsigned feed(int i, unsigned max)
{
    unsigned n = 0;
    while (n < max && injected[i] - atomic_load(&sunk[!i]) < WINDOW &&
           ixgbe_model_inject(models[i], frames[injected[i] % FLOWS], FRAME_LEN))
        injected[i]++, n++;
    return n;
}

static void *model_thread(void *arg)
{
    (void)arg;
    while (!atomic_load_explicit(&done, memory_order_relaxed)) {
        feed(0, batch);
        feed(1, batch);
        ixgbe_model_step(models[0]);
        ixgbe_model_step(models[1]);
    }
    return NULL;
}

/* --- the driver's side: apps/fwd.c's loop, io mode ----------------------------- */

static struct nic *ports[2];

/* A worker: one queue pair of both ports, its counts its own. */
struct worker {
    uint16_t queue;
    uint64_t frames, busy, passes, tx_full;
    pthread_t thread;
} __attribute__((aligned(64)));

static struct worker workers[MAX_WORKERS];
static int mode = FWD_IO;        /* fwd's mode= */
static bool dma_evicts;          /* the models' cfg.dma_evicts: threads ... evict */
static bool bytes;               /* MODE-bytes: the rewrite a byte at a time, not with PSHUFB */
static struct pkt_rewrite rewrite[2]; /* as fwd_main sets them */
static uint64_t total;           /* frames to forward, all workers together */
static atomic_bool workers_stop; /* set by worker 0 once they have */

static uint32_t forward(struct worker *w, struct nic *in, struct nic *out)
{
    struct pkt_buf *bufs[MAX_BATCH];
    uint32_t n = nic_rx_batch(in, w->queue, bufs, batch);
    if (!n)
        return 0;
    uint32_t sent = nic_tx_batch(out, w->queue, bufs, n);
    if (sent < n) {
        pkt_free_batch(bufs + sent, n - sent);
        w->tx_full += n - sent;
    }
    return n;
}

/* One pass over both ports, as fwd_main does: what callgrind counts. */
__attribute__((noinline)) uint32_t bench_fwd_pass(struct worker *w)
{
    return forward(w, ports[0], ports[1]) + forward(w, ports[1], ports[0]);
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void open_ports(int queues)
{
    static struct pci_dev pci[2];
    for (int i = 0; i < 2; i++) {
        struct ixgbe_model_config c = {
            .mac = { 0x02, 0, 0, 0, 0, (uint8_t)i },
            .now_ns = model_clock,
            .reset_ns = 100000,
            .eeprom_ns = 100000,
            .dmainit_ns = 100000,
            .link_ns = 100000,
            .queue_ns = 1000,
            .sfp = IXGBE_MODEL_SFP_SR, /* 0x10FB: an X520 with SR optics */
            .lan_id = (uint8_t)i,
            .dma_evicts = dma_evicts,
        };
        models[i] = ixgbe_model_new(&c);
        ixgbe_model_set_sink(models[i], sink, (void *)(uintptr_t)i);
        pci[i] = (struct pci_dev){ .bus = 3, .fn = (uint8_t)i, .vendor = 0x8086, .device = 0x10FB };
        struct ixgbe_options opt = { .queues = queues };
        ports[i] = ixgbe_open_at(&pci[i], BAR(i), &opt);
        if (!ports[i] || ports[i]->rx_queues != queues) {
            fprintf(stderr, "bench-ixgbe: port %d did not come up with %d queues\n", i, queues);
            exit(1);
        }
        ports[i]->ops->set_promisc(ports[i], true);
    }
    for (int f = 0; f < FLOWS; f++) { /* broadcast IPv4/UDP 10.0.0.1:1024+f -> 10.0.0.2:9 */
        static const uint8_t hdr[34] = {
            0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0,  0, 1, 0x08, 0x00, 0x45, 0, 0,
            46,   0,    0,    0x40, 0,    64,   17,   0, 0, 10, 0, 0, 1,    10,   0,    0, 2,
        };
        memcpy(frames[f], hdr, sizeof(hdr));
        frames[f][34] = (uint8_t)((1024 + f) >> 8), frames[f][35] = (uint8_t)(1024 + f);
        frames[f][37] = 9, frames[f][39] = 26;
    }
}

/* A worker's loop until worker 0 sees all of them together reach total
 * (RSS need not split the flows evenly). */
static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (uint64_t pass = 0; !atomic_load_explicit(&workers_stop, memory_order_relaxed); pass++) {
        if (w == &workers[0] && pass % 256 == 0) {
            uint64_t all = 0;
            for (int i = 0; i < MAX_WORKERS; i++)
                all += __atomic_load_n(&workers[i].frames, __ATOMIC_RELAXED);
            if (all >= total)
                atomic_store(&workers_stop, true);
        }
        uint64_t c0 = rdtsc();
        uint32_t n = bench_fwd_pass(w);
        if (n) {
            w->busy += rdtsc() - c0;
            __atomic_store_n(&w->frames, w->frames + n, __ATOMIC_RELAXED);
            w->passes++;
        }
        /* The model makes frames slower than a worker takes them: a pass
         * short of full batches waits (uncounted) for more, so the counted
         * passes are like those of a loaded port. */
        if (n < 2 * batch)
            for (uint64_t t = rdtsc(); rdtsc() - t < SHORT_PASS_WAIT;)
                __asm__ volatile("pause");
    }
    return NULL;
}

int main(int argc, char **argv)
{
    bool single = argc >= 3 && argc <= 5 && !strcmp(argv[1], "single");
    bool threads = argc >= 4 && argc <= 7 && !strcmp(argv[1], "threads");
    int nw = threads ? atoi(argv[2]) : 1;
    const char *mode_arg = single && argc >= 4 ? argv[3] : threads && argc >= 6 ? argv[5] : NULL;

    if (mode_arg) {
        size_t len = strlen(mode_arg);
        bytes = len > 6 && !strcmp(mode_arg + len - 6, "-bytes");
        len -= bytes ? 6 : 0;
        mode = !strncmp(mode_arg, "macswap", len) && len == 7 ? FWD_MACSWAP
               : !strncmp(mode_arg, "mac", len) && len == 3   ? FWD_MAC
               : !strcmp(mode_arg, "io")                      ? FWD_IO
                                                              : -1;
    }
    if (threads && argc == 7 && strcmp(argv[6], "cached"))
        dma_evicts = true, mode = !strcmp(argv[6], "evict") ? mode : -1;
    if (single && argc == 5)
        batch = (uint32_t)atoi(argv[4]);
    if (threads && argc >= 5)
        batch = (uint32_t)atoi(argv[4]);
    if ((!single && !threads) || nw < 1 || nw > MAX_WORKERS || mode < 0 || batch < 1 ||
        batch > MAX_BATCH) {
        fprintf(stderr,
                "usage: bench-ixgbe threads WORKERS FRAMES [BATCH [MODE [cached|evict]]] | "
                "single FRAMES [MODE [BATCH]]   (MODE io, macswap, mac, macswap-bytes or "
                "mac-bytes; BATCH 1-%d)\n",
                MAX_BATCH);
        return 2;
    }
    total = strtoull(argv[single ? 2 : 3], NULL, 10);
    open_ports(nw);
    for (int i = 0; i < 2; i++) { /* as fwd_main: each port's receive rewrites for the other */
        if (!fwd_rewrite_table(&rewrite[i], mode, ports[1 - i]->mac, (uint8_t)(1 - i)))
            continue;
        rewrite[i].pshufb &= !bytes;
        ports[i]->rx_rewrite = &rewrite[i];
    }
    for (int i = 0; i < nw; i++)
        workers[i].queue = (uint16_t)i;
    double t0 = seconds();
    if (single) {
        struct worker *w = &workers[0];
        while (w->frames < total) {
            feed(0, batch);
            feed(1, batch);
            uint64_t c0 = rdtsc();
            uint32_t n = bench_fwd_pass(w);
            w->busy += rdtsc() - c0;
            w->frames += n;
            w->passes++;
            ixgbe_model_step(models[0]);
            ixgbe_model_step(models[1]);
        }
    } else {
        pthread_t model;
        pthread_create(&model, NULL, model_thread, NULL);
        for (int i = 1; i < nw; i++)
            pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]);
        worker_main(&workers[0]);
        for (int i = 1; i < nw; i++)
            pthread_join(workers[i].thread, NULL);
        atomic_store(&done, true);
        pthread_join(model, NULL);
    }
    double dt = seconds() - t0;
    for (int k = 0; k < 4; k++) { /* the model sends what is still queued */
        ixgbe_model_step(models[0]);
        ixgbe_model_step(models[1]);
    }
    uint64_t fwd = 0, tx_full = 0, missed = 0;
    for (int i = 0; i < nw; i++)
        fwd += workers[i].frames, tx_full += workers[i].tx_full;
    for (int i = 0; i < 2; i++) {
        struct nic_stats s;
        ports[i]->ops->stop(ports[i]);
        ports[i]->ops->read_stats(ports[i], &s);
        missed += s.rx_missed;
    }
    printf("bench-ixgbe %s, %d worker%s, batch %u: %llu frames forwarded (%d bytes, %d flows) in "
           "%.3f s, %.2f Mpps; tx full %llu; missed %llu\n",
           argv[1], nw, nw == 1 ? "" : "s", batch, (unsigned long long)fwd, FRAME_LEN, FLOWS, dt,
           (double)fwd / dt / 1e6, (unsigned long long)tx_full, (unsigned long long)missed);
    for (int i = 0; i < nw; i++)
        printf("  worker %d (queue %u): %.1f TSC cycles per forwarded frame in the passes that "
               "moved frames, %.1f frames per pass\n",
               i, workers[i].queue, (double)workers[i].busy / (double)workers[i].frames,
               (double)workers[i].frames / (double)workers[i].passes);
    return 0;
}
