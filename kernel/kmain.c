/*
 * kernel/kmain.c - the boot, in order. boot/boot.S arrives here in 64-bit
 * mode on the boot identity map with the loader's magic and information.
 */
#include <stdint.h>

#include "apps/apps.h"
#include "kernel/acpi.h"
#include "kernel/bootinfo.h"
#include "kernel/cmdline.h"
#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/iommu.h"
#include "kernel/kprintf.h"
#include "kernel/mem.h"
#include "kernel/paging.h"
#include "kernel/pci.h"
#include "kernel/power.h"
#include "kernel/lapic.h"
#include "kernel/smp.h"
#include "kernel/string.h"
#include "kernel/trap.h"
#include "kernel/tsc.h"

#define IXMETAL_VERSION "0.1"
#define DURATION_MAX_S (365ull * 24 * 3600)

struct boot_info boot;
struct acpi_info acpi;

/* What the command line chose. */
static int app_index, console = CONSOLE_BOTH - 1; /* an index of console_choice() */
static int end_how = POWER_END_OFF;               /* an index of power_end_choice() */
static int fault_how = -1; /* an index of power_fault_choice(); -1: as end= says */
static uint64_t duration_s, cores_wanted;
static struct iommu_options iommu_opt = { IOMMU_AUTO, IOMMU_TEST_OFF };

static const struct opt kernel_options[] = {
    { "app", "NAME", "what to run", "info", OPT_NAME, 0, 0, app_name, &app_index },
    { "duration", "SECONDS", "stop the app after this long; 0 = when it is done", "0", OPT_UINT, 0,
      DURATION_MAX_S, 0, &duration_s },
    { "cores", "N", "how many cores the app uses, the boot core included; 0 = every one running",
      "0", OPT_UINT, 0, SMP_MAX_CPUS, 0, &cores_wanted },
    { "console", "WHERE", "where kernel output goes", "both", OPT_NAME, 0, 0, console_choice,
      &console },
    { "end", "HOW", "power off when the app is done, or halt and leave its output on the screen",
      "off", OPT_NAME, 0, 0, power_end_choice, &end_how },
    { "on_fault", "HOW",
      "after an exception or panic, once reported and the other cores stopped: power off "
      "(failed status), halt, or reboot",
      "as end= says", OPT_NAME, 0, 0, power_fault_choice, &fault_how },
    { "iommu", "MODE",
      "confine each NIC's DMA to its own rings and buffers with the IOMMU (VT-d); auto: where "
      "the ACPI DMAR lists a unit",
      "auto", OPT_NAME, 0, 0, iommu_choice, &iommu_opt.mode },
    { "iommu_test", "WHAT",
      "test hook: preboot turns the IOMMU's translation on first, as a firmware with pre-boot "
      "DMA protection leaves it",
      "off", OPT_NAME, 0, 0, iommu_test_choice, &iommu_opt.test },
};
#define NKERNEL_OPTIONS ((int)(sizeof(kernel_options) / sizeof(kernel_options[0])))
#define MAX_OPTIONS 32

/* The kernel's keys, then the apps' (apps/apps.c). */
static struct opt options[MAX_OPTIONS];
static int noptions;

static void gather_options(void)
{
    noptions = 0;
    for (int i = 0; i < NKERNEL_OPTIONS; i++)
        options[noptions++] = kernel_options[i];
    for (int i = 0; i < napp_options && noptions < MAX_OPTIONS; i++)
        options[noptions++] = app_options[i];
}

static uint32_t madt_apic_id(int i)
{
    return acpi.apic_id[i];
}

/* " 0 1 4-287": n APIC ids in order, a run of three or more consecutive
 * ones as a range, so a server's hundreds of cores fit a line. */
static void print_ids(int n, uint32_t (*id)(int))
{
    for (int i = 0; i < n;) {
        int j = i;
        while (j + 1 < n && id(j + 1) == id(j) + 1)
            j++;
        if (j - i >= 2) {
            kprintf(" %u-%u", id(i), id(j));
            i = j + 1;
        } else {
            kprintf(" %u", id(i));
            i++;
        }
    }
}

static void print_banner(uint64_t init_us)
{
    kprintf("ixmetal: %s boot on %s firmware\n", boot_protocol_name(boot.protocol),
            boot_firmware_name(boot.firmware));
    kprintf("loader: %s\n", boot.loader[0] ? boot.loader : "(no name given)");
    kprintf("cmdline: %s%s\n", boot.cmdline, boot.cmdline_truncated ? " (truncated)" : "");
    kprintf("screen: %s\n", console_screen_describe());
    uint64_t top = 0;
    for (int i = 0; i < boot.nmap; i++)
        if (boot.map[i].type == MEM_AVAILABLE)
            top = boot.map[i].base + boot.map[i].len;
    kprintf("memory: %lu MiB usable, top 0x%lx, %lu MiB free\n",
            memmap_total(boot.map, boot.nmap, MEM_AVAILABLE) >> 20, top, mem_free_bytes() >> 20);
    if (boot.map_dropped)
        kprintf("memory: %d memory map entries beyond the first %d were ignored\n",
                boot.map_dropped, MEMMAP_MAX);
    if (acpi.ncpus) {
        kprintf("cpus: %d (apic ids", acpi.ncpus);
        print_ids(acpi.ncpus, madt_apic_id);
        kprintf(")\n");
    } else {
        kprintf("cpus: 1 (no MADT; only the boot core is known)\n");
    }
    kprintf("smp: %d core%s running (apic ids", smp_cores(), smp_cores() == 1 ? "" : "s");
    print_ids(smp_cores(), smp_apic_id);
    kprintf(")%s\n", smp_missing() ? ", some did not answer (above)" : "");
    kprintf("tsc: %lu MHz from %s\n", tsc_hz() / 1000000, tsc_source());
    kprintf("lapic: %s\n", lapic_describe());
    if (acpi.rsdp_pa)
        kprintf("acpi: revision %u, %s, %d tables, oem '%s'\n", acpi.revision,
                acpi.use_xsdt ? "xsdt" : "rsdt", acpi.ntables, acpi.oem);
    kprintf("pci: %d functions via %s\n", pci_count(), pci_method());
    iommu_print_banner();
    kprintf("init: %lu us\n", init_us);
}

/* What read_cmdline() found, reported by run_from_cmdline() after the banner. */
static int cmdline_result;
static char cmdline_err[200];

/* A bad command line runs no app, but ends as its end= says wherever that
 * stands (cmdline_parse stops at the first mistake): after a typo in an
 * edited boot entry, end=halt still keeps the error on a real box's screen. */
static void read_end_anyway(void)
{
    for (const char *p = boot.cmdline; *p;) {
        size_t n = 0;
        while ((unsigned char)p[n] > ' ')
            n++;
        char tok[16], err[8];
        if (n < sizeof(tok) && strncmp(p, "end=", 4) == 0) {
            memcpy(tok, p, n);
            tok[n] = '\0';
            cmdline_parse(tok, kernel_options, NKERNEL_OPTIONS, err, sizeof(err));
        }
        p += n + (p[n] != '\0');
    }
}

/* The command line is read before the screen starts, which console= decides. */
static void read_cmdline(void)
{
    gather_options();
    cmdline_result =
        cmdline_parse(boot.cmdline, options, noptions, cmdline_err, sizeof(cmdline_err));
    if (boot.cmdline_truncated) { /* its end is lost: running what is left could mislead */
        ksnprintf(cmdline_err, sizeof(cmdline_err), "cmdline: longer than %d bytes; not used",
                  BOOT_CMDLINE_MAX - 1);
        cmdline_result = CMDLINE_ERROR;
    }
    if (cmdline_result == CMDLINE_ERROR) { /* partly applied: show the error everywhere */
        console = CONSOLE_BOTH - 1;
        read_end_anyway();
    }
    trap_on_fault(fault_how >= 0 ? fault_how : end_how);
}

/* Returns the app's exit status, or EXIT_BAD_CMDLINE without starting one. */
static int run_from_cmdline(void)
{
    int r = cmdline_result;
    if (r == CMDLINE_ERROR) {
        kprintf("%s\n", cmdline_err);
        cmdline_usage(options, noptions);
        return EXIT_BAD_CMDLINE;
    }
    if (r == CMDLINE_HELP) {
        cmdline_usage(options, noptions);
        return EXIT_OK;
    }
    const struct app *app = &apps[app_index];
    struct app_args args = {
        .deadline_ns = duration_s ? now_ns() + duration_s * 1000000000ull : 0,
        .cores = cores_wanted && (int)cores_wanted < smp_cores() ? (int)cores_wanted : smp_cores(),
    };
    kprintf("app: %s\n", app->name);
    int status = app->main(&args);
    kprintf("app: %s %s\n", app->name, status == 0 ? "done" : "failed");
    return status == 0 ? EXIT_OK : EXIT_APP_FAILED;
}

/* Copies out what the loader passed; anything but Multiboot cannot go on. */
static void read_boot_info(uint32_t magic, uint32_t info_pa)
{
    if (bootinfo_parse(magic, info_pa, &boot) != 0) {
        kprintf("ixmetal: not started by a Multiboot loader (magic 0x%x); halting\n", magic);
        cpu_halt_forever();
    }
}

void kmain(uint32_t magic, uint32_t info_pa)
{
    console_init();                 // COM1, so every step after this can report
    cpu_init();                     // GDT, TSS and IDT: every exception is reported
    read_boot_info(magic, info_pa); // loader, command line, memory map, RSDP, screen
    read_cmdline();                 // the options (on_fault= at once); mistakes: after the banner
    mem_init(&boot);                // free RAM from the memory map
    paging_init(&boot);             // identity map: RAM write-back, holes below 4 GiB uncached
    console_start(&boot, console);  // the screen too, unless console=serial
    acpi_parse(&boot, &acpi);       // RSDP -> MADT (cores), MCFG (ECAM), FADT (power-off)
    tsc_init(&acpi);                // TSC rate: CPUID 15h/16h, else the PIT, else the HPET
    lapic_init(&acpi);              // local APIC, in x2APIC mode if ids need it; its timer
    smp_init(&boot, &acpi, 0);      // every other core: INIT-SIPI-SIPI, then halted until used
    pci_init(&acpi);                // every function, BARs sized and mapped uncached
    iommu_init(&acpi, &iommu_opt);  // VT-d units on, all DMA blocked until its NIC opens
    print_banner(now_ns() / 1000);  // what was found, and how long it took
    pci_print_all();                // one line per PCI function, then its BARs
    power_end(&acpi, end_how, run_from_cmdline()); // the app, then off or halted (end=)
}
