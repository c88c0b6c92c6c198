/*
 * kernel/power.h - switching the machine off, or halting it, when the job is done.
 */
#ifndef KERNEL_POWER_H
#define KERNEL_POWER_H

#include "kernel/acpi.h"

/* Exit statuses. Under QEMU with isa-debug-exit, QEMU exits with
 * (status << 1) | 1: 1 for success, 3 for an app failure, 5 for a bad
 * command line, 7 for a fault (an exception or a panic, kernel/trap.c). */
enum { EXIT_OK = 0, EXIT_APP_FAILED = 1, EXIT_BAD_CMDLINE = 2, EXIT_FAULT = 3 };

/*
 * In order: QEMU's isa-debug-exit port (only when CPUID says we run in a
 * virtual machine), ACPI S5 through the FADT's PM1 control registers, and
 * if both fail, a message and halt.
 */
__attribute__((noreturn)) void power_off(const struct acpi_info *ai, int status);

/* How the kernel ends once the app is done (end=), or after a fault
 * (on_fault=): the index of power_end_choice()'s or power_fault_choice()'s
 * name. Only a fault can reboot: an app that ends on its own has nothing
 * to come back for. */
enum { POWER_END_OFF = 0, POWER_END_HALT = 1, POWER_END_REBOOT = 2 };
const char *power_end_choice(int i);
const char *power_fault_choice(int i);

/*
 * Resets the machine, so an unattended box boots again. In order: the FADT's
 * reset register (ACPI 6.5 §4.8.3.6), the chipset's Reset Control register
 * at I/O port 0xCF9 (PIIX3/ICH: a hard reset, then a CPU reset), the 8042
 * keyboard controller's pulse of the reset line (command 0xFE), and last a
 * triple fault (an empty IDT and an interrupt). Each way is said before it
 * is tried.
 */
__attribute__((noreturn)) void power_reset(const struct acpi_info *ai);

/*
 * POWER_END_OFF: power_off(). POWER_END_REBOOT: power_reset(). POWER_END_HALT: one line, then this
 * core halts with interrupts off, even under QEMU with isa-debug-exit, so what is on the screen
 * stays there. The application cores are already halted: they sleep in kernel/smp.c's idle loop,
 * which only smp_run's IPI wakes.
 */
__attribute__((noreturn)) void power_end(const struct acpi_info *ai, int how, int status);

#endif
