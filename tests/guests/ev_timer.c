/* The one-shot timer (HV_CALL_SET_TIMER, HV_VIRQ_TIMER). One image, booted
 * under two names (tests/system/ev_cases.py):
 *
 *   ev-timer   alone: one-shot deadlines 50 us .. 5 ms ahead; then a
 *              deadline in the past, a cancelled timer, a replaced one;
 *   ev-ticker  beside a guest that spins with events masked: a periodic
 *              tick every 5 ms (absolute deadlines) for 100 ticks.
 *
 * The time of each event is taken in the timer port's callback, i.e. when
 * the event is delivered; an event before its deadline fails a check here.
 * The lateness figures go in one line the system test judges against its
 * bound (which depends on the company the guest has), and the clock line
 * compares system time with the raw TSC (under -icount both count QEMU's
 * virtual nanoseconds). */
#include "ev_common.h"

#define ONE_SHOTS 60
#define TICKS 100
#define TICK_NS HVG_MS(5)

/* Armed before a timer whose event is measured (ev_common.h). */
static struct ev_timer_probe probe;

/* Events more than 500 us late, printed after the measurements (printing
 * during them would add hv's console work to the figures). */
#define SLOW_MAX 16
static struct slow_event {
    uint64_t index, late, ahead;
} slow[SLOW_MAX];
static unsigned n_slow;

static void print_slow(void)
{
    for (unsigned i = 0; i < n_slow; i++)
        hvg_printf("%s: event %llu came %llu ns late (timer set %llu ns ahead)\n", pv_name,
                   (unsigned long long)slow[i].index, (unsigned long long)slow[i].late,
                   (unsigned long long)slow[i].ahead);
    n_slow = 0;
}

/* hv brings the screen up to date with what guests printed when it next
 * switches (log_flush in the scheduler), with interrupts off; under -icount
 * a screenful of changed cells costs a few milliseconds of virtual time. A
 * first sleep lets that happen before anything is measured. */
static void settle(unsigned vcpu)
{
    hvg_sleep_until(vcpu, hvg_now() + HVG_MS(50));
}

/* Sleeps until the timer event for `deadline`; checks it did not come early
 * and adds its lateness. Returns false when it did not come at all. */
static bool one_deadline(unsigned vcpu, uint64_t deadline, struct ev_lateness *l,
                         uint64_t *early)
{
    uint64_t set_at = hvg_now();
    uint64_t at = ev_timer_sleep(&probe, vcpu, deadline);
    if (!at)
        return false;
    if (at < deadline) {
        if ((*early)++ < 3)
            hvg_printf("%s: event at %llu, %llu ns before its deadline %llu\n", pv_name,
                       (unsigned long long)at, (unsigned long long)(deadline - at),
                       (unsigned long long)deadline);
        return true;
    }
    ev_lateness_add(l, at - deadline);
    if (at - deadline > HVG_US(500) && n_slow < SLOW_MAX)
        slow[n_slow++] = (struct slow_event){ l->n, at - deadline, deadline - set_at };
    return true;
}

static void one_shots(unsigned vcpu)
{
    static const uint64_t deltas_us[] = { 50, 100, 250, 500, 1000, 1500, 2000, 3000, 5000, 700 };
    struct ev_lateness l = { 0 };
    uint64_t early = 0, missing = 0;

    settle(vcpu);
    for (unsigned i = 0; i < ONE_SHOTS; i++) {
        uint64_t deadline = hvg_now() + HVG_US(deltas_us[i % 10]) + i * 37; /* odd ns too */
        if (!one_deadline(vcpu, deadline, &l, &early))
            missing++;
    }
    print_slow();
    expect_eq("one-shot timers that never fired", (int64_t)missing, 0);
    expect_eq("timer events before their deadline", (int64_t)early, 0);
    ev_lateness_print(&l);

    /* A deadline already past fires at once (well, within a millisecond). */
    uint64_t before = probe.fired, now = hvg_now();
    expect_eq("set_timer(a deadline in the past)", hvg_set_timer(now > HVG_MS(1) ? now - HVG_MS(1) : 1), 0);
    ev_spin_until(hvg_now() + HVG_MS(1));
    hvg_yield(); /* an entry into hv, in case delivery waits for one */
    expect_eq("... fires once, at once", (int64_t)(probe.fired - before), 1);

    /* Cancelled: nothing comes. */
    before = probe.fired;
    expect_eq("set_timer(now + 2 ms)", hvg_set_timer(hvg_now() + HVG_MS(2)), 0);
    expect_eq("set_timer(0) cancels it", hvg_set_timer(0), 0);
    ev_spin_until(hvg_now() + HVG_MS(5));
    hvg_yield();
    expect_eq("... no event 5 ms later", (int64_t)(probe.fired - before), 0);

    /* Replaced: only the new deadline fires. */
    before = probe.fired;
    probe.armed = true;
    uint64_t t0 = hvg_now();
    expect_eq("set_timer(now + 50 ms)", hvg_set_timer(t0 + HVG_MS(50)), 0);
    expect_eq("set_timer(now + 2 ms) replaces it", hvg_set_timer(t0 + HVG_MS(2)), 0);
    ev_spin_until(t0 + HVG_MS(70));
    hvg_yield();
    expect_eq("... one event in 70 ms", (int64_t)(probe.fired - before), 1);
    expect_true("... at the new deadline", probe.fired_at >= t0 + HVG_MS(2) && probe.fired_at < t0 + HVG_MS(50));
}

static void ticks(unsigned vcpu)
{
    struct ev_lateness l = { 0 };
    uint64_t early = 0, missing = 0;
    settle(vcpu);
    uint64_t start = hvg_now();

    for (unsigned k = 1; k <= TICKS; k++)
        if (!one_deadline(vcpu, start + k * TICK_NS, &l, &early))
            missing++;
    print_slow();
    expect_eq("ticks that never came", (int64_t)missing, 0);
    expect_eq("ticks before their deadline", (int64_t)early, 0);
    ev_lateness_print(&l);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    EV_MUST(hvg_events_init(vcpu));
    EV_MUST(hvg_event_handler((unsigned)hvg_timer_port(vcpu), ev_timer_probe_event, &probe));
    struct hv_evtchn_status st;
    memset(&st, 0, sizeof(st));
    expect_eq("status of the timer port", hvg_evtchn_status((uint64_t)hvg_timer_port(vcpu), &st), 0);
    expect_true("HV_EVTCHN_VIRQ, HV_VIRQ_TIMER, this vCPU",
                st.state == HV_EVTCHN_VIRQ && st.virq == HV_VIRQ_TIMER && st.vcpu == vcpu);

    uint64_t ns0 = hvg_now(), tsc0 = hvg_rdtsc();
    if (strcmp(si->name, "ev-ticker") == 0)
        ticks(vcpu);
    else
        one_shots(vcpu);
    uint64_t ns1 = hvg_now(), tsc1 = hvg_rdtsc();
    hvg_printf("%s: clock: system time advanced %llu ns while the TSC advanced %llu\n", pv_name,
               (unsigned long long)(ns1 - ns0), (unsigned long long)(tsc1 - tsc0));
    expect_true("system time advances", ns1 > ns0);
    return pv_finish();
}
