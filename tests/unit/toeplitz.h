/*
 * tests/unit/toeplitz.h - the tests' own Toeplitz hash (RSS), written apart
 * from the device model's and the drivers', so that both can be checked
 * against it (tests/unit/test_ixgbe_model.c first checks it against
 * Microsoft's published verification suite).
 */
#ifndef TESTS_UNIT_TOEPLITZ_H
#define TESTS_UNIT_TOEPLITZ_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* The key of Microsoft's RSS verification suite (also the datasheet's,
 * §7.1.2.8.3). */
static const uint8_t MS_KEY[40] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
    0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
    0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* The test's own Toeplitz hash, from Microsoft's definition and written
 * apart from the model's: the key is a string of 320 bits, the MSB of
 * key[0] first; for every set bit i of the input (the MSB of in[0] is bit
 * 0), the 32 key bits starting at bit i are XORed into the result. */
static uint32_t key_bits(const uint8_t key[40], uint32_t at)
{
    uint32_t v = 0;
    for (uint32_t k = at; k < at + 32; k++)
        v = v << 1 | (key[k / 8] >> (7 - k % 8) & 1u);
    return v;
}

static uint32_t ref_toeplitz(const uint8_t key[40], const uint8_t *in, uint32_t n)
{
    uint32_t hash = 0;
    for (uint32_t i = 0; i < 8 * n; i++)
        if (in[i / 8] >> (7 - i % 8) & 1u)
            hash ^= key_bits(key, i);
    return hash;
}

/* The hash input of Microsoft's examples: source address, destination
 * address (alen bytes each), then, with ports, source and destination port
 * in network order. */
static uint32_t ref_hash(const uint8_t key[40], const uint8_t *src, const uint8_t *dst,
                         uint32_t alen, bool ports, uint16_t sport, uint16_t dport)
{
    uint8_t in[36];
    uint32_t n = 2 * alen;
    memcpy(in, src, alen);
    memcpy(in + alen, dst, alen);
    if (ports) {
        in[n++] = (uint8_t)(sport >> 8);
        in[n++] = (uint8_t)sport;
        in[n++] = (uint8_t)(dport >> 8);
        in[n++] = (uint8_t)dport;
    }
    return ref_toeplitz(key, in, n);
}

#endif
