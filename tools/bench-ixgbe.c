/*
 * tools/bench-ixgbe.c - the ixgbe driver's forwarding cost on the host, with
 * two 82599 model ports (tests/model/ixgbe_model.c) as the NICs. A
 * benchmark, not a test: it prints numbers to read (make bench).
 *
 *   bench-ixgbe threads N   the model runs on a thread of its own as the
 *                           NICs' side, injecting frames into both ports
 *                           and taking what they send; this thread runs the
 *                           forwarding loop (apps/fwd.c's, batch 32, io
 *                           mode) and counts TSC cycles per forwarded frame
 *                           over the passes that moved frames.
 *   bench-ixgbe single N    one thread, in turns: the model fills both
 *                           receive rings, bench_fwd_pass() forwards, the
 *                           model sends. Deterministic, for callgrind with
 *                           --toggle-collect=bench_fwd_pass
 *                           (tools/bench-ixgbe.sh).
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

#include "driver/ixgbe.h"
#include "driver/platform.h"
#include "tests/model/ixgbe_model.h"

#define BATCH 32
#define WINDOW 448 /* frames in flight each way: under the 512-entry rings */
#define FRAME_LEN 60
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

static uint8_t frame[FRAME_LEN];
static _Atomic uint64_t sunk[2]; /* frames out of port i */
static uint64_t injected[2];     /* frames into port i */
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
           ixgbe_model_inject(models[i], frame, FRAME_LEN))
        injected[i]++, n++;
    return n;
}

static void *model_thread(void *arg)
{
    (void)arg;
    while (!atomic_load_explicit(&done, memory_order_relaxed)) {
        feed(0, BATCH);
        feed(1, BATCH);
        ixgbe_model_step(models[0]);
        ixgbe_model_step(models[1]);
    }
    return NULL;
}

/* --- the driver's side: apps/fwd.c's loop, io mode ----------------------------- */

static struct nic *ports[2];
static uint64_t tx_full;

static uint32_t forward(struct nic *in, struct nic *out)
{
    struct pkt_buf *bufs[BATCH];
    uint32_t n = nic_rx_batch(in, 0, bufs, BATCH);
    if (!n)
        return 0;
    uint32_t sent = nic_tx_batch(out, 0, bufs, n);
    if (sent < n) {
        pkt_free_batch(bufs + sent, n - sent);
        tx_full += n - sent;
    }
    return n;
}

/* One pass over both ports, as fwd_main does: what callgrind counts. */
__attribute__((noinline)) uint32_t bench_fwd_pass(void)
{
    return forward(ports[0], ports[1]) + forward(ports[1], ports[0]);
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static double seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void open_ports(void)
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
        };
        models[i] = ixgbe_model_new(&c);
        ixgbe_model_set_sink(models[i], sink, (void *)(uintptr_t)i);
        pci[i] = (struct pci_dev){ .bus = 3, .fn = (uint8_t)i, .vendor = 0x8086, .device = 0x10FB };
        ports[i] = ixgbe_open_at(&pci[i], BAR(i), NULL);
        if (!ports[i]) {
            fprintf(stderr, "bench-ixgbe: port %d did not come up\n", i);
            exit(1);
        }
        ports[i]->ops->set_promisc(ports[i], true);
    }
    memset(frame, 0xFF, 6); /* broadcast, then a source and a payload */
    for (int k = 6; k < FRAME_LEN; k++)
        frame[k] = (uint8_t)k;
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "threads") && strcmp(argv[1], "single"))) {
        fprintf(stderr, "usage: bench-ixgbe threads|single FRAMES\n");
        return 2;
    }
    uint64_t total = strtoull(argv[2], NULL, 10), fwd = 0, busy = 0, passes = 0;
    open_ports();
    double t0 = seconds();
    if (!strcmp(argv[1], "single")) {
        while (fwd < total) {
            feed(0, BATCH);
            feed(1, BATCH);
            uint64_t c0 = rdtsc();
            uint32_t n = bench_fwd_pass();
            busy += rdtsc() - c0;
            fwd += n;
            passes++;
            ixgbe_model_step(models[0]);
            ixgbe_model_step(models[1]);
        }
    } else {
        pthread_t model;
        pthread_create(&model, NULL, model_thread, NULL);
        while (fwd < total) {
            uint64_t c0 = rdtsc();
            uint32_t n = bench_fwd_pass();
            if (n) {
                busy += rdtsc() - c0;
                fwd += n;
                passes++;
            }
            /* The model makes frames far slower than the driver takes them:
             * a pass short of full batches waits (uncounted) for more, so
             * the counted passes are like those of a loaded port. */
            if (n < 2 * BATCH)
                for (uint64_t w = rdtsc(); rdtsc() - w < SHORT_PASS_WAIT;)
                    __asm__ volatile("pause");
        }
        atomic_store(&done, true);
        pthread_join(model, NULL);
    }
    double dt = seconds() - t0;
    for (int k = 0; k < 4; k++) { /* the model sends what is still queued */
        ixgbe_model_step(models[0]);
        ixgbe_model_step(models[1]);
    }
    struct nic_stats s[2];
    for (int i = 0; i < 2; i++) {
        ports[i]->ops->stop(ports[i]);
        ports[i]->ops->read_stats(ports[i], &s[i]);
    }
    printf("bench-ixgbe %s: %llu frames forwarded (%d bytes) in %.3f s, %.2f Mpps; "
           "tx full %llu; missed %llu\n",
           argv[1], (unsigned long long)fwd, FRAME_LEN, dt, (double)fwd / dt / 1e6,
           (unsigned long long)tx_full, (unsigned long long)(s[0].rx_missed + s[1].rx_missed));
    printf("bench-ixgbe %s: %.1f TSC cycles per forwarded frame in the passes that moved "
           "frames, %.1f frames per pass (both directions)\n",
           argv[1], (double)busy / (double)fwd, (double)fwd / (double)passes);
    return 0;
}
