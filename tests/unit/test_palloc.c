/*
 * tests/unit/test_palloc.c - kernel/palloc.c: the physical page allocator.
 *
 * Exact addresses for the rules in palloc.h (top-down, alignment, limit,
 * page rounding, page 0), then two randomized runs with fixed seeds: one of
 * 10,000 allocations over 16 GiB checking disjointness and accounting, one
 * against a page-by-page model checking every result exactly.
 */
#include <stdlib.h>

#include "kernel/palloc.h"
#include "tests/unit/host.h"

#define KiB 0x400ull
#define MiB 0x100000ull
#define GiB 0x40000000ull
#define NO_LIMIT UINT64_MAX

static struct palloc pa;

/* The free list, range by range. */
#define CHECK_RANGE(i, b, e)                                                                       \
    do {                                                                                           \
        CHECK_EQ(pa.free[i].base, b);                                                              \
        CHECK_EQ(pa.free[i].end, e);                                                               \
    } while (0)

/* palloc.h's invariant: sorted, disjoint, not touching (merged), non-empty,
 * page-aligned. Returns 0 if it holds. */
static int list_broken(const struct palloc *p)
{
    for (int i = 0; i < p->n; i++) {
        if (p->free[i].base >= p->free[i].end || p->free[i].base % PAGE_SIZE ||
            p->free[i].end % PAGE_SIZE || p->free[i].base == 0)
            return 1;
        if (i > 0 && p->free[i - 1].end >= p->free[i].base)
            return 1;
    }
    return p->n < 0 || p->n > PALLOC_MAX_RANGES;
}

/* Highest memory first, from the highest range. */
static void top_down(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 1 * MiB, 1 * MiB);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, NO_LIMIT), 0x1FF000);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, NO_LIMIT), 0x1FE000);
    palloc_add(&pa, 4 * MiB, 1 * MiB);
    CHECK_EQ(palloc_alloc(&pa, 0x3000, PAGE_SIZE, NO_LIMIT), 0x4FD000);
    CHECK_EQ(pa.n, 2);
    CHECK_RANGE(0, 0x100000, 0x1FE000);
    CHECK_RANGE(1, 0x400000, 0x4FD000);
}

/* Sizes round up to whole pages. */
static void size_rounds_to_pages(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 1 * MiB, 1 * MiB);
    CHECK_EQ(palloc_alloc(&pa, 1, PAGE_SIZE, NO_LIMIT), 0x1FF000);
    CHECK_EQ(palloc_free_bytes(&pa), 1 * MiB - PAGE_SIZE);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE + 1, PAGE_SIZE, NO_LIMIT), 0x1FD000);
    CHECK_EQ(palloc_free_bytes(&pa), 1 * MiB - 3 * PAGE_SIZE);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, 0, NO_LIMIT), 0x1FC000); /* align below a page: a page */
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, 1, NO_LIMIT), 0x1FB000);
}

/* A 2 MiB alignment is honoured inside a range; what is left over on
 * either side stays free. */
static void alignment(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 0x1000, 0x5FF000); /* [4 KiB, 6 MiB) */
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, 2 * MiB, NO_LIMIT), 0x400000);
    CHECK_EQ(pa.n, 2);
    CHECK_RANGE(0, 0x1000, 0x400000);
    CHECK_RANGE(1, 0x401000, 0x600000);
    /* The upper range has no 2 MiB-aligned 2 MiB; the lower one has. */
    CHECK_EQ(palloc_alloc(&pa, 2 * MiB, 2 * MiB, NO_LIMIT), 0x200000);
    CHECK_EQ(palloc_alloc(&pa, 2 * MiB, 2 * MiB, NO_LIMIT), 0); /* only 0 would do */
    CHECK_EQ(palloc_free_bytes(&pa), 0x1FF000 + 0x1FF000);
    CHECK_EQ(palloc_alloc(&pa, 64 * KiB, 64 * KiB, NO_LIMIT), 0x5F0000);
}

/* An alignment that is not a power of two, or a size of 0, fails and takes
 * nothing. */
static void bad_requests_return_0(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 1 * MiB, 1 * MiB);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, 0x3000, NO_LIMIT), 0);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, 0x1800, NO_LIMIT), 0);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, 3 * MiB, NO_LIMIT), 0);
    CHECK_EQ(palloc_alloc(&pa, 0, PAGE_SIZE, NO_LIMIT), 0);
    CHECK_EQ(palloc_alloc(&pa, UINT64_MAX, PAGE_SIZE, NO_LIMIT), 0);
    CHECK_EQ(palloc_alloc(&pa, 1 * MiB + 1, PAGE_SIZE, NO_LIMIT), 0); /* too big */
    CHECK_EQ(palloc_free_bytes(&pa), 1 * MiB);
    CHECK_EQ(pa.n, 1);
}

/* limit: the block ends at or below it; memory above 4 GiB is skipped for
 * a below-4-GiB request. */
static void limit(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 1 * MiB, 2 * GiB - 1 * MiB);
    palloc_add(&pa, 4 * GiB, 4 * GiB);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, 4 * GiB), 0x7FFFF000);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, NO_LIMIT), 0x1FFFFF000);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, 1 * GiB), 0x3FFFF000); /* inside a range */
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, 1 * GiB + 0x800), 0x3FFFE000);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, 5 * GiB), 0x13FFFF000);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, 1 * MiB + 0xFFF), 0); /* no whole page */
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, 1 * MiB + 0x1000), 0x100000);
}

/* A range [lo, hi), as for one NUMA node's memory: the block lies inside
 * it and inside free memory, top-down; nothing fits, 0. */
static void range(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 1 * MiB, 2 * GiB - 1 * MiB);
    palloc_add(&pa, 4 * GiB, 4 * GiB);
    /* Node 0: [0, 1 GiB); node 1: [1 GiB, 2 GiB) and [4 GiB, 8 GiB). */
    CHECK_EQ(palloc_alloc_range(&pa, PAGE_SIZE, PAGE_SIZE, 0, 1 * GiB), 0x3FFFF000);
    CHECK_EQ(palloc_alloc_range(&pa, PAGE_SIZE, PAGE_SIZE, 1 * GiB, 2 * GiB), 0x7FFFF000);
    CHECK_EQ(palloc_alloc_range(&pa, 2 * MiB, 2 * MiB, 4 * GiB, 8 * GiB), 0x1FFE00000);
    /* The lower bound holds: a block that would start below lo is not given. */
    CHECK_EQ(palloc_alloc_range(&pa, 2 * GiB, PAGE_SIZE, 6 * GiB, 8 * GiB), 0);
    CHECK_EQ(palloc_alloc_range(&pa, 2 * GiB - 2 * MiB, PAGE_SIZE, 6 * GiB, 8 * GiB), 0x180000000);
    CHECK_EQ(palloc_alloc_range(&pa, PAGE_SIZE, PAGE_SIZE, 3 * GiB, 4 * GiB), 0); /* a hole */
    CHECK_EQ(palloc_alloc_range(&pa, PAGE_SIZE, PAGE_SIZE, 0, 1 * MiB), 0);       /* not free */
    /* lo inside a page: the block starts at or above it. */
    CHECK_EQ(palloc_alloc_range(&pa, PAGE_SIZE, PAGE_SIZE, 1 * MiB + 0x800, 1 * MiB + 0x2000),
             0x101000);
    CHECK_EQ(palloc_alloc_range(&pa, PAGE_SIZE, PAGE_SIZE, 1 * MiB + 0x800, 1 * MiB + 0x2000), 0);
}

/* Page 0 is never added: 0 is how palloc_alloc fails. */
static void page_0_never_handed_out(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 0, 0x3000);
    CHECK_EQ(pa.n, 1);
    CHECK_RANGE(0, 0x1000, 0x3000);
    CHECK_EQ(palloc_alloc(&pa, 0x3000, PAGE_SIZE, NO_LIMIT), 0);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, NO_LIMIT), 0x2000);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, NO_LIMIT), 0x1000);
    CHECK_EQ(palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, NO_LIMIT), 0);

    palloc_init(&pa);
    palloc_add(&pa, 0, 0x1000);
    palloc_add(&pa, 0x800, 0x800);
    CHECK_EQ(pa.n, 0);
}

/* Only whole pages inside the given bytes are added. */
static void add_rounds_inwards(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 0x1800, 0x4000); /* [0x1800, 0x5800) */
    CHECK_EQ(pa.n, 1);
    CHECK_RANGE(0, 0x2000, 0x5000);
    palloc_add(&pa, 0x10001, 0x1FFF); /* [0x10001, 0x12000): one whole page */
    CHECK_EQ(pa.n, 2);
    CHECK_RANGE(1, 0x11000, 0x12000);
    palloc_add(&pa, 0x20001, 0xFFF); /* no whole page */
    CHECK_EQ(pa.n, 2);
    palloc_add(&pa, UINT64_MAX - 0x2FFF, 0x10000); /* runs past 2^64: to the last whole page */
    CHECK_EQ(pa.n, 3);
    CHECK_RANGE(2, 0xFFFFFFFFFFFFD000ull, 0xFFFFFFFFFFFFF000ull);
}

/* Reserving inside a range splits it, dropping every page the bytes touch. */
static void reserve_splits_a_range(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 1 * MiB, 1 * MiB);
    palloc_reserve(&pa, 0x150800, 0x1000); /* touches pages 0x150000 and 0x151000 */
    CHECK_EQ(pa.n, 2);
    CHECK_RANGE(0, 0x100000, 0x150000);
    CHECK_RANGE(1, 0x152000, 0x200000);
    CHECK_EQ(palloc_free_bytes(&pa), 1 * MiB - 0x2000);
    palloc_reserve(&pa, 0x100000, 0x1000); /* the first page: no split */
    CHECK_EQ(pa.n, 2);
    CHECK_RANGE(0, 0x101000, 0x150000);
    palloc_reserve(&pa, 0x1FFFFF, 1); /* the last byte: the last page */
    CHECK_RANGE(1, 0x152000, 0x1FF000);
    palloc_reserve(&pa, 0x300000, 0x1000); /* outside everything */
    CHECK_EQ(pa.n, 2);
    CHECK_EQ(palloc_free_bytes(&pa), 1 * MiB - 0x4000);
    palloc_reserve(&pa, 0x160800, 0); /* empty: touches no page */
    CHECK_EQ(pa.n, 2);
    CHECK_EQ(palloc_free_bytes(&pa), 1 * MiB - 0x4000);
}

/* One reservation across several ranges: the end of the first, all of the
 * second and third, the start of the fourth. */
static void reserve_spans_ranges(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 0x10000, 0x10000);
    palloc_add(&pa, 0x30000, 0x10000);
    palloc_add(&pa, 0x50000, 0x10000);
    palloc_add(&pa, 0x70000, 0x10000);
    palloc_reserve(&pa, 0x18000, 0x5C000); /* [0x18000, 0x74000) */
    CHECK_EQ(pa.n, 2);
    CHECK_RANGE(0, 0x10000, 0x18000);
    CHECK_RANGE(1, 0x74000, 0x80000);

    palloc_reserve(&pa, 0x14000, UINT64_MAX); /* runs past 2^64: everything above */
    CHECK_EQ(pa.n, 1);
    CHECK_RANGE(0, 0x10000, 0x14000);
}

/* Adding adjacent, overlapping, contained and bridging ranges merges them:
 * the free bytes are those of the union. */
static void adding_merges(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 0x1000, 0x1000);
    palloc_add(&pa, 0x2000, 0x1000); /* adjacent above */
    palloc_add(&pa, 0x0, 0x1000);    /* page 0: nothing */
    CHECK_EQ(pa.n, 1);
    CHECK_RANGE(0, 0x1000, 0x3000);

    palloc_add(&pa, 0x2000, 0x6000); /* overlapping: [0x1000, 0x8000) */
    palloc_add(&pa, 0x3000, 0x1000); /* contained */
    CHECK_EQ(pa.n, 1);
    CHECK_RANGE(0, 0x1000, 0x8000);

    palloc_add(&pa, 0x10000, 0x10000);
    palloc_add(&pa, 0x30000, 0x10000);
    CHECK_EQ(pa.n, 3);
    palloc_add(&pa, 0x8000, 0x8000); /* adjacent below the second and above the first */
    CHECK_EQ(pa.n, 2);
    CHECK_RANGE(0, 0x1000, 0x20000);
    palloc_add(&pa, 0x1F000, 0x12000); /* bridges the two */
    CHECK_EQ(pa.n, 1);
    CHECK_RANGE(0, 0x1000, 0x40000);
    CHECK_EQ(palloc_free_bytes(&pa), 0x3F000);

    palloc_add(&pa, 0x80000, 0x1000);
    palloc_add(&pa, 0x60000, 0x1000);
    palloc_add(&pa, 0x70000, 0x1000); /* out of order: kept sorted */
    CHECK_EQ(pa.n, 4);
    CHECK_RANGE(1, 0x60000, 0x61000);
    CHECK_RANGE(2, 0x70000, 0x71000);
    CHECK_RANGE(3, 0x80000, 0x81000);
    palloc_add(&pa, 0x500, 0x100000); /* swallows everything */
    CHECK_EQ(pa.n, 1);
    CHECK_RANGE(0, 0x1000, 0x100000);
}

/* Blocks given back (kernel/mem.c dma_free: palloc_add of the block's whole
 * pages), in reverse as a failed open unwinds: the free list is again the
 * one range it was, alignment gaps included. */
static void freed_blocks_merge_back(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 1 * MiB, 1 * MiB);
    uint64_t a = palloc_alloc(&pa, 0x1800, PAGE_SIZE, NO_LIMIT);    /* 2 pages */
    uint64_t b = palloc_alloc(&pa, 0x3000, 0x10000, NO_LIMIT);      /* leaves a gap above */
    uint64_t c = palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, NO_LIMIT); /* from the gap */
    CHECK_EQ(a, 0x1FE000);
    CHECK_EQ(b, 0x1F0000);
    CHECK_EQ(c, 0x1FD000);
    CHECK_EQ(pa.n, 2);
    palloc_add(&pa, c, PAGE_SIZE);
    palloc_add(&pa, b, 0x3000);
    palloc_add(&pa, a, 0x2000);
    CHECK_EQ(pa.n, 1);
    CHECK_RANGE(0, 0x100000, 0x200000);
    CHECK(!list_broken(&pa));
}

/* Allocating until nothing is left: every page exactly once, then 0, and
 * the bytes reconcile: allocated + free == added - reserved. */
static void exhaustion_and_accounting(void)
{
    palloc_init(&pa);
    palloc_add(&pa, 0x1000, 0x10000);  /* 16 pages */
    palloc_add(&pa, 0x40000, 0x40000); /* 64 pages */
    palloc_reserve(&pa, 0x50000, 0x3000);
    uint64_t added = 0x10000 + 0x40000, reserved = 0x3000, allocated = 0;
    CHECK_EQ(palloc_free_bytes(&pa), added - reserved);

    uint64_t got;
    uint64_t sizes[] = { 0x5000, 0x1000, 0x20000, 0x3000 };
    for (int i = 0; (got = palloc_alloc(&pa, sizes[i % 4], PAGE_SIZE, NO_LIMIT)) != 0; i++) {
        allocated += sizes[i % 4];
        CHECK_EQ(allocated + palloc_free_bytes(&pa), added - reserved);
    }
    /* Now only holes smaller than the next request are left; take them page by page. */
    while ((got = palloc_alloc(&pa, PAGE_SIZE, PAGE_SIZE, NO_LIMIT)) != 0)
        allocated += PAGE_SIZE;
    CHECK_EQ(palloc_free_bytes(&pa), 0);
    CHECK_EQ(pa.n, 0);
    CHECK_EQ(allocated, added - reserved);
}

/* With the array full, a split keeps the larger piece (palloc.c says so):
 * memory lost to a full array is the smaller one. */
static void full_array_keeps_larger_piece(void)
{
    palloc_init(&pa);
    for (uint64_t i = 0; i < PALLOC_MAX_RANGES; i++)
        palloc_add(&pa, (i + 1) * MiB, 16 * PAGE_SIZE);
    CHECK_EQ(pa.n, PALLOC_MAX_RANGES);
    uint64_t before = palloc_free_bytes(&pa);

    palloc_reserve(&pa, 1 * MiB + 0x1000, 0x1000); /* pieces of 1 and 14 pages */
    CHECK_EQ(pa.n, PALLOC_MAX_RANGES);
    CHECK_RANGE(0, 1 * MiB + 0x2000, 1 * MiB + 0x10000);
    CHECK_EQ(palloc_free_bytes(&pa), before - 2 * PAGE_SIZE);

    palloc_reserve(&pa, 2 * MiB + 0xE000, 0x1000); /* pieces of 14 and 1 pages */
    CHECK_EQ(pa.n, PALLOC_MAX_RANGES);
    CHECK_RANGE(1, 2 * MiB, 2 * MiB + 0xE000);
    CHECK_EQ(palloc_free_bytes(&pa), before - 4 * PAGE_SIZE);
    CHECK(!list_broken(&pa));
}

/* --- randomized --------------------------------------------------------------- */

struct block {
    uint64_t base, end;
};

static int by_base(const void *a, const void *b)
{
    const struct block *x = a, *y = b;
    return x->base < y->base ? -1 : x->base > y->base;
}

/* xorshift64*: a fixed seed gives the same run everywhere. */
static uint64_t rng_state;

static uint64_t rnd(uint64_t n)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (rng_state * 0x2545F4914F6CDD1Dull) % n;
}

#define NALLOC 10000

/* What an allocation at [at, at+pages) may lose: with the array full, the
 * smaller of the two pieces left of the range it came from (palloc.c). */
static uint64_t smaller_piece(const struct palloc *before, uint64_t at, uint64_t pages)
{
    for (int i = 0; i < before->n; i++)
        if (before->free[i].base <= at && at + pages <= before->free[i].end) {
            uint64_t lower = at - before->free[i].base, upper = before->free[i].end - at - pages;
            return lower < upper ? lower : upper;
        }
    return UINT64_MAX; /* not inside one free range: reported by the caller */
}

/*
 * 10,000 allocations of random sizes, alignments and limits over 16 GiB:
 * each is aligned, under its limit, inside added memory, outside reserved
 * memory, carved from one free range, and disjoint from every other and from
 * the free list. The bytes reconcile after every one: allocated + free ==
 * added - reserved - lost, where memory is lost only by an allocation that
 * leaves the array full, and then exactly the smaller leftover piece.
 */
static void random_allocations_are_disjoint(void)
{
    static const struct block added[] = { { 0x1000, 0x9F000 },
                                          { 0x100000, 0xC0000000 },
                                          { 0x100000000, 0x440000000 } };
    static const struct block reserved[] = { { 0x100000, 0x200000 },
                                             { 0x9000000, 0x9100000 },
                                             { 0x200000000, 0x200001000 } };
    static struct block blocks[NALLOC + PALLOC_MAX_RANGES];
    static struct palloc before;
    uint64_t total = 0, used = 0, lost = 0;
    palloc_init(&pa);
    for (int i = 0; i < 3; i++) {
        palloc_add(&pa, added[i].base, added[i].end - added[i].base);
        total += added[i].end - added[i].base;
    }
    for (int i = 0; i < 3; i++) {
        palloc_reserve(&pa, reserved[i].base, reserved[i].end - reserved[i].base);
        total -= reserved[i].end - reserved[i].base;
    }
    CHECK_EQ(palloc_free_bytes(&pa), total);

    rng_state = 0x1234567890ABCDEFull;
    int bad = 0;
    for (int i = 0; i < NALLOC && !bad; i++) {
        uint64_t r = rnd(10);
        uint64_t size = 1 + rnd(r < 5 ? 16 * KiB : r < 9 ? 256 * KiB : 4 * MiB);
        uint64_t align = rnd(2) ? PAGE_SIZE : PAGE_SIZE << rnd(10); /* 4 KiB to 2 MiB */
        uint64_t lim = rnd(4) == 0 ? 4 * GiB : NO_LIMIT;
        before = pa;
        uint64_t at = palloc_alloc(&pa, size, align, lim);
        uint64_t pages = (size + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
        int inside = 0, in_reserved = 0;
        for (int k = 0; k < 3; k++) {
            inside |= at >= added[k].base && at + pages <= added[k].end;
            in_reserved |= at < reserved[k].end && reserved[k].base < at + pages;
        }
        uint64_t piece = smaller_piece(&before, at, pages);
        uint64_t lost_now = palloc_free_bytes(&before) - pages - palloc_free_bytes(&pa);
        int lost_ok = lost_now == 0 || (lost_now == piece && pa.n == PALLOC_MAX_RANGES);
        used += pages;
        lost += lost_now;
        if (!at || at % align || at + pages > lim || !inside || in_reserved ||
            piece == UINT64_MAX || !lost_ok || used + palloc_free_bytes(&pa) + lost != total ||
            list_broken(&pa)) {
            test_fail(__FILE__, __LINE__,
                      "allocation %d (size 0x%llx align 0x%llx limit 0x%llx) gave 0x%llx; "
                      "%d ranges, 0x%llx lost (smaller piece 0x%llx)",
                      i, (unsigned long long)size, (unsigned long long)align,
                      (unsigned long long)lim, (unsigned long long)at, pa.n,
                      (unsigned long long)lost_now, (unsigned long long)piece);
            bad = 1;
        }
        blocks[i] = (struct block){ at, at + pages };
    }
    if (bad)
        return;
    /* Allocations and the free list together: no two intervals overlap. */
    int nb = NALLOC;
    for (int i = 0; i < pa.n; i++)
        blocks[nb++] = (struct block){ pa.free[i].base, pa.free[i].end };
    qsort(blocks, (size_t)nb, sizeof(blocks[0]), by_base);
    int overlaps = 0;
    for (int i = 1; i < nb; i++)
        overlaps += blocks[i - 1].end > blocks[i].base;
    CHECK_EQ(overlaps, 0);
}

/*
 * A page-by-page model over 8 MiB: random adds, reserves and allocations,
 * each result compared exactly with the model. The model's answer for an
 * allocation is the highest aligned block of free pages ending at or below
 * the limit: palloc.h's "top-down" made precise (free ranges never touch, so
 * the highest fitting range holds the highest fitting block). The free list
 * must be exactly the model's runs of free pages.
 */
#define MODEL_PAGES 2048

static uint8_t model[MODEL_PAGES]; /* 1: free */

static uint64_t model_alloc(uint64_t size, uint64_t align, uint64_t lim)
{
    uint64_t pages = (size + PAGE_SIZE - 1) / PAGE_SIZE;
    if (lim > MODEL_PAGES * PAGE_SIZE)
        lim = MODEL_PAGES * PAGE_SIZE;
    if (pages * PAGE_SIZE > lim)
        return 0;
    for (uint64_t at = (lim - pages * PAGE_SIZE) & ~(align - 1);; at -= align) {
        uint64_t p = at / PAGE_SIZE, k = 0;
        while (k < pages && model[p + k])
            k++;
        if (k == pages && at != 0) {
            memset(model + p, 0, pages);
            return at;
        }
        if (at < align)
            return 0;
    }
}

static int list_matches_model(void)
{
    int r = 0;
    for (uint64_t p = 0; p < MODEL_PAGES;) {
        if (!model[p]) {
            p++;
            continue;
        }
        uint64_t q = p;
        while (q < MODEL_PAGES && model[q])
            q++;
        if (r >= pa.n || pa.free[r].base != p * PAGE_SIZE || pa.free[r].end != q * PAGE_SIZE)
            return 0;
        r++;
        p = q;
    }
    return r == pa.n;
}

static void random_against_page_model(void)
{
    rng_state = 0xC0FFEE1234ull;
    int ops = 0, allocs = 0, failed_allocs = 0;
    for (int round = 0; round < 400 && !test_case_failed; round++) {
        palloc_init(&pa);
        memset(model, 0, sizeof(model));
        /* 60 operations per round keep the list far from PALLOC_MAX_RANGES,
         * where palloc drops pieces by design and the model would differ. */
        for (int op = 0; op < 60 && !test_case_failed; op++, ops++) {
            uint64_t kind = rnd(10);
            uint64_t base = rnd(MODEL_PAGES * PAGE_SIZE), len = rnd(MODEL_PAGES * PAGE_SIZE / 4);
            if (base + len > MODEL_PAGES * PAGE_SIZE)
                len = MODEL_PAGES * PAGE_SIZE - base;
            if (kind < 3) {
                palloc_add(&pa, base, len);
                uint64_t first = (base + PAGE_SIZE - 1) / PAGE_SIZE;
                for (uint64_t p = first; (p + 1) * PAGE_SIZE <= base + len; p++)
                    model[p] = p != 0; /* whole pages only; never page 0 */
            } else if (kind < 4) {
                len += len == 0; /* (base, 0) takes the page holding base: not modelled */
                palloc_reserve(&pa, base, len);
                for (uint64_t p = base / PAGE_SIZE; p * PAGE_SIZE < base + len; p++)
                    model[p] = 0;
            } else {
                uint64_t size = 1 + rnd(rnd(4) ? 16 * PAGE_SIZE : 200 * PAGE_SIZE);
                uint64_t align = PAGE_SIZE << rnd(9);
                uint64_t lim = rnd(3) ? NO_LIMIT : rnd(MODEL_PAGES * PAGE_SIZE);
                uint64_t want = model_alloc(size, align, lim);
                uint64_t got = palloc_alloc(&pa, size, align, lim);
                allocs++;
                failed_allocs += want == 0;
                if (got != want)
                    test_fail(__FILE__, __LINE__,
                              "op %d: alloc(0x%llx, 0x%llx, 0x%llx) gave 0x%llx, model 0x%llx", ops,
                              (unsigned long long)size, (unsigned long long)align,
                              (unsigned long long)lim, (unsigned long long)got,
                              (unsigned long long)want);
            }
            if (!list_matches_model() || list_broken(&pa))
                test_fail(__FILE__, __LINE__, "op %d (kind %llu): free list differs from the model",
                          ops, (unsigned long long)kind);
        }
    }
    /* Both outcomes were exercised many times. */
    CHECK(allocs > 10000);
    CHECK(failed_allocs > 500);
    CHECK(allocs - failed_allocs > 5000);
}

int main(void)
{
    RUN(top_down);
    RUN(size_rounds_to_pages);
    RUN(alignment);
    RUN(bad_requests_return_0);
    RUN(limit);
    RUN(range);
    RUN(page_0_never_handed_out);
    RUN(add_rounds_inwards);
    RUN(reserve_splits_a_range);
    RUN(reserve_spans_ranges);
    RUN(adding_merges);
    RUN(freed_blocks_merge_back);
    RUN(exhaustion_and_accounting);
    RUN(full_array_keeps_larger_piece);
    RUN(random_allocations_are_disjoint);
    RUN(random_against_page_model);
    return test_finish();
}
