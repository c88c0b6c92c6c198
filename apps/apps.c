/*
 * apps/apps.c - the app table.
 */
#include "apps/apps.h"

const struct app apps[] = {
    { "info", "print the machine: memory map, ACPI, cores, PCI, NICs", info_main },
    { "fwd", "forward frames between two ports, both ways", fwd_main },
    { "pktgen", "send UDP frames on the first port, count what comes back", pktgen_main },
    { "clock", "print the time since boot every second, until duration= ends it", clock_main },
    { "fault", "fault on purpose (fault=), to show the report and what on_fault= does",
      fault_main },
    { "selftest",
      "first boot on real hardware, no cables: register and MAC loopback test of "
      "each Intel 10 GbE port",
      selftest_main },
};
const int napps = sizeof(apps) / sizeof(apps[0]);

struct app_config app_config = { "", 32, FWD_IO,    60,         0,  0,
                                 1,  0,  TRACE_OFF, FAULT_PAGE, "", DMA_TEST_OFF };

static const char *fwd_mode_name(int i)
{
    static const char *const names[] = { "io", "macswap", "mac" };
    return i >= 0 && i < 3 ? names[i] : 0;
}

static const char *trace_name(int i)
{
    static const char *const names[] = { "off", "regs", "rings" };
    return i >= 0 && i < 3 ? names[i] : 0;
}

static const char *fault_kind_name(int i)
{
    static const char *const names[] = { "page", "panic" };
    return i >= 0 && i < 2 ? names[i] : 0;
}

static const char *dma_test_name(int i)
{
    static const char *const names[] = { "off", "rx" };
    return i >= 0 && i < 2 ? names[i] : 0;
}

const struct opt app_options[] = {
    { "ports", "A,B", "the NICs by PCI address (pktgen sends on the first)",
      "fwd: the first two found; pktgen: all", OPT_TEXT, 0, sizeof(app_config.ports), 0,
      app_config.ports },
    { "batch", "N", "frames per receive and send call", "32", OPT_UINT, 1, 256, 0,
      &app_config.batch },
    { "mode", "MODE", "fwd: how frames are rewritten", "io", OPT_NAME, 0, 0, fwd_mode_name,
      &app_config.mode },
    { "size", "BYTES", "pktgen: frame size without FCS", "60", OPT_UINT, 60, 1514, 0,
      &app_config.size },
    { "rate", "PPS", "pktgen: frames per second, 0 = as fast as it can", "0", OPT_UINT, 0,
      100000000, 0, &app_config.rate },
    { "count", "N", "pktgen: frames to send, 0 = no limit", "0", OPT_UINT, 0, UINT64_MAX / 2, 0,
      &app_config.count },
    { "flows", "N", "pktgen: distinct UDP source ports (from 1024)", "1", OPT_UINT, 1, 64512, 0,
      &app_config.flows },
    { "idle", "US", "fwd, pktgen: after a pass that moves no frames, halt up to US microseconds",
      "0 (poll without pause)", OPT_UINT, 0, 100000, 0, &app_config.idle },
    { "trace", "WHAT", "regs: print every register access of the Intel NIC drivers; rings: each queue's "
      "rings beside the rates",
      "off",
      OPT_NAME, 0, 0, trace_name, &app_config.trace },
    { "numa", "N,M", "each port's NUMA node (its rings, pools and worker cores), in ports= order",
      "0 for every port", OPT_TEXT, 0, sizeof(app_config.numa), 0, app_config.numa },
    { "fault", "KIND", "app=fault: a write to an unmapped page, or a failed check (panic)", "page",
      OPT_NAME, 0, 0, fault_kind_name, &app_config.fault },
    { "dma_test", "WHAT",
      "test hook: rx points one receive descriptor of the first Intel port at a page outside "
      "its memory (the IOMMU blocks it)",
      "off", OPT_NAME, 0, 0, dma_test_name, &app_config.dma_test },
};
const int napp_options = sizeof(app_options) / sizeof(app_options[0]);

const char *app_name(int i)
{
    return i >= 0 && i < napps ? apps[i].name : 0;
}
