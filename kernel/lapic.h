/*
 * kernel/lapic.h - this core's local APIC: its timer, used to sleep a
 * polling loop that finds nothing to do (Intel SDM vol. 3A chapter 12).
 */
#ifndef KERNEL_LAPIC_H
#define KERNEL_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "kernel/acpi.h"

#define LAPIC_TIMER_VECTOR 0x40
#define LAPIC_WAKE_VECTOR 0x41 /* an IPI that wakes a halted core (kernel/smp.c) */
#define LAPIC_SPURIOUS_VECTOR 0xFF

/* The highest APIC id xAPIC mode can address (0xFF is its broadcast). */
#define LAPIC_XAPIC_MAX_ID 0xFE

/* Software-enables the boot core's local APIC, its timer masked until a
 * sleep, and measures the timer against the TSC (so tsc_init comes first).
 * In x2APIC mode if the firmware left it so, or if an APIC id the MADT
 * lists (ai) does not fit xAPIC's 8 bits; every other core then follows
 * (lapic_enable_ap). False if there is no usable local APIC;
 * lapic_describe() says why. */
bool lapic_init(const struct acpi_info *ai);

/* True once lapic_init has succeeded. */
bool lapic_ready(void);

/* One line for the banner: the mode and the timer's rate, or why there is
 * no local APIC to use. */
const char *lapic_describe(void);

/* Halts this core until the timer fires us microseconds from now (or any
 * other interrupt comes), with interrupts off again on return. Returns at
 * once if lapic_init failed. */
void lapic_sleep_us(uint32_t us);

/* Called by trap() for the timer and wake vectors: acknowledges them. */
void lapic_eoi(void);

/* An application core: its local APIC in the boot core's mode,
 * software-enabled, its timer set up as the boot core's (idle at count 0),
 * for lapic_sleep_us. */
void lapic_enable_ap(void);

/* Sends an IPI (icr: the ICR's low half, SDM 3A §12.6.1) to apic_id and,
 * in xAPIC mode, waits at most 1 ms for it to leave. False if it did not,
 * if there is no local APIC, or if apic_id is beyond lapic_max_id(). */
#define LAPIC_ICR_INIT 0x00004500    /* delivery mode INIT, level assert */
#define LAPIC_ICR_STARTUP 0x00004600 /* delivery mode Start-Up; | the page number */
#define LAPIC_ICR_FIXED 0x00004000   /* delivery mode fixed; | the vector */
#define LAPIC_ICR_NMI 0x00004400     /* delivery mode NMI (the vector is ignored) */
bool lapic_ipi(uint32_t apic_id, uint32_t icr);

/* The highest APIC id an IPI can name in the mode in use. */
uint32_t lapic_max_id(void);

#endif
