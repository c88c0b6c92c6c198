/*
 * tests/unit/test_kprintf.c - kernel/kprintf.c: the formatter behind every
 * message the kernel prints.
 *
 * Expected strings follow C11 §7.21.6.1 (fprintf) for what C defines, and
 * kernel/kprintf.h for the rest (%p as 0x and lowercase hex, unknown
 * conversions printed as written).
 */
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>

#include "kernel/kprintf.h"
#include "tests/unit/host.h"

/* Formats with no compile-time format check: for formats built at run time
 * and for ones GCC rightly warns about (unknown conversions, '-' with '0'). */
static int fmt_unchecked(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

/* The text and the returned length of one format. */
#define EXPECT(want, ...)                                                                          \
    do {                                                                                           \
        char b_[256];                                                                              \
        int n_ = ksnprintf(b_, sizeof(b_), __VA_ARGS__);                                           \
        CHECK_STR(b_, want);                                                                       \
        CHECK_EQ(n_, strlen(want));                                                                \
    } while (0)

#define EXPECT_UNCHECKED(want, ...)                                                                \
    do {                                                                                           \
        char b_[256];                                                                              \
        int n_ = fmt_unchecked(b_, sizeof(b_), __VA_ARGS__);                                       \
        CHECK_STR(b_, want);                                                                       \
        CHECK_EQ(n_, strlen(want));                                                                \
    } while (0)

/* %d and %i: sign, zero, the int extremes. */
static void signed_decimal(void)
{
    EXPECT("0", "%d", 0);
    EXPECT("42", "%d", 42);
    EXPECT("-42", "%d", -42);
    EXPECT("2147483647", "%d", INT_MAX);
    EXPECT("-2147483648", "%d", INT_MIN);
    EXPECT("-7", "%i", -7);
    EXPECT("a1b-2c", "a%db%ic", 1, -2);
}

/* %u %x %X: unsigned, both hex cases, no prefix. */
static void unsigned_and_hex(void)
{
    EXPECT("0", "%u", 0u);
    EXPECT("4294967295", "%u", UINT_MAX);
    EXPECT("ff", "%x", 255u);
    EXPECT("ABCDEF", "%X", 0xABCDEFu);
    EXPECT("deadbeef", "%x", 0xDEADBEEFu);
    EXPECT("0", "%x", 0u);
}

/* l, ll, z: 64-bit values, INT64_MIN negated without overflow. */
static void length_modifiers(void)
{
    EXPECT("-9223372036854775808", "%ld", (long)INT64_MIN);
    EXPECT("-9223372036854775808", "%lld", (long long)INT64_MIN);
    EXPECT("9223372036854775807", "%lli", (long long)INT64_MAX);
    EXPECT("18446744073709551615", "%lu", (unsigned long)UINT64_MAX);
    EXPECT("ffffffffffffffff", "%llx", (unsigned long long)UINT64_MAX);
    EXPECT("FFFFFFFF00000000", "%lX", 0xFFFFFFFF00000000ul);
    EXPECT("18446744073709551615", "%zu", (size_t)SIZE_MAX);
    EXPECT("1000", "%zx", (size_t)0x1000);
    EXPECT("-5", "%zd", (long)-5);
    /* A plain %x reads an unsigned int, not the 64-bit register it came in. */
    EXPECT("ffffffff 1", "%x %d", 0xFFFFFFFFu, 1);
}

/* %p: 0x and lowercase hex; width applies to the whole. */
static void pointers(void)
{
    EXPECT("0x1234", "%p", (void *)0x1234);
    EXPECT("0x0", "%p", (void *)0);
    EXPECT("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
    EXPECT("    0x1234", "%10p", (void *)0x1234);
    EXPECT("0x1234    |", "%-10p|", (void *)0x1234);
    EXPECT_UNCHECKED("0x00001234", "%010p", (void *)0x1234);
}

/* %s: width, '-', precision (also through '*'), NULL. */
static void strings(void)
{
    EXPECT("abc", "%s", "abc");
    EXPECT("", "%s", "");
    EXPECT_UNCHECKED("(null)", "%s", (const char *)NULL);
    EXPECT("  abc", "%5s", "abc");
    EXPECT("abc  |", "%-5s|", "abc");
    EXPECT("ab", "%.2s", "abc");
    EXPECT("abc", "%.10s", "abc");
    EXPECT("", "%.0s", "abc");
    EXPECT("    a", "%5.1s", "abc");
    EXPECT("    ab", "%*.*s", 6, 2, "abcdef");
    EXPECT_UNCHECKED("(nu", "%.3s", (const char *)NULL);
}

/* %.Ns reads at most N bytes: the array need not hold a NUL (C11 §7.21.6.1p8). */
static void string_precision_reads_no_further(void)
{
    char *sig = malloc(4); /* heap, so ASan sees a read of sig[4] */
    memcpy(sig, "APIC", 4);
    EXPECT("APIC", "%.4s", sig);
    EXPECT("AP", "%.*s", 2, sig);
    free(sig);
}

/* %c and %%. */
static void chars_and_percent(void)
{
    EXPECT("x", "%c", 'x');
    EXPECT("  x", "%3c", 'x');
    EXPECT("x  |", "%-3c|", 'x');
    EXPECT("100%", "100%%");
    EXPECT("%d", "%%d");
}

/* %c of a NUL character writes a NUL, as C does: the length counts it. */
static void char_nul(void)
{
    char buf[8];
    memset(buf, 'z', sizeof(buf));
    CHECK_EQ(ksnprintf(buf, sizeof(buf), "a%cb", 0), 3);
    CHECK_EQ(buf[0], 'a');
    CHECK_EQ(buf[1], 0);
    CHECK_EQ(buf[2], 'b');
    CHECK_EQ(buf[3], 0);
}

/* A width or precision written with absurd digits is capped, not an
 * integer overflow: 4096 spaces, then the number. */
static void huge_width_capped(void)
{
    static char buf[8192];
    CHECK_EQ(fmt_unchecked(buf, sizeof(buf), "%99999999999d", 7), 4096);
    CHECK_EQ(buf[0], ' ');
    CHECK_EQ(buf[4094], ' ');
    CHECK_EQ(buf[4095], '7');
}

/* Width, '-', '0' and precision on numbers, each rule on its own. */
static void numeric_flags_width_precision(void)
{
    EXPECT("   42", "%5d", 42);
    EXPECT("42   |", "%-5d|", 42);
    EXPECT("00042", "%05d", 42);
    EXPECT("-0042", "%05d", -42);
    EXPECT("000000ff", "%08x", 0xFFu);
    EXPECT("42", "%1d", 42);                  /* width smaller than the number: no cut */
    EXPECT_UNCHECKED("42   |", "%-05d|", 42); /* '-' overrides '0' */
    EXPECT("007", "%.3d", 7);
    EXPECT("-007", "%.3d", -7);
    EXPECT("    -007", "%8.3d", -7);
    EXPECT_UNCHECKED("     007", "%08.3d", 7); /* a precision turns '0' off */
    EXPECT("12345", "%.3d", 12345);
}

/* C11 §7.21.6.1p8: zero with precision 0 prints no digits at all. */
static void zero_with_zero_precision(void)
{
    EXPECT("", "%.0d", 0);
    EXPECT("     ", "%5.0d", 0);
    EXPECT("", "%.0x", 0u);
    EXPECT("", "%.0u", 0u);
    EXPECT("0", "%.1d", 0);
    EXPECT("1", "%.0d", 1);
    EXPECT("000", "%.3x", 0u);
}

/* '*' width and precision from the arguments; a negative width means '-',
 * a negative precision means none (C11 §7.21.6.1p5). */
static void star_width_and_precision(void)
{
    EXPECT("   42", "%*d", 5, 42);
    EXPECT("42   |", "%*d|", -5, 42);
    EXPECT("42   |", "%-*d|", 5, 42);
    EXPECT("007", "%.*d", 3, 7);
    EXPECT("7", "%.*d", -1, 7);
    EXPECT("00042", "%0*d", 5, 42);
    EXPECT("42   |", "%0*d|", -5, 42);
    EXPECT("abc", "%.*s", -1, "abc");
    EXPECT("  007 x", "%*.*d %s", 5, 3, 7, "x"); /* arguments stay in step */
}

/* Truncation: the return value is the full length; the buffer always ends
 * in a NUL and nothing is written past size. */
static void truncation(void)
{
    char b[16];
    memset(b, 'X', sizeof(b));
    CHECK_EQ(ksnprintf(b, 5, "%s", "abcdefgh"), 8);
    CHECK_STR(b, "abcd");
    CHECK_EQ(b[5], 'X');

    memset(b, 'X', sizeof(b));
    CHECK_EQ(ksnprintf(b, 0, "%d", 12345), 5);
    CHECK_EQ(b[0], 'X');

    memset(b, 'X', sizeof(b));
    CHECK_EQ(ksnprintf(b, 1, "%d", 12345), 5);
    CHECK_EQ(b[0], '\0');
    CHECK_EQ(b[1], 'X');

    memset(b, 'X', sizeof(b));
    CHECK_EQ(ksnprintf(b, 6, "%d", 12345), 5); /* exactly fits */
    CHECK_STR(b, "12345");
    CHECK_EQ(b[6], 'X');

    memset(b, 'X', sizeof(b));
    CHECK_EQ(ksnprintf(b, 5, "%d", 12345), 5); /* one short */
    CHECK_STR(b, "1234");

    memset(b, 'X', sizeof(b));
    CHECK_EQ(ksnprintf(b, 4, "%10d|", 7), 11); /* padding counts too */
    CHECK_STR(b, "   ");
    CHECK_EQ(b[4], 'X');

    CHECK_EQ(ksnprintf(NULL, 0, "%s=%d", "key", 100), 7); /* C allows NULL with 0 */
}

/* An unknown conversion is printed as written and takes no argument. */
static void unknown_conversion(void)
{
    EXPECT_UNCHECKED("%q", "%q");
    EXPECT_UNCHECKED("a%qb", "a%qb");
    EXPECT_UNCHECKED("%q5", "%q%d", 5);
}

/* A lone '%' at the end is printed, and the formatter stops there. */
static void lone_trailing_percent(void)
{
    EXPECT_UNCHECKED("abc%", "abc%");
    EXPECT_UNCHECKED("%", "%");
    char b[8];
    memset(b, 'X', sizeof(b));
    CHECK_EQ(fmt_unchecked(b, sizeof(b), "ab%"), 3);
    CHECK_STR(b, "ab%");
}

/* kprintf() hands the whole message to the console, however long: in
 * pieces of its 256-byte buffer, nothing cut (a long command line once lost
 * its end and the next line's newline). */
static void kprintf_to_console(void)
{
    CHECK_EQ(kprintf("x=%d %s\n", 5, "ok"), 7);
    CHECK_STR(console_log, "x=5 ok\n");

    static const size_t lengths[] = { 255, 256, 257, 512, 699, 4000 };
    for (unsigned i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
        static char longs[4001];
        size_t n = lengths[i];
        for (size_t j = 0; j < n; j++)
            longs[j] = (char)('a' + j % 26);
        longs[n] = '\0';
        console_log_clear();
        CHECK_EQ(kprintf("%s|\n", longs), n + 2);
        CHECK_EQ(console_log_len, n + 2);
        CHECK(memcmp(console_log, longs, n) == 0);
        CHECK(memcmp(console_log + n, "|\n", 2) == 0);
    }
}

/* Cross-check against the host C library for every combination of flags,
 * width and precision whose result C defines. */
static int mismatches;

static void compare(const char *fmt, ...)
{
    char want[128], got[128];
    va_list ap, ap2;
    va_start(ap, fmt);
    va_copy(ap2, ap);
    int nw = vsnprintf(want, sizeof(want), fmt, ap);
    int ng = kvsnprintf(got, sizeof(got), fmt, ap2);
    va_end(ap2);
    va_end(ap);
    if ((nw != ng || strcmp(want, got) != 0) && mismatches++ < 20)
        test_fail(__FILE__, __LINE__, "format \"%s\": got \"%s\" (%d), C library \"%s\" (%d)", fmt,
                  got, ng, want, nw);
}

static void matches_c_library(void)
{
    static const char *const flags[] = { "", "-", "0", "-0" };
    static const char *const widths[] = { "", "1", "6", "25" };
    static const char *const precs[] = { "", ".0", ".1", ".5", ".22" };
    static const int ints[] = { 0, 1, -1, 42, -42, INT_MAX, INT_MIN };
    static const unsigned uints[] = { 0, 1, 42, 0xDEADBEEF, UINT_MAX };
    static const long long lls[] = { 0, -1, LLONG_MIN, LLONG_MAX, 1234567890123ll };
    static const char *const strs[] = { "", "a", "hello, world" };
    char fmt[32];
    int n = 0;

    for (unsigned f = 0; f < 4; f++)
        for (unsigned w = 0; w < 4; w++)
            for (unsigned p = 0; p < 5; p++) {
                const char *base = flags[f], *wd = widths[w], *pr = precs[p];
                for (const char *c = "diuxX"; *c; c++) {
                    snprintf(fmt, sizeof(fmt), "[%%%s%s%s%c]", base, wd, pr, *c);
                    for (unsigned i = 0; i < 7; i++, n++) {
                        if (*c == 'd' || *c == 'i')
                            compare(fmt, ints[i]);
                        else if (i < 5)
                            compare(fmt, uints[i]);
                    }
                    snprintf(fmt, sizeof(fmt), "[%%%s%s%sll%c]", base, wd, pr, *c);
                    for (unsigned i = 0; i < 5; i++, n++)
                        compare(fmt, lls[i]);
                }
                if (strchr(base, '0'))
                    continue; /* '0' with %s is undefined */
                snprintf(fmt, sizeof(fmt), "[%%%s%s%ss]", base, wd, pr);
                for (unsigned i = 0; i < 3; i++, n++)
                    compare(fmt, strs[i]);
            }
    CHECK(n > 2000); /* the loops ran */
    CHECK_EQ(mismatches, 0);
}

int main(void)
{
    RUN(signed_decimal);
    RUN(unsigned_and_hex);
    RUN(length_modifiers);
    RUN(pointers);
    RUN(strings);
    RUN(string_precision_reads_no_further);
    RUN(chars_and_percent);
    RUN(char_nul);
    RUN(huge_width_capped);
    RUN(numeric_flags_width_precision);
    RUN(zero_with_zero_precision);
    RUN(star_width_and_precision);
    RUN(truncation);
    RUN(unknown_conversion);
    RUN(lone_trailing_percent);
    RUN(kprintf_to_console);
    RUN(matches_c_library);
    return test_finish();
}
