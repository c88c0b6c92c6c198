/*
 * apps/clock.c - `app=clock`: the time since boot, once a second, until
 * duration= ends it (or forever). On a new machine, compare it with a
 * watch: it shows whether the TSC was calibrated right, which every
 * timeout in ixmetal relies on.
 */
#include "apps/apps.h"

#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/tsc.h"

#define NS_PER_S ((uint64_t)1000000000)

int clock_main(const struct app_args *args)
{
    uint64_t start = now_ns(), next = start + NS_PER_S;
    while (!app_time_up(args)) {
        uint64_t now = now_ns();
        if (now >= next) {
            kprintf("clock: %lu s\n", (next - start) / NS_PER_S);
            next += NS_PER_S;
        }
        cpu_pause();
    }
    uint64_t ran = now_ns() - start;
    kprintf("clock: stopped after %lu.%03lu s\n", ran / NS_PER_S, ran % NS_PER_S / 1000000);
    return 0;
}
