/* tests/unit/test_mempool.c - driver/mempool.c: packet buffer pools. */
#include <stdlib.h>

#include "driver/pktbuf.h"
#include "tests/unit/host.h"

/* DMA memory: every block kept reachable here until given back. */
static void *dma_blocks[64];
static int ndma;

void *dma_alloc(size_t size, size_t align)
{
    void *p = ndma < 64 ? aligned_alloc(align, (size + align - 1) / align * align) : NULL;
    if (p) {
        memset(p, 0, size);
        dma_blocks[ndma++] = p;
    }
    return p;
}

void dma_free(void *p, size_t size)
{
    if (!p) /* as the kernel's: nothing */
        return;
    (void)size;
    for (int i = 0; i < ndma; i++)
        if (dma_blocks[i] == p) {
            free(p);
            dma_blocks[i] = dma_blocks[--ndma];
            return;
        }
    test_fail(__FILE__, __LINE__, "dma_free(%p): not a block handed out", p);
}

/* A new pool: every buffer free, PKT_BUF_SIZE apart, its header pointing home and
 * phys at its own data. */
static void create(void)
{
    struct mempool *mp = mempool_create("t", 8);
    CHECK(mp != NULL);
    CHECK_EQ(mp->count, 8);
    CHECK_EQ(mp->nfree, 8);
    for (uint32_t i = 0; i < 8; i++) {
        CHECK_EQ(mp->bufs[i].index, i);
        CHECK(mp->bufs[i].pool == mp);
        CHECK_EQ(mp->bufs[i].phys, (uint64_t)(uintptr_t)mp->bufs[i].data);
        CHECK_EQ((uintptr_t)&mp->bufs[i] - (uintptr_t)mp->bufs, i * (uintptr_t)PKT_BUF_SIZE);
    }
}

/* Batches: never more than is free; headroom and length reset; distinct
 * buffers; freeing puts them back, the last freed handed out first. */
static void alloc_and_free(void)
{
    struct mempool *mp = mempool_create("t", 8);
    struct pkt_buf *b[10];
    CHECK_EQ(pkt_alloc_batch(mp, b, 5), 5);
    CHECK_EQ(mp->nfree, 3);
    for (int i = 0; i < 5; i++) {
        CHECK_EQ(b[i]->headroom, PKT_HEADROOM);
        CHECK_EQ(b[i]->len, 0);
        for (int j = 0; j < i; j++)
            CHECK(b[i] != b[j]);
    }
    CHECK_EQ(pkt_alloc_batch(mp, b + 5, 5), 3); /* only 3 left */
    CHECK_EQ(mp->nfree, 0);
    CHECK(pkt_alloc(mp) == NULL);
    b[2]->len = 99;
    b[2]->headroom = 7;
    pkt_free(b[2]);
    CHECK_EQ(mp->nfree, 1);
    struct pkt_buf *again = pkt_alloc(mp);
    CHECK(again == b[2]);
    CHECK_EQ(again->headroom, PKT_HEADROOM);
    CHECK_EQ(again->len, 0);
}

/* One batch of buffers from two pools goes back to the right pools. */
static void mixed_pools(void)
{
    struct mempool *a = mempool_create("a", 4), *c = mempool_create("c", 4);
    struct pkt_buf *b[8];
    CHECK_EQ(pkt_alloc_batch(a, b, 4), 4);
    CHECK_EQ(pkt_alloc_batch(c, b + 4, 4), 4);
    struct pkt_buf *mix[8] = { b[0], b[4], b[1], b[5], b[2], b[6], b[3], b[7] };
    pkt_free_batch(mix, 8);
    CHECK_EQ(a->nfree, 4);
    CHECK_EQ(c->nfree, 4);
    for (uint32_t i = 0; i < 4; i++) {
        CHECK(a->free[i]->pool == a);
        CHECK(c->free[i]->pool == c);
    }
}

/* mempool_destroy with every buffer back: both blocks given back (the
 * buffers, then the pool's header and free stack); NULL: nothing. */
static void destroy_gives_memory_back(void)
{
    int before = ndma;
    struct mempool *mp = mempool_create("d", 8);
    CHECK(mp != NULL);
    CHECK_EQ(ndma, before + 2);
    struct pkt_buf *b[8];
    CHECK_EQ(pkt_alloc_batch(mp, b, 8), 8);
    pkt_free_batch(b, 8);
    mempool_destroy(mp);
    CHECK_EQ(ndma, before);
    mempool_destroy(NULL);
    CHECK_EQ(ndma, before);
}

int main(void)
{
    RUN(create);
    RUN(alloc_and_free);
    RUN(mixed_pools);
    RUN(destroy_gives_memory_back);
    return test_finish();
}
