/* The idle loop's timer path (docs/design.md, "The idle loop's direct
 * entry"): the APIC timer's interrupt in the idle loop's `hlt` whose only
 * due deadline is the timer of one vCPU, the only vCPU deadline armed on
 * this CPU (vtimer.c's earliest-deadline record), that vCPU blocked and
 * its events open. What the general path (timer_interrupt -> timer_fired
 * -> run_vtimers -> expire_vcpu -> evtchn_raise_virq -> evtchn_raise ->
 * sched_event_arrived -> wake -> wake_in_idle, then
 * sched_idle_interrupted) would do then, and only that: the EOI and the
 * clock, the timer expired, its VIRQ_TIMER port marked (virq_mark.h), the
 * vCPU woken into the fair queue, the switch and its upcall
 * (sched_idle_enter; the switch's rearm finds no vCPU deadline left and
 * programs hv's own). Anything else is tested before any effect and takes
 * the general path. */
#include "hv/sched/sched.h"

#include "hv/debug/stats.h"
#include "hv/debug/trace.h"
#include "hv/event/virq_mark.h"
#include "hv/sched/sched_internal.h"
#include "hv/time/time.h"

/* The advance's bound (ns): a few us, what an entry from a deep C-state
 * may take on real CPUs; the spin it costs is at most this much. */
#define IDLE_TIMER_ADVANCE_MAX 4000

uint32_t idle_timer_advance_fixed;

/* The fast path, or a return with nothing changed: the reading
 * timer_fired runs at, or 0 (an early interrupt, the deadline programmed
 * again). Interrupts are off; the CPU is in its idle loop (no current
 * vCPU, no slice, nothing wanting it). now may be up to the advance before
 * the deadline armed (timer_interrupt_near): the work no guest can see
 * (the entry, the EOI, the tests) is done, then the path spins to v's
 * deadline before its first visible effect (the pending bit). armed_for:
 * when the hardware was to interrupt. */
static inline __attribute__((always_inline)) uint64_t idle_timer_fast(uint64_t now,
                                                                      uint64_t armed_for)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    struct vcpu *v = sc->vtimer_first;
    uint64_t due = sc->vtimer_next;
    /* Early, only for v's deadline, the one armed. */
    uint64_t at = now < due ? due : now;
    /* v's timer is the one vCPU deadline armed here, and it passed or is
     * the hardware's, early (run_vtimers' record case, less the poll
     * deadline). */
    if (!v || sc->vtimers_armed != 1 || !due || v->ev.timer_deadline != due ||
        (now < due && cpu->timer_deadline != due))
        return timer_take_due(now);
    /* wake's and wake_in_idle's: v blocked (not in a poll), on this CPU;
     * no vCPU wanted this CPU (in the idle loop's `hlt` no slice is held
     * and no hand-off recorded); the direct entry's conditions
     * (sched_idle_interrupted); and nothing else timer_fired would do at
     * the deadline (a window, the time limit, the reaper's step, the
     * statistics line: the boot CPU's). */
    if (v->state != VCPU_BLOCKED || v->ev.polling || v->cpu != cpu->index || v->arch.xen ||
        v->guest->end != GUEST_ALIVE || sc->nr_wanting || sc->fair_queue.count ||
        sched_partitioned ||
        sc->window_boundary || v->ent->run_head ||
        __atomic_load_n(&sc->wake_list, __ATOMIC_RELAXED) || sc->park ||
        (time_limit && at >= time_limit) ||
        (cpu->index == 0 && ((next_reap && at >= next_reap) ||
                             (stats_next_due && at >= stats_next_due))) ||
        trace_on())
        return timer_take_due(now);
    /* Its events open (the upcall follows at once), the port plain and
     * not pending. */
    struct hv_vcpu_shared *vs = &v->guest->shared->vcpu[v->id];
    if (__atomic_load_n(&vs->upcall_mask, __ATOMIC_RELAXED) || !v->ev.upcall)
        return timer_take_due(now);
    /* The port plain and not pending (read, not set: the mark is the
     * first visible effect, after the spin). */
    unsigned port;
    if (!virq_port_plain(v, HV_VIRQ_TIMER, &port) || virq_pending(v->guest->shared, port))
        return timer_take_due(now);
    /* The advance: what the entry and the tests took since the hardware's
     * interrupt was due, a running mean (1/8), bounded. Then the spin to
     * the deadline (at most the advance: timer_interrupt_near). */
    uint64_t t = time_now_ns();
    if (armed_for <= t) {
        uint64_t took = t - armed_for;
        if (took > IDLE_TIMER_ADVANCE_MAX)
            took = IDLE_TIMER_ADVANCE_MAX;
        cpu->timer_advance += (int32_t)(took - cpu->timer_advance) / 8;
    }
    if (idle_timer_advance_fixed)
        cpu->timer_advance = idle_timer_advance_fixed;
    while (t < due) {
        cpu_relax();
        t = time_now_ns();
    }
    now = timer_take_due(t); /* t, the deadline armed (v's or earlier) passed */
    /* The first visible effect: the port's mark (lock bts). Its bit set
     * meanwhile (by the guest) is evtchn_raise's case: timer_fired expires
     * v's timer and tells no one. */
    if (!now || !virq_pend(v->guest->shared, port))
        return now;
    /* The port closed and bound anew meanwhile (virq_port_still): its new
     * vCPU is told of the bit set, as evtchn_raise would tell it, and v's
     * timer takes the general path (timer_fired: its VIRQ where it is
     * bound now, if anywhere). */
    if (!virq_port_still(v, port)) {
        evtchn_pended(v->guest, port);
        return now;
    }
    /* From here on, the general path's effects. expire_vcpu's: */
    sc->idle_timer_entries++;
    stats_timer_late(now - due);
    v->ev.timer_deadline = 0;
    sc->vtimers_armed = 0;
    sc->vtimer_next = 0;
    sc->vtimer_first = NULL;
    /* evtchn_raise's and notify's: */
    stats_event_pending();
    virq_notify(vs, port);
    /* wake's and wake_in_idle's (v's run state is written by the switch,
     * blocked to running). */
    v->state = VCPU_RUNNABLE;
    wants_cpu(sc, v);
    sc->idle_halted = false;
    sched_idle_enter(v, now);
}

void sched_idle_timer(void)
{
    /* timer_interrupt's (hv/time/clock.c) with the scheduler's handler,
     * timer_fired, the one set while the idle loop runs; up to the advance
     * early. */
    struct percpu *cpu = this_cpu();
    uint64_t armed_for = cpu->timer_hw_deadline;
    uint64_t now = timer_interrupt_near(cpu->timer_advance);
    if (now)
        now = idle_timer_fast(now, armed_for);
    if (now)
        timer_fired(now);
    sched_idle_interrupted();
}

/* The idle loop's, before its `hlt`: a vCPU's deadline the next one, the
 * timer armed the advance before it (only here: a guest never has it armed
 * early by a switch). An interrupt that comes early in any other case (a
 * guest woken meanwhile runs, the path's tests fail) programs the deadline
 * again (timer_take_due) and nothing else. */
void sched_idle_timer_arm(void)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    if (sc->vtimer_first && sc->vtimers_armed == 1 && cpu->timer_deadline == sc->vtimer_next)
        timer_arm_early(cpu->timer_advance);
}
