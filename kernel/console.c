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

#include "kernel/cpu.h"
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
#define LSR_THRE 0x20 /* transmit holding register empty (with FIFOs: the TX FIFO) */
#define LSR_TEMT 0x40 /* transmitter empty: THR (FIFO) and the shift register both */

#define UART_CLOCK_DIV_115200 1 /* 1.8432 MHz / 16 / 115200 */

/* One character at 115200 baud takes ~87 us; the TSC is not calibrated when
 * the console starts, so the wait is bounded by polls of the (slow, ~1 us)
 * port instead: a stuck transmitter costs a dropped character, not a hang.
 * Draining the 16-byte FIFO and the shift register takes ~1.5 ms. */
#define THRE_POLLS 100000
#define TEMT_POLLS 100000

static bool uart_present;
static bool serial_on = true, screen_on;
static char screen_line[200] = "not started";

/*
 * Who is in screen_write(): 0, or that core's APIC id + 1. kernel/screen.c
 * keeps its cursor in plain variables and wants one writer at a time.
 * kprintf's lock (kernel/kprintf.c) usually makes it so, but not always:
 * another core takes the lock over from a core that has held it for 2^31
 * TSC cycles (stuck), and an exception or NMI on the drawing core prints
 * from inside screen_write(). So the screen is taken with one atomic
 * compare-and-exchange. A core that finds another core drawing sends its
 * text to the serial port instead (even with console=screen). The drawing
 * core finding itself there has faulted while drawing: its report is drawn
 * once more, nested (screen.c keeps every write inside the screen whatever
 * the interleaving), so a box with only a monitor still shows it; a fault
 * inside that nested draw gives the screen up for good, keeping the serial
 * port.
 */
static uint32_t drawing;
static volatile bool nested; /* the drawing core is drawing its own fault report */

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

/* THRE says only that the UART took the last character; it is on the line
 * once TEMT is set too (PC16550D datasheet, Line Status Register bit 6). */
void console_flush(void)
{
    for (int i = 0; i < TEMT_POLLS && uart_present; i++)
        if (inb(COM1 + UART_LSR) & LSR_TEMT)
            return;
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

/* Only the part that is drawn on is mapped (screen_span(): under 68 MiB
 * whatever the loader says). A framebuffer write-combining: each uncached
 * write is a bus transaction of its own, so a line moving 1024x768x32 up
 * (up to ~786,000 writes) would keep the printing core from its packets
 * for many milliseconds on real hardware, where write-combining sends
 * 64-byte bursts (nothing reads the screen back, which WC makes no faster).
 * Without a PAT it is uncached (kernel/paging.h). VGA text stays uncached:
 * at most 4,000 bytes, in the legacy VGA window below 1 MiB. */
static int start_screen(const struct boot_info *bi, const char **why, const char **cache)
{
    struct boot_screen s;
    if (screen_find(bi, &s, why) != 0)
        return -1;
    enum cache c = s.type == SCREEN_RGB && cpu_pat ? CACHE_WC : CACHE_UC;
    if (paging_map(s.addr, screen_span(&s), c) != 0) {
        *why = "its buffer lies beyond what this CPU can address";
        return -1;
    }
    if (s.type == SCREEN_RGB)
        *cache = c == CACHE_WC ? ", write-combining" : ", uncached (no PAT)";
    return screen_init(&s, why);
}

void console_start(const struct boot_info *bi, int choice)
{
    int where = choice + 1; /* console_choice()'s order: the CONSOLE_ bits */
    const char *why = "", *cache = "";
    if (!(where & CONSOLE_SCREEN)) {
        ksnprintf(screen_line, sizeof(screen_line), "off (console=serial)");
        return;
    }
    if (start_screen(bi, &why, &cache) != 0) {
        ksnprintf(screen_line, sizeof(screen_line), "none: %s%s", why,
                  where == CONSOLE_SCREEN ? "; output stays on the serial port" : "");
        return;
    }
    char what[sizeof(screen_line)];
    screen_describe(what, sizeof(what));
    ksnprintf(screen_line, sizeof(screen_line), "%s%s", what, cache);
    screen_on = true;
    serial_on = where & CONSOLE_SERIAL;
}

const char *console_screen_describe(void)
{
    return screen_line;
}

void console_write(const char *s, size_t n)
{
    bool draw = false;
    if (screen_on) {
        uint32_t me = cpu_apic_id() + 1, owner = 0;
        draw = __atomic_compare_exchange_n(&drawing, &owner, me, false, __ATOMIC_ACQUIRE,
                                           __ATOMIC_RELAXED);
        if (!draw && owner == me) { /* a fault while drawing */
            if (nested) {           /* and again while drawing its report: give the screen up */
                screen_on = false;
                serial_on = true;
            } else {
                nested = true;
                uart_write(s, n);
                screen_write(s, n);
                nested = false; /* the outer draw still holds the screen */
                return;
            }
        }
    }
    if (serial_on || !draw)
        uart_write(s, n);
    if (draw) {
        screen_write(s, n);
        __atomic_store_n(&drawing, 0, __ATOMIC_RELEASE);
    }
}
