/* Shared by the ev-* test guests (tests/guests/ev_*.c): the checks of
 * pv_common.h, plus waiting for event counters, shared regions, and the
 * figures the system tests parse (tests/system/ev_cases.py). Each test
 * guest includes it once. */
#pragma once

#include "pv_common.h"

#include "hvg_event.h"

#define EV_HELPER static __attribute__((unused))

/* Generous: nothing here should take more than a fraction of it. */
#define EV_TIMEOUT_NS (20 * HVG_NS_PER_SEC)

struct ev_count_target {
    volatile uint64_t *counter;
    uint64_t target;
};

EV_HELPER bool ev_count_reached(void *arg)
{
    struct ev_count_target *t = arg;
    return __atomic_load_n(t->counter, __ATOMIC_ACQUIRE) >= t->target;
}

/* Blocks vCPU vcpu until *counter >= target; 0 or -HV_ETIMEDOUT. */
EV_HELPER int64_t ev_wait_count(unsigned vcpu, volatile uint64_t *counter, uint64_t target,
                                uint64_t timeout_ns)
{
    struct ev_count_target t = { counter, target };
    return hvg_wait(vcpu, ev_count_reached, &t, hvg_now() + timeout_ns);
}

/* A callback that counts into the uint64_t its arg points to. */
EV_HELPER void ev_count(unsigned port, unsigned vcpu, void *arg)
{
    (void)port, (void)vcpu;
    __atomic_fetch_add((volatile uint64_t *)arg, 1, __ATOMIC_RELEASE);
}

/* Ends the guest with a line saying why (for set-up that must work). */
#define EV_MUST(call)                                                                        \
    do {                                                                                     \
        int64_t ev_r_ = (call);                                                              \
        if (ev_r_ < 0) {                                                                     \
            hvg_printf("%s: %s -> %lld: FAILED (set-up)\n", pv_name, #call, (long long)ev_r_); \
            hvg_exit(2);                                                                     \
        }                                                                                    \
    } while (0)

/* The shared region `name`, at least `bytes` long, or the guest ends. */
EV_HELPER volatile void *ev_shm(const char *name, uint64_t bytes, bool writable)
{
    const struct hv_shm_info *s = hvg_shm(name);

    if (s == NULL || s->bytes < bytes || (writable && !s->writable)) {
        hvg_printf("%s: shared region \"%s\" (%llu bytes%s) missing from the start info: "
                   "FAILED (set-up)\n", pv_name, name, (unsigned long long)bytes,
                   writable ? ", writable" : "");
        hvg_exit(2);
    }
    return (volatile void *)(uintptr_t)s->va;
}

/* Spins (no hypercall) until system time reaches t. */
EV_HELPER void ev_spin_until(uint64_t t)
{
    while (hvg_now() < t)
        hvg_cpu_relax();
}

/* The timer port's callback of ev-timer and timer-edges (its arg points to
 * the probe): counts the events in `fired` and, while `armed`, notes when
 * the first one came and disarms (the event of a timer set again must not
 * overwrite an early one's time). */
struct ev_timer_probe {
    volatile uint64_t fired, fired_at;
    volatile bool armed;
};

EV_HELPER void ev_timer_probe_event(unsigned port, unsigned vcpu, void *arg)
{
    struct ev_timer_probe *p = arg;

    (void)port, (void)vcpu;
    if (p->armed) {
        p->fired_at = hvg_now();
        p->armed = false;
    }
    __atomic_fetch_add(&p->fired, 1, __ATOMIC_RELEASE);
}

/* Arms the probe and sleeps until the timer event for `deadline` (set by
 * hvg_sleep_until): the time it came, or 0 if it never did. */
EV_HELPER uint64_t ev_timer_sleep(struct ev_timer_probe *p, unsigned vcpu, uint64_t deadline)
{
    uint64_t before = p->fired;

    p->armed = true;
    if (hvg_sleep_until(vcpu, deadline) < 0 || p->fired == before)
        return 0;
    return p->fired_at;
}

/* Lateness statistics, printed in one line the system tests parse:
 *     NAME: lateness over N events: min A ns, max B ns, mean C ns */
struct ev_lateness {
    uint64_t n, min, max, sum;
};

EV_HELPER void ev_lateness_add(struct ev_lateness *l, uint64_t late)
{
    if (l->n == 0 || late < l->min)
        l->min = late;
    if (late > l->max)
        l->max = late;
    l->sum += late;
    l->n++;
}

EV_HELPER void ev_lateness_print(const struct ev_lateness *l)
{
    hvg_printf("%s: lateness over %llu events: min %llu ns, max %llu ns, mean %llu ns\n", pv_name,
               (unsigned long long)l->n, (unsigned long long)l->min,
               (unsigned long long)l->max, (unsigned long long)(l->n ? l->sum / l->n : 0));
}
