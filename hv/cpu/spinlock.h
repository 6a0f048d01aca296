/* A test-and-set spinlock that also masks interrupts, so an interrupt
 * handler on the same CPU cannot spin on a lock its own CPU holds. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpu/x86.h"

struct spinlock {
    volatile uint32_t locked;
};

static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
    uint64_t flags = irq_save();
    while (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        while (l->locked)
            cpu_relax();
    return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
    irq_restore(flags);
}
