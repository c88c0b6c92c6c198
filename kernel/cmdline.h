/*
 * kernel/cmdline.h - the kernel command line: space-separated key=value
 * tokens, checked against a table of options.
 *
 * Tokens without '=', and URLs ("scheme://" before any '='), are skipped:
 * QEMU -kernel puts the kernel's path first and iPXE its URL. The one bare
 * word that means something is "help".
 */
#ifndef KERNEL_CMDLINE_H
#define KERNEL_CMDLINE_H

#include <stddef.h>
#include <stdint.h>

enum opt_kind {
    OPT_UINT, /* a decimal whole number in [min, max], stored in *(uint64_t *)dst */
    OPT_NAME, /* one of the names choice(0), choice(1), ...; index in *(int *)dst */
    OPT_TEXT, /* any text of 1 to max-1 bytes, copied into the char array dst */
};

struct opt {
    const char *key;
    const char *metavar; /* for the usage text: "SECONDS" */
    const char *help;
    const char *def; /* the default, as the usage text shows it */
    enum opt_kind kind;
    uint64_t min, max;
    const char *(*choice)(int i); /* NULL past the last name */
    void *dst;
};

enum { CMDLINE_OK = 0, CMDLINE_HELP = 1, CMDLINE_ERROR = -1 };

/*
 * Applies every token of line to the options' destinations (a key given twice:
 * the last wins). On CMDLINE_ERROR, err holds one line naming the token and
 * what was wrong; destinations may be partly written.
 */
int cmdline_parse(const char *line, const struct opt *opts, int nopts, char *err, size_t errlen);

/* Writes the usage text: every key, its meaning and default. */
void cmdline_usage(const struct opt *opts, int nopts);

#endif
