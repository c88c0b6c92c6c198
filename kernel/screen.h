/*
 * kernel/screen.h - kernel output on the screen the boot loader left: a VGA
 * text buffer, or a linear framebuffer drawn with kernel/font.h. Lines wrap
 * at the right edge; at the bottom everything moves up one line.
 *
 * Nothing here reads the screen back: what is shown is kept as characters,
 * and moving up redraws only the cells that change, so a framebuffer mapped
 * uncached (slow to read on real hardware) is only written. Callers
 * serialise (kernel/kprintf.c's lock).
 */
#ifndef KERNEL_SCREEN_H
#define KERNEL_SCREEN_H

#include <stddef.h>
#include <stdint.h>

#include "kernel/bootinfo.h"

/* The part of a larger screen that is used: 1920x1088 pixels at most,
 * which bounds what moving up one line costs (kernel/screen.c). */
#define SCREEN_MAX_COLS 240
#define SCREEN_MAX_ROWS 68

/*
 * Which screen there is: the loader's description, else, on a BIOS boot
 * where the loader said nothing (QEMU -kernel), the text mode the BIOS data
 * area names. Returns 0 and fills *s, or -1 with *why saying why there is
 * none. Never a buffer the memory map calls RAM.
 */
int screen_find(const struct boot_info *bi, struct boot_screen *s, const char **why);

/* Clears s (mapped by the caller) and writes to it from now on. Returns 0,
 * or -1 with *why when it is a kind ixmetal cannot draw on. */
int screen_init(const struct boot_screen *s, const char **why);

/* '\n' starts a line, '\r' returns to its start, '\t' goes to the next
 * multiple of 8 columns; a byte without a glyph shows as a box. */
void screen_write(const char *s, size_t n);

/* One line about the screen in use: "vga text 80x25 at 0xb8000" or
 * "framebuffer 1024x768x32 at 0x80000000, 128x48 characters". */
void screen_describe(char *buf, size_t len);

#endif
