/*
 * apps/apps.h - the table of what ixmetal can run; `app=NAME` picks one.
 *
 * This table is all the kernel knows of the apps: names, one line of help,
 * and an entry point.
 */
#ifndef APPS_APPS_H
#define APPS_APPS_H

#include <stdint.h>

#include "apps/fwd_rewrite.h"
#include "kernel/cmdline.h"
#include "kernel/tsc.h"

struct app_args {
    uint64_t deadline_ns; /* now_ns() at which to stop (duration=); 0 = none */
    int cores;            /* cores the app may use (cores=): 0 is the boot core, 1.. idle ones */
};

/* Worker cores. With more than one core, the boot core only reports (it
 * prints to a serial port, which would stall a forwarding loop for
 * milliseconds a line) and worker w runs on core w + 1; alone, the boot core
 * is worker 0 and reports between its passes. */
static inline int app_workers(const struct app_args *a)
{
    return a->cores > 1 ? a->cores - 1 : 1;
}

static inline int app_worker_core(const struct app_args *a, int w)
{
    return a->cores > 1 ? w + 1 : 0;
}

/* How long an app waits for another core to finish a short call (smp_wait). */
#define CORE_ANSWER_NS 1000000000ull

/* Apps poll this in their loops: ixmetal has no interrupts to stop them. */
static inline int app_time_up(const struct app_args *a)
{
    return a->deadline_ns && now_ns() >= a->deadline_ns;
}

struct app {
    const char *name;
    const char *help;
    int (*main)(const struct app_args *args); /* 0 on success */
};

extern const struct app apps[];
extern const int napps;

/* What the command line set for the apps; the keys are in app_options. */
struct app_config {
    char ports[64]; /* "A,B": PCI addresses; "" = the first two NICs found */
    uint64_t batch; /* frames per rx_batch/tx_batch call */
    int mode;       /* enum fwd_mode */
    uint64_t size;  /* pktgen: frame size, without FCS */
    uint64_t rate;  /* pktgen: frames per second, 0 = as fast as it can */
    uint64_t count; /* pktgen: frames to send, 0 = no limit */
    uint64_t flows; /* pktgen: distinct UDP source ports */
    uint64_t idle;  /* fwd, pktgen: us to halt after a pass that moved nothing; 0 = poll */
    int trace;      /* enum trace */
    int fault;      /* enum fault_kind: what app=fault breaks */
    char numa[64];  /* "N,M,...": each port's NUMA node, in ports= order; "" = all 0 */
    int dma_test;   /* enum dma_test: a test hook for the IOMMU (apps/ports.c) */
};
enum dma_test { DMA_TEST_OFF, DMA_TEST_RX };
enum trace { TRACE_OFF, TRACE_REGS, TRACE_RINGS };
enum fault_kind { FAULT_PAGE, FAULT_PANIC };
extern struct app_config app_config;
extern const struct opt app_options[];
extern const int napp_options;

/* The i-th app's name, NULL past the last: for the app= option. */
const char *app_name(int i);

int info_main(const struct app_args *args);
int clock_main(const struct app_args *args);
int fault_main(const struct app_args *args);
int fwd_main(const struct app_args *args);
int pktgen_main(const struct app_args *args);
int selftest_main(const struct app_args *args);

#endif
