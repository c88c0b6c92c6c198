/*
 * apps/workers.c - worker cores: plan, start, stop (see workers.h).
 */
#include "apps/workers.h"

#include "kernel/kprintf.h"
#include "kernel/mem.h"
#include "kernel/lapic.h"

#define REPORTER_NAP_US 10000

static bool stop; /* set once by the boot core; read by the workers */

bool workers_plan(struct workers *ws, const char *app, const struct app_args *args,
                  struct port *ports, int nports)
{
    ws->app = app;
    ws->n = app_workers(args);
    for (int i = 0; i < nports; i++)
        if (ports[i].nic->rx_queues < ws->n) {
            kprintf("%s: %s has %u queue pair(s): %u worker core(s) of %d\n", app,
                    ports[i].nic->name, ports[i].nic->rx_queues, ports[i].nic->rx_queues,
                    app_workers(args));
            ws->n = ports[i].nic->rx_queues;
        }
    for (int i = 0; i < nports; i++)
        if (ports[i].nic->rx_queues > ws->n && ports[i].nic->ops->use_queues)
            ports[i].nic->ops->use_queues(ports[i].nic, (uint16_t)ws->n);
    ws->core = dma_alloc((size_t)ws->n * sizeof(*ws->core), 64);
    if (!ws->core) {
        kprintf("%s: no memory for %d workers' plan\n", app, ws->n);
        return false;
    }
    for (int w = 0; w < ws->n; w++)
        ws->core[w] = app_worker_core(args, w);
    ws->reporter = ws->core[0] != 0;
    ws->idle_us = (uint32_t)app_config.idle;
    if (ws->idle_us && !lapic_ready()) {
        kprintf("%s: idle=%u needs the local APIC timer (lapic: %s); polling instead\n", app,
                ws->idle_us, lapic_describe());
        ws->idle_us = 0;
    }
    return true;
}

void workers_start(const struct workers *ws, void (*fn)(void *), void *first, size_t size)
{
    __atomic_store_n(&stop, false, __ATOMIC_RELAXED); /* smp_run's store releases it */
    for (int w = 0; w < ws->n; w++)
        if (ws->core[w])
            smp_run(ws->core[w], fn, (char *)first + (size_t)w * size);
}

bool workers_stopping(void)
{
    return __atomic_load_n(&stop, __ATOMIC_ACQUIRE);
}

void workers_nap(const struct workers *ws)
{
    if (ws->reporter && lapic_ready())
        lapic_sleep_us(REPORTER_NAP_US);
}

bool workers_stop(const struct workers *ws)
{
    __atomic_store_n(&stop, true, __ATOMIC_RELEASE);
    uint64_t end = now_ns() + WORKERS_STOP_NS;
    bool all_stopped = true;
    for (int w = 0; w < ws->n; w++)
        while (ws->core[w] && !smp_done(ws->core[w]))
            if (now_ns() > end) {
                kprintf("%s: core %d did not stop within %lu ms\n", ws->app, ws->core[w],
                        WORKERS_STOP_NS / 1000000);
                all_stopped = false;
                break;
            }
    if (!all_stopped)
        kprintf("%s: the ports are left running; no final counts\n", ws->app);
    return all_stopped;
}
