/* The one-shot timer at its edges (issue 12: hv converts a deadline into
 * an APIC count or a TSC deadline from a clock reading of its own, rounded
 * up). Alone, under -icount:
 *
 *   - 200 deadlines 10 us .. 2 ms ahead, at odd nanoseconds: none may come
 *     early; their lateness is printed for the system test's bound;
 *   - a deadline of exactly now: fires once, at once;
 *   - a deadline 5 s away, beyond what the APIC's 32-bit count reaches at
 *     1 GHz (4.29 s): hv's first interrupt comes early and must only
 *     re-arm; the event must not come before the deadline, and not late.
 *
 * Prints the lateness lines (ev_common.h) and ends with the usual
 * "timer-edges: all N checks passed". */
#include "ev_common.h"

static struct ev_timer_probe probe;

/* Sleeps until the event for `deadline`: 1 if it came on time (lateness
 * added), 0 if early, -1 if never. */
static int one(unsigned vcpu, uint64_t deadline, struct ev_lateness *l)
{
    uint64_t at = ev_timer_sleep(&probe, vcpu, deadline);
    if (!at)
        return -1;
    if (at < deadline) {
        hvg_printf("%s: event %llu ns before its deadline\n", pv_name,
                   (unsigned long long)(deadline - at));
        return 0;
    }
    ev_lateness_add(l, at - deadline);
    return 1;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    EV_MUST(hvg_events_init(vcpu));
    EV_MUST(hvg_event_handler((unsigned)hvg_timer_port(vcpu), ev_timer_probe_event, &probe));
    hvg_sleep_until(vcpu, hvg_now() + HVG_MS(50)); /* the screen catches up first */

    struct ev_lateness near = { 0 };
    unsigned early = 0, missing = 0;
    for (unsigned i = 0; i < 200; i++) {
        uint64_t ahead = HVG_US(10) + (uint64_t)i * 9973 + i % 7; /* 10 us .. 2 ms, odd ns */
        int r = one(vcpu, hvg_now() + ahead, &near);
        early += r == 0;
        missing += r < 0;
    }
    expect_eq("near timers before their deadline", early, 0);
    expect_eq("near timers that never came", missing, 0);
    hvg_printf("%s: near: ", pv_name);
    ev_lateness_print(&near);

    /* Exactly now: the deadline has passed by the time hv looks. */
    uint64_t before = probe.fired;
    expect_eq("set_timer(now)", hvg_set_timer(hvg_now()), 0);
    ev_spin_until(hvg_now() + HVG_US(200));
    hvg_yield();
    expect_eq("... fires once, at once", (int64_t)(probe.fired - before), 1);

    struct ev_lateness far = { 0 };
    uint64_t t0 = hvg_now();
    int r = one(vcpu, t0 + HVG_MS(5000) + 123, &far);
    expect_eq("a deadline 5 s away came on time (1), not early (0) or never (-1)", r, 1);
    expect_true("... and 5 s later by the clock", hvg_now() - t0 >= HVG_MS(5000));
    hvg_printf("%s: far: ", pv_name);
    ev_lateness_print(&far);
    return pv_finish();
}
