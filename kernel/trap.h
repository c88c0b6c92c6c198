/*
 * kernel/trap.h - what kernel/isr.S leaves on the stack for trap(), and
 * what a fault does once reported.
 */
#ifndef KERNEL_TRAP_H
#define KERNEL_TRAP_H

#include <stdint.h>

struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU, SDM 3A §7.14.2 */
};
_Static_assert(sizeof(struct trap_frame) == 22 * 8, "must match kernel/isr.S");

void trap(struct trap_frame *f);

/* What a fault (an exception, or panic()) does once it is reported, the
 * other cores stopped: POWER_END_OFF (power off, status EXIT_FAULT),
 * POWER_END_HALT (halt, the report left on the screen) or POWER_END_REBOOT
 * (reset the machine). kmain() sets it from on_fault=; until then, off. */
void trap_on_fault(int how);

#endif
