/* vCPU timers (HV_CALL_SET_TIMER), poll deadlines and the one-shot local
 * APIC timer that brings hv back for the next scheduling decision: the
 * slice's end, a window boundary, a guest's deadline, the console poll or
 * hv.cfg's time limit, whichever comes first. Split from sched.c, which
 * decides who runs. */
#include "hv/sched/sched.h"

#include "hv/console/input.h"
#include "hv/cpu/percpu.h"
#include "hv/debug/trace.h"
#include "hv/debug/stats.h"
#include "hv/event/evtchn.h"
#include "hv/guest/guest.h"
#include "hv/sched/cross_cpu.h"
#include "hv/sched/sched_internal.h"
#include "hv/time/time.h"
#include "vcpu/vcpu.h"

/* Each CPU's vtimer_next (struct sched_cpu): no vCPU timer or poll
 * deadline is due before it (0: none armed): a lower bound, lowered
 * whenever one is armed and made exact by each walk, so the walk over
 * every guest's vCPUs runs only when one may be due. A cancelled deadline
 * leaves it low: the interrupt then comes early, walks, and finds the
 * next. */

/* v's timer and poll deadlines that passed (v on this CPU, its guest
 * alive): the timer's event raised, the poll ended; returns v's earliest
 * deadline left (0: none). */
static uint64_t expire_vcpu(struct sched_cpu *sc, struct vcpu *v, uint64_t now)
{
    if (v->ev.timer_deadline && v->ev.timer_deadline <= now) {
        stats_timer_late(now - v->ev.timer_deadline);
        v->ev.timer_deadline = 0;
        sc->vtimers_armed--;
        evtchn_raise_virq(v, HV_VIRQ_TIMER);
    }
    if (v->ev.polling && v->ev.poll_deadline && v->ev.poll_deadline <= now &&
        v->state == VCPU_BLOCKED) {
        v->arch.regs.rax = (uint64_t)-HV_ETIMEDOUT;
        wake(v, now);
    }
    uint64_t next = v->ev.timer_deadline;
    if (v->ev.polling && v->ev.poll_deadline && (!next || v->ev.poll_deadline < next))
        next = v->ev.poll_deadline;
    return next;
}

/* Expired vCPU timers and poll deadlines; returns the earliest one left.
 * Only called once vtimer_next has passed: kept out of line so that rearm,
 * on every switch, saves no registers for the walk it rarely makes.
 *
 * The earliest-deadline record (vtimer_first): the vCPU whose deadline set
 * vtimer_next. While it holds the only deadline armed on this CPU
 * (vtimers_armed is 1: the common case, one guest's timer on an idle CPU)
 * that deadline is the one due and nothing else is armed, so it is
 * expired without the walk over every guest's vCPUs. The record is
 * cleared whenever its vCPU leaves this CPU or stops (sched_life.c,
 * balance.c): it never points at a vCPU another CPU or the reaper owns. */
static __attribute__((noinline)) uint64_t walk_vtimers(uint64_t now)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    uint32_t me = cpu->index;
    uint64_t next = 0;
    struct vcpu *first = NULL;
    for (struct guest *g = guest_list(); g; g = g->next) {
        if (g->end != GUEST_ALIVE)
            continue;
        for (uint32_t i = 0; i < g->vcpu_count; i++) {
            /* This CPU's vCPUs only: the others' timers are their CPUs'.
             * One moving between CPUs (balance.c) has its new v->cpu
             * before it arrives and its new vcpu_cpu once it has: neither
             * CPU's walk takes it on the way. */
            if (g->vcpu_cpu[i] != me)
                continue;
            struct vcpu *v = g->vcpus[i];
            if (__atomic_load_n(&v->cpu, __ATOMIC_RELAXED) != me)
                continue;
            uint64_t left = expire_vcpu(sc, v, now);
            if (left && (!next || left < next)) {
                next = left;
                first = v;
            }
        }
    }
    sc->vtimer_next = next;
    sc->vtimer_first = first;
    return next;
}

/* The record's case apart from the walk, which needs registers it would
 * save on every timer (the timer's upcall: ~10 instructions). */
static __attribute__((noinline)) uint64_t run_vtimers(uint64_t now)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    struct vcpu *first = sc->vtimer_first;
    if (first && sc->vtimers_armed == 1 && first->cpu == cpu->index &&
        first->guest->end == GUEST_ALIVE &&
        (first->ev.timer_deadline == sc->vtimer_next ||
         (first->ev.polling && first->ev.poll_deadline == sc->vtimer_next))) {
        uint64_t left = expire_vcpu(sc, first, now);
        sc->vtimer_next = left;
        sc->vtimer_first = left ? first : NULL;
        return left;
    }
    return walk_vtimers(now);
}

void vtimer_armed_at(struct vcpu *v, uint64_t deadline)
{
    struct sched_cpu *sc = sched_this();
    if (deadline && (!sc->vtimer_next || deadline < sc->vtimer_next)) {
        sc->vtimer_next = deadline;
        sc->vtimer_first = v;
    }
}

/* One-shot to the next decision: the slice's end or a vCPU's timer,
 * whichever comes first; nothing at all when neither is due (no tick). */
uint64_t next_console_poll; /* sched_internal.h */

/* Console input has no interrupt here: look at the UART every 20 ms, and
 * only while a guest listens for it (rearm checks console_listeners; out
 * of line for the same reason as run_vtimers). */
static __attribute__((noinline)) uint64_t poll_console(uint64_t now)
{
    if (now >= next_console_poll) {
        console_input_poll();
        next_console_poll = now + CONSOLE_POLL_NS;
    }
    return next_console_poll;
}

/* An ended guest is reaped a bounded step at a time (guest_free_memory):
 * at each switch, in idle time, and, so that it finishes while guests keep
 * the CPU busy and never switch, from hv's timer every REAP_INTERVAL_NS.
 * Each step is a short interrupts-off stretch of its own (~3 000
 * instructions, 24 us under -icount, a few us on hardware), so a guest's
 * timer waits for one step, never for the whole teardown (64 MiB: 2048
 * steps, ~0.1 s, while the guests left get at least half the CPU). */
#define REAP_INTERVAL_NS 50000ULL
uint64_t next_reap; /* 0: nothing to reap */

static uint64_t reap_deadline(uint64_t now)
{
    if (!guests_to_reap()) {
        next_reap = 0;
        return 0;
    }
    if (!next_reap)
        next_reap = now + REAP_INTERVAL_NS;
    return next_reap;
}

/* The deadlines other than the slice's and the vCPU timers': the console
 * poll, the reaping, the partition window, hv.cfg's time limit. Out of
 * line: on a switch none of them is usually set. */
static __attribute__((noinline)) uint64_t other_deadlines(uint64_t now, uint64_t when)
{
    struct sched_cpu *sc = sched_this();
    /* The console poll, reaping, the time limit and the statistics line
     * are the boot CPU's; an AP has its window boundary. */
    if (this_cpu()->index != 0)
        return sc->window_boundary && (!when || sc->window_boundary < when) ? sc->window_boundary
                                                                            : when;
    uint64_t poll = console_listeners ? poll_console(now) : (next_console_poll = 0);
    if (poll && (!when || poll < when))
        when = poll;
    uint64_t reap = guests_to_reap() ? reap_deadline(now) : (next_reap = 0);
    if (reap && (!when || reap < when))
        when = reap;
    if (sc->window_boundary && (!when || sc->window_boundary < when))
        when = sc->window_boundary;
    /* hv.cfg's time limit also stops guests that only sleep (all vCPUs
     * blocked with nothing to wake them): otherwise nothing would wake hv.
     * Once passed it is the next decision's to enforce (timer_fired asks
     * for one), never a deadline again: armed in the past, it would fire
     * at once, again and again, through a console drain that runs with
     * interrupts on before that decision. */
    if (time_limit && time_limit > now && (!when || time_limit < when))
        when = time_limit;
    /* The statistics line's deadline (0: none): the earlier of two
     * deadlines where 0 is none, as two unsigned compares of x - 1. */
    if (stats_next_due - 1 < when - 1)
        when = stats_next_due;
    return when;
}

/* When the next decision is due: the slice's end or a vCPU's timer,
 * whichever comes first; 0 when neither is (no tick). Expires the vCPU
 * timers and poll deadlines that are due. The slice's end counts only
 * while another vCPU waits for the CPU (sched_contended): a vCPU alone
 * needs no interrupt to end its run, and the wake-up that ends its being
 * alone re-arms (wake.c, wake). */
static inline __attribute__((always_inline)) uint64_t vtimers_due(struct sched_cpu *sc,
                                                                uint64_t now)
{
    return sc->vtimer_next && now >= sc->vtimer_next ? run_vtimers(now) : sc->vtimer_next;
}

/* next_decision's rest, `when` the vCPU deadline vtimers_due left. */
static inline __attribute__((always_inline)) uint64_t next_decision_after(uint64_t now,
                                                                        uint64_t when)
{
    struct sched_cpu *sc = sched_this();
    sc->slice_armed = sc->slice_end && sched_contended();
    if (sc->slice_armed && (!when || sc->slice_end < when))
        when = sc->slice_end;
    if (console_listeners || guests_to_reap() || next_reap || next_console_poll ||
        sc->window_boundary || time_limit || stats_next_due)
        when = other_deadlines(now, when);
    return when;
}

static inline __attribute__((always_inline)) uint64_t next_decision(uint64_t now)
{
    return next_decision_after(now, vtimers_due(sched_this(), now));
}

void rearm(uint64_t now)
{
    /* timer_arm reads the clock itself when it programs: a guest's
     * deadline is not made late by the time since `now`. */
    timer_arm_irqs_off(next_decision(now));
}

void timer_fired(uint64_t now)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    TRACE_HV(TR_TIMER, now);
    sc->idle_kick = true;
    /* A passed slice end or window boundary is consumed here: the
     * reschedule it asks for sets the next one. Left in place, it would
     * re-arm the timer in the past, and an interrupt taken in hv's idle
     * loop (interrupts on) would fire again at once, for ever. */
    if (sc->slice_end && now >= sc->slice_end) {
        sc->slice_end = 0;
        cpu->need_resched = true;
        /* A vCPU has waited a slice here: a less busy CPU may take it. */
        if (percpu_count > 1)
            sched_balance(now);
    }
    if (sc->window_boundary && now >= sc->window_boundary) {
        sc->window_boundary = 0;
        cpu->need_resched = true;
    }
    if (time_limit && now >= time_limit)
        cpu->need_resched = true; /* reschedule enforces it */
    /* Not while the CPU may still be on an ended guest's tables (the
     * console drain of a reschedule right after its end). */
    struct vcpu *cur = cpu->current;
    if (next_reap && now >= next_reap && cpu->index == 0 &&
        (!cur || cur->guest->end == GUEST_ALIVE)) {
        next_reap = 0;
        reap_guests();
    }
    if (stats_next_due && now >= stats_next_due && cpu->index == 0)
        stats_line(now);
    uint64_t when = vtimers_due(sc, now);
    /* A decision follows that re-arms on every path (the switch, the idle
     * loop, the same vCPU going on), and nothing waits with interrupts on
     * before it: the CPU is idle (the idle loop sees idle_kick), or a vCPU
     * woke (the decision's console drain gives way to it). Programming the
     * timer here would be undone a few hundred instructions later: that is
     * ~50 instructions off every timer upcall; the other deadlines and
     * slice_armed are that decision's to look at too (a wake-up before it
     * that reads slice_armed, preempt_for's, at most asks a re-arm the
     * decision makes anyway). */
    if (cpu->need_resched && (!cur || sc->woken_since_decision))
        return;
    timer_arm_irqs_off(next_decision_after(now, when));
}

void sched_set_vcpu_timer(struct vcpu *v, uint64_t deadline)
{
    bool was = vtimer_armed(v);
    v->ev.timer_deadline = deadline;
    sched_this()->vtimers_armed += (unsigned)vtimer_armed(v) - (unsigned)was;
    vtimer_armed_at(v, deadline);
    rearm(time_now_ns());
}
