/*
 * kernel/console.c - kernel output to the serial console on COM1 and to the
 * screen (kernel/screen.c).
 *
 * Register layout from the PC16550D UART datasheet (National Semiconductor,
 * "PC16550D Universal Asynchronous Receiver/Transmitter with FIFOs", Table II).
 * The port is polled; interrupts stay off. A machine without a UART at 0x3F8
 * (the scratch register does not hold a value) keeps running with no console
 * rather than waiting on a transmitter that will never be ready.
 */
#include "kernel/console.h"

#include <stdbool.h>
#include <stdint.h>

#include "kernel/io.h"
#include "kernel/kprintf.h"
#include "kernel/paging.h"
#include "kernel/screen.h"

#define COM1 0x3F8
#define UART_THR 0 /* transmit holding register (DLAB=0) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1 /* interrupt enable (DLAB=0) */
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_FCR 2 /* FIFO control */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_SCR 7 /* scratch */

#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define FCR_ENABLE_CLEAR 0x07 /* FIFO on, clear RX and TX FIFOs */
#define MCR_DTR_RTS 0x03
#define LSR_THRE 0x20 /* transmit holding register empty */

#define UART_CLOCK_DIV_115200 1 /* 1.8432 MHz / 16 / 115200 */

/* One character at 115200 baud takes ~87 us; the TSC is not calibrated when
 * the console starts, so the wait is bounded by polls of the (slow, ~1 us)
 * port instead: a stuck transmitter costs a dropped character, not a hang. */
#define THRE_POLLS 100000

static bool uart_present;
static bool serial_on = true, screen_on, drawing;
static char screen_line[160] = "not started";

void console_init(void)
{
    outb(COM1 + UART_SCR, 0xA5); /* Scratchpad Register: a UART keeps what is written */
    if (inb(COM1 + UART_SCR) != 0xA5)
        return;
    outb(COM1 + UART_IER, 0);        /* Interrupt Enable Register: none, we poll */
    outb(COM1 + UART_LCR, LCR_DLAB); /* Line Control: Divisor Latch Access Bit */
    outb(COM1 + UART_DLL, UART_CLOCK_DIV_115200 & 0xFF); /* Programmable Baud Generator divisor */
    outb(COM1 + UART_DLM, UART_CLOCK_DIV_115200 >> 8);
    outb(COM1 + UART_LCR, LCR_8N1);          /* 8 data bits, no parity, 1 stop bit */
    outb(COM1 + UART_FCR, FCR_ENABLE_CLEAR); /* FIFO Control Register: FIFOs on and empty */
    outb(COM1 + UART_MCR, MCR_DTR_RTS); /* Modem Control Register: DTR and RTS for the far end */
    uart_present = true;
}

static void uart_putc(char c)
{
    for (int i = 0; i < THRE_POLLS; i++) {
        if (inb(COM1 + UART_LSR) & LSR_THRE) {
            outb(COM1 + UART_THR, (uint8_t)c);
            return;
        }
    }
    uart_present = false; /* stuck: give up on it rather than wait per character */
}

static void uart_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n && uart_present; i++) {
        if (s[i] == '\n')
            uart_putc('\r');
        uart_putc(s[i]);
    }
}

const char *console_choice(int i)
{
    static const char *const names[] = { "serial", "screen", "both" };
    return i >= 0 && i < 3 ? names[i] : NULL;
}

/* Uncached, as kernel/paging.c maps every device's memory: simple and
 * always correct. Write-combining (a PAT entry) would make drawing faster
 * on real hardware; nothing here reads the screen back, which is what
 * uncached memory makes slowest. */
static int start_screen(const struct boot_info *bi, const char **why)
{
    struct boot_screen s;
    if (screen_find(bi, &s, why) != 0)
        return -1;
    if (paging_map(s.addr, (uint64_t)s.pitch * s.height, CACHE_UC) != 0) {
        *why = "its buffer lies beyond what this CPU can address";
        return -1;
    }
    return screen_init(&s, why);
}

void console_start(const struct boot_info *bi, int choice)
{
    int where = choice + 1; /* console_choice()'s order: the CONSOLE_ bits */
    const char *why = "";
    if (!(where & CONSOLE_SCREEN)) {
        ksnprintf(screen_line, sizeof(screen_line), "off (console=serial)");
        return;
    }
    if (start_screen(bi, &why) != 0) {
        ksnprintf(screen_line, sizeof(screen_line), "none: %s%s", why,
                  where == CONSOLE_SCREEN ? "; output stays on the serial port" : "");
        return;
    }
    screen_describe(screen_line, sizeof(screen_line));
    screen_on = true;
    serial_on = where & CONSOLE_SERIAL;
}

const char *console_screen_describe(void)
{
    return screen_line;
}

void console_write(const char *s, size_t n)
{
    if (drawing) { /* a fault while drawing: give the screen up, keep the serial port */
        screen_on = false;
        serial_on = true;
    }
    if (serial_on)
        uart_write(s, n);
    if (screen_on) {
        drawing = true;
        screen_write(s, n);
        drawing = false;
    }
}
