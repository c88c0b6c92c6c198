/*
 * tests/model/ixgbe_model.c - a behavioural model of one Intel 82599 port,
 * written from the Intel 82599 10 GbE Controller Datasheet, revision 3.3.
 * See ixgbe_model.h for what it is; this file reads next to the datasheet:
 *
 *   1. the register table (ixgbe_regs.def: which offsets exist, aliases,
 *      reset values, access types), decoded once into a table per offset
 *   2. time: reset, EEPROM auto-read, DMA init, link (§4.6.3, §8.2.3.1.1)
 *      SFP+: an X520's module on I2CCTL, the NVM behind EERD, CORECTL
 *   3. strict mode: the violation log
 *   4. receive queues: set-up at RXDCTL.ENABLE (§4.6.7), filtering (§7.1.1.1),
 *      the queue by RSS (§7.1.2.8), descriptor write-back (§7.1.6),
 *      statistics (§8.2.3.23)
 *   5. transmit queues: set-up at TXDCTL.ENABLE (§4.6.8), descriptor fetch
 *      and write-back (§7.2.3.2), the wire (loopback §8.2.3.22.8, cable, sink)
 *   6. BAR0 reads and writes
 *
 * The wire carries frames without FCS. Where the datasheet counts octets
 * "from <Destination Address> through <CRC>" (GORC, GOTC, the 64-byte
 * minimum and the MAXFRS maximum) the model adds the 4 bytes an FCS would
 * take; with CRC stripping off it appends a real FCS to the received buffer.
 */
#define IXGBE_MODEL_REGISTERS
#include "tests/model/ixgbe_model.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BAR0_SIZE 0x20000u /* §8.1: 128 KB of registers (flash not modelled) */
#define NREGS (BAR0_SIZE / 4)
#define NEVER IXGBE_MODEL_NEVER
#define FCS_LEN 4u
#define MIN_FRAME 64u   /* with FCS */
#define MAX_FRAME 1518u /* with FCS, without JUMBOEN: §8.2.3.22.13 */
#define VLAN_TAG_LEN 4u /* a tagged frame may be 4 bytes longer */

/* --- 1. The register table -------------------------------------------------- */

/* How a register behaves when nothing more is said of it (the datasheet's
 * access types); the registers with behaviour of their own have an id below. */
enum access {
    RW,   /* stored as written */
    RO,   /* writes are violations */
    RC,   /* read-only, clear on read (§8.2.3.23) */
    RW1C, /* a 1 written clears that bit */
    RWS,  /* a 1 written sets that bit (EIMS) */
    WO,   /* write-only: reads are violations and return 0 */
};

/* Ids of the registers with behaviour; the rest are plain (R_PLAIN). */
// clang-format off
enum reg_id {
    R_PLAIN, R_RDT, R_TDT, R_RDH, R_TDH, R_CTRL, R_STATUS, R_EEC, R_EICR, R_EIMS, R_EIMC,
    R_EIMS_EX, R_EIMC_EX, R_FCTRL, R_RDBAL, R_RDBAH, R_RDLEN, R_SRRCTL, R_RXDCTL, R_RDRXCTL,
    R_RXCTRL, R_TDBAL, R_TDBAH, R_TDLEN, R_TXDCTL, R_TX_ARB, R_SECRXSTAT, R_AUTOC, R_LINKS,
    R_STAT, R_MPC, R_QPRDC, R_OCTETS_LOW, R_OCTETS_HIGH, R_MRQC, R_RAL_RAH, R_I2CCTL, R_EERD,
    R_CORECTL, R_SWSM, R_SW_FW_SYNC
};

/* Statistics: the registers (cleared on read) and the totals since creation. */
enum stat {
    S_NONE, S_GPRC, S_BPRC, S_MPRC, S_GPTC, S_BPTC, S_MPTC, S_GORC, S_GOTC, S_MPC, S_RUC, S_ROC,
    S_TPR, S_TPT, S_RX_OFF, S_FILTERED, S_TX_DROPPED, S_QPRDC, S_COUNT
};
// clang-format on
static const char *const stat_names[S_COUNT] = {
    "",    "GPRC", "BPRC", "MPRC", "GPTC", "BPTC",   "MPTC",     "GORC",       "GOTC",
    "MPC", "RUC",  "ROC",  "TPR",  "TPT",  "RX_OFF", "FILTERED", "TX_DROPPED", "QPRDC",
};

/* Where instances first .. first + n - 1 of a register answer. */
struct range {
    uint32_t base, stride, first, n;
};

/* One register of the datasheet's map (tests/model/ixgbe_regs.def), with the
 * model's behaviour for it (filled in once, by table_init). */
struct regdef {
    const char *name, *section;
    uint32_t count;
    uint32_t reset0, reset; /* reset value of instance 0, of the others */
    enum access access;
    struct range at[4]; /* the first range holding an instance is its own address */
    enum reg_id id;
    enum stat stat; /* its counter, for statistics the model keeps */
};

// clang-format off
static struct regdef regdefs[] = {
#define RANGE(base, stride, first, n) { base, stride, first, n }
#define REG(name, sec, cnt, r0, r, acc, ...) { #name, sec, cnt, r0, r, acc, { __VA_ARGS__ }, 0, 0 },
#include "tests/model/ixgbe_regs.def"
#undef REG
#undef RANGE
};
// clang-format on
#define NDEFS (sizeof(regdefs) / sizeof(regdefs[0]))

/* The registers the model gives behaviour of its own, by their names in the table. */
static const struct {
    const char *name;
    enum reg_id id;
    enum stat stat;
} behaviour[] = {
    { "RDT", R_RDT, S_NONE },
    { "TDT", R_TDT, S_NONE },
    { "RDH", R_RDH, S_NONE },
    { "TDH", R_TDH, S_NONE },
    { "CTRL", R_CTRL, S_NONE },
    { "STATUS", R_STATUS, S_NONE },
    { "EEC", R_EEC, S_NONE },
    { "EICR", R_EICR, S_NONE },
    { "EIMS", R_EIMS, S_NONE },
    { "EIMC", R_EIMC, S_NONE },
    { "EIMS_EX", R_EIMS_EX, S_NONE },
    { "EIMC_EX", R_EIMC_EX, S_NONE },
    { "FCTRL", R_FCTRL, S_NONE },
    { "RDBAL", R_RDBAL, S_NONE },
    { "RDBAH", R_RDBAH, S_NONE },
    { "RDLEN", R_RDLEN, S_NONE },
    { "SRRCTL", R_SRRCTL, S_NONE },
    { "RXDCTL", R_RXDCTL, S_NONE },
    { "RDRXCTL", R_RDRXCTL, S_NONE },
    { "RXCTRL", R_RXCTRL, S_NONE },
    { "TDBAL", R_TDBAL, S_NONE },
    { "TDBAH", R_TDBAH, S_NONE },
    { "TDLEN", R_TDLEN, S_NONE },
    { "TXDCTL", R_TXDCTL, S_NONE },
    { "DTXMXSZRQ", R_TX_ARB, S_NONE },
    { "TXPBSIZE", R_TX_ARB, S_NONE },
    { "MTQC", R_TX_ARB, S_NONE },
    { "TXPBTHRESH", R_TX_ARB, S_NONE },
    { "SECRXSTAT", R_SECRXSTAT, S_NONE },
    { "AUTOC", R_AUTOC, S_NONE },
    { "LINKS", R_LINKS, S_NONE },
    { "MRQC", R_MRQC, S_NONE },
    { "RAL", R_RAL_RAH, S_NONE },
    { "RAH", R_RAL_RAH, S_NONE },
    { "I2CCTL", R_I2CCTL, S_NONE },
    { "EERD", R_EERD, S_NONE },
    { "CORECTL", R_CORECTL, S_NONE },
    { "SWSM", R_SWSM, S_NONE },
    { "SW_FW_SYNC", R_SW_FW_SYNC, S_NONE },
    { "MPC", R_MPC, S_MPC }, /* all traffic uses packet buffer 0 */
    { "QPRDC", R_QPRDC, S_QPRDC },
    { "GPRC", R_STAT, S_GPRC },
    { "BPRC", R_STAT, S_BPRC },
    { "MPRC", R_STAT, S_MPRC },
    { "GPTC", R_STAT, S_GPTC },
    { "GORCL", R_OCTETS_LOW, S_GORC },
    { "GORCH", R_OCTETS_HIGH, S_GORC },
    { "GOTCL", R_OCTETS_LOW, S_GOTC },
    { "GOTCH", R_OCTETS_HIGH, S_GOTC },
    { "RUC", R_STAT, S_RUC },
    { "ROC", R_STAT, S_ROC },
    { "TPR", R_STAT, S_TPR },
    { "TPT", R_STAT, S_TPT },
    { "MPTC", R_STAT, S_MPTC },
    { "BPTC", R_STAT, S_BPTC },
};

/* What each 4-byte offset of BAR0 decodes to: def (index + 1; 0: nothing),
 * the instance, and the offset / 4 of the instance's own address, where its
 * value is kept (an alias reaches the same register). Made once. */
static struct {
    uint16_t def, n, own;
} decode[NREGS];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

/* The instance's own address: the first range that holds it. */
static uint32_t own_offset(const struct regdef *d, uint32_t n)
{
    for (const struct range *r = d->at; r < d->at + 4 && r->n; r++)
        if (n >= r->first && n < r->first + r->n)
            return r->base + r->stride * (n - r->first);
    return UINT32_MAX;
}

/* A fault in ixgbe_regs.def or in the behaviour list is the model's bug. */
__attribute__((noreturn)) static void table_bug(const char *what, const char *name, uint32_t off)
{
    fprintf(stderr, "ixgbe_model: register table: %s (%s, 0x%05x)\n", what, name, off);
    abort();
}

static void table_init(void)
{
    for (size_t i = 0; i < NDEFS; i++) {
        struct regdef *d = &regdefs[i];
        for (uint32_t n = 0; n < d->count; n++)
            if (own_offset(d, n) == UINT32_MAX)
                table_bug("an instance without an address", d->name, n);
        for (const struct range *r = d->at; r < d->at + 4 && r->n; r++) {
            for (uint32_t k = 0; k < r->n; k++) {
                uint32_t off = r->base + r->stride * k;
                if (off % 4 || off >= BAR0_SIZE || r->first + k >= d->count)
                    table_bug("an address outside BAR0 or an instance past COUNT", d->name, off);
                if (decode[off / 4].def)
                    table_bug("an address decoded twice", d->name, off);
                decode[off / 4].def = (uint16_t)(i + 1);
                decode[off / 4].n = (uint16_t)(r->first + k);
                decode[off / 4].own = (uint16_t)(own_offset(d, r->first + k) / 4);
            }
        }
    }
    for (size_t b = 0; b < sizeof(behaviour) / sizeof(behaviour[0]); b++) {
        size_t i = 0;
        while (i < NDEFS && strcmp(regdefs[i].name, behaviour[b].name) != 0)
            i++;
        if (i == NDEFS)
            table_bug("a register with behaviour missing from the table", behaviour[b].name, 0);
        regdefs[i].id = behaviour[b].id;
        regdefs[i].stat = behaviour[b].stat;
    }
}

/* Which register an offset is: its instance and its own offset; NULL if the
 * 82599 does not decode the offset. */
static const struct regdef *lookup(uint32_t off, uint32_t *index, uint32_t *own)
{
    if (off % 4 || off >= BAR0_SIZE || !decode[off / 4].def)
        return NULL;
    *index = decode[off / 4].n;
    *own = (uint32_t)decode[off / 4].own * 4;
    return &regdefs[decode[off / 4].def - 1];
}

/* --- The model's state ------------------------------------------------------ */

/* The SFP+ module's side of the I2C bus. */
struct i2c {
    bool scl, sda; /* as the driver last drove them (1: released) */
    bool drive;    /* the module's SDA: false pulls the line low */
    enum { I2C_IDLE, I2C_ADDR, I2C_OFFSET, I2C_WRITE, I2C_READ } state;
    uint8_t byte, ptr; /* the byte coming in; the serial ID offset */
    uint32_t nbit;     /* bits of this byte clocked so far */
    bool acking;       /* holding SDA low for the ninth clock */
    bool master_ack;   /* the driver's ACK after a byte it read */
};

struct queue {
    /* The data path, shared between the driver's thread and the model's. */
    _Atomic uint32_t head, tail;
    _Atomic uint32_t ndesc;   /* ring size in descriptors; 0 while disabled */
    _Atomic bool enable_seen; /* the driver has read ENABLE as 1 */
    /* Latched at ENABLE, under the lock. */
    bool enabled;
    uint64_t t_enable;
    uint64_t base;  /* ring address */
    uint32_t bsize; /* RX: packet buffer size in bytes */
    bool legacy;    /* RX: SRRCTL.DESCTYPE = 000b */
    bool frozen;    /* TX: ixgbe_model_freeze_tx: sends nothing until disabled */
    bool never;     /* ENABLE never reads 1 (config rx_never, tx_never) */
};

struct ixgbe_model {
    struct ixgbe_model_config cfg;
    uint32_t reg[NREGS]; /* plain registers, indexed by offset / 4; under the lock */
    struct queue rxq[IXGBE_MODEL_QUEUES], txq[IXGBE_MODEL_QUEUES];
    _Atomic uint64_t t_reset_done; /* CTRL.RST reads 0 from here on; read by tail writes */
    uint64_t t_rst_write;          /* when CTRL.RST was last set */
    bool rst_access_flagged;       /* the 1 ms rule said once per reset */
    uint64_t t_lrst_done;          /* CTRL.LRST reads 0 from here on */
    uint64_t t_link_start;         /* auto-negotiation (re)started */
    bool eeprom_loaded;            /* RAL(0)/RAH(0) loaded since the last reset */
    bool dmaidone_seen;            /* the driver read RDRXCTL.DMAIDONE as 1 */
    bool ard_seen;                 /* the driver read EEC.ARD as 1 */
    bool master_asked;             /* CTRL.PCIE_MASTER_DISABLE written as 1 since the reset */
    bool master_seen;              /* ... and STATUS.PCIE_MASTER_ENABLE then read as 0 */
    bool second_reset_due;         /* a reset without master_seen: another must follow */
    uint64_t stat[S_COUNT], total[S_COUNT];
    uint32_t high[S_COUNT]; /* GORCH, GOTCH: latched by the GORCL, GOTCL read */
    uint64_t qprdc[16];     /* QPRDC(n), cleared on read; total[S_QPRDC] adds them up */
    struct ixgbe_model *peer;
    bool unplugged;           /* ixgbe_model_set_cable(m, false): no link until it is back */
    enum ixgbe_model_lie lie; /* ixgbe_model_rx_lie: what the next lies_left frames get */
    unsigned lies_left;
    void (*sink)(void *ctx, const void *frame, uint32_t len);
    void *sink_ctx;
    uint8_t txbuf[IXGBE_MODEL_MAX_FRAME + 64];
    uint8_t rxbuf[IXGBE_MODEL_MAX_FRAME + FCS_LEN];
    struct i2c i2c;
    bool i2c_flagged;     /* the I2CCTL semaphore rule said once */
    uint8_t sfp_rom[256]; /* the module's serial ID */
    uint32_t corectl_pos; /* CORECTL words of the init sequence so far; UINT32_MAX: all */
    /* The violation log, under its own lock. */
    atomic_flag log_lock;
    unsigned nviol;
    char log[IXGBE_MODEL_LOG][256];
};

/* One lock for all models: cabled ports write into each other's rings. It is
 * recursive per thread, so a sink may inject. */
static atomic_flag wire = ATOMIC_FLAG_INIT;
static _Thread_local unsigned wire_held;

static void lock(void)
{
    if (wire_held++ == 0)
        while (atomic_flag_test_and_set_explicit(&wire, memory_order_acquire))
            ;
}

static void unlock(void)
{
    if (--wire_held == 0)
        atomic_flag_clear_explicit(&wire, memory_order_release);
}

/* --- 2. Time ------------------------------------------------------------------ */

static uint64_t now(const struct ixgbe_model *m)
{
    return m->cfg.now_ns ? m->cfg.now_ns() : 0;
}

static uint64_t after(uint64_t t, uint64_t delay)
{
    return (t == NEVER || delay == NEVER || t + delay < t) ? NEVER : t + delay;
}

/* Has delay passed since t? Never, if either is NEVER. */
static bool elapsed(const struct ixgbe_model *m, uint64_t t, uint64_t delay)
{
    uint64_t at = after(t, delay);
    return at != NEVER && now(m) >= at;
}

static bool resetting(const struct ixgbe_model *m)
{
    return !elapsed(m, m->t_reset_done, 0);
}

static bool sfp_ready(const struct ixgbe_model *m);

/* One side of the cable: auto-negotiation done since the last (re)start,
 * and on an SFP+ port the module set up. */
static bool own_link(const struct ixgbe_model *m)
{
    return !m->unplugged && !resetting(m) && elapsed(m, m->t_link_start, m->cfg.link_ns) &&
           sfp_ready(m);
}

/* A link needs both ends; an uncabled port talks to the sink. */
static bool link_up(const struct ixgbe_model *m)
{
    return own_link(m) && (!m->peer || own_link(m->peer));
}

static bool dma_ok(const struct ixgbe_model *m, uint64_t addr, uint64_t len)
{
    if (addr + len < addr)
        return false;
    return m->cfg.dma_ok ? m->cfg.dma_ok(addr, len) : true;
}

/* What happens with time: §4.6.3 "wait for EEPROM auto read completion"; at
 * the end of the auto-read RAL(0)/RAH(0) hold the EEPROM's MAC with AV set
 * (§8.2.3.7.9). */
static void sync_time(struct ixgbe_model *m)
{
    if (!m->eeprom_loaded && elapsed(m, m->t_reset_done, m->cfg.eeprom_ns)) {
        const uint8_t *a = m->cfg.mac;
        m->reg[RAL(0) / 4] = a[0] | a[1] << 8 | a[2] << 16 | (uint32_t)a[3] << 24;
        m->reg[RAH(0) / 4] = a[4] | a[5] << 8 | RAH_AV;
        m->eeprom_loaded = true;
    }
}

/* --- SFP+: the module, its I2C bus, the NVM's init sequence ------------------- */

/* SFF-8472 serial ID bytes the drivers read: 0 identifier (0x03 SFP), 3 the
 * 10G Ethernet compliance codes (bit 4 10GBASE-SR, bit 5 10GBASE-LR), 6 the
 * 1G codes (bit 0 1000BASE-SX, bit 3 1000BASE-T), 8 the SFP+ cable
 * technology (bit 2 passive, bit 3 active), 20-35 the vendor name, 37-39 its
 * OUI, 40-55 the part number, 60 for an active cable its compliance (bit 2:
 * limiting). */
static void sfp_image(enum ixgbe_model_sfp t, uint8_t rom[256])
{
    static const struct {
        uint8_t b3, b6, b8, b60;
        const char *part;
    } kinds[] = {
        [IXGBE_MODEL_SFP_SR] = { 0x10, 0x00, 0x00, 0x00, "MODEL-SR" },
        [IXGBE_MODEL_SFP_LR] = { 0x20, 0x00, 0x00, 0x00, "MODEL-LR" },
        [IXGBE_MODEL_SFP_SR_DUAL] = { 0x10, 0x01, 0x00, 0x00, "MODEL-SR-SX" },
        [IXGBE_MODEL_SFP_DA] = { 0x00, 0x00, 0x04, 0x00, "MODEL-DA" },
        [IXGBE_MODEL_SFP_DA_ACTIVE] = { 0x00, 0x00, 0x08, 0x04, "MODEL-DA-ACT" },
        [IXGBE_MODEL_SFP_1G_T] = { 0x00, 0x08, 0x00, 0x00, "MODEL-1000T" },
    };
    memset(rom, 0, 256);
    if (t < IXGBE_MODEL_SFP_SR || t > IXGBE_MODEL_SFP_1G_T)
        return;
    rom[0] = 0x03;
    rom[3] = kinds[t].b3;
    rom[6] = kinds[t].b6;
    rom[8] = kinds[t].b8;
    rom[60] = kinds[t].b60;
    memcpy(rom + 20, "IXMETAL MODEL   ", 16);
    rom[37] = 0x00, rom[38] = 0x1B, rom[39] = 0x21;
    memset(rom + 40, ' ', 16);
    memcpy(rom + 40, kinds[t].part, strlen(kinds[t].part));
}

static bool sfp_present(const struct ixgbe_model *m)
{
    return m->cfg.sfp >= IXGBE_MODEL_SFP_SR;
}

/* The module's end of the two-wire bus (I2C slave at 0xA0/0xA1): a random
 * or sequential read of its serial ID; writes to it are taken and ignored.
 * Called with the lines as the driver now drives them (1: released). */
static void i2c_lines(struct ixgbe_model *m, bool scl, bool sda)
{
    struct i2c *b = &m->i2c;
    bool rising = scl && !b->scl, falling = !scl && b->scl;
    if (scl && b->scl && sda != b->sda) {     /* SDA moves while SCL is high */
        b->state = sda ? I2C_IDLE : I2C_ADDR; /* STOP, or (repeated) START */
        b->nbit = 0, b->byte = 0, b->acking = false, b->drive = true;
    } else if (rising) {
        if ((b->state == I2C_ADDR || b->state == I2C_OFFSET || b->state == I2C_WRITE) &&
            b->nbit < 8) {
            b->byte = (uint8_t)(b->byte << 1 | sda);
            b->nbit++;
        } else if (b->state == I2C_READ && b->nbit == 8) {
            b->master_ack = !sda;
        }
    } else if (falling && b->state == I2C_READ) {
        if (++b->nbit < 8) {
            b->drive = m->sfp_rom[b->ptr] >> (7 - b->nbit) & 1;
        } else if (b->nbit == 8) {
            b->drive = true; /* released for the driver's ACK or NACK */
        } else if (b->master_ack) {
            b->ptr++, b->nbit = 0;
            b->drive = m->sfp_rom[b->ptr] >> 7 & 1;
        } else {
            b->state = I2C_IDLE, b->drive = true; /* NACK: the read is over */
        }
    } else if (falling && b->nbit == 8 && !b->acking) {
        bool ack = b->state != I2C_ADDR || ((b->byte >> 1) == 0x50 && sfp_present(m));
        if (b->state == I2C_IDLE || !ack) {
            b->state = I2C_IDLE; /* not addressed: let go until the next START */
            return;
        }
        b->drive = false, b->acking = true; /* ACK through the ninth clock */
    } else if (falling && b->acking) {
        b->drive = true, b->acking = false, b->nbit = 0;
        if (b->state == I2C_ADDR && (b->byte & 1)) {
            b->state = I2C_READ;
            b->drive = m->sfp_rom[b->ptr] >> 7 & 1;
        } else if (b->state == I2C_ADDR) {
            b->state = I2C_OFFSET;
        } else if (b->state == I2C_OFFSET) {
            b->ptr = b->byte, b->state = I2C_WRITE;
        }
        b->byte = 0;
    }
    b->scl = scl, b->sda = sda;
}

/* The NVM words a driver reads through EERD for the SFP+ set-up, laid out as
 * the Linux and DPDK drivers read an 82599's NVM: word 0x2B points at a list
 * of (SFP type, data offset) pairs after one header word, ended by 0xFFFF;
 * the words after a data offset go to CORECTL up to 0xFFFF. The types are
 * 3/4 direct-attach and 5/6 SR or LR (and limiting active cables) on port
 * 0/1. The CORECTL words of a real X520 NVM are not known here: these are
 * the model's own, different per type, so the test sees the right list
 * taken. */
static uint16_t nvm_word(uint32_t addr)
{
    static const uint16_t list[] = { 0x0004, 3, 0x0200, 4, 0x0210, 5, 0x0220, 6, 0x0230, 0xFFFF };
    static const uint16_t seq[4][4] = {
        { 0x0B1D, 0x4A10, 0xFFFF }, /* type 3 */
        { 0x0B1D, 0x4A11, 0xFFFF },
        { 0x0B1D, 0x2A33, 0x3C01, 0xFFFF }, /* type 5 */
        { 0x0B1D, 0x2A33, 0x3C02, 0xFFFF },
    };
    if (addr == 0x2B)
        return 0x0100;
    if (addr >= 0x100 && addr < 0x100 + sizeof(list) / sizeof(list[0]))
        return list[addr - 0x100];
    if (addr >= 0x200 && addr < 0x240 && addr % 16 >= 1 && addr % 16 <= 4)
        return seq[(addr - 0x200) / 16][addr % 16 - 1];
    return 0xFFFF;
}

/* The NVM type of the module in the cage (5/6 also for limiting active
 * cables, as the drivers look them up); 0 if it has none. */
static uint32_t sfp_nvm_type(const struct ixgbe_model *m)
{
    uint32_t core = m->cfg.lan_id & 1;
    switch (m->cfg.sfp) {
    case IXGBE_MODEL_SFP_DA:
        return 3 + core;
    case IXGBE_MODEL_SFP_SR:
    case IXGBE_MODEL_SFP_LR:
    case IXGBE_MODEL_SFP_SR_DUAL:
    case IXGBE_MODEL_SFP_DA_ACTIVE:
        return 5 + core;
    default:
        return 0;
    }
}

/* A CORECTL write: how far into the module's init sequence the writes have
 * come (a wrong word starts it over). */
static void corectl_write(struct ixgbe_model *m, uint32_t v)
{
    uint32_t type = sfp_nvm_type(m);
    uint32_t at = type ? 0x201 + 16 * (type - 3) : 0;
    if (!type || m->corectl_pos == UINT32_MAX)
        return;
    if (nvm_word(at + m->corectl_pos) == (v & 0xFFFF))
        m->corectl_pos++;
    else
        m->corectl_pos = nvm_word(at) == (v & 0xFFFF);
    if (nvm_word(at + m->corectl_pos) == 0xFFFF)
        m->corectl_pos = UINT32_MAX; /* the whole sequence: done */
}

/* An SFP+ port links once its module is set up: the NVM's init sequence in
 * CORECTL, AUTOC.LMS at 10 GbE serial (011b), the laser on (SDP3 an output,
 * driven low) for optics, and rate select high (SDP5) for dual-rate optics.
 * That is the Linux and DPDK drivers' order for an X520, read as conditions;
 * the datasheet does not list them as such. */
static bool sfp_ready(const struct ixgbe_model *m)
{
    uint32_t esdp = m->reg[ESDP / 4];
    enum ixgbe_model_sfp t = m->cfg.sfp;
    bool optics =
        t == IXGBE_MODEL_SFP_SR || t == IXGBE_MODEL_SFP_LR || t == IXGBE_MODEL_SFP_SR_DUAL;
    if (t == IXGBE_MODEL_NO_CAGE)
        return true;
    if (!sfp_nvm_type(m) || m->corectl_pos != UINT32_MAX)
        return false;
    if ((m->reg[AUTOC / 4] & (7u << AUTOC_LMS_SHIFT)) != 3u << AUTOC_LMS_SHIFT)
        return false;
    if (optics && !((esdp & ESDP_SDP3_IODIR) && !(esdp & ESDP_SDP3)))
        return false;
    return t != IXGBE_MODEL_SFP_SR_DUAL || ((esdp & ESDP_SDP5_IODIR) && (esdp & ESDP_SDP5));
}

/* --- 3. Strict mode ----------------------------------------------------------- */

/* The log has its own lock: a driver's thread may be recording a violation
 * (a tail write takes no other lock) while a test reads the count. The
 * readers of the log take a const model; the flag is the one field they
 * change. */
static void log_lock(const struct ixgbe_model *m)
{
    while (atomic_flag_test_and_set_explicit((atomic_flag *)&m->log_lock, memory_order_acquire))
        ;
}

static void log_unlock(const struct ixgbe_model *m)
{
    atomic_flag_clear_explicit((atomic_flag *)&m->log_lock, memory_order_release);
}

__attribute__((format(printf, 2, 3))) static void violation(struct ixgbe_model *m, const char *fmt,
                                                            ...)
{
    char msg[256];
    va_list ap;
    if (!m->cfg.strict)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    log_lock(m);
    memcpy(m->log[m->nviol % IXGBE_MODEL_LOG], msg, sizeof(msg));
    m->nviol++;
    log_unlock(m);
    if (m->cfg.on_violation)
        m->cfg.on_violation(m->cfg.ctx, msg);
}

static void count(struct ixgbe_model *m, enum stat s, uint64_t n)
{
    m->stat[s] += n;
    m->total[s] += n;
}

/* --- Reset (§4.2.1.6, §8.2.3.1.1) -------------------------------------------- */

/* Puts every register at its reset value and every queue down. The link
 * restarts when the reset ends: the model resets the link with the device. */
static void device_reset(struct ixgbe_model *m, uint64_t done_at)
{
    memset(m->reg, 0, sizeof(m->reg));
    for (size_t i = 0; i < NDEFS; i++) {
        const struct regdef *d = &regdefs[i];
        for (uint32_t n = 0; n < d->count; n++)
            m->reg[own_offset(d, n) / 4] = n == 0 ? d->reset0 : d->reset;
    }
    /* AUTOC comes from the EEPROM: the model's asks for 10 GbE serial (LMS = 011b). */
    m->reg[AUTOC / 4] = 3u << AUTOC_LMS_SHIFT;
    /* I2CCTL's outputs at their reset values drive the bus */
    uint32_t i2cctl = m->reg[I2CCTL / 4];
    i2c_lines(m, (i2cctl & I2CCTL_CLK_OUT) != 0, (i2cctl & I2CCTL_DATA_OUT) != 0);
    for (int i = 0; i < IXGBE_MODEL_QUEUES; i++) {
        struct queue *qs[2] = { &m->rxq[i], &m->txq[i] };
        for (int k = 0; k < 2; k++) {
            struct queue *q = qs[k];
            q->enabled = false;
            atomic_store(&q->ndesc, 0);
            atomic_store(&q->enable_seen, false);
            atomic_store(&q->head, 0);
            atomic_store(&q->tail, 0);
        }
    }
    memset(m->stat, 0, sizeof(m->stat));
    memset(m->high, 0, sizeof(m->high));
    memset(m->qprdc, 0, sizeof(m->qprdc));
    m->t_reset_done = done_at;
    m->t_link_start = done_at;
    m->t_lrst_done = 0;
    m->eeprom_loaded = false;
    m->dmaidone_seen = false;
    m->ard_seen = false;
    m->master_asked = false;
    m->master_seen = false;
    m->rst_access_flagged = false;
}

/* --- 4. Receive ----------------------------------------------------------------- */

/* §4.6.7: the queue's ring and buffers must be set up before it is enabled.
 * Latches what the model uses; false (and the queue stays off) if unusable. */
static bool rx_setup(struct ixgbe_model *m, uint32_t n)
{
    uint64_t base = (uint64_t)m->reg[RDBAH(n) / 4] << 32 | m->reg[RDBAL(n) / 4];
    uint32_t len = m->reg[RDLEN(n) / 4], srrctl = m->reg[SRRCTL(n) / 4];
    uint32_t bsize = srrctl & SRRCTL_BSIZEPACKET_MASK;
    uint32_t desctype = (srrctl & SRRCTL_DESCTYPE_MASK) >> SRRCTL_DESCTYPE_SHIFT;
    bool ok = true;

    if (n >= IXGBE_MODEL_QUEUES) {
        violation(m,
                  "RXDCTL(%u).ENABLE set: the model moves frames on queues 0-%d only "
                  "(IXGBE_MODEL_QUEUES)",
                  n, IXGBE_MODEL_QUEUES - 1);
        return false;
    }
    if (!m->dmaidone_seen)
        violation(m,
                  "RXDCTL(%u).ENABLE set before RDRXCTL.DMAIDONE was read as 1 (§4.6.3: "
                  "wait for DMA initialization done before initializing receive)",
                  n);
    if (len == 0 || len % 128 != 0) {
        violation(m,
                  "RXDCTL(%u).ENABLE set with RDLEN(%u) = %u, not a non-zero multiple of 128 "
                  "(§8.2.3.8.3, §7.1.9)",
                  n, n, len);
        ok = false;
    }
    if (base % 128 != 0) {
        violation(m,
                  "RXDCTL(%u).ENABLE set with RDBAL(%u) = 0x%08x, not 128-byte aligned "
                  "(§8.2.3.8.1)",
                  n, n, m->reg[RDBAL(n) / 4]);
        ok = false;
    }
    if (ok && !dma_ok(m, base, len)) {
        violation(m,
                  "RXDCTL(%u).ENABLE set with the ring at RDBAH/RDBAL(%u) = 0x%llx, %u bytes, "
                  "outside DMA memory (§7.1.9)",
                  n, n, (unsigned long long)base, len);
        ok = false;
    }
    if (bsize == 0 || bsize > 16) {
        violation(m,
                  "RXDCTL(%u).ENABLE set with SRRCTL(%u).BSIZEPACKET = %u: no receive buffer "
                  "size (§8.2.3.8.7: 1 KB to 16 KB)",
                  n, n, bsize);
        ok = false;
    }
    if (desctype > 1) {
        violation(m,
                  "RXDCTL(%u).ENABLE set with SRRCTL(%u).DESCTYPE = %u: the model does legacy "
                  "(000b) and advanced one-buffer (001b) descriptors only (§8.2.3.8.7; "
                  "§7.1.10: header split should not be used)",
                  n, n, desctype);
        ok = false;
    }
    if (ok && atomic_load(&m->rxq[n].head) >= len / 16) {
        violation(m,
                  "RXDCTL(%u).ENABLE set with RDH(%u) = %u beyond the ring of %u descriptors "
                  "(§8.2.3.8.4)",
                  n, n, atomic_load(&m->rxq[n].head), len / 16);
        ok = false;
    }
    if (!ok)
        return false;
    struct queue *q = &m->rxq[n];
    q->base = base;
    q->bsize = bsize * 1024;
    q->legacy = desctype == 0;
    atomic_store(&q->ndesc, len / 16);
    return true;
}

static bool queue_ready(const struct ixgbe_model *m, const struct queue *q)
{
    return q->enabled && !q->never && elapsed(m, q->t_enable, m->cfg.queue_ns);
}

/* §7.1.1.1 L2 filtering: broadcast with BAM (or MPE), multicast with MPE,
 * unicast with UPE; otherwise the destination must match a valid RAL/RAH
 * (the MTA and the pools are not modelled). */
static bool l2_filter(const struct ixgbe_model *m, const uint8_t *da)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint32_t fctrl = m->reg[FCTRL / 4];
    if (memcmp(da, bcast, 6) == 0)
        return (fctrl & (FCTRL_BAM | FCTRL_MPE)) != 0;
    if ((da[0] & 1) && (fctrl & FCTRL_MPE))
        return true;
    if (!(da[0] & 1) && (fctrl & FCTRL_UPE))
        return true;
    uint32_t lo = da[0] | da[1] << 8 | da[2] << 16 | (uint32_t)da[3] << 24;
    uint32_t hi = da[4] | da[5] << 8;
    for (uint32_t i = 0; i < 128; i++) {
        uint32_t rah = m->reg[RAH(i) / 4];
        /* AV set, Address Select (bits 17:16) = 00b: destination address */
        if ((rah & RAH_AV) && (rah & (3u << 16)) == 0 && (rah & 0xFFFF) == hi &&
            m->reg[RAL(i) / 4] == lo)
            return true;
    }
    return false;
}

/* The Ethernet FCS (IEEE 802.3 CRC-32), for buffers received without CRC strip. */
static uint32_t crc32(const uint8_t *p, uint32_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & -(c & 1));
    }
    return ~c;
}

static uint64_t *desc_at(const struct queue *q, uint32_t i)
{
    return (uint64_t *)(uintptr_t)(q->base + 16ull * i);
}

/* Writes qword 0, then qword 1 (which holds DD) with release ordering, so a
 * reader that sees DD sees the buffer and the rest of the descriptor. */
/* cfg.dma_evicts: the lines of [p, p + len) out of every CPU cache. */
static void dma_evict(const struct ixgbe_model *m, const void *p, uint32_t len)
{
    if (!m->cfg.dma_evicts)
        return;
    uintptr_t a = (uintptr_t)p & ~(uintptr_t)63;
    for (; a < (uintptr_t)p + len; a += 64)
        __asm__ volatile("clflush (%0)" : : "r"(a) : "memory");
}

static void write_back(const struct ixgbe_model *m, uint64_t *d, uint64_t q0, uint64_t q1,
                       bool write_q0)
{
    if (write_q0)
        d[0] = q0;
    __atomic_store_n(&d[1], q1, __ATOMIC_RELEASE);
    dma_evict(m, d, 16);
}

/* Places a frame in queue n: one buffer per BSIZEPACKET bytes, EOP on the
 * last (§7.1.6). q0 is the advanced write-back's first qword (RSS Type and
 * RSS Hash), the same in every descriptor of the frame. False if there are
 * not enough descriptors (RDH == RDT means none) or a buffer is not DMA
 * memory; nothing is then written. */
static bool rx_dma(struct ixgbe_model *m, uint32_t n, const uint8_t *f, uint32_t len, uint64_t q0)
{
    struct queue *q = &m->rxq[n];
    uint32_t size = atomic_load_explicit(&q->ndesc, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    if (tail >= size) /* written before the ring was enabled; flagged then */
        return false;
    uint32_t avail = (tail + size - head) % size;
    uint32_t need = (len + q->bsize - 1) / q->bsize;
    if (need > avail)
        return false;
    for (uint32_t k = 0; k < need; k++) {
        uint32_t i = (head + k) % size;
        uint64_t addr = desc_at(q, i)[0];
        uint32_t chunk = k + 1 < need ? q->bsize : len - k * q->bsize;
        if (!dma_ok(m, addr, chunk)) {
            violation(m,
                      "RDT(%u): descriptor %u points at packet buffer 0x%llx, outside DMA "
                      "memory (§7.1.6.1)",
                      n, i, (unsigned long long)addr);
            return false;
        }
    }
    for (uint32_t k = 0; k < need; k++) {
        uint32_t i = (head + k) % size;
        uint64_t *d = desc_at(q, i);
        uint32_t chunk = k + 1 < need ? q->bsize : len - k * q->bsize;
        uint64_t status = RXD_STAT_DD | (k + 1 == need ? RXD_STAT_EOP : 0);
        memcpy((void *)(uintptr_t)d[0], f + k * q->bsize, chunk);
        dma_evict(m, (void *)(uintptr_t)d[0], chunk);
        if (m->lies_left && k + 1 == need) { /* the buffer as it is; the write-back lies */
            if (m->lie == IXGBE_MODEL_LIE_LENGTH)
                chunk = 2 * q->bsize;
            else if (m->lie == IXGBE_MODEL_LIE_NO_EOP)
                status &= ~(uint64_t)RXD_STAT_EOP;
            m->lies_left--;
        }
        if (q->legacy) /* §7.1.5: length 15:0, status 39:32; the address stays; no RSS */
            write_back(m, d, 0, chunk | status << RXD_LEGACY_STAT_SHIFT, false);
        else /* §7.1.6.2: RSS Type and Hash (packet type 0), then status and PKT_LEN */
            write_back(m, d, q0, status | (uint64_t)chunk << RXD_PKT_LEN_SHIFT, true);
    }
    atomic_store_explicit(&q->head, (head + need) % size, memory_order_release);
    return true;
}

/* --- Receive-side scaling (§7.1.2.8) --------------------------------------------- */

/* Every queue a RETA entry can name moves frames. */
_Static_assert(IXGBE_MODEL_QUEUES > RETA_ENTRY_MASK, "RSS reaches queues 0-15");

/* What RSS makes of a frame: its queue, and what the write-back reports. */
struct rss {
    uint32_t queue;
    uint32_t hash; /* 0 when not hashed */
    uint32_t type; /* RSS Type (§7.1.6.2); RXD_RSSTYPE_NONE when not hashed */
};

/* §7.1.2.8.1 ComputeHash: the Toeplitz hash of n input bytes (n <= 36) under
 * the 40-byte secret key in RSSRK, byte 4i + k of the key in bits 8k+7:8k of
 * RSSRK(i) (§8.2.3.7.14). Input bits are taken from the left (the MSB of
 * in[0] first); for each set bit the 32 key bits starting at the same
 * position are XORed into the result. */
static uint32_t toeplitz(const struct ixgbe_model *m, const uint8_t *in, uint32_t n)
{
    uint8_t key[40];
    for (int i = 0; i < 40; i++)
        key[i] = (uint8_t)(m->reg[RSSRK(i / 4) / 4] >> (8 * (i % 4)));
    uint32_t hash = 0;
    uint32_t window = (uint32_t)key[0] << 24 | (uint32_t)key[1] << 16 | key[2] << 8 | key[3];
    for (uint32_t i = 0; i < n; i++) {
        for (int b = 7; b >= 0; b--) {
            if (in[i] >> b & 1)
                hash ^= window;
            window = window << 1 | (key[i + 4] >> b & 1); /* the key's next bit slides in */
        }
    }
    return hash;
}

/* §7.1.2.8.1: the hash input of a frame and its RSS Type, as MRQC's field
 * enables choose: source address, destination address (IPv4 @12-15, @16-19;
 * IPv6 @8-23, @24-39, counted from the IP header), then the source and
 * destination ports (the first 4 bytes of the TCP or UDP header). TCP
 * first, then UDP, then addresses only; a type not enabled falls through to
 * the next. A TCP or UDP header counts only in an IP datagram that is not a
 * fragment (MF clear, fragment offset 0). IPv4 options are skipped by IHL.
 * Returns the input's length; 0: not hashed (not IP, or no enabled type
 * fits). The model skips one 802.1Q tag and parses no IPv6 extension
 * headers: an IPv6 packet with one is hashed on its addresses. */
static uint32_t rss_input(uint32_t mrqc, const uint8_t *f, uint32_t len, uint8_t in[36],
                          uint32_t *type)
{
    uint32_t l3 = (len >= 18 && f[12] == 0x81 && f[13] == 0x00) ? 18 : 14;
    uint32_t ethertype = (uint32_t)f[l3 - 2] << 8 | f[l3 - 1];
    if (ethertype == 0x0800 && len >= l3 + 20 && f[l3] >> 4 == 4) {
        uint32_t ihl = (f[l3] & 0xFu) * 4, frag = (f[l3 + 6] << 8 | f[l3 + 7]) & 0x3FFFu;
        uint8_t proto = f[l3 + 9];
        bool ports = frag == 0 && ihl >= 20 && len >= l3 + ihl + 4;
        memcpy(in, f + l3 + 12, 8);
        if (ports)
            memcpy(in + 8, f + l3 + ihl, 4);
        if (ports && proto == 6 && (mrqc & MRQC_TCPIPV4)) {
            *type = RXD_RSSTYPE_TCPIPV4;
            return 12;
        }
        if (ports && proto == 17 && (mrqc & MRQC_UDPIPV4)) {
            *type = RXD_RSSTYPE_UDPIPV4;
            return 12;
        }
        if (mrqc & MRQC_IPV4) {
            *type = RXD_RSSTYPE_IPV4;
            return 8;
        }
    } else if (ethertype == 0x86DD && len >= l3 + 40 && f[l3] >> 4 == 6) {
        uint8_t next = f[l3 + 6]; /* Next Header */
        bool ports = len >= l3 + 44;
        memcpy(in, f + l3 + 8, 32);
        if (ports)
            memcpy(in + 32, f + l3 + 40, 4);
        if (ports && next == 6 && (mrqc & MRQC_TCPIPV6)) {
            *type = RXD_RSSTYPE_TCPIPV6;
            return 36;
        }
        if (ports && next == 17 && (mrqc & MRQC_UDPIPV6)) {
            *type = RXD_RSSTYPE_UDPIPV6;
            return 36;
        }
        if (mrqc & MRQC_IPV6) {
            *type = RXD_RSSTYPE_IPV6;
            return 32;
        }
    }
    return 0;
}

/* §7.1.2: with MRQC.MRQE = 0001b (RSS only) the queue is the RSS output
 * index; §7.1.2.8: the hash's 7 LSBs index RETA's 128 entries, bits 3:0 of
 * the entry being that index. A frame RSS cannot hash gets RSS output index 0
 * (queue 0, not RETA's entry 0) and a hash of 0. With MRQE = 0000b every
 * frame goes to queue 0, unhashed. */
static struct rss rss(const struct ixgbe_model *m, const uint8_t *f, uint32_t len)
{
    struct rss r = { 0, 0, RXD_RSSTYPE_NONE };
    uint32_t mrqc = m->reg[MRQC / 4];
    uint8_t in[36];
    if ((mrqc & MRQC_MRQE_MASK) != MRQC_MRQE_RSS)
        return r;
    uint32_t n = rss_input(mrqc, f, len, in, &r.type);
    if (n == 0)
        return r;
    r.hash = toeplitz(m, in, n);
    uint32_t entry = r.hash & 0x7F;
    r.queue = m->reg[RETA(entry / 4) / 4] >> (8 * (entry % 4)) & RETA_ENTRY_MASK;
    return r;
}

/* QPRDC(0..15) are statistics counters, not queues: RQSMR maps queue n to
 * counter bits 3:0 of byte n % 4 of RQSMR(n / 4); at reset every queue
 * counts in QPRDC(0). */
static void count_queue_drop(struct ixgbe_model *m, uint32_t n)
{
    uint32_t counter = m->reg[RQSMR(n / 4) / 4] >> (8 * (n % 4)) & 0xF;
    m->qprdc[counter]++;
    m->total[S_QPRDC]++;
}

/* A frame (without FCS) arriving from the wire. Order, after the datasheet's
 * counters: receiver off: ignored (no statistic counts it); TPR; the L2
 * filter; size (RUC, ROC count frames that passed the filter); then its queue
 * (RSS, or queue 0). A queue without a free descriptor, or not enabled (taken
 * alike, as the 82598 datasheet's no-buffer count takes "no available buffers
 * in the appropriate queue ... or the queue was disabled"), drops the frame
 * when its SRRCTL.DROP_EN is set and counts it in QPRDC (§7.1.3.2,
 * §8.2.3.8.7); without DROP_EN it is a miss (MPC), since the model has no
 * packet buffer to wait in. The RSS Type and Hash are written back only with
 * RXCSUM.PCSD set (§7.1.2.8, §8.2.3.7.5); without it that dword carries the
 * fragment checksum and IP identification, which the model leaves 0. */
static bool rx_frame(struct ixgbe_model *m, const uint8_t *f, uint32_t len)
{
    sync_time(m);
    if (m->unplugged || (m->peer && m->peer->unplugged))
        return false; /* no cable: nothing arrives, and nothing counts it */
    if (!(m->reg[RXCTRL / 4] & RXCTRL_RXEN) || (m->reg[SECRXCTRL / 4] & SECRXCTRL_RX_DIS) ||
        resetting(m)) {
        count(m, S_RX_OFF, 1);
        return false;
    }
    count(m, S_TPR, 1);
    if (len < 6 || !l2_filter(m, f)) {
        count(m, S_FILTERED, 1);
        return false;
    }
    uint32_t hl = m->reg[HLREG0 / 4];
    uint32_t max = (hl & HLREG0_JUMBOEN) ? m->reg[MAXFRS / 4] >> 16 : MAX_FRAME;
    bool tagged = len >= 14 && f[12] == 0x81 && f[13] == 0x00;
    if (len + FCS_LEN < MIN_FRAME) {
        count(m, S_RUC, 1);
        return false;
    }
    if (len + FCS_LEN > max + (tagged ? VLAN_TAG_LEN : 0) || len > IXGBE_MODEL_MAX_FRAME) {
        count(m, S_ROC, 1);
        return false;
    }
    struct rss r = rss(m, f, len);
    uint64_t q0 =
        (m->reg[RXCSUM / 4] & RXCSUM_PCSD) ? r.type | (uint64_t)r.hash << RXD_RSS_HASH_SHIFT : 0;
    uint32_t dlen = len, n = r.queue;
    if (!(hl & HLREG0_RXCRCSTRP)) { /* the FCS goes to host memory */
        uint32_t fcs = crc32(f, len);
        memcpy(m->rxbuf, f, len);
        for (int k = 0; k < 4; k++)
            m->rxbuf[len + k] = (uint8_t)(fcs >> (8 * k));
        f = m->rxbuf;
        dlen = len + FCS_LEN;
    }
    if (!queue_ready(m, &m->rxq[n]) || !rx_dma(m, n, f, dlen, q0)) {
        if (m->reg[SRRCTL(n) / 4] & SRRCTL_DROP_EN)
            count_queue_drop(m, n);
        else
            count(m, S_MPC, 1);
        return false;
    }
    count(m, S_GPRC, 1);
    count(m, S_GORC, len + FCS_LEN);
    if (f[0] & 1)
        count(m, memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) == 0 ? S_BPRC : S_MPRC, 1);
    return true;
}

/* --- 5. Transmit ---------------------------------------------------------------- */

/* §4.6.8: the ring must be set up before the queue is enabled. */
static bool tx_setup(struct ixgbe_model *m, uint32_t n)
{
    uint64_t base = (uint64_t)m->reg[TDBAH(n) / 4] << 32 | m->reg[TDBAL(n) / 4];
    uint32_t len = m->reg[TDLEN(n) / 4];
    bool ok = true;

    if (n >= IXGBE_MODEL_QUEUES) {
        violation(m,
                  "TXDCTL(%u).ENABLE set: the model moves frames on queues 0-%d only "
                  "(IXGBE_MODEL_QUEUES)",
                  n, IXGBE_MODEL_QUEUES - 1);
        return false;
    }
    if (len == 0 || len % 128 != 0) {
        violation(m,
                  "TXDCTL(%u).ENABLE set with TDLEN(%u) = %u, not a non-zero multiple of 128 "
                  "(§8.2.3.9.7, §7.2.3.3)",
                  n, n, len);
        ok = false;
    }
    if (base % 128 != 0) {
        violation(m,
                  "TXDCTL(%u).ENABLE set with TDBAL(%u) = 0x%08x, not 128-byte aligned "
                  "(§8.2.3.9.5)",
                  n, n, m->reg[TDBAL(n) / 4]);
        ok = false;
    }
    if (ok && !dma_ok(m, base, len)) {
        violation(m,
                  "TXDCTL(%u).ENABLE set with the ring at TDBAH/TDBAL(%u) = 0x%llx, %u bytes, "
                  "outside DMA memory (§7.2.3.3)",
                  n, n, (unsigned long long)base, len);
        ok = false;
    }
    if (ok && atomic_load(&m->txq[n].head) >= len / 16) {
        violation(m,
                  "TXDCTL(%u).ENABLE set with TDH(%u) = %u beyond the ring of %u descriptors "
                  "(§8.2.3.9.8)",
                  n, n, atomic_load(&m->txq[n].head), len / 16);
        ok = false;
    }
    if (!ok)
        return false;
    m->txq[n].base = base;
    atomic_store(&m->txq[n].ndesc, len / 16);
    return true;
}

/* A frame leaves the MAC: statistics, then loopback (§8.2.3.22.8 LPBK: sent
 * back through the receiver, not out), the cable, or the sink. */
static void wire_send(struct ixgbe_model *m, const uint8_t *f, uint32_t len)
{
    count(m, S_TPT, 1);
    if (len + FCS_LEN >= MIN_FRAME) { /* "a good transmit packet is 64 or more bytes" */
        count(m, S_GPTC, 1);
        count(m, S_GOTC, len + FCS_LEN);
        if (f[0] & 1)
            count(m, memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) == 0 ? S_BPTC : S_MPTC, 1);
    }
    if (m->reg[HLREG0 / 4] & HLREG0_LPBK)
        rx_frame(m, f, len);
    else if (m->peer)
        rx_frame(m->peer, f, len);
    else if (m->sink)
        m->sink(m->sink_ctx, f, len);
}

/* Gathers the frame in descriptors [first, first + cnt) into txbuf (§7.2.3.2).
 * Returns its length, or -1 if it must not be sent (said in strict mode). */
static long tx_gather(struct ixgbe_model *m, uint32_t n, uint32_t first, uint32_t cnt, bool *ifcs)
{
    struct queue *q = &m->txq[n];
    uint32_t size = atomic_load_explicit(&q->ndesc, memory_order_relaxed);
    uint32_t len = 0, paylen = UINT32_MAX; /* from the first advanced data descriptor */
    bool ok = true, have_first = false;
    for (uint32_t k = 0; k < cnt; k++) {
        uint32_t i = (first + k) % size;
        const uint64_t *d = desc_at(q, i);
        uint64_t addr = d[0], w = d[1];
        uint32_t dlen = (uint32_t)(w & TXD_DTALEN_MASK);
        uint64_t dtyp = (w >> TXD_DTYP_SHIFT) & 0xF;
        if (!(w & TXD_CMD_DEXT)) {
            violation(m,
                      "TDT(%u): descriptor %u has DCMD.DEXT = 0, a legacy descriptor "
                      "(§7.2.3.2.4: an advanced data descriptor has DEXT = 1, DTYP = 0011b)",
                      n, i);
        } else if (dtyp == TXD_DTYP_CTXT) {
            continue; /* offload context (§7.2.3.2.3): the model does no offloads */
        } else if (dtyp != TXD_DTYP_DATA) {
            violation(m,
                      "TDT(%u): descriptor %u has DTYP = %llu, neither data (0011b) nor "
                      "context (0010b) (§7.2.3.2.4)",
                      n, i, (unsigned long long)dtyp);
            ok = false;
            continue;
        } else if (!have_first) {
            paylen = (uint32_t)(w >> TXD_PAYLEN_SHIFT);
            if (w & TXD_CMD_TSE)
                violation(m,
                          "TDT(%u): descriptor %u asks for TCP segmentation (DCMD.TSE), "
                          "which the model does not do (§7.2.4)",
                          n, i);
        }
        if (len + dlen > IXGBE_MODEL_MAX_FRAME) {
            violation(m, "TDT(%u): frame ending at descriptor %u is longer than %u bytes", n,
                      (first + cnt - 1) % size, IXGBE_MODEL_MAX_FRAME);
            ok = false;
            break;
        }
        if (dlen && !dma_ok(m, addr, dlen)) {
            violation(m,
                      "TDT(%u): descriptor %u points at buffer 0x%llx, outside DMA memory "
                      "(§7.2.3.2.4)",
                      n, i, (unsigned long long)addr);
            ok = false;
            continue;
        }
        if (!have_first)
            *ifcs = (w & TXD_CMD_IFCS) != 0;
        have_first = true;
        if (dlen)
            memcpy(m->txbuf + len, (const void *)(uintptr_t)addr, dlen);
        len += dlen;
    }
    if (ok && paylen != UINT32_MAX && paylen != len)
        violation(m,
                  "TDT(%u): PAYLEN = %u in descriptor %u, but the frame's descriptors hold %u "
                  "bytes (§7.2.3.2.4: without TSE, PAYLEN is the whole packet)",
                  n, paylen, first, len);
    return ok ? (long)len : -1;
}

/* Transmits every whole frame between TDH and TDT on queue n. */
static unsigned tx_queue(struct ixgbe_model *m, uint32_t n)
{
    struct queue *q = &m->txq[n];
    uint32_t size = atomic_load_explicit(&q->ndesc, memory_order_relaxed);
    uint32_t head = atomic_load_explicit(&q->head, memory_order_relaxed);
    uint32_t tail = atomic_load_explicit(&q->tail, memory_order_acquire);
    uint32_t wbal = m->reg[TDWBAL(n) / 4], start = head;
    unsigned frames = 0;
    if (tail >= size)
        return 0;
    while (head != tail) {
        /* A frame is sent only whole: find its EOP before TDT. */
        uint32_t cnt = 0, i = head;
        bool eop = false, ifcs = false;
        while (i != tail && !eop) {
            eop = (desc_at(q, i)[1] & TXD_CMD_EOP) != 0;
            i = (i + 1) % size;
            cnt++;
        }
        if (!eop)
            break;
        long len = tx_gather(m, n, head, cnt, &ifcs);
        if (len >= 0 && len + FCS_LEN < MIN_FRAME && (m->reg[HLREG0 / 4] & HLREG0_TXPADEN)) {
            if (!ifcs) /* §7.2.3.2.4: padding needs IFCS */
                violation(m,
                          "TDT(%u): a %ld-byte frame at descriptor %u is padded by "
                          "HLREG0.TXPADEN but DCMD.IFCS is 0 (§7.2.3.2.4: set IFCS when "
                          "short packets are padded)",
                          n, len, head);
            memset(m->txbuf + len, 0, MIN_FRAME - FCS_LEN - len);
            len = MIN_FRAME - FCS_LEN;
        }
        if (len >= 0) {
            wire_send(m, m->txbuf, (uint32_t)len);
            frames++;
        } else {
            count(m, S_TX_DROPPED, 1);
        }
        /* §7.2.3.5: DD in every descriptor with RS, unless head write-back is on */
        for (uint32_t k = 0; k < cnt && !(wbal & TDWBAL_HEAD_WB_EN); k++) {
            uint64_t *d = desc_at(q, (head + k) % size);
            if (d[1] & TXD_CMD_RS)
                write_back(m, d, 0, TXD_STAT_DD, false);
        }
        head = (head + cnt) % size;
        atomic_store_explicit(&q->head, head, memory_order_release);
    }
    if ((wbal & TDWBAL_HEAD_WB_EN) && head != start) { /* §7.2.3.5.2: the head to host memory */
        uint64_t at = (uint64_t)m->reg[TDWBAH(n) / 4] << 32 | (wbal & ~3u);
        if (dma_ok(m, at, 4))
            __atomic_store_n((uint32_t *)(uintptr_t)at, head, __ATOMIC_RELEASE);
        else
            violation(m,
                      "TDWBAL(%u): head write-back address 0x%llx is outside DMA memory "
                      "(§8.2.3.9.11)",
                      n, (unsigned long long)at);
    }
    return frames;
}

unsigned ixgbe_model_step(struct ixgbe_model *m)
{
    unsigned frames = 0;
    lock();
    sync_time(m);
    bool lpbk = (m->reg[HLREG0 / 4] & HLREG0_LPBK) != 0;
    /* TX needs DMATXCTL.TE, the arbiters on, and a link (or loopback): with
     * the link down frames wait in the ring. */
    if ((m->reg[DMATXCTL / 4] & DMATXCTL_TE) && !(m->reg[RTTDCS / 4] & RTTDCS_ARBDIS) &&
        !resetting(m) && (lpbk || link_up(m))) {
        for (uint32_t n = 0; n < IXGBE_MODEL_QUEUES; n++)
            if (queue_ready(m, &m->txq[n]) && !m->txq[n].frozen)
                frames += tx_queue(m, n);
    }
    unlock();
    return frames;
}

/* --- 6. BAR0 ---------------------------------------------------------------------- */

/* "RDT(3)" for an array, "CTRL" for a single register. */
struct regname {
    char s[24];
};
static struct regname name(const struct regdef *d, uint32_t n)
{
    struct regname r;
    if (d->count > 1)
        snprintf(r.s, sizeof(r.s), "%s(%u)", d->name, n);
    else
        snprintf(r.s, sizeof(r.s), "%s", d->name);
    return r;
}

/* §8.2.3.1.1: after setting CTRL.RST wait about 1 ms before checking the bit
 * or accessing any other register. Said once per reset. */
static void check_reset_wait(struct ixgbe_model *m, const struct regdef *d, uint32_t n,
                             const char *how)
{
    if (m->t_rst_write == NEVER || now(m) - m->t_rst_write >= 1000000 || m->rst_access_flagged)
        return;
    m->rst_access_flagged = true;
    violation(m,
              "%s %s %llu ns after CTRL.RST was set (§8.2.3.1.1: wait about 1 ms before "
              "checking the bit or accessing any register)",
              name(d, n).s, how, (unsigned long long)(now(m) - m->t_rst_write));
}

static uint32_t stat_read(struct ixgbe_model *m, enum stat s)
{
    uint32_t v = (uint32_t)m->stat[s];
    m->stat[s] = 0;
    return v;
}

/* §4.2.1.6.1: "Prior to issuing software reset, the driver needs to execute
 * the master disable algorithm as defined in Section 5.2.5.3.2": receive
 * queues off, CTRL.PCIE_MASTER_DISABLE, then STATUS.PCIE_MASTER_ENABLE polled
 * until 0. Where that bit never clears, §5.2.5.3.2 (and the specification
 * update's clarification 9) has the driver issue two software resets, more
 * than 1 us apart. Called at a CTRL.RST write. */
static void check_master_disable(struct ixgbe_model *m)
{
    if (m->second_reset_due) {
        m->second_reset_due = false; /* the second of the two */
        return;
    }
    if (!m->master_asked)
        violation(m, "CTRL.RST set without the PCIe master disable first (§4.2.1.6.1, "
                     "§5.2.5.3.2: set CTRL.PCIE_MASTER_DISABLE and poll "
                     "STATUS.PCIE_MASTER_ENABLE until 0 before a software reset)");
    else if (!m->master_seen)
        m->second_reset_due = true;
}

/* A register access after a reset that followed a master disable that
 * never completed, without the second reset §5.2.5.3.2 asks for then.
 * Reads of CTRL (polling the first reset) do not count. */
static void check_second_reset(struct ixgbe_model *m, const struct regdef *d)
{
    if (!m->second_reset_due || d->id == R_CTRL || resetting(m))
        return;
    m->second_reset_due = false;
    violation(m,
              "%s accessed after one CTRL.RST, while STATUS.PCIE_MASTER_ENABLE had not read 0 "
              "(§5.2.5.3.2 and the specification update's clarification 9: then issue two "
              "software resets, more than 1 us apart)",
              d->name);
}

/* A RO bit of a register reads what the model computes. */
static uint32_t reg_read(struct ixgbe_model *m, const struct regdef *d, uint32_t n, uint32_t off)
{
    uint32_t v = m->reg[off / 4];
    switch (d->id) {
    case R_CTRL:
        if (resetting(m))
            v |= CTRL_RST;
        if (!elapsed(m, m->t_lrst_done, 0))
            v |= CTRL_LRST;
        return v;
    case R_STATUS: /* §5.2.5.3.2: no request pending once master disable is asked */
        v &= ~STATUS_PCIE_MASTER_ENABLE; /* computed here, whatever the reset value */
        v |= (uint32_t)(m->cfg.lan_id & 1) << STATUS_LAN_ID_SHIFT;
        if (!(m->reg[CTRL / 4] & CTRL_PCIE_MASTER_DISABLE) || m->cfg.master_stuck)
            return v | STATUS_PCIE_MASTER_ENABLE;
        m->master_seen = true;
        return v;
    case R_EEC:
        if (!elapsed(m, m->t_reset_done, m->cfg.eeprom_ns))
            return EEC_EE_PRES;
        m->ard_seen = true;
        return EEC_EE_PRES | EEC_ARD;
    case R_I2CCTL: /* the lines: SCL as driven (no clock stretching), SDA wired-AND */
        v &= I2CCTL_CLK_OUT | I2CCTL_DATA_OUT;
        return v | (m->i2c.scl ? I2CCTL_CLK_IN : 0) |
               (m->i2c.sda && m->i2c.drive ? I2CCTL_DATA_IN : 0);
    case R_SWSM: /* §8.2.3.4.9: reading SMBI sets it; who read it as 0 owns it */
        m->reg[off / 4] |= SWSM_SMBI;
        return v;
    case R_RAL_RAH:
        if (n == 0 && !m->ard_seen)
            violation(m,
                      "%s read before EEC.ARD was read as 1 (§4.6.3: wait for the EEPROM "
                      "auto-read to complete; until then RAL(0)/RAH(0) do not hold the MAC "
                      "address, §8.2.3.7.9)",
                      name(d, n).s);
        return v;
    case R_RDRXCTL:
        if (elapsed(m, m->t_reset_done, m->cfg.dmainit_ns)) {
            m->dmaidone_seen = true;
            v |= RDRXCTL_DMAIDONE;
        }
        return v;
    case R_LINKS:
        return link_up(m) ? LINKS_LINK_UP | LINKS_LINK_SPEED_10G : 0;
    case R_EICR: /* the model raises no interrupt causes; read clears */
        m->reg[off / 4] = 0;
        return v;
    case R_SECRXSTAT: /* the model's data path is empty at once */
        return (m->reg[SECRXCTRL / 4] & SECRXCTRL_RX_DIS) ? SECRXSTAT_SECRX_RDY : 0;
    case R_RXDCTL:
    case R_TXDCTL: {
        struct queue *q =
            n < IXGBE_MODEL_QUEUES ? (d->id == R_RXDCTL ? &m->rxq[n] : &m->txq[n]) : NULL;
        if (q && queue_ready(m, q)) {
            atomic_store(&q->enable_seen, true);
            v |= d->id == R_RXDCTL ? RXDCTL_ENABLE : TXDCTL_ENABLE;
        }
        return v;
    }
    case R_STAT:
        return stat_read(m, d->stat);
    case R_MPC:
        return n == 0 ? stat_read(m, S_MPC) : 0;
    case R_QPRDC:
        v = (uint32_t)m->qprdc[n];
        m->qprdc[n] = 0;
        return v;
    case R_OCTETS_LOW: /* §8.2.3.23: the low half is read first; the high half waits */
        m->high[d->stat] = (uint32_t)(m->stat[d->stat] >> 32);
        return stat_read(m, d->stat);
    case R_OCTETS_HIGH:
        v = m->high[d->stat];
        m->high[d->stat] = 0;
        return v;
    default:
        if (d->access == RC)
            m->reg[off / 4] = 0;
        if (d->access == WO) {
            violation(m, "read of %s, a write-only register (§%s); it reads 0", name(d, n).s,
                      d->section);
            return 0;
        }
        return v;
    }
}

/* Receive set-up the datasheet asks of software whatever features are used,
 * checked when receive is enabled: three RDRXCTL fields away from their
 * reset values (§4.6.7: RSCFRSTSIZE "should be set to 0x0 as opposed to its
 * hardware default"; §8.2.3.8.8: RSCACKC and FCOE_WRFIX "Software should set
 * this bit to 1b"), and the high water mark of every packet buffer in use
 * (§4.6.3.2: "FCRTH[n].RTH fields must be set by default regardless if flow
 * control is enabled or not", typically RXPBSIZE[n] - 0x6000). */
static void check_rx_setup(struct ixgbe_model *m, uint32_t rd)
{
    if (rd & RDRXCTL_RSCFRSTSIZE_MASK)
        violation(m,
                  "RXCTRL.RXEN set with RDRXCTL.RSCFRSTSIZE = 0x%x (§4.6.7: it should be set "
                  "to 0x0 as opposed to its hardware default)",
                  (rd & RDRXCTL_RSCFRSTSIZE_MASK) >> RDRXCTL_RSCFRSTSIZE_SHIFT);
    if (!(rd & RDRXCTL_RSCACKC))
        violation(m, "RXCTRL.RXEN set with RDRXCTL.RSCACKC = 0 (§8.2.3.8.8: software should set "
                     "this bit to 1b)");
    if (!(rd & RDRXCTL_FCOE_WRFIX))
        violation(m, "RXCTRL.RXEN set with RDRXCTL.FCOE_WRFIX = 0 (§8.2.3.8.8: software should "
                     "set this bit to 1b)");
    /* packet buffer 0 only: without DCB the others are unused (§8.2.3.8.9) */
    if ((m->reg[FCRTH(0) / 4] & FCRTH_RTH_MASK) == 0)
        violation(m,
                  "RXCTRL.RXEN set with FCRTH(0).RTH = 0 while RXPBSIZE(0) = 0x%x (§4.6.3.2: "
                  "FCRTH[n].RTH must be set whether flow control is enabled or not, "
                  "typically to RXPBSIZE[n] - 0x6000)",
                  m->reg[RXPBSIZE(0) / 4]);
}

static bool rx_queue_enabled(const struct ixgbe_model *m)
{
    for (int i = 0; i < IXGBE_MODEL_QUEUES; i++)
        if (m->rxq[i].enabled)
            return true;
    return false;
}

/* Queue register n of an RX (rx) or TX queue written while the queue is on. */
static void check_queue_off(struct ixgbe_model *m, const struct regdef *d, uint32_t n, bool rx)
{
    if (n < IXGBE_MODEL_QUEUES && (rx ? m->rxq[n].enabled : m->txq[n].enabled))
        violation(m,
                  "%s written while %s(%u).ENABLE is set (%s: set the ring up before "
                  "enabling the queue)",
                  name(d, n).s, rx ? "RXDCTL" : "TXDCTL", n, rx ? "§4.6.7" : "§4.6.8");
}

/* §4.6.8: DTXMXSZRQ, TXPBSIZE, TXPBTHRESH and MTQC are programmed between
 * setting and clearing RTTDCS.ARBDIS. */
static void check_arbdis(struct ixgbe_model *m, const struct regdef *d, uint32_t n, uint32_t old,
                         uint32_t v)
{
    if (v != old && !(m->reg[RTTDCS / 4] & RTTDCS_ARBDIS))
        violation(m,
                  "%s changed while RTTDCS.ARBDIS is 0 (§4.6.8: set RTTDCS.ARBDIS before "
                  "programming DTXMXSZRQ, TXPBSIZE, TXPBTHRESH and MTQC)",
                  name(d, n).s);
}

/* ENABLE written into RXDCTL(n) or TXDCTL(n). */
static void queue_enable(struct ixgbe_model *m, uint32_t n, bool rx, bool on)
{
    struct queue *q = n < IXGBE_MODEL_QUEUES ? (rx ? &m->rxq[n] : &m->txq[n]) : NULL;
    if (on && (!q || !q->enabled)) {
        if (!rx && !(m->reg[DMATXCTL / 4] & DMATXCTL_TE))
            violation(m,
                      "TXDCTL(%u).ENABLE set while DMATXCTL.TE is 0 (§4.6.8: enable the "
                      "transmit path with DMATXCTL.TE before the first transmit queue)",
                      n);
        if ((rx ? rx_setup : tx_setup)(m, n) && q) {
            q->enabled = true;
            q->t_enable = now(m);
            atomic_store(&q->enable_seen, false);
        }
    } else if (!on && q && q->enabled) {
        /* §4.6.7.1: cleared once pending accesses are done: at once here */
        q->enabled = false;
        q->frozen = false; /* a hung queue comes back with its reset */
        atomic_store(&q->ndesc, 0);
        atomic_store(&q->enable_seen, false);
    }
}

static void reg_write(struct ixgbe_model *m, const struct regdef *d, uint32_t n, uint32_t off,
                      uint32_t v)
{
    uint32_t *r = &m->reg[off / 4], old = *r;
    switch (d->id) {
    case R_CTRL:
        *r = v & ~(CTRL_RST | CTRL_LRST); /* both self-clearing */
        if ((v & CTRL_PCIE_MASTER_DISABLE) && !m->master_asked && rx_queue_enabled(m))
            violation(m, "CTRL.PCIE_MASTER_DISABLE set while a receive queue is enabled "
                         "(§5.2.5.3.2: the driver first disables reception to the Rx queues, "
                         "§4.6.7.1)");
        if (v & CTRL_PCIE_MASTER_DISABLE)
            m->master_asked = true;
        if (v & CTRL_RST) { /* CTRL too goes back to its reset value: mastering on again */
            check_master_disable(m);
            device_reset(m, after(now(m), m->cfg.reset_ns));
            m->t_rst_write = now(m);
        }
        if (v & CTRL_LRST) { /* the link restarts; LRST clears after reset_ns */
            m->t_lrst_done = after(now(m), m->cfg.reset_ns);
            m->t_link_start = m->t_lrst_done;
        }
        return;
    case R_EEC:
        return;  /* the EEPROM interface is not modelled; its RO bits are computed */
    case R_EERD: /* §8.2.3.2.2: a word of the NVM, done at once */
        *r = !(v & EERD_START)
                 ? v
                 : (uint32_t)nvm_word(v >> EERD_ADDR_SHIFT & 0x3FFF) << EERD_DATA_SHIFT |
                       (v & 0xFFFCu) | EERD_DONE;
        return;
    case R_SWSM:
        *r = v & (SWSM_SMBI | SWSM_SWESMBI);
        return;
    case R_SW_FW_SYNC: /* no firmware here: its bits, 9:5, stay 0 */
        if (!(m->reg[SWSM / 4] & SWSM_SWESMBI))
            violation(m, "SW_FW_SYNC written without SWSM.SWESMBI held (§8.2.3.4.9, "
                         "§8.2.3.4.11: take the software semaphore before changing it)");
        *r = v & 0x1Fu;
        return;
    case R_I2CCTL: {
        uint32_t phy = SW_FW_SYNC_PHY_SM(m->cfg.lan_id & 1);
        if (!(m->reg[SW_FW_SYNC / 4] & phy) && !m->i2c_flagged) {
            m->i2c_flagged = true; /* said once per model: a bit-bang is many writes */
            violation(m,
                      "I2CCTL written without SW_FW_SYNC.SW_PHY_SM%u held (§8.2.3.4.11: the "
                      "port's I2C bus is shared with the firmware)",
                      m->cfg.lan_id & 1);
        }
        *r = v & (I2CCTL_CLK_OUT | I2CCTL_DATA_OUT);
        i2c_lines(m, (v & I2CCTL_CLK_OUT) != 0, (v & I2CCTL_DATA_OUT) != 0);
        return;
    }
    case R_CORECTL:
        if (!(m->reg[SW_FW_SYNC / 4] & SW_FW_SYNC_MAC_CSR_SM))
            violation(m, "CORECTL written without SW_FW_SYNC.SW_MAC_CSR_SM held (§8.2.3.4.11: "
                         "the MAC's analog registers are shared with the firmware)");
        corectl_write(m, v);
        *r = v;
        return;
    case R_EICR:
        *r &= ~v;
        return;
    case R_EIMS:
    case R_EIMS_EX:
        *r |= d->id == R_EIMS ? v & 0x7FFFFFFFu : v;
        return;
    case R_EIMC:
        m->reg[EIMS / 4] &= ~v;
        return;
    case R_EIMC_EX:
        m->reg[EIMS_EX(n) / 4] &= ~v;
        return;
    case R_FCTRL:
        if (v != old && (m->reg[RXCTRL / 4] & RXCTRL_RXEN))
            violation(m,
                      "FCTRL changed from 0x%08x to 0x%08x while RXCTRL.RXEN is 1 (§8.2.3.7.1: "
                      "clear RXEN before receive filters are modified)",
                      old, v);
        *r = v;
        return;
    case R_RDBAL:
    case R_RDBAH:
    case R_RDLEN:
    case R_SRRCTL:
        check_queue_off(m, d, n, true);
        *r = v;
        return;
    case R_TDBAL:
    case R_TDBAH:
    case R_TDLEN:
        check_queue_off(m, d, n, false);
        *r = v;
        return;
    case R_RXDCTL:
    case R_TXDCTL:
        /* ENABLE is read from the queue; TXDCTL.SWFLSH is self-clearing */
        *r = v & ~(d->id == R_RXDCTL ? RXDCTL_ENABLE : TXDCTL_ENABLE | TXDCTL_SWFLSH);
        queue_enable(m, n, d->id == R_RXDCTL, (v & RXDCTL_ENABLE) != 0);
        return;
    case R_RDRXCTL:
        *r = v & ~RDRXCTL_DMAIDONE;
        return;
    case R_RXCTRL:
        if ((v & RXCTRL_RXEN) && !(old & RXCTRL_RXEN)) {
            uint32_t hl = m->reg[HLREG0 / 4], rd = m->reg[RDRXCTL / 4];
            if (!!(hl & HLREG0_RXCRCSTRP) != !!(rd & RDRXCTL_CRCSTRIP))
                violation(m,
                          "RXCTRL.RXEN set while RDRXCTL.CRCStrip = %d and HLREG0.RXCRCSTRP = "
                          "%d (§4.6.7: they must be set to the same value)",
                          !!(rd & RDRXCTL_CRCSTRIP), !!(hl & HLREG0_RXCRCSTRP));
            if (!(m->reg[SECRXCTRL / 4] & SECRXCTRL_RX_DIS))
                violation(m, "RXCTRL.RXEN set while SECRXCTRL.RX_DIS is 0 (§4.6.7: halt the "
                             "receive data path with SECRXCTRL.RX_DIS, wait for "
                             "SECRXSTAT.SECRX_RDY, then set RXEN)");
            if (!m->dmaidone_seen)
                violation(m, "RXCTRL.RXEN set before RDRXCTL.DMAIDONE was read as 1 (§4.6.3)");
            check_rx_setup(m, rd);
            if (!rx_queue_enabled(m))
                violation(m, "RXCTRL.RXEN set while no receive queue is enabled (a "
                             "recommendation, §4.6.7: set up and enable the receive queues, "
                             "then enable receive last)");
        }
        *r = v;
        return;
    case R_TX_ARB:
        check_arbdis(m, d, n, old, v);
        *r = v;
        return;
    case R_MRQC: /* §8.2.3.7.12: MRQE 0000b one queue, 0001b RSS; the rest DCB and VT */
        if ((v & MRQC_MRQE_MASK) > MRQC_MRQE_RSS)
            violation(m,
                      "MRQC.MRQE = %u: the model does 0000b (no RSS) and 0001b (RSS only), not "
                      "DCB or virtualization (§8.2.3.7.12); frames go to queue 0",
                      v & MRQC_MRQE_MASK);
        *r = v;
        return;
    case R_AUTOC: /* §8.2.3.22.19: Restart_AN applies the settings, self-clearing */
        *r = v & ~AUTOC_RESTART_AN;
        if (v & AUTOC_RESTART_AN)
            m->t_link_start = now(m);
        return;
    case R_RDH:
    case R_TDH: {
        bool rx = d->id == R_RDH;
        struct queue *q = n < IXGBE_MODEL_QUEUES ? (rx ? &m->rxq[n] : &m->txq[n]) : NULL;
        if (q && q->enabled) {
            violation(m,
                      "%s written while the queue is enabled (%s: software writes the "
                      "head only while the queue is disabled)",
                      name(d, n).s, rx ? "§8.2.3.8.4" : "§8.2.3.9.8");
            return;
        }
        if (q)
            atomic_store(&q->head, v & 0xFFFF);
        else
            *r = v;
        return;
    }
    default:
        switch (d->access) {
        case RO:
        case RC:
            violation(m, "write of 0x%08x to %s, a read-only register (§%s)", v, name(d, n).s,
                      d->section);
            return;
        case RW1C:
            *r &= ~v;
            return;
        case RWS:
            *r |= v;
            return;
        case RW:
        case WO:
            *r = v;
            return;
        }
    }
}

/* RDT and TDT: no lock, the driver's hot path. */
static void tail_write(struct ixgbe_model *m, bool rx, uint32_t n, uint32_t v)
{
    struct queue *q = rx ? &m->rxq[n] : &m->txq[n];
    uint32_t size = atomic_load_explicit(&q->ndesc, memory_order_relaxed);
    if (m->cfg.strict && !atomic_load_explicit(&q->enable_seen, memory_order_relaxed) &&
        v != atomic_load_explicit(&q->tail, memory_order_relaxed))
        violation(m,
                  rx ? "RDT(%u) = %u written while RXDCTL(%u).ENABLE has not been read as 1 "
                       "(§4.6.7: poll RXDCTL until ENABLE reads 1b; do not bump the tail "
                       "before)"
                     : "TDT(%u) = %u written while TXDCTL(%u).ENABLE has not been read as 1 "
                       "(§4.6.8: do not bump TDT until the queue is enabled)",
                  n, v, n);
    if (size && v >= size) {
        violation(m, "%s(%u) = %u is beyond the ring of %u descriptors (§%s)", rx ? "RDT" : "TDT",
                  n, v, size, rx ? "8.2.3.8.5" : "8.2.3.9.9");
        return;
    }
    atomic_store_explicit(&q->tail, v & 0xFFFF, memory_order_release);
}

void ixgbe_model_write(struct ixgbe_model *m, uint32_t addr, uint32_t v)
{
    uint32_t n, off;
    const struct regdef *d = lookup(addr, &n, &off);
    if (d && (d->id == R_RDT || d->id == R_TDT) && n < IXGBE_MODEL_QUEUES && !resetting(m)) {
        tail_write(m, d->id == R_RDT, n, v);
        return;
    }
    lock();
    sync_time(m);
    if (!d) {
        violation(m,
                  "write of 0x%08x to 0x%05x, an address the 82599 does not decode (§8.2.2: "
                  "the register summary lists none there)",
                  v, addr);
    } else if (resetting(m) && d->id != R_CTRL) {
        check_reset_wait(m, d, n, "written");
        violation(m,
                  "write of 0x%08x to %s while CTRL.RST still reads 1 (§8.2.3.1.1: the reset "
                  "has not completed); ignored",
                  v, name(d, n).s);
    } else {
        if (d->id != R_CTRL) /* a second reset may follow the first at once (§5.2.5.3.2) */
            check_reset_wait(m, d, n, "written");
        check_second_reset(m, d);
        reg_write(m, d, n, off, v);
    }
    unlock();
}

uint32_t ixgbe_model_read(struct ixgbe_model *m, uint32_t addr)
{
    uint32_t n, v, off;
    const struct regdef *d = lookup(addr, &n, &off);
    if (d && n < IXGBE_MODEL_QUEUES) { /* no lock: the data path */
        if (d->id == R_RDH || d->id == R_TDH)
            return atomic_load_explicit(d->id == R_RDH ? &m->rxq[n].head : &m->txq[n].head,
                                        memory_order_acquire);
        if (d->id == R_RDT || d->id == R_TDT)
            return atomic_load_explicit(d->id == R_RDT ? &m->rxq[n].tail : &m->txq[n].tail,
                                        memory_order_relaxed);
    }
    if (!d) {
        violation(m,
                  "read of 0x%05x, an address the 82599 does not decode (§8.2.2: the register "
                  "summary lists none there); it reads 0",
                  addr);
        return 0;
    }
    lock();
    sync_time(m);
    check_reset_wait(m, d, n, "read");
    check_second_reset(m, d);
    v = (d->id == R_RDH || d->id == R_TDH || d->id == R_RDT || d->id == R_TDT)
            ? m->reg[off / 4] /* queues beyond the model's: plain storage */
            : reg_read(m, d, n, off);
    unlock();
    return v;
}

/* --- The rest of the API ------------------------------------------------------- */

struct ixgbe_model *ixgbe_model_new(const struct ixgbe_model_config *cfg)
{
    pthread_once(&table_once, table_init);
    struct ixgbe_model *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->cfg = *cfg;
    atomic_flag_clear(&m->log_lock);
    sfp_image(cfg->sfp, m->sfp_rom);
    m->i2c.drive = true;
    /* Power-on: the device comes up as if a reset had just completed. */
    device_reset(m, now(m));
    m->t_rst_write = NEVER;
    for (uint32_t n = 0; n < IXGBE_MODEL_QUEUES && n < 32; n++) {
        m->rxq[n].never = cfg->rx_never >> n & 1;
        m->txq[n].never = cfg->tx_never >> n & 1;
    }
    return m;
}

unsigned ixgbe_model_queues_enabled(const struct ixgbe_model *m)
{
    unsigned n = 0;
    lock();
    for (int i = 0; i < IXGBE_MODEL_QUEUES; i++)
        n += m->rxq[i].enabled + m->txq[i].enabled;
    unlock();
    return n;
}

void ixgbe_model_free(struct ixgbe_model *m)
{
    if (!m)
        return;
    lock();
    if (m->peer)
        m->peer->peer = NULL;
    unlock();
    free(m);
}

void ixgbe_model_cable(struct ixgbe_model *a, struct ixgbe_model *b)
{
    lock();
    if (a->peer)
        a->peer->peer = NULL;
    if (b->peer)
        b->peer->peer = NULL;
    a->peer = b != a ? b : NULL;
    b->peer = b != a ? a : NULL;
    unlock();
}

void ixgbe_model_rx_lie(struct ixgbe_model *m, enum ixgbe_model_lie lie, unsigned frames)
{
    lock();
    m->lie = lie;
    m->lies_left = frames;
    unlock();
}

void ixgbe_model_freeze_tx(struct ixgbe_model *m, uint32_t queue)
{
    lock();
    if (queue < IXGBE_MODEL_QUEUES && m->txq[queue].enabled)
        m->txq[queue].frozen = true;
    unlock();
}

void ixgbe_model_set_cable(struct ixgbe_model *m, bool in)
{
    lock();
    m->unplugged = !in;
    unlock();
}

bool ixgbe_model_inject(struct ixgbe_model *m, const void *frame, uint32_t len)
{
    lock();
    bool placed = rx_frame(m, frame, len);
    unlock();
    return placed;
}

void ixgbe_model_set_sink(struct ixgbe_model *m,
                          void (*sink)(void *ctx, const void *frame, uint32_t len), void *ctx)
{
    lock();
    m->sink = sink;
    m->sink_ctx = ctx;
    unlock();
}

unsigned ixgbe_model_violations(const struct ixgbe_model *m)
{
    log_lock(m);
    unsigned n = m->nviol;
    log_unlock(m);
    return n;
}

/* The message stays in place until IXGBE_MODEL_LOG more are recorded. */
const char *ixgbe_model_violation(const struct ixgbe_model *m, unsigned i)
{
    const char *msg = NULL;
    log_lock(m);
    if (i < m->nviol && i < IXGBE_MODEL_LOG)
        msg = m->log[(m->nviol - 1 - i) % IXGBE_MODEL_LOG];
    log_unlock(m);
    return msg;
}

const char *ixgbe_model_last_violation(const struct ixgbe_model *m)
{
    return ixgbe_model_violation(m, 0);
}

void ixgbe_model_clear_violations(struct ixgbe_model *m)
{
    log_lock(m);
    m->nviol = 0;
    log_unlock(m);
}

const char *ixgbe_model_decode(uint32_t offset, uint32_t *instance, bool *special)
{
    uint32_t own;
    pthread_once(&table_once, table_init);
    const struct regdef *d = lookup(offset, instance, &own);
    if (!d)
        return NULL;
    *special = d->id != R_PLAIN;
    return d->name;
}

uint64_t ixgbe_model_counter(const struct ixgbe_model *m, const char *name)
{
    uint64_t v = UINT64_MAX;
    lock();
    for (int s = S_NONE + 1; s < S_COUNT; s++)
        if (strcmp(name, stat_names[s]) == 0)
            v = m->total[s];
    unlock();
    return v;
}
