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

/* The entry of port (< HV_EVTCHN_PORTS) is a VIRQ notifying v. */
static inline __attribute__((always_inline)) bool virq_entry_is(const struct evtchn *t,
                                                               unsigned port,
                                                               const struct vcpu *v)
{
    return __atomic_load_n(&t[port].state, __ATOMIC_RELAXED) == HV_EVTCHN_VIRQ &&
           __atomic_load_n(&t[port].vcpu, __ATOMIC_RELAXED) == v->id;
}

/* Whether marking v's port for virq needs nothing but the marks: bound,
 * its table there, the entry a VIRQ notifying v, the port unmasked (else
 * evtchn_raise's case). *portp is the port clamped even when false, so a
 * mispredicted test reaches no bit outside the bitmaps. Reads only. */
static inline __attribute__((always_inline)) bool virq_port_plain(const struct vcpu *v,
                                                                  unsigned virq, unsigned *portp)
{
    const struct guest *g = v->guest;
    unsigned port = v->ev.virq_port[virq];
    /* The table read once: the reaper may take it away (evtchn_free_table). */
    const struct evtchn *t = __atomic_load_n(&g->evtchn, __ATOMIC_ACQUIRE);
    bool in = port < HV_EVTCHN_PORTS; /* NO_PORT is not */
    port = (unsigned)array_index_nospec(port, HV_EVTCHN_PORTS);
    *portp = port;
    return t && in && virq_entry_is(t, port, v) &&
           !bitmap_test((const uint64_t (*)[HV_EVTCHN_WORDS]) & g->shared->evtchn_mask, port);
}

/* After virq_pend: the entry still v's VIRQ. Another vCPU of the guest
 * may have closed the port and bound it anew between virq_port_plain's
 * reads and the mark (evtchn_raise reads the vCPU after its bts for the
 * same reason): then the bit set is the new binding's. */
static inline __attribute__((always_inline)) bool virq_port_still(const struct vcpu *v,
                                                                  unsigned port)
{
    const struct evtchn *t = __atomic_load_n(&v->guest->evtchn, __ATOMIC_ACQUIRE);
    return t && virq_entry_is(t, port, v);
}

/* Whether port's pending bit is set (a read: the idle timer path's test
 * before its spin; the mark, virq_pend, comes after it). */
static inline __attribute__((always_inline)) bool virq_pending(const struct hv_shared_info *sh,
                                                              uint64_t nr)
{
    return bitmap_test(&sh->evtchn_pending, nr);
}

/* Whether port is masked (the guest's mask bitmap): after the mark, as
 * evtchn_raise reads it. */
static inline __attribute__((always_inline)) bool virq_masked(const struct hv_shared_info *sh,
                                                             uint64_t nr)
{
    return bitmap_test(&sh->evtchn_mask, nr);
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
