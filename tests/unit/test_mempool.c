/* tests/unit/test_mempool.c - driver/mempool.c: packet buffer pools. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* Runs fn in a child process and returns what it printed (up to 4 KiB) and
 * its exit status: a panic ends the program (tests/unit/host.c). */
static int in_child(void (*fn)(void), char *out, size_t size)
{
    int fds[2], status = -1;
    if (pipe(fds))
        return -1;
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        fn();
        fflush(stdout);
        _exit(0);
    }
    close(fds[1]);
    size_t got = 0;
    ssize_t r;
    while (got < size - 1 && (r = read(fds[0], out + got, size - 1 - got)) > 0)
        got += (size_t)r;
    out[got] = '\0';
    close(fds[0]);
    waitpid(pid, &status, 0);
    return status;
}

static void free_one_twice(void)
{
    struct mempool *mp = mempool_create("twice", 4);
    struct pkt_buf *b = pkt_alloc(mp);
    pkt_free(b);
    pkt_free(b); /* the pool is full again: panic */
}

/* Inside a batch of one pool's buffers: the run fills the pool, and the
 * next buffer of the same pool is one freed twice. */
static void free_twice_in_a_batch(void)
{
    struct mempool *mp = mempool_create("batch", 4);
    struct pkt_buf *b[5];
    pkt_alloc_batch(mp, b, 4);
    b[4] = b[1];
    pkt_free_batch(b, 5);
}

/* A buffer freed into a full pool panics, alone or inside a batch, naming
 * the pool and the buffer; a batch that only fills its pool does not. */
static void double_free_panics(void)
{
    char out[4096];
    int st = in_child(free_one_twice, out, sizeof(out));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CHECK(strstr(out, "mempool twice: buffer 0 freed into a full pool (freed twice?)") != NULL);
    st = in_child(free_twice_in_a_batch, out, sizeof(out));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CHECK(strstr(out, "mempool batch: buffer 1 freed into a full pool (freed twice?)") != NULL);
    struct mempool *mp = mempool_create("full", 4);
    struct pkt_buf *b[4];
    CHECK_EQ(pkt_alloc_batch(mp, b, 4), 4);
    pkt_free_batch(b, 4);
    CHECK_EQ(mp->nfree, 4);
}

#ifdef MEMPOOL_CHECKS
static void free_into_wrong_pool(void)
{
    struct mempool *a = mempool_create("a", 4), *c = mempool_create("c", 4);
    struct pkt_buf *b = pkt_alloc(a);
    pkt_alloc(c);
    b->pool = c; /* a header that names a pool not its own */
    pkt_free(b);
}

static void free_twice_not_full(void)
{
    struct mempool *mp = mempool_create("half", 4);
    struct pkt_buf *b[2];
    pkt_alloc_batch(mp, b, 2);
    pkt_free(b[1]);
    pkt_free(b[1]); /* the pool has room: only the buffer's own flag tells */
}

/* A receive ring's way of taking buffers (pkt_stack_top, pkt_stack_taken)
 * marks them taken too: freeing one is no double free. */
static void free_after_stack_take(void)
{
    struct mempool *mp = mempool_create("stack", 4);
    struct pkt_buf *b = pkt_stack_top(mp)[-1];
    pkt_stack_taken(mp, 2);
    pkt_free(b);
    pkt_free(b); /* the pool has room for one more */
}

/* MEMPOOL_CHECKS: a buffer freed into a pool not its own, or freed while
 * free though its pool has room, panics; so does a buffer a ring took off
 * the stack and freed twice. Without the checks the image's data path pays
 * for neither (test_mempool_nochecks does not run this case). */
static void checks_catch(void)
{
    char out[4096];
    int st = in_child(free_into_wrong_pool, out, sizeof(out));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CHECK(strstr(out, "mempool c: buffer ") && strstr(out, "is not its own (wrong pool)"));
    st = in_child(free_twice_not_full, out, sizeof(out));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CHECK(strstr(out, "mempool half: buffer 1 freed while free (freed twice)") != NULL);
    st = in_child(free_after_stack_take, out, sizeof(out));
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1);
    CHECK(strstr(out, "mempool stack: buffer 0 freed while free (freed twice)") != NULL);
}
#endif

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
    RUN(double_free_panics);
#ifdef MEMPOOL_CHECKS
    RUN(checks_catch);
#endif
    RUN(destroy_gives_memory_back);
    return test_finish();
}
