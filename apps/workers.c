/*
 * apps/workers.c - worker cores: plan, start, stop (see workers.h).
 */
#include "apps/workers.h"

#include "kernel/acpi.h"
#include "kernel/kprintf.h"
#include "kernel/mem.h"
#include "kernel/lapic.h"

#define REPORTER_NAP_US 10000

static bool stop; /* set once by the boot core; read by the workers */

/* Up to max worker cores into core[]; returns how many. apps.h's layout
 * (worker w on core w + 1, or the boot core alone), but where the machine
 * has NUMA nodes and every port's memory is on one of them, only that
 * node's cores: none polls a queue across nodes. Ports on different nodes
 * (numa= asked for it) keep the plain layout, said. */
static int pick_cores(const char *app, const struct app_args *args, struct port *ports, int nports,
                      int *core, int max)
{
    int node = ports[0].nic->node, n = 0;
    bool one_node = true;
    for (int i = 1; i < nports; i++)
        one_node &= ports[i].nic->node == node;
    if (acpi.nnodes > 1 && args->cores > 1 && one_node) {
        for (int c = 1; c < smp_cores() && n < max; c++)
            if (acpi_node_of_apic(&acpi, smp_apic_id(c)) == node)
                core[n++] = c;
        if (n) {
            kprintf("%s: node %d: worker core%s", app, node, n == 1 ? "" : "s");
            for (int w = 0; w < n; w++)
                kprintf(" %d", core[w]);
            kprintf("\n");
            return n;
        }
        kprintf("%s: node %d has no core but the boot core: the workers run on other nodes'\n", app,
                node);
    } else if (acpi.nnodes > 1 && !one_node) {
        kprintf("%s: the ports are on different nodes (numa=%s): workers poll both\n", app,
                app_config.numa);
    }
    for (int w = 0; w < max; w++)
        core[w] = app_worker_core(args, w);
    return max;
}

bool workers_plan(struct workers *ws, const char *app, const struct app_args *args,
                  struct port *ports, int nports)
{
    ws->app = app;
    ws->core = dma_alloc((size_t)app_workers(args) * sizeof(*ws->core), 64);
    if (!ws->core) {
        kprintf("%s: no memory for %d workers' plan\n", app, app_workers(args));
        return false;
    }
    ws->n = pick_cores(app, args, ports, nports, ws->core, app_workers(args));
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
    ws->reporter = ws->core[0] != 0;
    ws->idle_us = (uint32_t)app_config.idle;
    if (ws->idle_us && !lapic_ready()) {
        kprintf("%s: idle=%u needs the local APIC timer (lapic: %s); polling instead\n", app,
                ws->idle_us, lapic_describe());
        ws->idle_us = 0;
    }
    return true;
}

bool workers_start(const struct workers *ws, void (*fn)(void *), void *first, size_t size)
{
    __atomic_store_n(&stop, false, __ATOMIC_RELAXED); /* smp_run's store releases it */
    for (int w = 0; w < ws->n; w++)
        if (ws->core[w] && !smp_run(ws->core[w], fn, (char *)first + (size_t)w * size)) {
            kprintf("%s: worker %d could not be started on core %d\n", ws->app, w, ws->core[w]);
            struct workers started = *ws;
            started.n = w;
            workers_stop(&started); /* the ones already running */
            return false;
        }
    return true;
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
