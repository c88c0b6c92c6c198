/*
 * kernel/tsc.h - time from the time-stamp counter.
 *
 * The TSC's rate is found once at boot; after that, reading the time is one
 * RDTSC and a multiply, cheap enough for a poll loop.
 */
#ifndef KERNEL_TSC_H
#define KERNEL_TSC_H

#include <stdint.h>

#include "kernel/acpi.h"

/* Finds the TSC's rate: CPUID, else the PIT, else the HPET ACPI lists. */
void tsc_init(const struct acpi_info *ai);
uint64_t tsc_hz(void);
const char *tsc_source(void); /* "cpuid 15h", "cpuid 16h", "pit", "hpet" or "guess" */

/* Nanoseconds since the kernel's first instruction. */
uint64_t now_ns(void);
/* Nanoseconds in a number of TSC ticks. */
uint64_t tsc_ticks_to_ns(uint64_t ticks);

/* TSC ticks in us microseconds: for deadlines in hot loops. */
uint64_t tsc_ticks_us(uint64_t us);
void delay_us(uint64_t us);

#endif
