/*
 * kernel/mem.c - the kernel's one physical allocator (kernel/palloc.c),
 * filled from the boot memory map.
 */
#include "kernel/mem.h"

#include "kernel/acpi.h"
#include "kernel/iommu.h"
#include "kernel/kprintf.h"
#include "kernel/paging.h"
#include "kernel/palloc.h"
#include "kernel/string.h"

#define LOW_MEM_END 0x100000ull
#define BOOT_MAP_END 0x100000000ull /* boot/boot.S maps 0..4 GiB */

extern char __image_start[], __image_end[]; /* linker.ld */

static struct palloc phys;
static int node = -1;             /* mem_node_begin's, or -1: any memory */
static uint64_t span_lo, span_hi; /* what dma_alloc handed out since then */

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

void mem_node_begin(int n)
{
    node = n;
    span_lo = UINT64_MAX;
    span_hi = 0;
}

void mem_node_end(uint64_t *lo, uint64_t *hi)
{
    *lo = span_hi ? span_lo : 0;
    *hi = span_hi;
    node = -1;
}

/* From node's SRAT ranges, the highest range first, as palloc goes
 * top-down everywhere else. */
static uint64_t node_alloc(uint64_t size, uint64_t align)
{
    if (!acpi.nnodes) /* one node: all memory */
        return palloc_alloc(&phys, size, align, UINT64_MAX);
    uint64_t below = UINT64_MAX; /* ranges at or above this base were tried */
    for (;;) {
        const struct acpi_mem_range *next = NULL;
        for (int i = 0; i < acpi.nmem; i++) {
            const struct acpi_mem_range *r = &acpi.mem[i];
            if (r->node == node && r->base < below && (!next || r->base > next->base))
                next = r;
        }
        if (!next)
            return 0;
        uint64_t end = next->base + next->len < next->base ? UINT64_MAX : next->base + next->len;
        uint64_t pa = palloc_alloc_range(&phys, size, align, next->base, end);
        if (pa)
            return pa;
        below = next->base;
    }
}

int mem_node_count(void)
{
    return acpi.nnodes ? acpi.nnodes : 1;
}

uint64_t mem_node_free_bytes(int n)
{
    if (!acpi.nnodes)
        return n == 0 ? palloc_free_bytes(&phys) : 0;
    uint64_t sum = 0;
    for (int i = 0; i < acpi.nmem; i++) {
        const struct acpi_mem_range *r = &acpi.mem[i];
        if (r->node != n)
            continue;
        for (int k = 0; k < phys.n; k++) {
            uint64_t lo = phys.free[k].base > r->base ? phys.free[k].base : r->base;
            uint64_t hi = phys.free[k].end < r->base + r->len ? phys.free[k].end : r->base + r->len;
            if (hi > lo)
                sum += hi - lo;
        }
    }
    return sum;
}

/* From node's memory while mem_node_begin is on (its span widened), else
 * from anywhere; zeroed. */
static void *alloc(size_t size, size_t align)
{
    uint64_t pa = node < 0 ? palloc_alloc(&phys, size, align, UINT64_MAX) : node_alloc(size, align);
    if (!pa)
        return NULL;
    if (node >= 0) {
        span_lo = pa < span_lo ? pa : span_lo;
        span_hi = pa + size > span_hi ? pa + size : span_hi;
    }
    void *p = (void *)(uintptr_t)pa;
    memset(p, 0, size);
    return p;
}

void *dma_alloc(size_t size, size_t align)
{
    if (iommu_mapping()) { /* whole pages: a NIC shares none with anything else */
        size = (size + PAGE_SIZE - 1) & ~(size_t)(PAGE_SIZE - 1);
        align = align > PAGE_SIZE ? align : PAGE_SIZE;
    }
    void *p = alloc(size, align);
    if (p)
        iommu_map((uint64_t)(uintptr_t)p, size); /* before the driver can hand it over */
    return p;
}

void *cpu_alloc(size_t size, size_t align)
{
    return alloc(size, align);
}

/* palloc handed out whole pages whatever the size asked; they all go back
 * (palloc_add merges them with the free ranges they touch). */
static uint64_t block_bytes(size_t size)
{
    return ((uint64_t)size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

void dma_free(void *p, size_t size)
{
    if (!p)
        return;
    if (!iommu_unmap((uint64_t)(uintptr_t)p, block_bytes(size)))
        return; /* stale translations may remain (said): the pages stay taken */
    palloc_add(&phys, (uint64_t)(uintptr_t)p, block_bytes(size));
}

void cpu_free(void *p, size_t size)
{
    if (p)
        palloc_add(&phys, (uint64_t)(uintptr_t)p, block_bytes(size));
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
