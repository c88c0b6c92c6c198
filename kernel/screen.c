/*
 * kernel/screen.c - text on a VGA text buffer or a linear framebuffer (see
 * screen.h).
 *
 * VGA text (IBM VGA Technical Reference): 16 bits per character cell, the
 * character in the low byte and its attribute in the high byte. The BIOS
 * data area says which text mode the BIOS left (IBM PC/AT Technical
 * Reference, BIOS data area at segment 0x40: 0x49 video mode, 0x4A columns,
 * 0x84 rows less one).
 *
 * Framebuffer (Multiboot2 §3.6.12): width x height pixels, pitch bytes per
 * line, each pixel bpp bits holding red, green and blue at the positions and
 * widths the loader gives. 15/16, 24 (three packed bytes) and 32 bits per
 * pixel are drawn; an indexed (palette) framebuffer is not.
 */
#include "kernel/screen.h"

#include "kernel/font.h"
#include "kernel/io.h"
#include "kernel/kprintf.h"
#include "kernel/phys.h"
#include "kernel/string.h"

#define TAB 8
#define VGA_ATTR 0x07     /* light grey on black */
#define VGA_BOX 0xFE      /* code page 437's small square, for a byte without a glyph */
#define GREY 0xAA         /* the framebuffer's text: VGA colour 7, 0xAAAAAA */
#define CRTC_COLOUR 0x3D4 /* CRT controller index port; data at +1 */
#define CRTC_MONO 0x3B4   /* ... for the monochrome buffer at 0xB0000 */
#define CRTC_CURSOR_START 0x0A
#define CURSOR_DISABLE 0x20 /* Cursor Start register bit 5 */

/* BIOS data area (physical addresses). */
#define BDA_VIDEO_MODE 0x449
#define BDA_COLUMNS 0x44A
#define BDA_ROWS_LESS_ONE 0x484

static struct {
    struct boot_screen mode; /* as found; SCREEN_NONE until screen_init */
    uint32_t bytes;          /* per pixel */
    uint32_t cols, rows;     /* characters */
    uint32_t col, row;       /* where the next character goes; col == cols: at the edge */
    uint32_t fg, bg;         /* pixel values */
    int aligned; /* base and pitch 4-aligned: a glyph row is written 32 bits at a time */
} scr = { .mode.type = SCREEN_NONE };

/* What each cell shows now: the screen is never read back. */
static uint8_t cells[SCREEN_MAX_ROWS][SCREEN_MAX_COLS];

/*
 * One writer at a time: kernel/console.c lets one core into screen_write()
 * (kprintf's lock is not enough: another core takes it over from one that
 * holds it too long). Should two writers meet here all the same, neither
 * may write outside cells[] or the mapped part of the screen (screen_span()),
 * whatever the interleaving. So the cursor only ever takes values inside
 * the grid (new_line() and put() store a value they computed from one read
 * and checked, never an increment of a field another core may have moved
 * meanwhile), and set_cell(), the one writer of cells[] and of the screen
 * after screen_init(), checks the cell it is given. Two writers can garble
 * a line, nothing more.
 */

/* --- finding the screen --------------------------------------------------- */

/* The colour text modes 0-3 at 0xB8000, the monochrome mode 7 at 0xB0000. */
static int bios_text_mode(struct boot_screen *s, const char **why)
{
    uint8_t mode = *(const uint8_t *)phys_ptr(BDA_VIDEO_MODE, 1);
    uint16_t cols = get16(phys_ptr(BDA_COLUMNS, 2));
    uint8_t rows = *(const uint8_t *)phys_ptr(BDA_ROWS_LESS_ONE, 1) + 1u;
    if ((mode > 3 && mode != 7) || cols < 40 || cols > SCREEN_MAX_COLS) {
        *why = "the BIOS data area names no text mode";
        return -1;
    }
    if (rows < 25 || rows > 60) /* the byte is EGA's: older BIOSes leave 0 */
        rows = 25;
    *s = (struct boot_screen){ .type = SCREEN_TEXT,
                               .addr = mode == 7 ? 0xB0000 : 0xB8000,
                               .pitch = cols * 2u,
                               .width = cols,
                               .height = rows,
                               .bpp = 16 };
    return 0;
}

static char why_buf[128]; /* a reason with numbers in it */

/* A kind ixmetal draws on, and of a size a screen can have: a loader's
 * garbage (height 0x10000000, say) would otherwise have the caller map
 * and clear gigabytes. */
static int check_mode(const struct boot_screen *s, const char **why)
{
    if (!s->width || !s->height || s->width > SCREEN_MAX_SIDE || s->height > SCREEN_MAX_SIDE ||
        s->pitch > SCREEN_MAX_PITCH) {
        ksnprintf(why_buf, sizeof(why_buf), "a %ux%u screen with %u bytes a line, not a real one",
                  s->width, s->height, s->pitch);
        *why = why_buf;
        return -1;
    }
    if (s->type == SCREEN_TEXT) {
        if (s->bpp != 16 || s->pitch < s->width * 2u) {
            *why = "a text mode with cells not of 16 bits";
            return -1;
        }
        return 0;
    }
    if (s->type != SCREEN_RGB) {
        *why = "an indexed-colour (palette) framebuffer, which ixmetal does not draw on";
        return -1;
    }
    if (s->bpp != 15 && s->bpp != 16 && s->bpp != 24 && s->bpp != 32) {
        *why = "a framebuffer depth other than 15, 16, 24 or 32 bits per pixel";
        return -1;
    }
    if (s->width < FONT_WIDTH || s->height < FONT_HEIGHT) {
        *why = "a framebuffer smaller than one character";
        return -1;
    }
    if ((uint64_t)s->width * ((s->bpp + 7u) / 8) > s->pitch) {
        *why = "a framebuffer with lines longer than its pitch";
        return -1;
    }
    return 0;
}

int screen_find(const struct boot_info *bi, struct boot_screen *s, const char **why)
{
    if (bi->screen.type != SCREEN_NONE) {
        *s = bi->screen;
    } else if (bi->firmware == FW_UEFI) {
        /* UEFI machines need not decode the VGA area at all. */
        *why = "UEFI, and the loader gave no framebuffer (GRUB gives one when grub.cfg loads a "
               "video driver: insmod all_video)";
        return -1;
    } else if (bios_text_mode(s, why) != 0) {
        return -1;
    }
    if (check_mode(s, why) != 0)
        return -1;
    if (memmap_is_ram(bi->map, bi->nmap, s->addr, (uint64_t)s->pitch * s->height)) {
        *why = "the memory map says the screen's buffer is RAM";
        return -1;
    }
    return 0;
}

/* --- drawing ---------------------------------------------------------------- */

/* An 8-bit colour channel scaled to a field of size bits at pos. */
static uint32_t channel(uint32_t v, uint8_t pos, uint8_t size)
{
    if (size == 0 || size > 16)
        return 0;
    v = size >= 8 ? v << (size - 8) : v >> (8 - size);
    return pos < 32 ? v << pos : 0;
}

static uint32_t pixel(uint32_t r, uint32_t g, uint32_t b)
{
    const struct boot_screen *m = &scr.mode;
    return channel(r, m->red_pos, m->red_size) | channel(g, m->green_pos, m->green_size) |
           channel(b, m->blue_pos, m->blue_size);
}

/* One row of a glyph at byte address at: 8 pixels, fg where bits has a 1. */
static void draw_glyph_row(uint64_t at, uint8_t bits)
{
    uint8_t px[FONT_WIDTH * 4];
    uint32_t n = FONT_WIDTH * scr.bytes;
    for (int x = 0; x < FONT_WIDTH; x++) {
        uint32_t v = bits & (0x80 >> x) ? scr.fg : scr.bg;
        for (uint32_t b = 0; b < scr.bytes; b++) /* little-endian, packed */
            px[x * scr.bytes + b] = (uint8_t)(v >> (8 * b));
    }
    if (scr.aligned) { /* n is a multiple of 4: 8 pixels of 2, 3 or 4 bytes */
        for (uint32_t i = 0; i < n; i += 4)
            mmio_write32(at + i, get32(px + i));
    } else {
        for (uint32_t i = 0; i < n; i++)
            mmio_write8(at + i, px[i]);
    }
}

static void draw_cell(uint32_t row, uint32_t col, uint8_t c)
{
    const struct boot_screen *m = &scr.mode;
    if (m->type == SCREEN_TEXT) {
        uint8_t ch = c >= 0x20 && c < 0x7F ? c : VGA_BOX;
        mmio_write16(m->addr + (uint64_t)row * m->pitch + col * 2u, (uint16_t)(VGA_ATTR << 8 | ch));
        return;
    }
    const uint8_t *glyph = font_glyph(c);
    uint64_t at = m->addr + (uint64_t)row * FONT_HEIGHT * m->pitch + col * FONT_WIDTH * scr.bytes;
    for (int y = 0; y < FONT_HEIGHT; y++)
        draw_glyph_row(at + (uint64_t)y * m->pitch, glyph[y]);
}

/* Shows c at (row, col) unless it is there already, or the cell is not on
 * the grid (only two writers at once could ask for one that is not). */
static void set_cell(uint32_t row, uint32_t col, uint8_t c)
{
    if (row >= scr.rows || col >= scr.cols)
        return;
    if (cells[row][col] != c) {
        cells[row][col] = c;
        draw_cell(row, col, c);
    }
}

/* Every cell takes the character of the cell below it; the last line is
 * blank. Only cells that change are drawn: a line's blank end over another
 * blank end costs nothing. */
static void move_up(void)
{
    for (uint32_t r = 0; r + 1 < scr.rows; r++)
        for (uint32_t c = 0; c < scr.cols; c++)
            set_cell(r, c, cells[r + 1][c]);
    for (uint32_t c = 0; c < scr.cols; c++)
        set_cell(scr.rows - 1, c, ' ');
}

/* Returns the row the next character goes on. */
static uint32_t new_line(void)
{
    uint32_t row = scr.row; /* read once: see "One writer at a time" */
    scr.col = 0;
    if (row + 1 < scr.rows) {
        scr.row = row + 1;
        return row + 1;
    }
    move_up();
    return scr.rows - 1;
}

static void put(uint8_t c)
{
    uint32_t row = scr.row, col = scr.col;
    if (row >= scr.rows || col > scr.cols) { /* never, by construction; mended should it be */
        scr.row = row = scr.rows - 1;
        scr.col = col = 0;
    }
    if (c == '\n') {
        new_line();
    } else if (c == '\r') {
        scr.col = 0;
    } else if (c == '\t') { /* moves on, as a terminal does, drawing nothing */
        col = (col / TAB + 1) * TAB;
        scr.col = col < scr.cols ? col : scr.cols;
    } else {
        if (col == scr.cols) { /* wrap only now: a full line then '\n' makes no blank line */
            row = new_line();
            col = 0;
        }
        scr.col = col + 1;
        set_cell(row, col, c);
    }
}

void screen_write(const char *s, size_t n)
{
    if (scr.mode.type == SCREEN_NONE)
        return;
    for (size_t i = 0; i < n; i++)
        put((uint8_t)s[i]);
    mmio_wc_flush(); /* what was drawn leaves the write-combining buffers now */
}

/* --- starting --------------------------------------------------------------- */

/* The used part of s, in characters (text) or pixels: whole characters, at
 * most SCREEN_MAX_COLS x SCREEN_MAX_ROWS of them, and on a framebuffer the
 * pixels right of and below them too, up to 1920x1088, so that the margin
 * of a smaller screen is cleared. */
static void used_part(const struct boot_screen *s, uint32_t *w, uint32_t *h)
{
    uint32_t max_w = SCREEN_MAX_COLS, max_h = SCREEN_MAX_ROWS;
    if (s->type != SCREEN_TEXT) {
        max_w *= FONT_WIDTH;
        max_h *= FONT_HEIGHT;
    }
    *w = s->width < max_w ? s->width : max_w;
    *h = s->height < max_h ? s->height : max_h;
}

uint64_t screen_span(const struct boot_screen *s)
{
    uint32_t w, h, unit = s->type == SCREEN_TEXT ? 2 : (s->bpp + 7u) / 8;
    used_part(s, &w, &h);
    return w && h ? (uint64_t)(h - 1) * s->pitch + (uint64_t)w * unit : 0;
}

/* Writes zeros over the used part of the framebuffer, line by line: black
 * in every RGB layout. Right of and below it the loader's picture stays. */
static void clear_pixels(uint32_t w, uint32_t h)
{
    uint64_t len = (uint64_t)w * scr.bytes;
    for (uint32_t y = 0; y < h; y++) {
        uint64_t at = scr.mode.addr + (uint64_t)y * scr.mode.pitch, i = 0;
        if (scr.aligned)
            for (; i + 4 <= len; i += 4)
                mmio_write32(at + i, 0);
        for (; i < len; i++)
            mmio_write8(at + i, 0);
    }
}

/* Blanks a text row two cells at a time: half the (slow) device accesses. */
static void clear_text_row(uint32_t r)
{
    uint64_t at = scr.mode.addr + (uint64_t)r * scr.mode.pitch;
    uint32_t blank = VGA_ATTR << 8 | ' ', c = 0;
    for (; c + 2 <= scr.cols && !(at % 4); c += 2)
        mmio_write32(at + c * 2u, blank << 16 | blank);
    for (; c < scr.cols; c++)
        mmio_write16(at + c * 2u, (uint16_t)blank);
}

int screen_init(const struct boot_screen *s, const char **why)
{
    if (check_mode(s, why) != 0)
        return -1;
    uint32_t w, h;
    used_part(s, &w, &h);
    scr.mode = *s;
    scr.col = scr.row = 0;
    if (s->type == SCREEN_TEXT) {
        scr.cols = w;
        scr.rows = h;
        scr.aligned = 0;
        /* Cursor Start register: cursor off, or it blinks where the BIOS left it. */
        uint16_t crtc = s->addr == 0xB0000 ? CRTC_MONO : CRTC_COLOUR;
        outb(crtc, CRTC_CURSOR_START);
        outb(crtc + 1, CURSOR_DISABLE);
    } else {
        scr.bytes = (s->bpp + 7u) / 8;
        scr.cols = w / FONT_WIDTH;
        scr.rows = h / FONT_HEIGHT;
        scr.aligned = !(s->addr % 4) && !(s->pitch % 4);
        scr.fg = pixel(GREY, GREY, GREY);
        scr.bg = pixel(0, 0, 0);
        clear_pixels(w, h);
    }
    for (uint32_t r = 0; r < scr.rows; r++) {
        memset(cells[r], ' ', scr.cols);
        if (s->type == SCREEN_TEXT)
            clear_text_row(r);
    }
    mmio_wc_flush();
    return 0;
}

void screen_describe(char *buf, size_t len)
{
    const struct boot_screen *m = &scr.mode;
    if (m->type == SCREEN_TEXT)
        ksnprintf(buf, len, "vga text %ux%u at 0x%lx", scr.cols, scr.rows, m->addr);
    else if (m->type == SCREEN_RGB)
        ksnprintf(buf, len, "framebuffer %ux%ux%u at 0x%lx, %ux%u characters", m->width, m->height,
                  m->bpp, m->addr, scr.cols, scr.rows);
    else
        ksnprintf(buf, len, "none");
}
