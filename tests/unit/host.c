/*
 * tests/unit/host.c - the fakes behind kernel/io.h, kernel/phys.h and
 * kernel/console.h for host unit tests, and the test framework (host.h).
 */
#include "tests/unit/host.h"

#include <stdarg.h>
#include <stdlib.h>

#include "kernel/console.h"
#include "kernel/io.h"
#include "kernel/pci.h"
#include "kernel/phys.h"

/* --- framework ------------------------------------------------------------ */

int test_case_failed;
static int cases_failed;
static const char *current_case = "?";
static const char *program = "?";

void test_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    if (!test_case_failed)
        printf("FAIL %s: %s: ", program, current_case);
    else
        printf("     %s: %s: ", program, current_case);
    printf("%s:%d: ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    test_case_failed = 1;
}

void test_run(const char *name, void (*fn)(void))
{
    current_case = name;
    test_case_failed = 0;
    console_log_clear();
    fake_io_reset();
    fn();
    if (test_case_failed)
        cases_failed++;
    else
        printf("PASS %s: %s\n", program, name);
    fflush(stdout);
}

int test_finish(void)
{
    return cases_failed ? 1 : 0;
}

__attribute__((constructor)) static void name_program(void)
{
    extern char *program_invocation_short_name;
    program = program_invocation_short_name;
}

/* The kernel's panic() ends the test program: a broken invariant is a bug. */
void panic_at(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    printf("FAIL %s: %s: panic at %s:%d: ", program, current_case, file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    exit(1);
}

/* --- console ---------------------------------------------------------------- */

char console_log[65536];
size_t console_log_len;

void console_log_clear(void)
{
    console_log_len = 0;
    console_log[0] = '\0';
}

void console_write(const char *s, size_t n)
{
    if (n > sizeof(console_log) - 1 - console_log_len)
        n = sizeof(console_log) - 1 - console_log_len;
    memcpy(console_log + console_log_len, s, n);
    console_log_len += n;
    console_log[console_log_len] = '\0';
}

int console_contains(const char *s)
{
    return strstr(console_log, s) != NULL;
}

unsigned console_count(const char *s)
{
    unsigned n = 0;
    for (const char *p = console_log; (p = strstr(p, s)) != NULL; p++)
        n++;
    return n;
}

/* --- fake physical memory --------------------------------------------------- */

uint8_t fake_phys[FAKE_PHYS_SIZE];
static uint8_t zeros[1 << 16];

void fake_phys_clear(void)
{
    memset(fake_phys, 0, sizeof(fake_phys));
}

int fake_phys_wild;

/* A read that reaches past fake memory, in wild mode: what fake memory
 * holds of it, then zeros, in a buffer of its own. Four buffers in turn: a
 * parser holds a table while it reads the tables it points to. */
static const void *wild_read(uint64_t pa, uint64_t len)
{
    static uint8_t out[4][FAKE_PHYS_WILD_MAX];
    static unsigned next;
    if (len > FAKE_PHYS_WILD_MAX) {
        printf("FAIL %s: %s: a read of %llu bytes at 0x%llx, more than any parser caps a length "
               "to\n",
               program, current_case, (unsigned long long)len, (unsigned long long)pa);
        abort();
    }
    uint8_t *o = out[next++ % 4];
    uint64_t in = pa < FAKE_PHYS_SIZE ? FAKE_PHYS_SIZE - pa : 0;
    if (in > len)
        in = len;
    if (in)
        memcpy(o, fake_phys + pa, in);
    memset(o + in, 0, len - in);
    return o;
}

const void *phys_ptr(uint64_t pa, uint64_t len)
{
    if (fake_phys_wild && (len > FAKE_PHYS_SIZE || pa > FAKE_PHYS_SIZE - len))
        return wild_read(pa, len);
    if (len > FAKE_PHYS_SIZE || pa - FAKE_PHYS_BASE > FAKE_PHYS_SIZE - len) { /* also pa < base */
        test_fail(__FILE__, __LINE__, "read of %llu bytes at 0x%llx, outside fake memory",
                  (unsigned long long)len, (unsigned long long)pa);
        if (len > sizeof(zeros)) {
            printf("FAIL %s: %s: read too large to fake; stopping\n", program, current_case);
            exit(1);
        }
        return zeros;
    }
    return fake_phys + (pa - FAKE_PHYS_BASE);
}

/* --- fake I/O ----------------------------------------------------------------- */

struct fake_io fake_io;

void fake_io_reset(void)
{
    memset(&fake_io, 0, sizeof(fake_io));
}

static uint32_t in_any(uint16_t port, int size)
{
    return fake_io.in ? fake_io.in(port, size) : 0xFFFFFFFFu >> (32 - 8 * size);
}

static void out_any(uint16_t port, uint32_t v, int size)
{
    if (fake_io.out)
        fake_io.out(port, v, size);
}

static uint32_t mmio_in(uint64_t addr, int size)
{
    return fake_io.mmio_read ? fake_io.mmio_read(addr, size) : 0xFFFFFFFFu >> (32 - 8 * size);
}

static void mmio_out(uint64_t addr, uint32_t v, int size)
{
    if (fake_io.mmio_write)
        fake_io.mmio_write(addr, v, size);
}

uint8_t inb(uint16_t port)
{
    return (uint8_t)in_any(port, 1);
}
uint16_t inw(uint16_t port)
{
    return (uint16_t)in_any(port, 2);
}
uint32_t inl(uint16_t port)
{
    return in_any(port, 4);
}
void outb(uint16_t port, uint8_t v)
{
    out_any(port, v, 1);
}
void outw(uint16_t port, uint16_t v)
{
    out_any(port, v, 2);
}
void outl(uint16_t port, uint32_t v)
{
    out_any(port, v, 4);
}
uint32_t mmio_read32(uint64_t a)
{
    return mmio_in(a, 4);
}
uint16_t mmio_read16(uint64_t a)
{
    return (uint16_t)mmio_in(a, 2);
}
uint8_t mmio_read8(uint64_t a)
{
    return (uint8_t)mmio_in(a, 1);
}
void mmio_write32(uint64_t a, uint32_t v)
{
    mmio_out(a, v, 4);
}
/* A 64-bit access reaches the handlers as its two halves, the low one
 * first (a device model acts on the high half's write, where VT-d's
 * command bits are). */
uint64_t mmio_read64(uint64_t a)
{
    return mmio_in(a, 4) | (uint64_t)mmio_in(a + 4, 4) << 32;
}
void mmio_write64(uint64_t a, uint64_t v)
{
    mmio_out(a, (uint32_t)v, 4);
    mmio_out(a + 4, (uint32_t)(v >> 32), 4);
}
void mmio_write16(uint64_t a, uint16_t v)
{
    mmio_out(a, v, 2);
}
void mmio_write8(uint64_t a, uint8_t v)
{
    mmio_out(a, v, 1);
}
void mmio_wc_flush(void)
{
    if (fake_io.wc_flush)
        fake_io.wc_flush();
}

/* --- fake PCI Command registers --------------------------------------------------- */

uint16_t fake_pci_command[8];

/* Weak: kernel/pci.c's, where a test links it, take their place. */
__attribute__((weak)) void pci_enable(const struct pci_dev *d, uint16_t bits)
{
    fake_pci_command[d->fn & 7] |= bits;
}

__attribute__((weak)) void pci_disable(const struct pci_dev *d, uint16_t bits)
{
    fake_pci_command[d->fn & 7] &= (uint16_t)~bits;
}
