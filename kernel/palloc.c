/*
 * kernel/palloc.c - the physical page allocator (see palloc.h).
 *
 * A sorted array of free ranges. Reserving and allocating can split a range
 * in two, and an aligned allocation leaves its alignment gap as a range of
 * its own. When the array is full the smaller piece is dropped: lost for the
 * boot, never handed out twice. The host tests fill 512 slots only after
 * thousands of allocations of random sizes and alignments; a boot makes a
 * few dozen (rings, packet buffer pools, page tables).
 */
#include "kernel/palloc.h"

static uint64_t page_down(uint64_t a)
{
    return a & ~(PAGE_SIZE - 1);
}
static uint64_t page_up(uint64_t a)
{
    return a > UINT64_MAX - (PAGE_SIZE - 1) ? page_down(UINT64_MAX) : page_down(a + PAGE_SIZE - 1);
}

void palloc_init(struct palloc *pa)
{
    pa->n = 0;
}

static void remove_at(struct palloc *pa, int i)
{
    for (int j = i; j + 1 < pa->n; j++)
        pa->free[j] = pa->free[j + 1];
    pa->n--;
}

/* Inserts [base, end) keeping the array sorted; merges with neighbours. */
static void insert(struct palloc *pa, uint64_t base, uint64_t end)
{
    if (base >= end)
        return;
    int i = 0;
    while (i < pa->n && pa->free[i].base < base)
        i++;
    if (i > 0 && pa->free[i - 1].end >= base) { /* touches the one before */
        if (end > pa->free[i - 1].end)
            pa->free[i - 1].end = end;
        while (i < pa->n && pa->free[i].base <= pa->free[i - 1].end) {
            if (pa->free[i].end > pa->free[i - 1].end)
                pa->free[i - 1].end = pa->free[i].end;
            remove_at(pa, i);
        }
        return;
    }
    if (pa->n == PALLOC_MAX_RANGES)
        return;
    for (int j = pa->n; j > i; j--)
        pa->free[j] = pa->free[j - 1];
    pa->free[i].base = base;
    pa->free[i].end = end;
    pa->n++;
    while (i + 1 < pa->n && pa->free[i + 1].base <= pa->free[i].end) {
        if (pa->free[i + 1].end > pa->free[i].end)
            pa->free[i].end = pa->free[i + 1].end;
        remove_at(pa, i + 1);
    }
}

void palloc_add(struct palloc *pa, uint64_t base, uint64_t len)
{
    uint64_t end = base + len < base ? UINT64_MAX : base + len;
    if (base < PAGE_SIZE)
        base = PAGE_SIZE; /* page 0 is never handed out: 0 means failure */
    insert(pa, page_up(base), page_down(end));
}

/* Takes [lo, hi) out of range i, which contains it. The larger piece goes
 * back first: with the array full, the second insert is the one dropped. */
static void carve(struct palloc *pa, int i, uint64_t lo, uint64_t hi)
{
    uint64_t base = pa->free[i].base, end = pa->free[i].end;
    remove_at(pa, i);
    if (lo - base >= end - hi) {
        insert(pa, base, lo);
        insert(pa, hi, end);
    } else {
        insert(pa, hi, end);
        insert(pa, base, lo);
    }
}

void palloc_reserve(struct palloc *pa, uint64_t base, uint64_t len)
{
    if (len == 0)
        return;
    uint64_t lo = page_down(base);
    uint64_t hi = base + len < base ? page_down(UINT64_MAX) : page_up(base + len);
    for (int i = 0; i < pa->n;) {
        uint64_t b = pa->free[i].base, e = pa->free[i].end;
        if (e <= lo || b >= hi) {
            i++;
            continue;
        }
        carve(pa, i, lo > b ? lo : b, hi < e ? hi : e);
        i = 0; /* the array changed under us; it is short, start again */
    }
}

uint64_t palloc_alloc(struct palloc *pa, uint64_t size, uint64_t align, uint64_t limit)
{
    return palloc_alloc_range(pa, size, align, 0, limit);
}

uint64_t palloc_alloc_range(struct palloc *pa, uint64_t size, uint64_t align, uint64_t lo,
                            uint64_t hi)
{
    if (size == 0 || size > UINT64_MAX / 2)
        return 0;
    size = page_up(size);
    if (align < PAGE_SIZE)
        align = PAGE_SIZE;
    if (align & (align - 1))
        return 0;
    for (int i = pa->n - 1; i >= 0; i--) {
        uint64_t top = pa->free[i].end < hi ? pa->free[i].end : hi;
        uint64_t bottom = pa->free[i].base > lo ? pa->free[i].base : lo;
        if (top < bottom + size || bottom + size < bottom)
            continue;
        uint64_t at = (top - size) & ~(align - 1);
        if (at < bottom)
            continue;
        carve(pa, i, at, at + size);
        return at;
    }
    return 0;
}

uint64_t palloc_free_bytes(const struct palloc *pa)
{
    uint64_t sum = 0;
    for (int i = 0; i < pa->n; i++)
        sum += pa->free[i].end - pa->free[i].base;
    return sum;
}
