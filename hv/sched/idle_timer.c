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

/* The fast path, or a return with nothing changed. Interrupts are off;
 * the CPU is in its idle loop (no current vCPU, no slice, nothing
 * wanting it). */
static inline __attribute__((always_inline)) void idle_timer_fast(uint64_t now)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    struct vcpu *v = sc->vtimer_first;
    uint64_t due = sc->vtimer_next;
    /* v's timer is the one vCPU deadline armed here, and it passed
     * (run_vtimers' record case, less the poll deadline). */
    if (!v || sc->vtimers_armed != 1 || !due || v->ev.timer_deadline != due || now < due)
        return;
    /* wake's and wake_in_idle's: v blocked (not in a poll), on this CPU;
     * no vCPU wanted this CPU (in the idle loop's `hlt` no slice is held
     * and no hand-off recorded); the direct entry's conditions
     * (sched_idle_interrupted); and nothing else timer_fired would do now
     * (a window, the time limit, the reaper's step, the statistics line:
     * the boot CPU's). */
    if (v->state != VCPU_BLOCKED || v->ev.polling || v->cpu != cpu->index || v->arch.xen ||
        v->guest->end != GUEST_ALIVE || sc->nr_wanting || sc->fair_queue.count ||
        sched_partitioned ||
        sc->window_boundary || v->ent->run_head ||
        __atomic_load_n(&sc->wake_list, __ATOMIC_RELAXED) || sc->park ||
        (time_limit && now >= time_limit) ||
        (cpu->index == 0 && ((next_reap && now >= next_reap) ||
                             (stats_next_due && now >= stats_next_due))) ||
        trace_on())
        return;
    /* Its events open (the upcall follows at once), the port plain. */
    struct hv_vcpu_shared *vs = &v->guest->shared->vcpu[v->id];
    if (__atomic_load_n(&vs->upcall_mask, __ATOMIC_RELAXED) || !v->ev.upcall)
        return;
    unsigned port;
    if (!virq_port_plain(v, HV_VIRQ_TIMER, &port) || !virq_pend(v->guest->shared, port))
        return;
    /* The port closed and bound anew meanwhile (virq_port_still): its new
     * vCPU is told of the bit set, as evtchn_raise would tell it, and v's
     * timer takes the general path (timer_fired: its VIRQ where it is
     * bound now, if anywhere). */
    if (!virq_port_still(v, port)) {
        evtchn_pended(v->guest, port);
        return;
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
     * timer_fired, the one set while the idle loop runs. */
    uint64_t now = timer_interrupt_due();
    if (now) {
        idle_timer_fast(now);
        timer_fired(now);
    }
    sched_idle_interrupted();
}
