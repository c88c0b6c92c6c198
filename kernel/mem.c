/*
 * kernel/mem.c - the kernel's one physical allocator (kernel/palloc.c),
 * filled from the boot memory map.
 */
#include "kernel/mem.h"

#include "kernel/kprintf.h"
#include "kernel/paging.h"
#include "kernel/palloc.h"
#include "kernel/string.h"

#define LOW_MEM_END 0x100000ull
#define BOOT_MAP_END 0x100000000ull /* boot/boot.S maps 0..4 GiB */

extern char __image_start[], __image_end[]; /* linker.ld */

static struct palloc phys;

void mem_init(struct boot_info *bi)
{
    uint64_t limit = paging_phys_limit();
    uint64_t cut = memmap_clip(bi->map, &bi->nmap, limit);
    if (cut)
        kprintf("memory: %lu MiB of RAM at or above 0x%lx, beyond what this CPU can address, "
                "is not used\n",
                cut >> 20, limit);
    palloc_init(&phys);
    for (int i = 0; i < bi->nmap; i++)
        if (bi->map[i].type == MEM_AVAILABLE)
            palloc_add(&phys, bi->map[i].base, bi->map[i].len);
    palloc_reserve(&phys, 0, LOW_MEM_END);
    palloc_reserve(&phys, (uint64_t)(uintptr_t)__image_start,
                   (uint64_t)(uintptr_t)(__image_end - __image_start));
}

void *dma_alloc(size_t size, size_t align)
{
    uint64_t pa = palloc_alloc(&phys, size, align, UINT64_MAX);
    if (!pa)
        return NULL;
    void *p = (void *)(uintptr_t)pa;
    memset(p, 0, size);
    return p;
}

uint64_t mem_alloc_low_page(void)
{
    uint64_t pa = palloc_alloc(&phys, PAGE_SIZE, PAGE_SIZE, BOOT_MAP_END);
    if (!pa)
        panic("no free page below 4 GiB for page tables (%lu bytes free in all)",
              palloc_free_bytes(&phys));
    memset((void *)(uintptr_t)pa, 0, PAGE_SIZE);
    return pa;
}

uint64_t mem_free_bytes(void)
{
    return palloc_free_bytes(&phys);
}

int mem_free_ranges(void)
{
    return phys.n;
}
