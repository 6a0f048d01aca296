/* The lock order (docs/design.md, "Locking"), checked as locks are taken:
 * each lock class has a level, each CPU a mask of the levels it holds, and
 * taking a lock while holding one of the same or a higher level panics
 * with both names (a deadlock waiting to happen: another CPU may take the
 * two the other way round). Cheap enough to stay on in every build: a
 * load, a test and an `or` to take, an `and` to give back, on the CPU's
 * own word (%gs). Two guests' event-channel locks are two levels, the
 * lower guest id's first.
 *
 * The pure part (lock_order_check, lock_level_name) is unit-tested
 * (tests/unit/test_lock_order.c); host builds of code that takes hv's
 * locks (SPIN_HOST) keep the mask per thread. */
#pragma once

#include <stdint.h>

#include "hv/cpu/spinlock.h"

enum lock_level {
    LOCK_RESTART = 1,      /* g->restart_lock */
    LOCK_MM = 2,           /* g->mm_lock */
    LOCK_EVTCHN = 3,       /* g->evtchn_lock (the lower id's of two) */
    LOCK_EVTCHN_SECOND = 4, /* the higher id's, held with the lower's */
    LOCK_CONSOLE = 5,      /* g->console.lock */
    LOCK_LOG = 6,          /* hv/console/log.c (not checked yet) */
    LOCK_KSPACE = 7,       /* hv/mm/mm.c */
    LOCK_HEAP = 8,         /* hv/mm/mm_alloc.c (not checked: see there) */
    LOCK_FRAMES = 9,       /* hv/mm/mm_alloc.c (not checked) */
    LOCK_LEVELS
};

/* 0 when a CPU holding `held` (bit L: a lock of level L) may take a lock of
 * `level`; else the highest level it holds that forbids it. */
static inline unsigned lock_order_check(uint32_t held, unsigned level)
{
    uint32_t above = held >> level;
    if (!above)
        return 0;
    return level + 31 - (unsigned)__builtin_clz(above);
}

static inline const char *lock_level_name(unsigned level)
{
    static const char *const names[LOCK_LEVELS] = {
        [LOCK_RESTART] = "restart_lock", [LOCK_MM] = "mm_lock",
        [LOCK_EVTCHN] = "evtchn_lock",   [LOCK_EVTCHN_SECOND] = "evtchn_lock (second guest)",
        [LOCK_CONSOLE] = "console.lock", [LOCK_LOG] = "log_lock",
        [LOCK_KSPACE] = "kspace_lock",   [LOCK_HEAP] = "heap_lock",
        [LOCK_FRAMES] = "frames_lock"};
    return level < LOCK_LEVELS && names[level] ? names[level] : "?";
}

/* Panics: "lock order: LOCK taken while holding HELD" (a host test's may
 * return, to go on checking). */
#ifdef SPIN_HOST
void lock_order_violation(unsigned level, unsigned held_level) __attribute__((cold));
#else
void lock_order_violation(unsigned level, unsigned held_level) __attribute__((noreturn, cold));
#endif

#ifdef SPIN_HOST
extern __thread uint32_t lock_order_held_host;
static inline uint32_t lock_order_held(void)
{
    return lock_order_held_host;
}
static inline void lock_order_set(uint32_t held)
{
    lock_order_held_host = held;
}
#else
#include <stddef.h>

#include "hv/cpu/percpu.h"

static inline uint32_t lock_order_held(void)
{
    uint32_t held;
    __asm__ volatile("movl %%gs:%c1, %0" : "=r"(held) : "i"(offsetof(struct percpu, locks_held)));
    return held;
}
static inline void lock_order_set(uint32_t held)
{
    __asm__ volatile("movl %0, %%gs:%c1" : : "r"(held), "i"(offsetof(struct percpu, locks_held))
                     : "memory");
}
#endif

/* Before a lock of `level` is taken (interrupts off: the mask is this
 * CPU's). */
static inline void lock_order_take(unsigned level)
{
    uint32_t held = lock_order_held();
    unsigned bad = lock_order_check(held, level);
    if (__builtin_expect(bad != 0, 0))
        lock_order_violation(level, bad);
    lock_order_set(held | 1u << level);
}

static inline void lock_order_give(unsigned level)
{
    lock_order_set(lock_order_held() & ~(1u << level));
}

/* A lock of one class, with the check. */
static inline void spin_lock_at(struct spinlock *l, unsigned level)
{
    lock_order_take(level);
    spin_lock(l);
}

static inline void spin_unlock_at(struct spinlock *l, unsigned level)
{
    spin_unlock(l);
    lock_order_give(level);
}

static inline uint64_t spin_lock_irqsave_at(struct spinlock *l, unsigned level)
{
    uint64_t flags = spin_irq_save();
    spin_lock_at(l, level);
    return flags;
}

static inline void spin_unlock_irqrestore_at(struct spinlock *l, unsigned level, uint64_t flags)
{
    spin_unlock_at(l, level);
    spin_irq_restore(flags);
}
