/*
 * kernel/smp.h - the application cores: starting them (INIT-SIPI-SIPI,
 * Intel SDM vol. 3A §9.4) and handing each one work.
 *
 * Core 0 is the boot core. Cores 1..smp_cores()-1 run in long mode on the
 * kernel's identity map, each on its own stack and its own GDT, TSS and IDT
 * (kernel/cpu.c); an exception on any of them says which core it was on.
 * An idle core halts until smp_run wakes it with an IPI, so idle cores cost
 * a virtual machine's host nothing.
 */
#ifndef KERNEL_SMP_H
#define KERNEL_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/acpi.h"
#include "kernel/bootinfo.h"

/* The most cores the kernel starts: every one the MADT can list to it.
 * Per-core memory is allocated for the cores found, not for this many. */
#define SMP_MAX_CPUS ACPI_MAX_CPUS

/* Starts the application cores the MADT lists, until want cores run in all
 * (0: every one). A core that does not answer within a bounded time is
 * said by its APIC id and left out. Returns how many cores run. */
int smp_init(const struct boot_info *bi, const struct acpi_info *ai, int want);

int smp_cores(void);
uint32_t smp_apic_id(int core);
/* The cores the MADT listed that did not answer. */
int smp_missing(void);

/* Runs fn(arg) on core (1..smp_cores()-1), which must be idle; returns at
 * once. False, said, if the IPI that wakes the core did not leave: then
 * nothing runs there. smp_done says whether fn has returned. */
bool smp_run(int core, void (*fn)(void *), void *arg);
bool smp_done(int core);

/* From the boot core: runs fn(arg) on core and waits at most ns for it to
 * return; on core 0 (the boot core itself) a plain call. DONE once fn has
 * returned; NOT_STARTED if the core could not be woken (smp_run said so);
 * LATE if fn had not returned within ns (the caller says so). */
enum smp_call_result { SMP_CALL_DONE, SMP_CALL_NOT_STARTED, SMP_CALL_LATE };
enum smp_call_result smp_call(int core, void (*fn)(void *), void *arg, uint64_t ns);

/* After a fault (kernel/trap.c): sends every other running core an NMI,
 * which stops it for good (smp_stop_here), waits at most SMP_STOP_MS for
 * them to say so, and prints which cores stopped and which did not. */
#define SMP_STOP_MS 100
void smp_stop_others(void);

/* For trap() on an NMI: true once smp_stop_others has begun (else the NMI
 * is a fault of its own); smp_stop_here then says this core stopped and
 * halts it. */
bool smp_stopping(void);
__attribute__((noreturn)) void smp_stop_here(void);

#endif
