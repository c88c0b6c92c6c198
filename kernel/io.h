/*
 * kernel/io.h - the one door to hardware: port I/O and memory-mapped registers.
 *
 * Every access the kernel and the drivers make to a device goes through these
 * helpers; nothing else dereferences a BAR or executes IN/OUT. x86 keeps
 * uncached (UC) loads and stores in program order with respect to each other
 * and to ordinary memory writes (Intel SDM vol. 3A §12.3, "Methods of Caching
 * Available", UC), so a volatile access plus a compiler barrier is enough:
 * a descriptor written to RAM before a tail-register write is visible to the
 * device when the write lands. The "memory" clobber stops the compiler from
 * moving RAM accesses across the register access.
 *
 * Built with IXM_HOST (the host test build) these are plain functions that a
 * test or a device model implements, which is how drivers and the PCI code are
 * exercised without hardware.
 */
#ifndef KERNEL_IO_H
#define KERNEL_IO_H

#include <stdint.h>

#ifdef IXM_HOST

uint8_t inb(uint16_t port);
uint16_t inw(uint16_t port);
uint32_t inl(uint16_t port);
void outb(uint16_t port, uint8_t v);
void outw(uint16_t port, uint16_t v);
void outl(uint16_t port, uint32_t v);
uint32_t mmio_read32(uint64_t addr);
void mmio_write32(uint64_t addr, uint32_t v);
uint64_t mmio_read64(uint64_t addr);
void mmio_write64(uint64_t addr, uint64_t v);
uint16_t mmio_read16(uint64_t addr);
void mmio_write16(uint64_t addr, uint16_t v);
uint8_t mmio_read8(uint64_t addr);
void mmio_write8(uint64_t addr, uint8_t v);
void mmio_wc_flush(void);

#else

static inline uint8_t inb(uint16_t port)
{
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

static inline uint16_t inw(uint16_t port)
{
    uint16_t v;
    __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port) : "memory");
    return v;
}

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outw(uint16_t port, uint16_t v)
{
    __asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static inline uint32_t mmio_read32(uint64_t addr)
{
    uint32_t v;
    __asm__ volatile("movl %1, %0" : "=r"(v) : "m"(*(volatile uint32_t *)addr) : "memory");
    return v;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
    __asm__ volatile("movl %1, %0" : "=m"(*(volatile uint32_t *)addr) : "r"(v) : "memory");
}

/* A 64-bit register in one access (VT-d's command registers start their
 * command with the write of the upper half, so no split writes there). */
static inline uint64_t mmio_read64(uint64_t addr)
{
    uint64_t v;
    __asm__ volatile("movq %1, %0" : "=r"(v) : "m"(*(volatile uint64_t *)addr) : "memory");
    return v;
}

static inline void mmio_write64(uint64_t addr, uint64_t v)
{
    __asm__ volatile("movq %1, %0" : "=m"(*(volatile uint64_t *)addr) : "r"(v) : "memory");
}

static inline uint16_t mmio_read16(uint64_t addr)
{
    uint16_t v;
    __asm__ volatile("movw %1, %0" : "=r"(v) : "m"(*(volatile uint16_t *)addr) : "memory");
    return v;
}

static inline void mmio_write16(uint64_t addr, uint16_t v)
{
    __asm__ volatile("movw %1, %0" : "=m"(*(volatile uint16_t *)addr) : "r"(v) : "memory");
}

static inline uint8_t mmio_read8(uint64_t addr)
{
    uint8_t v;
    __asm__ volatile("movb %1, %0" : "=q"(v) : "m"(*(volatile uint8_t *)addr) : "memory");
    return v;
}

static inline void mmio_write8(uint64_t addr, uint8_t v)
{
    __asm__ volatile("movb %1, %0" : "=m"(*(volatile uint8_t *)addr) : "q"(v) : "memory");
}

/* The one exception to the ordering above: the framebuffer is mapped
 * write-combining (kernel/paging.h CACHE_WC), where writes wait in the
 * core's write-combining buffers, weakly ordered, until it drains them
 * (SDM 3A "Buffering of Write Combining Memory Locations", §11.3.1 in the
 * editions before 2023). SFENCE drains them: the pixels are on their way
 * before the core goes on, halts or switches the machine off. */
static inline void mmio_wc_flush(void)
{
    __asm__ volatile("sfence" : : : "memory");
}

#endif /* IXM_HOST */
#endif
