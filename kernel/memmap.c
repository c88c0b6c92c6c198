/*
 * kernel/memmap.c - turning a boot loader's memory map into a clean one.
 *
 * Firmware maps come unsorted, overlapping and split (QEMU's e820 and OVMF's
 * UEFI map both show it). The approach: cut the address space at every entry
 * boundary, give each piece the strongest type of the entries covering it,
 * then merge equal neighbours. O(n^2) on at most MEMMAP_MAX entries, once.
 */
#include "kernel/memmap.h"

static uint32_t clean_type(uint32_t t)
{
    return (t >= MEM_AVAILABLE && t <= MEM_BAD) ? t : MEM_RESERVED;
}

/* Which of two types covering the same byte wins. */
static uint32_t stronger(uint32_t a, uint32_t b)
{
    if (a == 0)
        return b;
    if (a == MEM_AVAILABLE)
        return b;
    if (b == MEM_AVAILABLE)
        return a;
    return a > b ? a : b;
}

static void sort_u64(uint64_t *v, int n)
{
    for (int i = 1; i < n; i++) {
        uint64_t x = v[i];
        int j = i - 1;
        while (j >= 0 && v[j] > x) {
            v[j + 1] = v[j];
            j--;
        }
        v[j + 1] = x;
    }
}

int memmap_normalize(struct mem_region *map, int n, int max)
{
    uint64_t cuts[2 * MEMMAP_MAX];
    int ncuts = 0;
    if (n > MEMMAP_MAX)
        n = MEMMAP_MAX;
    for (int i = 0; i < n; i++) {
        if (map[i].len == 0)
            continue;
        uint64_t end = map[i].base + map[i].len;
        if (end < map[i].base) { /* wraps past 2^64: clip at the top */
            end = UINT64_MAX;
            map[i].len = end - map[i].base;
        }
        cuts[ncuts++] = map[i].base;
        cuts[ncuts++] = end;
    }
    sort_u64(cuts, ncuts);

    struct mem_region out[MEMMAP_MAX];
    int nout = 0;
    for (int c = 0; c + 1 < ncuts; c++) {
        uint64_t lo = cuts[c], hi = cuts[c + 1];
        if (lo == hi)
            continue;
        uint32_t type = 0;
        for (int i = 0; i < n; i++)
            if (map[i].len && map[i].base <= lo && hi <= map[i].base + map[i].len)
                type = stronger(type, clean_type(map[i].type));
        if (type == 0)
            continue; /* a hole between entries */
        if (nout > 0 && out[nout - 1].type == type &&
            out[nout - 1].base + out[nout - 1].len == lo) {
            out[nout - 1].len += hi - lo;
        } else if (nout < MEMMAP_MAX && nout < max) {
            out[nout++] = (struct mem_region){ lo, hi - lo, type };
        }
    }
    for (int i = 0; i < nout; i++)
        map[i] = out[i];
    return nout;
}

static int is_ram_type(uint32_t t)
{
    return t == MEM_AVAILABLE || t == MEM_ACPI_RECLAIM || t == MEM_ACPI_NVS;
}

uint64_t memmap_clip(struct mem_region *map, int *n, uint64_t limit)
{
    uint64_t cut = 0;
    int out = 0;
    for (int i = 0; i < *n; i++) {
        struct mem_region r = map[i];
        uint64_t end = r.base + r.len;
        if (end > limit || end < r.base) { /* also an entry that wraps past 2^64 */
            uint64_t keep = r.base < limit ? limit - r.base : 0;
            if (is_ram_type(r.type))
                cut += r.len - keep;
            r.len = keep;
        }
        if (r.len)
            map[out++] = r;
    }
    *n = out;
    return cut;
}

uint64_t memmap_total(const struct mem_region *map, int n, uint32_t t)
{
    uint64_t sum = 0;
    for (int i = 0; i < n; i++)
        if (map[i].type == t)
            sum += map[i].len;
    return sum;
}

int memmap_is_ram(const struct mem_region *map, int n, uint64_t base, uint64_t len)
{
    for (int i = 0; i < n; i++) {
        if (!is_ram_type(map[i].type))
            continue;
        if (map[i].base < base + len && base < map[i].base + map[i].len)
            return 1;
    }
    return 0;
}
