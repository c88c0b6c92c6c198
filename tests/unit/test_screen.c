/*
 * tests/unit/test_screen.c - kernel/screen.c on a fake screen: every write
 * the code makes through kernel/io.h lands in a byte array here, checked
 * pixel by pixel against kernel/font.c's glyphs (32, 24 and 16 bits per
 * pixel) or cell by cell (VGA text); and which screen screen_find() picks
 * from the boot information and the BIOS data area.
 */
#include "kernel/font.h"
#include "kernel/screen.h"
#include "tests/unit/host.h"

static uint8_t fb[1 << 16];
static uint64_t fb_span;       /* bytes the code may write: screen_span() of the fake screen */
static uint64_t writes;        /* bytes written since the count was cleared */
static int unflushed;          /* written since the last mmio_wc_flush() */
static void (*on_write)(void); /* called after each write: another writer's turn */
static int vga_cursor_off;

#define FB ((uint64_t)(uintptr_t)fb)

static void fb_write(uint64_t addr, uint32_t v, int size)
{
    if (addr < FB || addr + (uint64_t)size > FB + fb_span) {
        test_fail(__FILE__, __LINE__, "write of %d bytes at fb+0x%llx, outside the screen", size,
                  (unsigned long long)(addr - FB));
        return;
    }
    for (int i = 0; i < size; i++)
        fb[addr - FB + (uint64_t)i] = (uint8_t)(v >> (8 * i));
    writes += (uint64_t)size;
    unflushed = 1;
    if (on_write)
        on_write();
}

static void wc_flush(void)
{
    unflushed = 0;
}

static uint8_t crtc_index;

static void port_write(uint16_t port, uint32_t v, int size)
{
    (void)size;
    if (port == 0x3D4)
        crtc_index = (uint8_t)v;
    else if (port == 0x3D5 && crtc_index == 0x0A && (v & 0x20))
        vga_cursor_off = 1;
}

/* A fresh fake screen: the bytes hold 0x5A, so what is never written shows. */
static struct boot_screen fake(enum screen_type type, uint32_t width, uint32_t height, uint8_t bpp,
                               uint32_t pitch)
{
    memset(fb, 0x5A, sizeof(fb));
    fake_io.mmio_write = fb_write;
    fake_io.wc_flush = wc_flush;
    fake_io.out = port_write;
    writes = 0;
    unflushed = 0;
    on_write = NULL;
    vga_cursor_off = 0;
    struct boot_screen s = { .type = type,
                             .addr = FB,
                             .pitch = pitch,
                             .width = width,
                             .height = height,
                             .bpp = bpp,
                             .red_pos = 16,
                             .red_size = 8,
                             .green_pos = 8,
                             .green_size = 8,
                             .blue_pos = 0,
                             .blue_size = 8 };
    fb_span = screen_span(&s); /* past fb[] only for a screen never drawn on */
    if (fb_span > sizeof(fb))
        fb_span = sizeof(fb);
    return s;
}

static void start(const struct boot_screen *s)
{
    const char *why = "";
    if (screen_init(s, &why) != 0)
        test_fail(__FILE__, __LINE__, "screen_init refused: %s", why);
}

static void write_str(const char *s)
{
    screen_write(s, strlen(s));
}

/* The pixel (x, y) of the fake framebuffer, as bytes little-endian. */
static uint32_t pixel_at(const struct boot_screen *s, uint32_t x, uint32_t y)
{
    uint32_t bytes = (s->bpp + 7u) / 8, v = 0;
    for (uint32_t b = 0; b < bytes; b++)
        v |= (uint32_t)fb[y * s->pitch + x * bytes + b] << (8 * b);
    return v;
}

/* Cell (row, col) shows c: every pixel fg where the glyph has ink, else bg. */
static void check_cell(const char *file, int line, const struct boot_screen *s, uint32_t row,
                       uint32_t col, unsigned char c, uint32_t fg, uint32_t bg)
{
    const uint8_t *g = font_glyph(c);
    for (uint32_t y = 0; y < FONT_HEIGHT; y++) {
        for (uint32_t x = 0; x < FONT_WIDTH; x++) {
            uint32_t want = g[y] & (0x80 >> x) ? fg : bg;
            uint32_t got = pixel_at(s, col * FONT_WIDTH + x, row * FONT_HEIGHT + y);
            if (got != want) {
                test_fail(file, line, "cell (%u,%u) '%c': pixel (%u,%u) is 0x%x, expected 0x%x",
                          row, col, c, x, y, got, want);
                return;
            }
        }
    }
}
#define CHECK_CELL(s, row, col, c, fg, bg) check_cell(__FILE__, __LINE__, s, row, col, c, fg, bg)

/* Row row shows text, then blanks. */
static void check_row(const char *file, int line, const struct boot_screen *s, uint32_t row,
                      const char *text, uint32_t fg)
{
    uint32_t cols = s->width / FONT_WIDTH, n = (uint32_t)strlen(text);
    for (uint32_t c = 0; c < cols; c++)
        check_cell(file, line, s, row, c, c < n ? (unsigned char)text[c] : ' ', fg, 0);
}
#define CHECK_ROW(s, row, text, fg) check_row(__FILE__, __LINE__, s, row, text, fg)

#define GREY32 0x00AAAAAAu

/* 32 bits per pixel, x:8:8:8: the cleared screen is black to the last
 * pixel of each line (the padding up to the pitch is not written), the
 * glyphs are exact, an unknown byte is the box. */
static void rgb32_glyphs(void)
{
    struct boot_screen s = fake(SCREEN_RGB, 64, 32, 32, 64 * 4 + 16);
    start(&s);
    for (uint32_t i = 0; i < s.pitch * s.height; i++)
        if (fb[i] != (i % s.pitch < 64 * 4 ? 0 : 0x5A)) {
            test_fail(__FILE__, __LINE__, "byte %u is 0x%x", i, fb[i]);
            break;
        }
    CHECK_EQ(writes, 64 * 4 * 32);
    CHECK(!unflushed);
    write_str("Ag\x01~");
    CHECK_CELL(&s, 0, 0, 'A', GREY32, 0);
    CHECK_CELL(&s, 0, 1, 'g', GREY32, 0);
    CHECK_CELL(&s, 0, 2, 0x7F, GREY32, 0);
    CHECK_CELL(&s, 0, 3, '~', GREY32, 0);
    CHECK_CELL(&s, 0, 4, ' ', GREY32, 0);
    CHECK(font_glyph(0x01) == font_glyph(0xC8));
    CHECK(font_glyph(0x01) == font_glyph(0x7F));
}

/* 24 bits per pixel, three packed bytes: 800x600x24 is what GRUB's
 * gfxpayload=auto gives under QEMU. Grey is 0xAA in each byte. */
static void rgb24_packed(void)
{
    struct boot_screen s = fake(SCREEN_RGB, 40, 32, 24, 40 * 3);
    start(&s);
    write_str("\n  W");
    CHECK_CELL(&s, 1, 2, 'W', GREY32, 0);
    CHECK_CELL(&s, 1, 1, ' ', GREY32, 0);
    /* The top row of 'W' (row 3 of its glyph): bytes AA AA AA at its ink. */
    const uint8_t *g = font_glyph('W');
    uint32_t at = (16 + 3) * s.pitch + 2 * 8 * 3;
    for (int x = 0; x < 8; x++)
        for (int b = 0; b < 3; b++)
            CHECK_EQ(fb[at + x * 3 + b], g[3] & (0x80 >> x) ? 0xAA : 0);
}

/* A pitch that is not a multiple of 4: byte by byte, the same pixels. */
static void rgb24_unaligned_pitch(void)
{
    struct boot_screen s = fake(SCREEN_RGB, 17, 16, 24, 17 * 3);
    start(&s);
    write_str("#$");
    CHECK_CELL(&s, 0, 0, '#', GREY32, 0);
    CHECK_CELL(&s, 0, 1, '$', GREY32, 0);
    CHECK_EQ(fb[16 * s.pitch], 0x5A);
}

/* 16 bits per pixel, 5:6:5: grey 0xAA scaled into each field,
 * (0xAA >> 3) << 11 | (0xAA >> 2) << 5 | 0xAA >> 3 = 0xAD55. */
static void rgb16_fields(void)
{
    struct boot_screen s = fake(SCREEN_RGB, 16, 16, 16, 32);
    s.red_pos = 11;
    s.red_size = 5;
    s.green_pos = 5;
    s.green_size = 6;
    s.blue_size = 5;
    start(&s);
    write_str("ok");
    CHECK_CELL(&s, 0, 0, 'o', 0xAD55, 0);
    CHECK_CELL(&s, 0, 1, 'k', 0xAD55, 0);
}

/* 4x3 characters: a full line and its '\n' make one line, not two; a
 * longer one wraps; '\r' and '\t'; at the bottom everything moves up. */
static void wrap_and_move_up(void)
{
    struct boot_screen s = fake(SCREEN_RGB, 32, 48, 32, 128);
    start(&s);
    write_str("abcd\nefghi");
    CHECK_ROW(&s, 0, "abcd", GREY32);
    CHECK_ROW(&s, 1, "efgh", GREY32);
    CHECK_ROW(&s, 2, "i", GREY32);
    write_str("\n");
    CHECK_ROW(&s, 0, "efgh", GREY32);
    CHECK_ROW(&s, 1, "i", GREY32);
    CHECK_ROW(&s, 2, "", GREY32);
    write_str("xy\rz\tq"); /* the tab goes to the edge: 'q' wraps */
    CHECK_ROW(&s, 0, "i", GREY32);
    CHECK_ROW(&s, 1, "zy", GREY32);
    CHECK_ROW(&s, 2, "q", GREY32);
    write_str("\n");
    CHECK_ROW(&s, 0, "zy", GREY32);
    CHECK_ROW(&s, 1, "q", GREY32);
    CHECK_ROW(&s, 2, "", GREY32);
    CHECK(!unflushed); /* each write ends draining the write-combining buffers */
}

/* Moving up draws only the cells that change: three equal lines cost only
 * the last line's blanking; the screen is never read. */
static void move_up_draws_only_changes(void)
{
    struct boot_screen s = fake(SCREEN_RGB, 32, 48, 32, 128);
    start(&s);
    write_str("ab\nab\nab");
    writes = 0;
    write_str("\n");
    CHECK_EQ(writes, 2 * FONT_HEIGHT * FONT_WIDTH * 4); /* 'a' and 'b' of the last line */
    CHECK_ROW(&s, 0, "ab", GREY32);
    CHECK_ROW(&s, 1, "ab", GREY32);
    CHECK_ROW(&s, 2, "", GREY32);
    CHECK(fake_io.mmio_read == NULL);
}

/* VGA text: cells of character and attribute 0x07, cleared to blanks, the
 * cursor switched off; a byte without a glyph is code page 437's 0xFE. */
static void vga_text(void)
{
    struct boot_screen s = fake(SCREEN_TEXT, 80, 25, 16, 160);
    start(&s);
    CHECK(vga_cursor_off);
    for (int i = 0; i < 80 * 25; i++)
        if (fb[2 * i] != ' ' || fb[2 * i + 1] != 0x07) {
            test_fail(__FILE__, __LINE__, "cell %d not cleared", i);
            break;
        }
    CHECK_EQ(fb[4000], 0x5A);
    write_str("hi\n\tx\x80");
    CHECK_EQ(fb[0], 'h');
    CHECK_EQ(fb[1], 0x07);
    CHECK_EQ(fb[2], 'i');
    CHECK_EQ(fb[160 + 16], 'x');
    CHECK_EQ(fb[160 + 18], 0xFE);
    for (int i = 0; i < 30; i++)
        write_str("line\n");
    CHECK_EQ(fb[0], 'l');
    CHECK_EQ(fb[24 * 160], ' ');
}

static void describe(void)
{
    char buf[120];
    struct boot_screen s = fake(SCREEN_RGB, 1024, 16, 32, 4096);
    start(&s);
    screen_describe(buf, sizeof(buf));
    char want[120];
    snprintf(want, sizeof(want), "framebuffer 1024x16x32 at 0x%llx, 128x1 characters",
             (unsigned long long)FB);
    CHECK_STR(buf, want);

    s = fake(SCREEN_TEXT, 80, 25, 16, 160);
    start(&s);
    screen_describe(buf, sizeof(buf));
    snprintf(want, sizeof(want), "vga text 80x25 at 0x%llx", (unsigned long long)FB);
    CHECK_STR(buf, want);
}

/* Kinds ixmetal does not draw on. */
static void refuses(void)
{
    const char *why = "";
    struct boot_screen s = fake(SCREEN_INDEXED, 640, 480, 8, 640);
    CHECK_EQ(screen_init(&s, &why), -1);
    CHECK(strstr(why, "indexed") != NULL);
    s = fake(SCREEN_RGB, 640, 480, 8, 640);
    CHECK_EQ(screen_init(&s, &why), -1);
    s = fake(SCREEN_RGB, 4, 4, 32, 16);
    CHECK_EQ(screen_init(&s, &why), -1);
    CHECK_EQ(writes, 0);
}

/* Beyond 1920 pixels a line or 1088 lines (240x68 characters) nothing is
 * cleared or drawn: the rest keeps what was there, and screen_span(), what
 * the kernel maps, ends where the used part does. */
static void larger_screen_uses_1920x1088(void)
{
    char buf[120], want[120];
    struct boot_screen s = fake(SCREEN_RGB, 2048, 16, 16, 4096); /* 2048 pixels of 2 bytes */
    CHECK_EQ(fb_span, 15 * 4096 + 1920 * 2);
    start(&s);
    CHECK_EQ(writes, 1920 * 2 * 16);
    for (int i = 0; i < 300; i++)
        write_str("x\ty\n");
    for (uint32_t i = 0; i < 16 * 4096; i++)
        if (i % 4096 >= 1920 * 2 && fb[i] != 0x5A) {
            test_fail(__FILE__, __LINE__, "byte %u, right of the used part, written", i);
            break;
        }
    screen_describe(buf, sizeof(buf));
    snprintf(want, sizeof(want), "framebuffer 2048x16x16 at 0x%llx, 240x1 characters",
             (unsigned long long)FB);
    CHECK_STR(buf, want);

    s = fake(SCREEN_RGB, 8, 1100, 16, 16); /* 1100 lines */
    CHECK_EQ(fb_span, 1087 * 16 + 16);
    start(&s);
    CHECK_EQ(writes, 1088 * 16);
    for (int i = 0; i < 100; i++)
        write_str("a\n");
    CHECK_EQ(fb[1088 * 16], 0x5A);
    CHECK_EQ(fb[1100 * 16 - 1], 0x5A);
    screen_describe(buf, sizeof(buf));
    snprintf(want, sizeof(want), "framebuffer 8x1100x16 at 0x%llx, 1x68 characters",
             (unsigned long long)FB);
    CHECK_STR(buf, want);

    s = fake(SCREEN_TEXT, 300, 100, 16, 600); /* text: 240x68 of 300x100 cells */
    CHECK_EQ(fb_span, 67 * 600 + 240 * 2);
    start(&s);
    for (int i = 0; i < 80; i++)
        write_str("line\n");
    CHECK_EQ(fb[480], 0x5A);
    CHECK_EQ(fb[68 * 600], 0x5A);

    /* 3840x2160x32: 16.7 MB mapped, not 33 MB; 1920x1088 cleared (8.4 MB) */
    s = (struct boot_screen){
        .type = SCREEN_RGB, .pitch = 15360, .width = 3840, .height = 2160, .bpp = 32
    };
    CHECK_EQ(screen_span(&s), 1087ull * 15360 + 1920 * 4);
}

/* Two writers at once: kernel/console.c lets one core in at a time, and
 * this is the case where that fails. At one write the first writer makes
 * to the screen, a second writes lines of its own (moving the screen up
 * under the first), for each of the first's writes in turn: nothing lands
 * outside the screen (fb_write, and ASan for cells[]) whichever it is. */
static uint64_t second_at, first_writes;
static int in_second;

static void second_writer(void)
{
    if (in_second || first_writes++ != second_at)
        return;
    in_second = 1;
    write_str("123456789\n\n\tz");
    in_second = 0;
}

static void two_writers_stay_on_the_screen(void)
{
    /* until the first makes fewer writes than second_at: none was left out */
    for (second_at = 0; !test_case_failed; second_at++) {
        struct boot_screen s = fake(SCREEN_RGB, 32, 48, 16, 64); /* 4x3 characters */
        start(&s);
        first_writes = 0;
        on_write = second_writer;
        for (int i = 0; i < 2; i++)
            write_str("abcd\nefghi\tj\rk\n");
        on_write = NULL;
        if (first_writes <= second_at)
            break;
    }
    CHECK(second_at > 1000); /* the first drew at least that much */
}

/* --- screen_find ------------------------------------------------------------ */

static struct boot_info bi;

static void bios_boot(uint8_t mode, uint16_t cols, uint8_t rows_less_one)
{
    memset(&bi, 0, sizeof(bi));
    bi.screen.type = SCREEN_NONE;
    bi.firmware = FW_BIOS;
    bi.map[0] = (struct mem_region){ 0, 0x9FC00, MEM_AVAILABLE };
    bi.map[1] = (struct mem_region){ 0x100000, 0x7F00000, MEM_AVAILABLE };
    bi.nmap = 2;
    fake_phys_clear();
    fake_phys[0x449] = mode;
    fake_phys[0x44A] = (uint8_t)cols;
    fake_phys[0x44B] = (uint8_t)(cols >> 8);
    fake_phys[0x484] = rows_less_one;
}

static void find_bios_text(void)
{
    struct boot_screen s;
    const char *why = "";
    bios_boot(3, 80, 24);
    CHECK_EQ(screen_find(&bi, &s, &why), 0);
    CHECK_EQ(s.type, SCREEN_TEXT);
    CHECK_EQ(s.addr, 0xB8000);
    CHECK_EQ(s.width, 80);
    CHECK_EQ(s.height, 25);
    CHECK_EQ(s.pitch, 160);

    bios_boot(3, 80, 49); /* 80x50 */
    CHECK_EQ(screen_find(&bi, &s, &why), 0);
    CHECK_EQ(s.height, 50);
    bios_boot(7, 80, 0); /* monochrome; an old BIOS leaves the rows byte 0 */
    CHECK_EQ(screen_find(&bi, &s, &why), 0);
    CHECK_EQ(s.addr, 0xB0000);
    CHECK_EQ(s.height, 25);

    bios_boot(0x13, 40, 24); /* a graphics mode */
    CHECK_EQ(screen_find(&bi, &s, &why), -1);
    CHECK(strstr(why, "no text mode") != NULL);
    bios_boot(0, 0, 0); /* a zeroed data area */
    CHECK_EQ(screen_find(&bi, &s, &why), -1);

    bios_boot(3, 80, 24); /* the map says RAM is there */
    bi.map[0].len = 0xC0000;
    CHECK_EQ(screen_find(&bi, &s, &why), -1);
    CHECK(strstr(why, "RAM") != NULL);
}

static void find_loader_or_nothing_on_uefi(void)
{
    struct boot_screen s;
    const char *why = "";
    bios_boot(3, 80, 24);
    bi.firmware = FW_UEFI;
    CHECK_EQ(screen_find(&bi, &s, &why), -1);
    CHECK(strstr(why, "UEFI") != NULL);

    bi.screen = (struct boot_screen){ .type = SCREEN_RGB,
                                      .addr = 0x80000000,
                                      .pitch = 4096,
                                      .width = 1024,
                                      .height = 768,
                                      .bpp = 32 };
    CHECK_EQ(screen_find(&bi, &s, &why), 0);
    CHECK_EQ(s.addr, 0x80000000);
    CHECK_EQ(s.width, 1024);
}

/* A loader's description no screen has is refused, saying so, before the
 * kernel maps or clears anything; the largest accepted maps under 68 MiB. */
static void find_refuses_what_no_screen_is(void)
{
    struct boot_screen s;
    const char *why = "";
    bios_boot(3, 80, 24);
    bi.firmware = FW_UEFI;
    bi.screen = (struct boot_screen){ .type = SCREEN_RGB,
                                      .addr = 0x4000000000ull,
                                      .pitch = 4096,
                                      .width = 1024,
                                      .height = 0x10000000,
                                      .bpp = 32 };
    CHECK_EQ(screen_find(&bi, &s, &why), -1);
    CHECK_STR(why, "a 1024x268435456 screen with 4096 bytes a line, not a real one");
    bi.screen.height = 768;
    bi.screen.pitch = 0x100000;
    CHECK_EQ(screen_find(&bi, &s, &why), -1);
    CHECK_STR(why, "a 1024x768 screen with 1048576 bytes a line, not a real one");
    bi.screen.pitch = 4096;
    bi.screen.width = 20000;
    CHECK_EQ(screen_find(&bi, &s, &why), -1);
    bi.screen.width = 1024;
    bi.screen.pitch = 4000; /* lines longer than the pitch */
    CHECK_EQ(screen_find(&bi, &s, &why), -1);
    CHECK_STR(why, "a framebuffer with lines longer than its pitch");
    bi.screen = (struct boot_screen){
        .type = SCREEN_TEXT, .addr = 0xB8000, .pitch = 160, .width = 80, .height = 100000, .bpp = 16
    };
    CHECK_EQ(screen_find(&bi, &s, &why), -1);
    CHECK_STR(why, "a 80x100000 screen with 160 bytes a line, not a real one");

    bi.screen = (struct boot_screen){ .type = SCREEN_RGB,
                                      .addr = 0x4000000000ull,
                                      .pitch = SCREEN_MAX_PITCH,
                                      .width = SCREEN_MAX_SIDE,
                                      .height = SCREEN_MAX_SIDE,
                                      .bpp = 32 };
    CHECK_EQ(screen_find(&bi, &s, &why), 0);
    CHECK_EQ(screen_span(&s), 1087ull * SCREEN_MAX_PITCH + 1920 * 4);
    CHECK(screen_span(&s) < 68ull << 20);
}

int main(void)
{
    RUN(rgb32_glyphs);
    RUN(rgb24_packed);
    RUN(rgb24_unaligned_pitch);
    RUN(rgb16_fields);
    RUN(wrap_and_move_up);
    RUN(move_up_draws_only_changes);
    RUN(vga_text);
    RUN(describe);
    RUN(refuses);
    RUN(larger_screen_uses_1920x1088);
    RUN(two_writers_stay_on_the_screen);
    RUN(find_bios_text);
    RUN(find_loader_or_nothing_on_uefi);
    RUN(find_refuses_what_no_screen_is);
    return test_finish();
}
