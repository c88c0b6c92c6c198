/*
 * kernel/font.h - ixmetal's own 8x16 bitmap font, drawn for this project
 * (kernel/font.c, under the project's BSD-3-Clause licence): printable ASCII,
 * 0x20-0x7E, and a box for every other byte.
 */
#ifndef KERNEL_FONT_H
#define KERNEL_FONT_H

#include <stdint.h>

#define FONT_WIDTH 8
#define FONT_HEIGHT 16

/* The FONT_HEIGHT rows of c's glyph, top first; bit 7 of a row is its
 * leftmost pixel. */
const uint8_t *font_glyph(unsigned char c);

#endif
