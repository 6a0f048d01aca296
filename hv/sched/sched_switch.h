/* The switch and the exit to a guest, shared by the scheduler's decision
 * (sched.c: reschedule, sched_return_with_work) and its two direct paths
 * (sched_direct.c: the send's hand-off, the idle loop's direct entry).
 * Inline: the switch is on every vcpu_switch, event_cross_guest and
 * timer_deadline_late sample (make bench); a call would cost each. */
#pragma once

#include "hv/cpu/mitigations.h"
#include "hv/cpu/percpu.h"
#include "hv/debug/irqoff.h"
#include "hv/debug/trace.h"
#include "hv/mm/mm.h"
#include "hv/mm/xpti.h"
#include "hv/sched/guest_switch.h"
#include "hv/sched/runstate.h"
#include "hv/sched/sched_internal.h"
#include "vcpu/vcpu.h"

/* Into its entity's round robin, at the back (sched.c). */
void sched_enqueue(struct vcpu *v);

static inline struct sched_entity *entity_of(struct fair_entity *e)
{
    return (struct sched_entity *)((char *)e - __builtin_offsetof(struct sched_entity, fair));
}

static inline void vcpu_set_running(struct vcpu *v)
{
    __atomic_store_n(&v->state, VCPU_RUNNING, __ATOMIC_SEQ_CST);
}

/* Its guest's fair run (fair_pick's answer); in a partition window, the
 * guest's slice cut at the window's end. */
static inline uint64_t slice_until(const struct sched_cpu *sc, const struct vcpu *v, uint64_t now)
{
    if (!sched_partitioned)
        return now + sc->picked_run_ns; /* from the pick that chose v */
    uint64_t end = now + v->guest->slice_ns;
    return sc->window_boundary && sc->window_boundary < end ? sc->window_boundary : end;
}

/* f, v's own frame, is where entries from v's guest push its registers
 * from now on (hv/cpu/isr.S, vcpu/syscall_entry.S): the CPU's TSS.RSP0
 * (without isolation; with it, the entry stack's copy aims there) and the
 * syscall entry's stack point at its end, and the return reloads it. Only
 * v runs ring 3 on this CPU until the next switch-in sets them again. */
static inline void entry_frame_set(struct percpu *cpu, struct trap_frame *f)
{
    uint64_t end = (uint64_t)(f + 1);
    cpu->frame = f;
    cpu->kernel_rsp = end;
    *cpu->rsp0_slot = end;
}

/* The idle loop's pick after its sleep (interrupts off since the `cli`)
 * saw every wake-up of the sleep: it is the decision they asked for
 * (preempt_for's need_resched, woken_since_decision), as a decision's
 * start clears them in reschedule. Left set, they cost the woken vCPU's
 * next return (its upcall's HV_CALL_IRET) a second decision that kept it:
 * ~450 instructions on every wake-up from idle. A wake-up after this (the
 * switch's own timer expiry) sets them again. */
static inline void idle_decided(struct percpu *cpu)
{
    cpu->need_resched = false;
    cpu->sched.woken_since_decision = false;
}

/* The switch's first half, what no guest can see: next's space, the
 * barriers between guests, next's state onto the CPU and its frame as the
 * entries'. Returns that frame, the one the exit leaves from (vcpu_load).
 * The idle loop's timer path (idle_timer.c) makes it before its spin to
 * the deadline; switch_to makes it and the rest at once. */
static inline __attribute__((always_inline)) struct trap_frame *
switch_load(struct percpu *cpu, struct sched_cpu *sc, struct vcpu *next)
{
    space_load(vcpu_space(next));
    /* Another guest's code ran last: its branch predictions go (IBPB, the
     * RSB fill), before next runs. Off, this costs one flag test.
     * (Expected taken: the block layout vcpu_switch had before the
     * hand-off inlined this a second time.) */
    if (__builtin_expect(mitigation_guest_switch_work &&
                             guest_switch_crosses(&sc->last_ran, next->guest->id), 1))
        mitigations_guest_switch();
    struct trap_frame *f = vcpu_load(next);
    entry_frame_set(cpu, f);
    return f;
}

/* Returns next's own frame, the one the exit leaves from (vcpu_load). */
static inline __attribute__((always_inline)) struct trap_frame *switch_to(struct vcpu *next,
                                                                       uint64_t now)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    TRACE_VCPU_AT(TR_SWITCH_INFNEXT, next, 0, now);
    struct trap_frame *f = switch_load(cpu, sc, next);
    vcpu_set_running(next);
    next->running_since = now;
    runstate_enter(next, HV_RUNSTATE_RUNNING, now);
    cpu->current = next;
    sc->switches++;
    reap_guests(); /* the CPU is on next's tables now, never a dead guest's */
    sc->slice_end = slice_until(sc, next, now);
    rearm(now);
    return f;
}

static inline __attribute__((always_inline, noreturn)) void leave_from(struct trap_frame *out)
{
    out->rflags = vcpu_sanitize_rflags(out->rflags);
    if (irqoff_measuring)
        irqoff_leave_to_guest();
    trap_return_frame(); /* out, through this CPU's percpu frame */
}
