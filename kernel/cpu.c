/*
 * kernel/cpu.c - GDT, TSS and IDT for 64-bit mode (Intel SDM vol. 3A
 * §3.4.5 segment descriptors, §8.7 task management in 64-bit mode, §7.14
 * 64-bit interrupt handling).
 *
 * Every one of the 256 vectors has a handler (kernel/isr.S) that ends in
 * trap(): an exception, a stray interrupt or an NMI is always reported, never
 * a silent triple fault. Double fault, NMI and machine check each run on a
 * stack of their own (IST1, IST2, IST3: SDM vol. 3A §7.14.5), so even a
 * blown kernel stack is reported, and an NMI or machine check that arrives
 * while another of the three is being handled does not start again at the
 * top of the stack that handler is using.
 */
#include "kernel/cpu.h"

#include "kernel/io.h"
#include "kernel/string.h"

#define SEL_CODE 0x08
#define SEL_DATA 0x10
#define SEL_TSS 0x18

#define CPUID1_EDX_PAT (1u << 16)
/* 8259A: command and data ports of the two PICs, and the vectors their
 * IRQs are moved to (8259A datasheet, ICW1-ICW4 and OCW1). */
#define PIC1_CMD 0x20
#define PIC1_DATA 0x21
#define PIC2_CMD 0xA0
#define PIC2_DATA 0xA1
#define PIC_ICW1_INIT_ICW4 0x11 /* edge-triggered, cascaded, ICW4 follows */
#define PIC_ICW4_8086 0x01

#define VEC_NMI 2
#define VEC_DOUBLE_FAULT 8
#define VEC_MACHINE_CHECK 18
#define IST_STACK_SIZE 8192
enum { IST_DOUBLE_FAULT = 1, IST_NMI, IST_MACHINE_CHECK, IST_STACKS = IST_MACHINE_CHECK };

/* SDM vol. 3A §8.7, Figure 8-11: the 64-bit TSS. */
struct tss {
    uint32_t reserved0;
    uint64_t rsp[3];
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));
_Static_assert(sizeof(struct tss) == 104, "SDM 3A Figure 8-11: the TSS is 104 bytes");

/* SDM vol. 3A §7.14.1, Figure 7-8: a 64-bit interrupt gate. */
struct idt_gate {
    uint16_t offset_lo;
    uint16_t selector;
    uint8_t ist;
    uint8_t type_attr; /* P, DPL, type */
    uint16_t offset_mid;
    uint32_t offset_hi;
    uint32_t reserved;
} __attribute__((packed));
_Static_assert(sizeof(struct idt_gate) == 16, "SDM 3A Figure 7-8: a gate is 16 bytes");

struct table_ptr {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

#define GATE_INTERRUPT 0x8E /* present, DPL 0, 64-bit interrupt gate: IF cleared on entry */

/* Each core's own descriptor tables and exception stack. */
struct cpu_tables {
    uint64_t gdt[5];
    struct tss tss;
    struct idt_gate idt[256];
    uint8_t ist_stack[IST_STACKS][IST_STACK_SIZE] __attribute__((aligned(16)));
};
const size_t cpu_tables_size = sizeof(struct cpu_tables);

static struct cpu_tables bsp_tables __attribute__((aligned(64)));

extern char isr_stubs[]; /* kernel/isr.S: 256 stubs, ISR_STUB_SIZE bytes apart */
#define ISR_STUB_SIZE 16

static void gdt_init(struct cpu_tables *t)
{
    uint64_t *gdt = t->gdt;
    uint64_t base = (uint64_t)(uintptr_t)&t->tss, limit = sizeof(t->tss) - 1;
    gdt[0] = 0;
    gdt[1] = 0x00209A0000000000ull; /* code: present, DPL 0, execute/read, L=1 */
    gdt[2] = 0x0000920000000000ull; /* data: present, writable */
    /* SDM 3A §8.2.3, Figure 8-4: a 16-byte TSS descriptor, type 9 (available). */
    gdt[3] = (limit & 0xFFFF) | (base & 0xFFFFFF) << 16 | 0x89ull << 40 |
             ((limit >> 16) & 0xF) << 48 | ((base >> 24) & 0xFF) << 56;
    gdt[4] = base >> 32;

    struct table_ptr p = { sizeof(t->gdt) - 1, (uint64_t)(uintptr_t)gdt };
    __asm__ volatile("lgdt %0\n\t"
                     "pushq %1\n\t" /* reload CS with a far return */
                     "leaq 1f(%%rip), %%rax\n\t"
                     "pushq %%rax\n\t"
                     "lretq\n"
                     "1:\n\t"
                     "movw %w2, %%ds\n\t"
                     "movw %w2, %%es\n\t"
                     "movw %w2, %%ss\n\t"
                     "ltr %w3"
                     :
                     : "m"(p), "i"(SEL_CODE), "r"(SEL_DATA), "r"(SEL_TSS)
                     : "rax", "memory");
}

static void idt_init(struct cpu_tables *t)
{
    struct idt_gate *idt = t->idt;
    for (int v = 0; v < 256; v++) {
        uint64_t h = (uint64_t)(uintptr_t)isr_stubs + (uint64_t)v * ISR_STUB_SIZE;
        int ist = v == VEC_DOUBLE_FAULT    ? IST_DOUBLE_FAULT
                  : v == VEC_NMI           ? IST_NMI
                  : v == VEC_MACHINE_CHECK ? IST_MACHINE_CHECK
                                           : 0;
        idt[v] = (struct idt_gate){
            .offset_lo = h & 0xFFFF,
            .selector = SEL_CODE,
            .ist = (uint8_t)ist,
            .type_attr = GATE_INTERRUPT,
            .offset_mid = (h >> 16) & 0xFFFF,
            .offset_hi = (uint32_t)(h >> 32),
        };
    }
    struct table_ptr p = { sizeof(t->idt) - 1, (uint64_t)(uintptr_t)idt };
    __asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

/* This core's GDT (with its TSS and exception stack) and IDT. */
static void load_tables(struct cpu_tables *t)
{
    memset(&t->tss, 0, sizeof(t->tss));
    for (int i = 0; i < IST_STACKS; i++) /* ist[0] is IST1; stacks grow down */
        t->tss.ist[i] = (uint64_t)(uintptr_t)(t->ist_stack[i] + IST_STACK_SIZE);
    t->tss.iomap_base = sizeof(t->tss); /* no I/O permission bitmap */
    gdt_init(t);
    idt_init(t);
}

/* Read by kernel/smp_tramp.S: the application cores write the same PAT. */
uint64_t cpu_pat;

/* The PAT of cpu.h, whatever the firmware left, so that PWT/PCD in
 * kernel/paging.c mean WB (00), WC (01) and UC (11). Written while the boot
 * map (boot/boot.S), which selects entry 0 only, is in use: no page uses the
 * entry that changes, so the SDM's cache and TLB flush for changing an entry
 * in use (§11.12.4) is not needed. No PAT in CPUID: WRMSR would fault. */
static void pat_init(void)
{
    if (!(cpuid(1, 0).edx & CPUID1_EDX_PAT))
        return;
    cpu_pat = CPU_PAT_WITH_WC;
    wrmsr(MSR_IA32_PAT, cpu_pat);
}

void cpu_init_ap(struct cpu_tables *t)
{
    load_tables(t);
}

void cpu_init(void)
{
    load_tables(&bsp_tables);
    pat_init();
    /* The 8259 PICs start out on vectors 8-15, the exceptions'. Move them
     * to CPU_PIC_VECTOR.. (ICW1-ICW4), so that a spurious IRQ 7 or 15 while
     * a core sleeps with interrupts on (kernel/lapic.c) is not mistaken for
     * an exception, then mask every line (OCW1). */
    outb(PIC1_CMD, PIC_ICW1_INIT_ICW4);
    outb(PIC2_CMD, PIC_ICW1_INIT_ICW4);
    outb(PIC1_DATA, CPU_PIC_VECTOR);
    outb(PIC2_DATA, CPU_PIC_VECTOR + 8);
    outb(PIC1_DATA, 1u << 2); /* the slave hangs on IRQ 2 */
    outb(PIC2_DATA, 2);       /* its cascade identity */
    outb(PIC1_DATA, PIC_ICW4_8086);
    outb(PIC2_DATA, PIC_ICW4_8086);
    outb(PIC1_DATA, 0xFF);
    outb(PIC2_DATA, 0xFF);
}

void cpu_halt_forever(void)
{
    for (;;)
        __asm__ volatile("cli; hlt");
}

void cpu_triple_fault(void)
{
    struct table_ptr empty = { 0, 0 };
    __asm__ volatile("lidt %0; int3" : : "m"(empty) : "memory");
    cpu_halt_forever(); /* a machine that does not reset on shutdown */
}
