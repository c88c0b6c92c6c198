/*
 * apps/fault.c - `app=fault`: a deliberate page fault (fault=page) or failed
 * check (fault=panic), so the report and what on_fault= does next can be
 * seen (and tested) without a bug to trigger them, on the last core the app
 * may use.
 */
#include "apps/apps.h"

#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/smp.h"

/* Canonical, far above any RAM or BAR QEMU or OVMF place: never mapped. */
#define UNMAPPED_ADDRESS ((uint64_t)0x00007fff00000000)

/* Not inlined: the tests find the report's rip inside it, on any core. */
static __attribute__((noinline)) void fault_write(void *arg)
{
    (void)arg;
    if (app_config.fault == FAULT_PANIC)
        panic("app=fault fault=panic: a check failed on purpose");
    *(volatile uint32_t *)(uintptr_t)UNMAPPED_ADDRESS = 0xdead;
}

/* On the last core the app may use (cores=): the report names the core. */
int fault_main(const struct app_args *args)
{
    int core = args->cores - 1;
    if (app_config.fault == FAULT_PANIC)
        kprintf("fault: a failed check on core %d (apic id %u)\n", core, smp_apic_id(core));
    else
        kprintf("fault: writing to 0x%lx, which is not mapped, on core %d (apic id %u)\n",
                UNMAPPED_ADDRESS, core, smp_apic_id(core));
    enum smp_call_result r = smp_call(core, fault_write, NULL, CORE_ANSWER_NS);
    if (r == SMP_CALL_NOT_STARTED)
        return 1; /* smp_run said why */
    if (r == SMP_CALL_LATE) {
        kprintf("fault: core %d did not come back (its report is above)\n", core);
        return 1;
    }
    kprintf("fault: the %s did not fault\n",
            app_config.fault == FAULT_PANIC ? "failed check" : "write");
    return 1;
}
