/*
 * tests/fuzz/fuzz_mb2.c - kernel/bootinfo.c on a Multiboot2 information
 * structure (§3.6): the input is the structure, total_size and the tags'
 * sizes included, at physical address 0x10000.
 */
#include "boot/multiboot.h"
#include "tests/fuzz/fuzz_bootinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_bootinfo(MB2_BOOT_MAGIC, data, size);
    return 0;
}
