/*
 * tests/unit/test_bootinfo.c - kernel/bootinfo.c: the Multiboot 0.6.96 and
 * Multiboot2 information structures, laid out in fake physical memory.
 *
 * Multiboot 0.6.96 §3.3: flags at 0, mem_lower 4, mem_upper 8, cmdline 16,
 * mmap_length 44, mmap_addr 48, boot_loader_name 64; map entries are a u32
 * size (not counting itself), then u64 base, u64 length, u32 type.
 * Multiboot2 §3.6: u32 total_size, u32 reserved, then 8-aligned tags
 * {u32 type, u32 size, data}, ended by a type 0 tag of size 8.
 */
#include <signal.h>
#include <unistd.h>

#include "boot/multiboot.h"
#include "kernel/bootinfo.h"
#include "tests/unit/host.h"

#define A MEM_AVAILABLE
#define R MEM_RESERVED

static struct boot_info bi;

/* --- fake memory ----------------------------------------------------------------- */

static void put32(uint64_t pa, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        fake_phys[pa + i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint64_t pa, uint64_t v)
{
    put32(pa, (uint32_t)v);
    put32(pa + 4, (uint32_t)(v >> 32));
}

static void put_string(uint64_t pa, const char *s)
{
    memcpy(fake_phys + pa, s, strlen(s) + 1);
}

/* A string of n copies of c, NUL-terminated, at pa. */
static void put_repeated(uint64_t pa, char c, size_t n)
{
    memset(fake_phys + pa, c, n);
    fake_phys[pa + n] = '\0';
}

/* --- Multiboot 0.6.96 ---------------------------------------------------------- */

#define MB1_INFO 0x10000
#define MB1_CMDLINE 0x11000
#define MB1_LOADER 0x12000
#define MB1_MMAP 0x13000

static uint32_t mb1_mmap_len;

/* Starts an info structure with these flags and every pointer set. */
static void mb1_begin(uint32_t flags)
{
    fake_phys_clear();
    put32(MB1_INFO + 0, flags);
    put32(MB1_INFO + 16, MB1_CMDLINE);
    put32(MB1_INFO + 48, MB1_MMAP);
    put32(MB1_INFO + 64, MB1_LOADER);
    mb1_mmap_len = 0;
}

/* Appends a map entry whose size field says size. */
static void mb1_entry(uint32_t size, uint64_t base, uint64_t len, uint32_t type)
{
    uint64_t at = MB1_MMAP + mb1_mmap_len;
    put32(at, size);
    put64(at + 4, base);
    put64(at + 12, len);
    put32(at + 20, type);
    mb1_mmap_len += size + 4;
    put32(MB1_INFO + 44, mb1_mmap_len);
}

/* --- Multiboot2 ------------------------------------------------------------------ */

static uint64_t mb2_pa;
static uint32_t mb2_off;

static void mb2_begin(uint64_t pa)
{
    fake_phys_clear();
    mb2_pa = pa;
    mb2_off = 8;
}

/* Writes a tag header; returns the tag's address. The next tag starts at
 * the next 8-byte boundary after size bytes. */
static uint64_t mb2_tag(uint32_t type, uint32_t size)
{
    uint64_t at = mb2_pa + mb2_off;
    put32(at, type);
    put32(at + 4, size);
    mb2_off += (size + 7) & ~7u;
    return at;
}

static void mb2_tag_bytes(uint32_t type, const void *data, uint32_t n)
{
    uint64_t at = mb2_tag(type, 8 + n);
    memcpy(fake_phys + at + 8, data, n);
}

static void mb2_tag_string(uint32_t type, const char *s)
{
    mb2_tag_bytes(type, s, (uint32_t)strlen(s) + 1);
}

static uint64_t mb2_mmap_tag(uint32_t entry_size, int n)
{
    uint64_t at = mb2_tag(MB2_TAG_MMAP, 16 + entry_size * (uint32_t)n);
    put32(at + 8, entry_size);
    put32(at + 12, 0); /* entry_version */
    return at;
}

static void mb2_mmap_entry(uint64_t tag, uint32_t entry_size, int i, uint64_t base, uint64_t len,
                           uint32_t type)
{
    uint64_t e = tag + 16 + entry_size * (uint32_t)i;
    put64(e, base);
    put64(e + 8, len);
    put32(e + 16, type);
}

/* Ends the tags and writes total_size. */
static void mb2_end(void)
{
    mb2_tag(MB2_TAG_END, 8);
    put32(mb2_pa, mb2_off);
    put32(mb2_pa + 4, 0);
}

/* --- checks --------------------------------------------------------------------- */

static void check_map(const char *file, int line, const struct mem_region *want, int nwant)
{
    if (bi.nmap != nwant)
        test_fail(file, line, "%d map entries, expected %d", bi.nmap, nwant);
    for (int i = 0; i < bi.nmap && i < nwant; i++)
        if (bi.map[i].base != want[i].base || bi.map[i].len != want[i].len ||
            bi.map[i].type != want[i].type)
            test_fail(file, line, "entry %d is {0x%llx, 0x%llx, %u}, expected {0x%llx, 0x%llx, %u}",
                      i, (unsigned long long)bi.map[i].base, (unsigned long long)bi.map[i].len,
                      bi.map[i].type, (unsigned long long)want[i].base,
                      (unsigned long long)want[i].len, want[i].type);
}

#define CHECK_MAP(...)                                                                             \
    do {                                                                                           \
        const struct mem_region want_[] = { __VA_ARGS__ };                                         \
        check_map(__FILE__, __LINE__, want_, (int)(sizeof(want_) / sizeof(want_[0])));             \
    } while (0)

/* A parser loop that never ends must fail the case, not hang the run. */
static const char *guarded_case;

static void on_alarm(int sig)
{
    static const char head[] = "FAIL test_bootinfo: ", tail[] = ": parse did not finish in 5 s\n";
    (void)sig;
    if (write(1, head, sizeof(head) - 1) > 0 && write(1, guarded_case, strlen(guarded_case)) > 0 &&
        write(1, tail, sizeof(tail) - 1) > 0)
        _exit(1);
    _exit(1);
}

static int parse_guarded(const char *name, uint32_t magic, uint64_t pa)
{
    guarded_case = name;
    signal(SIGALRM, on_alarm);
    alarm(5);
    int r = bootinfo_parse(magic, pa, &bi);
    alarm(0);
    return r;
}

/* --- Multiboot 0.6.96 cases ------------------------------------------------------ */

/* Command line, loader name and an unsorted map (which comes back
 * normalized); mem_lower/mem_upper are ignored when there is a map. */
static void mb1_cmdline_loader_map(void)
{
    mb1_begin(MB1_INFO_MEM | MB1_INFO_CMDLINE | MB1_INFO_MMAP | MB1_INFO_LOADER_NAME);
    put32(MB1_INFO + 4, 639);
    put32(MB1_INFO + 8, 0x7FFFF);
    put_string(MB1_CMDLINE, "/boot/ixmetal.elf app=info");
    put_string(MB1_LOADER, "GRUB 2.06");
    mb1_entry(20, 0x100000, 0x1FEE0000, A);
    mb1_entry(20, 0x0, 0x9FC00, A);
    mb1_entry(20, 0x9FC00, 0x400, R);
    mb1_entry(20, 0xF0000, 0x10000, R);
    mb1_entry(20, 0x1FFE0000, 0x20000, R);
    mb1_entry(20, 0xFFFC0000, 0x40000, R);
    CHECK_EQ(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, &bi), 0);
    CHECK_EQ(bi.protocol, BOOT_MULTIBOOT1);
    CHECK_EQ(bi.firmware, FW_BIOS);
    CHECK_STR(bi.cmdline, "/boot/ixmetal.elf app=info");
    CHECK_EQ(bi.cmdline_truncated, 0);
    CHECK_STR(bi.loader, "GRUB 2.06");
    CHECK_EQ(bi.rsdp_len, 0);
    CHECK_MAP({ 0x0, 0x9FC00, A }, { 0x9FC00, 0x400, R }, { 0xF0000, 0x10000, R },
              { 0x100000, 0x1FEE0000, A }, { 0x1FFE0000, 0x20000, R }, { 0xFFFC0000, 0x40000, R });
}

/* An entry's size field says where the next one starts (size + 4), so
 * entries larger than 20 bytes are stepped over correctly. */
static void mb1_entries_larger_than_20(void)
{
    mb1_begin(MB1_INFO_MMAP);
    mb1_entry(24, 0x0, 0x9F000, A);
    mb1_entry(20, 0x100000, 0x700000, A);
    mb1_entry(28, 0xFEC00000, 0x1000, R);
    CHECK_EQ(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, &bi), 0);
    CHECK_MAP({ 0x0, 0x9F000, A }, { 0x100000, 0x700000, A }, { 0xFEC00000, 0x1000, R });
}

/* Without a map, mem_lower (KiB below 640 KiB) and mem_upper (KiB from
 * 1 MiB) make the map; without the flags, strings stay empty. */
static void mb1_mem_lower_upper_only(void)
{
    mb1_begin(MB1_INFO_MEM);
    put32(MB1_INFO + 4, 639);
    put32(MB1_INFO + 8, 523136);
    put_string(MB1_CMDLINE, "not flagged");
    put_string(MB1_LOADER, "not flagged");
    CHECK_EQ(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, &bi), 0);
    CHECK_MAP({ 0x0, 639 * 1024, A }, { 0x100000, 523136ull * 1024, A });
    CHECK_STR(bi.cmdline, "");
    CHECK_STR(bi.loader, "");

    put32(MB1_INFO + 8, 0x500000); /* 5 GiB in KiB: the byte count needs 64 bits */
    CHECK_EQ(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, &bi), 0);
    CHECK_MAP({ 0x0, 639 * 1024, A }, { 0x100000, 0x140000000ull, A });

    mb1_begin(0);
    CHECK_EQ(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, &bi), 0);
    CHECK_EQ(bi.nmap, 0);
}

/* A command line of BOOT_CMDLINE_MAX - 1 bytes fits; one byte more is cut
 * to that, NUL-terminated, and flagged. */
static void mb1_cmdline_truncated(void)
{
    mb1_begin(MB1_INFO_CMDLINE);
    put_repeated(MB1_CMDLINE, 'c', BOOT_CMDLINE_MAX - 1);
    CHECK_EQ(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, &bi), 0);
    CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
    CHECK_EQ(bi.cmdline_truncated, 0);

    put_repeated(MB1_CMDLINE, 'c', BOOT_CMDLINE_MAX);
    CHECK_EQ(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, &bi), 0);
    CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
    CHECK_EQ(bi.cmdline_truncated, 1);

    put_repeated(MB1_CMDLINE, 'd', 3000);
    CHECK_EQ(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, &bi), 0);
    CHECK_EQ(strlen(bi.cmdline), BOOT_CMDLINE_MAX - 1);
    CHECK_EQ(bi.cmdline[0], 'd');
    CHECK_EQ(bi.cmdline_truncated, 1);

    mb1_begin(MB1_INFO_LOADER_NAME);
    put_repeated(MB1_LOADER, 'g', 200);
    CHECK_EQ(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, &bi), 0);
    CHECK_EQ(strlen(bi.loader), BOOT_LOADER_MAX - 1);
}

/* An entry whose size is shorter than its fields (here 8) is malformed:
 * it and everything after it are ignored, what came before is kept. */
static void mb1_malformed_entry_size(void)
{
    mb1_begin(MB1_INFO_MMAP);
    mb1_entry(20, 0x100000, 0x100000, A);
    mb1_entry(20, 0x10000000, 0x10000000, A);
    mb1_entry(20, 0x20000000, 0x10000000, A);
    put32(MB1_MMAP + 24, 8); /* the second entry's size */
    CHECK_EQ(parse_guarded("mb1_malformed_entry_size", MB1_BOOT_MAGIC, MB1_INFO), 0);
    CHECK_MAP({ 0x100000, 0x100000, A });

    put32(MB1_MMAP + 24, 0);
    CHECK_EQ(parse_guarded("mb1_malformed_entry_size", MB1_BOOT_MAGIC, MB1_INFO), 0);
    CHECK_MAP({ 0x100000, 0x100000, A });
}

/* An entry whose size runs past mmap_length (0xFFFFFFFC: size + 4 wraps a
 * 32-bit sum to 0) ends the map and the parse. */
static void mb1_entry_size_past_the_map(void)
{
    mb1_begin(MB1_INFO_MMAP);
    mb1_entry(20, 0x100000, 0x100000, A);
    mb1_entry(20, 0x200000, 0x100000, R);
    put32(MB1_MMAP + 24, 0xFFFFFFFC);
    put32(MB1_INFO + 44, 4 * 24);
    CHECK_EQ(parse_guarded("mb1_entry_size_past_the_map", MB1_BOOT_MAGIC, MB1_INFO), 0);
    CHECK_MAP({ 0x100000, 0x100000, A });

    put32(MB1_MMAP + 24, 100); /* past mmap_length, no wrap */
    put32(MB1_INFO + 44, 2 * 24);
    CHECK_EQ(parse_guarded("mb1_entry_size_past_the_map", MB1_BOOT_MAGIC, MB1_INFO), 0);
    CHECK_MAP({ 0x100000, 0x100000, A });
}

/* mmap_length that ends inside an entry: the partial entry is not read. */
static void mb1_mmap_length_cuts_an_entry(void)
{
    mb1_begin(MB1_INFO_MMAP);
    mb1_entry(20, 0x100000, 0x100000, A);
    mb1_entry(20, 0x300000, 0x100000, A);
    put32(MB1_INFO + 44, 24 + 10);
    CHECK_EQ(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, &bi), 0);
    CHECK_MAP({ 0x100000, 0x100000, A });
}

/* --- Multiboot2 cases ------------------------------------------------------------ */

#define MB2_INFO 0x20000

static uint8_t rsdp_new[36], rsdp_old[20];

static void make_rsdp_copies(void)
{
    for (int i = 0; i < 36; i++)
        rsdp_new[i] = (uint8_t)(0x80 + i);
    for (int i = 0; i < 20; i++)
        rsdp_old[i] = (uint8_t)(0x10 + i);
}

/* Command line, loader name, a map (normalized: overlap resolved, sorted)
 * and the ACPI 2.0 RSDP copy. */
static void mb2_cmdline_loader_map_rsdp(void)
{
    make_rsdp_copies();
    mb2_begin(MB2_INFO);
    mb2_tag_string(MB2_TAG_CMDLINE, "app=info duration=5");
    mb2_tag_string(MB2_TAG_LOADER_NAME, "GRUB 2.12");
    uint64_t t = mb2_mmap_tag(24, 4);
    mb2_mmap_entry(t, 24, 0, 0x100000, 0x7FEE0000, A);
    mb2_mmap_entry(t, 24, 1, 0x0, 0x9FC00, A);
    mb2_mmap_entry(t, 24, 2, 0x7FFE0000, 0x20000, R);
    mb2_mmap_entry(t, 24, 3, 0x1000000, 0x1000, R); /* inside the available entry */
    mb2_tag_bytes(MB2_TAG_ACPI_NEW, rsdp_new, 36);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.protocol, BOOT_MULTIBOOT2);
    CHECK_EQ(bi.firmware, FW_BIOS);
    CHECK_STR(bi.cmdline, "app=info duration=5");
    CHECK_EQ(bi.cmdline_truncated, 0);
    CHECK_STR(bi.loader, "GRUB 2.12");
    CHECK_MAP({ 0x0, 0x9FC00, A }, { 0x100000, 0xF00000, A }, { 0x1000000, 0x1000, R },
              { 0x1001000, 0x7EFDF000, A }, { 0x7FFE0000, 0x20000, R });
    CHECK_EQ(bi.rsdp_len, 36);
    CHECK(memcmp(bi.rsdp, rsdp_new, 36) == 0);
}

/* Tag 15 (ACPI 2.0 RSDP) wins over tag 14 whichever comes first; tag 14
 * alone gives the 20-byte ACPI 1.0 RSDP. */
static void mb2_new_rsdp_preferred(void)
{
    make_rsdp_copies();
    for (int order = 0; order < 2; order++) {
        mb2_begin(MB2_INFO);
        if (order == 0) {
            mb2_tag_bytes(MB2_TAG_ACPI_OLD, rsdp_old, 20);
            mb2_tag_bytes(MB2_TAG_ACPI_NEW, rsdp_new, 36);
        } else {
            mb2_tag_bytes(MB2_TAG_ACPI_NEW, rsdp_new, 36);
            mb2_tag_bytes(MB2_TAG_ACPI_OLD, rsdp_old, 20);
        }
        mb2_end();
        CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
        CHECK_EQ(bi.rsdp_len, 36);
        CHECK(memcmp(bi.rsdp, rsdp_new, 36) == 0);
    }

    mb2_begin(MB2_INFO);
    mb2_tag_bytes(MB2_TAG_ACPI_OLD, rsdp_old, 20);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.rsdp_len, 20);
    CHECK(memcmp(bi.rsdp, rsdp_old, 20) == 0);
    CHECK_EQ(bi.rsdp[20], 0);

    mb2_begin(MB2_INFO);
    mb2_tag_bytes(MB2_TAG_ACPI_OLD, rsdp_old, 12); /* too short to be an RSDP */
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.rsdp_len, 0);
}

/* Any EFI tag (11, 12, 17, 18, 19, 20) means UEFI firmware; without one,
 * BIOS. */
static void mb2_efi_tags_mean_uefi(void)
{
    static const uint32_t efi_tags[] = { MB2_TAG_EFI32,  MB2_TAG_EFI64,    MB2_TAG_EFI_MMAP,
                                         MB2_TAG_EFI_BS, MB2_TAG_EFI32_IH, MB2_TAG_EFI64_IH };
    uint64_t systab = 0x7F9EE018;
    for (unsigned i = 0; i < sizeof(efi_tags) / sizeof(efi_tags[0]); i++) {
        mb2_begin(MB2_INFO);
        mb2_tag_string(MB2_TAG_CMDLINE, "app=info");
        mb2_tag_bytes(efi_tags[i], &systab, efi_tags[i] == MB2_TAG_EFI_BS ? 0 : 8);
        mb2_end();
        CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
        CHECK_EQ(bi.firmware, FW_UEFI);
        CHECK_STR(bi.cmdline, "app=info");
    }

    mb2_begin(MB2_INFO);
    mb2_tag_string(MB2_TAG_CMDLINE, "app=info");
    mb2_tag(MB2_TAG_FRAMEBUFFER, 32); /* a tag we do not read */
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.firmware, FW_BIOS);
}

/* A string that fills its tag without a NUL is copied up to the tag's end,
 * not into the padding after it. */
static void mb2_unterminated_strings(void)
{
    mb2_begin(MB2_INFO);
    uint64_t t = mb2_tag(MB2_TAG_CMDLINE, 8 + 5);
    memcpy(fake_phys + t + 8, "abcdeZZZ", 8); /* 3 bytes of non-zero padding */
    t = mb2_tag(MB2_TAG_LOADER_NAME, 8 + 4);
    memcpy(fake_phys + t + 8, "GRUBYYYY", 8);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_STR(bi.cmdline, "abcde");
    CHECK_EQ(bi.cmdline_truncated, 0);
    CHECK_STR(bi.loader, "GRUB");

    mb2_begin(MB2_INFO);
    mb2_tag(MB2_TAG_CMDLINE, 8); /* an empty tag */
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_STR(bi.cmdline, "");
}

/* The Multiboot2 command line against BOOT_CMDLINE_MAX, with and without
 * its NUL inside the tag. */
static void mb2_cmdline_truncated(void)
{
    static char s[1600];
    memset(s, 'x', sizeof(s));
    uint32_t fit = BOOT_CMDLINE_MAX - 1;

    s[fit] = '\0';
    mb2_begin(MB2_INFO);
    mb2_tag_string(MB2_TAG_CMDLINE, s); /* 1023 bytes and the NUL */
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(strlen(bi.cmdline), fit);
    CHECK_EQ(bi.cmdline_truncated, 0);

    mb2_begin(MB2_INFO);
    mb2_tag_bytes(MB2_TAG_CMDLINE, s, fit); /* 1023 bytes, no NUL: all there */
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(strlen(bi.cmdline), fit);
    CHECK_EQ(bi.cmdline_truncated, 0);

    s[fit] = 'x';
    s[1500] = '\0';
    mb2_begin(MB2_INFO);
    mb2_tag_string(MB2_TAG_CMDLINE, s);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(strlen(bi.cmdline), fit);
    CHECK_EQ(bi.cmdline_truncated, 1);
}

/* A tag smaller than its own header stops the parse: tags before it count,
 * tags after it do not. */
static void mb2_tag_smaller_than_header_stops(void)
{
    for (uint32_t size = 0; size < 8; size += 4) {
        mb2_begin(MB2_INFO);
        mb2_tag_string(MB2_TAG_CMDLINE, "app=info");
        uint64_t t = mb2_tag(MB2_TAG_LOADER_NAME, 16);
        put32(t + 4, size);
        mb2_tag_bytes(MB2_TAG_ACPI_OLD, "RSD PTR 0123456789ab", 20);
        mb2_end();
        CHECK_EQ(parse_guarded("mb2_tag_smaller_than_header_stops", MB2_BOOT_MAGIC, MB2_INFO), 0);
        CHECK_STR(bi.cmdline, "app=info");
        CHECK_STR(bi.loader, "");
        CHECK_EQ(bi.rsdp_len, 0);
    }
}

/* A tag running past total_size stops the parse without reading outside
 * the structure, also when its size would wrap a 32-bit sum. The structure
 * ends exactly where fake memory ends, so ASan sees any read past it. The
 * first size is the tag's true one: the fixture itself is sound. */
static void mb2_tag_past_total_size_stops(void)
{
    static const uint32_t sizes[] = { 40, 48, 0x200, 0xFFFFFFF0, 0xFFFFFFFF };
    for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
        uint64_t pa = FAKE_PHYS_SIZE - 72;
        mb2_begin(pa);
        mb2_tag_string(MB2_TAG_CMDLINE, "app=info"); /* [8, 32) */
        uint64_t t = mb2_mmap_tag(24, 1);            /* [32, 72): one entry */
        mb2_mmap_entry(t, 24, 0, 0x100000, 0x100000, A);
        put32(t + 4, sizes[i]);
        put32(pa, 72); /* total_size: no room for an end tag, none needed */
        CHECK_EQ(parse_guarded("mb2_tag_past_total_size_stops", MB2_BOOT_MAGIC, pa), 0);
        CHECK_STR(bi.cmdline, "app=info");
        CHECK_EQ(bi.nmap, sizes[i] == 40);
    }
}

/* Map entries are entry_size apart (larger sizes are future versions); an
 * entry_size below 24 makes the map unreadable and it is ignored. */
static void mb2_mmap_entry_size(void)
{
    mb2_begin(MB2_INFO);
    uint64_t t = mb2_mmap_tag(32, 3);
    mb2_mmap_entry(t, 32, 0, 0x0, 0x9F000, A);
    mb2_mmap_entry(t, 32, 1, 0x100000, 0x100000, A);
    mb2_mmap_entry(t, 32, 2, 0xE0000, 0x20000, R);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_MAP({ 0x0, 0x9F000, A }, { 0xE0000, 0x20000, R }, { 0x100000, 0x100000, A });

    mb2_begin(MB2_INFO);
    t = mb2_mmap_tag(16, 3);
    put64(t + 16, 0x100000);
    put64(t + 24, 0x100000);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.nmap, 0);
}

/* An entry_size that is not a multiple of 8 (25: fuzz_mb2 found it) puts
 * the second entry's 64-bit fields off their alignment; they are still
 * read, and right (UBSan here would stop at a misaligned struct access). */
static void mb2_mmap_odd_entry_size(void)
{
    mb2_begin(MB2_INFO);
    uint64_t t = mb2_mmap_tag(25, 3);
    mb2_mmap_entry(t, 25, 0, 0x0, 0x9F000, A);
    mb2_mmap_entry(t, 25, 1, 0x100000, 0x100000, A);
    mb2_mmap_entry(t, 25, 2, 0xE0000, 0x20000, R);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_MAP({ 0x0, 0x9F000, A }, { 0xE0000, 0x20000, R }, { 0x100000, 0x100000, A });
}

/* An entry_size near 2^32 would wrap the entry offset back into the tag
 * and loop for ever: the map is ignored instead. */
static void mb2_mmap_huge_entry_size(void)
{
    mb2_begin(MB2_INFO);
    uint64_t t = mb2_mmap_tag(24, 1);
    mb2_mmap_entry(t, 24, 0, 0x100000, 0x100000, A);
    put32(t + 8, 0xFFFFFFF0);
    mb2_end();
    CHECK_EQ(parse_guarded("mb2_mmap_huge_entry_size", MB2_BOOT_MAGIC, MB2_INFO), 0);
    CHECK_EQ(bi.nmap, 0);
}

/* More map entries than MEMMAP_MAX: adjacent pieces of one type merge as
 * they arrive; what still does not fit is counted, and nothing is overrun. */
static void mb2_more_entries_than_memmap_max(void)
{
    mb2_begin(MB2_INFO);
    uint64_t t = mb2_mmap_tag(24, 200);
    for (int i = 0; i < 200; i++)
        mb2_mmap_entry(t, 24, i, 0x100000 + (uint64_t)i * 0x1000, 0x1000, A);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_MAP({ 0x100000, 200 * 0x1000ull, A }); /* adjacent pieces merge as they come */
    CHECK_EQ(bi.map_dropped, 0);

    /* Alternating types cannot merge: the first MEMMAP_MAX are kept, the
     * other 72 counted. */
    mb2_begin(MB2_INFO);
    t = mb2_mmap_tag(24, 200);
    for (int i = 0; i < 200; i++)
        mb2_mmap_entry(t, 24, i, 0x100000 + (uint64_t)i * 0x1000, 0x1000, i % 2 ? R : A);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.nmap, MEMMAP_MAX);
    CHECK_EQ(bi.map_dropped, 200 - MEMMAP_MAX);
    CHECK_EQ(bi.map[MEMMAP_MAX - 1].base, 0x100000 + (MEMMAP_MAX - 1) * 0x1000ull);
    CHECK_EQ(bi.map[MEMMAP_MAX - 1].type, R);
}

/* total_size of just the header: no tags read. A total_size above the
 * 64 KiB sanity cap: tags up to the end tag are still read. */
static void mb2_total_size_edges(void)
{
    mb2_begin(MB2_INFO);
    mb2_tag_string(MB2_TAG_CMDLINE, "app=info");
    mb2_end();
    put32(MB2_INFO, 8);
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_STR(bi.cmdline, "");

    put32(MB2_INFO, 0xFFFFFFFF);
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_STR(bi.cmdline, "app=info");
}

/* --- the screen: Multiboot2 §3.6.12, Multiboot 0.6.96 §3.3 (offset 88) ------------ */

/* A framebuffer tag: addr +8, pitch +16, width +20, height +24, bpp +28,
 * type +29, then (RGB) red, green, blue position and size from +32. */
static uint64_t mb2_framebuffer(uint32_t size, uint64_t addr, uint32_t pitch, uint32_t width,
                                uint32_t height, uint8_t bpp, uint8_t type)
{
    uint64_t at = mb2_tag(MB2_TAG_FRAMEBUFFER, size);
    put64(at + 8, addr);
    put32(at + 16, pitch);
    put32(at + 20, width);
    put32(at + 24, height);
    fake_phys[at + 28] = bpp;
    fake_phys[at + 29] = type;
    return at;
}

/* GRUB on UEFI: 1024x768x32, x:8:8:8 above 4 GiB; with BGR fields. */
static void mb2_framebuffer_rgb(void)
{
    static const uint8_t bgr[6] = { 0, 8, 8, 8, 16, 8 };
    mb2_begin(MB2_INFO);
    uint64_t t = mb2_framebuffer(38, 0x4000000000ull, 4096, 1024, 768, 32, 1);
    memcpy(fake_phys + t + 32, bgr, 6);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.screen.type, SCREEN_RGB);
    CHECK_EQ(bi.screen.addr, 0x4000000000ull);
    CHECK_EQ(bi.screen.pitch, 4096);
    CHECK_EQ(bi.screen.width, 1024);
    CHECK_EQ(bi.screen.height, 768);
    CHECK_EQ(bi.screen.bpp, 32);
    CHECK_EQ(bi.screen.red_pos, 0);
    CHECK_EQ(bi.screen.green_pos, 8);
    CHECK_EQ(bi.screen.blue_pos, 16);
    CHECK_EQ(bi.screen.blue_size, 8);

    /* A tag that stops before the colour fields: the usual x:8:8:8. */
    mb2_begin(MB2_INFO);
    mb2_framebuffer(32, 0xC0000000, 2400, 800, 600, 24, 1);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.screen.type, SCREEN_RGB);
    CHECK_EQ(bi.screen.bpp, 24);
    CHECK_EQ(bi.screen.red_pos, 16);
    CHECK_EQ(bi.screen.blue_pos, 0);
    CHECK_EQ(bi.screen.green_size, 8);
}

/* GRUB on BIOS without a video driver: EGA text, 80x25 at 0xB8000. No tag
 * at all: SCREEN_NONE. A tag too short, or lines longer than the pitch:
 * ignored. */
static void mb2_framebuffer_text_none_bad(void)
{
    mb2_begin(MB2_INFO);
    mb2_framebuffer(32, 0xB8000, 160, 80, 25, 16, 2);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.screen.type, SCREEN_TEXT);
    CHECK_EQ(bi.screen.addr, 0xB8000);
    CHECK_EQ(bi.screen.width, 80);
    CHECK_EQ(bi.screen.height, 25);

    mb2_begin(MB2_INFO);
    mb2_tag_string(MB2_TAG_CMDLINE, "app=info");
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.screen.type, SCREEN_NONE);

    mb2_begin(MB2_INFO);
    mb2_framebuffer(28, 0xB8000, 160, 80, 25, 16, 2); /* ends before bpp and type */
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.screen.type, SCREEN_NONE);

    mb2_begin(MB2_INFO);
    mb2_framebuffer(38, 0xC0000000, 3000, 1024, 768, 32, 1); /* 4096 bytes a line > pitch */
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.screen.type, SCREEN_NONE);

    mb2_begin(MB2_INFO);
    mb2_framebuffer(38, 0xC0000000, 4096, 1024, 768, 32, 7); /* no such type */
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.screen.type, SCREEN_NONE);
}

/* A height no screen has, above RAM: passed on as given, for kernel/screen.c
 * to refuse with a reason the banner shows (test_screen.c). */
static void mb2_framebuffer_absurd_passed_on(void)
{
    mb2_begin(MB2_INFO);
    mb2_framebuffer(38, 0x4000000000ull, 4096, 1024, 0x10000000, 32, 1);
    mb2_end();
    CHECK_EQ(bootinfo_parse(MB2_BOOT_MAGIC, MB2_INFO, &bi), 0);
    CHECK_EQ(bi.screen.type, SCREEN_RGB);
    CHECK_EQ(bi.screen.height, 0x10000000);
    CHECK_EQ(bi.screen.pitch, 4096);
}

/* Multiboot 0.6.96: the framebuffer fields count only with flags bit 12. */
static void mb1_framebuffer(void)
{
    static const uint8_t fields[6] = { 11, 5, 5, 6, 0, 5 };
    mb1_begin(MB1_INFO_CMDLINE);
    put_string(MB1_CMDLINE, "app=info");
    put64(MB1_INFO + 88, 0xFD000000);
    put32(MB1_INFO + 96, 1600);
    put32(MB1_INFO + 100, 800);
    put32(MB1_INFO + 104, 600);
    fake_phys[MB1_INFO + 108] = 16;
    fake_phys[MB1_INFO + 109] = 1;
    memcpy(fake_phys + MB1_INFO + 110, fields, 6);
    CHECK_EQ(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, &bi), 0);
    CHECK_EQ(bi.screen.type, SCREEN_NONE);

    put32(MB1_INFO, MB1_INFO_CMDLINE | MB1_INFO_FRAMEBUFFER);
    CHECK_EQ(bootinfo_parse(MB1_BOOT_MAGIC, MB1_INFO, &bi), 0);
    CHECK_EQ(bi.screen.type, SCREEN_RGB);
    CHECK_EQ(bi.screen.addr, 0xFD000000);
    CHECK_EQ(bi.screen.pitch, 1600);
    CHECK_EQ(bi.screen.width, 800);
    CHECK_EQ(bi.screen.height, 600);
    CHECK_EQ(bi.screen.bpp, 16);
    CHECK_EQ(bi.screen.red_pos, 11);
    CHECK_EQ(bi.screen.green_size, 6);
    CHECK_EQ(bi.screen.blue_size, 5);
}

/* A magic that is neither protocol's: -1, and nothing filled in. */
static void wrong_magic(void)
{
    mb1_begin(MB1_INFO_CMDLINE);
    put_string(MB1_CMDLINE, "app=info");
    memset(&bi, 0x5A, sizeof(bi));
    CHECK_EQ(bootinfo_parse(0x12345678, MB1_INFO, &bi), -1);
    CHECK_EQ(bi.protocol, BOOT_UNKNOWN);
    CHECK_STR(bi.cmdline, "");
    CHECK_EQ(bi.nmap, 0);
    /* The header magics are not the boot magics. */
    CHECK_EQ(bootinfo_parse(MB1_HEADER_MAGIC, MB1_INFO, &bi), -1);
    CHECK_EQ(bootinfo_parse(MB2_HEADER_MAGIC, MB1_INFO, &bi), -1);
}

int main(void)
{
    RUN(mb1_cmdline_loader_map);
    RUN(mb1_entries_larger_than_20);
    RUN(mb1_mem_lower_upper_only);
    RUN(mb1_cmdline_truncated);
    RUN(mb1_malformed_entry_size);
    RUN(mb1_entry_size_past_the_map);
    RUN(mb1_mmap_length_cuts_an_entry);
    RUN(mb2_cmdline_loader_map_rsdp);
    RUN(mb2_new_rsdp_preferred);
    RUN(mb2_efi_tags_mean_uefi);
    RUN(mb2_unterminated_strings);
    RUN(mb2_cmdline_truncated);
    RUN(mb2_tag_smaller_than_header_stops);
    RUN(mb2_tag_past_total_size_stops);
    RUN(mb2_mmap_entry_size);
    RUN(mb2_mmap_odd_entry_size);
    RUN(mb2_mmap_huge_entry_size);
    RUN(mb2_more_entries_than_memmap_max);
    RUN(mb2_total_size_edges);
    RUN(mb2_framebuffer_rgb);
    RUN(mb2_framebuffer_text_none_bad);
    RUN(mb2_framebuffer_absurd_passed_on);
    RUN(mb1_framebuffer);
    RUN(wrong_magic);
    return test_finish();
}
