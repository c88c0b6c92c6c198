/*
 * kernel/trap.c - reporting exceptions and panics, then ending the box.
 *
 * Nothing here tries to recover the job: ixmetal runs one, and a fault in it
 * is a bug to be read off the console. The report carries everything needed
 * to find it with build/ixmetal.asm: vector, error code, RIP, CR2, registers.
 * Then the other cores are stopped (a forwarding core left running would
 * keep moving frames with half the box dead) and the box ends as on_fault=
 * says: powered off with a failed status, halted, or reset so that an
 * unattended box comes back.
 */
#include "kernel/trap.h"

#include "kernel/acpi.h"
#include "kernel/cpu.h"
#include "kernel/io.h"
#include "kernel/kprintf.h"
#include "kernel/lapic.h"
#include "kernel/power.h"
#include "kernel/smp.h"

/* Intel SDM vol. 3A §7.3, Table 7-1. */
static const char *const exception_names[32] = {
    "#DE divide error",
    "#DB debug",
    "NMI",
    "#BP breakpoint",
    "#OF overflow",
    "#BR bound range",
    "#UD invalid opcode",
    "#NM device not available",
    "#DF double fault",
    "coprocessor segment overrun",
    "#TS invalid TSS",
    "#NP segment not present",
    "#SS stack fault",
    "#GP general protection",
    "#PF page fault",
    "reserved",
    "#MF x87 error",
    "#AC alignment check",
    "#MC machine check",
    "#XM SIMD exception",
    "#VE virtualization exception",
    "#CP control protection",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "reserved",
    "#HV hypervisor injection",
    "#VC VMM communication",
    "#SX security exception",
    "reserved",
};

static int fault_how = POWER_END_OFF;
static uint32_t fault_owner; /* APIC id + 1 of the first core to fault; 0: none yet */

void trap_on_fault(int how)
{
    fault_how = how;
}

/* After the report: one core (the first to fault) stops the others and ends
 * the box; a core that faults after it, or inside that ending, only halts. */
static __attribute__((noreturn)) void fault_end(void)
{
    uint32_t me = cpu_apic_id() + 1, none = 0;
    if (!__atomic_compare_exchange_n(&fault_owner, &none, me, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        if (none == me && fault_how == POWER_END_REBOOT)
            cpu_triple_fault(); /* faulted while resetting: the last way there is */
        kprintf("halted: cpu %u faulted while cpu %u's fault was ending the box\n", me - 1,
                none - 1);
        cpu_halt_forever();
    }
    smp_stop_others();
    if (fault_how == POWER_END_REBOOT) {
        kprintf("fault: resetting (on_fault=reboot)\n");
        power_reset(&acpi);
    }
    if (fault_how == POWER_END_OFF) {
        kprintf("fault: powering off (on_fault=off); look up rip in build/ixmetal.asm\n");
        power_off(&acpi, EXIT_FAULT);
    }
    kprintf("halted: look up rip in build/ixmetal.asm\n");
    cpu_halt_forever();
}

void trap(struct trap_frame *f)
{
    uint64_t cr2 = read_cr2();              /* before anything else can fault and change it */
    if (f->vector == 2 && smp_stopping()) { /* a core faulted and stops the others */
        if (__atomic_load_n(&fault_owner, __ATOMIC_ACQUIRE) == cpu_apic_id() + 1)
            return; /* an NMI from outside: the core ending the box goes on */
        smp_stop_here();
    }
    if (f->vector == LAPIC_TIMER_VECTOR || f->vector == LAPIC_WAKE_VECTOR) {
        lapic_eoi();
        return;
    }
    if (f->vector == LAPIC_SPURIOUS_VECTOR) /* SDM 3A §12.9: no EOI */
        return;
    /* A masked 8259 can still raise a spurious IRQ 7 (or 15, which the
     * master saw as a real IRQ 2 and wants acknowledged): ignore it. */
    if (f->vector == CPU_PIC_VECTOR + 7)
        return;
    if (f->vector == CPU_PIC_VECTOR + 15) {
        outb(0x20, 0x20); /* OCW2 non-specific EOI to the master */
        return;
    }
    const char *name = f->vector < 32 ? exception_names[f->vector] : "unexpected interrupt";
    kprintf("\nexception %lu (%s) on cpu %u, error 0x%lx\n", f->vector, name, cpu_apic_id(),
            f->error);
    kprintf("  rip 0x%016lx  cr2 0x%016lx  rflags 0x%016lx\n", f->rip, cr2, f->rflags);
    kprintf("  rsp 0x%016lx  cs 0x%lx ss 0x%lx  cr3 0x%lx\n", f->rsp, f->cs, f->ss, read_cr3());
    kprintf("  rax 0x%016lx  rbx 0x%016lx  rcx 0x%016lx  rdx 0x%016lx\n", f->rax, f->rbx, f->rcx,
            f->rdx);
    kprintf("  rsi 0x%016lx  rdi 0x%016lx  rbp 0x%016lx  r8  0x%016lx\n", f->rsi, f->rdi, f->rbp,
            f->r8);
    kprintf("  r9  0x%016lx  r10 0x%016lx  r11 0x%016lx  r12 0x%016lx\n", f->r9, f->r10, f->r11,
            f->r12);
    kprintf("  r13 0x%016lx  r14 0x%016lx  r15 0x%016lx\n", f->r13, f->r14, f->r15);
    fault_end();
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    kvsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    kprintf("\npanic at %s:%d on cpu %u: %s\n", file, line, cpu_apic_id(), msg);
    fault_end();
}
