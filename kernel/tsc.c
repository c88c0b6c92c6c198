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
 * QEMU's TCG CPUs report neither leaf, so under QEMU the PIT is what counts.
 */
#include "kernel/tsc.h"

#include "kernel/cpu.h"
#include "kernel/io.h"
#include "kernel/kprintf.h"

#define PIT_HZ 1193182u
#define PIT_CH2 0x42
#define PIT_CMD 0x43
#define PIT_CMD_CH2_LOHI_MODE0 0xB0 /* channel 2, lo/hi byte, mode 0, binary */
#define PORT_61 0x61
#define P61_GATE2 0x01
#define P61_SPEAKER 0x02
#define P61_OUT2 0x20

#define CALIBRATE_US 500          /* the PIT interval: 0.5 ms, 596 PIT ticks */
#define PIT_MAX_POLLS 50000000    /* a PIT that never fires: ~50x the interval */
#define FALLBACK_HZ 2000000000ull /* used only if all else fails, with a warning */

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

static uint64_t from_pit(void)
{
    uint32_t count = PIT_HZ / (1000000 / CALIBRATE_US);
    uint8_t p61 = inb(PORT_61);
    outb(PORT_61, (p61 & ~P61_SPEAKER) & ~P61_GATE2); /* gate low: hold the count */
    outb(PIT_CMD, PIT_CMD_CH2_LOHI_MODE0);
    outb(PIT_CH2, count & 0xFF);
    outb(PIT_CH2, count >> 8);
    outb(PORT_61, (p61 & ~P61_SPEAKER) | P61_GATE2); /* gate high: count down */
    uint64_t t0 = rdtsc();
    for (long i = 0; i < PIT_MAX_POLLS; i++) {
        if (inb(PORT_61) & P61_OUT2) {
            uint64_t t1 = rdtsc();
            outb(PORT_61, p61);
            source = "pit";
            return (t1 - t0) * PIT_HZ / count;
        }
    }
    outb(PORT_61, p61);
    return 0;
}

void tsc_init(void)
{
    hz = from_cpuid();
    if (!hz)
        hz = from_pit();
    if (!hz) {
        hz = FALLBACK_HZ;
        source = "guess";
        kprintf("tsc: neither CPUID 15h/16h nor the PIT gave the TSC rate; assuming %lu MHz, "
                "so every timeout is approximate\n",
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

uint64_t now_ns(void)
{
    uint64_t ticks = rdtsc() - boot_tsc;
    return (uint64_t)(((unsigned __int128)ticks * ns_mult) >> 32);
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
