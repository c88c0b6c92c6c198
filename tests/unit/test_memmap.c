/* tests/unit/test_memmap.c - kernel/memmap.c: normalizing boot memory maps. */
#include "kernel/memmap.h"
#include "tests/unit/host.h"

#define A MEM_AVAILABLE
#define R MEM_RESERVED
#define RECLAIM MEM_ACPI_RECLAIM
#define NVS MEM_ACPI_NVS

/* Compares a normalized map with the expected one, entry by entry. */
static void check_map(const char *file, int line, const struct mem_region *got, int n,
                      const struct mem_region *want, int nwant)
{
    if (n != nwant)
        test_fail(file, line, "%d entries, expected %d", n, nwant);
    for (int i = 0; i < n && i < nwant; i++)
        if (got[i].base != want[i].base || got[i].len != want[i].len || got[i].type != want[i].type)
            test_fail(file, line, "entry %d is {0x%llx, 0x%llx, %u}, expected {0x%llx, 0x%llx, %u}",
                      i, (unsigned long long)got[i].base, (unsigned long long)got[i].len,
                      got[i].type, (unsigned long long)want[i].base,
                      (unsigned long long)want[i].len, want[i].type);
}

#define CHECK_MAP(got, n, ...)                                                                     \
    do {                                                                                           \
        const struct mem_region want_[] = { __VA_ARGS__ };                                         \
        check_map(__FILE__, __LINE__, got, n, want_, (int)(sizeof(want_) / sizeof(want_[0])));     \
    } while (0)

/* Copies the input into a MEMMAP_MAX array (normalizing can add entries)
 * and normalizes it there. */
static struct mem_region map[MEMMAP_MAX];

static int normalize(const struct mem_region *in, int n)
{
    memset(map, 0xA5, sizeof(map));
    memcpy(map, in, sizeof(*in) * (size_t)n);
    return memmap_normalize(map, n, MEMMAP_MAX);
}

#define NORMALIZE(...)                                                                             \
    normalize(                                                                                     \
        (const struct mem_region[]){ __VA_ARGS__ },                                                \
        (int)(sizeof((const struct mem_region[]){ __VA_ARGS__ }) / sizeof(struct mem_region)))

static void sorts_and_merges_neighbours(void)
{
    struct mem_region m[] = {
        { 0x200000, 0x100000, MEM_AVAILABLE },
        { 0x100000, 0x100000, MEM_AVAILABLE },
        { 0, 0x9fc00, MEM_AVAILABLE },
    };
    int n = memmap_normalize(m, 3, MEMMAP_MAX);
    CHECK_EQ(n, 2);
    CHECK_EQ(m[0].base, 0);
    CHECK_EQ(m[0].len, 0x9fc00);
    CHECK_EQ(m[1].base, 0x100000);
    CHECK_EQ(m[1].len, 0x200000);
}

/* Unsorted entries come back sorted; the holes between them stay holes and
 * neighbours of different types are not merged. */
static void unsorted_with_holes(void)
{
    int n = NORMALIZE({ 0x500000, 0x1000, R }, { 0x100000, 0x100000, A }, { 0x1000, 0x2000, A },
                      { 0x200000, 0x1000, R });
    CHECK_MAP(map, n, { 0x1000, 0x2000, A }, { 0x100000, 0x100000, A }, { 0x200000, 0x1000, R },
              { 0x500000, 0x1000, R });
}

/* Reserved inside, across the start of and across the end of available
 * memory: reserved wins every byte it covers, the rest stays available. */
static void reserved_beats_available(void)
{
    int n = NORMALIZE({ 0x100000, 0xF00000, A }, { 0x400000, 0x100000, R },
                      { 0x80000, 0x100000, R }, { 0xF80000, 0x100000, R });
    CHECK_MAP(map, n, { 0x80000, 0x100000, R }, { 0x180000, 0x280000, A },
              { 0x400000, 0x100000, R }, { 0x500000, 0xA80000, A }, { 0xF80000, 0x100000, R });

    /* The same, the available entry listed last and covering the other. */
    n = NORMALIZE({ 0x2000, 0x1000, R }, { 0x0, 0x10000, A });
    CHECK_MAP(map, n, { 0x0, 0x2000, A }, { 0x2000, 0x1000, R }, { 0x3000, 0xD000, A });
}

/* Among non-available types the larger number wins: NVS over reclaim, bad
 * over everything, reclaim over reserved (memmap.h). */
static void larger_type_wins_among_the_rest(void)
{
    int n = NORMALIZE({ 0x1000, 0x2000, RECLAIM }, { 0x2000, 0x2000, NVS });
    CHECK_MAP(map, n, { 0x1000, 0x1000, RECLAIM }, { 0x2000, 0x2000, NVS });

    n = NORMALIZE({ 0x2000, 0x2000, NVS }, { 0x1000, 0x2000, RECLAIM }); /* order-blind */
    CHECK_MAP(map, n, { 0x1000, 0x1000, RECLAIM }, { 0x2000, 0x2000, NVS });

    n = NORMALIZE({ 0x0, 0x10000, NVS }, { 0x4000, 0x1000, MEM_BAD }, { 0x8000, 0x1000, R });
    CHECK_MAP(map, n, { 0x0, 0x4000, NVS }, { 0x4000, 0x1000, MEM_BAD }, { 0x5000, 0xB000, NVS });

    n = NORMALIZE({ 0x0, 0x3000, R }, { 0x1000, 0x1000, RECLAIM });
    CHECK_MAP(map, n, { 0x0, 0x1000, R }, { 0x1000, 0x1000, RECLAIM }, { 0x2000, 0x1000, R });
}

/* Types outside 1-5 count as reserved: they merge with reserved neighbours
 * and beat available memory. */
static void unknown_types_are_reserved(void)
{
    int n = NORMALIZE({ 0x0, 0x1000, 7 }, { 0x1000, 0x1000, 0 }, { 0x2000, 0x1000, 0xFFFFFFFF },
                      { 0x3000, 0x1000, R }, { 0x10000, 0x10000, A }, { 0x18000, 0x1000, 6 });
    CHECK_MAP(map, n, { 0x0, 0x4000, R }, { 0x10000, 0x8000, A }, { 0x18000, 0x1000, R },
              { 0x19000, 0x7000, A });
}

/* Zero-length entries vanish, even one inside an available range (no split)
 * and one of a stronger type. */
static void zero_length_entries_vanish(void)
{
    int n = NORMALIZE({ 0x100000, 0, R }, { 0x0, 0x200000, A }, { 0x300000, 0, A },
                      { 0x80000, 0, MEM_BAD });
    CHECK_MAP(map, n, { 0x0, 0x200000, A });

    n = NORMALIZE({ 0x1000, 0, A }, { 0x5000, 0, R });
    CHECK_EQ(n, 0);
}

/* An entry running past 2^64 is clipped at the top of the address space. */
static void wrapping_entry_is_clipped(void)
{
    int n = NORMALIZE({ 0xFFFFFFFFFFFF0000ull, 0x20000, A }, { 0x1000, 0x1000, A });
    CHECK_MAP(map, n, { 0x1000, 0x1000, A }, { 0xFFFFFFFFFFFF0000ull, 0xFFFF, A });

    /* Ending exactly at 2^64 wraps to 0: clipped the same way. */
    n = NORMALIZE({ 0xFFFFFFFFFFFFF000ull, 0x1000, R });
    CHECK_MAP(map, n, { 0xFFFFFFFFFFFFF000ull, 0xFFF, R });

    /* A reserved entry "covering everything" from 4 GiB beats available RAM there. */
    n = NORMALIZE({ 0x100000000ull, 0x100000000ull, A }, { 0x100000000ull, UINT64_MAX, R });
    CHECK_MAP(map, n, { 0x100000000ull, 0xFFFFFFFEFFFFFFFFull, R });
}

/* The same entry three times is one entry. */
static void identical_duplicates(void)
{
    int n = NORMALIZE({ 0x100000, 0x7EE0000, A }, { 0x100000, 0x7EE0000, A },
                      { 0x100000, 0x7EE0000, A }, { 0xFFFC0000, 0x40000, R },
                      { 0xFFFC0000, 0x40000, R });
    CHECK_MAP(map, n, { 0x100000, 0x7EE0000, A }, { 0xFFFC0000, 0x40000, R });
}

/* QEMU q35 with 6 GiB under SeaBIOS (e820 as the firmware reports it, given
 * here out of order): nothing to merge, only to sort. */
static void qemu_e820(void)
{
    int n = NORMALIZE({ 0x100000000ull, 0x100000000ull, A }, { 0x9fc00, 0x400, R },
                      { 0xfeffc000, 0x4000, R }, { 0x0, 0x9fc00, A }, { 0xf0000, 0x10000, R },
                      { 0x100000, 0x7fee0000, A }, { 0x7ffe0000, 0x20000, R },
                      { 0xb0000000, 0x10000000, R }, { 0xfed1c000, 0x4000, R },
                      { 0xfffc0000, 0x40000, R });
    CHECK_MAP(map, n, { 0x0, 0x9fc00, A }, { 0x9fc00, 0x400, R }, { 0xf0000, 0x10000, R },
              { 0x100000, 0x7fee0000, A }, { 0x7ffe0000, 0x20000, R },
              { 0xb0000000, 0x10000000, R }, { 0xfed1c000, 0x4000, R }, { 0xfeffc000, 0x4000, R },
              { 0xfffc0000, 0x40000, R }, { 0x100000000ull, 0x100000000ull, A });
    CHECK_EQ(memmap_total(map, n, A), 0x9fc00 + 0x7fee0000 + 0x100000000ull);
    CHECK_EQ(memmap_total(map, n, R),
             0x400 + 0x10000 + 0x20000 + 0x10000000 + 0x4000 * 2 + 0x40000);
}

/*
 * An OVMF-like UEFI map, as GRUB converts it: boot services code and data,
 * loader data and conventional memory all become "available" in dozens of
 * adjacent pieces (here 40 of them between 8 MiB and 2 GiB, listed in a
 * scrambled order), broken by ACPI NVS, ACPI reclaim and reserved pieces.
 */
static void ovmf_fragmented(void)
{
    struct mem_region in[MEMMAP_MAX];
    int k = 0;
    in[k++] = (struct mem_region){ 0x0, 0xA0000, A };
    in[k++] = (struct mem_region){ 0x100000, 0x700000, A };
    in[k++] = (struct mem_region){ 0x800000, 0x8000, NVS };
    in[k++] = (struct mem_region){ 0x808000, 0x8000, A };
    in[k++] = (struct mem_region){ 0x810000, 0xF0000, NVS };
    /* [0x900000, 0x7EC00000): 40 adjacent available pieces of uneven sizes. */
    uint64_t cut[41];
    cut[0] = 0x900000;
    cut[40] = 0x7EC00000;
    for (int i = 1; i < 40; i++)
        cut[i] = 0x900000 + (uint64_t)i * 0x1000000 + (uint64_t)(i * 7 % 13) * 0x3000;
    for (int j = 0; j < 40; j++) {
        int i = (j * 17) % 40; /* 17 is coprime with 40: a permutation */
        in[k++] = (struct mem_region){ cut[i], cut[i + 1] - cut[i], A };
    }
    in[k++] = (struct mem_region){ 0x7EC00000, 0x1000, RECLAIM };
    in[k++] = (struct mem_region){ 0x7EC01000, 0x3FF000, A };
    in[k++] = (struct mem_region){ 0x7F000000, 0xB0000, R };
    in[k++] = (struct mem_region){ 0x7F0B0000, 0x8000, RECLAIM };
    in[k++] = (struct mem_region){ 0x7F0B8000, 0x48000, NVS };
    in[k++] = (struct mem_region){ 0x7F100000, 0xE00000, A };
    in[k++] = (struct mem_region){ 0x7FF00000, 0x100000, NVS };
    in[k++] = (struct mem_region){ 0xFFC00000, 0x400000, R };
    int n = normalize(in, k);
    CHECK_MAP(map, n, { 0x0, 0xA0000, A }, { 0x100000, 0x700000, A }, { 0x800000, 0x8000, NVS },
              { 0x808000, 0x8000, A }, { 0x810000, 0xF0000, NVS }, { 0x900000, 0x7E300000, A },
              { 0x7EC00000, 0x1000, RECLAIM }, { 0x7EC01000, 0x3FF000, A },
              { 0x7F000000, 0xB0000, R }, { 0x7F0B0000, 0x8000, RECLAIM },
              { 0x7F0B8000, 0x48000, NVS }, { 0x7F100000, 0xE00000, A },
              { 0x7FF00000, 0x100000, NVS }, { 0xFFC00000, 0x400000, R });
}

/* Holes punched into one big range give more entries than went in; they all
 * come back (the array holds MEMMAP_MAX). */
static void more_entries_out_than_in(void)
{
    struct mem_region in[11];
    in[0] = (struct mem_region){ 0x0, 0x10000000, A };
    for (int i = 1; i <= 10; i++)
        in[i] = (struct mem_region){ (uint64_t)i * 0x1000000, 0x1000, R };
    int n = normalize(in, 11);
    CHECK_EQ(n, 21);
    for (int i = 0; i < 21 && i < n; i++) {
        uint64_t unit = (uint64_t)((i + 1) / 2) * 0x1000000; /* 0, 16M, 16M, 32M, ... */
        uint64_t base = i % 2 ? unit : (i ? unit + 0x1000 : 0);
        uint64_t end = i % 2 ? unit + 0x1000 : (i == 20 ? 0x10000000 : unit + 0x1000000);
        CHECK_EQ(map[i].base, base);
        CHECK_EQ(map[i].len, end - base);
        CHECK_EQ(map[i].type, i % 2 ? R : A);
    }
}

/* max caps the output: the lowest entries are kept; merging still happens
 * into the last kept entry. */
static void max_truncates(void)
{
    const struct mem_region in[] = {
        { 0x5000, 0x1000, A }, { 0x1000, 0x1000, A }, { 0x3000, 0x1000, R },
        { 0x7000, 0x1000, A }, { 0x4000, 0x1000, R },
    };
    memcpy(map, in, sizeof(in));
    int n = memmap_normalize(map, 5, 2);
    CHECK_MAP(map, n, { 0x1000, 0x1000, A }, { 0x3000, 0x2000, R });

    memcpy(map, in, sizeof(in));
    CHECK_EQ(memmap_normalize(map, 5, 0), 0);
}

/* Bytes per type. */
static void total_per_type(void)
{
    int n = NORMALIZE({ 0x0, 0x9F000, A }, { 0x100000, 0x100000, A }, { 0x200000, 0x3000, RECLAIM },
                      { 0x203000, 0x1000, NVS }, { 0xF0000, 0x10000, R });
    CHECK_EQ(memmap_total(map, n, A), 0x9F000 + 0x100000);
    CHECK_EQ(memmap_total(map, n, RECLAIM), 0x3000);
    CHECK_EQ(memmap_total(map, n, NVS), 0x1000);
    CHECK_EQ(memmap_total(map, n, R), 0x10000);
    CHECK_EQ(memmap_total(map, n, MEM_BAD), 0);
}

/* RAM is available, ACPI reclaim or ACPI NVS; overlap is by half-open range. */
static void is_ram(void)
{
    int n = NORMALIZE({ 0x100000, 0x100000, A }, { 0x200000, 0x1000, RECLAIM },
                      { 0x300000, 0x1000, NVS }, { 0x400000, 0x1000, R },
                      { 0x500000, 0x1000, MEM_BAD });
    CHECK(memmap_is_ram(map, n, 0x100000, 1));
    CHECK(memmap_is_ram(map, n, 0x1FFFFF, 1));            /* last byte */
    CHECK(!memmap_is_ram(map, n, 0x0, 0x100000));         /* ends where RAM starts */
    CHECK(memmap_is_ram(map, n, 0x0, 0x100001));          /* one byte into it */
    CHECK(memmap_is_ram(map, n, 0x200000, 0x1000));       /* reclaim */
    CHECK(memmap_is_ram(map, n, 0x300800, 0x10));         /* NVS */
    CHECK(!memmap_is_ram(map, n, 0x400000, 0x1000));      /* reserved */
    CHECK(!memmap_is_ram(map, n, 0x500000, 0x1000));      /* bad */
    CHECK(!memmap_is_ram(map, n, 0x201000, 0xFF000));     /* hole */
    CHECK(memmap_is_ram(map, n, 0x1FF000, 0x100000000));  /* from RAM far past the end */
    CHECK(!memmap_is_ram(map, n, 0x301000, 0x100000000)); /* past the last RAM */
    CHECK(!memmap_is_ram(map, n, 0x401000, 0x100000));
}

/* memmap_clip: entries wholly above the limit go, one across it is cut at
 * it, only RAM types count as cut, and an entry wrapping past 2^64 is cut
 * like any other. */
static void clip_at_limit(void)
{
    struct mem_region m[] = {
        { 0x0, 0x9FC00, MEM_AVAILABLE },
        { 0x100000, 0x7FF00000, MEM_AVAILABLE },
        { 0xFEC00000, 0x1000, MEM_RESERVED },
        { 0xFF00000000, 0x200000000, MEM_AVAILABLE },  /* 1020-1028 GiB: across 1 TiB */
        { 0x10000000000, 0x1000, MEM_ACPI_NVS },       /* at 1 TiB: gone */
        { 0x20000000000, 0x1000, MEM_RESERVED },       /* reserved: not counted */
        { 0xFFFFFFFFFFFFF000, 0x2000, MEM_AVAILABLE }, /* wraps past 2^64 */
    };
    int n = 7;
    CHECK_EQ(memmap_clip(m, &n, 0x10000000000), 0x100000000ull + 0x1000 + 0x2000);
    CHECK_EQ(n, 4);
    CHECK_EQ(m[3].base, 0xFF00000000);
    CHECK_EQ(m[3].len, 0x100000000);
    CHECK_EQ(m[2].base, 0xFEC00000);
    n = 2;
    CHECK_EQ(memmap_clip(m, &n, 0x10000000000), 0); /* all below: nothing changes */
    CHECK_EQ(n, 2);
    CHECK_EQ(m[1].len, 0x7FF00000);
}

int main(void)
{
    RUN(sorts_and_merges_neighbours);
    RUN(unsorted_with_holes);
    RUN(reserved_beats_available);
    RUN(larger_type_wins_among_the_rest);
    RUN(unknown_types_are_reserved);
    RUN(zero_length_entries_vanish);
    RUN(wrapping_entry_is_clipped);
    RUN(identical_duplicates);
    RUN(qemu_e820);
    RUN(ovmf_fragmented);
    RUN(more_entries_out_than_in);
    RUN(max_truncates);
    RUN(total_per_type);
    RUN(is_ram);
    RUN(clip_at_limit);
    return test_finish();
}
