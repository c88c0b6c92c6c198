/*
 * kernel/bootinfo.c - parsing the Multiboot 0.6.96 and Multiboot2 boot
 * information (GNU Multiboot Specification 0.6.96 §3.3; Multiboot2
 * Specification 2.0 §3.6). Every length is checked against the structure it
 * sits in: a malformed structure loses information, it does not crash us.
 */
#include "kernel/bootinfo.h"

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

static void add_region(struct boot_info *bi, uint64_t base, uint64_t len, uint32_t type)
{
    if (bi->nmap < MEMMAP_MAX)
        bi->map[bi->nmap++] = (struct mem_region){ base, len, type };
}

/* Multiboot 0.6.96 §3.3, "Boot information format". */
static void parse_mb1(uint64_t pa, struct boot_info *bi)
{
    const uint8_t *mbi = phys_ptr(pa, 116);
    uint32_t flags = get32(mbi);

    if (flags & MB1_INFO_CMDLINE)
        bi->cmdline_truncated = copy_string(bi->cmdline, sizeof(bi->cmdline), get32(mbi + 16));
    if (flags & MB1_INFO_LOADER_NAME)
        copy_string(bi->loader, sizeof(bi->loader), get32(mbi + 64));

    if (flags & MB1_INFO_MMAP) {
        uint32_t len = get32(mbi + 44);
        uint64_t at = get32(mbi + 48), end = at + len;
        /* Each entry: size (u32, not counting itself), base_addr, length, type. */
        while (at + 24 <= end) {
            const uint8_t *e = phys_ptr(at, 24);
            uint32_t size = get32(e);
            if (size < 20 || size > end - at - 4)
                break; /* malformed: shorter than its fields, or past the map */
            add_region(bi, get64(e + 4), get64(e + 12), get32(e + 20));
            at += (uint64_t)size + 4;
        }
    } else if (flags & MB1_INFO_MEM) {
        /* Only mem_lower/mem_upper: KiB below 640 K and above 1 MiB. */
        add_region(bi, 0, (uint64_t)get32(mbi + 4) * 1024, MEM_AVAILABLE);
        add_region(bi, 0x100000, (uint64_t)get32(mbi + 8) * 1024, MEM_AVAILABLE);
    }
}

/* Multiboot2 §3.6.8: the memory map tag. */
static void parse_mb2_mmap(const uint8_t *tag, uint32_t size, struct boot_info *bi)
{
    uint32_t esize = get32(tag + 8);
    if (esize < 24)
        return;
    for (uint32_t off = 16; off + 24 <= size; off += esize) {
        const uint8_t *e = tag + off;
        add_region(bi, get64(e), get64(e + 8), get32(e + 16));
    }
}

/* Multiboot2 §3.6: 8-aligned tags after an 8-byte header, ended by type 0. */
static void parse_mb2(uint64_t pa, struct boot_info *bi)
{
    uint32_t total = get32(phys_ptr(pa, 8));
    if (total > MB2_INFO_MAX)
        total = MB2_INFO_MAX;
    const uint8_t *info = phys_ptr(pa, total);

    for (uint32_t off = 8; off + 8 <= total;) {
        const uint8_t *tag = info + off;
        uint32_t type = get32(tag), size = get32(tag + 4);
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
