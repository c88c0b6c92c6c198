/*
 * kernel/smp.c - see smp.h.
 *
 * SDM vol. 3A §9.4.4.1, "Typical BSP Initialization Sequence", addressed to
 * each core by its APIC id instead of broadcast: an INIT IPI to every core,
 * 10 ms, then for one core at a time (each takes its own stack) a Start-Up
 * IPI naming the trampoline's page, 200 us, a second Start-Up IPI (the SDM
 * says to send two), and up to AP_ANSWER_MS for the core to say it runs.
 * The trampoline (kernel/smp_tramp.S) takes it to long mode and ap_entry64;
 * ap_main loads the core's own tables and waits for work.
 */
#include "kernel/smp.h"

#include "kernel/cpu.h"
#include "kernel/kprintf.h"
#include "kernel/lapic.h"
#include "kernel/mem.h"
#include "kernel/memmap.h"
#include "kernel/string.h"
#include "kernel/tsc.h"

#define AP_STACK_SIZE 16384
#define AP_ANSWER_MS 200
#define INIT_WAIT_US 10000     /* §9.4.4.1: 10 ms after the INIT IPI */
#define TRAMP_LOWEST 0x1000ull /* page 0 holds the real-mode interrupt table */
#define TRAMP_END 0x9F000ull   /* below the EBDA; a Start-Up IPI names a page < 1 MiB */

extern const char smp_tramp_start[], smp_tramp_end[], smp_tramp_gdt[], smp_tramp_gdtr[],
    smp_tramp_far32[], smp_tramp_code32[];

struct core {
    uint32_t apic_id;
    struct cpu_tables *tables;
    void (*volatile fn)(void *);
    void *volatile arg;
    volatile bool up, done;
    volatile bool stopped; /* by smp_stop_others, in its NMI handler */
};

/* The boot core's until smp_init allocates one for each core the MADT lists. */
static struct core boot_core, *cores = &boot_core;
static int ncores = 1, nmissing;
static bool stuck;             /* a core that did not answer could not be stopped either */
static volatile bool stopping; /* smp_stop_others has begun: an NMI means stop */

/* Read by ap_entry64 (kernel/smp_tramp.S), set before each Start-Up IPI. */
uint64_t smp_ap_cr3, smp_ap_stack;
static volatile int starting; /* the index the core being started takes */

int smp_cores(void)
{
    return ncores;
}

uint32_t smp_apic_id(int core)
{
    return cores[core].apic_id;
}

int smp_missing(void)
{
    return nmissing;
}

/* The highest page below 1 MiB the memory map says is RAM (the first MiB
 * is never handed out by kernel/mem.c, so nothing else uses it); 0 if none. */
static uint64_t tramp_page(const struct boot_info *bi)
{
    for (uint64_t pa = TRAMP_END - 0x1000; pa >= TRAMP_LOWEST; pa -= 0x1000)
        if (memmap_is_ram(bi->map, bi->nmap, pa, 0x1000))
            return pa;
    return 0;
}

void ap_main(void); /* from kernel/smp_tramp.S */
void ap_main(void)
{
    struct core *c = &cores[starting];
    cpu_init_ap(c->tables);
    lapic_enable_ap();
    __atomic_store_n(&c->up, true, __ATOMIC_RELEASE);
    for (;;) {
        void (*fn)(void *);
        __asm__ volatile("cli");
        /* STI's one-instruction shadow: a wake IPI that comes between the
         * test and HLT still ends the HLT (SDM vol. 2B, STI) */
        /* Taken, not just read: smp_run can then tell a call it may still
         * withdraw from one this core has begun. */
        while (!(fn = __atomic_exchange_n(&c->fn, NULL, __ATOMIC_ACQUIRE)))
            __asm__ volatile("sti; hlt; cli" ::: "memory");
        fn(c->arg);
        __atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
    }
}

bool smp_run(int core, void (*fn)(void *), void *arg)
{
    struct core *c = &cores[core];
    c->done = false;
    c->arg = arg;
    __atomic_store_n(&c->fn, fn, __ATOMIC_RELEASE);
    if (lapic_ipi(c->apic_id, LAPIC_ICR_FIXED | LAPIC_WAKE_VECTOR))
        return true;
    /* The core sleeps on: withdraw the call, unless it woke anyway and took it. */
    if (__atomic_exchange_n(&c->fn, NULL, __ATOMIC_ACQ_REL) != fn)
        return true;
    kprintf("smp: the wake-up IPI to core %d (apic id %u) did not leave the local APIC; "
            "nothing was run there\n",
            core, c->apic_id);
    return false;
}

enum smp_call_result smp_call(int core, void (*fn)(void *), void *arg, uint64_t ns)
{
    if (core == 0) {
        fn(arg);
        return SMP_CALL_DONE;
    }
    if (!smp_run(core, fn, arg))
        return SMP_CALL_NOT_STARTED;
    uint64_t end = now_ns() + ns;
    while (!smp_done(core) && now_ns() < end)
        cpu_pause();
    return smp_done(core) ? SMP_CALL_DONE : SMP_CALL_LATE;
}

bool smp_done(int core)
{
    return __atomic_load_n(&cores[core].done, __ATOMIC_ACQUIRE);
}

/* The index of the running core, -1 if it is not one smp_init started. */
static int self_index(void)
{
    uint32_t me = cpu_apic_id();
    for (int i = 0; i < ncores; i++)
        if (cores[i].apic_id == me)
            return i;
    return -1;
}

void smp_stop_others(void)
{
    int me = self_index();
    if (ncores == 1)
        return;
    __atomic_store_n(&stopping, true, __ATOMIC_SEQ_CST);
    /* NMI, not a fixed vector: a core polling a NIC runs with interrupts
     * off (SDM 3A §12.6.1: delivery mode NMI ignores IF and the vector). */
    for (int i = 0; i < ncores; i++)
        if (i != me && !lapic_ipi(cores[i].apic_id, LAPIC_ICR_NMI))
            kprintf("fault: the NMI to core %d (apic id %u) did not leave the local APIC\n", i,
                    cores[i].apic_id);
    uint64_t end = now_ns() + SMP_STOP_MS * 1000000ull;
    int pending;
    do {
        pending = 0;
        for (int i = 0; i < ncores; i++)
            pending += i != me && !__atomic_load_n(&cores[i].stopped, __ATOMIC_ACQUIRE);
    } while (pending && now_ns() < end);
    /* Lines of at most about 80 columns, however many cores there are. */
    char list[64];
    size_t n = 0;
    for (int i = 0; i < ncores; i++) {
        if (i != me && cores[i].stopped)
            n += (size_t)ksnprintf(list + n, sizeof(list) - n, " %d", i);
        if (n && (n > sizeof(list) - 8 || i == ncores - 1)) {
            kprintf("fault: cores stopped:%s\n", list);
            n = 0;
        }
    }
    for (int i = 0; i < ncores; i++)
        if (i != me && !cores[i].stopped)
            kprintf("fault: core %d (apic id %u) did not stop within %d ms; it may still "
                    "run\n",
                    i, cores[i].apic_id, SMP_STOP_MS);
}

bool smp_stopping(void)
{
    return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

void smp_stop_here(void)
{
    int me = self_index();
    if (me >= 0)
        __atomic_store_n(&cores[me].stopped, true, __ATOMIC_RELEASE);
    cpu_halt_forever(); /* NMIs stay blocked: this handler never returns (SDM 3A §7.7.1) */
}

/* Start-Up, Start-Up (the INIT went out before); true once the core says
 * it runs. */
static bool start_core(int index, uint32_t apic_id, uint64_t page)
{
    struct core *c = &cores[index];
    uint8_t *stack = dma_alloc(AP_STACK_SIZE, 16);
    c->tables = dma_alloc(cpu_tables_size, 64);
    if (!stack || !c->tables) {
        kprintf("smp: no memory for core %d (apic id %u)\n", index, apic_id);
        return false;
    }
    c->apic_id = apic_id;
    c->up = c->done = false;
    c->fn = NULL;
    starting = index;
    smp_ap_stack = (uint64_t)(uintptr_t)(stack + AP_STACK_SIZE);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    for (int k = 0; k < 2 && !c->up; k++) {
        lapic_ipi(apic_id, LAPIC_ICR_STARTUP | (uint32_t)(page >> 12));
        delay_us(200);
    }
    uint64_t end = now_ns() + AP_ANSWER_MS * 1000000ull;
    while (!__atomic_load_n(&c->up, __ATOMIC_ACQUIRE))
        if (now_ns() > end) {
            kprintf("smp: the core with apic id %u did not answer within %d ms; left out "
                    "(check that the firmware enables it)\n",
                    apic_id, AP_ANSWER_MS);
            /* Back to waiting for a Start-Up IPI, should it wake late: else it
             * could run on the next core's stack and slot */
            if (!lapic_ipi(apic_id, LAPIC_ICR_INIT)) {
                kprintf("smp: and the INIT IPI to stop it did not leave; no more cores are "
                        "started\n");
                stuck = true;
            }
            delay_us(INIT_WAIT_US);
            c->up = false; /* the slot is free again: the core is held in INIT */
            return false;
        }
    return true;
}

int smp_init(const struct boot_info *bi, const struct acpi_info *ai, int want)
{
    uint32_t self = cpu_apic_id();
    cores[0].apic_id = self;
    int listed = ai->ncpus > SMP_MAX_CPUS ? SMP_MAX_CPUS : ai->ncpus;
    if (want == 1 || listed <= 1)
        return ncores;
    if (!lapic_ready()) {
        kprintf("smp: no usable local APIC (%s): only the boot core runs\n", lapic_describe());
        return ncores;
    }
    /* One more than listed: the boot core, should the MADT not list it. */
    struct core *all = dma_alloc((size_t)(listed + 1) * sizeof(*all), 64);
    if (!all) {
        kprintf("smp: no memory for %d cores' state: only the boot core runs\n", listed);
        return ncores;
    }
    all[0] = boot_core;
    cores = all;
    uint64_t page = tramp_page(bi);
    if (!page) {
        kprintf("smp: no free page below 1 MiB for the start-up code: only the boot core "
                "runs\n");
        return ncores;
    }
    size_t len = (size_t)(smp_tramp_end - smp_tramp_start);
    uint8_t *t = (uint8_t *)(uintptr_t)page;
    memcpy(t, smp_tramp_start, len);
    uint32_t gdt_base = (uint32_t)page + (uint32_t)(smp_tramp_gdt - smp_tramp_start);
    uint32_t code32 = (uint32_t)page + (uint32_t)(smp_tramp_code32 - smp_tramp_start);
    memcpy(t + (smp_tramp_gdtr - smp_tramp_start) + 2, &gdt_base, 4);
    memcpy(t + (smp_tramp_far32 - smp_tramp_start), &code32, 4);
    smp_ap_cr3 = read_cr3();
    /* INIT to every core first and one 10 ms wait for all (§9.4.4.1) */
    for (int i = 0; i < listed; i++)
        if (ai->apic_id[i] != self && ai->apic_id[i] <= lapic_max_id() &&
            !lapic_ipi(ai->apic_id[i], LAPIC_ICR_INIT))
            kprintf("smp: the INIT IPI to apic id %u did not leave the local APIC\n",
                    ai->apic_id[i]);
    delay_us(INIT_WAIT_US);
    for (int i = 0; i < listed && (want == 0 || ncores < want) && ncores <= listed && !stuck; i++) {
        if (ai->apic_id[i] == self)
            continue;
        if (ai->apic_id[i] > lapic_max_id()) { /* cannot happen: lapic_init saw the ids */
            kprintf("smp: apic id %u is beyond what an IPI can name (%u); left out\n",
                    ai->apic_id[i], lapic_max_id());
            nmissing++;
            continue;
        }
        if (start_core(ncores, ai->apic_id[i], page))
            ncores++;
        else
            nmissing++;
    }
    return ncores;
}
