/*
 * kernel/paging.c - building the identity map (Intel SDM vol. 3A §5.5,
 * "4-Level Paging", Tables 5-15 to 5-18 for the entry formats).
 *
 * Memory types: with the PAT at its power-on value (SDM 3A §13.12.4,
 * Table 13-11), PWT=0 PCD=0 selects WB and PWT=1 PCD=1 selects UC. The MTRRs
 * the firmware set still apply; where they say UC (the PCI hole, usually) the
 * combination is UC whatever the page says (SDM 3A §13.5.2.2).
 *
 * A 2 MiB page that holds both RAM and something else is mapped WB: RAM
 * regions are not 2 MiB aligned on every machine, and the firmware's MTRRs
 * cover legacy holes such as 0xA0000.
 */
#include "kernel/paging.h"

#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/mem.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_PS (1ull << 7) /* in a PDPTE: 1 GiB page; in a PDE: 2 MiB page */
#define PTE_ADDR 0x000FFFFFFFFFF000ull

#define SZ_2M (1ull << 21)
#define SZ_1G (1ull << 30)
#define SZ_4G (1ull << 32)

static uint64_t *pml4;
static int have_1g;
static unsigned phys_bits = 36;

static uint64_t flags_for(enum cache c)
{
    return PTE_P | PTE_RW | PTE_PS | (c == CACHE_UC ? PTE_PWT | PTE_PCD : 0);
}

static uint64_t *table_at(uint64_t entry)
{
    return (uint64_t *)(uintptr_t)(entry & PTE_ADDR);
}

/* The PDPT entry covering pa, creating the PDPT if needed. */
static uint64_t *pdpte_for(uint64_t pa)
{
    uint64_t *e = &pml4[(pa >> 39) & 511];
    if (!(*e & PTE_P))
        *e = mem_alloc_low_page() | PTE_P | PTE_RW;
    return &table_at(*e)[(pa >> 30) & 511];
}

/* The PD entry covering pa; splits a 1 GiB page into 512 2 MiB ones. */
static uint64_t *pde_for(uint64_t pa)
{
    uint64_t *pdpte = pdpte_for(pa);
    if ((*pdpte & PTE_P) && (*pdpte & PTE_PS)) {
        uint64_t big = *pdpte, pd = mem_alloc_low_page();
        uint64_t *t = table_at(pd);
        for (int i = 0; i < 512; i++)
            t[i] = ((big & PTE_ADDR) + (uint64_t)i * SZ_2M) | (big & ~PTE_ADDR);
        *pdpte = pd | PTE_P | PTE_RW;
    } else if (!(*pdpte & PTE_P)) {
        *pdpte = mem_alloc_low_page() | PTE_P | PTE_RW;
    }
    return &table_at(*pdpte)[(pa >> 21) & 511];
}

/* Maps [base, end) (2 MiB aligned) with one cache type, 1 GiB at a time
 * where alignment and CPUID allow. */
static void map_run(uint64_t base, uint64_t end, enum cache c)
{
    while (base < end) {
        uint64_t *pdpte = pdpte_for(base);
        if (have_1g && !(base & (SZ_1G - 1)) && end - base >= SZ_1G && !(*pdpte & PTE_P)) {
            *pdpte = base | flags_for(c);
            base += SZ_1G;
        } else {
            *pde_for(base) = base | flags_for(c);
            base += SZ_2M;
        }
    }
}

/* What a 2 MiB chunk of the initial map should be: -1 means leave unmapped. */
static int chunk_cache(const struct boot_info *bi, uint64_t at)
{
    if (memmap_is_ram(bi->map, bi->nmap, at, SZ_2M))
        return CACHE_WB;
    return at < SZ_4G ? CACHE_UC : -1;
}

/* The next 2 MiB boundary after at where chunk_cache() can change: a region
 * edge (its base rounded down, its end rounded up), 4 GiB, or top. */
static uint64_t next_edge(const struct boot_info *bi, uint64_t at, uint64_t top)
{
    uint64_t next = at < SZ_4G && SZ_4G < top ? SZ_4G : top;
    for (int i = 0; i < bi->nmap; i++) {
        uint64_t lo = bi->map[i].base & ~(SZ_2M - 1);
        uint64_t hi = (bi->map[i].base + bi->map[i].len + SZ_2M - 1) & ~(SZ_2M - 1);
        if (lo > at && lo < next)
            next = lo;
        if (hi > at && hi < next)
            next = hi;
    }
    return next;
}

void paging_init(const struct boot_info *bi)
{
    struct cpuid ext = cpuid(0x80000000, 0);
    if (ext.eax >= 0x80000001)
        have_1g = (cpuid(0x80000001, 0).edx >> 26) & 1;
    if (ext.eax >= 0x80000008)
        phys_bits = cpuid(0x80000008, 0).eax & 0xFF;

    uint64_t top = SZ_4G;
    for (int i = 0; i < bi->nmap; i++) {
        uint64_t end = bi->map[i].base + bi->map[i].len;
        if (memmap_is_ram(&bi->map[i], 1, bi->map[i].base, bi->map[i].len) && end > top)
            top = end;
    }
    top = (top + SZ_2M - 1) & ~(SZ_2M - 1);

    pml4 = table_at(mem_alloc_low_page());
    /* Walk from edge to edge; map each run of one cache type in one go, so
     * a whole GiB of one type becomes one 1 GiB page. */
    uint64_t run = 0;
    int run_cache = chunk_cache(bi, 0);
    for (uint64_t at = 0; at < top;) {
        uint64_t next = next_edge(bi, at, top);
        int c = next < top ? chunk_cache(bi, next) : -2;
        if (c != run_cache) {
            if (run_cache >= 0)
                map_run(run, next, (enum cache)run_cache);
            run = next;
            run_cache = c;
        }
        at = next;
    }
    write_cr3((uint64_t)(uintptr_t)pml4);
}

int paging_map(uint64_t pa, uint64_t len, enum cache c)
{
    if (len == 0)
        return 0;
    uint64_t end = pa + len;
    if (end < pa || (phys_bits < 64 && end > (1ull << phys_bits)))
        return -1;
    for (uint64_t at = pa & ~(SZ_2M - 1); at < end; at += SZ_2M) {
        uint64_t *pdpte = pdpte_for(at);
        if ((*pdpte & PTE_P) && (*pdpte & PTE_PS)) {
            int is_uc = (*pdpte & PTE_PCD) != 0;
            if (c == CACHE_WB || is_uc)
                continue; /* already mapped well enough */
        }
        uint64_t *pde = pde_for(at);
        if ((*pde & PTE_P) && (c == CACHE_WB || (*pde & PTE_PCD)))
            continue;
        *pde = at | flags_for(c);
        invlpg(at); /* drop any stale translation of this 2 MiB page */
    }
    return 0;
}

void paging_count(uint64_t *pages_1g, uint64_t *pages_2m)
{
    *pages_1g = *pages_2m = 0;
    for (int i = 0; i < 512; i++) {
        if (!(pml4[i] & PTE_P))
            continue;
        const uint64_t *pdpt = table_at(pml4[i]);
        for (int j = 0; j < 512; j++) {
            if (!(pdpt[j] & PTE_P))
                continue;
            if (pdpt[j] & PTE_PS) {
                (*pages_1g)++;
                continue;
            }
            const uint64_t *pd = table_at(pdpt[j]);
            for (int k = 0; k < 512; k++)
                *pages_2m += (pd[k] & PTE_P) != 0;
        }
    }
}
