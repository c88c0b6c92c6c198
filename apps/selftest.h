/*
 * apps/selftest.h - app=selftest's parts, for the host tests (apps/selftest.c).
 */
#ifndef APPS_SELFTEST_H
#define APPS_SELFTEST_H

#include <stdint.h>

#include "kernel/pci.h"

#define SELFTEST_FRAMES 1000

/* Tests one port: bring-up in MAC loopback, registers, frames sent and
 * received; prints "selftest <pci>: PASS ..." or "... FAIL <step>: <why>".
 * Returns 0 if it passed. */
int selftest_port(struct pci_dev *d, uint32_t frames);

/* If set, called once per pass of the loopback loop: the host tests run
 * the device model there. NULL in the kernel. */
extern void (*selftest_idle)(void);

#endif
