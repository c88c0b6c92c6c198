/*
 * apps/workers.h - the worker cores of the packet apps (fwd, pktgen): how
 * many the ports allow, starting them, and stopping them in bounded time.
 *
 * The layout is apps.h's: with more than one core, worker w runs on core
 * w + 1 on queue w of each port, and the boot core only reports; alone, the
 * boot core is worker 0 and the app runs its passes between reports. None
 * of this is on the data path but workers_stopping(), which a worker reads
 * between its passes: the one thing the cores share.
 */
#ifndef APPS_WORKERS_H
#define APPS_WORKERS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "apps/apps.h"
#include "apps/ports.h"
#include "kernel/smp.h"

#define WORKERS_STOP_NS 1000000000ul /* how long workers_stop waits for a core */
#define POLLS_PER_CLOCK_CHECK 256    /* passes between looks at the clock or the stop flag */

/* The app's worker (apps/fwd.c and apps/pktgen.c each define their own):
 * what one core owns, its counters and its queue on each port. */
struct worker;

struct workers {
    const char *app;  /* who speaks: "fwd: core 2 did not stop ..." */
    int n;            /* workers that run, worker w on queue w */
    int *core;        /* worker w's core (app_worker_core), n of them */
    bool reporter;    /* the boot core only reports (no worker runs on it) */
    uint32_t idle_us; /* idle=, or 0 (said) without a local APIC timer to wake on */
};

/* app_workers(args) workers, fewer if a port has fewer queue pairs (said:
 * "fwd: <port> has 2 queue pair(s): 2 worker core(s) of 4"). A port with
 * more queue pairs than that is told to receive on the workers' queues
 * alone: RSS must not spread flows over queues nobody polls. And how long
 * a worker halts after a pass that found nothing (idle=). False, said, if
 * there is no memory for the plan. */
bool workers_plan(struct workers *ws, const char *app, const struct app_args *args,
                  struct port *ports, int nports);

/* Runs fn on every worker's core but the boot core, worker w's argument at
 * first + w * size (an array of the app's worker structs); returns at once.
 * False, said, if a core could not be woken: those started are stopped. */
bool workers_start(const struct workers *ws, void (*fn)(void *), void *first, size_t size);

/* For a worker, between passes: true once workers_stop has been called. */
bool workers_stopping(void);

/* The boot core, when it only reports, between its looks at the clock:
 * halts it 10 ms (under TCG its vCPU shares host CPUs with the workers'). */
void workers_nap(const struct workers *ws);

/* A worker core's loop, until workers_stop: pass(w) again and again,
 * looking at the stop flag after a pass that moved nothing and every
 * POLLS_PER_CLOCK_CHECK passes. Static inline, and given the app's pass as
 * a constant, it compiles into the app's worker_main with a direct call
 * (or pass itself inlined): no indirect call in the loop. */
static inline void workers_loop(struct worker *w, bool (*pass)(struct worker *w))
{
    for (uint32_t polls = 0;; polls++)
        if ((!pass(w) || polls % POLLS_PER_CLOCK_CHECK == 0) && workers_stopping())
            return;
}

/* Tells the workers to return and waits for each, WORKERS_STOP_NS at most.
 * False if a core did not stop (said, with "the ports are left running":
 * stopping them would free buffers that core may still be using). */
bool workers_stop(const struct workers *ws);

#endif
