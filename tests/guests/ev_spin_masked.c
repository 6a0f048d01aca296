/* A guest that masks its events (upcall_mask = 1) and spins for SPIN_MS
 * without a single hypercall: hv must still preempt it (tests/system/
 * ev_cases.py boots it beside guests that depend on their timers). It also
 * checks that a masked vCPU gets no upcall: its own timer fires early in
 * the spin, the event waits (upcall_pending set, the port pending), and is
 * delivered when the guest unmasks. */
#include "ev_common.h"

#define SPIN_MS 1500

static volatile uint64_t ticks;

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    EV_MUST(hvg_events_init(vcpu));
    int64_t timer = hvg_timer_port(vcpu);
    EV_MUST(hvg_event_handler((unsigned)timer, ev_count, (void *)&ticks));

    volatile struct hv_vcpu_shared *self = hvg_vcpu_shared(vcpu);
    hvg_events_mask(vcpu);
    uint64_t start = hvg_now();
    EV_MUST(hvg_set_timer(start + HVG_MS(1)));
    hvg_printf("%s: spinning %d ms with events masked\n", pv_name, SPIN_MS);
    ev_spin_until(start + HVG_MS(SPIN_MS));

    expect_eq("no upcall while masked", (int64_t)ticks, 0);
    expect_eq("upcall_pending is set", self->upcall_pending, 1);
    expect_true("the timer port is pending", hvg_evtchn_is_pending((unsigned)timer));
    hvg_events_unmask(vcpu);
    expect_eq("unmasking delivers the timer event", (int64_t)ticks, 1);
    expect_eq("upcall_mask is clear again", self->upcall_mask, 0);
    return pv_finish();
}
