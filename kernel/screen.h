/*
 * kernel/screen.h - kernel output on the screen the boot loader left: a VGA
 * text buffer, or a linear framebuffer drawn with kernel/font.h. Lines wrap
 * at the right edge; at the bottom everything moves up one line.
 *
 * Nothing here reads the screen back: what is shown is kept as characters,
 * and moving up redraws only the cells that change, so the screen (mapped
 * write-combining or uncached, both slow to read) is only written. Callers
 * let one core at a time in (kernel/console.c); should two come in all the
 * same, nothing is written outside the grid or screen_span().
 */
#ifndef KERNEL_SCREEN_H
#define KERNEL_SCREEN_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/bootinfo.h"

/* The part of a larger screen that is used: 1920x1088 pixels at most,
 * which bounds what clearing it and moving up one line cost
 * (kernel/screen.c). The rest keeps what the loader left there. */
#define SCREEN_MAX_COLS 240
#define SCREEN_MAX_ROWS 68

/* A description beyond these is not of a real screen (8K UHD is 7680x4320
 * at 30 KiB a line): screen_find() refuses it. */
#define SCREEN_MAX_SIDE 16384
#define SCREEN_MAX_PITCH 65536

/*
 * Which screen there is: the loader's description, else, on a BIOS boot
 * where the loader said nothing (QEMU -kernel), the text mode the BIOS data
 * area names. Returns 0 and fills *s, or -1 with *why saying why there is
 * none: a kind ixmetal cannot draw on, a description out of bounds, or a
 * buffer the memory map calls RAM.
 */
int screen_find(const struct boot_info *bi, struct boot_screen *s, const char **why);

/* The bytes from s->addr that screen_init() and screen_write() write: the
 * used part's lines, each up to the used part's width: at most 1088 lines
 * of pixels (68 of text) 64 KiB apart, under 68 MiB. What the caller maps. */
uint64_t screen_span(const struct boot_screen *s);

/* Clears the used part of s (mapped by the caller) and writes to it from
 * now on. Returns 0, or -1 with *why when it is a kind ixmetal cannot draw
 * on. */
int screen_init(const struct boot_screen *s, const char **why);

/* '\n' starts a line, '\r' returns to its start, '\t' goes to the next
 * multiple of 8 columns; a byte without a glyph shows as a box. */
void screen_write(const char *s, size_t n);

/* One line about the screen in use: "vga text 80x25 at 0xb8000" or
 * "framebuffer 1024x768x32 at 0x80000000, 128x48 characters". */
void screen_describe(char *buf, size_t len);

#endif
