/*
 * tests/unit/test_acpi.c - kernel/acpi.c: finding the RSDP and parsing the
 * RSDT/XSDT, MADT, MCFG, FADT and \_S5, built byte by byte in fake physical
 * memory after ACPI 6.5:
 *   RSDP (§5.2.5.3): "RSD PTR ", checksum over 20 bytes, OEMID at 9,
 *     revision at 15, RsdtAddress at 16, Length at 20, XsdtAddress at 24,
 *     extended checksum over 36 bytes.
 *   SDT header (§5.2.6): signature, length at 4, checksum at 9 (the whole
 *     table sums to 0), 36 bytes.
 *   MADT (§5.2.12): local APIC address at 36, flags at 40, entries from 44.
 *   MCFG (PCI Firmware 3.2 §4.1.2): 16-byte entries from 44.
 *   FADT (§5.2.9): DSDT at 40, SMI_CMD 48, ACPI_ENABLE 52, PM1a_CNT_BLK 64,
 *     PM1b_CNT_BLK 68, Flags 112 (bit 10 RESET_REG_SUP), RESET_REG 116 (a
 *     Generic Address, §5.2.3.2: space id, bit width, bit offset, access
 *     size, 64-bit address), RESET_VALUE 128, X_DSDT 140.
 *   SRAT (§5.2.16): affinity structures from 48: Processor Local APIC (type
 *     0, 16 bytes: domain bits 7:0 at 2, APIC id 3, flags 4, domain bits
 *     31:8 at 9), Memory (type 1, 40 bytes: domain 2, base 8, length 16,
 *     flags 28), Processor Local x2APIC (type 2, 24 bytes: domain 4, x2APIC
 *     id 8, flags 12); flags bit 0: enabled.
 *   SLIT (§5.2.17): the number of localities N at 36, then N x N bytes.
 *   DMAR (Intel VT-d spec rev 4.1 §8): host address width - 1 at 36, flags
 *     37, remapping structures from 48, each type u16, length u16: DRHD
 *     (type 0: flags 4 (bit 0 INCLUDE_PCI_ALL), segment 6, register base 8,
 *     device scopes from 16), RMRR (type 1: segment 6, base 8, limit 16,
 *     scopes from 24); a device scope (§8.3.1): type, length, 2 reserved,
 *     enumeration id, start bus, then (device, function) pairs.
 *   \_S5 (§7.4.2.5) in AML (§20.2): NameOp 08, NameSeg, PackageOp 12,
 *     PkgLength, NumElements, then BytePrefix 0A n / ZeroOp 00 / OneOp 01.
 */
#include "kernel/acpi.h"
#include "tests/unit/host.h"

#define RSDP_BIOS 0xF5A40
#define XSDT 0x100000
#define RSDT 0x101000
#define MADT 0x102000
#define MCFG 0x103000
#define FACP 0x104000
#define DSDT 0x105000
#define HPET 0x106000
#define DSDT2 0x107000
#define SRAT 0x108000
#define SLIT 0x109000
#define DMAR 0x10A000
#define BIG 0x110000 /* room for a table of many KiB */

static struct boot_info bi;
static struct acpi_info ai;

/* --- building tables ------------------------------------------------------------- */

static uint8_t *at(uint64_t pa)
{
    return fake_phys + pa;
}

static void w16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void w32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void w64(uint8_t *p, uint64_t v)
{
    w32(p, (uint32_t)v);
    w32(p + 4, (uint32_t)(v >> 32));
}

/* Sets the byte at p + where so that the n bytes at p sum to 0. */
static void fix_checksum(uint8_t *p, uint32_t n, uint32_t where)
{
    uint8_t s = 0;
    p[where] = 0;
    for (uint32_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    p[where] = (uint8_t)-s;
}

/* A table is written at tb_pa, grown field by field, then closed. */
static uint64_t tb_pa;
static uint32_t tb_len;

static void tb_begin(uint64_t pa, const char *sig)
{
    tb_pa = pa;
    tb_len = 36;
    memset(at(pa), 0, 36);
    memcpy(at(pa), sig, 4);
    at(pa)[8] = 1; /* revision */
    memcpy(at(pa) + 10, "IXTEST", 6);
    memcpy(at(pa) + 16, "IXMTABLE", 8);
}

static void tb_u8(uint8_t v)
{
    at(tb_pa)[tb_len++] = v;
}

static void tb_u16(uint16_t v)
{
    w16(at(tb_pa) + tb_len, v);
    tb_len += 2;
}

static void tb_u32(uint32_t v)
{
    w32(at(tb_pa) + tb_len, v);
    tb_len += 4;
}

static void tb_u64(uint64_t v)
{
    w64(at(tb_pa) + tb_len, v);
    tb_len += 8;
}

static void tb_bytes(const void *p, uint32_t n)
{
    memcpy(at(tb_pa) + tb_len, p, n);
    tb_len += n;
}

/* Writes the length and the checksum. */
static void tb_end(void)
{
    w32(at(tb_pa) + 4, tb_len);
    fix_checksum(at(tb_pa), tb_len, 9);
}

/* Adds 1 to a byte of the table at pa: its bytes now sum to 1. */
static void corrupt(uint64_t pa)
{
    at(pa)[20]++;
}

static void make_rsdp(uint8_t *p, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    memset(p, 0, 36);
    memcpy(p, "RSD PTR ", 8);
    memcpy(p + 9, "IXTEST", 6);
    p[15] = rev;
    w32(p + 16, rsdt);
    w32(p + 20, 36);
    w64(p + 24, xsdt);
    p[32] = 0x55; /* reserved bytes, not zero: covered by the extended checksum */
    fix_checksum(p, 20, 8);
    fix_checksum(p, 36, 32);
}

/* Hands the RSDP over as the Multiboot2 tag 15 does. */
static void rsdp_from_loader(uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
    make_rsdp(bi.rsdp, rev, rsdt, xsdt);
    bi.rsdp_len = rev >= 2 ? 36 : 20;
}

/* --- the standard machine -------------------------------------------------------- */

static void madt_lapic(uint8_t uid, uint8_t id, uint32_t flags)
{
    tb_u8(0);
    tb_u8(8);
    tb_u8(uid);
    tb_u8(id);
    tb_u32(flags);
}

static void madt_x2apic(uint32_t id, uint32_t flags, uint32_t uid)
{
    tb_u8(9);
    tb_u8(16);
    tb_u16(0);
    tb_u32(id);
    tb_u32(flags);
    tb_u32(uid);
}

/* Four cores to find among entries that must be skipped: a disabled one,
 * an online-capable one (counted), other entry types, and one core listed
 * both as a local APIC and as an x2APIC (counted once). */
static void build_madt(void)
{
    tb_begin(MADT, "APIC");
    tb_u32(0xFEE00000); /* local APIC address */
    tb_u32(1);          /* PCAT_COMPAT */
    madt_lapic(0, 0, 1);
    madt_lapic(1, 1, 1);
    madt_lapic(2, 5, 0); /* disabled */
    madt_lapic(3, 3, 2); /* online capable */
    static const uint8_t ioapic[12] = { 1, 12, 0, 0, 0x00, 0x00, 0xC0, 0xFE, 0, 0, 0, 0 };
    tb_bytes(ioapic, 12);
    static const uint8_t iso[10] = { 2, 10, 0, 0, 2, 0, 0, 0, 0, 0 };
    tb_bytes(iso, 10);
    madt_x2apic(1, 1, 1); /* the same core as local APIC id 1 */
    madt_x2apic(0x100, 1, 4);
    madt_x2apic(0x101, 0, 5); /* disabled */
    tb_end();
}

static void mcfg_entry(uint64_t base, uint16_t seg, uint8_t start, uint8_t end)
{
    tb_u64(base);
    tb_u16(seg);
    tb_u8(start);
    tb_u8(end);
    tb_u32(0);
}

/* Two good entries, one with base 0 and one with end < start (skipped). */
static void build_mcfg(void)
{
    tb_begin(MCFG, "MCFG");
    tb_u64(0); /* reserved */
    mcfg_entry(0xB0000000, 0, 0, 255);
    mcfg_entry(0, 2, 0, 255);
    mcfg_entry(0xC0000000, 1, 0x10, 0x1F);
    mcfg_entry(0xD0000000, 3, 20, 10);
    tb_end();
}

/* A FADT of len bytes pointing at dsdt (u32) and xdsdt (X_DSDT, if it fits). */
static void build_fadt(uint32_t len, uint32_t dsdt, uint64_t xdsdt)
{
    tb_begin(FACP, "FACP");
    memset(at(FACP) + 36, 0, len - 36);
    w32(at(FACP) + 40, dsdt);
    w32(at(FACP) + 48, 0xB2);  /* SMI_CMD */
    at(FACP)[52] = 0xF1;       /* ACPI_ENABLE */
    w32(at(FACP) + 64, 0x604); /* PM1a_CNT_BLK */
    w32(at(FACP) + 68, 0);     /* PM1b_CNT_BLK */
    if (len >= 148)
        w64(at(FACP) + 140, xdsdt);
    tb_len = len;
    tb_end();
}

/* A DSDT whose AML is some filler, a decoy "_S5_" followed by package bytes
 * inside a String (not preceded by NameOp), and Name(_S5, Package(4){5, 7, 0, 0}). */
static const uint8_t s5_aml[] = {
    0x10, 0x0C, '_', 'S', 'B', '_',  0x5B, 0x80, 'X',  'S',  '5',  '_',  0x01, 0x0A, /* filler */
    0x0D, 'x',  '_', 'S', '5', '_',  0x12, 0x06, 0x04, 0x0A, 0x09, 0x0A, 0x09, 0x00, /* decoy */
    0x08, '_',  'S', '5', '_', 0x12, 0x08, 0x04, 0x0A, 0x05, 0x0A, 0x07, 0x00, 0x00,
    0x14, 0x08, '_', 'P', 'T', 'S',  0x01, 0xA3, /* more after */
};

static void build_dsdt(uint64_t pa, const uint8_t *aml, uint32_t n)
{
    tb_begin(pa, "DSDT");
    tb_bytes(aml, n);
    tb_end();
}

static void build_hpet(void)
{
    tb_begin(HPET, "HPET");
    tb_u32(0x8086A201);
    tb_bytes("\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
    tb_end();
}

/* The root tables: the XSDT lists four tables, the RSDT three, so which
 * one was used shows in ntables. */
static void build_xsdt(void)
{
    tb_begin(XSDT, "XSDT");
    tb_u64(MADT);
    tb_u64(MCFG);
    tb_u64(FACP);
    tb_u64(HPET);
    tb_end();
}

static void build_rsdt(void)
{
    tb_begin(RSDT, "RSDT");
    tb_u32(MADT);
    tb_u32(MCFG);
    tb_u32(FACP);
    tb_end();
}

/* Every table, and no RSDP yet. */
static void build_machine(void)
{
    fake_phys_clear();
    memset(&bi, 0, sizeof(bi));
    bi.firmware = FW_BIOS;
    build_madt();
    build_mcfg();
    build_dsdt(DSDT, s5_aml, sizeof(s5_aml));
    build_fadt(276, DSDT, DSDT);
    build_hpet();
    build_xsdt();
    build_rsdt();
}

/* --- checks ---------------------------------------------------------------------- */

static void check_sigs(const char *file, int line, const char *const *want, int n)
{
    if (ai.ntables != n)
        test_fail(file, line, "%d tables, expected %d", ai.ntables, n);
    for (int i = 0; i < n && i < ai.ntables; i++)
        if (strcmp(ai.sig[i], want[i]) != 0)
            test_fail(file, line, "table %d is %s, expected %s", i, ai.sig[i], want[i]);
}

#define CHECK_SIGS(...)                                                                            \
    do {                                                                                           \
        const char *const want_[] = { __VA_ARGS__ };                                               \
        check_sigs(__FILE__, __LINE__, want_, (int)(sizeof(want_) / sizeof(want_[0])));            \
    } while (0)

/* What the MADT, MCFG and FADT of build_machine() say. */
static void check_cpus(void)
{
    CHECK_EQ(ai.lapic_pa, 0xFEE00000);
    CHECK_EQ(ai.ncpus, 4);
    CHECK_EQ(ai.apic_id[0], 0);
    CHECK_EQ(ai.apic_id[1], 1);
    CHECK_EQ(ai.apic_id[2], 3);
    CHECK_EQ(ai.apic_id[3], 0x100);
}

static void check_mcfg(void)
{
    CHECK_EQ(ai.nmcfg, 2);
    CHECK_EQ(ai.mcfg[0].base, 0xB0000000);
    CHECK_EQ(ai.mcfg[0].segment, 0);
    CHECK_EQ(ai.mcfg[0].bus_start, 0);
    CHECK_EQ(ai.mcfg[0].bus_end, 255);
    CHECK_EQ(ai.mcfg[1].base, 0xC0000000);
    CHECK_EQ(ai.mcfg[1].segment, 1);
    CHECK_EQ(ai.mcfg[1].bus_start, 0x10);
    CHECK_EQ(ai.mcfg[1].bus_end, 0x1F);
}

static void check_fadt_s5(void)
{
    CHECK_EQ(ai.has_fadt, 1);
    CHECK_EQ(ai.smi_cmd, 0xB2);
    CHECK_EQ(ai.acpi_enable, 0xF1);
    CHECK_EQ(ai.pm1a_cnt, 0x604);
    CHECK_EQ(ai.pm1b_cnt, 0);
    CHECK_EQ(ai.has_s5, 1);
    CHECK_EQ(ai.slp_typa, 5);
    CHECK_EQ(ai.slp_typb, 7);
}

/* --- cases ----------------------------------------------------------------------- */

/* An ACPI 2.0 RSDP from the loader: the XSDT is used and every table read. */
static void xsdt_machine(void)
{
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.rsdp_from_loader, 1);
    CHECK_EQ(ai.rsdp_pa, (uintptr_t)bi.rsdp);
    CHECK_EQ(ai.revision, 2);
    CHECK_STR(ai.oem, "IXTEST");
    CHECK_EQ(ai.use_xsdt, 1);
    CHECK_SIGS("APIC", "MCFG", "FACP", "HPET");
    CHECK_EQ(ai.nbad, 0);
    check_cpus();
    check_mcfg();
    check_fadt_s5();
    CHECK_STR(console_log, ""); /* nothing to complain about */
}

/* A revision 0 RSDP found in the BIOS area: the RSDT, even though the bytes
 * where an XSDT address would be are not zero. */
static void rsdt_on_revision_0(void)
{
    build_machine();
    make_rsdp(at(RSDP_BIOS), 0, RSDT, XSDT);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.rsdp_pa, RSDP_BIOS);
    CHECK_EQ(ai.rsdp_from_loader, 0);
    CHECK_EQ(ai.revision, 0);
    CHECK_EQ(ai.use_xsdt, 0);
    CHECK_SIGS("APIC", "MCFG", "FACP");
    check_cpus();
    check_mcfg();
    check_fadt_s5();
}

/* Revision 2 with an XSDT address of 0: the RSDT. */
static void rsdt_when_xsdt_address_is_0(void)
{
    build_machine();
    rsdp_from_loader(2, RSDT, 0);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.use_xsdt, 0);
    CHECK_SIGS("APIC", "MCFG", "FACP");
    CHECK_EQ(ai.nbad, 0);
    CHECK_STR(console_log, ""); /* address 0 is not tried as a table */
}

/* The Multiboot2 tag 14 copy (20 bytes, ACPI 1.0): the RSDT. */
static void loader_v1_rsdp(void)
{
    build_machine();
    rsdp_from_loader(0, RSDT, 0);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.rsdp_from_loader, 1);
    CHECK_EQ(ai.use_xsdt, 0);
    CHECK_SIGS("APIC", "MCFG", "FACP");
}

/* The BIOS area scan takes 16-byte boundaries only and skips a signature
 * whose checksum is wrong. */
static void scan_bios_area(void)
{
    build_machine();
    make_rsdp(at(0xE0000), 2, RSDT, XSDT);
    at(0xE0000)[9] ^= 0xFF;                  /* bad checksum */
    make_rsdp(at(0xE0108), 2, RSDT, XSDT);   /* valid, but not on a 16-byte boundary */
    make_rsdp(at(RSDP_BIOS), 2, RSDT, XSDT); /* the one */
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.rsdp_pa, RSDP_BIOS);
    CHECK_EQ(ai.rsdp_from_loader, 0);
    CHECK_EQ(ai.use_xsdt, 1);
    CHECK_SIGS("APIC", "MCFG", "FACP", "HPET");
}

/* The first KiB of the EBDA (segment at 0x40E) is searched before the BIOS
 * area; an RSDP past that KiB is not looked at. */
static void scan_ebda_first(void)
{
    build_machine();
    w16(at(0x40E), 0x9FC0); /* EBDA at 0x9FC00 */
    make_rsdp(at(0x9FC40), 0, RSDT, 0);
    make_rsdp(at(RSDP_BIOS), 2, RSDT, XSDT);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.rsdp_pa, 0x9FC40);
    CHECK_EQ(ai.use_xsdt, 0);

    memset(at(0x9FC40), 0, 36);
    make_rsdp(at(0x9FC00 + 0x400), 0, RSDT, 0); /* just past the first KiB */
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.rsdp_pa, RSDP_BIOS);
}

/* An EBDA pointer that would run past 1 MiB is ignored; the BIOS area is
 * still searched. */
static void scan_ignores_nonsense_ebda(void)
{
    build_machine();
    w16(at(0x40E), 0xFFFF);
    make_rsdp(at(RSDP_BIOS), 2, RSDT, XSDT);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.rsdp_pa, RSDP_BIOS);
}

/* No RSDP anywhere: said once, and everything stays empty. */
static void no_rsdp(void)
{
    build_machine();
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.rsdp_pa, 0);
    CHECK_EQ(ai.ntables, 0);
    CHECK_EQ(ai.ncpus, 0);
    CHECK_EQ(ai.nmcfg, 0);
    CHECK_EQ(ai.has_fadt, 0);
    CHECK_STR(console_log, "acpi: no valid RSDP; no cores, ECAM or ACPI power-off from ACPI\n");
}

/* UEFI firmware has no BIOS area to scan: without the loader's RSDP there is
 * none, even with one lying in 0xE0000-0xFFFFF. */
static void uefi_does_not_scan(void)
{
    build_machine();
    bi.firmware = FW_UEFI;
    make_rsdp(at(RSDP_BIOS), 2, RSDT, XSDT);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.rsdp_pa, 0);
    CHECK_EQ(ai.ntables, 0);
    CHECK(console_contains("acpi: no valid RSDP"));

    rsdp_from_loader(2, RSDT, XSDT); /* with it: fine */
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.use_xsdt, 1);
    check_cpus();
}

/* The loader's RSDP with a bad checksum: reported, and the BIOS area is
 * scanned instead; under UEFI nothing is left. */
static void corrupt_loader_rsdp_scans(void)
{
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    bi.rsdp[10] ^= 1;
    make_rsdp(at(RSDP_BIOS), 0, RSDT, 0);
    acpi_parse(&bi, &ai);
    CHECK(console_contains(
        "acpi: the RSDP the boot loader passed is corrupt; scanning for another\n"));
    CHECK_EQ(ai.rsdp_pa, RSDP_BIOS);
    CHECK_EQ(ai.rsdp_from_loader, 0);
    CHECK_EQ(ai.use_xsdt, 0);
    check_cpus();

    bi.firmware = FW_UEFI;
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.rsdp_pa, 0);
    CHECK_EQ(ai.ncpus, 0);
}

/* Revision 2 whose first 20 bytes check but whose 36 do not: the RSDT. */
static void bad_extended_checksum_uses_rsdt(void)
{
    build_machine();
    make_rsdp(at(RSDP_BIOS), 2, RSDT, XSDT);
    at(RSDP_BIOS)[33] ^= 0x40; /* reserved byte: only the extended checksum covers it */
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.rsdp_pa, RSDP_BIOS);
    CHECK_EQ(ai.revision, 2);
    CHECK_EQ(ai.use_xsdt, 0);
    CHECK_SIGS("APIC", "MCFG", "FACP");
    CHECK(console_contains("acpi: RSDP extended checksum is wrong; using the RSDT\n"));
}

/* A corrupt XSDT: reported, counted, and the RSDT used instead; with no
 * RSDT either, no tables. */
static void corrupt_xsdt_falls_back_to_rsdt(void)
{
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    corrupt(XSDT);
    acpi_parse(&bi, &ai);
    CHECK(console_contains("acpi: table XSDT at 0x100000 has a bad checksum (bytes sum to 0x01, "
                           "not 0); skipped\n"));
    CHECK(console_contains("acpi: falling back from the XSDT to the RSDT\n"));
    CHECK_EQ(ai.use_xsdt, 0);
    CHECK_SIGS("APIC", "MCFG", "FACP");
    CHECK_EQ(ai.nbad, 1);
    check_cpus();

    rsdp_from_loader(2, 0, XSDT);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.ntables, 0);
    CHECK_EQ(ai.nbad, 1);
}

/* An XSDT address that points at another valid table (here the MADT) is
 * refused for its signature, counted, and the RSDT used instead. */
static void root_with_wrong_signature(void)
{
    build_machine();
    rsdp_from_loader(2, RSDT, MADT);
    acpi_parse(&bi, &ai);
    CHECK(console_contains("acpi: the XSDT address 0x102000 holds a 'APIC' table; skipped\n"));
    CHECK_EQ(ai.use_xsdt, 0);
    CHECK_EQ(ai.nbad, 1);
    CHECK_SIGS("APIC", "MCFG", "FACP");
    check_cpus();
}

/* A corrupt MADT: reported and skipped (no cores), the other tables still
 * parsed. */
static void corrupt_madt_skipped(void)
{
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    corrupt(MADT);
    acpi_parse(&bi, &ai);
    CHECK_STR(console_log, "acpi: table APIC at 0x102000 has a bad checksum (bytes sum to 0x01, "
                           "not 0); skipped\n");
    CHECK_EQ(ai.nbad, 1);
    CHECK_EQ(ai.ncpus, 0);
    CHECK_EQ(ai.lapic_pa, 0);
    CHECK_SIGS("MCFG", "FACP", "HPET");
    check_mcfg();
    check_fadt_s5();
}

/* Lengths below a header or above 16 MiB: reported and skipped without the
 * table being read (host.c stops the test on any read past fake memory). */
static void bad_table_lengths(void)
{
    static const uint32_t lens[] = { 0, 20, 35, 0x1000001, 0xFFFFFFFF };
    for (unsigned i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
        build_machine();
        rsdp_from_loader(2, RSDT, XSDT);
        w32(at(MCFG) + 4, lens[i]);
        console_log_clear();
        acpi_parse(&bi, &ai);
        char want[100];
        snprintf(want, sizeof(want), "acpi: table MCFG at 0x103000 has a bad length %u; skipped\n",
                 lens[i]);
        CHECK_STR(console_log, want);
        CHECK_EQ(ai.nbad, 1);
        CHECK_EQ(ai.nmcfg, 0);
        CHECK_SIGS("APIC", "FACP", "HPET");
    }

    /* A short table in the last 36 bytes of memory: only its header is read. */
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    uint64_t last = FAKE_PHYS_SIZE - 36;
    memcpy(at(last), "SSDT", 4);
    w32(at(last) + 4, 30);
    w64(at(XSDT) + 36 + 3 * 8, last); /* replaces HPET */
    fix_checksum(at(XSDT), 36 + 4 * 8, 9);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.nbad, 1);
    CHECK_SIGS("APIC", "MCFG", "FACP");
}

/* A table address above 4 GiB that the memory map does not list as RAM
 * (here 8 GiB, on a machine whose map is empty) would fault when read: it
 * is refused, named and counted; the other tables are parsed. */
static void table_outside_memory(void)
{
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    w64(at(XSDT) + 36 + 3 * 8, 0x200000000ull); /* replaces HPET */
    fix_checksum(at(XSDT), 36 + 4 * 8, 9);
    acpi_parse(&bi, &ai);
    CHECK_STR(console_log, "acpi: a table address 0x200000000 is outside memory; skipped\n");
    CHECK_EQ(ai.nbad, 1);
    CHECK_SIGS("APIC", "MCFG", "FACP");
}

/* A MADT entry of length 0 (or 1, or past the table) ends the MADT: no
 * endless loop, the cores before it are kept. */
static void madt_bad_entry_length_stops(void)
{
    static const uint8_t bad_len[] = { 0, 1, 200 };
    for (unsigned i = 0; i < 3; i++) {
        build_machine();
        rsdp_from_loader(2, RSDT, XSDT);
        tb_begin(MADT, "APIC");
        tb_u32(0xFEE00000);
        tb_u32(1);
        madt_lapic(0, 2, 1);
        tb_u8(0);
        tb_u8(bad_len[i]);
        tb_u8(1);
        tb_u8(4);
        tb_u32(1);
        madt_lapic(2, 6, 1);
        tb_end();
        console_log_clear();
        acpi_parse(&bi, &ai);
        CHECK_EQ(ai.ncpus, 1);
        CHECK_EQ(ai.apic_id[0], 2);
        char want[100];
        snprintf(want, sizeof(want),
                 "acpi: MADT entry at offset 52 has a bad length %u; rest of MADT skipped\n",
                 bad_len[i]);
        CHECK_STR(console_log, want);
    }
}

/* A MADT too short for its own fixed fields (36 bytes: no local APIC
 * address) gives nothing; the bytes after it are not read as its fields. */
static void madt_shorter_than_its_fields(void)
{
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    tb_begin(MADT, "APIC");
    tb_end();
    w32(at(MADT) + 36, 0xFEE00000); /* outside the table */
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.lapic_pa, 0);
    CHECK_EQ(ai.ncpus, 0);
}

/* More cores than ACPI_MAX_CPUS: the first ACPI_MAX_CPUS, nothing overrun. */
static void more_cpus_than_max(void)
{
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    tb_begin(BIG, "APIC");
    tb_u32(0xFEE00000);
    tb_u32(0);
    for (uint32_t i = 0; i < ACPI_MAX_CPUS + 44; i++)
        madt_x2apic(1000 + i, 1, i);
    tb_end();
    tb_begin(XSDT, "XSDT");
    tb_u64(BIG);
    tb_end();
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.ncpus, ACPI_MAX_CPUS);
    CHECK_EQ(ai.apic_id[ACPI_MAX_CPUS - 1], 1000 + ACPI_MAX_CPUS - 1);
}

/* More tables than ACPI_MAX_TABLES: all parsed, the first ACPI_MAX_TABLES
 * signatures kept. */
static void more_tables_than_max(void)
{
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    tb_begin(XSDT, "XSDT");
    for (int i = 0; i < ACPI_MAX_TABLES + 8; i++)
        tb_u64(HPET);
    tb_u64(MADT); /* the 41st: still parsed */
    tb_end();
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.ntables, ACPI_MAX_TABLES);
    CHECK_STR(ai.sig[ACPI_MAX_TABLES - 1], "HPET");
    check_cpus();
}

/* Runs acpi_parse on build_machine() with the DSDT's AML replaced. */
static void parse_with_aml(const uint8_t *aml, uint32_t n)
{
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    build_dsdt(DSDT, aml, n);
    acpi_parse(&bi, &ai);
}

/* \_S5 written with ZeroOp/OneOp, with the root prefix '\', with a two-byte
 * PkgLength; and not found when absent. */
static void s5_forms(void)
{
    static const uint8_t zero_one[] = { 0x08, '_',  'S',  '5',  '_',  0x12,
                                        0x06, 0x04, 0x00, 0x01, 0x00, 0x00 };
    parse_with_aml(zero_one, sizeof(zero_one));
    CHECK_EQ(ai.has_s5, 1);
    CHECK_EQ(ai.slp_typa, 0);
    CHECK_EQ(ai.slp_typb, 1);

    static const uint8_t rooted[] = { 0xA3, 0x08, '\\', '_',  'S',  '5',  '_',  0x12,
                                      0x08, 0x04, 0x0A, 0x03, 0x0A, 0x04, 0x00, 0x00 };
    parse_with_aml(rooted, sizeof(rooted));
    CHECK_EQ(ai.has_s5, 1);
    CHECK_EQ(ai.slp_typa, 3);
    CHECK_EQ(ai.slp_typb, 4);

    static const uint8_t long_pkg[] = { 0x08, '_',  'S',  '5',  '_',  0x12, 0x49,
                                        0x00, 0x04, 0x0A, 0x06, 0x01, 0x00, 0x00 };
    parse_with_aml(long_pkg, sizeof(long_pkg));
    CHECK_EQ(ai.has_s5, 1);
    CHECK_EQ(ai.slp_typa, 6);
    CHECK_EQ(ai.slp_typb, 1);

    static const uint8_t s4_only[] = { 0x08, '_',  'S',  '4',  '_',  0x12, 0x06,
                                       0x04, 0x0A, 0x04, 0x0A, 0x04, 0x00, 0x00 };
    parse_with_aml(s4_only, sizeof(s4_only));
    CHECK_EQ(ai.has_s5, 0);

    static const uint8_t not_a_package[] = { 0x08, '_', 'S', '5', '_', 0x0A, 0x05 };
    parse_with_aml(not_a_package, sizeof(not_a_package));
    CHECK_EQ(ai.has_s5, 0);
}

/* \_S5 cut off by the end of the DSDT at every point: no S5, and no byte
 * past the table read (it ends where fake memory ends). */
static void s5_truncated_at_table_end(void)
{
    static const uint8_t full[] = { 0x08, '_',  'S',  '5',  '_',  0x12, 0x08,
                                    0x04, 0x0A, 0x05, 0x0A, 0x07, 0x00, 0x00 };
    for (uint32_t n = 5; n <= 11; n++) { /* through the BytePrefix of SLP_TYPb */
        build_machine();
        rsdp_from_loader(2, RSDT, XSDT);
        uint64_t pa = FAKE_PHYS_SIZE - 36 - n;
        build_dsdt(pa, full, n);
        build_fadt(276, 0, pa);
        acpi_parse(&bi, &ai);
        CHECK_EQ(ai.has_s5, 0);
    }
    build_machine(); /* the whole thing at the end: found */
    rsdp_from_loader(2, RSDT, XSDT);
    build_dsdt(FAKE_PHYS_SIZE - 36 - 12, full, 12);
    build_fadt(276, 0, FAKE_PHYS_SIZE - 36 - 12);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.has_s5, 1);
    CHECK_EQ(ai.slp_typb, 7);
}

/* A DSDT with a bad checksum: reported, counted, no S5; the FADT itself
 * still counts. */
static void dsdt_bad_checksum(void)
{
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    corrupt(DSDT);
    acpi_parse(&bi, &ai);
    CHECK(console_contains("acpi: table DSDT at 0x105000 has a bad checksum"));
    CHECK_EQ(ai.nbad, 1);
    CHECK_EQ(ai.has_fadt, 1);
    CHECK_EQ(ai.pm1a_cnt, 0x604);
    CHECK_EQ(ai.has_s5, 0);
}

/* FADT lengths: under 116 bytes it is ignored; at 116 the 32-bit DSDT is
 * used and X_DSDT (outside the table) is not read; from 148 a non-zero
 * X_DSDT wins over DSDT. */
static void fadt_lengths_and_x_dsdt(void)
{
    static const uint8_t other_s5[] = { 0x08, '_',  'S',  '5',  '_',  0x12, 0x06,
                                        0x04, 0x0A, 0x02, 0x0A, 0x03, 0x00, 0x00 };

    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    build_fadt(100, DSDT, 0);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.has_fadt, 0);
    CHECK_EQ(ai.pm1a_cnt, 0);
    CHECK_EQ(ai.has_s5, 0);
    CHECK_SIGS("APIC", "MCFG", "FACP", "HPET");

    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    build_dsdt(DSDT2, other_s5, sizeof(other_s5));
    build_fadt(116, DSDT, 0);
    w64(at(FACP) + 140, DSDT2); /* past the table's end */
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.has_fadt, 1);
    CHECK_EQ(ai.slp_typa, 5);

    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    build_dsdt(DSDT2, other_s5, sizeof(other_s5));
    build_fadt(244, DSDT, DSDT2);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.has_s5, 1);
    CHECK_EQ(ai.slp_typa, 2);
    CHECK_EQ(ai.slp_typb, 3);

    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    build_dsdt(DSDT2, other_s5, sizeof(other_s5));
    build_fadt(244, DSDT2, 0); /* X_DSDT 0: the 32-bit one */
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.slp_typa, 2);
}

/* Writes the FADT's Flags, RESET_REG and RESET_VALUE and fixes its checksum. */
static void fadt_reset(uint32_t flags, uint8_t space, uint64_t addr, uint8_t value)
{
    uint8_t *f = at(FACP);
    w32(f + 112, flags);
    f[116] = space;
    f[117] = 8; /* bit width */
    f[118] = 0;
    f[119] = 1; /* byte access */
    w64(f + 120, addr);
    f[128] = value;
    fix_checksum(f, 276, 9);
}

/* The reset register is taken when RESET_REG_SUP says so, in I/O or memory
 * space, at a nonzero address; not otherwise, nor from an ACPI 1.0 FADT. */
static void fadt_reset_register(void)
{
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    fadt_reset(1u << 10, 1, 0xCF9, 0x06);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.has_reset, 1);
    CHECK_EQ(ai.reset_space, 1);
    CHECK_EQ(ai.reset_addr, 0xCF9);
    CHECK_EQ(ai.reset_value, 0x06);

    fadt_reset(1u << 10, 0, 0xFED00010, 0x01);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.has_reset, 1);
    CHECK_EQ(ai.reset_space, 0);
    CHECK_EQ(ai.reset_addr, 0xFED00010);

    fadt_reset(0, 1, 0xCF9, 0x06); /* the flag clear */
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.has_reset, 0);
    fadt_reset(1u << 10, 2, 0xCF9, 0x06); /* PCI configuration space: not written */
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.has_reset, 0);
    fadt_reset(1u << 10, 1, 0, 0x06); /* no address */
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.has_reset, 0);

    build_fadt(116, DSDT, 0); /* ACPI 1.0: ends before RESET_REG */
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.has_fadt, 1);
    CHECK_EQ(ai.has_reset, 0);
}

/* An XSDT listing the MADT, the FADT and the tables given. */
static void xsdt_with(const uint64_t *extra, int n)
{
    tb_begin(XSDT, "XSDT");
    tb_u64(MADT);
    tb_u64(FACP);
    for (int i = 0; i < n; i++)
        tb_u64(extra[i]);
    tb_end();
}

static void srat_begin(void)
{
    tb_begin(SRAT, "SRAT");
    tb_u32(1); /* reserved, 1 for compatibility */
    tb_u64(0);
}

static void srat_cpu(uint32_t domain, uint8_t apic_id, uint32_t flags)
{
    tb_u8(0);
    tb_u8(16);
    tb_u8((uint8_t)domain);
    tb_u8(apic_id);
    tb_u32(flags);
    tb_u8(0);
    tb_u8((uint8_t)(domain >> 8));
    tb_u16((uint16_t)(domain >> 16));
    tb_u32(0);
}

static void srat_x2apic(uint32_t domain, uint32_t id, uint32_t flags)
{
    tb_u8(2);
    tb_u8(24);
    tb_u16(0);
    tb_u32(domain);
    tb_u32(id);
    tb_u32(flags);
    tb_u32(0);
    tb_u32(0);
}

static void srat_memory(uint32_t domain, uint64_t base, uint64_t len, uint32_t flags)
{
    tb_u8(1);
    tb_u8(40);
    tb_u32(domain);
    tb_u16(0);
    tb_u64(base);
    tb_u64(len);
    tb_u32(0);
    tb_u32(flags);
    tb_u64(0);
}

/* Two nodes: domain 7 first (node 0), then domain 3 (node 1); one memory
 * range is disabled, one core too, and core 1 is named a second time, by
 * an x2APIC structure that says domain 3 (the first naming holds). */
static void build_srat(void)
{
    srat_begin();
    srat_memory(7, 0, 0x80000000, 1);
    srat_cpu(7, 0, 1);
    srat_cpu(7, 1, 1);
    srat_memory(3, 0x80000000, 0x80000000, 1);
    srat_memory(3, 0x100000000, 0x40000000, 1);
    srat_memory(3, 0x200000000, 0x40000000, 0); /* disabled */
    srat_x2apic(3, 0x100, 1);
    srat_cpu(3, 2, 0); /* disabled */
    srat_x2apic(3, 1, 1); /* core 1 again */
    tb_end();
}

/* Localities 0-7; domains 3 and 7 at distance 31, the rest 20. */
static void build_slit(uint64_t n, uint32_t len_cut)
{
    tb_begin(SLIT, "SLIT");
    tb_u64(n);
    for (uint64_t a = 0; a < n; a++)
        for (uint64_t b = 0; b < n; b++)
            tb_u8(a == b ? 10 : ((a == 3 && b == 7) || (a == 7 && b == 3)) ? 31 : 20);
    tb_len -= len_cut;
    tb_end();
}

/* SRAT and SLIT (§5.2.16, §5.2.17): nodes numbered in the order their
 * domains appear, enabled entries only, distances by domain. */
static void srat_and_slit(void)
{
    build_machine();
    build_srat();
    build_slit(8, 0);
    const uint64_t extra[] = { SLIT, SRAT }; /* the SLIT first: read once the nodes are known */
    xsdt_with(extra, 2);
    rsdp_from_loader(2, RSDT, XSDT);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.nbad, 0);
    CHECK_EQ(ai.nnodes, 2);
    CHECK_EQ(ai.node_domain[0], 7);
    CHECK_EQ(ai.node_domain[1], 3);
    CHECK_EQ(ai.nmem, 3);
    CHECK_EQ(ai.mem[0].base, 0);
    CHECK_EQ(ai.mem[0].len, 0x80000000);
    CHECK_EQ(ai.mem[0].node, 0);
    CHECK_EQ(ai.mem[2].base, 0x100000000);
    CHECK_EQ(ai.mem[2].node, 1);
    CHECK_EQ(ai.ncpu_aff, 3);
    CHECK_EQ(acpi_node_of_apic(&ai, 0), 0);
    CHECK_EQ(acpi_node_of_apic(&ai, 1), 0);
    CHECK_EQ(acpi_node_of_apic(&ai, 0x100), 1);
    CHECK_EQ(acpi_node_of_apic(&ai, 2), 0); /* disabled: not named, so node 0 */
    CHECK_EQ(acpi_node_of_addr(&ai, 0x7FFFFFFF), 0);
    CHECK_EQ(acpi_node_of_addr(&ai, 0x80000000), 1);
    CHECK_EQ(acpi_node_of_addr(&ai, 0x13FFFFFFF), 1);
    CHECK_EQ(acpi_node_of_addr(&ai, 0x140000000), -1);
    CHECK_EQ(acpi_node_of_addr(&ai, 0x200000000), -1); /* disabled */
    CHECK_EQ(ai.has_slit, 1);
    CHECK_EQ(ai.distance[0][0], 10);
    CHECK_EQ(ai.distance[0][1], 31);
    CHECK_EQ(ai.distance[1][0], 31);
    CHECK_EQ(ai.distance[1][1], 10);
    CHECK_STR(console_log, "");

    /* Domain 7 past a SLIT of 4 localities: unknown, 0xFF. */
    build_slit(4, 0);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.has_slit, 1);
    CHECK_EQ(ai.distance[1][1], 10);
    CHECK_EQ(ai.distance[0][1], 0xFF);
    CHECK_EQ(ai.distance[0][0], 0xFF);

    /* No SRAT: one node, 0, for every core and address. */
    build_machine();
    rsdp_from_loader(2, RSDT, XSDT);
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.nnodes, 0);
    CHECK_EQ(acpi_node_of_apic(&ai, 0x100), 0);
    CHECK_EQ(acpi_node_of_addr(&ai, 0x123456789), 0);
}

/* Bad SRAT and SLIT: a structure past the table's end, or a bad checksum,
 * and the SRAT is ignored (one node); a SLIT whose matrix is longer than
 * the table, ignored. Each said. */
static void srat_and_slit_bad(void)
{
    const uint64_t extra[] = { SRAT, SLIT };
    build_machine();
    build_srat();
    w32(at(SRAT) + 4, 48 + 40 + 16 + 8); /* cuts the second memory structure */
    fix_checksum(at(SRAT), 48 + 40 + 16 + 8, 9);
    build_slit(8, 0);
    xsdt_with(extra, 2);
    rsdp_from_loader(2, RSDT, XSDT);
    console_log_clear();
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.nnodes, 0);
    CHECK_EQ(ai.nmem, 0);
    CHECK_EQ(ai.ncpu_aff, 0);
    CHECK_EQ(ai.has_slit, 0); /* no nodes to give distances to */
    CHECK_STR(console_log,
              "acpi: SRAT structure runs past the table's end at offset 104; SRAT ignored: one "
              "NUMA node\n");

    build_srat();
    corrupt(SRAT);
    console_log_clear();
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.nbad, 1);
    CHECK_EQ(ai.nnodes, 0);

    build_srat();
    build_slit(8, 1); /* one byte short */
    console_log_clear();
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.nnodes, 2);
    CHECK_EQ(ai.has_slit, 0);
    CHECK_STR(console_log, "acpi: SLIT of 8 localities is longer than the table (107 bytes); "
                           "ignored\n");
    tb_begin(SLIT, "SLIT"); /* a count whose square overflows 64 bits */
    tb_u64(0x100000001ull);
    tb_end();
    console_log_clear();
    acpi_parse(&bi, &ai);
    CHECK_EQ(ai.has_slit, 0);
}

/* A DMAR like QEMU's q35 with intel-iommu, plus what QEMU never makes:
 * a second unit with INCLUDE_PCI_ALL, a scope through a bridge and an
 * RMRR. */
static void dmar_scope(uint8_t type, uint8_t bus, int hops, const uint8_t *path)
{
    tb_u8(type);
    tb_u8((uint8_t)(6 + 2 * hops));
    tb_u16(0);
    tb_u8(0); /* enumeration id */
    tb_u8(bus);
    tb_bytes(path, (uint32_t)(2 * hops));
}

static void build_dmar(void)
{
    static const uint8_t nic[] = { 3, 0 }, bridge_then_nic[] = { 0x1c, 0, 0, 1 },
                         usb[] = { 0x1d, 0 };
    tb_begin(DMAR, "DMAR");
    tb_u8(47); /* 48-bit */
    tb_u8(1);  /* INTR_REMAP */
    tb_bytes("\0\0\0\0\0\0\0\0\0\0", 10);
    tb_u16(0); /* DRHD: two endpoints, one behind a bridge */
    tb_u16(16 + 8 + 10);
    tb_u8(0);
    tb_u8(0);
    tb_u16(0);
    tb_u64(0xfed90000);
    dmar_scope(DMAR_SCOPE_ENDPOINT, 0, 1, nic);
    dmar_scope(DMAR_SCOPE_ENDPOINT, 0, 2, bridge_then_nic);
    tb_u16(1); /* RMRR for 00:1d.0 */
    tb_u16(24 + 8);
    tb_u16(0);
    tb_u16(0);
    tb_u64(0x3e000000);
    tb_u64(0x3e0fffff);
    dmar_scope(DMAR_SCOPE_ENDPOINT, 0, 1, usb);
    tb_u16(0); /* DRHD: the rest of segment 0 */
    tb_u16(16);
    tb_u8(1);
    tb_u8(0);
    tb_u16(0);
    tb_u64(0xfed91000);
    tb_end();
}

/* The units with their scopes, the reserved region, the width and flags. */
static void dmar_units_and_rmrr(void)
{
    const uint64_t extra[] = { DMAR };
    build_machine();
    build_dmar();
    xsdt_with(extra, 1);
    rsdp_from_loader(2, RSDT, XSDT);
    console_log_clear();
    acpi_parse(&bi, &ai);
    CHECK_STR(console_log, "");
    CHECK_EQ(ai.has_dmar, 1);
    CHECK_EQ(ai.dmar_bad, 0);
    CHECK_EQ(ai.dmar_haw, 48);
    CHECK_EQ(ai.dmar_flags, 1);
    CHECK_EQ(ai.ndmar_units, 2);
    const struct acpi_dmar_unit *u = &ai.dmar_unit[0];
    CHECK_EQ(u->base, 0xfed90000);
    CHECK_EQ(u->include_pci_all, 0);
    CHECK_EQ(u->nscopes, 2);
    CHECK_EQ(u->scope[0].type, DMAR_SCOPE_ENDPOINT);
    CHECK_EQ(u->scope[0].npath, 1);
    CHECK_EQ(u->scope[0].path[0][0], 3);
    CHECK_EQ(u->scope[1].npath, 2);
    CHECK_EQ(u->scope[1].path[0][0], 0x1c);
    CHECK_EQ(u->scope[1].path[1][1], 1);
    CHECK_EQ(ai.dmar_unit[1].base, 0xfed91000);
    CHECK_EQ(ai.dmar_unit[1].include_pci_all, 1);
    CHECK_EQ(ai.dmar_unit[1].nscopes, 0);
    CHECK_EQ(ai.nrmrr, 1);
    CHECK_EQ(ai.rmrr[0].base, 0x3e000000);
    CHECK_EQ(ai.rmrr[0].limit, 0x3e0fffff);
    CHECK_EQ(ai.rmrr[0].nscopes, 1);
    CHECK_EQ(ai.rmrr[0].scope[0].path[0][0], 0x1d);
}

/* The DMAR, edited, made to sum to 0 again, and parsed. */
static void dmar_reparse(void)
{
    fix_checksum(at(DMAR), (uint32_t)(at(DMAR)[4] | at(DMAR)[5] << 8), 9);
    console_log_clear();
    acpi_parse(&bi, &ai);
}

/* A DMAR with a bad checksum is said and skipped, and marked bad (the
 * IOMMU then says it cannot confine); a structure or a scope running past
 * its end ignores the whole table. */
static void dmar_bad(void)
{
    const uint64_t extra[] = { DMAR };
    build_machine();
    build_dmar();
    corrupt(DMAR);
    xsdt_with(extra, 1);
    rsdp_from_loader(2, RSDT, XSDT);
    console_log_clear();
    acpi_parse(&bi, &ai);
    CHECK_STR(console_log, "acpi: table DMAR at 0x10a000 has a bad checksum (bytes sum to 0x01, "
                           "not 0); skipped\n");
    CHECK_EQ(ai.has_dmar, 0);
    CHECK_EQ(ai.dmar_bad, 1);
    CHECK_EQ(ai.ndmar_units, 0);

    build_dmar();
    w16(at(DMAR) + 48 + 2, 200); /* the first DRHD's length: past the table */
    dmar_reparse();
    CHECK_STR(console_log, "acpi: DMAR structure runs past the table's end at offset 48; DMAR "
                           "ignored: no DMA remapping\n");
    CHECK_EQ(ai.has_dmar, 0);
    CHECK_EQ(ai.dmar_bad, 1);
    CHECK_EQ(ai.ndmar_units, 0);

    build_dmar();
    at(DMAR)[48 + 16 + 1] = 9; /* the first scope's length: odd, past its DRHD's next */
    dmar_reparse();
    CHECK_STR(console_log, "acpi: DMAR device scope runs past its structure at offset 48; DMAR "
                           "ignored: no DMA remapping\n");
    CHECK_EQ(ai.ndmar_units, 0);
    CHECK_EQ(ai.nrmrr, 0);
}

int main(void)
{
    RUN(xsdt_machine);
    RUN(rsdt_on_revision_0);
    RUN(rsdt_when_xsdt_address_is_0);
    RUN(loader_v1_rsdp);
    RUN(scan_bios_area);
    RUN(scan_ebda_first);
    RUN(scan_ignores_nonsense_ebda);
    RUN(no_rsdp);
    RUN(uefi_does_not_scan);
    RUN(corrupt_loader_rsdp_scans);
    RUN(bad_extended_checksum_uses_rsdt);
    RUN(corrupt_xsdt_falls_back_to_rsdt);
    RUN(corrupt_madt_skipped);
    RUN(bad_table_lengths);
    RUN(madt_bad_entry_length_stops);
    RUN(madt_shorter_than_its_fields);
    RUN(more_cpus_than_max);
    RUN(more_tables_than_max);
    RUN(s5_forms);
    RUN(s5_truncated_at_table_end);
    RUN(dsdt_bad_checksum);
    RUN(fadt_lengths_and_x_dsdt);
    RUN(fadt_reset_register);
    RUN(srat_and_slit);
    RUN(srat_and_slit_bad);
    RUN(root_with_wrong_signature);
    RUN(table_outside_memory);
    RUN(dmar_units_and_rmrr);
    RUN(dmar_bad);
    return test_finish();
}
