/* The scheduler's two direct paths, each the general decision's result
 * when nothing else is to be done (docs/design.md, "The direct hand-off"
 * and "The idle loop's direct entry"): the send's hand-off to the vCPU it
 * woke, and the idle loop's pick made from the interrupt that woke it.
 * Anything else returns to sched.c's decision. */
#include "hv/sched/sched.h"

#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/sched/fair.h"
#include "hv/sched/handoff.h"
#include "hv/sched/runstate.h"
#include "hv/sched/sched_internal.h"
#include "hv/sched/sched_return.h"
#include "hv/sched/sched_switch.h"
#include "hv/sched/switch_enter.h"
#include "hv/time/time.h"
#include "vcpu/deliver.h"
#include "vcpu/vcpu.h"

/* The send's direct hand-off (docs/design.md, "The direct hand-off";
 * hv/sched/handoff.h): next, woken by the send and entitled to the CPU at
 * once (wake.c, wake_in_send), runs now. What the general path would do
 * from here (reschedule, then the upcall) with nothing else to do: the
 * sender charged and runnable, the pick that runs next (woken_first, the
 * front of its round robin) and its run, the switch, the upcall. Anything
 * else that decision would do first takes the general path: this CPU's
 * wake list (another CPU's requests), the console's drain (boot CPU),
 * balancing, the time limit, a partition plan since the wake-up. */
void sched_handoff_leave(void)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    /* The sender's registers: its own frame, this CPU's entry frame
     * (entry_frame_set), where its hypercall's entry pushed them. */
    cpu->frame->rax = 0; /* HV_CALL_EVTCHN_SEND's result */
    /* The wake-up's reading, a few hundred instructions old: the sender
     * is charged up to it, the receiver from it (the send's tail is hv's
     * time on the receiver's behalf), one reading for both records. */
    uint64_t now = sc->handoff_woke_ns;
    if (__atomic_load_n(&sc->wake_list, __ATOMIC_RELAXED) || sched_partitioned ||
        (time_limit && now >= time_limit) ||
        (sc->nr_wanting >= 2 && percpu_count > 1 && now >= sc->balance_next_ns) ||
        (cpu->index == 0 && log_waiting(now))) {
        sched_handoff_abandon();
        return;
    }
    struct vcpu *next = sc->handoff, *cur = cpu->current;
    sc->handoff = NULL;
    sc->woken_first = NULL;
    sc->woken_since_decision = false;
    cpu->need_resched = false;
    cpu->slice_cut = false;
    /* As reschedule: cur was running (handoff_chosen) and still is. */
    uint64_t ran = now - cur->running_since;
    fair_charge_run(&cur->ent->fair, ran);
    cur->cpu_time_ns += ran;
    cur->state = VCPU_RUNNABLE;
    runstate_enter(cur, HV_RUNSTATE_RUNNABLE, now);
    sched_enqueue(cur);
    /* fair_run_ns(q, next's, 0), whose common case, two guests wanting
     * the CPU, is here without the call: the other is cur's. */
    struct fair_queue *q = &sc->fair_queue;
    sc->picked_run_ns = q->count == 2 ? fair_run_before(&next->ent->fair, &cur->ent->fair, 0)
                                      : fair_run_ns(q, &next->ent->fair, 0);
    vcpu_save(cur);
    /* The switch inline, as in every direct path: one out-of-line copy
     * shared by the two was measured against it (docs/benchmarks.md,
     * event_cross_guest). */
    switch_and_enter(cpu, next, now);
}

/* The direct way in from the idle loop's sleep (docs/design.md, "The idle
 * loop's direct entry"): trap_dispatch calls this after the handler of an
 * interrupt that came in the idle loop's `hlt` (idle_halted). If the
 * handler's wake-up recorded the vCPU it woke (wake.c, wake_in_idle: no
 * vCPU wanted this CPU before) and it is still the one vCPU wanting this
 * CPU, its guest the one entity queued, the pick the idle loop would make
 * after its `iretq` is that vCPU, and it is made here: the idle loop's
 * steps after its `hlt` (the idle time, the time limit's check, the wake
 * list's, the pick: dequeue's with one entity and no vCPU woken first),
 * then its switch and the return every decision ends with, from the
 * interrupt itself, at the wake-up's clock reading. The idle loop's stack
 * under the interrupt's frame is given up, as every exit to a guest gives
 * up hv's stack. Anything else (several vCPUs, a partition plan, the wake
 * list or another CPU's request waiting, hv.cfg's time limit passed)
 * completes the wake-up as wake's and returns, and the idle loop decides
 * as ever. Interrupts are off. The make bench figure's interrupts-off
 * stretch (irqoff.c) runs from the interrupt's entry to the exit here,
 * one stretch, as the idle loop's is from its `cli`. */
void sched_idle_interrupted(void)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    sc->idle_halted = false;
    struct vcpu *v = sc->handoff;
    if (!v)
        return;
    /* The CPU's idle time ends and v's run begins at the wake-up (hv's
     * time since on v's behalf, as in every run). */
    uint64_t now = sc->handoff_woke_ns;
    struct fair_queue *q = &sc->fair_queue;
    if (sc->nr_wanting != 1 || q->count != 1 || v->state != VCPU_RUNNABLE || sched_partitioned ||
        __atomic_load_n(&sc->wake_list, __ATOMIC_RELAXED) || sc->park ||
        (time_limit && now >= time_limit)) {
        sched_handoff_abandon();
        return;
    }
    sched_idle_enter(v, now);
}

/* The direct entry's run, shared by sched_idle_interrupted and the idle
 * loop's timer path (idle_timer.c, which woke v itself): v, its guest the
 * one entity queued, not in its round robin, its run state still blocked,
 * runs from now. */
void sched_idle_enter(struct vcpu *v, uint64_t now)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    struct fair_queue *q = &sc->fair_queue;
    sc->handoff = NULL;
    sc->woken_first = NULL; /* dequeue's */
    sc->idle_ns += now;
    /* dequeue's pick with one entity queued, v's guest's: fair_pick's
     * floor and run (alone: a slice); v is what dequeue_of would take
     * from the front of its round robin (wake's enqueue_front). */
    struct fair_entity *e = &v->ent->fair;
    if (fair_before(q->floor, e->vtime))
        q->floor = e->vtime;
    sc->picked_run_ns = fair_run_before(e, NULL, 0);
    idle_decided(cpu);
    enter_from_idle(v, switch_to(v, now));
}
