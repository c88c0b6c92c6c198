/*
 * kernel/isr.S - one entry stub for each of the 256 vectors, and the common
 * path into trap() (kernel/trap.c).
 *
 * Intel SDM vol. 3A §7.14.2: in 64-bit mode the CPU pushes SS, RSP, RFLAGS,
 * CS, RIP and, for some exceptions, an error code (§7.3, Table 7-1: vectors
 * 8, 10-14, 17, 21, 29 and 30). Stubs for the others push a 0 in its place so
 * every frame has one shape (struct trap_frame in kernel/trap.h). Each stub
 * sits at isr_stubs + 16 * vector.
 */
    .text
    .balign 16
    .global isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

isr_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    mov %rsp, %rdi          /* trap(struct trap_frame *): the stack is 16-aligned here */
    call trap
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    add $16, %rsp           /* vector and error code */
    iretq

    .section .note.GNU-stack, "", @progbits
