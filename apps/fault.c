/*
 * apps/fault.c - `app=fault`: a deliberate page fault, so the exception
 * report can be seen (and tested) without a bug to trigger it, on the last
 * core the app may use.
 */
#include "apps/apps.h"

#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/smp.h"

/* Canonical, far above any RAM or BAR QEMU or OVMF place: never mapped. */
#define UNMAPPED_ADDRESS ((uint64_t)0x00007fff00000000)

static void fault_write(void *arg)
{
    (void)arg;
    *(volatile uint32_t *)(uintptr_t)UNMAPPED_ADDRESS = 0xdead;
}

/* On the last core the app may use (cores=): the report names the core. */
int fault_main(const struct app_args *args)
{
    int core = args->cores - 1;
    kprintf("fault: writing to 0x%lx, which is not mapped, on core %d (apic id %u)\n",
            UNMAPPED_ADDRESS, core, smp_apic_id(core));
    if (core == 0) {
        fault_write(NULL);
    } else {
        smp_run(core, fault_write, NULL);
        uint64_t end = now_ns() + 1000000000ull;
        while (!smp_done(core) && now_ns() < end)
            cpu_pause();
        if (!smp_done(core)) {
            kprintf("fault: core %d did not come back (its report is above)\n", core);
            return 1;
        }
    }
    kprintf("fault: the write did not fault\n");
    return 1;
}
