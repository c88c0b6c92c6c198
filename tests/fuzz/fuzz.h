/*
 * tests/fuzz/fuzz.h - what the libFuzzer targets share (tests/fuzz/fuzz_*.c).
 *
 * Each target hands its input to the real parser in ixmetal's sources,
 * behind the same host seam as the unit tests (tests/unit/host.c): fake
 * physical memory, fake port and MMIO I/O, the console into a buffer. A
 * crash, a sanitizer report, a panic() or a broken FUZZ_CHECK is a finding.
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "tests/unit/host.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the parser left must hold whatever the input was: a broken promise
 * aborts, which libFuzzer reports as a crash and keeps the input. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed\n", __FILE__, __LINE__, #cond);          \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* True if the string in the array of n bytes ends within it. */
static inline int fuzz_terminated(const char *s, size_t n)
{
    return memchr(s, '\0', n) != NULL;
}

/* Little-endian reads from the input, 0 past its end. */
static inline uint32_t fuzz_u32(const uint8_t *d, size_t size, size_t at)
{
    uint32_t v = 0;
    for (size_t i = 0; i < 4; i++)
        if (at + i < size)
            v |= (uint32_t)d[at + i] << (8 * i);
    return v;
}

#endif
