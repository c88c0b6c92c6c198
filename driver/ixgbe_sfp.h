/*
 * driver/ixgbe_sfp.h - an 82599's SFP+ cage (the X520): the module read
 * over I2C and set up for 10 GbE (driver/ixgbe_sfp.c).
 */
#ifndef DRIVER_IXGBE_SFP_H
#define DRIVER_IXGBE_SFP_H

#include "driver/intel.h"

/* Identifies the module in the cage, writes the NVM's init sequence for it,
 * selects 10 GbE serial (SFI) and turns the laser on. 0 when the module is
 * set up; -1, said in a sentence, when there is none, it is not a 10 GbE
 * module ixmetal can drive, or the NVM or a semaphore fails (the port then
 * stays without link). */
int ixgbe_sfp_setup(struct intel_dev *d);

#endif
