/*
 * kernel/paging.c - building the identity map (Intel SDM vol. 3A §5.5,
 * "4-Level Paging", Tables 5-15 to 5-20 for the entry formats).
 *
 * Memory types come from the PAT, which cpu_init() sets to its power-on value
 * but for entry 1 (kernel/cpu.h): PWT=0 PCD=0 selects WB, PWT=1 PCD=1 UC,
 * PWT=1 PCD=0 WC. The PAT bit (bit 7 in a 4 KiB page's entry, bit 12 in a
 * 2 MiB or 1 GiB page's) stays 0, so the bits mean the same at every level
 * and split() can copy them. The firmware's MTRRs still apply on top (SDM 3A
 * §13.5.2.2), but PAT WC gives WC whatever the MTRR type (the table of
 * effective page-level memory types there).
 *
 * SDM 3A §13.11.9: a large page must not cover memory of different types.
 * So a 2 MiB chunk that holds both RAM and something else (the legacy area
 * below 1 MiB, the last chunk of RAM before a reserved area) is mapped with
 * 4 KiB pages: RAM pages WB, the rest UC.
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

#define SZ_4K (1ull << 12)
#define SZ_2M (1ull << 21)
#define SZ_1G (1ull << 30)
#define SZ_4G (1ull << 32)
#define CANONICAL_LIMIT (1ull << 47)

/* What a 2 MiB chunk of the map is (paging_init maps no WC). */
enum chunk { CHUNK_NONE = -1, CHUNK_WB = CACHE_WB, CHUNK_UC = CACHE_UC, CHUNK_MIXED = 3 };

static uint64_t *pml4;
static int have_1g;

uint64_t paging_phys_limit(void)
{
    unsigned bits = 36; /* SDM 3A §5.1.4: the width when CPUID does not say */
    if (cpuid(0x80000000, 0).eax >= 0x80000008)
        bits = cpuid(0x80000008, 0).eax & 0xFF;
    uint64_t limit = bits >= 47 ? CANONICAL_LIMIT : 1ull << bits;
    return limit;
}

static uint64_t cache_bits(enum cache c)
{
    if (c == CACHE_WC) /* PAT entry 1; only asked for once cpu_pat is set */
        return PTE_P | PTE_RW | PTE_PWT;
    return PTE_P | PTE_RW | (c == CACHE_UC ? PTE_PWT | PTE_PCD : 0);
}

/* The type a present entry maps with, as cache_bits() made it. */
static enum cache cache_of(uint64_t e)
{
    return e & PTE_PCD ? CACHE_UC : e & PTE_PWT ? CACHE_WC : CACHE_WB;
}

/* Present, and of type c or one that overrides it (WB < UC < WC). */
static int good_enough(uint64_t e, enum cache c)
{
    return (e & PTE_P) && cache_of(e) >= c;
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

/* Replaces a large page by a table of 512 smaller ones with its flags. */
static void split(uint64_t *entry, uint64_t step, uint64_t small_ps)
{
    uint64_t big = *entry, t = mem_alloc_low_page();
    uint64_t *e = table_at(t);
    for (int i = 0; i < 512; i++)
        e[i] = ((big & PTE_ADDR) + (uint64_t)i * step) | (big & ~PTE_ADDR & ~PTE_PS) | small_ps;
    *entry = t | PTE_P | PTE_RW;
}

/* The PD entry covering pa; splits a 1 GiB page into 2 MiB ones. */
static uint64_t *pde_for(uint64_t pa)
{
    uint64_t *pdpte = pdpte_for(pa);
    if ((*pdpte & PTE_P) && (*pdpte & PTE_PS))
        split(pdpte, SZ_2M, PTE_PS);
    else if (!(*pdpte & PTE_P))
        *pdpte = mem_alloc_low_page() | PTE_P | PTE_RW;
    return &table_at(*pdpte)[(pa >> 21) & 511];
}

/* The PT entry covering pa; splits a 2 MiB page into 4 KiB ones. */
static uint64_t *pte_for(uint64_t pa)
{
    uint64_t *pde = pde_for(pa);
    if ((*pde & PTE_P) && (*pde & PTE_PS))
        split(pde, SZ_4K, 0);
    else if (!(*pde & PTE_P))
        *pde = mem_alloc_low_page() | PTE_P | PTE_RW;
    return &table_at(*pde)[(pa >> 12) & 511];
}

/* Bytes of [base, base+len) that the (normalized) map says are RAM. */
static uint64_t ram_bytes(const struct boot_info *bi, uint64_t base, uint64_t len)
{
    uint64_t n = 0, end = base + len;
    for (int i = 0; i < bi->nmap; i++) {
        const struct mem_region *r = &bi->map[i];
        if (!memmap_is_ram(r, 1, r->base, r->len))
            continue;
        uint64_t lo = r->base > base ? r->base : base;
        uint64_t hi = r->base + r->len < end ? r->base + r->len : end;
        if (lo < hi)
            n += hi - lo;
    }
    return n;
}

static enum chunk chunk_kind(const struct boot_info *bi, uint64_t at)
{
    uint64_t ram = ram_bytes(bi, at, SZ_2M);
    if (ram == SZ_2M)
        return CHUNK_WB;
    if (ram)
        return CHUNK_MIXED;
    return at < SZ_4G ? CHUNK_UC : CHUNK_NONE;
}

/* 4 KiB pages for a mixed chunk: RAM WB, below 4 GiB the rest UC. */
static void map_mixed(const struct boot_info *bi, uint64_t chunk)
{
    for (uint64_t pa = chunk; pa < chunk + SZ_2M; pa += SZ_4K) {
        if (ram_bytes(bi, pa, SZ_4K))
            *pte_for(pa) = pa | cache_bits(CACHE_WB);
        else if (pa < SZ_4G)
            *pte_for(pa) = pa | cache_bits(CACHE_UC);
    }
}

/* Maps [base, end) (2 MiB aligned), all of one kind: 1 GiB pages where
 * alignment and CPUID allow, else 2 MiB pages, or 4 KiB for mixed chunks. */
static void map_run(const struct boot_info *bi, uint64_t base, uint64_t end, enum chunk k)
{
    for (; base < end; base += SZ_2M) {
        if (k == CHUNK_MIXED) {
            map_mixed(bi, base);
            continue;
        }
        uint64_t *pdpte = pdpte_for(base);
        if (have_1g && !(base & (SZ_1G - 1)) && end - base >= SZ_1G && !(*pdpte & PTE_P)) {
            *pdpte = base | cache_bits((enum cache)k) | PTE_PS;
            base += SZ_1G - SZ_2M;
        } else {
            *pde_for(base) = base | cache_bits((enum cache)k) | PTE_PS;
        }
    }
}

/* The next 2 MiB boundary after at where chunk_kind() can change: either
 * side of a region edge, 4 GiB, or top. */
static uint64_t next_edge(const struct boot_info *bi, uint64_t at, uint64_t top)
{
    uint64_t next = at < SZ_4G && SZ_4G < top ? SZ_4G : top;
    for (int i = 0; i < bi->nmap; i++) {
        uint64_t edges[2] = { bi->map[i].base, bi->map[i].base + bi->map[i].len };
        for (int e = 0; e < 2; e++) {
            uint64_t lo = edges[e] & ~(SZ_2M - 1), hi = lo + SZ_2M;
            if (lo > at && lo < next)
                next = lo;
            if (hi > at && hi < next && (edges[e] & (SZ_2M - 1)))
                next = hi;
        }
    }
    return next;
}

void paging_init(const struct boot_info *bi)
{
    if (cpuid(0x80000000, 0).eax >= 0x80000001)
        have_1g = (cpuid(0x80000001, 0).edx >> 26) & 1;
    uint64_t limit = paging_phys_limit(), top = SZ_4G;
    for (int i = 0; i < bi->nmap; i++) {
        const struct mem_region *r = &bi->map[i];
        if (memmap_is_ram(r, 1, r->base, r->len) && r->base + r->len > top)
            top = r->base + r->len;
    }
    if (top > limit || top < SZ_4G) /* past the limit, or wrapped past 2^64 */
        top = limit;
    top = (top + SZ_2M - 1) & ~(SZ_2M - 1);

    pml4 = table_at(mem_alloc_low_page());
    /* Walk from edge to edge; map each run of one kind in one go, so that a
     * whole GiB of one type becomes one 1 GiB page. */
    uint64_t run = 0;
    enum chunk run_kind = chunk_kind(bi, 0);
    for (uint64_t at = 0; at < top;) {
        uint64_t next = next_edge(bi, at, top);
        enum chunk k = next < top ? chunk_kind(bi, next) : CHUNK_NONE;
        if (k != run_kind || k == CHUNK_MIXED || next == top) {
            if (run_kind != CHUNK_NONE)
                map_run(bi, run, next, run_kind);
            run = next;
            run_kind = k;
        }
        at = next;
    }
    write_cr3((uint64_t)(uintptr_t)pml4);
}

/* Maps one 4 KiB page for paging_map(); WB < UC < WC. From UC to WC no
 * cache holds a line of the page, so invalidating its translation is all
 * the change needs (SDM 3A §11.12.4's aliasing steps are for cached types). */
static void map_small(uint64_t pa, enum cache c)
{
    uint64_t *pte = pte_for(pa);
    if (good_enough(*pte, c))
        return;
    *pte = pa | cache_bits(c);
    invlpg(pa);
}

int paging_map(uint64_t pa, uint64_t len, enum cache c)
{
    uint64_t end = pa + len;
    if (len == 0)
        return 0;
    if (end < pa || end > paging_phys_limit())
        return -1;
    if (c == CACHE_WC && !cpu_pat)
        c = CACHE_UC;
    for (uint64_t at = pa & ~(SZ_2M - 1); at < end; at += SZ_2M) {
        uint64_t *pdpte = pdpte_for(at);
        if ((*pdpte & PTE_PS) && good_enough(*pdpte, c))
            continue; /* inside a 1 GiB page that is already good enough */
        uint64_t *pde = pde_for(at);
        /* 4 KiB pages here, or WC for part of this 2 MiB: page by page */
        int part_wc = c == CACHE_WC && (at < pa || at + SZ_2M > end);
        if (((*pde & PTE_P) && !(*pde & PTE_PS)) || part_wc) {
            uint64_t lo = at > (pa & ~(SZ_4K - 1)) ? at : pa & ~(SZ_4K - 1);
            for (uint64_t p = lo; p < end && p < at + SZ_2M; p += SZ_4K)
                map_small(p, c);
            continue;
        }
        if (good_enough(*pde, c))
            continue;
        *pde = at | cache_bits(c) | PTE_PS;
        invlpg(at);
    }
    return 0;
}

/* Adds the pages mapped below table t, of the given level (4: PML4, 3:
 * PDPT, 2: PD, 1: PT), to pages[0] (4 KiB), [1] (2 MiB) and [2] (1 GiB).
 * SDM vol. 3A §5.5.4: an entry with PS set in a PDPT maps a 1 GiB page, in
 * a PD a 2 MiB page (PS is reserved in a PML4 entry); every PT entry maps
 * 4 KiB. */
static void count_pages(const uint64_t *t, int level, uint64_t pages[3])
{
    for (int i = 0; i < 512; i++) {
        if (!(t[i] & PTE_P))
            continue;
        if (level == 1 || (level <= 3 && (t[i] & PTE_PS)))
            pages[level - 1]++;
        else
            count_pages(table_at(t[i]), level - 1, pages);
    }
}

void paging_count(uint64_t *pages_1g, uint64_t *pages_2m, uint64_t *pages_4k)
{
    uint64_t pages[3] = { 0, 0, 0 };
    count_pages(pml4, 4, pages);
    *pages_4k = pages[0];
    *pages_2m = pages[1];
    *pages_1g = pages[2];
}
