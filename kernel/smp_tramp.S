/*
 * kernel/smp_tramp.S - where an application core starts: 16-bit real mode
 * at the page a Startup IPI names (Intel SDM vol. 3A §9.4.4, "MP
 * Initialization Example"), to 32-bit protected mode, to 64-bit long mode,
 * then into the kernel at ap_entry64.
 *
 * kernel/smp.c copies smp_tramp_start..smp_tramp_end to a free page below
 * 1 MiB and fills in two fields there: tramp_gdtr's base and tramp_far32's
 * offset, both linear addresses inside the copy (real mode cannot know
 * where it runs but through CS). The switch to long mode uses boot/boot.S's
 * identity map of the first 4 GiB (CR3 is 32 bits wide until then); the
 * kernel's own map is loaded once in 64-bit mode.
 */
#include "boot/long_mode.h"

#define CR0_PE (1 << 0)
#define CR0_ET (1 << 4)
#define CR0_NE (1 << 5)
#define MSR_IA32_PAT 0x277 /* as kernel/cpu.h */

#define TRAMP_CODE32 0x08
#define TRAMP_DATA32 0x10
#define TRAMP_CODE64 0x18

    .section .rodata
    .balign 16
    .global smp_tramp_start, smp_tramp_end, smp_tramp_gdt, smp_tramp_gdtr, smp_tramp_far32
    .global smp_tramp_code32
    .code16
smp_tramp_start:
    cli
    cld
    mov %cs, %ax
    mov %ax, %ds
    lgdtl smp_tramp_gdtr - smp_tramp_start
    /* CR0 written whole: INIT leaves CD and NW as they were (SDM vol. 3A
     * Table 9-1), and a core the firmware never ran may have caches off */
    mov $(CR0_PE | CR0_ET | CR0_NE), %eax
    mov %eax, %cr0
    ljmpl *(smp_tramp_far32 - smp_tramp_start)

    .code32
smp_tramp_code32:
    mov $TRAMP_DATA32, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    ENTER_LONG_MODE boot_pml4
    ljmp $TRAMP_CODE64, $ap_entry64

    .balign 8
smp_tramp_gdt:
    .quad 0
    .quad 0x00CF9A000000FFFF /* 0x08: 32-bit code, 4 GiB */
    .quad 0x00CF92000000FFFF /* 0x10: 32-bit data, 4 GiB */
    .quad 0x00209A0000000000 /* 0x18: 64-bit code (L=1) */
smp_tramp_gdtr:
    .short smp_tramp_gdtr - smp_tramp_gdt - 1
    .long 0                  /* base: filled in by smp.c */
smp_tramp_far32:
    .long 0                  /* offset of smp_tramp_code32 in the copy: smp.c */
    .short TRAMP_CODE32
smp_tramp_end:

    /* In the kernel, in 64-bit mode on the trampoline's GDT: the boot core's
     * PAT, the kernel's map, this core's stack, then C (kernel/smp.c), never
     * to return. The PAT comes first: the kernel's map selects entry 1
     * (write-combining, the framebuffer) which this core still has as
     * write-through; the boot map selects entry 0 only (kernel/cpu.h). */
    .text
    .code64
    .global ap_entry64
ap_entry64:
    mov cpu_pat(%rip), %rax
    test %rax, %rax            /* 0: no PAT (CPUID), and nothing maps entry 1 */
    jz 2f
    mov %rax, %rdx
    shr $32, %rdx
    mov $MSR_IA32_PAT, %ecx
    wrmsr
2:  mov smp_ap_cr3(%rip), %rax
    mov %rax, %cr3
    mov smp_ap_stack(%rip), %rsp
    xor %ebp, %ebp
    call ap_main
1:  cli
    hlt
    jmp 1b

    .section .note.GNU-stack, "", @progbits
