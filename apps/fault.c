/*
 * apps/fault.c - `app=fault`: a deliberate page fault, so the exception
 * report can be seen (and tested) without a bug to trigger it.
 */
#include "apps/apps.h"

#include "kernel/kprintf.h"

/* Canonical, far above any RAM or BAR QEMU or OVMF place: never mapped. */
#define UNMAPPED_ADDRESS ((uint64_t)0x00007fff00000000)

int fault_main(const struct app_args *args)
{
    (void)args;
    kprintf("fault: writing to 0x%lx, which is not mapped\n", UNMAPPED_ADDRESS);
    *(volatile uint32_t *)(uintptr_t)UNMAPPED_ADDRESS = 0xdead;
    kprintf("fault: the write did not fault\n");
    return 1;
}
