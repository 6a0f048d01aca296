/* A VIRQ bound to a vCPU, marked as send_self marks an IPI port
 * (hv/event/evtchn.c): the port's state read once, `lock bts` on the
 * pending bitmap, then the selector and the upcall flag. For the idle
 * loop's timer path (hv/sched/idle_timer.c), which wakes the vCPU itself:
 * evtchn_raise's work less what that path has checked (the guest alive,
 * the vCPU on this CPU, untraced). Its own file: evtchn.c is the event
 * path's. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/event/bitmap.h"
#include "hv/event/evtchn.h"
#include "hv/guest/guest.h"
#include "lib/nospec.h"
#include "vcpu/vcpu.h"

/* v's port for virq if marking it needs nothing but the marks: bound,
 * its table there, the entry a VIRQ notifying v, the port unmasked.
 * HV_EVTCHN_PORTS otherwise (evtchn_raise's case). Reads only. */
static inline __attribute__((always_inline)) unsigned virq_port_plain(const struct vcpu *v,
                                                                      unsigned virq)
{
    const struct guest *g = v->guest;
    unsigned port = v->ev.virq_port[virq];
    /* The table read once: the reaper may take it away (evtchn_free_table). */
    const struct evtchn *t = __atomic_load_n(&g->evtchn, __ATOMIC_ACQUIRE);
    if (!t || port >= HV_EVTCHN_PORTS) /* NO_PORT too */
        return HV_EVTCHN_PORTS;
    port = (unsigned)array_index_nospec(port, HV_EVTCHN_PORTS);
    if (__atomic_load_n(&t[port].state, __ATOMIC_RELAXED) != HV_EVTCHN_VIRQ ||
        __atomic_load_n(&t[port].vcpu, __ATOMIC_RELAXED) != v->id ||
        (__atomic_load_n(&g->shared->evtchn_mask[port / 64], __ATOMIC_RELAXED) >> (port % 64)) & 1)
        return HV_EVTCHN_PORTS;
    return port;
}

/* Sets port's pending bit (lock bts, bitmap.h): false, with nothing
 * changed, if it was set already (the guest's doing, or an earlier raise:
 * evtchn_raise then tells no one). */
static inline __attribute__((always_inline)) bool virq_pend(struct hv_shared_info *sh, uint64_t nr)
{
    return !bitmap_test_and_set(&sh->evtchn_pending, nr);
}

/* After virq_pend: v is told (notify's selector bit and upcall flag). */
static inline __attribute__((always_inline)) void virq_notify(struct hv_vcpu_shared *vs,
                                                              unsigned port)
{
    word_test_and_set(&vs->pending_sel, port / 64);
    vs->upcall_pending = 1;
}
