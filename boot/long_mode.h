/*
 * boot/long_mode.h - the switch from 32-bit protected mode, paging off, to
 * 64-bit long mode (Intel SDM vol. 3A §10.8.5 "Initializing IA-32e Mode"),
 * for the two places a core makes it: the boot core in boot/boot.S and each
 * application core in kernel/smp_tramp.S. Assembler only.
 */
#ifndef BOOT_LONG_MODE_H
#define BOOT_LONG_MODE_H

#define CR0_MP (1 << 1)
#define CR0_EM (1 << 2)
#define CR0_TS (1 << 3)
#define CR0_WP (1 << 16) /* SDM vol. 3A §2.5: read-only pages hold against ring 0 too */
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)

#ifdef __ASSEMBLER__
/* SDM vol. 3A §10.8.5, steps 2-5: PAE on, CR3 the PML4 at pml4 (below
 * 4 GiB: CR3 is 32 bits wide here), EFER.LME, then paging on. Clobbers
 * EAX, ECX and EDX. The core is then in compatibility mode; the caller's
 * far jump to a 64-bit code segment (L=1) of its GDT enters 64-bit mode.
 * On the way SSE is turned on as SDM vol. 3A says ("Initialization of the
 * SSE Extensions", in its chapter on instruction set extensions): CR4.OSFXSR
 * and OSXMMEXCPT set, CR0.EM (and TS, which would make the first SSE
 * instruction fault) clear, CR0.MP set. Every 64-bit CPU has SSE
 * and SSE2; their one user, driver/rewrite.h's PSHUFB, also needs SSSE3 and
 * asks CPUID first. */
.macro ENTER_LONG_MODE pml4
    mov %cr4, %eax
    or $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
    mov %eax, %cr4
    mov $\pml4, %eax
    mov %eax, %cr3
    mov $MSR_EFER, %ecx
    rdmsr
    or $EFER_LME, %eax
    wrmsr
    mov %cr0, %eax
    and $~(CR0_EM | CR0_TS), %eax
    or $(CR0_PG | CR0_WP | CR0_MP), %eax
    mov %eax, %cr0
.endm
#endif

#endif
