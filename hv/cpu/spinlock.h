/* A ticket spinlock that also masks interrupts, so an interrupt handler on
 * the same CPU cannot spin on a lock its own CPU holds. Tickets, not
 * test-and-set: waiters get the lock in the order they asked, so no CPU can
 * starve another (with test-and-set the CPU that released it, still hot in
 * its cache, tends to win it back). Uncontended: one locked xadd to take,
 * one plain store to give back (x86 stores are release stores).
 *
 * Rules for every lock in hv (docs/design.md, "Locking"): held for bounded
 * work only, never across a wait for another CPU, never across an access
 * to guest memory that can fault. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpu/x86.h"

/* What a waiter does between two looks at the lock. The host unit test
 * (tests/unit/test_spinlock.c) makes it a sched_yield: its threads stand in
 * for CPUs but, unlike a CPU holding a lock with interrupts off, can be
 * preempted, and a ticket lock whose next holder is preempted stalls every
 * other waiter for a whole time slice. */
#ifndef SPIN_RELAX
#define SPIN_RELAX() cpu_relax()
#endif

/* Interrupts off while a lock is held. Host unit tests of code that takes
 * hv's locks (tests/unit/evtchn.mk) build with SPIN_HOST: user space may
 * not clear IF. */
#ifdef SPIN_HOST
static inline uint64_t spin_irq_save(void)
{
    return 0;
}
static inline void spin_irq_restore(uint64_t flags)
{
    (void)flags;
}
#else
static inline uint64_t spin_irq_save(void)
{
    return irq_save();
}
static inline void spin_irq_restore(uint64_t flags)
{
    irq_restore(flags);
}
#endif

struct spinlock {
    uint16_t owner; /* the ticket being served */
    uint16_t next;  /* the next ticket to hand out */
};

static inline void spin_lock(struct spinlock *l)
{
    uint16_t ticket = __atomic_fetch_add(&l->next, 1, __ATOMIC_ACQUIRE);
    while (__atomic_load_n(&l->owner, __ATOMIC_ACQUIRE) != ticket)
        SPIN_RELAX();
}

static inline void spin_unlock(struct spinlock *l)
{
    __atomic_store_n(&l->owner, (uint16_t)(l->owner + 1), __ATOMIC_RELEASE);
}

static inline uint64_t spin_lock_irqsave(struct spinlock *l)
{
    uint64_t flags = spin_irq_save();
    spin_lock(l);
    return flags;
}

static inline void spin_unlock_irqrestore(struct spinlock *l, uint64_t flags)
{
    spin_unlock(l);
    spin_irq_restore(flags);
}

/* Whether some CPU holds it (for assertions and reports only). */
static inline bool spin_is_locked(const struct spinlock *l)
{
    return __atomic_load_n(&l->owner, __ATOMIC_RELAXED) != __atomic_load_n(&l->next, __ATOMIC_RELAXED);
}
