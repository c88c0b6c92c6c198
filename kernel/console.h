/*
 * kernel/console.h - where kernel output goes: the 16550 UART at COM1
 * (115200 baud, 8 data bits, no parity, 1 stop bit), and the screen
 * (kernel/screen.h), as console= chooses.
 *
 * Output goes to the serial port alone until console_start(); from then on
 * to the sinks console= names. The screen cannot start sooner: the loader's
 * description of it is read with the rest of the boot information, and a
 * framebuffer above 4 GiB is reachable only once kernel/paging.c maps it.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stddef.h>

#include "kernel/bootinfo.h"

/* console=: bit 0 the serial port, bit 1 the screen. */
enum { CONSOLE_SERIAL = 1, CONSOLE_SCREEN = 2, CONSOLE_BOTH = 3 };

/* The names console= takes: index i means the sinks i + 1 (serial, screen,
 * both). NULL past the last. */
const char *console_choice(int i);

void console_init(void);

/*
 * Starts the screen if console= includes it (choice: the index of its name
 * in console_choice()): finds it (kernel/screen.h), maps the part it uses
 * (a framebuffer write-combining, VGA text uncached) and clears that. With
 * console=screen the serial port falls silent, unless there is no screen
 * to show anything.
 */
void console_start(const struct boot_info *bi, int choice);

/* For the banner: the screen in use, or why there is none. */
const char *console_screen_describe(void);

/* Safe from any core at any time: one core draws at once (console.c). */
void console_write(const char *s, size_t n);

/* Waits, bounded (~0.1 s), until the UART has put every character it was
 * given on the line: before switching the machine off, which would cut the
 * last ones (up to 16 in its FIFO) short. */
void console_flush(void);

#endif
