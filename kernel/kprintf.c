/*
 * kernel/kprintf.c - a small printf for a kernel with no C library.
 *
 * The formatter writes through a bounded cursor, so it never overruns its
 * buffer whatever the format asks for; kprintf() formats a whole message
 * before writing it, so one call reaches the console in one piece.
 */
#include "kernel/kprintf.h"

#ifndef IXM_HOST
#include "kernel/cpu.h"
#endif

#include <stdbool.h>
#include <stdint.h>

#include "kernel/console.h"

/* Where output goes: a bounded buffer (ksnprintf), or a buffer flushed to a
 * sink whenever it fills (kprintf), so no output is ever cut short. */
struct out {
    char *buf;
    size_t size; /* capacity; without a sink the last byte is kept for the NUL */
    size_t len;  /* characters produced so far, even past size */
    size_t fill; /* with a sink: characters in buf not yet flushed */
    void (*sink)(const char *s, size_t n);
};

static void put(struct out *o, char c)
{
    if (o->sink) {
        if (o->fill == o->size) {
            o->sink(o->buf, o->fill);
            o->fill = 0;
        }
        o->buf[o->fill++] = c;
    } else if (o->len + 1 < o->size) {
        o->buf[o->len] = c;
    }
    o->len++;
}

static void pad(struct out *o, char c, int n)
{
    while (n-- > 0)
        put(o, c);
}

struct spec {
    bool left; /* '-' */
    bool zero; /* '0' */
    int width; /* -1 when absent */
    int prec;  /* -1 when absent */
};

static void put_str(struct out *o, const char *s, const struct spec *sp)
{
    int n = 0;
    if (!s)
        s = "(null)";
    while ((sp->prec < 0 || n < sp->prec) && s[n]) /* no byte past the precision is read */
        n++;
    if (!sp->left)
        pad(o, ' ', sp->width - n);
    for (int i = 0; i < n; i++)
        put(o, s[i]);
    if (sp->left)
        pad(o, ' ', sp->width - n);
}

static void put_num(struct out *o, uint64_t v, bool neg, unsigned base, bool upper,
                    const char *prefix, const struct spec *sp)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[24];
    int n = 0;
    while (v || (n == 0 && sp->prec != 0)) { /* C: 0 with precision 0 has no digits */
        tmp[n++] = digits[v % base];
        v /= base;
    }
    int plen = 0;
    while (prefix[plen])
        plen++;
    int ndig = n < sp->prec ? sp->prec : n; /* precision: minimum digits */
    int total = (neg ? 1 : 0) + plen + ndig;
    bool zero = sp->zero && !sp->left && sp->prec < 0;
    if (!sp->left && !zero)
        pad(o, ' ', sp->width - total);
    if (neg)
        put(o, '-');
    for (int i = 0; i < plen; i++)
        put(o, prefix[i]);
    if (zero)
        pad(o, '0', sp->width - total);
    pad(o, '0', ndig - n);
    while (n)
        put(o, tmp[--n]);
    if (sp->left)
        pad(o, ' ', sp->width - total);
}

#define COUNT_MAX 4096 /* widths and precisions are capped here */

/* Reads a width or precision: digits, or '*' taken from the arguments. */
static int read_count(const char **fmt, va_list *ap)
{
    int n = 0;
    if (**fmt == '*') {
        (*fmt)++;
        n = va_arg(*ap, int);
        return n > COUNT_MAX ? COUNT_MAX : n < -COUNT_MAX ? -COUNT_MAX : n;
    }
    while (**fmt >= '0' && **fmt <= '9')
        if ((n = n * 10 + (*(*fmt)++ - '0')) > COUNT_MAX)
            n = COUNT_MAX; /* no int overflow, whatever the digits */
    return n;
}

/* One conversion: %[flags][width][.precision][length]conversion. */
struct conv {
    struct spec sp;
    int longs;       /* number of 'l's */
    bool size_t_arg; /* 'z' */
    char c;          /* the conversion character; '\0' at the end of fmt */
};

/* Parses the specification after a '%'; returns where it ends. */
static const char *parse_conv(const char *fmt, va_list *ap, struct conv *cv)
{
    *cv = (struct conv){ { false, false, -1, -1 }, 0, false, 0 };
    for (;; fmt++) {
        if (*fmt == '-')
            cv->sp.left = true;
        else if (*fmt == '0')
            cv->sp.zero = true;
        else
            break;
    }
    if ((*fmt >= '1' && *fmt <= '9') || *fmt == '*') {
        cv->sp.width = read_count(&fmt, ap);
        if (cv->sp.width < 0) { /* C: a negative '*' width means '-' */
            cv->sp.left = true;
            cv->sp.width = -cv->sp.width;
        }
    }
    if (*fmt == '.') {
        fmt++;
        cv->sp.prec = read_count(&fmt, ap);
    }
    for (; *fmt == 'l'; fmt++)
        cv->longs++;
    if (*fmt == 'z') {
        cv->size_t_arg = true;
        fmt++;
    }
    cv->c = *fmt;
    return fmt;
}

static void convert(struct out *o, const struct conv *cv, va_list *ap)
{
    const struct spec *sp = &cv->sp;
    int64_t s;
    uint64_t u;
    switch (cv->c) {
    case 'd':
    case 'i':
        s = cv->size_t_arg ? (int64_t)va_arg(*ap, long)
            : cv->longs    ? (cv->longs == 1 ? va_arg(*ap, long) : va_arg(*ap, long long))
                           : va_arg(*ap, int);
        u = s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
        put_num(o, u, s < 0, 10, false, "", sp);
        break;
    case 'u':
    case 'x':
    case 'X':
        u = cv->size_t_arg ? va_arg(*ap, size_t)
            : cv->longs
                ? (cv->longs == 1 ? va_arg(*ap, unsigned long) : va_arg(*ap, unsigned long long))
                : va_arg(*ap, unsigned int);
        put_num(o, u, false, cv->c == 'u' ? 10 : 16, cv->c == 'X', "", sp);
        break;
    case 'p':
        put_num(o, (uint64_t)(uintptr_t)va_arg(*ap, void *), false, 16, false, "0x", sp);
        break;
    case 's':
        put_str(o, va_arg(*ap, const char *), sp);
        break;
    case 'c': /* put directly: a NUL character is output too, as in C */
        if (!sp->left)
            pad(o, ' ', sp->width - 1);
        put(o, (char)va_arg(*ap, int));
        if (sp->left)
            pad(o, ' ', sp->width - 1);
        break;
    case '%':
        put(o, '%');
        break;
    default: /* unknown conversion: print it as written */
        put(o, '%');
        put(o, cv->c);
        break;
    }
}

static void format(struct out *o, const char *fmt, va_list *ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            put(o, *fmt);
            continue;
        }
        struct conv cv;
        fmt = parse_conv(fmt + 1, ap, &cv);
        if (!cv.c) { /* a lone '%' at the end: print it, stop */
            put(o, '%');
            return;
        }
        convert(o, &cv, ap);
    }
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap_in)
{
    struct out o = { buf, size, 0, 0, NULL };
    va_list ap;
    va_copy(ap, ap_in);
    format(&o, fmt, &ap);
    va_end(ap);
    if (size)
        buf[o.len < size ? o.len : size - 1] = '\0';
    return (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = kvsnprintf(buf, size, fmt, ap);
    va_end(ap);
    return n;
}

#ifdef IXM_HOST
static void print_lock(void) {}

static void print_unlock(void) {}
#else
/* One kprintf at a time across cores, so lines do not interleave. The lock
 * knows its holder (APIC id + 1): an exception report from inside a
 * kprintf on the same core goes on, and a core that halted holding it is
 * waited for only so long before the others print regardless. */
#define PRINT_WAIT_CYCLES (1ull << 31) /* TSC cycles: about a second (before it is measured) */
static uint32_t print_owner, print_depth;

static void print_lock(void)
{
    uint32_t me = cpu_apic_id() + 1, free = 0;
    if (__atomic_load_n(&print_owner, __ATOMIC_RELAXED) == me) {
        print_depth++;
        return;
    }
    uint64_t start = rdtsc();
    while (!__atomic_compare_exchange_n(&print_owner, &free, me, false, __ATOMIC_ACQUIRE,
                                        __ATOMIC_RELAXED)) {
        free = 0;
        if (rdtsc() - start > PRINT_WAIT_CYCLES) {
            __atomic_store_n(&print_owner, me, __ATOMIC_RELAXED);
            break;
        }
        cpu_pause();
    }
    print_depth = 1;
}

static void print_unlock(void)
{
    if (--print_depth == 0)
        __atomic_store_n(&print_owner, 0, __ATOMIC_RELEASE);
}
#endif

int kprintf(const char *fmt, ...)
{
    char chunk[256];
    struct out o = { chunk, sizeof(chunk), 0, 0, console_write };
    va_list ap;
    print_lock();
    va_start(ap, fmt);
    format(&o, fmt, &ap);
    va_end(ap);
    console_write(chunk, o.fill);
    print_unlock();
    return (int)o.len;
}
