/*
 * apps/apps.c - the app table.
 */
#include "apps/apps.h"

const struct app apps[] = {
    { "info", "print the machine: memory map, ACPI, cores, PCI", info_main },
    { "clock", "print the time since boot every second, until duration= ends it", clock_main },
    { "fault", "take a page fault on purpose, to show the exception report", fault_main },
};
const int napps = sizeof(apps) / sizeof(apps[0]);

const char *app_name(int i)
{
    return i >= 0 && i < napps ? apps[i].name : 0;
}
