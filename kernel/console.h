/*
 * kernel/console.h - where kernel output goes: the 16550 UART at COM1,
 * 115200 baud, 8 data bits, no parity, 1 stop bit.
 */
#ifndef KERNEL_CONSOLE_H
#define KERNEL_CONSOLE_H

#include <stddef.h>

void console_init(void);
void console_write(const char *s, size_t n);

#endif
