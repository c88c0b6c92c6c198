/*
 * boot/multiboot.h - constants of the two boot protocols ixmetal speaks.
 *
 * Multiboot 0.6.96 (GNU, "Multiboot Specification version 0.6.96") and
 * Multiboot2 (GNU, "Multiboot2 Specification version 2.0"). Shared by the
 * assembly entry (boot/boot.S) and the C parser (kernel/bootinfo.c), so only
 * plain #defines live here.
 */
#ifndef BOOT_MULTIBOOT_H
#define BOOT_MULTIBOOT_H

/* Multiboot 0.6.96 §3.1.1: the header, in the first 8192 bytes, 4-aligned. */
#define MB1_HEADER_MAGIC 0x1BADB002
#define MB1_FLAG_PAGE_ALIGN (1 << 0)   /* modules page-aligned */
#define MB1_FLAG_MEMINFO (1 << 1)      /* we want mem_* and mmap_* */
#define MB1_FLAG_AOUT_KLUDGE (1 << 16) /* address fields valid: QEMU needs them for ELF64 */
#define MB1_BOOT_MAGIC 0x2BADB002      /* in EAX at entry, §3.2 */

/* Multiboot 0.6.96 §3.3: boot information flags we read. */
#define MB1_INFO_MEM (1 << 0)
#define MB1_INFO_CMDLINE (1 << 2)
#define MB1_INFO_MMAP (1 << 6)
#define MB1_INFO_LOADER_NAME (1 << 9)
#define MB1_INFO_FRAMEBUFFER (1 << 12)

/* Multiboot2 §3.1.1: the header, in the first 32768 bytes, 8-aligned. */
#define MB2_HEADER_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0           /* 32-bit protected mode entry */
#define MB2_BOOT_MAGIC 0x36D76289 /* in EAX at entry, §3.3 */

/* Multiboot2 §3.1.3: header tags. */
#define MB2_HTAG_END 0
#define MB2_HTAG_OPTIONAL 1    /* flags bit 0: loader may ignore the tag */
#define MB2_HTAG_FRAMEBUFFER 5 /* §3.1.10: width, height, depth wanted */

/* Multiboot2 §3.6: boot information tags we read. */
#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_LOADER_NAME 2
#define MB2_TAG_MMAP 6
#define MB2_TAG_FRAMEBUFFER 8
#define MB2_TAG_EFI32 11
#define MB2_TAG_EFI64 12
#define MB2_TAG_ACPI_OLD 14
#define MB2_TAG_ACPI_NEW 15
#define MB2_TAG_EFI_MMAP 17
#define MB2_TAG_EFI_BS 18
#define MB2_TAG_EFI32_IH 19
#define MB2_TAG_EFI64_IH 20

#endif
