/* The way back of the direct hand-off (docs/design.md, "The direct
 * hand-off"): a native HV_CALL_BLOCK that leaves one guest wanting this
 * CPU switches to the front of that guest's round robin from the block
 * itself, which is what the return's general decision (reschedule:
 * dequeue with one entity queued and no vCPU woken first) would run.
 * The other two direct paths (the send's hand-off, the idle loop's
 * direct entry) are sched_direct.c's. */
#include "hv/sched/sched.h"

#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/sched/fair.h"
#include "hv/sched/sched_internal.h"
#include "hv/sched/sched_return.h"
#include "hv/sched/sched_switch.h"
#include "hv/sched/switch_enter.h"
#include "vcpu/deliver.h"
#include "vcpu/vcpu.h"

/* cur, this CPU's vCPU, blocked at now (sched_block, from hc_block: a
 * native hypercall, its frame this CPU's entry frame). If the decision
 * its return would make (sched_return_with_work -> reschedule) has
 * nothing else to do and one guest wants the CPU, that decision's pick is
 * made here, at the block's clock reading, and the CPU goes to it:
 * reschedule's steps (the console, wake-list, balancing and time-limit
 * tests; the decision's flags; cur's charge, which a blocked vCPU pays
 * too) and dequeue's with one entity queued and no vCPU woken first
 * (fair_pick's floor and run: alone, a slice; the front of the entity's
 * round robin, which must be runnable: dequeue_of drops a stopped one).
 * Anything else returns, and the return decides as ever: more than one
 * guest wanting the CPU (a third vCPU), none (the CPU idles: the sender
 * blocked meanwhile, its guest ended), a vCPU woken first, a yield, a
 * partition plan, the wake list, the console's drain, balancing due, the
 * time limit passed. */
void sched_handback(struct vcpu *cur, uint64_t now)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    struct fair_queue *q = &sc->fair_queue;
    if (q->count != 1 || sc->woken_first || sc->yield_pending || sched_partitioned ||
        __atomic_load_n(&sc->wake_list, __ATOMIC_RELAXED) || (time_limit && now >= time_limit) ||
        (sc->nr_wanting >= 2 && percpu_count > 1 && now >= sc->balance_next_ns) ||
        (cpu->index == 0 && log_waiting(now)))
        return;
    struct fair_entity *f = q->head;
    struct sched_entity *e = entity_of(f);
    struct vcpu *next = e->run_head;
    /* A stop may have come with the block (another CPU ended cur's guest
     * and asked this one): the general path handles what is not plain. */
    if (!next || next->state != VCPU_RUNNABLE || cur->state != VCPU_BLOCKED)
        return;
    cpu->frame->rax = 0; /* HV_CALL_BLOCK's result */
    sc->woken_since_decision = false;
    cpu->need_resched = false;
    cpu->slice_cut = false;
    fair_charge_run(&cur->ent->fair, now - cur->running_since);
    /* dequeue: fair_pick's floor and run with one entity (alone: a
     * slice), dequeue_of's front. */
    if (fair_before(q->floor, f->vtime))
        q->floor = f->vtime;
    sc->picked_run_ns = fair_run_before(f, NULL, 0);
    e->run_head = next->run_next;
    if (!e->run_head)
        e->run_tail = NULL;
    sc->handbacks++;
    vcpu_save(cur);
    /* The switch inline, as in every direct path: one out-of-line copy
     * shared by the two was measured against it (docs/benchmarks.md,
     * event_cross_guest). */
    switch_and_enter(cpu, next, now);
}
