/*
 * kernel/cmdline.c - parsing the kernel command line (see cmdline.h).
 */
#include "kernel/cmdline.h"

#include "kernel/kprintf.h"
#include "kernel/string.h"

#define TOKEN_MAX 256

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* iPXE passes the URL it booted from (tftp://10.0.2.2/boot/ixmetal.elf),
 * which may hold '=' in a query: "://" before any '=' in the n bytes at tok. */
static int is_url(const char *tok, size_t n)
{
    for (size_t i = 0; i + 3 <= n && tok[i] != '='; i++)
        if (tok[i] == ':' && tok[i + 1] == '/' && tok[i + 2] == '/')
            return 1;
    return 0;
}

static int parse_uint(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

/* "a, b, c" into buf: the names an OPT_NAME option takes. */
static void list_choices(const struct opt *o, char *buf, size_t len)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; o->choice(i) && at < len; i++)
        at += (size_t)ksnprintf(buf + at, len - at, "%s%s", i ? ", " : "", o->choice(i));
}

static int apply(const struct opt *o, const char *tok, const char *val, char *err, size_t errlen)
{
    if (o->kind == OPT_TEXT) {
        size_t n = strlen(val);
        if (n >= 1 && n < o->max) {
            memcpy(o->dst, val, n + 1);
            return 0;
        }
        ksnprintf(err, errlen, "cmdline: bad value in '%s': expected 1 to %lu characters", tok,
                  o->max - 1);
        return -1;
    }
    if (o->kind == OPT_UINT) {
        uint64_t v;
        if (parse_uint(val, &v) == 0 && v >= o->min && v <= o->max) {
            *(uint64_t *)o->dst = v;
            return 0;
        }
        ksnprintf(err, errlen,
                  "cmdline: bad value in '%s': expected a whole number from %lu to %lu", tok,
                  o->min, o->max);
        return -1;
    }
    for (int i = 0; o->choice(i); i++) {
        if (strcmp(o->choice(i), val) == 0) {
            *(int *)o->dst = i;
            return 0;
        }
    }
    char names[160];
    list_choices(o, names, sizeof(names));
    ksnprintf(err, errlen, "cmdline: bad value in '%s': expected one of %s", tok, names);
    return -1;
}

int cmdline_parse(const char *line, const struct opt *opts, int nopts, char *err, size_t errlen)
{
    int help = 0;
    err[0] = '\0';
    while (*line) {
        while (is_space(*line))
            line++;
        if (!*line)
            break;
        char tok[TOKEN_MAX];
        size_t n = 0;
        while (line[n] && !is_space(line[n]))
            n++;
        if (is_url(line, n)) { /* not ours, however long */
            line += n;
            continue;
        }
        if (n >= sizeof(tok)) {
            ksnprintf(err, errlen, "cmdline: token too long (%zu bytes, at most %zu): '%.40s...'",
                      n, sizeof(tok) - 1, line);
            return CMDLINE_ERROR;
        }
        memcpy(tok, line, n);
        tok[n] = '\0';
        line += n;

        char *eq = tok;
        while (*eq && *eq != '=')
            eq++;
        if (!*eq) {
            help |= strcmp(tok, "help") == 0;
            continue; /* the kernel path: not ours */
        }
        *eq = '\0';
        const struct opt *o = NULL;
        for (int i = 0; i < nopts && !o; i++)
            if (strcmp(opts[i].key, tok) == 0)
                o = &opts[i];
        *eq = '=';
        if (!o) {
            ksnprintf(err, errlen, "cmdline: unknown key '%.*s' in '%s'", (int)(eq - tok), tok,
                      tok);
            return CMDLINE_ERROR;
        }
        if (apply(o, tok, eq + 1, err, errlen) != 0)
            return CMDLINE_ERROR;
    }
    return help ? CMDLINE_HELP : CMDLINE_OK;
}

void cmdline_usage(const struct opt *opts, int nopts)
{
    kprintf("usage: key=value ... (tokens without '=' are ignored)\n");
    for (int i = 0; i < nopts; i++) {
        const struct opt *o = &opts[i];
        char left[40], names[160];
        ksnprintf(left, sizeof(left), "%s=%s", o->key, o->metavar);
        if (o->kind == OPT_NAME) {
            list_choices(o, names, sizeof(names));
            kprintf("  %-20s %s: %s (default %s)\n", left, o->help, names, o->def);
        } else {
            kprintf("  %-20s %s (default %s)\n", left, o->help, o->def);
        }
    }
    kprintf("  %-20s %s\n", "help", "print this, then end as end= says");
}
