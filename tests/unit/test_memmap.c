/* tests/unit/test_memmap.c - kernel/memmap.c: normalizing boot memory maps. */
#include "kernel/memmap.h"
#include "tests/unit/host.h"

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

int main(void)
{
    RUN(sorts_and_merges_neighbours);
    return test_finish();
}
