/*
 * driver/mempool.c - fixed-size pools of packet buffers (see pktbuf.h).
 *
 * The free list is a stack of buffer pointers: allocating and freeing a
 * batch moves n pointers, no search, no arithmetic, no lock. The stack is
 * LIFO on purpose: the buffer freed last is the one most likely still in
 * cache.
 */
#include "driver/pktbuf.h"

#include "driver/platform.h"

struct mempool *mempool_create(const char *name, uint32_t count)
{
    size_t bytes = (size_t)count * sizeof(struct pkt_buf);
    struct mempool *mp = cpu_alloc(sizeof(*mp) + count * sizeof(struct pkt_buf *), 64);
    struct pkt_buf *bufs = mp ? dma_alloc(bytes, 4096) : NULL;
    if (!bufs) {
        kprintf("mempool %s: no memory for %u buffers (%zu KiB)\n", name, count, bytes >> 10);
        cpu_free(mp, sizeof(*mp) + count * sizeof(struct pkt_buf *));
        return NULL;
    }
    ksnprintf(mp->name, sizeof(mp->name), "%s", name);
    mp->bufs = bufs;
    mp->count = count;
    mp->free = (struct pkt_buf **)(mp + 1);
    for (uint32_t i = 0; i < count; i++) {
        bufs[i].phys = virt_to_phys(bufs[i].data);
        bufs[i].pool = mp;
        bufs[i].index = i;
        bufs[i].on_stack = 1;
        mp->free[i] = &bufs[count - 1 - i]; /* buffer 0 on top */
    }
    mp->nfree = count;
    return mp;
}

void mempool_destroy(struct mempool *mp)
{
    if (!mp)
        return;
    if (mp->nfree != mp->count)
        panic("mempool %s: destroyed with %u of its %u buffers out", mp->name,
              mp->count - mp->nfree, mp->count);
    uint32_t count = mp->count;
    dma_free(mp->bufs, (size_t)count * sizeof(struct pkt_buf));
    cpu_free(mp, sizeof(*mp) + count * sizeof(struct pkt_buf *));
}

/* The pool's count of free buffers lives in a local while a batch is
 * taken: stores to the buffers could otherwise alias it, and the compiler
 * would reload and store it for every buffer. */
uint32_t pkt_alloc_batch(struct mempool *mp, struct pkt_buf **bufs, uint32_t n)
{
    uint32_t nfree = mp->nfree;
    if (n > nfree)
        n = nfree;
    struct pkt_buf *const *free = mp->free;
    for (uint32_t i = 0; i < n; i++) {
        struct pkt_buf *b = free[--nfree];
        b->headroom = PKT_HEADROOM;
        b->len = 0;
        if (MEMPOOL_CHECKED)
            b->on_stack = 0;
        bufs[i] = b;
    }
    mp->nfree = nfree;
    return n;
}

struct pkt_buf *pkt_alloc(struct mempool *mp)
{
    struct pkt_buf *b;
    return pkt_alloc_batch(mp, &b, 1) ? b : NULL;
}

/* MEMPOOL_CHECKS (pktbuf.h): b is mp's, and not free already. */
static inline void check_free(const struct mempool *mp, struct pkt_buf *b)
{
    if (!MEMPOOL_CHECKED)
        return;
    if (b->index >= mp->count || b != &mp->bufs[b->index])
        panic("mempool %s: buffer %p freed into it is not its own (wrong pool)", mp->name,
              (void *)b);
    if (b->on_stack)
        panic("mempool %s: buffer %u freed while free (freed twice)", mp->name, b->index);
    b->on_stack = 1;
}

/* Each run of buffers of one pool goes onto its stack in one go: the
 * pool's count and room are read once a run, and a buffer costs a look at
 * its pool and a store. A run stops where its pool is full: a buffer for a
 * full pool was freed twice. */
void pkt_free_batch(struct pkt_buf **bufs, uint32_t n)
{
    for (size_t i = 0; i < n;) {
        struct pkt_buf *b = bufs[i], **run = bufs + i;
        struct mempool *mp = b->pool;
        uint32_t nfree = mp->nfree, room = mp->count - nfree;
        if (!room)
            panic("mempool %s: buffer %u freed into a full pool (freed twice?)", mp->name,
                  b->index);
        struct pkt_buf **top = mp->free + nfree;
        size_t k = 1, max = n - i < room ? n - i : room;
        check_free(mp, b);
        top[0] = b;
        /* unrolled: the loop's own compare, branch and count would
         * otherwise be a third of what a buffer costs (make bench) */
#pragma GCC unroll 4
        for (; k < max; k++) {
            b = run[k];
            if (b->pool != mp)
                break;
            check_free(mp, b);
            top[k] = b;
        }
        mp->nfree = nfree + (uint32_t)k;
        i += k;
    }
}
