/*
 * boot/boot.S - the two boot headers and the 32-bit entry into long mode.
 *
 * Multiboot 0.6.96 and Multiboot2 loaders (GRUB, QEMU -kernel) both enter here
 * in 32-bit protected mode, paging off, with the magic in EAX and the boot
 * information's physical address in EBX (Multiboot 0.6.96 §3.2, Multiboot2 §3.3).
 * We switch to 64-bit long mode (Intel SDM vol. 3A §10.8.5 "Initializing IA-32e
 * Mode") on an identity map of the first 4 GiB in 2 MiB pages, which covers the
 * kernel, the boot information and the legacy devices; kernel/paging.c later
 * replaces it with a map of all RAM and every device BAR.
 */
#include "long_mode.h"
#include "multiboot.h"

#define MB1_FLAGS (MB1_FLAG_PAGE_ALIGN | MB1_FLAG_MEMINFO | MB1_FLAG_AOUT_KLUDGE)

#define PTE_P 0x1
#define PTE_RW 0x2
#define PTE_PS 0x80 /* in a page directory: this entry maps a 2 MiB page */

#define BOOT_STACK_SIZE 16384

    .section .multiboot, "a"

    /* Multiboot 0.6.96 §3.1: with flag 16 the loader copies the file from
     * load_addr to load_end_addr, zeroes up to bss_end_addr and jumps to
     * entry_addr without parsing the ELF; QEMU -kernel needs this for ELF64. */
    .balign 8
mb1_header:
    .long MB1_HEADER_MAGIC
    .long MB1_FLAGS
    .long 0x100000000 - (MB1_HEADER_MAGIC + MB1_FLAGS)
    .long mb1_header        /* header_addr */
    .long __image_start     /* load_addr */
    .long __data_end        /* load_end_addr */
    .long __image_end       /* bss_end_addr */
    .long _start32          /* entry_addr */

    /* Multiboot2 §3.1: magic, architecture, length, checksum, then tags. */
    .balign 8
mb2_header:
    .long MB2_HEADER_MAGIC
    .long MB2_ARCH_I386
    .long mb2_header_end - mb2_header
    .long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
    /* §3.1.10: a linear framebuffer, please, 1024x768 at 32 bits per pixel:
     * GRUB sets that mode (or its nearest) when grub.cfg loaded a video
     * driver and left gfxpayload unset, as tools/boot-menu.sh does on UEFI.
     * Optional: EGA text (GRUB on BIOS, gfxpayload=text) is fine too. */
    .balign 8
    .short MB2_HTAG_FRAMEBUFFER, MB2_HTAG_OPTIONAL
    .long 20
    .long 1024, 768, 32
    .balign 8
    .short MB2_HTAG_END, 0
    .long 8
mb2_header_end:

    .section .text.boot, "ax"
    .code32
    .global _start32
_start32:
    cli
    cld
    mov %eax, %ebp                  /* boot magic */
    mov %ebx, %esi                  /* boot information, physical address */
    rdtsc                           /* kernel init time counts from here */
    mov %eax, boot_tsc
    mov %edx, boot_tsc + 4

    /* Both protocols zero the BSS (Multiboot 0.6.96 §3.1.3 bss_end_addr;
     * Multiboot2 loads ELF segments with p_memsz). The PML4 and PDPT are
     * zeroed again here because every entry this code does not set must be
     * "not present". The page directories' low dwords are written below;
     * their high dwords (address bits 32+) stay the loader's zeros. */
    mov $boot_pml4, %edi
    mov $(2 * 4096 / 4), %ecx
    xor %eax, %eax
    rep stosl
    mov $boot_stack_top, %esp

    /* Long mode present? CPUID 80000001h EDX bit 29 (SDM vol. 2A, CPUID). */
    mov $0x80000000, %eax
    cpuid
    cmp $0x80000001, %eax
    jb no_long_mode
    mov $0x80000001, %eax
    cpuid
    bt $29, %edx
    jnc no_long_mode

    /* PML4[0] -> PDPT; PDPT[0..3] -> four page directories; each PD entry
     * maps 2 MiB, so 2048 entries identity-map 0..4 GiB. */
    mov $boot_pdpt + (PTE_P | PTE_RW), %eax
    mov %eax, boot_pml4
    mov $boot_pd + (PTE_P | PTE_RW), %eax
    xor %ecx, %ecx
1:  mov %eax, boot_pdpt(, %ecx, 8)
    add $4096, %eax
    inc %ecx
    cmp $4, %ecx
    jb 1b
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $(PTE_P | PTE_RW | PTE_PS), %eax
    mov %eax, boot_pd(, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jb 2b

    ENTER_LONG_MODE boot_pml4   /* the loader left protected mode (CR0.PE) on */
    lgdt boot_gdt_ptr
    ljmp $0x08, $long_mode

no_long_mode:
    mov $no_long_mode_msg, %esi
3:  lodsb
    test %al, %al
    jz 4f
    mov $0x3F8, %dx
    outb %al, %dx
    jmp 3b
4:  hlt
    jmp 4b

    .code64
long_mode:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    mov $boot_stack_top, %rsp
    mov %ebp, %edi                  /* kmain(magic, info): zero-extended */
    mov %esi, %esi
    xor %ebp, %ebp                  /* end of the frame-pointer chain */
    call kmain
5:  cli
    hlt
    jmp 5b

    .section .rodata
no_long_mode_msg:
    .asciz "ixmetal: this CPU has no 64-bit long mode; halting\r\n"

    /* A minimal GDT for the jump to 64-bit code; kernel/cpu.c loads the
     * real one (with a TSS). SDM vol. 3A §3.4.5: code L=1, data writable. */
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00209A0000000000        /* 0x08: 64-bit code, DPL 0 */
    .quad 0x0000920000000000        /* 0x10: data */
boot_gdt_end:
boot_gdt_ptr:
    .short boot_gdt_end - boot_gdt - 1
    .quad boot_gdt

    .section .data
    .balign 8
    .global boot_tsc
boot_tsc:
    .quad 0

    .section .bss.pagetables, "aw", @nobits
    .balign 4096
    .global boot_pml4 /* kernel/smp_tramp.S: application cores switch to long mode on it */
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4 * 4096
    .global boot_stack_top
boot_stack: .skip BOOT_STACK_SIZE
boot_stack_top:

    .section .note.GNU-stack, "", @progbits
