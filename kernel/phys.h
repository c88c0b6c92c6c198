/*
 * kernel/phys.h - reading firmware and boot-loader structures by physical
 * address (Multiboot information, ACPI tables).
 *
 * Memory is identity-mapped (kernel/paging.c), so in the kernel a physical
 * address is the pointer. In the host test build (IXM_HOST) the test supplies
 * phys_ptr() over a fake physical memory, and fails loudly on any read the
 * parser makes outside it.
 */
#ifndef KERNEL_PHYS_H
#define KERNEL_PHYS_H

#include <stdint.h>

#ifdef IXM_HOST
const void *phys_ptr(uint64_t pa, uint64_t len);
#else
static inline const void *phys_ptr(uint64_t pa, uint64_t len)
{
    (void)len;
    /* Hide the constant from GCC, which takes a small literal address (the
     * BIOS data area at 0x40E) for a null pointer and warns. */
    __asm__("" : "+r"(pa));
    return (const void *)(uintptr_t)pa;
}
#endif

/* Unaligned little-endian loads: firmware structures are often unaligned. */
static inline uint16_t get16(const void *p)
{
    const uint8_t *b = p;
    return (uint16_t)(b[0] | b[1] << 8);
}

static inline uint32_t get32(const void *p)
{
    const uint8_t *b = p;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static inline uint64_t get64(const void *p)
{
    return get32(p) | (uint64_t)get32((const uint8_t *)p + 4) << 32;
}

#endif
