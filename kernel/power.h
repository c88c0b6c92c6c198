/*
 * kernel/power.h - switching the machine off, or halting it, when the job is done.
 */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

#include "kernel/acpi.h"

/* Exit statuses. Under QEMU with isa-debug-exit, QEMU exits with
 * (status << 1) | 1: 1 for success, 3 for an app failure, 5 for a bad
 * command line. */
enum { EXIT_OK = 0, EXIT_APP_FAILED = 1, EXIT_BAD_CMDLINE = 2 };

/*
 * In order: QEMU's isa-debug-exit port (only when CPUID says we run in a
 * virtual machine), ACPI S5 through the FADT's PM1 control registers, and
 * if both fail, a message and halt.
 */
__attribute__((noreturn)) void power_off(const struct acpi_info *ai, int status);

/* How the kernel ends once the app is done (end=): the index of
 * power_end_choice()'s name. */
enum { POWER_END_OFF = 0, POWER_END_HALT = 1 };
const char *power_end_choice(int i);

/*
 * POWER_END_OFF: power_off(). POWER_END_HALT: one line, then this core halts
 * with interrupts off, even under QEMU with isa-debug-exit, so what is on
 * the screen stays there. The application cores are already halted: they
 * sleep in kernel/smp.c's idle loop, which only smp_run's IPI wakes.
 */
__attribute__((noreturn)) void power_end(const struct acpi_info *ai, int how, int status);

#endif
