/* Whether an event raised for a vCPU placed on another CPU needs that CPU
 * (review finding 4; docs/design.md "Scheduling on several CPUs"): the
 * raiser's half of Xen's vcpu_kick, inlined into sched_event_arrived
 * (hv/sched/wake.c), the remote wake's only caller. */
#pragma once

#include <stdbool.h>

#include "vcpu/vcpu.h"

/* Whether an event just raised (pending bits set) on `port` for v, placed
 * on another CPU, needs that CPU now: v runs there, or it is blocked and
 * this event wakes it (`notified`: the port is unmasked). */
/* As Xen's vcpu_kick: a running vCPU's CPU is interrupted (the upcall is
 * delivered on the way back to it; or it is in hv, maybe on its way into
 * a block or poll whose check came before this event: its CPU looks again
 * after); a blocked one's only if this event wakes it, which happens once
 * (it is runnable after); a runnable one's not at all (it takes its
 * upcall when it next runs: vcpu_set_running). Without this, a guest
 * looping EVTCHN_UNMASK on a pending port of its vCPU blocked in a POLL
 * of other ports sent that CPU one IPI per call, whoever ran there.
 *
 * Inline: it is on every cross-CPU event (ipi_event_cross_cpu).
 *
 * Racy reads of the owner's fields, made safe by order: the caller set
 * the pending bits and upcall_pending, then a full fence (wake.c,
 * sched_event_arrived: upcall_pending's store is a plain one, which this
 * read could otherwise pass); the owner writes what a
 * vCPU waits for before its BLOCKED (release), and every later check of
 * pending bits by v comes after a full barrier that follows v's RUNNING.
 * So a stale state here (v blocked again since, or about to run) means
 * v's own check sees this event. */
static inline bool sched_remote_event_matters(const struct vcpu *v, unsigned port,
                                              bool notified)
{
    switch (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE)) {
    case VCPU_RUNNING:
        return true;
    case VCPU_BLOCKED:
        break;
    default: /* runnable or stopped */
        return false;
    }
    if (!__atomic_load_n(&v->ev.polling, __ATOMIC_RELAXED))
        return notified;
    unsigned n = __atomic_load_n(&v->ev.poll_count, __ATOMIC_RELAXED);
    for (unsigned i = 0; i < n && i < VCPU_POLL_MAX; i++)
        if (__atomic_load_n(&v->ev.poll_ports[i], __ATOMIC_RELAXED) == port)
            return true;
    return false;
}
