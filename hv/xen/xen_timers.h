/* The Xen timers of one vCPU as pure functions (hv/xen/xen_timer.c uses
 * them; tests/unit/test_xen_timers.c checks them): Xen's single-shot timer
 * (set_timer_op, VCPUOP_set_singleshot_timer), its periodic timer (10 ms
 * at start for a PV vCPU, VCPUOP_set/stop_periodic_timer) and a poll's
 * timeout share hv's one vCPU timer, armed for the earliest of them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct xen_timers {
    uint64_t single;        /* absolute system ns; 0: none */
    uint64_t period;        /* ns; 0: stopped */
    uint64_t periodic_next; /* the next periodic tick; 0: not counting yet */
    uint64_t poll;          /* a poll's timeout; 0: none */
};

static inline uint64_t xen_timers_min(uint64_t a, uint64_t b)
{
    return !a ? b : !b ? a : a < b ? a : b;
}

/* The deadline hv's timer must be armed for at `now` (0: none). The
 * timers that send VIRQ_TIMER count only while a port is bound to it
 * (`bound`): with none Xen's timer events go nowhere, and hv need not
 * wake for them. The periodic timer starts counting when first armed. */
static inline uint64_t xen_timers_next(struct xen_timers *t, bool bound, uint64_t now)
{
    uint64_t next = t->poll;
    if (!bound)
        return next;
    if (t->period && !t->periodic_next)
        t->periodic_next = now + t->period;
    if (!t->period)
        t->periodic_next = 0;
    return xen_timers_min(xen_timers_min(next, t->single), t->periodic_next);
}

/* hv's timer fired at `now`: takes what is due (the single-shot timer
 * once, the periodic one once however many periods passed, as Xen's
 * periodic timer does, the poll's timeout); true if VIRQ_TIMER is sent. */
static inline bool xen_timers_take_due(struct xen_timers *t, uint64_t now)
{
    bool send = false;
    if (t->single && t->single <= now) {
        t->single = 0;
        send = true;
    }
    if (t->period && t->periodic_next && t->periodic_next <= now) {
        send = true;
        t->periodic_next = now + t->period;
    }
    if (t->poll && t->poll <= now)
        t->poll = 0;
    return send;
}
