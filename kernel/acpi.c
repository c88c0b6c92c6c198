/*
 * kernel/acpi.c - finding and parsing the ACPI tables (ACPI Specification 6.5).
 *
 * Nothing from firmware is trusted before its checksum and length are checked:
 * a table that fails is named on the console and skipped, and what it would
 * have told us stays empty (no cores listed, no ECAM, no S5).
 */
#include "kernel/acpi.h"

#include "kernel/kprintf.h"
#include "kernel/phys.h"
#include "kernel/string.h"

#define SDT_HEADER_LEN 36
#define SDT_MAX_LEN (16u << 20) /* longer than any real table: a corrupt length */

/* ACPI 6.5 §5.2.5.3, Table 5.3: the RSDP. */
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define RSDP_SIG 0x2052545020445352ull /* "RSD PTR " as a little-endian u64 */

static uint8_t sum(const uint8_t *p, uint32_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

static int rsdp_valid(const uint8_t *p)
{
    if (memcmp(p, "RSD PTR ", 8) != 0 || sum(p, RSDP_V1_LEN) != 0)
        return 0;
    if (p[15] >= 2 && sum(p, RSDP_V2_LEN) != 0)
        return 1; /* v1 part fine, extended part corrupt: use the RSDT */
    return p[15] >= 2 ? 2 : 1;
}

/* ACPI 6.5 §5.2.5.1: the RSDP is in the first KiB of the EBDA, or on a
 * 16-byte boundary in 0xE0000-0xFFFFF. */
static uint64_t rsdp_scan(void)
{
    uint64_t ebda = (uint64_t)get16(phys_ptr(0x40E, 2)) << 4;
    uint64_t areas[2][2] = { { ebda, ebda + 1024 }, { 0xE0000, 0x100000 } };
    for (int a = 0; a < 2; a++) {
        if (areas[a][0] < 0x400 || areas[a][1] > 0x100000)
            continue; /* no EBDA pointer, or a nonsense one */
        for (uint64_t pa = areas[a][0]; pa + RSDP_V2_LEN <= areas[a][1]; pa += 16) {
            const uint8_t *p = phys_ptr(pa, RSDP_V2_LEN);
            if (get64(p) == RSDP_SIG && rsdp_valid(p)) /* cheap test first */
                return pa;
        }
    }
    return 0;
}

/* Returns the table at pa if its length and checksum hold, else NULL (said). */
static const uint8_t *table_at(uint64_t pa)
{
    const uint8_t *h = phys_ptr(pa, SDT_HEADER_LEN);
    uint32_t len = get32(h + 4);
    if (len < SDT_HEADER_LEN || len > SDT_MAX_LEN) {
        kprintf("acpi: table %.4s at 0x%lx has a bad length %u; skipped\n", (const char *)h, pa,
                len);
        return NULL;
    }
    const uint8_t *t = phys_ptr(pa, len);
    uint8_t s = sum(t, len);
    if (s != 0) {
        kprintf("acpi: table %.4s at 0x%lx has a bad checksum (bytes sum to 0x%02x, not 0); "
                "skipped\n",
                (const char *)h, pa, s);
        return NULL;
    }
    return t;
}

static void add_cpu(struct acpi_info *ai, uint32_t id)
{
    for (int i = 0; i < ai->ncpus; i++)
        if (ai->apic_id[i] == id)
            return;
    if (ai->ncpus < ACPI_MAX_CPUS)
        ai->apic_id[ai->ncpus++] = id;
}

/* ACPI 6.5 §5.2.12: MADT. Entries: type, length, then by type. */
static void parse_madt(const uint8_t *t, struct acpi_info *ai)
{
    uint32_t len = get32(t + 4);
    if (len < 44)
        return; /* too short for its own fixed fields: nothing in it to trust */
    ai->lapic_pa = get32(t + 36);
    for (uint32_t off = 44; off + 2 <= len;) {
        uint8_t type = t[off], elen = t[off + 1];
        if (elen < 2 || off + elen > len) {
            kprintf("acpi: MADT entry at offset %u has a bad length %u; rest of MADT skipped\n",
                    off, elen);
            return;
        }
        /* §5.2.12.2 Processor Local APIC (8 bytes): flags bit 0 Enabled,
         * bit 1 Online Capable. §5.2.12.12 Local x2APIC (16 bytes). */
        if (type == 0 && elen >= 8 && (get32(t + off + 4) & 3))
            add_cpu(ai, t[off + 3]);
        else if (type == 9 && elen >= 16 && (get32(t + off + 8) & 3))
            add_cpu(ai, get32(t + off + 4));
        off += elen;
    }
}

/* PCI Firmware Specification 3.2 §4.1.2: MCFG, 16-byte entries from offset 44. */
static void parse_mcfg(const uint8_t *t, struct acpi_info *ai)
{
    uint32_t len = get32(t + 4);
    for (uint32_t off = 44; off + 16 <= len && ai->nmcfg < ACPI_MAX_MCFG; off += 16) {
        struct acpi_mcfg *m = &ai->mcfg[ai->nmcfg];
        m->base = get64(t + off);
        m->segment = get16(t + off + 8);
        m->bus_start = t[off + 10];
        m->bus_end = t[off + 11];
        if (m->bus_end >= m->bus_start && m->base)
            ai->nmcfg++;
    }
}

/* ACPI 6.5 §20.2.3: a PkgLength's first byte says how many bytes follow. */
static uint32_t pkg_length_bytes(uint8_t lead)
{
    return 1 + (lead >> 6);
}

/* One small integer of the \_S5 package: BytePrefix + byte, or ZeroOp/OneOp. */
static int aml_small_int(const uint8_t *p, const uint8_t *end, uint8_t *v, const uint8_t **next)
{
    if (p < end && *p == 0x0A && p + 1 < end) { /* BytePrefix */
        *v = p[1];
        *next = p + 2;
        return 0;
    }
    if (p < end && (*p == 0x00 || *p == 0x01)) { /* ZeroOp, OneOp */
        *v = *p;
        *next = p + 1;
        return 0;
    }
    return -1;
}

/*
 * \_S5 in the DSDT (ACPI 6.5 §7.4.2.5): Name(_S5, Package(){SLP_TYPa, SLP_TYPb, ...}).
 * In AML: NameOp 0x08, "_S5_", PackageOp 0x12, PkgLength, NumElements, data.
 * Searching the byte stream for it is the usual shortcut for a kernel with
 * no AML interpreter; the checks around it keep it from matching garbage.
 */
static void parse_s5(const uint8_t *dsdt, struct acpi_info *ai)
{
    uint32_t len = get32(dsdt + 4);
    const uint8_t *end = dsdt + len;
    for (const uint8_t *p = dsdt + SDT_HEADER_LEN; p + 4 < end; p++) {
        if (p[0] != '_' || memcmp(p, "_S5_", 4) != 0)
            continue;
        if (!(p[-1] == 0x08 || (p[-1] == '\\' && p[-2] == 0x08)))
            continue;
        const uint8_t *q = p + 4;
        if (q >= end || *q != 0x12)
            continue;
        q++;
        if (q >= end)
            return;
        q += pkg_length_bytes(*q) + 1; /* PkgLength, NumElements */
        if (aml_small_int(q, end, &ai->slp_typa, &q) == 0 &&
            aml_small_int(q, end, &ai->slp_typb, &q) == 0)
            ai->has_s5 = 1;
        return;
    }
}

/* ACPI 6.5 §5.2.9, Table 5.9: FADT fields at their byte offsets. */
static void parse_fadt(const uint8_t *t, struct acpi_info *ai)
{
    uint32_t len = get32(t + 4);
    if (len < 116)
        return;
    ai->has_fadt = 1;
    ai->smi_cmd = get32(t + 48);
    ai->acpi_enable = t[52];
    ai->pm1a_cnt = get32(t + 64);
    ai->pm1b_cnt = get32(t + 68);
    uint64_t dsdt = get32(t + 40);
    if (len >= 148 && get64(t + 140))
        dsdt = get64(t + 140); /* X_DSDT */
    if (!dsdt)
        return;
    const uint8_t *d = table_at(dsdt);
    if (!d)
        ai->nbad++;
    else if (memcmp(d, "DSDT", 4) == 0)
        parse_s5(d, ai);
}

static void parse_table(uint64_t pa, struct acpi_info *ai)
{
    const uint8_t *t = table_at(pa);
    if (!t) {
        ai->nbad++;
        return;
    }
    if (ai->ntables < ACPI_MAX_TABLES) {
        memcpy(ai->sig[ai->ntables], t, 4);
        ai->sig[ai->ntables++][4] = '\0';
    }
    if (memcmp(t, "APIC", 4) == 0)
        parse_madt(t, ai);
    else if (memcmp(t, "MCFG", 4) == 0)
        parse_mcfg(t, ai);
    else if (memcmp(t, "FACP", 4) == 0)
        parse_fadt(t, ai);
}

void acpi_parse(const struct boot_info *bi, struct acpi_info *ai)
{
    memset(ai, 0, sizeof(*ai));
    const uint8_t *rsdp = NULL;
    int kind = 0;
    if (bi->rsdp_len >= RSDP_V1_LEN) {
        rsdp = bi->rsdp; /* the loader's copy (Multiboot2 tags 14, 15) */
        kind = rsdp_valid(rsdp);
        ai->rsdp_from_loader = 1;
        if (!kind)
            kprintf("acpi: the RSDP the boot loader passed is corrupt; scanning for another\n");
    }
    if (!kind && bi->firmware == FW_BIOS) {
        uint64_t pa = rsdp_scan();
        if (pa) {
            rsdp = phys_ptr(pa, RSDP_V2_LEN);
            kind = rsdp_valid(rsdp);
            ai->rsdp_pa = pa;
            ai->rsdp_from_loader = 0;
        }
    }
    if (!kind) {
        kprintf("acpi: no valid RSDP; no cores, ECAM or ACPI power-off from ACPI\n");
        return;
    }
    if (ai->rsdp_from_loader)
        ai->rsdp_pa = (uint64_t)(uintptr_t)rsdp; /* where our copy is: informational */
    ai->revision = rsdp[15];
    memcpy(ai->oem, rsdp + 9, 6);
    if (ai->revision >= 2 && kind == 1)
        kprintf("acpi: RSDP extended checksum is wrong; using the RSDT\n");

    uint64_t root = get32(rsdp + 16);
    int entry = 4;
    if (kind == 2 && get64(rsdp + 24)) {
        root = get64(rsdp + 24);
        entry = 8;
    }
    const uint8_t *rt = table_at(root);
    if (!rt && entry == 8 && get32(rsdp + 16)) {
        ai->nbad++; /* the XSDT */
        kprintf("acpi: falling back from the XSDT to the RSDT\n");
        entry = 4;
        rt = table_at(get32(rsdp + 16));
    }
    if (!rt) {
        ai->nbad++;
        return;
    }
    ai->use_xsdt = entry == 8;
    uint32_t len = get32(rt + 4);
    for (uint32_t off = SDT_HEADER_LEN; off + entry <= len; off += entry)
        parse_table(entry == 8 ? get64(rt + off) : get32(rt + off), ai);
}
