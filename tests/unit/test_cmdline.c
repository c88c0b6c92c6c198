/*
 * tests/unit/test_cmdline.c - kernel/cmdline.c: the kernel command line
 * against an options table shaped like kernel/kmain.c's.
 */
#include <stdint.h>

#include "kernel/cmdline.h"
#include "tests/unit/host.h"

static const char *const app_names[] = { "info", "fault", "fwd" };

static const char *app_choice(int i)
{
    return i >= 0 && i < 3 ? app_names[i] : NULL;
}

static int app;
static uint64_t duration;

static const struct opt opts[] = {
    { "app", "NAME", "what to run", "info", OPT_NAME, 0, 0, app_choice, &app },
    { "duration", "SECONDS", "stop the app after this long", "60", OPT_UINT, 1, 3600, NULL,
      &duration },
};
#define NOPTS ((int)(sizeof(opts) / sizeof(opts[0])))

static char err[512];

/* Parses line with the destinations set to values no token gives them. */
static int parse(const char *line)
{
    app = -1;
    duration = 777777;
    memset(err, 'X', sizeof(err));
    return cmdline_parse(line, opts, NOPTS, err, sizeof(err));
}

/* Tokens without '=' (a kernel path, an iPXE URL) are skipped. */
static void skips_tokens_without_equals(void)
{
    CHECK_EQ(parse("/boot/ixmetal.elf app=fault"), CMDLINE_OK);
    CHECK_EQ(app, 1);
    CHECK_EQ(duration, 777777);
    CHECK_STR(err, "");

    CHECK_EQ(parse("tftp://10.0.2.2/ixmetal.elf duration=30 app=fwd"), CMDLINE_OK);
    CHECK_EQ(app, 2);
    CHECK_EQ(duration, 30);

    /* A URL is skipped even with '=' in its query; "x://" after the '='
     * is a value, not a URL. */
    CHECK_EQ(parse("http://boot/ixmetal.elf?v=2&app=x duration=31"), CMDLINE_OK);
    CHECK_EQ(duration, 31);
    CHECK_EQ(parse("app=x://y"), CMDLINE_ERROR);

    /* What iPXE passes booting boot.ipxe's BIOS entry (make netboot). */
    CHECK_EQ(parse("tftp://10.0.2.2/boot/ixmetal.elf app=fault"), CMDLINE_OK);
    CHECK_EQ(app, 1);
    CHECK_STR(err, "");
}

/* A URL longer than the token buffer is still only skipped. */
static void long_url(void)
{
    char line[600];
    strcpy(line, "http://boot.lab/");
    memset(line + 16, 'u', 400);
    strcpy(line + 416, "/ixmetal.elf?k=v duration=9");
    CHECK_EQ(parse(line), CMDLINE_OK);
    CHECK_EQ(duration, 9);
    CHECK_STR(err, "");
}

/* Runs of spaces, tabs and newlines separate tokens like one space. */
static void any_whitespace_separates(void)
{
    CHECK_EQ(parse("  app=fwd\t\t duration=7 \r\n"), CMDLINE_OK);
    CHECK_EQ(app, 2);
    CHECK_EQ(duration, 7);
}

/* A key given twice: the last one wins. */
static void last_duplicate_wins(void)
{
    CHECK_EQ(parse("app=fault duration=5 app=info duration=3600"), CMDLINE_OK);
    CHECK_EQ(app, 0);
    CHECK_EQ(duration, 3600);
}

/* The bare word "help" asks for the usage; the other tokens still apply. */
static void bare_help(void)
{
    CHECK_EQ(parse("help"), CMDLINE_HELP);
    CHECK_EQ(parse("/boot/ixmetal.elf app=fault help duration=2"), CMDLINE_HELP);
    CHECK_EQ(app, 1);
    CHECK_EQ(duration, 2);
    CHECK_EQ(parse("helpme"), CMDLINE_OK);           /* only the exact word */
    CHECK_EQ(parse("help app=nope"), CMDLINE_ERROR); /* an error beats help */
}

/* An unknown key is an error naming the key and the token. */
static void unknown_key(void)
{
    CHECK_EQ(parse("app=info foo=1"), CMDLINE_ERROR);
    CHECK_STR(err, "cmdline: unknown key 'foo' in 'foo=1'");
    CHECK_EQ(parse("=5"), CMDLINE_ERROR);
    CHECK_STR(err, "cmdline: unknown key '' in '=5'");
    CHECK_EQ(parse("App=info"), CMDLINE_ERROR); /* keys are case-sensitive */
    CHECK_STR(err, "cmdline: unknown key 'App' in 'App=info'");
}

/* clang-format off */
#define BAD_DURATION(tok) \
    { tok, "cmdline: bad value in '" tok "': expected a whole number from 1 to 3600" }
/* clang-format on */

/* Anything but a decimal number in [min, max] is an error, and the
 * destination keeps its value. */
static void bad_numbers(void)
{
    static const struct {
        const char *tok, *err;
    } cases[] = {
        BAD_DURATION("duration=abc"),  BAD_DURATION("duration="),
        BAD_DURATION("duration=-1"),   BAD_DURATION("duration=12x"),
        BAD_DURATION("duration=+5"),   BAD_DURATION("duration=0"),
        BAD_DURATION("duration=3601"), BAD_DURATION("duration=99999999999999999999999"),
    };
    for (unsigned i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        CHECK_EQ(parse(cases[i].tok), CMDLINE_ERROR);
        CHECK_STR(err, cases[i].err);
        CHECK_EQ(duration, 777777);
    }
    CHECK_EQ(parse("duration=1 2"), CMDLINE_OK); /* "2" has no '=': skipped */
    CHECK_EQ(duration, 1);
}

/* The edges of the range and of uint64_t itself. */
static void number_limits(void)
{
    CHECK_EQ(parse("duration=1"), CMDLINE_OK);
    CHECK_EQ(duration, 1);
    CHECK_EQ(parse("duration=0003600"), CMDLINE_OK);
    CHECK_EQ(duration, 3600);

    uint64_t big = 0;
    const struct opt wide[] = {
        { "n", "N", "any number", "0", OPT_UINT, 0, UINT64_MAX, NULL, &big },
    };
    CHECK_EQ(cmdline_parse("n=18446744073709551615", wide, 1, err, sizeof(err)), CMDLINE_OK);
    CHECK_EQ(big, UINT64_MAX);
    CHECK_EQ(cmdline_parse("n=18446744073709551616", wide, 1, err, sizeof(err)), CMDLINE_ERROR);
    CHECK_STR(err, "cmdline: bad value in 'n=18446744073709551616': expected a whole number "
                   "from 0 to 18446744073709551615");
    CHECK_EQ(big, UINT64_MAX);
}

/* A name not in the list: the error lists every choice. */
static void bad_name(void)
{
    static const char *const toks[] = { "app=nope", "app=", "app=INFO", "app=info2" };
    static const char *const errs[] = {
        "cmdline: bad value in 'app=nope': expected one of info, fault, fwd",
        "cmdline: bad value in 'app=': expected one of info, fault, fwd",
        "cmdline: bad value in 'app=INFO': expected one of info, fault, fwd",
        "cmdline: bad value in 'app=info2': expected one of info, fault, fwd",
    };
    for (unsigned i = 0; i < 4; i++) {
        CHECK_EQ(parse(toks[i]), CMDLINE_ERROR);
        CHECK_STR(err, errs[i]);
        CHECK_EQ(app, -1);
    }
}

/* A list of choices longer than the 160-byte list buffer is cut, not overrun. */
static const char *many_choice(int i)
{
    static char names[40][12];
    if (i < 0 || i >= 40)
        return NULL;
    snprintf(names[i], sizeof(names[i]), "choice%02d", i);
    return names[i];
}

static void long_choice_list(void)
{
    int pick = -1;
    const struct opt many[] = {
        { "pick", "NAME", "one of many", "choice00", OPT_NAME, 0, 0, many_choice, &pick },
    };
    char list[600] = "", want[700];
    for (int i = 0; i < 40; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%schoice%02d", i ? ", " : "",
                 i);
    list[159] = '\0'; /* what fits in 160 bytes */
    snprintf(want, sizeof(want), "cmdline: bad value in 'pick=x': expected one of %s", list);

    CHECK_EQ(cmdline_parse("pick=choice39", many, 1, err, sizeof(err)), CMDLINE_OK);
    CHECK_EQ(pick, 39);
    CHECK_EQ(cmdline_parse("pick=x", many, 1, err, sizeof(err)), CMDLINE_ERROR);
    CHECK_STR(err, want);
}

/* An empty or all-blank line is fine and changes nothing. */
static void empty_line(void)
{
    CHECK_EQ(parse(""), CMDLINE_OK);
    CHECK_STR(err, "");
    CHECK_EQ(app, -1);
    CHECK_EQ(duration, 777777);
    CHECK_EQ(parse(" \t "), CMDLINE_OK);
    CHECK_STR(err, "");
}

/* A token longer than the 255-byte token buffer is an error, not an overflow;
 * 255 bytes still fit. */
static void long_tokens(void)
{
    char line[400];
    memset(line, 'a', 300);
    line[300] = '\0';
    CHECK_EQ(parse(line), CMDLINE_ERROR);
    CHECK_STR(err, "cmdline: token too long (300 bytes, at most 255): "
                   "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'");

    memset(line, 'b', 256);
    strcpy(line + 256, " app=fwd");
    CHECK_EQ(parse(line), CMDLINE_ERROR);
    CHECK(strstr(err, "(256 bytes, at most 255)") != NULL);
    CHECK_EQ(app, -1);

    memset(line, 'b', 255); /* no '=': skipped */
    strcpy(line + 255, " app=fwd");
    CHECK_EQ(parse(line), CMDLINE_OK);
    CHECK_EQ(app, 2);
}

/* A short error buffer gets a cut, NUL-terminated message. */
static void short_error_buffer(void)
{
    char small[16];
    memset(small, 'X', sizeof(small));
    CHECK_EQ(cmdline_parse("foo=1", opts, NOPTS, small, sizeof(small)), CMDLINE_ERROR);
    CHECK_STR(small, "cmdline: unknow");
}

/* The usage text: one line per option with its choices and default. */
static void usage_text(void)
{
    cmdline_usage(opts, NOPTS);
    CHECK_STR(console_log, "usage: key=value ... (tokens without '=' are ignored)\n"
                           "  app=NAME             what to run: info, fault, fwd (default info)\n"
                           "  duration=SECONDS     stop the app after this long (default 60)\n"
                           "  help                 print this, then end as end= says\n");
}

/* OPT_TEXT copies its value whole, or refuses it when empty or too long
 * for its buffer (max counts the NUL). */
static void text_values(void)
{
    char ports[16] = "unset";
    const struct opt t[] = {
        { "ports", "A,B", "which NICs", "the first two", OPT_TEXT, 0, sizeof(ports), NULL, ports },
    };
    CHECK_EQ(cmdline_parse("ports=0000:00:03.0,0:4", t, 1, err, sizeof(err)), CMDLINE_ERROR);
    CHECK_STR(err, "cmdline: bad value in 'ports=0000:00:03.0,0:4': expected 1 to 15 characters");
    CHECK_STR(ports, "unset");
    CHECK_EQ(cmdline_parse("ports=", t, 1, err, sizeof(err)), CMDLINE_ERROR);
    CHECK_EQ(cmdline_parse("ports=1234567890123456", t, 1, err, sizeof(err)), CMDLINE_ERROR);
    CHECK_EQ(cmdline_parse("ports=03.0,04.0", t, 1, err, sizeof(err)), CMDLINE_OK);
    CHECK_STR(ports, "03.0,04.0");
    CHECK_EQ(cmdline_parse("ports=123456789012345", t, 1, err, sizeof(err)), CMDLINE_OK);
    CHECK_STR(ports, "123456789012345");
}

int main(void)
{
    RUN(skips_tokens_without_equals);
    RUN(long_url);
    RUN(any_whitespace_separates);
    RUN(last_duplicate_wins);
    RUN(bare_help);
    RUN(unknown_key);
    RUN(bad_numbers);
    RUN(number_limits);
    RUN(bad_name);
    RUN(long_choice_list);
    RUN(empty_line);
    RUN(long_tokens);
    RUN(short_error_buffer);
    RUN(usage_text);
    RUN(text_values);
    return test_finish();
}
