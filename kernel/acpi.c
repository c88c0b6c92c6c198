/*
 * kernel/acpi.c - finding and parsing the ACPI tables (ACPI Specification 6.5).
 *
 * Nothing from firmware is trusted before its checksum and length are checked:
 * a table that fails is named on the console and skipped, and what it would
 * have told us stays empty (no cores listed, no ECAM, no S5).
 */
#include "kernel/acpi.h"

#include <stddef.h>

#include "kernel/kprintf.h"
#include "kernel/phys.h"
#include "kernel/string.h"

#define SDT_MAX_LEN (16u << 20) /* longer than any real table: a corrupt length */

/* ACPI 6.5 §5.2.5.3, Table 5.3: the Root System Description Pointer. */
struct rsdp {
    char signature[8]; /* "RSD PTR " */
    uint8_t checksum;  /* over the first 20 bytes */
    char oem_id[6];
    uint8_t revision; /* 0: ACPI 1.0, 20 bytes; 2: ACPI 2.0+, 36 bytes */
    uint32_t rsdt_address;
    uint32_t length;
    uint64_t xsdt_address;
    uint8_t extended_checksum; /* over all 36 bytes */
    uint8_t reserved[3];
} __attribute__((packed));
_Static_assert(offsetof(struct rsdp, rsdt_address) == 16, "ACPI 6.5 Table 5.3");
_Static_assert(offsetof(struct rsdp, xsdt_address) == 24, "ACPI 6.5 Table 5.3");
_Static_assert(sizeof(struct rsdp) == 36, "ACPI 6.5 Table 5.3");
#define RSDP_V1_LEN 20
#define RSDP_V2_LEN 36
#define RSDP_SIG 0x2052545020445352ull /* "RSD PTR " as a little-endian u64 */

/* §5.2.6, Table 5.4: the header every other table starts with. */
struct sdt_header {
    char signature[4];
    uint32_t length; /* of the whole table, header included */
    uint8_t revision;
    uint8_t checksum; /* all bytes of the table sum to 0 */
    char oem_id[6];
    char oem_table_id[8];
    uint32_t oem_revision;
    uint32_t creator_id;
    uint32_t creator_revision;
} __attribute__((packed));
_Static_assert(sizeof(struct sdt_header) == 36, "ACPI 6.5 Table 5.4");

/* §5.2.12, Table 5.19: MADT; then entries of { type, length, ... }. */
struct madt {
    struct sdt_header h;
    uint32_t local_apic_address;
    uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct madt) == 44, "ACPI 6.5 Table 5.19");
#define MADT_LOCAL_APIC 0   /* §5.2.12.2, Table 5.23 */
#define MADT_LOCAL_X2APIC 9 /* §5.2.12.12, Table 5.37 */
#define MADT_ENABLED 0x1    /* Local APIC Flags, Table 5.24 */
#define MADT_ONLINE_CAPABLE 0x2

struct madt_local_apic {
    uint8_t type, length; /* 0, 8 */
    uint8_t processor_uid;
    uint8_t apic_id;
    uint32_t flags;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_local_apic) == 8, "ACPI 6.5 Table 5.23");

struct madt_local_x2apic {
    uint8_t type, length; /* 9, 16 */
    uint16_t reserved;
    uint32_t x2apic_id;
    uint32_t flags;
    uint32_t processor_uid;
} __attribute__((packed));
_Static_assert(sizeof(struct madt_local_x2apic) == 16, "ACPI 6.5 Table 5.37");

/* PCI Firmware Specification 3.2 §4.1.2, Tables 4-2 and 4-3: MCFG. */
struct mcfg {
    struct sdt_header h;
    uint64_t reserved;
} __attribute__((packed));
struct mcfg_entry {
    uint64_t base_address;
    uint16_t segment;
    uint8_t start_bus, end_bus;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct mcfg) == 44, "PCI Firmware 3.2 Table 4-2");
_Static_assert(sizeof(struct mcfg_entry) == 16, "PCI Firmware 3.2 Table 4-3");

/* §5.2.3.2, Table 5.1: a Generic Address Structure. */
struct acpi_gas {
    uint8_t space; /* ACPI_SPACE_* */
    uint8_t bit_width, bit_offset, access_size;
    uint64_t address;
} __attribute__((packed));
_Static_assert(sizeof(struct acpi_gas) == 12, "ACPI 6.5 Table 5.1");
#define FADT_RESET_REG_SUP (1u << 10) /* §5.2.9, Table 5.10: Flags */

/* §5.2.9, Table 5.9: FADT, only the fields ixmetal reads; gaps are fields
 * it does not. FADTs of ACPI 1.0 end at byte 116, before X_DSDT. */
struct fadt {
    struct sdt_header h;
    uint32_t firmware_ctrl;
    uint32_t dsdt;
    uint8_t unused0[4];
    uint32_t smi_cmd;
    uint8_t acpi_enable;
    uint8_t acpi_disable;
    uint8_t unused1[2];
    uint32_t pm1a_evt_blk;
    uint32_t pm1b_evt_blk;
    uint32_t pm1a_cnt_blk;
    uint32_t pm1b_cnt_blk;
    uint8_t unused2[40];
    uint32_t flags;
    struct acpi_gas reset_reg; /* ACPI 2.0+ */
    uint8_t reset_value;
    uint8_t unused3[11];
    uint64_t x_dsdt;
} __attribute__((packed));
_Static_assert(offsetof(struct fadt, smi_cmd) == 48, "ACPI 6.5 Table 5.9");
_Static_assert(offsetof(struct fadt, pm1a_evt_blk) == 56, "ACPI 6.5 Table 5.9");
_Static_assert(offsetof(struct fadt, pm1a_cnt_blk) == 64, "ACPI 6.5 Table 5.9");
_Static_assert(offsetof(struct fadt, flags) == 112, "ACPI 6.5 Table 5.9");
_Static_assert(offsetof(struct fadt, reset_reg) == 116, "ACPI 6.5 Table 5.9");
_Static_assert(offsetof(struct fadt, reset_value) == 128, "ACPI 6.5 Table 5.9");
_Static_assert(offsetof(struct fadt, x_dsdt) == 140, "ACPI 6.5 Table 5.9");
#define FADT_V1_LEN 116

/* §5.2.16: the SRAT, its affinity structures after a 48-byte header. */
#define SRAT_HEADER_LEN 48
#define SRAT_CPU 0      /* §5.2.16.1, Table 5.63: Processor Local APIC/SAPIC Affinity */
#define SRAT_MEMORY 1   /* §5.2.16.2, Table 5.65: Memory Affinity */
#define SRAT_X2APIC 2   /* §5.2.16.3, Table 5.67: Processor Local x2APIC Affinity */
#define SRAT_ENABLED 1u /* bit 0 of each structure's flags */
struct srat_cpu {
    uint8_t type, length;
    uint8_t domain_lo; /* proximity domain bits 7:0 */
    uint8_t apic_id;
    uint32_t flags;
    uint8_t sapic_eid;
    uint8_t domain_hi[3]; /* bits 31:8 */
    uint32_t clock_domain;
} __attribute__((packed));
_Static_assert(sizeof(struct srat_cpu) == 16, "ACPI 6.5 Table 5.63");
struct srat_memory {
    uint8_t type, length;
    uint32_t domain;
    uint8_t reserved0[2];
    uint64_t base, len; /* as two 32-bit halves each: packed */
    uint8_t reserved1[4];
    uint32_t flags;
    uint8_t reserved2[8];
} __attribute__((packed));
_Static_assert(sizeof(struct srat_memory) == 40, "ACPI 6.5 Table 5.65");
_Static_assert(offsetof(struct srat_memory, flags) == 28, "ACPI 6.5 Table 5.65");
struct srat_x2apic {
    uint8_t type, length;
    uint8_t reserved0[2];
    uint32_t domain;
    uint32_t x2apic_id;
    uint32_t flags;
    uint32_t clock_domain;
    uint8_t reserved1[4];
} __attribute__((packed));
_Static_assert(sizeof(struct srat_x2apic) == 24, "ACPI 6.5 Table 5.67");

/* §5.2.17, Table 5.70: the SLIT, a matrix of localities after a count. */
#define SLIT_HEADER_LEN 44

/* IA-PC HPET Specification 1.0a §3.2.4, Table 3: the HPET description table.
 * The base address is an ACPI Generic Address (ACPI 6.5 §5.2.3.2). */
struct hpet_table {
    struct sdt_header h;
    uint32_t event_timer_block_id;
    uint8_t address_space_id; /* 0: system memory */
    uint8_t register_bit_width, register_bit_offset, access_size;
    uint64_t base_address;
    uint8_t hpet_number;
    uint16_t minimum_tick;
    uint8_t page_protection;
} __attribute__((packed));
_Static_assert(offsetof(struct hpet_table, base_address) == 44, "HPET 1.0a Table 3");
_Static_assert(sizeof(struct hpet_table) == 56, "HPET 1.0a Table 3");

/* Intel VT-d spec rev 4.1 §8.1, Table 4: the DMAR, its remapping structures
 * (each { u16 type, u16 length, ... }) after a 48-byte header. */
#define DMAR_HEADER_LEN 48
#define DMAR_DRHD 0              /* §8.3, Table 6 */
#define DMAR_RMRR 1              /* §8.4, Table 10 */
#define DMAR_INCLUDE_PCI_ALL 0x1 /* DRHD Flags bit 0 */
#define DMAR_DRHD_SCOPES 16      /* where a DRHD's device scopes start */
#define DMAR_RMRR_SCOPES 24      /* an RMRR's */
#define DMAR_SCOPE_HEADER 6      /* §8.3.1, Table 9: type, length, 2 reserved, enum id, bus */

static uint8_t sum(const uint8_t *p, uint32_t n)
{
    uint8_t s = 0;
    while (n--)
        s = (uint8_t)(s + *p++);
    return s;
}

/* 0: not an RSDP; 1: use its RSDT; 2: use its XSDT. */
static int rsdp_valid(const struct rsdp *r)
{
    if (memcmp(r->signature, "RSD PTR ", 8) != 0 || sum((const uint8_t *)r, RSDP_V1_LEN) != 0)
        return 0;
    if (r->revision >= 2 && sum((const uint8_t *)r, RSDP_V2_LEN) != 0)
        return 1; /* v1 part fine, extended part corrupt: use the RSDT */
    return r->revision >= 2 ? 2 : 1;
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
        for (uint64_t pa = areas[a][0]; pa + RSDP_V1_LEN <= areas[a][1]; pa += 16) {
            const struct rsdp *r = phys_ptr(pa, RSDP_V1_LEN);
            if (get64(r) == RSDP_SIG && rsdp_valid(r)) /* cheap test first */
                return pa;
        }
    }
    return 0;
}

static const struct boot_info *map_of; /* the memory map, while acpi_parse runs */

/* Tables live below 4 GiB (mapped whole) or in RAM the map lists (mapped
 * write-back): anywhere else a corrupt address would fault, so refuse it. */
static int reachable(uint64_t pa, uint64_t len)
{
    uint64_t end = pa + len;
    if (end < pa)
        return 0;
    if (end <= (1ull << 32))
        return 1;
    for (int i = 0; i < map_of->nmap; i++) {
        const struct mem_region *r = &map_of->map[i];
        if (memmap_is_ram(r, 1, r->base, r->len) && pa >= r->base && end <= r->base + r->len)
            return 1;
    }
    return 0;
}

/* A table's signature for a message: as text, or in hex if it is not
 * printable (a wild pointer lands on anything). */
static const char *sig_text(const struct sdt_header *h, char buf[12])
{
    for (int i = 0; i < 4; i++)
        if (h->signature[i] < 0x20 || h->signature[i] > 0x7E) {
            ksnprintf(buf, 12, "0x%08x", get32(h->signature));
            return buf;
        }
    memcpy(buf, h->signature, 4);
    buf[4] = '\0';
    return buf;
}

/* Returns the table at pa if its place, length and checksum hold, else NULL
 * (said on the console). */
static const struct sdt_header *table_at(uint64_t pa)
{
    if (!reachable(pa, sizeof(struct sdt_header))) {
        kprintf("acpi: a table address 0x%lx is outside memory; skipped\n", pa);
        return NULL;
    }
    const struct sdt_header *h = phys_ptr(pa, sizeof(*h));
    uint32_t len = h->length;
    char sig[12];
    if (len < sizeof(*h) || len > SDT_MAX_LEN || !reachable(pa, len)) {
        kprintf("acpi: table %s at 0x%lx has a bad length %u; skipped\n", sig_text(h, sig), pa,
                len);
        return NULL;
    }
    uint8_t s = sum(phys_ptr(pa, len), len);
    if (s != 0) {
        kprintf("acpi: table %s at 0x%lx has a bad checksum (bytes sum to 0x%02x, not 0); "
                "skipped\n",
                sig_text(h, sig), pa, s);
        return NULL;
    }
    return h;
}

static void add_cpu(struct acpi_info *ai, uint32_t id)
{
    for (int i = 0; i < ai->ncpus; i++)
        if (ai->apic_id[i] == id)
            return;
    if (ai->ncpus < ACPI_MAX_CPUS)
        ai->apic_id[ai->ncpus++] = id;
}

/* §5.2.12: the cores are the enabled or online-capable local APIC and local
 * x2APIC entries (a core can be listed as both; it counts once). */
static void parse_madt(const struct sdt_header *h, struct acpi_info *ai)
{
    const struct madt *m = (const struct madt *)h;
    const uint8_t *t = (const uint8_t *)h;
    if (h->length < sizeof(*m))
        return; /* too short for its own fixed fields: nothing in it to trust */
    ai->lapic_pa = m->local_apic_address;
    for (uint32_t off = sizeof(*m); off + 2 <= h->length;) {
        uint8_t type = t[off], elen = t[off + 1];
        if (elen < 2 || off + elen > h->length) {
            kprintf("acpi: MADT entry at offset %u has a bad length %u; rest of MADT skipped\n",
                    off, elen);
            return;
        }
        if (type == MADT_LOCAL_APIC && elen >= sizeof(struct madt_local_apic)) {
            const struct madt_local_apic *e = (const void *)(t + off);
            if (e->flags & (MADT_ENABLED | MADT_ONLINE_CAPABLE))
                add_cpu(ai, e->apic_id);
        } else if (type == MADT_LOCAL_X2APIC && elen >= sizeof(struct madt_local_x2apic)) {
            const struct madt_local_x2apic *e = (const void *)(t + off);
            if (e->flags & (MADT_ENABLED | MADT_ONLINE_CAPABLE))
                add_cpu(ai, e->x2apic_id);
        }
        off += elen;
    }
}

/* PCI Firmware 3.2 §4.1.2: one ECAM window per segment and bus range. */
static void parse_mcfg(const struct sdt_header *h, struct acpi_info *ai)
{
    const uint8_t *t = (const uint8_t *)h;
    for (uint32_t off = sizeof(struct mcfg);
         off + sizeof(struct mcfg_entry) <= h->length && ai->nmcfg < ACPI_MAX_MCFG;
         off += sizeof(struct mcfg_entry)) {
        const struct mcfg_entry *e = (const void *)(t + off);
        struct acpi_mcfg *m = &ai->mcfg[ai->nmcfg];
        m->base = e->base_address;
        m->segment = e->segment;
        m->bus_start = e->start_bus;
        m->bus_end = e->end_bus;
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
static void parse_s5(const struct sdt_header *dsdt, struct acpi_info *ai)
{
    const uint8_t *end = (const uint8_t *)dsdt + dsdt->length;
    for (const uint8_t *p = (const uint8_t *)(dsdt + 1); p + 4 < end; p++) {
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

/* §5.2.9: the power-management registers and the DSDT, for \_S5. */
static void parse_fadt(const struct sdt_header *h, struct acpi_info *ai)
{
    const struct fadt *f = (const struct fadt *)h;
    if (h->length < FADT_V1_LEN)
        return;
    ai->has_fadt = 1;
    ai->smi_cmd = f->smi_cmd;
    ai->acpi_enable = f->acpi_enable;
    ai->pm1a_cnt = f->pm1a_cnt_blk;
    ai->pm1b_cnt = f->pm1b_cnt_blk;
    ai->pm1a_evt = f->pm1a_evt_blk;
    ai->pm1b_evt = f->pm1b_evt_blk;
    /* §4.8.3.6: the reset register, when Flags.RESET_REG_SUP says it is
     * there; ixmetal writes it in I/O or memory space only. */
    if (h->length > offsetof(struct fadt, reset_value) && (f->flags & FADT_RESET_REG_SUP) &&
        f->reset_reg.address &&
        (f->reset_reg.space == ACPI_SPACE_IO || f->reset_reg.space == ACPI_SPACE_MEMORY)) {
        ai->has_reset = 1;
        ai->reset_space = f->reset_reg.space;
        ai->reset_addr = f->reset_reg.address;
        ai->reset_value = f->reset_value;
    }
    uint64_t dsdt = f->dsdt;
    if (h->length >= sizeof(*f) && f->x_dsdt)
        dsdt = f->x_dsdt; /* ACPI 2.0+: the 64-bit address wins */
    if (!dsdt)
        return;
    const struct sdt_header *d = table_at(dsdt);
    if (!d)
        ai->nbad++;
    else if (memcmp(d->signature, "DSDT", 4) == 0)
        parse_s5(d, ai);
}

/* The node a proximity domain is, numbered as first seen; -1 past
 * ACPI_MAX_NODES. */
static int node_of_domain(struct acpi_info *ai, uint32_t domain)
{
    for (int n = 0; n < ai->nnodes; n++)
        if (ai->node_domain[n] == domain)
            return n;
    if (ai->nnodes == ACPI_MAX_NODES)
        return -1;
    ai->node_domain[ai->nnodes] = domain;
    return ai->nnodes++;
}

static void srat_ignored(struct acpi_info *ai, const char *why, uint32_t off)
{
    kprintf("acpi: SRAT %s at offset %u; SRAT ignored: one NUMA node\n", why, off);
    ai->nnodes = ai->nmem = ai->ncpu_aff = 0;
}

/* Has the SRAT named this core already? */
static int srat_named(const struct acpi_info *ai, uint32_t apic_id)
{
    for (int i = 0; i < ai->ncpu_aff; i++)
        if (ai->cpu_aff_apic[i] == apic_id)
            return 1;
    return 0;
}

/* §5.2.16: which memory ranges and cores each proximity domain holds. A
 * structure that runs past the table, or more nodes, ranges or cores than
 * the kernel keeps, and the whole table is ignored: a partial picture of
 * the nodes would place memory wrongly, one node never does. */
static void parse_srat(const struct sdt_header *h, struct acpi_info *ai)
{
    const uint8_t *t = (const uint8_t *)h;
    ai->nnodes = ai->nmem = ai->ncpu_aff = 0;
    for (uint32_t off = SRAT_HEADER_LEN; off < h->length;) {
        if (off + 2 > h->length || t[off + 1] < 2 || off + t[off + 1] > h->length) {
            srat_ignored(ai, "structure runs past the table's end", off);
            return;
        }
        uint8_t type = t[off], len = t[off + 1];
        uint32_t domain, apic_id, flags;
        if (type == SRAT_MEMORY && len >= sizeof(struct srat_memory)) {
            const struct srat_memory *e = (const void *)(t + off);
            if ((e->flags & SRAT_ENABLED) && e->len) {
                int node = node_of_domain(ai, e->domain);
                if (node < 0 || ai->nmem == ACPI_MAX_MEM_RANGES) {
                    srat_ignored(ai, "has more nodes or memory ranges than kept", off);
                    return;
                }
                ai->mem[ai->nmem++] = (struct acpi_mem_range){ e->base, e->len, node };
            }
        } else if ((type == SRAT_CPU && len >= sizeof(struct srat_cpu)) ||
                   (type == SRAT_X2APIC && len >= sizeof(struct srat_x2apic))) {
            if (type == SRAT_CPU) {
                const struct srat_cpu *e = (const void *)(t + off);
                domain = e->domain_lo | (uint32_t)e->domain_hi[0] << 8 |
                         (uint32_t)e->domain_hi[1] << 16 | (uint32_t)e->domain_hi[2] << 24;
                apic_id = e->apic_id;
                flags = e->flags;
            } else {
                const struct srat_x2apic *e = (const void *)(t + off);
                domain = e->domain;
                apic_id = e->x2apic_id;
                flags = e->flags;
            }
            if ((flags & SRAT_ENABLED) && srat_named(ai, apic_id)) {
                /* named again (firmware may list a core in both kinds of
                 * structure): the first naming holds */
            } else if (flags & SRAT_ENABLED) {
                int node = node_of_domain(ai, domain);
                if (node < 0 || ai->ncpu_aff == ACPI_MAX_CPUS) {
                    srat_ignored(ai, "has more nodes or cores than kept", off);
                    return;
                }
                ai->cpu_aff_apic[ai->ncpu_aff] = apic_id;
                ai->cpu_aff_node[ai->ncpu_aff++] = (uint8_t)node;
            }
        }
        off += len;
    }
}

/* §5.2.17: the distance between each pair of localities (proximity
 * domains), kept for the nodes the SRAT named. A matrix longer than the
 * table is said and ignored. */
static const struct sdt_header *slit; /* a good SLIT, read once the SRAT's nodes are known */

static void parse_slit(const struct sdt_header *h, struct acpi_info *ai)
{
    (void)ai;
    const uint8_t *t = (const uint8_t *)h;
    if (h->length < SLIT_HEADER_LEN) {
        kprintf("acpi: SLIT shorter than its header; ignored\n");
        return;
    }
    uint64_t n = get64(t + 36);
    if (n > 0xFFFF || SLIT_HEADER_LEN + n * n > h->length) {
        kprintf("acpi: SLIT of %lu localities is longer than the table (%u bytes); ignored\n", n,
                h->length);
        return;
    }
    slit = h;
}

/* The SLIT's distances for the SRAT's nodes, once both are read (in any
 * order): node a's domain is its row, node b's its column. */
static void resolve_slit(struct acpi_info *ai)
{
    if (!slit || !ai->nnodes)
        return;
    const uint8_t *m = (const uint8_t *)slit + SLIT_HEADER_LEN;
    uint64_t n = get64((const uint8_t *)slit + 36);
    ai->has_slit = 1;
    for (int a = 0; a < ai->nnodes; a++)
        for (int b = 0; b < ai->nnodes; b++) {
            uint64_t da = ai->node_domain[a], db = ai->node_domain[b];
            ai->distance[a][b] =
                da < n && db < n ? m[da * n + db] : 0xFF; /* §5.2.17: unreachable, or unknown */
        }
}

int acpi_node_of_apic(const struct acpi_info *ai, uint32_t apic_id)
{
    for (int i = 0; i < ai->ncpu_aff; i++)
        if (ai->cpu_aff_apic[i] == apic_id)
            return ai->cpu_aff_node[i];
    return 0;
}

int acpi_node_of_addr(const struct acpi_info *ai, uint64_t pa)
{
    if (!ai->nnodes)
        return 0;
    for (int i = 0; i < ai->nmem; i++)
        if (pa >= ai->mem[i].base && pa - ai->mem[i].base < ai->mem[i].len)
            return ai->mem[i].node;
    return -1;
}

/* The HPET's registers, if they are in memory space where the table says. */
static void parse_hpet(const struct sdt_header *h, struct acpi_info *ai)
{
    const struct hpet_table *t = (const struct hpet_table *)h;
    if (h->length >= sizeof(*t) && t->address_space_id == 0)
        ai->hpet_pa = t->base_address;
}

/* §8.3.1: the device scopes in [off, end) of structure t, into out (at
 * most ACPI_MAX_DMAR_SCOPES). Returns how many, or -1 if one runs past end. */
static int dmar_scopes(const uint8_t *t, uint32_t off, uint32_t end, struct acpi_dmar_scope *out)
{
    int n = 0;
    while (off < end) {
        uint8_t len = off + 2 <= end ? t[off + 1] : 0;
        if (len < DMAR_SCOPE_HEADER || off + len > end || (len - DMAR_SCOPE_HEADER) % 2)
            return -1;
        int hops = (len - DMAR_SCOPE_HEADER) / 2;
        if (hops > ACPI_DMAR_PATH_MAX || hops == 0)
            kprintf("acpi: DMAR device scope with a path of %d hops left out\n", hops);
        else if (n == ACPI_MAX_DMAR_SCOPES)
            kprintf("acpi: DMAR structure with more than %d device scopes; the rest left out\n",
                    ACPI_MAX_DMAR_SCOPES);
        else {
            struct acpi_dmar_scope *s = &out[n++];
            s->type = t[off];
            s->enum_id = t[off + 4];
            s->bus = t[off + 5];
            s->npath = (uint8_t)hops;
            for (int i = 0; i < hops; i++) {
                s->path[i][0] = t[off + DMAR_SCOPE_HEADER + 2 * i];
                s->path[i][1] = t[off + DMAR_SCOPE_HEADER + 2 * i + 1];
            }
        }
        off += len;
    }
    return n;
}

static void dmar_ignored(struct acpi_info *ai, const char *why, uint32_t off)
{
    kprintf("acpi: DMAR %s at offset %u; DMAR ignored: no DMA remapping\n", why, off);
    ai->has_dmar = 0;
    ai->dmar_bad = 1;
    ai->ndmar_units = ai->nrmrr = 0;
}

/* VT-d §8: the remapping units (DRHD) with the devices each names, and the
 * reserved regions (RMRR). Other structures (ATSR, RHSA, ANDD, SATC) are
 * skipped. A structure running past the table ignores the whole table: a
 * unit half read would leave devices untranslated that we think confined. */
static void parse_dmar(const struct sdt_header *h, struct acpi_info *ai)
{
    const uint8_t *t = (const uint8_t *)h;
    if (h->length < DMAR_HEADER_LEN) {
        dmar_ignored(ai, "shorter than its header", h->length);
        return;
    }
    ai->has_dmar = 1;
    ai->dmar_haw = (uint8_t)(t[36] + 1);
    ai->dmar_flags = t[37];
    for (uint32_t off = DMAR_HEADER_LEN; off < h->length;) {
        uint16_t type = off + 4 <= h->length ? get16(t + off) : 0;
        uint16_t len = off + 4 <= h->length ? get16(t + off + 2) : 0;
        if (len < 4 || off + len > h->length) {
            dmar_ignored(ai, "structure runs past the table's end", off);
            return;
        }
        int n = 0;
        if (type == DMAR_DRHD && len >= DMAR_DRHD_SCOPES) {
            if (ai->ndmar_units == ACPI_MAX_DMAR_UNITS) {
                dmar_ignored(ai, "has more remapping units than kept", off);
                return;
            }
            struct acpi_dmar_unit *u = &ai->dmar_unit[ai->ndmar_units++];
            u->include_pci_all = t[off + 4] & DMAR_INCLUDE_PCI_ALL;
            u->segment = get16(t + off + 6);
            u->base = get64(t + off + 8);
            n = u->nscopes = dmar_scopes(t, off + DMAR_DRHD_SCOPES, off + len, u->scope);
        } else if (type == DMAR_RMRR && len >= DMAR_RMRR_SCOPES) {
            if (ai->nrmrr < ACPI_MAX_RMRRS) {
                struct acpi_dmar_rmrr *r = &ai->rmrr[ai->nrmrr++];
                r->segment = get16(t + off + 6);
                r->base = get64(t + off + 8);
                r->limit = get64(t + off + 16);
                n = r->nscopes = dmar_scopes(t, off + DMAR_RMRR_SCOPES, off + len, r->scope);
            } else {
                kprintf("acpi: DMAR reserved region beyond the first %d left out\n",
                        ACPI_MAX_RMRRS);
            }
        }
        if (n < 0) {
            dmar_ignored(ai, "device scope runs past its structure", off);
            return;
        }
        off += len;
    }
}

/* Was the table at pa, which failed its checks, a DMAR? (Then the IOMMU
 * says it cannot confine anything, rather than that there is no IOMMU.) */
static int is_dmar(uint64_t pa)
{
    return reachable(pa, sizeof(struct sdt_header)) &&
           memcmp(((const struct sdt_header *)phys_ptr(pa, 4))->signature, "DMAR", 4) == 0;
}

static void parse_table(uint64_t pa, struct acpi_info *ai)
{
    const struct sdt_header *h = table_at(pa);
    if (!h) {
        ai->nbad++;
        if (is_dmar(pa))
            ai->dmar_bad = 1;
        return;
    }
    if (ai->ntables < ACPI_MAX_TABLES) {
        memcpy(ai->sig[ai->ntables], h->signature, 4);
        ai->sig[ai->ntables++][4] = '\0';
    }
    if (memcmp(h->signature, "APIC", 4) == 0)
        parse_madt(h, ai);
    else if (memcmp(h->signature, "MCFG", 4) == 0)
        parse_mcfg(h, ai);
    else if (memcmp(h->signature, "FACP", 4) == 0)
        parse_fadt(h, ai);
    else if (memcmp(h->signature, "HPET", 4) == 0)
        parse_hpet(h, ai);
    else if (memcmp(h->signature, "SRAT", 4) == 0)
        parse_srat(h, ai);
    else if (memcmp(h->signature, "SLIT", 4) == 0)
        parse_slit(h, ai);
    else if (memcmp(h->signature, "DMAR", 4) == 0)
        parse_dmar(h, ai);
}

/* The root table (§5.2.7 RSDT, §5.2.8 XSDT): its signature checked, not
 * only its checksum, since a wrong address can land on any valid table. */
static const struct sdt_header *root_at(uint64_t pa, int xsdt)
{
    const struct sdt_header *h = table_at(pa);
    const char *want = xsdt ? "XSDT" : "RSDT";
    if (h && memcmp(h->signature, want, 4) != 0) {
        kprintf("acpi: the %s address 0x%lx holds a '%.4s' table; skipped\n", want, pa,
                h->signature);
        return NULL;
    }
    return h;
}

/* The RSDP: the loader's copy (Multiboot2 tags 14, 15), else on BIOS
 * machines a scan. Sets kind as rsdp_valid() does; NULL if none is valid. */
static const struct rsdp *find_rsdp(const struct boot_info *bi, struct acpi_info *ai, int *kind)
{
    if (bi->rsdp_len >= RSDP_V1_LEN) {
        const struct rsdp *r = (const struct rsdp *)bi->rsdp;
        if ((*kind = rsdp_valid(r))) {
            ai->rsdp_pa = (uint64_t)(uintptr_t)r; /* where our copy is: informational */
            ai->rsdp_from_loader = 1;
            return r;
        }
        kprintf("acpi: the RSDP the boot loader passed is corrupt; scanning for another\n");
    }
    uint64_t pa = bi->firmware == FW_BIOS ? rsdp_scan() : 0;
    if (!pa) {
        kprintf("acpi: no valid RSDP; no cores, ECAM or ACPI power-off from ACPI\n");
        return NULL;
    }
    ai->rsdp_pa = pa;
    ai->rsdp_from_loader = 0;
    const struct rsdp *r = phys_ptr(pa, RSDP_V2_LEN);
    *kind = rsdp_valid(r);
    return r;
}

void acpi_parse(const struct boot_info *bi, struct acpi_info *ai)
{
    memset(ai, 0, sizeof(*ai));
    map_of = bi;
    slit = NULL;
    int kind = 0;
    const struct rsdp *rsdp = find_rsdp(bi, ai, &kind);
    if (!rsdp)
        return;
    ai->revision = rsdp->revision;
    memcpy(ai->oem, rsdp->oem_id, 6);
    if (ai->revision >= 2 && kind == 1)
        kprintf("acpi: RSDP extended checksum is wrong; using the RSDT\n");

    int entry = 4;
    const struct sdt_header *rt = NULL;
    if (kind == 2 && rsdp->xsdt_address) {
        entry = 8;
        rt = root_at(rsdp->xsdt_address, 1);
        if (!rt) {
            ai->nbad++; /* the XSDT */
            if (rsdp->rsdt_address)
                kprintf("acpi: falling back from the XSDT to the RSDT\n");
        }
    }
    if (!rt && rsdp->rsdt_address) {
        entry = 4;
        rt = root_at(rsdp->rsdt_address, 0);
        if (!rt)
            ai->nbad++;
    }
    if (!rt)
        return;
    ai->use_xsdt = entry == 8;
    const uint8_t *t = (const uint8_t *)rt;
    for (uint32_t off = sizeof(*rt); off + entry <= rt->length; off += entry)
        parse_table(entry == 8 ? get64(t + off) : get32(t + off), ai);
    resolve_slit(ai);
}
