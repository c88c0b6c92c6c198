/*
 * tests/model/ixgbe_model.h - a behavioural model of one port of the Intel
 * 82599 10 GbE controller, for host-side tests of a driver. Written from the
 * Intel 82599 10 GbE Controller Datasheet, revision 3.3; sections (§) below
 * are that document's. Never part of the kernel image.
 *
 * What it is: BAR0 as ixgbe_model_read/ixgbe_model_write (32-bit accesses
 * at byte offsets) decoding every address the 82599 decodes, its aliases
 * included (tests/model/ixgbe_regs.def), a register file with reset values
 * and access types, the timed parts of bring-up (CTRL.RST, EEC.ARD,
 * RDRXCTL.DMAIDONE, LINKS) against a clock the test supplies, an X520's SFP+
 * cage (the module on the I2C bus, the NVM's init sequences, the
 * semaphores shared with firmware), and the data path: advanced (and legacy) receive and
 * transmit descriptors in host memory, L2 filtering, receive-side scaling
 * over up to 16 receive queues (§7.1.2.8: the Toeplitz hash, RETA, the hash
 * and RSS type in the write-back), clear-on-read statistics, MAC loopback
 * and ports cabled together. In strict mode every step a driver takes
 * against the datasheet's rules is recorded with the register, the queue
 * and the rule broken (its section).
 *
 * Threads: the driver may be one thread or several, each owning queue
 * pairs and writing only their RDT and TDT (and reading their RDH and TDH);
 * ixgbe_model_step() and ixgbe_model_inject() may run on yet another. RDT,
 * TDT, RDH and TDH are C11 atomics (the writer stores with release, the
 * reader loads with acquire) and take no lock; the model writes a
 * descriptor's write-back fields before its DD bit, with release ordering,
 * and moves TDH past a transmitted frame only after its DD. Every other
 * register access takes one lock shared by all models (cabled ports deliver
 * into each other under it). Callbacks (sink, on_violation) run under that
 * lock: they may call ixgbe_model_inject, not ixgbe_model_step.
 */
#ifndef TESTS_MODEL_IXGBE_MODEL_H
#define TESTS_MODEL_IXGBE_MODEL_H

#include <stdbool.h>
#include <stdint.h>

/* Receive and transmit queues that move frames: the 16 that RSS alone can
 * reach (§7.1.2.8; queue registers exist for all 128 RX and 128 TX queues,
 * plain storage beyond these; enabling one beyond these is a violation). */
#define IXGBE_MODEL_QUEUES 16
/* A delay that never ends: a reset that never clears, a link that never comes up. */
#define IXGBE_MODEL_NEVER UINT64_MAX
/* Violation messages kept (the most recent). */
#define IXGBE_MODEL_LOG 16
/* The largest frame the model carries, without FCS (§1: jumbo frames up to 15.5 KB). */
#define IXGBE_MODEL_MAX_FRAME 16384

/* What is in the port's SFP+ cage, read through I2CCTL at I2C address 0xA0
 * (SFF-8472's serial ID: identifier 0x03, the 10G and 1G compliance codes at
 * bytes 3 and 6, the cable technology at byte 8, byte 60 for active cables).
 * An X520 (an 82599 with SFP+ cages) gets link only once the driver has set
 * the module up (tests/model/ixgbe_model.c, "SFP+"). */
enum ixgbe_model_sfp {
    IXGBE_MODEL_NO_CAGE,       /* not an SFP+ board (KX4, KR, backplane): no module needed */
    IXGBE_MODEL_SFP_EMPTY,     /* a cage with nothing in it: nothing answers, no link */
    IXGBE_MODEL_SFP_SR,        /* 10GBASE-SR optics */
    IXGBE_MODEL_SFP_LR,        /* 10GBASE-LR optics */
    IXGBE_MODEL_SFP_SR_DUAL,   /* 10GBASE-SR and 1000BASE-SX: rate select on SDP5 */
    IXGBE_MODEL_SFP_DA,        /* passive direct-attach copper */
    IXGBE_MODEL_SFP_DA_ACTIVE, /* active direct-attach, limiting */
    IXGBE_MODEL_SFP_1G_T,      /* 1000BASE-T: no 10 GbE, never links here */
};

struct ixgbe_model_config {
    uint8_t mac[6];                              /* loaded into RAL(0)/RAH(0) at EEC.ARD */
    bool strict;                                 /* record protocol violations */
    uint64_t (*now_ns)(void);                    /* the test's clock; NULL: time stands at 0 */
    bool (*dma_ok)(uint64_t addr, uint64_t len); /* NULL: all memory is DMA memory */
    /* Delays, each from the end of the last reset (link_ns also from an AUTOC
     * Restart_AN or a CTRL.LRST); IXGBE_MODEL_NEVER: never. reset_ns is from
     * the CTRL.RST write to the bit reading 0. */
    uint64_t reset_ns, eeprom_ns, dmainit_ns, link_ns;
    uint64_t queue_ns; /* RXDCTL/TXDCTL.ENABLE reads 1 this long after being set */
    /* Bit n set: RXDCTL(n).ENABLE (rx_never) or TXDCTL(n).ENABLE (tx_never)
     * never reads 1 once set, as a queue whose enable does not complete. */
    uint32_t rx_never, tx_never;
    /* STATUS.PCIE_MASTER_ENABLE never clears after CTRL.PCIE_MASTER_DISABLE, as
     * on a port with flow control or the link down (82599 specification update,
     * clarification 9): a driver must then issue two software resets. */
    bool master_stuck;
    enum ixgbe_model_sfp sfp; /* IXGBE_MODEL_NO_CAGE: the link comes up as before */
    uint8_t lan_id;           /* STATUS.LAN_ID: the port's function, 0 or 1 */
    /* Each cache line the model writes as DMA (frames, receive write-backs,
     * transmit DD) is flushed from the CPU caches (CLFLUSH) once written, as
     * a device's memory write leaves it on a platform without DDIO (Intel
     * Data Direct I/O, which writes into the last-level cache instead): the
     * driver's next read of it goes to memory. For make bench's cycles;
     * x86 hosts only. */
    bool dma_evicts;
    void (*on_violation)(void *ctx, const char *msg); /* optional, strict mode */
    void *ctx;
};

struct ixgbe_model;

struct ixgbe_model *ixgbe_model_new(const struct ixgbe_model_config *cfg);
void ixgbe_model_free(struct ixgbe_model *m);

/* A 32-bit BAR0 read or write at a byte offset. */
uint32_t ixgbe_model_read(struct ixgbe_model *m, uint32_t offset);
void ixgbe_model_write(struct ixgbe_model *m, uint32_t offset, uint32_t v);

/* Does the pending DMA work once: transmits what TDT allows on every enabled
 * queue and delivers each frame (to the cabled peer's RX, to this port's RX
 * in loopback, or to the sink). Returns the number of frames transmitted. */
unsigned ixgbe_model_step(struct ixgbe_model *m);

/* a's TX arrives at b's RX and back. A port is cabled to at most one other. */
void ixgbe_model_cable(struct ixgbe_model *a, struct ixgbe_model *b);

/* A device that lies: the advanced receive write-backs of the next `frames`
 * frames placed (their last descriptor) say what no 82599 would, the
 * buffer itself written as usual. */
enum ixgbe_model_lie {
    IXGBE_MODEL_LIE_LENGTH = 1, /* PKT_LEN twice the buffer size (SRRCTL.BSIZEPACKET) */
    IXGBE_MODEL_LIE_NO_EOP,     /* EOP clear on a frame that fits its buffer */
};
void ixgbe_model_rx_lie(struct ixgbe_model *m, enum ixgbe_model_lie lie, unsigned frames);
/* A hung transmit queue, as after an internal error: enabled TX queue
 * `queue` stops sending (TDH stays, frames wait behind it) until the driver
 * disables it (TXDCTL.ENABLE cleared); enabled again, it works. */
void ixgbe_model_freeze_tx(struct ixgbe_model *m, uint32_t queue);
/* The cable pulled out (in false) or put back (in true). Out: LINKS.Link_Up
 * reads 0 at once, here and on a cabled peer; transmit stops with the
 * frames waiting in the rings (TDH stays), and nothing arrives (inject
 * returns false, no counter moves). Back: the link is up at once (the
 * auto-negotiation delay is not timed again) and the rings drain. */
void ixgbe_model_set_cable(struct ixgbe_model *m, bool in);
/* A frame from the wire (without FCS) into this port's receive path. Returns
 * true if it was placed in an RX queue. */
bool ixgbe_model_inject(struct ixgbe_model *m, const void *frame, uint32_t len);

/* Where this port's transmitted frames go when not cabled and not in loopback. */
void ixgbe_model_set_sink(struct ixgbe_model *m,
                          void (*sink)(void *ctx, const void *frame, uint32_t len), void *ctx);

/* Strict mode: how many violations so far, the most recent message, and the
 * i-th most recent (0 = latest; NULL past IXGBE_MODEL_LOG or the count). */
/* How many receive and transmit queues have ENABLE set (whether or not it
 * reads 1 yet): 0 once a driver has turned every queue off. */
unsigned ixgbe_model_queues_enabled(const struct ixgbe_model *m);

unsigned ixgbe_model_violations(const struct ixgbe_model *m);
const char *ixgbe_model_last_violation(const struct ixgbe_model *m);
const char *ixgbe_model_violation(const struct ixgbe_model *m, unsigned i);
void ixgbe_model_clear_violations(struct ixgbe_model *m);

/* Test-side peeks that do not clear statistics: totals since creation.
 * Datasheet counters: "GPRC", "BPRC", "MPRC", "GPTC", "BPTC", "MPTC", "GORC",
 * "GOTC" (octets include the 4-byte FCS), "MPC", "QPRDC" (all 16 of them
 * added up), "RUC", "ROC", "TPR", "TPT".
 * The model's own: "RX_OFF" (frames that arrived with RXCTRL.RXEN clear or
 * SECRXCTRL.RX_DIS set, which no datasheet counter counts), "FILTERED"
 * (failed the L2 filter), "TX_DROPPED" (frames not sent: a bad descriptor).
 * An unknown name returns UINT64_MAX. */
uint64_t ixgbe_model_counter(const struct ixgbe_model *m, const char *name);

/* Test-side: the register the 82599 decodes at a BAR0 offset, named as
 * tests/model/ixgbe_regs.def names it, and its instance (an alias gives the
 * instance it reaches); NULL where the 82599 decodes nothing. *special is
 * set when the model gives the register behaviour beyond its access type
 * (a self-clearing bit, a computed status, a queue, a rule to check). */
const char *ixgbe_model_decode(uint32_t offset, uint32_t *instance, bool *special);

#ifdef IXGBE_MODEL_REGISTERS
/*
 * The registers the model implements, named as the datasheet names them.
 * The model and its own unit test define IXGBE_MODEL_REGISTERS; a driver's
 * test uses the driver's register header instead.
 */
/* General control and status, §8.2.3.1 */
#define CTRL 0x00000 /* Device Control, RW, §8.2.3.1.1 */
#define CTRL_PCIE_MASTER_DISABLE (1u << 2)
#define CTRL_LRST (1u << 3) /* Link Reset, self-clearing */
#define CTRL_RST (1u << 26) /* Device Reset, self-clearing */
#define STATUS 0x00008      /* Device Status, RO, §8.2.3.1.2 */
#define STATUS_LAN_ID_SHIFT 2 /* LAN ID, bits 3:2 */
#define STATUS_PCIE_MASTER_ENABLE (1u << 19)
#define ESDP 0x00020 /* Extended SDP Control, RW, §8.2.3.1.4 */
#define ESDP_SDP2 (1u << 2)        /* X520: module absent (input) */
#define ESDP_SDP3 (1u << 3)        /* X520: laser off (TX_DISABLE) */
#define ESDP_SDP5 (1u << 5)        /* X520: rate select, 1 = 10 Gb/s */
#define ESDP_SDP3_IODIR (1u << 11) /* SDP3 an output */
#define ESDP_SDP5_IODIR (1u << 13)
#define I2CCTL 0x00028 /* I2C Control: the SFP+ cage's two-wire bus */
#define I2CCTL_CLK_IN (1u << 0)
#define I2CCTL_CLK_OUT (1u << 1)
#define I2CCTL_DATA_IN (1u << 2)
#define I2CCTL_DATA_OUT (1u << 3)
#define CTRL_EXT 0x00018      /* Extended Device Control, RW, §8.2.3.1.3 */
#define EEC 0x10010           /* EEPROM/Flash Control, §8.2.3.2.1 */
#define EEC_EE_PRES (1u << 8) /* EEPROM present, RO */
#define EEC_ARD (1u << 9)     /* EEPROM Auto-Read Done, RO */
#define EERD 0x10014          /* EEPROM Read, §8.2.3.2.2 */
#define EERD_START (1u << 0)
#define EERD_DONE (1u << 1)
#define EERD_ADDR_SHIFT 2   /* word address, bits 15:2 */
#define EERD_DATA_SHIFT 16  /* the word, bits 31:16 */
#define SWSM 0x10140        /* Software Semaphore, §8.2.3.4.9 */
#define SWSM_SMBI (1u << 0) /* set by reading it */
#define SWSM_SWESMBI (1u << 1)
#define FWSM 0x10148          /* Firmware Semaphore, §8.2.3.4.10 */
#define SW_FW_SYNC 0x10160    /* Software-Firmware Synchronization, §8.2.3.4.11 */
#define SW_FW_SYNC_PHY_SM(lan) (2u << (lan)) /* SW_PHY_SM0 bit 1, SW_PHY_SM1 bit 2 */
#define SW_FW_SYNC_MAC_CSR_SM (1u << 3)
#define CORECTL 0x14F00 /* Core Analog Configuration: the NVM's SFP+ init sequence */
#define GCR_EXT 0x11050       /* PCIe Control Extended, RW, §8.2.3.4.12 */
/* Interrupts, §8.2.3.5 (the model raises none) */
#define EICR 0x00800                   /* Extended Interrupt Cause, RW1C, §8.2.3.5.1 */
#define EIMS 0x00880                   /* Extended Interrupt Mask Set/Read, RWS, §8.2.3.5.3 */
#define EIMC 0x00888                   /* Extended Interrupt Mask Clear, WO, §8.2.3.5.4 */
#define EIAC 0x00810                   /* Extended Interrupt Auto Clear, RW, §8.2.3.5.5 */
#define EIMS_EX(i) (0x00AA0 + 4 * (i)) /* EIMS[1..2], i = 0..1, RWS, §8.2.3.5.8 */
#define EIMC_EX(i) (0x00AB0 + 4 * (i)) /* EIMC[1..2], i = 0..1, WO, §8.2.3.5.9 */
#define IVAR(i) (0x00900 + 4 * (i))    /* Interrupt Vector Allocation, i < 64, §8.2.3.5.16 */
#define GPIE 0x00898                   /* General Purpose Interrupt Enable, RW, §8.2.3.5.18 */
/* Flow control, §8.2.3.3 (stored, not acted on) */
#define FCTTV(i) (0x03200 + 4 * (i))  /* Flow Control Transmit Timer Value, i < 4, §8.2.3.3.2 */
#define FCRTL(i) (0x03220 + 4 * (i))  /* Flow Control Receive Threshold Low, i < 8, §8.2.3.3.3 */
#define FCRTH(i) (0x03260 + 4 * (i))  /* Flow Control Receive Threshold High, §8.2.3.3.4 */
#define FCRTH_RTH_MASK (0x3FFFu << 5) /* RTH, bits 18:5: the high water mark in bytes */
#define FCRTV 0x032A0                 /* Flow Control Refresh Threshold Value, §8.2.3.3.5 */
#define FCCFG 0x03D00                 /* Flow Control Configuration, §8.2.3.3.7 */
/* Receive filters, §8.2.3.7 */
#define FCTRL 0x05080                /* Filter Control, RW, §8.2.3.7.1 */
#define FCTRL_MPE (1u << 8)          /* Multicast Promiscuous Enable */
#define FCTRL_UPE (1u << 9)          /* Unicast Promiscuous Enable */
#define FCTRL_BAM (1u << 10)         /* Broadcast Accept Mode */
#define VLNCTRL 0x05088              /* VLAN Control, §8.2.3.7.2 */
#define MCSTCTRL 0x05090             /* Multicast Control, §8.2.3.7.3 */
#define RXCSUM 0x05000               /* Receive Checksum Control, §8.2.3.7.5 */
#define RXCSUM_PCSD (1u << 13)       /* the write-back reports RSS, not the fragment checksum */
#define RFCTL 0x05008                /* Receive Filter Control, §8.2.3.7.6 */
#define MTA(i) (0x05200 + 4 * (i))   /* Multicast Table Array, i < 128, §8.2.3.7.7 */
#define RAL(i) (0x0A200 + 8 * (i))   /* Receive Address Low, i < 128, §8.2.3.7.8 */
#define RAH(i) (0x0A204 + 8 * (i))   /* Receive Address High, §8.2.3.7.9 */
#define RAH_AV (1u << 31)            /* Address Valid */
#define MPSAR(i) (0x0A600 + 4 * (i)) /* MAC Pool Select Array, i < 256, §8.2.3.7.10 */
#define VFTA(i) (0x0A000 + 4 * (i))  /* VLAN Filter Table Array, i < 128, §8.2.3.7.11 */
#define MRQC 0x0EC80                 /* Multiple Receive Queues Command, RW, §8.2.3.7.12 */
#define MRQC_MRQE_MASK 0xFu          /* Multiple Receive Queues Enable, bits 3:0 */
#define MRQC_MRQE_RSS 0x1u           /* 0001b: RSS only (0000b: one queue, no RSS) */
#define MRQC_TCPIPV4 (1u << 16)      /* RSS Field Enable, bits 31:16 */
#define MRQC_IPV4 (1u << 17)
#define MRQC_IPV6 (1u << 20)
#define MRQC_TCPIPV6 (1u << 21)
#define MRQC_UDPIPV4 (1u << 22)
#define MRQC_UDPIPV6 (1u << 23)
#define RQTC 0x0EC70                 /* RSS Queues Per Traffic Class, §8.2.3.7.13 */
#define RSSRK(i) (0x0EB80 + 4 * (i)) /* RSS Random Key, i < 10, RW, §8.2.3.7.14 */
#define RETA(i) (0x0EB00 + 4 * (i))  /* Redirection Table, i < 32, RW, §8.2.3.7.15 */
#define RETA_ENTRY_MASK 0xFu         /* each byte an entry; bits 3:0 the RSS index */
/* The same three registers at the 82598's addresses, which the 82599 also
 * answers (drivers written for both parts use these). */
#define MRQC_82598 0x05818
#define RSSRK_82598(i) (0x05C80 + 4 * (i))
#define RETA_82598(i) (0x05C00 + 4 * (i))
#define SAQF(i) (0x0E000 + 4 * (i))  /* Source Address Queue Filter, i < 128, §8.2.3.7.16 */
#define DAQF(i) (0x0E200 + 4 * (i))  /* Destination Address Queue Filter, §8.2.3.7.17 */
#define SDPQF(i) (0x0E400 + 4 * (i)) /* Source Destination Port Queue Filter, §8.2.3.7.18 */
#define FTQF(i) (0x0E600 + 4 * (i))  /* Five tuple Queue Filter, §8.2.3.7.19 */
#define ETQF(i) (0x05128 + 4 * (i))  /* EType Queue Filter, i < 8, §8.2.3.7.21 */
/* Receive DMA, §8.2.3.8; queue i < 64 */
#define RDBAL(i) (0x01000 + 0x40 * (i))  /* Receive Descriptor Base Address Low, §8.2.3.8.1 */
#define RDBAH(i) (0x01004 + 0x40 * (i))  /* Receive Descriptor Base Address High, §8.2.3.8.2 */
#define RDLEN(i) (0x01008 + 0x40 * (i))  /* Receive Descriptor Length, §8.2.3.8.3 */
#define RDH(i) (0x01010 + 0x40 * (i))    /* Receive Descriptor Head, §8.2.3.8.4 */
#define RDT(i) (0x01018 + 0x40 * (i))    /* Receive Descriptor Tail, RW, §8.2.3.8.5 */
#define RXDCTL(i) (0x01028 + 0x40 * (i)) /* Receive Descriptor Control, §8.2.3.8.6 */
#define RXDCTL_ENABLE (1u << 25)
#define SRRCTL(i) (0x01014 + 0x40 * (i)) /* Split Receive Control, §8.2.3.8.7 */
#define SRRCTL_BSIZEPACKET_MASK 0x1Fu    /* packet buffer size, 1 KB units */
#define SRRCTL_DESCTYPE_SHIFT 25         /* 000b legacy, 001b advanced one buffer */
#define SRRCTL_DESCTYPE_MASK (7u << 25)
#define SRRCTL_DROP_EN (1u << 28)
#define RDRXCTL 0x02F00 /* Receive DMA Control, §8.2.3.8.8 */
#define RDRXCTL_CRCSTRIP (1u << 1)
#define RDRXCTL_DMAIDONE (1u << 3)   /* DMA init done, RO */
#define RDRXCTL_RSCFRSTSIZE_SHIFT 17 /* RSC first size, bits 21:17; reset 0x8, set to 0 */
#define RDRXCTL_RSCFRSTSIZE_MASK (0x1Fu << 17)
#define RDRXCTL_RSCACKC (1u << 25)      /* RSC ACK coalescing; set to 1 */
#define RDRXCTL_FCOE_WRFIX (1u << 26)   /* FCoE write fix; set to 1 */
#define RXPBSIZE(i) (0x03C00 + 4 * (i)) /* Receive Packet Buffer Size, i < 8, §8.2.3.8.9 */
#define RXCTRL 0x03000                  /* Receive Control, §8.2.3.8.10 */
#define RXCTRL_RXEN (1u << 0)
#define RSCDBU 0x03028 /* RSC Data Buffer Control, §8.2.3.8.12 */
/* Transmit, §8.2.3.9; queue i < 128 */
#define DTXMXSZRQ 0x08100                /* DMA Tx TCP Max Allow Size Requests, §8.2.3.9.1 */
#define DMATXCTL 0x04A80                 /* DMA Tx Control, §8.2.3.9.2 */
#define DMATXCTL_TE (1u << 0)            /* Transmit Enable */
#define DTXTCPFLGL 0x04A88               /* DMA Tx TCP Flags Control Low, §8.2.3.9.3 */
#define DTXTCPFLGH 0x04A8C               /* DMA Tx TCP Flags Control High, §8.2.3.9.4 */
#define TDBAL(i) (0x06000 + 0x40 * (i))  /* Transmit Descriptor Base Address Low, §8.2.3.9.5 */
#define TDBAH(i) (0x06004 + 0x40 * (i))  /* Transmit Descriptor Base Address High, §8.2.3.9.6 */
#define TDLEN(i) (0x06008 + 0x40 * (i))  /* Transmit Descriptor Length, §8.2.3.9.7 */
#define TDH(i) (0x06010 + 0x40 * (i))    /* Transmit Descriptor Head, §8.2.3.9.8 */
#define TDT(i) (0x06018 + 0x40 * (i))    /* Transmit Descriptor Tail, RW, §8.2.3.9.9 */
#define TXDCTL(i) (0x06028 + 0x40 * (i)) /* Transmit Descriptor Control, §8.2.3.9.10 */
#define TXDCTL_PTHRESH_MASK 0x7Fu        /* bits 6:0 */
#define TXDCTL_HTHRESH_SHIFT 8           /* bits 14:8 */
#define TXDCTL_WTHRESH_SHIFT 16          /* bits 22:16 */
#define TXDCTL_ENABLE (1u << 25)
#define TXDCTL_SWFLSH (1u << 26) /* Transmit Software Flush, self-clearing */
#define TDWBAL(i)                                                                                  \
    (0x06038 + 0x40 * (i)) /* Tx Desc. Completion Write Back Address Low, §8.2.3.9.11 */
#define TDWBAL_HEAD_WB_EN (1u << 0)
#define TDWBAH(i) (0x0603C + 0x40 * (i))  /* ... High, §8.2.3.9.11 */
#define TXPBSIZE(i) (0x0CC00 + 4 * (i))   /* Transmit Packet Buffer Size, i < 8, §8.2.3.9.13 */
#define MTQC 0x08120                      /* Multiple Transmit Queues Command, §8.2.3.9.15 */
#define TXPBTHRESH(i) (0x04950 + 4 * (i)) /* Tx Packet Buffer Threshold, i < 8, §8.2.3.9.16 */
/* DCB, §8.2.3.10 */
#define RTRPCS 0x02430          /* DCB Receive Packet Plane Control and Status, §8.2.3.10.1 */
#define RTTDCS 0x04900          /* DCB Tx Descriptor Plane Control and Status, §8.2.3.10.2 */
#define RTTDCS_ARBDIS (1u << 6) /* arbiters disabled: no transmission */
#define RTTPCS 0x0CD00          /* DCB Transmit Packet Plane Control and Status, §8.2.3.10.3 */
#define RTRUP2TC 0x03020        /* DCB Receive User Priority to Traffic Class, §8.2.3.10.4 */
#define RTRPT4C(i)                                                                                 \
    (0x02140 + 4 * (i))                /* DCB Receive Packet Plane T4 Config, i < 8, §8.2.3.10.6  \
                                        */
#define RTTDT2C(i) (0x04910 + 4 * (i)) /* DCB Tx Descriptor Plane T2 Config, §8.2.3.10.9 */
#define RTTPT2C(i) (0x0CD20 + 4 * (i)) /* DCB Tx Packet Plane T2 Config, §8.2.3.10.10 */
#define RTTDQSEL 0x04904               /* DCB Tx Descriptor Plane Queue Select, §8.2.3.10.13 */
#define RTTDT1C 0x04908                /* DCB Tx Descriptor Plane T1 Config, §8.2.3.10.14 */
/* DCA, §8.2.3.11 */
#define DCA_RXCTRL(i) (0x0100C + 0x40 * (i)) /* Rx DCA Control, i < 64, §8.2.3.11.1 */
#define DCA_TXCTRL(i) (0x0600C + 0x40 * (i)) /* Tx DCA Control, i < 128, §8.2.3.11.2 */
/* Security, §8.2.3.12 */
#define SECRXCTRL 0x08D00 /* Security Rx Control, §8.2.3.12.5 */
#define SECRXCTRL_RX_DIS (1u << 1)
#define SECRXSTAT 0x08D04 /* Security Rx Status, RO, §8.2.3.12.6 */
#define SECRXSTAT_SECRX_RDY (1u << 0)
/* MAC, §8.2.3.22 */
#define HLREG0 0x04240 /* MAC Core Control 0, §8.2.3.22.8 */
#define HLREG0_TXCRCEN (1u << 0)
#define HLREG0_RXCRCSTRP (1u << 1)
#define HLREG0_JUMBOEN (1u << 2)
#define HLREG0_TXPADEN (1u << 10)
#define HLREG0_LPBK (1u << 15)
#define HLREG0_RXLNGTHERREN (1u << 27)
#define MAXFRS 0x04268                  /* Max Frame Size, §8.2.3.22.13; MFS in bits 31:16 */
#define AUTOC 0x042A0                   /* Auto Negotiation Control, §8.2.3.22.19 */
#define AUTOC_RESTART_AN (1u << 12)     /* self-clearing */
#define AUTOC_LMS_SHIFT 13              /* Link Mode Select, bits 15:13; 011b 10 GbE serial */
#define LINKS 0x042A4                   /* Link Status, RO, §8.2.3.22.20 */
#define LINKS_LINK_SPEED_10G (3u << 28) /* LINK_SPEED, bits 29:28 */
#define LINKS_LINK_UP (1u << 30)
#define AUTOC2 0x042A8 /* Auto Negotiation Control 2, §8.2.3.22.21 */
#define MFLCN 0x04294  /* MAC Flow Control, §8.2.3.22.34 */
/* Statistics, §8.2.3.23: all clear on read */
#define MPC(i) (0x03FA0 + 4 * (i))      /* Missed Packets Count, i < 8, §8.2.3.23 */
#define QPRDC(i) (0x01430 + 0x40 * (i)) /* Queue Packets Received Drop Count, i < 16, §8.2.3.23 */
#define RQSMR(i) (0x02300 + 4 * (i))    /* Receive Queue Statistic Mapping, i < 32, §8.2.3.23 */
#define GPRC 0x04074                    /* Good Packets Received Count, §8.2.3.23.26 */
#define BPRC 0x04078                    /* Broadcast Packets Received Count, §8.2.3.23 */
#define MPRC 0x0407C                    /* Multicast Packets Received Count, §8.2.3.23 */
#define GPTC 0x04080                    /* Good Packets Transmitted Count, §8.2.3.23 */
#define GORCL 0x04088                   /* Good Octets Received Count Low, §8.2.3.23 */
#define GORCH 0x0408C                   /* Good Octets Received Count High, §8.2.3.23 */
#define GOTCL 0x04090                   /* Good Octets Transmitted Count Low, §8.2.3.23 */
#define GOTCH 0x04094                   /* Good Octets Transmitted Count High, §8.2.3.23 */
#define RUC 0x040A4                     /* Receive Undersize Count, §8.2.3.23 */
#define ROC 0x040AC                     /* Receive Oversize Count, §8.2.3.23 */
#define TPR 0x040D0                     /* Total Packets Received, §8.2.3.23.59 */
#define TPT 0x040D4                     /* Total Packets Transmitted, §8.2.3.23 */
#define MPTC 0x040F0                    /* Multicast Packets Transmitted Count, §8.2.3.23 */
#define BPTC 0x040F4                    /* Broadcast Packets Transmitted Count, §8.2.3.23 */
/* PF registers, §8.2.3.27 */
#define PFQDE 0x02F04                  /* PF Queue Drop Enable, §8.2.3.27.9 */
#define PFVLVF(i) (0x0F100 + 4 * (i))  /* PF VM VLAN Pool Filter, i < 64, §8.2.3.27.15 */
#define PFVLVFB(i) (0x0F200 + 4 * (i)) /* PF VM VLAN Pool Filter Bitmap, i < 128, §8.2.3.27.16 */
#define PFUTA(i) (0x0F400 + 4 * (i))   /* PF Unicast Table Array, i < 128, §8.2.3.27.17 */

/* Descriptors, §7.1.6 (receive) and §7.2.3.2 (transmit): two little-endian qwords. */
#define RXD_STAT_DD (1ull << 0) /* advanced write-back, qword 1, §7.1.6.2 */
#define RXD_STAT_EOP (1ull << 1)
#define RXD_PKT_LEN_SHIFT 32     /* PKT_LEN, qword 1 bits 47:32 */
#define RXD_LEGACY_STAT_SHIFT 32 /* legacy: length 15:0, status 39:32, §7.1.5 */
#define RXD_RSSTYPE_MASK 0xFull  /* advanced write-back, qword 0 bits 3:0, §7.1.6.2 */
#define RXD_RSS_HASH_SHIFT 32    /* RSS Hash, qword 0 bits 63:32 */
#define RXD_RSSTYPE_NONE 0x0ull  /* the RSS Type values */
#define RXD_RSSTYPE_TCPIPV4 0x1ull
#define RXD_RSSTYPE_IPV4 0x2ull
#define RXD_RSSTYPE_TCPIPV6 0x3ull
#define RXD_RSSTYPE_IPV6 0x5ull
#define RXD_RSSTYPE_UDPIPV4 0x7ull
#define RXD_RSSTYPE_UDPIPV6 0x8ull
#define TXD_DTALEN_MASK 0xFFFFull /* advanced data descriptor, qword 1, §7.2.3.2.4 */
#define TXD_DTYP_SHIFT 20         /* DTYP, bits 23:20 */
#define TXD_DTYP_DATA 3ull        /* 0011b: data descriptor */
#define TXD_DTYP_CTXT 2ull        /* 0010b: context descriptor */
#define TXD_CMD_EOP (1ull << 24)  /* DCMD bits 31:24 */
#define TXD_CMD_IFCS (1ull << 25)
#define TXD_CMD_RS (1ull << 27)
#define TXD_CMD_DEXT (1ull << 29)
#define TXD_CMD_TSE (1ull << 31)
#define TXD_STAT_DD (1ull << 32) /* STA bits 35:32 */
#define TXD_PAYLEN_SHIFT 46      /* PAYLEN, bits 63:46 */
#endif                           /* IXGBE_MODEL_REGISTERS */

#endif
