/*
 * driver/link.c - watching a NIC's link from the reporting core (see link.h).
 */
#include "driver/link.h"

#include "driver/platform.h"

void nic_link_init(struct nic *nic, uint64_t now)
{
    bool down = !nic->ops->link(nic).up;
    nic->down_since_ns = now;
    __atomic_store_n(&nic->link_down, down, __ATOMIC_RELAXED);
}

void nic_link_check(struct nic *nic, uint64_t now)
{
    bool up = nic->ops->link(nic).up;
    if (!up && !nic->link_down) {
        nic->link_downs++;
        nic->down_since_ns = now;
        __atomic_store_n(&nic->link_down, true, __ATOMIC_RELAXED);
        kprintf("link %s down\n", nic->name);
    } else if (up && nic->link_down) {
        uint64_t down = now - nic->down_since_ns;
        nic->down_total_ns += down;
        __atomic_store_n(&nic->link_down, false, __ATOMIC_RELAXED);
        uint64_t tenths = (down + 50000000) / 100000000; /* rounded to 0.1 s */
        kprintf("link %s up after %lu.%lu s\n", nic->name, tenths / 10, tenths % 10);
    }
}

uint64_t nic_link_down_ms(const struct nic *nic, uint64_t now)
{
    uint64_t ns = nic->down_total_ns + (nic->link_down ? now - nic->down_since_ns : 0);
    return ns / 1000000;
}
