/*
 * apps/info.c - `app=info`: what the kernel found, in detail, then power off.
 * The boot banner already named the loader, cores and PCI functions; this
 * adds the memory map, the page sizes, each core's PAT, the ACPI tables and
 * a check that DMA memory from the top of RAM (above 4 GiB when there is RAM
 * there) can be written and read.
 */
#include "apps/apps.h"
#include "apps/ports.h"

#include "kernel/acpi.h"
#include "kernel/bootinfo.h"
#include "kernel/cpu.h"
#include "kernel/iommu.h"
#include "kernel/kprintf.h"
#include "kernel/mem.h"
#include "kernel/paging.h"
#include "kernel/smp.h"

#define CHECK_BYTES (2u << 20)

static const char *type_name(uint32_t t)
{
    static const char *const names[] = { "?",        "available", "reserved", "acpi reclaim",
                                         "acpi nvs", "bad" };
    return t < sizeof(names) / sizeof(names[0]) ? names[t] : "?";
}

static void print_memory_map(void)
{
    for (int i = 0; i < boot.nmap; i++)
        kprintf("memmap 0x%016lx-0x%016lx %s\n", boot.map[i].base,
                boot.map[i].base + boot.map[i].len - 1, type_name(boot.map[i].type));
}

static void print_acpi(void)
{
    kprintf("acpi tables:");
    for (int i = 0; i < acpi.ntables; i++)
        kprintf(" %s", acpi.sig[i]);
    kprintf("%s\n", acpi.ntables ? "" : " none");
    if (acpi.nbad)
        kprintf("acpi: %d table(s) skipped for a bad checksum or length\n", acpi.nbad);
    for (int i = 0; i < acpi.nmcfg; i++)
        kprintf("acpi mcfg: segment %u buses %u-%u ecam 0x%lx\n", acpi.mcfg[i].segment,
                acpi.mcfg[i].bus_start, acpi.mcfg[i].bus_end, acpi.mcfg[i].base);
    if (acpi.has_s5)
        kprintf("acpi s5: pm1a_cnt 0x%x slp_typ %u\n", acpi.pm1a_cnt, acpi.slp_typa);
}

/* The NUMA nodes (SRAT): each one's memory ranges and free memory, its
 * running cores, and the SLIT's distances from it. */
static void print_numa(void)
{
    if (!acpi.nnodes) {
        kprintf("numa: no SRAT: one node, all memory and every core\n");
        return;
    }
    for (int n = 0; n < acpi.nnodes; n++) {
        kprintf("numa: node %d (proximity domain %u): memory", n, acpi.node_domain[n]);
        int ranges = 0;
        for (int i = 0; i < acpi.nmem; i++)
            if (acpi.mem[i].node == n)
                kprintf("%s 0x%lx-0x%lx", ranges++ ? "," : "", acpi.mem[i].base,
                        acpi.mem[i].base + acpi.mem[i].len - 1);
        kprintf("%s", ranges ? "" : " none");
        kprintf(", %lu MiB free; cores", mem_node_free_bytes(n) >> 20);
        int cores = 0;
        for (int c = 0; c < smp_cores(); c++)
            if (acpi_node_of_apic(&acpi, smp_apic_id(c)) == n) {
                kprintf(" %d", c);
                cores++;
            }
        kprintf("%s", cores ? "" : " none");
        if (acpi.has_slit) {
            kprintf("; distances");
            for (int m = 0; m < acpi.nnodes; m++)
                kprintf(" %u", acpi.distance[n][m]);
        }
        kprintf("\n");
    }
}

/* Takes a block from the allocator (top of RAM first) and checks every
 * 64-bit word holds its own address. */
static int check_dma_memory(void)
{
    uint64_t *p = dma_alloc(CHECK_BYTES, 4096);
    if (!p) {
        kprintf("memcheck: could not allocate %u KiB\n", CHECK_BYTES / 1024);
        return -1;
    }
    uint64_t n = CHECK_BYTES / sizeof(uint64_t), bad = 0;
    for (uint64_t i = 0; i < n; i++)
        ((volatile uint64_t *)p)[i] = (uint64_t)(uintptr_t)&p[i] ^ 0x5a5a5a5a5a5a5a5aull;
    for (uint64_t i = 0; i < n; i++)
        bad += ((volatile uint64_t *)p)[i] != ((uint64_t)(uintptr_t)&p[i] ^ 0x5a5a5a5a5a5a5a5aull);
    kprintf("memcheck: %u KiB at 0x%lx: %s\n", CHECK_BYTES / 1024, (uint64_t)(uintptr_t)p,
            bad ? "MISMATCH" : "ok");
    return bad ? -1 : 0;
}

static volatile uint64_t *pat_of; /* smp_cores() of them */

static void read_pat(void *arg)
{
    pat_of[(int)(intptr_t)arg] = rdmsr(MSR_IA32_PAT);
}

/* IA32_PAT as each running core reads it: kernel/cpu.h's value (entry 1
 * write-combining) on every one, which the SDM requires. */
static void print_pat(void)
{
    if (!cpu_pat) {
        kprintf("pat: none (CPUID 01h EDX.PAT is 0): the framebuffer is mapped uncached\n");
        return;
    }
    pat_of = dma_alloc((size_t)smp_cores() * sizeof(*pat_of), 64);
    if (!pat_of) {
        kprintf("pat: no memory to gather %d cores' PATs\n", smp_cores());
        return;
    }
    for (int core = 0; core < smp_cores(); core++) {
        enum smp_call_result r = smp_call(core, read_pat, (void *)(intptr_t)core, CORE_ANSWER_NS);
        if (r == SMP_CALL_LATE)
            kprintf("pat: core %d did not answer within 1 s\n", core);
        if (r != SMP_CALL_DONE)
            continue; /* NOT_STARTED: smp_run said why */
        kprintf("pat: core %d 0x%016lx%s\n", core, pat_of[core],
                pat_of[core] == cpu_pat ? "" : " (not what the kernel set)");
    }
}

int info_main(const struct app_args *args)
{
    (void)args;
    print_memory_map();
    uint64_t g1, m2, k4;
    paging_count(&g1, &m2, &k4);
    kprintf("paging: %lu x 1 GiB, %lu x 2 MiB, %lu x 4 KiB pages\n", g1, m2, k4);
    print_pat();
    print_acpi();
    print_numa();
    int ok = check_dma_memory() == 0;
    int nics = ports_probe(1);
    if (nics >= 0)
        kprintf("nics: %d started\n", nics);
    iommu_print(); /* the units, and what each NIC may reach */
    return ok && nics >= 0 ? 0 : 1;
}
