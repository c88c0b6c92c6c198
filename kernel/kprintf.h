/*
 * kernel/kprintf.h - formatted output to the console.
 *
 * Conversions: %d %i %u %x %X %p %s %c %%, with flags '-' and '0', a width
 * and a precision (either may be '*'), and the length modifiers l, ll, z.
 */
#ifndef KERNEL_KPRINTF_H
#define KERNEL_KPRINTF_H

#include <stdarg.h>
#include <stddef.h>

/* Like vsnprintf: writes at most size bytes including the NUL, returns the
 * length the whole output would have had. */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Formats into a line buffer and hands it to console_write(). */
int kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A broken invariant: prints where and why, then stops this CPU for good.
 * Defined in kernel/trap.c (host tests define their own). */
#define panic(...) panic_at(__FILE__, __LINE__, __VA_ARGS__)
void panic_at(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));

#endif
