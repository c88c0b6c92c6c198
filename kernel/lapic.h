/*
 * kernel/lapic.h - this core's local APIC: its timer, used to sleep a
 * polling loop that finds nothing to do (Intel SDM vol. 3A chapter 12).
 */
#ifndef KERNEL_LAPIC_H
#define KERNEL_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#define LAPIC_TIMER_VECTOR 0x40
#define LAPIC_SPURIOUS_VECTOR 0xFF

/* Software-enables the boot core's local APIC, its timer masked until a
 * sleep, and measures the timer against the TSC (so tsc_init comes first).
 * False if there is no usable local APIC; lapic_describe() says why. */
bool lapic_init(void);

/* True once lapic_init has succeeded. */
bool lapic_ready(void);

/* One line for the banner: the timer's rate, or why there is none. */
const char *lapic_describe(void);

/* Halts this core until the timer fires us microseconds from now (or any
 * other interrupt comes), with interrupts off again on return. Returns at
 * once if lapic_init failed. */
void lapic_sleep_us(uint32_t us);

/* Called by trap() for the timer vector: acknowledges it. */
void lapic_eoi(void);

#endif
