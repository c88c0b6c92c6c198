/*
 * tests/fuzz/fuzz_mb1.c - kernel/bootinfo.c on a Multiboot 0.6.96
 * information structure (§3.3): the input is the structure and whatever
 * follows it, at physical address 0x10000; its pointers (cmdline,
 * mmap_addr, boot_loader_name) may lead anywhere, its lengths say anything.
 */
#include "boot/multiboot.h"
#include "tests/fuzz/fuzz_bootinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_bootinfo(MB1_BOOT_MAGIC, data, size);
    return 0;
}
