/*
 * tests/fuzz/fuzz_bootinfo.h - the Multiboot targets' one step: the input
 * laid out in fake physical memory at INFO_PA, kernel/bootinfo.c run on it,
 * and what it filled in checked.
 */
#ifndef TESTS_FUZZ_FUZZ_BOOTINFO_H
#define TESTS_FUZZ_FUZZ_BOOTINFO_H

#include "kernel/bootinfo.h"
#include "tests/fuzz/fuzz.h"

/* Where the information structure sits; its pointers may point anywhere
 * (outside fake memory reads zeros, tests/unit/host.h fake_phys_wild). */
#define INFO_PA 0x10000u
#define INFO_MAX (FAKE_PHYS_SIZE - INFO_PA)

static struct boot_info bi;

static inline void fuzz_bootinfo(uint32_t magic, const uint8_t *data, size_t size)
{
    fake_phys_wild = 1;
    console_log_clear();
    if (size > INFO_MAX)
        size = INFO_MAX;
    memcpy(fake_phys + INFO_PA, data, size);
    FUZZ_CHECK(bootinfo_parse(magic, INFO_PA, &bi) == 0);
    memset(fake_phys + INFO_PA, 0, size); /* the next input starts from zeros */

    FUZZ_CHECK(fuzz_terminated(bi.cmdline, sizeof(bi.cmdline)));
    FUZZ_CHECK(fuzz_terminated(bi.loader, sizeof(bi.loader)));
    FUZZ_CHECK(bi.nmap >= 0 && bi.nmap <= MEMMAP_MAX);
    FUZZ_CHECK(bi.rsdp_len == 0 || (bi.rsdp_len >= 20 && bi.rsdp_len <= 36));
    FUZZ_CHECK(bi.screen.type <= SCREEN_NONE);
    for (int i = 1; i < bi.nmap; i++) /* memmap_normalize: sorted, no overlaps */
        FUZZ_CHECK(bi.map[i - 1].base + bi.map[i - 1].len <= bi.map[i].base);
}

#endif
