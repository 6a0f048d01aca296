/* HV_CALL_EVTCHN_SEND (split from evtchn.c, session 14): the send's
 * lookup, the lean marking of a port bound to the sender's own vCPU
 * (send_self) and the send to another guest, around which the direct
 * hand-off is armed (hv/sched/handoff.h). Binding, closing and the general
 * raise are evtchn.c's. */
#include "hv/event/evtchn.h"

#include "hv/debug/stats.h"
#include "hv/event/bitmap.h"
#include "hv/debug/trace.h"
#include "hv/guest/guest.h"
#include "hv/sched/handoff.h"
#include "hv/sched/sched.h"
#include "lib/nospec.h"
#include "vcpu/vcpu.h"

/* SEND on an IPI port bound to the sender's own vCPU, untraced:
 * evtchn_raise's work less what the sender knows. Its guest's table is
 * the one read, so the table and the guest are there; its vCPU runs on
 * this CPU, so nothing is to be woken (sched_event_arrived would return at
 * once); notified, its upcall may be entered at once, by the send's
 * return (sched_upcall_after_send). port is clamped. */
static int64_t send_self(struct vcpu *v, struct guest *g, uint64_t port)
{
    struct hv_shared_info *sh = g->shared;
    if (g->end != GUEST_ALIVE) /* another vCPU ended it: raised nothing, as evtchn_raise */
        return 0;
    if (bitmap_test_and_set(&sh->evtchn_pending, port))
        return 0; /* already pending: told then, or on unmask */
    stats_event_pending();
    if (bitmap_test(&sh->evtchn_mask, port))
        return 0; /* masked: told on unmask */
    struct hv_vcpu_shared *vs = &sh->vcpu[v->id];
    word_test_and_set(&vs->pending_sel, port / 64);
    vs->upcall_pending = 1;
    return sched_upcall_after_send(v, vs);
}

/* No lock: another vCPU of the guest may close the port meanwhile, so its
 * state is read once, and each other field once (a zeroed entry's peer is
 * NULL, its vCPU 0, in range). A send that raced a close may still raise
 * the port or the old peer's port: a spurious event, which the ABI allows
 * (docs/abi.md); the peer guest's struct outlives the run. */
int64_t evtchn_send(struct vcpu *v, uint64_t port)
{
    struct guest *g = v->guest;
    struct evtchn *t = __atomic_load_n(&g->evtchn, __ATOMIC_ACQUIRE);
    if (!t || port >= HV_EVTCHN_PORTS)
        return -HV_EINVAL;
    port = array_index_nospec(port, HV_EVTCHN_PORTS);
    struct evtchn *ch = &t[port];
    uint8_t state = __atomic_load_n(&ch->state, __ATOMIC_ACQUIRE);
    if (__builtin_expect(state == HV_EVTCHN_IPI, 1)) {
        /* Tracing records the event: evtchn_raise's. */
        if (__atomic_load_n(&ch->vcpu, __ATOMIC_RELAXED) == v->id && !trace_on())
            return send_self(v, g, port);
        evtchn_raise(g, (unsigned)port);
        return 0;
    }
    switch (state) {
    case HV_EVTCHN_INTERGUEST: {
        struct guest *peer = __atomic_load_n(&ch->peer, __ATOMIC_RELAXED);
        if (!peer)
            return -HV_EINVAL; /* closed since */
        /* One raise, one wake-up at most: it may choose the direct
         * hand-off, which the send then takes on its way out. */
        sched_handoff_arm();
        evtchn_raise(peer, __atomic_load_n(&ch->peer_port, __ATOMIC_RELAXED));
        sched_handoff_done(); /* returns 0 to the sender, now or later */
        return 0;
    }
    default:
        return -HV_EINVAL; /* free, not connected (yet, or any more), or a VIRQ */
    }
}
