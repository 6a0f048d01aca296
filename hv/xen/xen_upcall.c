/* Events for a Xen PV guest (hv/xen/xen.h): Xen's 2-level event ABI in
 * its shared-info page, the event callback entered in Xen's bounce frame,
 * and vcpu_time_info kept fresh. (Ports, bind and close are
 * hv/xen/xen_event.c's; timers, block and poll hv/xen/xen_timer.c's.)
 *
 * hv's core keeps doing what it does for every guest: the vCPU timer
 * (hv/sched/vtimer.c) raises hv's own VIRQ_TIMER port, which sets a bit in
 * the Xen guest's private page in hv's layout and wakes the vCPU if it
 * sleeps; a set upcall flag there sends the return to the guest through
 * deliver_to_kernel, which hands a Xen vCPU to xen_upcall. There the hv
 * port's event becomes the Xen port's (take_hv_events) and, if the guest's
 * own mask allows, the callback is entered. Everything the guest sees is
 * in Xen's page; the private page only carries the wake-up. */
#include "hv/event/evtchn.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
#include "hv/time/time.h"
#include "hv/xen/xen.h"
#include "hv/xen/xen_2l.h"
#include "lib/nospec.h"
#include "vcpu/vcpu.h"


static struct xen_shared_info *xen_si(struct guest *g)
{
    return phys_to_virt(g->xen->shared_info_pa);
}

void xen_time_refresh(struct guest *g)
{
    const struct hv_time_info *t = &g->shared->time; /* hv's scaling (time_fill_info) */
    struct xen_shared_info *si = xen_si(g);
    volatile struct xen_vcpu_time_info *vt = &si->vcpu_info[0].time;
    struct timescale ts = {t->tsc_to_ns_mul, t->tsc_shift};
    uint64_t tsc = rdtsc();
    /* Xen's protocol: version odd while the record changes. */
    vt->version++;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    vt->tsc_timestamp = tsc;
    vt->system_time = t->system_time_ns + timescale_apply(&ts, tsc - t->tsc_timestamp);
    vt->tsc_to_system_mul = t->tsc_to_ns_mul;
    vt->tsc_shift = t->tsc_shift;
    vt->flags = XEN_PVCLOCK_TSC_STABLE;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    vt->version++;
    /* The wall clock at system time 0 (0 without a firmware clock),
     * rewritten each time: the page is the guest's to scribble on. */
    volatile struct xen_shared_info *vsi = si;
    vsi->wc_version = vsi->wc_version | 1; /* odd */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    vsi->wc_sec = t->wall_valid ? (uint32_t)t->wall_sec : 0;
    vsi->wc_sec_hi = t->wall_valid ? (uint32_t)(t->wall_sec >> 32) : 0;
    vsi->wc_nsec = t->wall_valid ? t->wall_nsec : 0;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    vsi->wc_version = vsi->wc_version + 1; /* even */
}

_Static_assert(XEN_2L_PORTS == XEN_PORTS, "the 2-level rules cover every port");

/* What hv's core raised on the private page becomes the Xen ports'
 * events: today only hv's VIRQ_TIMER port, which carries every Xen
 * timer (hv/xen/xen_timer.c decides which are due). Each bit is taken
 * (cleared), so hv's next raise of it notifies (and wakes) again. */
void xen_take_hv_events(struct vcpu *v)
{
    struct guest *g = v->guest;
    struct hv_shared_info *hs = g->shared;
    hs->vcpu[v->id].upcall_pending = 0;
    hs->vcpu[v->id].pending_sel = 0;
    unsigned hv_port = v->ev.virq_port[HV_VIRQ_TIMER];
    if (hv_port >= HV_EVTCHN_PORTS)
        return; /* NO_PORT: nothing bound */
    hv_port = array_index_nospec(hv_port, HV_EVTCHN_PORTS);
    uint64_t bit = 1ULL << (hv_port % 64);
    if (__atomic_fetch_and(&hs->evtchn_pending[hv_port / 64], ~bit, __ATOMIC_SEQ_CST) & bit)
        xen_timers_due(v, time_now_ns());
}

void xen_upcall(struct vcpu *v, struct trap_frame *f)
{
    xen_take_hv_events(v);
    xen_events_deliver(v, f);
}

void xen_events_deliver(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    struct xen_vcpu_info *vi = &xen_si(g)->vcpu_info[0];
    uint64_t handler = g->xen->callback[XEN_CALLBACKTYPE_event];
    if (!vi->evtchn_upcall_pending || vi->evtchn_upcall_mask || !handler ||
        g->end != GUEST_ALIVE)
        return;
    xen_time_refresh(g);
    /* Xen's event frame: an exception's without an error code, events
     * masked on entry (the guest clears upcall_pending itself). */
    if (!xen_bounce(v, f, handler, XB_MASK_EVENTS))
        guest_end(g, GUEST_FAULTED, -1,
                  "fault while delivering an event upcall: the kernel stack is not writable");
}
