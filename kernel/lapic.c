/*
 * kernel/lapic.c - see lapic.h.
 *
 * Two ways in to the same registers (SDM vol. 3A §12.12): xAPIC mode, a
 * 4 KiB MMIO page at IA32_APIC_BASE, and x2APIC mode, where register offset
 * X is MSR 0x800 + (X >> 4), the ICR is one 64-bit MSR with a 32-bit
 * destination, and there is no delivery-status bit to wait on. The kernel
 * drives whichever mode the firmware left, and switches to x2APIC itself
 * when a core's APIC id does not fit xAPIC's 8 bits.
 */
#include "kernel/lapic.h"

#include "kernel/cpu.h"
#include "kernel/io.h"
#include "kernel/kprintf.h"
#include "kernel/tsc.h"

#define IA32_APIC_BASE 0x1B /* SDM vol. 3A §12.4.4 */
#define APIC_BASE_ENABLE (1u << 11)
#define APIC_BASE_EXTD (1u << 10) /* x2APIC mode: the MMIO page is gone (§12.12.1) */
#define CPUID_01_ECX_X2APIC (1u << 21)
#define X2APIC_MSR_BASE 0x800 /* §12.12.1.2, Table 12-6: MSR 0x800 + (offset >> 4) */

/* Register offsets from the APIC base, SDM vol. 3A Table 12-1. */
#define LAPIC_ID 0x020 /* §12.4.6: bits 31:24 */
#define LAPIC_EOI 0x0B0
#define LAPIC_SVR 0x0F0 /* spurious-interrupt vector, §12.9 */
#define LAPIC_SVR_ENABLE (1u << 8)
#define LAPIC_ICR_LO 0x300 /* §12.6.1: writing the low half sends the IPI */
#define LAPIC_ICR_HI 0x310 /* bits 31:24: the destination's APIC id */
#define LAPIC_ICR_PENDING (1u << 12)
#define LAPIC_LVT_TIMER 0x320 /* §12.5.1: one-shot mode is bits 18:17 = 00 */
#define LAPIC_LVT_MASKED (1u << 16)
#define LAPIC_TIMER_INIT 0x380
#define LAPIC_TIMER_CUR 0x390
#define LAPIC_TIMER_DIV 0x3E0 /* §12.5.4: 1011b divides by 1 */
#define LAPIC_DIV_1 0xB
#define IPI_SEND_NS 1000000 /* an xAPIC IPI leaves in microseconds; 1 ms is plenty */

static uint64_t base; /* 0 while there is no usable local APIC; 1 in x2APIC mode */
static bool x2;       /* x2APIC mode, on every core */
static bool x2_ours;  /* switched on here, not by the firmware */
static uint64_t ticks_per_us;
static const char *why_none = "not set up";

static uint32_t reg_read(uint32_t off)
{
    return x2 ? (uint32_t)rdmsr(X2APIC_MSR_BASE + (off >> 4)) : mmio_read32(base + off);
}

static void reg_write(uint32_t off, uint32_t v)
{
    if (x2)
        wrmsr(X2APIC_MSR_BASE + (off >> 4), v);
    else
        mmio_write32(base + off, v);
}

void lapic_eoi(void)
{
    reg_write(LAPIC_EOI, 0);
}

/* This core into x2APIC mode if the boot core is in it: from xAPIC mode,
 * enabled, EXTD is set with EN kept (§12.12.5, Figure 12-27). */
static void x2apic_here(void)
{
    uint64_t msr = rdmsr(IA32_APIC_BASE);
    if (x2 && !(msr & APIC_BASE_EXTD))
        wrmsr(IA32_APIC_BASE, msr | APIC_BASE_ENABLE | APIC_BASE_EXTD);
}

bool lapic_init(const struct acpi_info *ai)
{
    if (!(cpuid(1, 0).edx & (1u << 9))) { /* CPUID.01h:EDX.APIC */
        why_none = "none (CPUID 01h EDX.APIC is 0)";
        return false;
    }
    uint64_t msr = rdmsr(IA32_APIC_BASE);
    if (!(msr & APIC_BASE_ENABLE)) {
        why_none = "disabled in IA32_APIC_BASE";
        return false;
    }
    if (msr & APIC_BASE_EXTD) {
        x2 = true; /* the firmware left it in x2APIC mode; there is no way back but a reset */
    } else if (acpi_max_apic_id(ai) > LAPIC_XAPIC_MAX_ID) {
        if (!(cpuid(1, 0).ecx & CPUID_01_ECX_X2APIC)) {
            why_none = "xAPIC mode, and apic ids above 254 need x2APIC, which this CPU lacks";
            return false;
        }
        x2 = x2_ours = true;
        x2apic_here();
    }
    base = x2 ? 1 : msr & 0x000FFFFFFFFFF000ull; /* bits MAXPHYADDR-1:12 (§12.4.4) */
    reg_write(LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
    reg_write(LAPIC_TIMER_DIV, LAPIC_DIV_1);
    reg_write(LAPIC_LVT_TIMER, LAPIC_LVT_MASKED | LAPIC_TIMER_VECTOR);
    /* Count down from the top for 250 us of TSC time, three times; the
     * median, as one run can be stretched (a virtual CPU descheduled). */
    uint64_t t[3];
    for (int k = 0; k < 3; k++) {
        reg_write(LAPIC_TIMER_INIT, 0xFFFFFFFFu);
        delay_us(250);
        t[k] = (0xFFFFFFFFull - reg_read(LAPIC_TIMER_CUR)) / 250;
    }
    reg_write(LAPIC_TIMER_INIT, 0);
    ticks_per_us = t[0] > t[1] ? (t[1] > t[2] ? t[1] : (t[0] > t[2] ? t[2] : t[0]))
                               : (t[0] > t[2] ? t[0] : (t[1] > t[2] ? t[2] : t[1]));
    if (!ticks_per_us) {
        why_none = "its timer does not count";
        base = 0;
        return false;
    }
    reg_write(LAPIC_LVT_TIMER, LAPIC_TIMER_VECTOR);
    return true;
}

bool lapic_ready(void)
{
    return base != 0;
}

const char *lapic_describe(void)
{
    static char line[96];
    if (!base)
        return why_none;
    ksnprintf(line, sizeof(line), "%s, timer %lu MHz",
              !x2       ? "xAPIC"
              : x2_ours ? "x2APIC (switched on for apic ids above 254)"
                        : "x2APIC (as the firmware left it)",
              ticks_per_us);
    return line;
}

void lapic_sleep_us(uint32_t us)
{
    if (!base)
        return;
    uint64_t t = ticks_per_us * us;
    reg_write(LAPIC_TIMER_INIT, t > 0xFFFFFFFFu ? 0xFFFFFFFFu : (uint32_t)t);
    /* STI's one-instruction shadow means a timer already pending wakes HLT
     * rather than being taken before it (SDM vol. 2B, STI). */
    __asm__ volatile("sti; hlt; cli" ::: "memory");
}

void lapic_enable_ap(void)
{
    if (!base)
        return;
    x2apic_here();
    reg_write(LAPIC_SVR, LAPIC_SVR_ENABLE | LAPIC_SPURIOUS_VECTOR);
    reg_write(LAPIC_TIMER_DIV, LAPIC_DIV_1); /* the rate the boot core measured */
    reg_write(LAPIC_LVT_TIMER, LAPIC_TIMER_VECTOR);
}

uint32_t lapic_max_id(void)
{
    return x2 ? 0xFFFFFFFEu : LAPIC_XAPIC_MAX_ID; /* all ones is the broadcast address */
}

bool lapic_ipi(uint32_t apic_id, uint32_t icr)
{
    if (!base || apic_id > lapic_max_id())
        return false;
    if (x2) { /* §12.12.9: one write sends it; no delivery status to wait on */
        /* A WRMSR to an x2APIC register does not serialize (SDM 3A §12.12.3):
         * the IPI could overtake the stores it announces (smp_run's call,
         * smp_stop_others' flag) without these fences. */
        __asm__ volatile("mfence; lfence" ::: "memory");
        wrmsr(X2APIC_MSR_BASE + (LAPIC_ICR_LO >> 4), (uint64_t)apic_id << 32 | icr);
        return true;
    }
    mmio_write32(base + LAPIC_ICR_HI, apic_id << 24);
    mmio_write32(base + LAPIC_ICR_LO, icr);
    /* §12.6.1: delivery status goes back to idle once the IPI has left */
    uint64_t end = now_ns() + IPI_SEND_NS;
    while (mmio_read32(base + LAPIC_ICR_LO) & LAPIC_ICR_PENDING)
        if (now_ns() > end)
            return false;
    return true;
}
