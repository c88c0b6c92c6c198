/*
 * kernel/cpu.h - the processor: descriptor tables, and the few instructions
 * the kernel needs that C cannot express (Intel SDM vol. 2 for each).
 */
#ifndef KERNEL_CPU_H
#define KERNEL_CPU_H

#include <stddef.h>
#include <stdint.h>

struct cpuid {
    uint32_t eax, ebx, ecx, edx;
};

static inline struct cpuid cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct cpuid r;
    __asm__ volatile("cpuid"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf));
    return r;
}

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static inline uint64_t read_cr2(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr2, %0" : "=r"(v));
    return v;
}

static inline uint64_t read_cr3(void)
{
    uint64_t v;
    __asm__ volatile("mov %%cr3, %0" : "=r"(v));
    return v;
}

static inline void write_cr3(uint64_t v)
{
    __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory");
}

static inline void invlpg(uint64_t va)
{
    __asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static inline void cpu_pause(void)
{
    __asm__ volatile("pause");
}

/* The APIC id of the running core: all 32 bits of its x2APIC id from CPUID
 * 0Bh EDX where that leaf exists (SDM 3A §12.12.8.1; EBX is 0 where it does
 * not), else the 8-bit initial APIC id of CPUID 01h EBX[31:24]. In xAPIC
 * mode the two are the same. */
static inline uint32_t cpu_apic_id(void)
{
    if (cpuid(0, 0).eax >= 0xB) {
        struct cpuid t = cpuid(0xB, 0);
        if (t.ebx)
            return t.edx;
    }
    return cpuid(1, 0).ebx >> 24;
}

/* CPUID 01h ECX bit 31: set by hypervisors, clear on bare metal. */
static inline int cpu_in_vm(void)
{
    return (cpuid(1, 0).ecx >> 31) & 1;
}

/* The masked 8259 PICs' IRQ 0-15 arrive, if ever, on these 16 vectors. */
#define CPU_PIC_VECTOR 0x20

#define MSR_IA32_PAT 0x277

/*
 * The PAT (SDM vol. 3A, Memory Cache Control, "Page Attribute Table (PAT)",
 * §11.12 in the editions before 2023): the power-on entries (Table 11-12),
 * but entry 1, which PWT=1 PCD=0 PAT=0 in a page-table entry selects, is
 * write-combining (01h) instead of write-through, for kernel/paging.c's
 * CACHE_WC. Nothing maps write-through. cpu_init() writes it on the boot
 * core and records it in cpu_pat; kernel/smp_tramp.S writes cpu_pat on each
 * application core before that core loads the kernel's map, so every core
 * uses the same PAT, as the SDM requires (§11.12.4). cpu_pat stays 0 when
 * CPUID.01h:EDX.PAT[bit 16] is 0; paging then maps CACHE_WC uncached.
 */
#define CPU_PAT_WITH_WC 0x0007040600070106ull
extern uint64_t cpu_pat;

/* The boot core: loads its GDT (with a TSS for the exception stack), its
 * IDT and the PAT, and masks the 8259 PICs. */
void cpu_init(void);

/* An application core: the same, in the tables t (cpu_tables_size bytes,
 * 64-byte aligned, its own). */
struct cpu_tables;
extern const size_t cpu_tables_size;
void cpu_init_ap(struct cpu_tables *t);

/* Stops this core for good: interrupts off, halt in a loop. */
__attribute__((noreturn)) void cpu_halt_forever(void);

/* Resets the machine the last way there is: an empty IDT, then an
 * interrupt, which can be neither delivered nor reported. A fault while
 * delivering #DF shuts the core down (SDM 3A §7.15, Interrupt 8), and PC
 * chipsets, QEMU's among them, answer a shutdown with a reset. */
__attribute__((noreturn)) void cpu_triple_fault(void);

/* The TSC value at the kernel's first instruction (boot/boot.S). */
extern uint64_t boot_tsc;

#endif
