/*
 * apps/selftest.h - app=selftest's parts, for the host tests (apps/selftest.c).
 */
#ifndef APPS_SELFTEST_H
#define APPS_SELFTEST_H

#include <stdint.h>

#include "driver/nic.h"

#define SELFTEST_FRAMES 1000

/* Tests one port, opened in MAC loopback (nic_open_loopback): registers,
 * frames sent and received, then stops it; prints "selftest <pci>: PASS
 * ..." or "... FAIL <step>: <why>". Returns 0 if it passed. */
int selftest_port(struct nic *nic, uint32_t frames);

#endif
