/*
 * tests/fuzz/fuzz_cmdline.c - kernel/cmdline.c: any bytes as a command
 * line, against a table with each kind of option, into an error buffer of
 * any size from 1 byte (kernel/kmain.c passes 8 and 200).
 *
 * Input: byte 0 picks the error buffer's size; the rest is the line.
 */
#include "kernel/cmdline.h"
#include "tests/fuzz/fuzz.h"

static const char *const names[] = { "info", "fault", "fwd", "pktgen" };

static const char *choice(int i)
{
    return i >= 0 && i < 4 ? names[i] : NULL;
}

static int app;
static uint64_t duration, count;
static char ports[24];

static const struct opt opts[] = {
    { "app", "NAME", "what to run", "info", OPT_NAME, 0, 0, choice, &app },
    { "duration", "SECONDS", "stop after", "0", OPT_UINT, 1, 3600, NULL, &duration },
    { "count", "N", "frames", "0", OPT_UINT, 0, UINT64_MAX / 2, NULL, &count },
    { "ports", "A,B", "the NICs", "all", OPT_TEXT, 0, sizeof(ports), NULL, ports },
};
#define NOPTS ((int)(sizeof(opts) / sizeof(opts[0])))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t errlen = 1 + data[0] % 200;
    /* Both exactly as long as they need to be: AddressSanitizer sees a
     * byte read or written past either. */
    char *line = malloc(size), *err = malloc(errlen);
    memcpy(line, data + 1, size - 1);
    line[size - 1] = '\0';
    app = -1, duration = 0, count = 0;
    memset(ports, 0, sizeof(ports));
    int r = cmdline_parse(line, opts, NOPTS, err, errlen);
    FUZZ_CHECK(r == CMDLINE_OK || r == CMDLINE_HELP || r == CMDLINE_ERROR);
    FUZZ_CHECK(fuzz_terminated(err, errlen));
    FUZZ_CHECK(r == CMDLINE_ERROR || err[0] == '\0');
    FUZZ_CHECK(app >= -1 && app < 4);
    FUZZ_CHECK(duration <= 3600 && count <= UINT64_MAX / 2);
    FUZZ_CHECK(fuzz_terminated(ports, sizeof(ports)));
    free(line);
    free(err);
    return 0;
}
