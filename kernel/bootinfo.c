/*
 * kernel/bootinfo.c - parsing the Multiboot 0.6.96 and Multiboot2 boot
 * information (GNU Multiboot Specification 0.6.96 §3.3; Multiboot2
 * Specification 2.0 §3.6). Every length is checked against the structure it
 * sits in: a malformed structure loses information, it does not crash us.
 */
#include "kernel/bootinfo.h"

#include <stddef.h>

#include "boot/multiboot.h"
#include "kernel/phys.h"
#include "kernel/string.h"

#define MB2_INFO_MAX (64 * 1024) /* a sanity cap on total_size */

/* Copies a NUL-terminated string at physical address pa, at most max-1
 * bytes. Returns 1 if it had to cut the string short. */
static int copy_string(char *dst, int max, uint64_t pa)
{
    int i;
    for (i = 0; i < max - 1; i++) {
        char c = *(const char *)phys_ptr(pa + i, 1);
        dst[i] = c;
        if (!c)
            return 0;
    }
    dst[i] = '\0';
    return *(const char *)phys_ptr(pa + i, 1) != '\0';
}

/* The same for a string inside a tag of n bytes, which need not be
 * NUL-terminated within them. */
static int copy_bytes(char *dst, int max, const char *src, int n)
{
    int i;
    for (i = 0; i < n && i < max - 1 && src[i]; i++)
        dst[i] = src[i];
    dst[i] = '\0';
    return i == max - 1 && i < n && src[i] != '\0';
}

/* UEFI maps come in many adjacent pieces of one type: they are merged as
 * they arrive, so MEMMAP_MAX slots go a long way. What still does not fit
 * is counted, and the kernel says so. */
static void add_region(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
    struct mem_region *last = bi->nmap ? &bi->map[bi->nmap - 1] : NULL;
    if (last && last->type == type && last->base + last->len == base)
        last->len += len;
    else if (bi->nmap < MEMMAP_MAX)
        bi->map[bi->nmap++] = (struct mem_region){ base, len, type };
    else
        bi->map_dropped++;
}

/* Multiboot 0.6.96 §3.3, "Boot information format": the fields we read. */
struct mb1_info {
    uint32_t flags;
    uint32_t mem_lower, mem_upper; /* KiB; flags bit 0 */
    uint32_t boot_device;
    uint32_t cmdline; /* physical address; flags bit 2 */
    uint32_t mods_count, mods_addr;
    uint32_t syms[4];
    uint32_t mmap_length, mmap_addr; /* flags bit 6 */
    uint32_t drives_length, drives_addr;
    uint32_t config_table;
    uint32_t boot_loader_name; /* physical address; flags bit 9 */
} __attribute__((packed));
_Static_assert(offsetof(struct mb1_info, cmdline) == 16, "Multiboot 0.6.96 §3.3");
_Static_assert(offsetof(struct mb1_info, mmap_length) == 44, "Multiboot 0.6.96 §3.3");
_Static_assert(offsetof(struct mb1_info, boot_loader_name) == 64, "Multiboot 0.6.96 §3.3");

/* One mmap entry; size counts the bytes after itself (usually 20). */
struct mb1_mmap_entry {
    uint32_t size;
    uint64_t base_addr, length;
    uint32_t type;
} __attribute__((packed));
_Static_assert(sizeof(struct mb1_mmap_entry) == 24, "Multiboot 0.6.96 §3.3");

/* Multiboot 0.6.96 §3.3: the framebuffer fields at offset 88, valid with
 * flags bit 12 (the colour fields as for a Multiboot2 RGB framebuffer). */
struct mb1_framebuffer {
    uint64_t addr;
    uint32_t pitch, width, height;
    uint8_t bpp, type;
    uint8_t color[6];
} __attribute__((packed));
_Static_assert(sizeof(struct mb1_framebuffer) == 116 - 88, "Multiboot 0.6.96 §3.3");
#define MB1_FRAMEBUFFER_OFFSET 88

/* What a framebuffer description says, checked: a type we do not know, or
 * a screen that is empty or whose lines overlap, is left as SCREEN_NONE.
 * Sizes no screen has are passed on: kernel/screen.c refuses them and the
 * banner says why ("screen: none: a 1024x268435456 screen ..."). */
static void set_screen(struct boot_info *bi, uint64_t addr, uint32_t pitch, uint32_t width,
                       uint32_t height, uint8_t bpp, uint8_t type, const uint8_t *color)
{
    struct boot_screen *s = &bi->screen;
    if (type > SCREEN_TEXT || !addr || !width || !height || !bpp ||
        (uint64_t)width * ((bpp + 7u) / 8) > pitch)
        return;
    static const uint8_t xrgb[6] = { 16, 8, 8, 8, 0, 8 }; /* when a short tag leaves them out */
    *s = (struct boot_screen){
        .type = (enum screen_type)type,
        .addr = addr,
        .pitch = pitch,
        .width = width,
        .height = height,
        .bpp = bpp,
    };
    if (type == SCREEN_RGB) {
        if (!color)
            color = xrgb;
        s->red_pos = color[0];
        s->red_size = color[1];
        s->green_pos = color[2];
        s->green_size = color[3];
        s->blue_pos = color[4];
        s->blue_size = color[5];
    }
}

static void parse_mb1(uint64_t pa, struct boot_info *bi)
{
    const struct mb1_info *mbi = phys_ptr(pa, sizeof(*mbi));
    uint32_t flags = mbi->flags;

    if (flags & MB1_INFO_CMDLINE)
        bi->cmdline_truncated = copy_string(bi->cmdline, sizeof(bi->cmdline), mbi->cmdline);
    if (flags & MB1_INFO_LOADER_NAME)
        copy_string(bi->loader, sizeof(bi->loader), mbi->boot_loader_name);

    if (flags & MB1_INFO_MMAP) {
        uint64_t at = mbi->mmap_addr, end = at + mbi->mmap_length;
        while (at + sizeof(struct mb1_mmap_entry) <= end) {
            const struct mb1_mmap_entry *e = phys_ptr(at, sizeof(*e));
            if (e->size < 20 || e->size > end - at - 4)
                break; /* malformed: shorter than its fields, or past the map */
            add_region(bi, e->base_addr, e->length, e->type);
            at += (uint64_t)e->size + 4;
        }
    } else if (flags & MB1_INFO_MEM) {
        /* Only mem_lower/mem_upper: KiB below 640 K and above 1 MiB. */
        add_region(bi, 0, (uint64_t)mbi->mem_lower * 1024, MEM_AVAILABLE);
        add_region(bi, 0x100000, (uint64_t)mbi->mem_upper * 1024, MEM_AVAILABLE);
    }

    if (flags & MB1_INFO_FRAMEBUFFER) {
        const struct mb1_framebuffer *f = phys_ptr(pa + MB1_FRAMEBUFFER_OFFSET, sizeof(*f));
        set_screen(bi, f->addr, f->pitch, f->width, f->height, f->bpp, f->type, f->color);
    }
}

/* Multiboot2 §3.6: an 8-byte header, then 8-aligned tags. */
struct mb2_tag {
    uint32_t type;
    uint32_t size; /* including this header, excluding padding */
};

/* §3.6.8: the memory map tag, then entries of entry_size bytes. */
struct mb2_tag_mmap {
    struct mb2_tag tag;
    uint32_t entry_size, entry_version;
};
struct mb2_mmap_entry {
    uint64_t base_addr, length;
    uint32_t type, reserved;
};
_Static_assert(sizeof(struct mb2_tag_mmap) == 16, "Multiboot2 §3.6.8");
_Static_assert(sizeof(struct mb2_mmap_entry) == 24, "Multiboot2 §3.6.8");

static void parse_mb2_mmap(const uint8_t *tag, uint32_t size, struct boot_info *bi)
{
    const struct mb2_tag_mmap *t = (const struct mb2_tag_mmap *)tag;
    uint32_t esize = t->entry_size;
    if (esize < sizeof(struct mb2_mmap_entry) || esize > size)
        return; /* malformed; a huge esize would also wrap off below */
    /* entry_size need only be at least 24 (§3.6.8): an entry may sit at
     * any byte, so its fields are read as unaligned loads */
    for (uint32_t off = sizeof(*t); off + sizeof(struct mb2_mmap_entry) <= size; off += esize) {
        const uint8_t *e = tag + off;
        add_region(bi, get64(e + offsetof(struct mb2_mmap_entry, base_addr)),
                   get64(e + offsetof(struct mb2_mmap_entry, length)),
                   get32(e + offsetof(struct mb2_mmap_entry, type)));
    }
}

/* §3.6.12: the framebuffer tag; for type 1 (RGB) the colour fields follow. */
struct mb2_tag_framebuffer {
    struct mb2_tag tag;
    uint64_t addr;
    uint32_t pitch, width, height;
    uint8_t bpp, type;
    uint16_t reserved;
    uint8_t color[6];
} __attribute__((packed));
_Static_assert(offsetof(struct mb2_tag_framebuffer, bpp) == 28, "Multiboot2 §3.6.12");
_Static_assert(offsetof(struct mb2_tag_framebuffer, color) == 32, "Multiboot2 §3.6.12");

static void parse_mb2_framebuffer(const uint8_t *tag, uint32_t size, struct boot_info *bi)
{
    const struct mb2_tag_framebuffer *t = (const struct mb2_tag_framebuffer *)tag;
    if (size < offsetof(struct mb2_tag_framebuffer, color))
        return;
    set_screen(bi, t->addr, t->pitch, t->width, t->height, t->bpp, t->type,
               size >= sizeof(*t) ? t->color : NULL);
}

/* Multiboot2 §3.6: 8-aligned tags after an 8-byte header, ended by type 0. */
static void parse_mb2(uint64_t pa, struct boot_info *bi)
{
    uint32_t total = *(const uint32_t *)phys_ptr(pa, 8); /* total_size; 8-aligned */
    if (total > MB2_INFO_MAX)
        total = MB2_INFO_MAX;
    const uint8_t *info = phys_ptr(pa, total);

    for (uint32_t off = 8; off + sizeof(struct mb2_tag) <= total;) {
        const uint8_t *tag = info + off;
        uint32_t type = ((const struct mb2_tag *)tag)->type;
        uint32_t size = ((const struct mb2_tag *)tag)->size;
        if (type == MB2_TAG_END || size < 8 || size > total - off) /* no 32-bit wrap */
            break;
        switch (type) {
        case MB2_TAG_CMDLINE:
            bi->cmdline_truncated =
                copy_bytes(bi->cmdline, sizeof(bi->cmdline), (const char *)tag + 8, (int)size - 8);
            break;
        case MB2_TAG_LOADER_NAME:
            copy_bytes(bi->loader, sizeof(bi->loader), (const char *)tag + 8, (int)size - 8);
            break;
        case MB2_TAG_MMAP:
            parse_mb2_mmap(tag, size, bi);
            break;
        case MB2_TAG_FRAMEBUFFER:
            parse_mb2_framebuffer(tag, size, bi);
            break;
        case MB2_TAG_ACPI_OLD:
        case MB2_TAG_ACPI_NEW: {
            /* Prefer the ACPI 2.0 copy (tag 15) when both are given. */
            int n = (int)size - 8 > 36 ? 36 : (int)size - 8;
            if (n >= 20 && (type == MB2_TAG_ACPI_NEW || bi->rsdp_len < 36)) {
                memcpy(bi->rsdp, tag + 8, (size_t)n);
                bi->rsdp_len = n;
            }
            break;
        }
        case MB2_TAG_EFI32:
        case MB2_TAG_EFI64:
        case MB2_TAG_EFI_MMAP:
        case MB2_TAG_EFI_BS:
        case MB2_TAG_EFI32_IH:
        case MB2_TAG_EFI64_IH:
            bi->firmware = FW_UEFI;
            break;
        }
        off += (size + 7) & ~7u;
    }
}

int bootinfo_parse(uint32_t magic, uint64_t info_pa, struct boot_info *bi)
{
    memset(bi, 0, sizeof(*bi));
    bi->screen.type = SCREEN_NONE;
    if (magic == MB1_BOOT_MAGIC) {
        bi->protocol = BOOT_MULTIBOOT1;
        parse_mb1(info_pa, bi);
    } else if (magic == MB2_BOOT_MAGIC) {
        bi->protocol = BOOT_MULTIBOOT2;
        parse_mb2(info_pa, bi);
    } else {
        return -1;
    }
    bi->nmap = memmap_normalize(bi->map, bi->nmap, MEMMAP_MAX);
    return 0;
}
