/*
 * kernel/acpi.h - what ixmetal reads from the ACPI tables (ACPI 6.5):
 * the cores (MADT), PCI Express configuration space (MCFG), how to power
 * off or reset (FADT and the \_S5 object of the DSDT), and which memory and
 * cores make up each NUMA node (SRAT, SLIT), and where the DMA remapping
 * units (IOMMUs) are and which devices each translates (DMAR, Intel VT-d
 * spec rev 4.1 §8).
 */
#ifndef KERNEL_ACPI_H
#define KERNEL_ACPI_H

#include <stdint.h>

#include "kernel/bootinfo.h"

#define ACPI_MAX_CPUS 1024 /* the MADT's processors read; more are said and left out */
#define ACPI_MAX_MCFG 8
#define ACPI_MAX_TABLES 32

#define ACPI_MAX_NODES 16
#define ACPI_MAX_MEM_RANGES 64

/* A range of memory the SRAT gives to a node. */
struct acpi_mem_range {
    uint64_t base, len;
    int node;
};

#define ACPI_MAX_DMAR_UNITS 8
#define ACPI_MAX_DMAR_SCOPES 64 /* of each unit, and of each RMRR; more are said, left out */
#define ACPI_MAX_RMRRS 8
#define ACPI_DMAR_PATH_MAX 4 /* bridges deep; a longer path is left out, said */

/* VT-d §8.3.1, Table 9: a Device Scope's type. */
#define DMAR_SCOPE_ENDPOINT 1
#define DMAR_SCOPE_BRIDGE 2 /* a PCI sub-hierarchy: the bridge and all below it */
#define DMAR_SCOPE_IOAPIC 3
#define DMAR_SCOPE_HPET 4

/* A device a remapping structure names: a start bus, then (device,
 * function) hops through bridges, the last one the device itself. */
struct acpi_dmar_scope {
    uint8_t type, enum_id, bus, npath;
    uint8_t path[ACPI_DMAR_PATH_MAX][2]; /* device, function */
};

/* §8.3: a DMA-remapping hardware unit (DRHD). */
struct acpi_dmar_unit {
    uint64_t base; /* its register page */
    uint16_t segment;
    uint8_t include_pci_all; /* every device of the segment no other unit names */
    int nscopes;
    struct acpi_dmar_scope scope[ACPI_MAX_DMAR_SCOPES];
};

/* §8.4: a reserved memory region (RMRR): memory the firmware says devices
 * may reach for their own purposes (USB keyboard emulation, for one). */
struct acpi_dmar_rmrr {
    uint64_t base, limit; /* inclusive limit */
    uint16_t segment;
    int nscopes;
    struct acpi_dmar_scope scope[ACPI_MAX_DMAR_SCOPES];
};

/* Address space ids of a Generic Address Structure (§5.2.3.2, Table 5.1). */
#define ACPI_SPACE_MEMORY 0
#define ACPI_SPACE_IO 1

struct acpi_mcfg {
    uint64_t base; /* ECAM base address: bus 0 of this segment, even if bus_start > 0 */
    uint16_t segment;
    uint8_t bus_start, bus_end;
};

struct acpi_info {
    uint64_t rsdp_pa;     /* 0: no RSDP found; the rest is then empty */
    int rsdp_from_loader; /* 1: Multiboot2 tag; 0: found by scanning */
    uint8_t revision;
    char oem[7];
    int use_xsdt;
    int ntables;
    char sig[ACPI_MAX_TABLES][5]; /* tables that passed their checksum */
    int nbad;                     /* tables with a bad checksum or length, reported and skipped */

    int ncpus; /* enabled or online-capable processors in the MADT */
    uint32_t apic_id[ACPI_MAX_CPUS];
    uint32_t lapic_pa;

    int nmcfg;
    struct acpi_mcfg mcfg[ACPI_MAX_MCFG];

    int has_fadt;
    uint32_t smi_cmd;
    uint8_t acpi_enable;
    uint32_t pm1a_cnt, pm1b_cnt; /* I/O ports; 0 if absent */
    int has_s5;
    uint8_t slp_typa, slp_typb;  /* from \_S5 */
    uint32_t pm1a_evt, pm1b_evt; /* PM1 event blocks (status register first); 0 if absent */

    int has_reset;       /* the FADT gives a reset register (RESET_REG_SUP) in I/O or memory */
    uint8_t reset_space; /* ACPI_SPACE_MEMORY or ACPI_SPACE_IO */
    uint64_t reset_addr;
    uint8_t reset_value;

    uint64_t hpet_pa; /* HPET registers (memory space); 0 if no usable HPET table */

    /* NUMA, from the SRAT: nodes numbered 0.. in the order their proximity
     * domains first appear. nnodes is 0 without a usable SRAT: one node,
     * all memory and every core. */
    int nnodes;
    uint32_t node_domain[ACPI_MAX_NODES]; /* node n's proximity domain */
    int nmem;
    struct acpi_mem_range mem[ACPI_MAX_MEM_RANGES]; /* enabled memory affinity entries */
    int ncpu_aff;
    uint32_t cpu_aff_apic[ACPI_MAX_CPUS]; /* enabled processor affinity entries: */
    uint8_t cpu_aff_node[ACPI_MAX_CPUS];  /* an APIC id and its node */
    int has_slit;
    uint8_t distance[ACPI_MAX_NODES][ACPI_MAX_NODES]; /* SLIT: 10 = local, 0xFF unknown */

    /* VT-d, from the DMAR. has_dmar 0 without one; dmar_bad 1 when one was
     * there but failed its checksum or length (said, and skipped). */
    int has_dmar, dmar_bad;
    uint8_t dmar_haw;   /* host address width in bits (§8.1: the field + 1) */
    uint8_t dmar_flags; /* bit 0 INTR_REMAP, bit 1 X2APIC_OPT_OUT, bit 2 DMA_CTRL_PLATFORM_OPT_IN */
    int ndmar_units;
    struct acpi_dmar_unit dmar_unit[ACPI_MAX_DMAR_UNITS];
    int nrmrr;
    struct acpi_dmar_rmrr rmrr[ACPI_MAX_RMRRS];
};

/* The machine's, filled once by kmain(). */
extern struct acpi_info acpi;

/* The node of the core with this APIC id: 0 without an SRAT, or if the
 * SRAT does not name it. */
int acpi_node_of_apic(const struct acpi_info *ai, uint32_t apic_id);

/* The node of the memory at pa: -1 if no SRAT memory range holds it (0
 * for any address without an SRAT). */
int acpi_node_of_addr(const struct acpi_info *ai, uint64_t pa);

/* The highest APIC id the MADT lists (0 if none). */
static inline uint32_t acpi_max_apic_id(const struct acpi_info *ai)
{
    uint32_t max = 0;
    for (int i = 0; i < ai->ncpus; i++)
        if (ai->apic_id[i] > max)
            max = ai->apic_id[i];
    return max;
}

/* Parses everything reachable from the RSDP into *ai. A table whose checksum
 * or length is wrong is reported on the console and skipped. */
void acpi_parse(const struct boot_info *bi, struct acpi_info *ai);

#endif
