/*
 * kernel/tsc.c - calibrating the TSC.
 *
 * In order of trust:
 *  1. CPUID 15h: TSC = crystal Hz * EBX / EAX, valid when all three are
 *     non-zero (Intel SDM vol. 2A, CPUID leaf 15h).
 *  2. CPUID 16h: EAX is the base frequency in MHz, which the TSC runs at on
 *     processors with an invariant TSC (SDM vol. 3B §19.17, "Time-Stamp Counter").
 *  3. The 8254 PIT: count the TSC while PIT channel 2 counts down a known
 *     interval (Intel 8254 datasheet, mode 0; the channel 2 gate and output
 *     are bits 0 and 5 of port 61h on every PC).
 *  4. The HPET, where ACPI lists one: its main counter runs at a period the
 *     HPET states in femtoseconds (IA-PC HPET Specification 1.0a §2.3).
 * QEMU's TCG CPUs report neither leaf, so under QEMU the PIT is what counts;
 * machines without a PIT (QEMU's `-M pc,pit=off`) fall back to the HPET.
 * Every wait here is bounded in TSC ticks, and a rate outside 100 MHz to
 * 10 GHz is taken as a broken timer, not believed.
 */
#include "kernel/tsc.h"

#include "kernel/cpu.h"
#include "kernel/io.h"
#include "kernel/kprintf.h"
#include "kernel/paging.h"

#define CALIBRATE_US 250            /* one measurement, in PIT or HPET time */
#define SAMPLES 3                   /* measurements; the median is kept */
#define MAX_WAIT_TICKS 500000000ull /* 0.05-5 s of TSC: far more than 500 us */
#define MIN_HZ 100000000ull
#define MAX_HZ 10000000000ull
#define FALLBACK_HZ 2000000000ull /* used only if all else fails, with a warning */

#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_CMD_CH2_LOHI_MODE0 0xB0 /* channel 2, lo/hi byte, mode 0, binary */
#define PORT_61 0x61
#define P61_GATE2 0x01
#define P61_SPEAKER 0x02
#define P61_OUT2 0x20

/* HPET 1.0a §2.3.4-§2.3.7: register offsets and bits. */
#define HPET_GCAP_ID 0x000  /* bits 63:32 COUNTER_CLK_PERIOD, femtoseconds */
#define HPET_GEN_CONF 0x010 /* bit 0 ENABLE_CNF */
#define HPET_MAIN_COUNTER 0x0F0
#define HPET_ENABLE_CNF 0x1
#define HPET_MAX_PERIOD_FS 100000000u /* §2.3.4: at most 100 ns */
#define HPET_REGS_SIZE 0x400

static uint64_t hz;
static uint64_t ns_mult; /* ns = ticks * ns_mult >> 32 */
static const char *source = "none";

static uint64_t from_cpuid(void)
{
    uint32_t max = cpuid(0, 0).eax;
    if (max >= 0x15) {
        struct cpuid r = cpuid(0x15, 0);
        if (r.eax && r.ebx && r.ecx) {
            source = "cpuid 15h";
            return (uint64_t)r.ecx * r.ebx / r.eax;
        }
    }
    if (max >= 0x16) {
        uint32_t mhz = cpuid(0x16, 0).eax & 0xFFFF;
        if (mhz) {
            source = "cpuid 16h";
            return (uint64_t)mhz * 1000000;
        }
    }
    return 0;
}

static uint64_t plausible(uint64_t rate)
{
    return rate >= MIN_HZ && rate <= MAX_HZ ? rate : 0;
}

/* With the gate high the count runs from its loading (8254 datasheet, mode
 * 0); QEMU ignores the gate altogether. So the gate goes up first and the
 * TSC is read right after the count's last byte. */
static uint64_t pit_once(void)
{
    uint32_t count = PIT_HZ / (1000000 / CALIBRATE_US);
    uint8_t p61 = inb(PORT_61);
    uint64_t rate = 0;
    outb(PORT_61, (p61 & ~P61_SPEAKER) | P61_GATE2);
    outb(PIT_CMD, PIT_CMD_CH2_LOHI_MODE0);
    outb(PIT_CH2, count & 0xFF);
    outb(PIT_CH2, count >> 8);
    uint64_t t0 = rdtsc(), t1 = t0;
    /* OUT stays low until the count runs out, ~300 PIT ticks from now: if it
     * is high already, no PIT is behind these ports. */
    if (!(inb(PORT_61) & P61_OUT2)) {
        while (!(inb(PORT_61) & P61_OUT2) && t1 - t0 < MAX_WAIT_TICKS)
            t1 = rdtsc();
        if (inb(PORT_61) & P61_OUT2)
            rate = plausible((t1 - t0) * PIT_HZ / count);
    }
    outb(PORT_61, p61);
    return rate;
}

static uint64_t hpet_once(uint64_t base, uint32_t period_fs)
{
    /* The low 32 bits of the main counter suffice: they wrap after >= 429 s. */
    uint32_t want = (uint32_t)((uint64_t)CALIBRATE_US * 1000000000 / period_fs);
    uint32_t c0 = mmio_read32(base + HPET_MAIN_COUNTER), c1;
    uint64_t t0 = rdtsc(), t1;
    do {
        c1 = mmio_read32(base + HPET_MAIN_COUNTER);
        t1 = rdtsc();
    } while (c1 - c0 < want && t1 - t0 < MAX_WAIT_TICKS);
    uint64_t elapsed_ns = (uint64_t)(c1 - c0) * period_fs / 1000000;
    return elapsed_ns ? plausible((t1 - t0) * 1000000000 / elapsed_ns) : 0;
}

/* A host (or SMI) hiccup during one short measurement skews it; the median
 * of SAMPLES does not care about one. 0 if any measurement failed. */
static uint64_t median(uint64_t (*once)(uint64_t, uint32_t), uint64_t a, uint32_t b)
{
    uint64_t v[SAMPLES];
    for (int i = 0; i < SAMPLES; i++) {
        if (!(v[i] = once(a, b)))
            return 0;
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            uint64_t t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    }
    return v[SAMPLES / 2];
}

static uint64_t pit_sample(uint64_t unused_a, uint32_t unused_b)
{
    (void)unused_a;
    (void)unused_b;
    return pit_once();
}

static uint64_t from_pit(void)
{
    uint64_t rate = median(pit_sample, 0, 0);
    if (rate)
        source = "pit";
    return rate;
}

static uint64_t from_hpet(uint64_t base)
{
    if (!base || paging_map(base, HPET_REGS_SIZE, CACHE_UC) != 0)
        return 0;
    uint32_t period_fs = mmio_read32(base + HPET_GCAP_ID + 4);
    if (period_fs == 0 || period_fs > HPET_MAX_PERIOD_FS)
        return 0;
    uint32_t conf = mmio_read32(base + HPET_GEN_CONF);
    mmio_write32(base + HPET_GEN_CONF, conf | HPET_ENABLE_CNF); /* counter running */
    uint64_t rate = median(hpet_once, base, period_fs);
    if (rate)
        source = "hpet";
    return rate;
}

void tsc_init(const struct acpi_info *ai)
{
    hz = from_cpuid();
    if (!hz)
        hz = from_pit();
    if (!hz)
        hz = from_hpet(ai->hpet_pa);
    if (!hz) {
        hz = FALLBACK_HZ;
        source = "guess";
        kprintf("tsc: neither CPUID 15h/16h, the PIT nor the HPET gave the TSC rate; assuming "
                "%lu MHz, so every timeout is approximate\n",
                hz / 1000000);
    }
    ns_mult = (1000000000ull << 32) / hz;
}

uint64_t tsc_hz(void)
{
    return hz;
}

const char *tsc_source(void)
{
    return source;
}

uint64_t tsc_ticks_to_ns(uint64_t ticks)
{
    return (uint64_t)(((unsigned __int128)ticks * ns_mult) >> 32);
}

uint64_t now_ns(void)
{
    return tsc_ticks_to_ns(rdtsc() - boot_tsc);
}

uint64_t tsc_ticks_us(uint64_t us)
{
    return us * (hz / 1000000);
}

void delay_us(uint64_t us)
{
    uint64_t end = rdtsc() + tsc_ticks_us(us);
    while (rdtsc() < end)
        cpu_pause();
}
