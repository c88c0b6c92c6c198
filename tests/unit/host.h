/*
 * tests/unit/host.h - the host side of the seam: what a unit test links in
 * place of hardware (kernel/io.h and kernel/phys.h with IXM_HOST), plus a
 * small test framework.
 *
 * Output: one line per test case, "PASS <program>: <case>" or
 * "FAIL <program>: <case>: <file>:<line>: <what>", read by tests/run.py.
 * A program exits 1 if any case failed.
 */
#ifndef TESTS_UNIT_HOST_H
#define TESTS_UNIT_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* --- framework ------------------------------------------------------------ */

extern int test_case_failed; /* set by CHECK in the running case */
void test_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Runs fn as one case; returns at the end, whatever the checks said. */
void test_run(const char *name, void (*fn)(void));
#define RUN(fn) test_run(#fn, fn)
/* Prints nothing more; returns the exit status for main(). */
int test_finish(void);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            test_fail(__FILE__, __LINE__, "expected %s", #cond);                                   \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        unsigned long long _a = (unsigned long long)(a), _b = (unsigned long long)(b);             \
        if (_a != _b)                                                                              \
            test_fail(__FILE__, __LINE__, "%s == 0x%llx, expected %s == 0x%llx", #a, _a, #b, _b);  \
    } while (0)

#define CHECK_STR(a, b)                                                                            \
    do {                                                                                           \
        const char *_a = (a), *_b = (b);                                                           \
        if (!_a || !_b || strcmp(_a, _b) != 0)                                                     \
            test_fail(__FILE__, __LINE__, "%s == \"%s\", expected \"%s\"", #a, _a ? _a : "(null)", \
                      _b ? _b : "(null)");                                                         \
    } while (0)

/* --- console: what the code under test printed with kprintf ---------------- */

extern char console_log[65536];
extern size_t console_log_len;
void console_log_clear(void);
/* True if the console output so far contains s. */
int console_contains(const char *s);
/* How many times s occurs in the console output so far. */
unsigned console_count(const char *s);

/* --- fake physical memory (kernel/phys.h) ---------------------------------- */

/*
 * phys_ptr(pa, len) returns a pointer into fake_phys for addresses in
 * [FAKE_PHYS_BASE, FAKE_PHYS_BASE + FAKE_PHYS_SIZE); any other read fails
 * the running case (the parser looked outside what the test laid out) and
 * returns a pointer to zeros so the code can carry on.
 */
#define FAKE_PHYS_BASE 0x0ull
#define FAKE_PHYS_SIZE (2u << 20) /* the first 2 MiB: BIOS areas included */
extern uint8_t fake_phys[FAKE_PHYS_SIZE];
void fake_phys_clear(void);
/*
 * Set by the fuzz targets (tests/fuzz/): a read outside fake memory returns
 * zeros past fake_phys's end and fails nothing. In the kernel everything
 * below 4 GiB is mapped, so a lie's pointer reads whatever is there; only
 * what the parser does with it is under test. At most FAKE_PHYS_WILD_MAX
 * bytes in one read (more than any cap the parsers put on a length).
 */
extern int fake_phys_wild;
#define FAKE_PHYS_WILD_MAX (17u << 20)

/* --- fake port and MMIO I/O (kernel/io.h) ---------------------------------- */

/* A test installs handlers; the defaults read all ones and ignore writes. */
struct fake_io {
    uint32_t (*in)(uint16_t port, int size);
    void (*out)(uint16_t port, uint32_t v, int size);
    uint32_t (*mmio_read)(uint64_t addr, int size);
    void (*mmio_write)(uint64_t addr, uint32_t v, int size);
    void (*wc_flush)(void); /* mmio_wc_flush() */
};
extern struct fake_io fake_io;
void fake_io_reset(void);

/* --- fake PCI Command registers (kernel/pci.h pci_enable, pci_disable) ------ */

/* The Command register of function fn (0..7) of any device: what a driver's
 * open turns on, and off again when the open fails. A test that links
 * kernel/pci.c gets the real pci_enable and pci_disable instead. */
extern uint16_t fake_pci_command[8];

#endif
