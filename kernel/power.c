/*
 * kernel/power.c - power-off, reset, or a halt that leaves the screen as it is.
 *
 * ACPI S5 (ACPI 6.5 §16.1.7 "Transitioning from the Working to the Sleeping
 * State", §4.8.3.2.1 PM1 Control Registers): write SLP_TYPx from \_S5 with
 * SLP_EN into PM1a_CNT (and PM1b_CNT if present). If the platform is still in
 * legacy mode (SCI_EN clear), first write ACPI_ENABLE to SMI_CMD (§4.8.2.1)
 * and wait, bounded, for SCI_EN.
 */
#include "kernel/power.h"

#include "kernel/console.h"
#include "kernel/cpu.h"
#include "kernel/io.h"
#include "kernel/kprintf.h"
#include "kernel/tsc.h"

#define QEMU_DEBUG_EXIT_PORT 0xF4 /* QEMU -device isa-debug-exit,iobase=0xf4 */

#define PM1_SCI_EN (1u << 0)
#define PM1_SLP_TYP_SHIFT 10
#define PM1_SLP_EN (1u << 13)
#define PM1_WAK_STS (1u << 15)
#define ACPI_ENABLE_TIMEOUT_US 1000000
#define S5_TIMEOUT_US 2000000

static int acpi_enable(const struct acpi_info *ai)
{
    if (inw((uint16_t)ai->pm1a_cnt) & PM1_SCI_EN)
        return 0;
    if (!ai->smi_cmd || !ai->acpi_enable)
        return -1;
    outb((uint16_t)ai->smi_cmd, ai->acpi_enable);
    uint64_t end = now_ns() + ACPI_ENABLE_TIMEOUT_US * 1000ull;
    /* Bounded by reads too: a fault before tsc_init has no clock (now_ns 0) */
    for (uint32_t polls = 0; polls < ACPI_ENABLE_TIMEOUT_US && now_ns() <= end; polls++)
        if (inw((uint16_t)ai->pm1a_cnt) & PM1_SCI_EN)
            return 0;
    return -1;
}

/* Writes SLP_TYP (and en) into one PM1 control register, keeping its
 * other bits; a register the FADT did not give (0) is skipped. */
static void sleep_write(uint32_t port, uint8_t slp_typ, uint16_t en)
{
    if (!port || port > 0xFFFF)
        return;
    uint16_t v = inw((uint16_t)port) & ~(7u << PM1_SLP_TYP_SHIFT);
    outw((uint16_t)port, v | (uint16_t)((slp_typ & 7) << PM1_SLP_TYP_SHIFT) | en);
}

static void acpi_s5(const struct acpi_info *ai)
{
    if (!ai->has_fadt || !ai->has_s5 || !ai->pm1a_cnt || ai->pm1a_cnt > 0xFFFF) {
        kprintf("power: no ACPI S5 (FADT %s, \\_S5 %s)\n", ai->has_fadt ? "found" : "missing",
                ai->has_s5 ? "found" : "missing");
        return;
    }
    if (acpi_enable(ai) != 0)
        kprintf("power: ACPI mode did not come on (SCI_EN clear); trying S5 anyway\n");
    /* §4.8.3.1.1: WAK_STS is write-1-to-clear in the PM1 status registers. */
    if (ai->pm1a_evt && ai->pm1a_evt <= 0xFFFF)
        outw((uint16_t)ai->pm1a_evt, PM1_WAK_STS);
    if (ai->pm1b_evt && ai->pm1b_evt <= 0xFFFF)
        outw((uint16_t)ai->pm1b_evt, PM1_WAK_STS);
    console_flush(); /* a line just above, if any, before the power goes */
    /* §16.1.7: SLP_TYPx first, then SLP_EN; PM1a, then PM1b. */
    sleep_write(ai->pm1a_cnt, ai->slp_typa, 0);
    sleep_write(ai->pm1b_cnt, ai->slp_typb, 0);
    sleep_write(ai->pm1a_cnt, ai->slp_typa, PM1_SLP_EN);
    sleep_write(ai->pm1b_cnt, ai->slp_typb, PM1_SLP_EN);
    delay_us(S5_TIMEOUT_US); /* the machine should be off long before this */
    kprintf("power: ACPI S5 did not switch the machine off within %u s\n", S5_TIMEOUT_US / 1000000);
}

void power_off(const struct acpi_info *ai, int status)
{
    kprintf("power: off, status %d\n", status);
    console_flush(); /* the UART's last characters are on the line before the power goes */
    if (cpu_in_vm())
        outb(QEMU_DEBUG_EXIT_PORT, (uint8_t)status); /* no device there: nothing happens */
    acpi_s5(ai);
    kprintf("power: halted; it is safe to switch the machine off\n");
    cpu_halt_forever();
}

static const char *const end_names[] = { "off", "halt", "reboot" };

const char *power_end_choice(int i)
{
    return i >= 0 && i <= POWER_END_HALT ? end_names[i] : NULL;
}

const char *power_fault_choice(int i)
{
    return i >= 0 && i <= POWER_END_REBOOT ? end_names[i] : NULL;
}

/* How long each way of resetting gets before the next is tried. */
#define RESET_WAIT_US 500000
#define RESET_CONTROL_PORT 0xCF9 /* PIIX3/ICH Reset Control Register */
#define RCR_SYS_RST (1u << 1)    /* with RST_CPU: a hard reset of the platform */
#define RCR_RST_CPU (1u << 2)    /* 0 -> 1 starts the reset */
#define KBC_COMMAND_PORT 0x64
#define KBC_STATUS_INPUT_FULL (1u << 1)
#define KBC_READY_POLLS 100000 /* reads of its status, about 100 ms of port I/O */
#define KBC_PULSE_RESET 0xFE   /* pulse output line 0 (the CPU's reset) low */

static void reset_wait(const char *how)
{
    if (tsc_hz())
        delay_us(RESET_WAIT_US);
    else /* a fault before tsc_init: no clock yet; a port read takes about 1 us */
        for (uint32_t i = 0; i < RESET_WAIT_US; i++)
            inb(0x80); /* the POST code port, read by nothing */
    kprintf("power: %s did not reset the machine within %u ms\n", how, RESET_WAIT_US / 1000);
}

void power_reset(const struct acpi_info *ai)
{
    if (ai->has_reset) {
        kprintf("power: reset through the FADT's reset register (%s 0x%lx = 0x%x)\n",
                ai->reset_space == ACPI_SPACE_IO ? "io" : "memory", ai->reset_addr,
                ai->reset_value);
        console_flush();
        if (ai->reset_space == ACPI_SPACE_IO && ai->reset_addr <= 0xFFFF)
            outb((uint16_t)ai->reset_addr, ai->reset_value);
        else if (ai->reset_space == ACPI_SPACE_MEMORY && ai->reset_addr < (4ull << 30)) /* UC */
            *(volatile uint8_t *)(uintptr_t)ai->reset_addr = ai->reset_value;
        reset_wait("the reset register");
    }
    kprintf("power: reset through port 0xcf9\n");
    console_flush();
    outb(RESET_CONTROL_PORT, RCR_SYS_RST);
    outb(RESET_CONTROL_PORT, RCR_SYS_RST | RCR_RST_CPU);
    reset_wait("port 0xcf9");
    kprintf("power: reset through the keyboard controller\n");
    console_flush();
    for (int i = 0; i < KBC_READY_POLLS && (inb(KBC_COMMAND_PORT) & KBC_STATUS_INPUT_FULL); i++)
        cpu_pause();
    outb(KBC_COMMAND_PORT, KBC_PULSE_RESET);
    reset_wait("the keyboard controller");
    kprintf("power: reset through a triple fault\n");
    console_flush();
    cpu_triple_fault();
}

void power_end(const struct acpi_info *ai, int how, int status)
{
    if (how == POWER_END_REBOOT)
        power_reset(ai);
    if (how != POWER_END_HALT)
        power_off(ai, status);
    /* Not isa-debug-exit either: a test sees the same halt as a real box,
     * waits for this line and stops QEMU itself. Kept under 80 columns: one
     * row of a VGA text screen. */
    kprintf("power: halted (end=halt), status %d; switch off or reset when done\n", status);
    cpu_halt_forever();
}
