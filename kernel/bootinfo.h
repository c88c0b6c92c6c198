/*
 * kernel/bootinfo.h - what the boot loader told us, copied out of its
 * Multiboot 0.6.96 or Multiboot2 information structure before any memory is
 * handed out (the structure lives in memory we are about to call free).
 */
#ifndef KERNEL_BOOTINFO_H
#define KERNEL_BOOTINFO_H

#include <stdint.h>

#include "kernel/memmap.h"

enum boot_protocol { BOOT_UNKNOWN = 0, BOOT_MULTIBOOT1 = 1, BOOT_MULTIBOOT2 = 2 };
enum boot_firmware { FW_BIOS = 0, FW_UEFI = 1 };

#define BOOT_CMDLINE_MAX 1024
#define BOOT_LOADER_MAX 64

/* What the loader says is on the screen (Multiboot2 §3.6.12 framebuffer
 * tag, Multiboot 0.6.96 §3.3 framebuffer_* fields; the type values are
 * theirs). SCREEN_NONE: the loader said nothing. */
enum screen_type { SCREEN_INDEXED = 0, SCREEN_RGB = 1, SCREEN_TEXT = 2, SCREEN_NONE = 3 };

struct boot_screen {
    enum screen_type type;
    uint64_t addr;          /* physical */
    uint32_t pitch;         /* bytes from one line (of pixels, or of characters) to the next */
    uint32_t width, height; /* pixels; for SCREEN_TEXT characters */
    uint8_t bpp;            /* bits per pixel; 16 for SCREEN_TEXT (character, attribute) */
    uint8_t red_pos, red_size, green_pos, green_size, blue_pos, blue_size; /* SCREEN_RGB */
};

struct boot_info {
    enum boot_protocol protocol;
    enum boot_firmware firmware;
    char loader[BOOT_LOADER_MAX];   /* "" when the loader gave no name */
    char cmdline[BOOT_CMDLINE_MAX]; /* truncated if longer; cmdline_truncated says so */
    int cmdline_truncated;
    struct mem_region map[MEMMAP_MAX]; /* normalized (kernel/memmap.h) */
    int nmap;
    int map_dropped;  /* entries that did not fit in map[]: their memory is unused */
    uint8_t rsdp[36]; /* copy of the ACPI RSDP from a Multiboot2 tag */
    int rsdp_len;     /* 0: none given, 20: ACPI 1.0, 36: ACPI 2.0+ */
    struct boot_screen screen;
};

/* The machine's, filled once by kmain(). */
extern struct boot_info boot;

/*
 * Fills *bi from the loader's information at physical address info_pa.
 * Returns 0, or -1 when magic names neither protocol (bi->protocol is then
 * BOOT_UNKNOWN and nothing else is filled in).
 */
int bootinfo_parse(uint32_t magic, uint64_t info_pa, struct boot_info *bi);

static inline const char *boot_protocol_name(enum boot_protocol p)
{
    return p == BOOT_MULTIBOOT1 ? "multiboot1" : p == BOOT_MULTIBOOT2 ? "multiboot2" : "unknown";
}

static inline const char *boot_firmware_name(enum boot_firmware f)
{
    return f == FW_UEFI ? "uefi" : "bios";
}

#endif
