/* How a vCPU comes to want this CPU and stops wanting it: a wake-up (an
 * event, its poll's or timer's deadline, another CPU's wake list), the
 * preemption of the running vCPU that a wake-up may ask, and a block or a
 * poll. Who then runs, the switch and the idle loop are sched.c's.
 * Split from sched.c (session 9) without touching either side's code: no
 * function left in sched.c called one moved here, and those moved called
 * each other as before (their helper wants_cpu is inline in
 * sched_internal.h), so the machine code is the same instruction for
 * instruction (objdump of sched.c.o before, sched.c.o and wake.c.o after). */
#include "hv/sched/sched.h"

#include "hv/cpu/percpu.h"
#include "hv/sched/cross_cpu.h"
#include "hv/sched/fair.h"
#include "hv/sched/remote_kick.h"
#include "hv/sched/runstate.h"
#include "hv/sched/sched_internal.h"
#include "hv/time/time.h"
#include "vcpu/vcpu.h"

/* A vCPU that was woken goes first among its guest's: it waited, and
 * latency to its event is what the event is for. When its guest runs is
 * the fair queue's decision, not the wake-up's. */
static void enqueue_front(struct vcpu *v)
{
    struct sched_entity *e = v->ent;
    v->run_next = e->run_head;
    e->run_head = v;
    if (!e->run_tail)
        e->run_tail = v;
}

/* v was woken while another vCPU may hold the CPU: it takes the CPU at
 * once only if its guest is behind the running one (or is the running one:
 * the guest's own business); otherwise the running vCPU's run is cut so it
 * ends where v's guest's turn begins. */
static inline __attribute__((always_inline)) void preempt_for(struct percpu *cpu,
                                                                struct vcpu *v, uint64_t now)
{
    struct sched_cpu *sc = &cpu->sched;
    struct vcpu *cur = cpu->current;
    if (!cur || cur->state != VCPU_RUNNING || sched_partitioned || cur->ent == v->ent) {
        cpu->need_resched = true;
        return;
    }
    /* cur ran alone, with no interrupt armed for its slice's end: it has
     * one now (the return re-arms), whether or not the end moves. */
    if (!sc->slice_armed)
        cpu->slice_cut = true;
    if (fair_should_preempt(&v->ent->fair, &cur->ent->fair, now - cur->running_since)) {
        sc->woken_first = v->ent;
        cpu->need_resched = true;
        return;
    }
    uint64_t ran = now - cur->running_since;
    uint64_t end = now + fair_run_ns(&sc->fair_queue, &cur->ent->fair, ran);
    if (sc->slice_end && end < sc->slice_end) {
        sc->slice_end = end;
        cpu->slice_cut = true;
    }
}

/* preempt_for for the hand-off's paths below, off wake's. */
static __attribute__((noinline)) void preempt_for_off_path(struct percpu *cpu, struct vcpu *v,
                                                           uint64_t now)
{
    preempt_for(cpu, v, now);
}

/* The direct hand-off (docs/design.md, "The direct hand-off"): a native
 * send to another guest (handoff_armed: evtchn_send) woke v. If this
 * wake-up is one preempt_for answers with an immediate decision, and that
 * decision would run v (another guest's vCPU runs, no partition plan, v's
 * guest takes the CPU at once: fair_should_preempt), v is the send's
 * hand-off (sched_direct.c, sched_handoff_leave): its guest in the fair
 * queue, but v not in its round robin and no runnable record, since the
 * switch takes it straight from blocked to running. Otherwise the
 * wake-up is wake's. Inlined into wake, whose other callers pay one test
 * for it and the idle loop's below. */
static inline __attribute__((always_inline)) void wake_in_send(struct percpu *cpu, struct vcpu *v,
                                                   uint64_t now)
{
    struct sched_cpu *sc = &cpu->sched;
    struct vcpu *cur = cpu->current;
    sc->handoff_armed = false; /* one wake-up per send: this one */
    wants_cpu_inline(sc, v);
    if (cur && cur->state == VCPU_RUNNING && !sched_partitioned && cur->ent != v->ent &&
        fair_should_preempt_inline(&v->ent->fair, &cur->ent->fair, now - cur->running_since)) {
        sc->handoff = v;
        sc->handoff_woke_ns = now;
        return;
    }
    sc->idle_kick = true;
    sc->woken_since_decision = true;
    runstate_enter(v, HV_RUNSTATE_RUNNABLE, now);
    enqueue_front(v);
    preempt_for_off_path(cpu, v, now);
}

/* The idle loop's direct entry (docs/design.md, "The idle loop's direct
 * entry"): an interrupt taken in the idle loop's `hlt` (idle_halted) woke
 * v. If no vCPU wanted this CPU before (the idle loop's pick after its
 * `hlt` will be v unless something else comes up) and no partition plan
 * is in force, v is recorded for sched_idle_interrupted as the hand-off
 * is: its guest in the fair queue (other CPUs' balancing reads the load),
 * need_resched set (timer_fired leaves the timer to the decision), but v
 * not in its round robin and no runnable record. A second wake-up in the
 * same interrupt completes the first as wake's (the idle loop decides). */
static inline __attribute__((always_inline)) bool wake_in_idle(struct percpu *cpu, struct vcpu *v,
                                                   uint64_t now)
{
    struct sched_cpu *sc = &cpu->sched;
    if (sc->handoff) {
        sched_handoff_abandon();
        return false;
    }
    if (sc->nr_wanting || sched_partitioned)
        return false;
    wants_cpu(sc, v);
    sc->handoff = v;
    sc->handoff_woke_ns = now;
    cpu->need_resched = true;
    return true;
}

/* The direct path (the send's exit, the idle loop's entry) found something
 * only the general path handles: v's wake-up completes as wake would have
 * done it. */
void sched_handoff_abandon(void)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    struct vcpu *v = sc->handoff;
    uint64_t woke = sc->handoff_woke_ns;
    sc->handoff = NULL;
    /* Stopped meanwhile (the idle loop's interrupt drained a stop): the
     * stop took it out of the fair queue and wrote its records. */
    if (v->state != VCPU_RUNNABLE)
        return;
    sc->idle_kick = true;
    sc->woken_since_decision = true;
    runstate_enter(v, HV_RUNSTATE_RUNNABLE, woke);
    enqueue_front(v);
    /* What it reads is as at the wake-up (interrupts off, this CPU's
     * own), so it preempts as it would have then; only a partition plan
     * may have come into force meanwhile (another CPU's hypercall), and
     * then it asks for the decision alone, which runs the plan's owner. */
    preempt_for_off_path(cpu, v, woke);
}

void wake(struct vcpu *v, uint64_t now)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    if (v->state != VCPU_BLOCKED)
        return;
    if (v->ev.polling) {
        v->ev.polling = false;
        if (v->ev.poll_deadline)
            sc->vtimers_armed--;
    }
    v->state = VCPU_RUNNABLE;
    if (sc->direct_armed) { /* handoff_armed or idle_halted: one test */
        if (sc->handoff_armed) {
            wake_in_send(cpu, v, now);
            return;
        }
        if (wake_in_idle(cpu, v, now))
            return;
    }
    runstate_enter(v, HV_RUNSTATE_RUNNABLE, now);
    wants_cpu(sc, v);
    enqueue_front(v);
    sc->idle_kick = true;
    sc->woken_since_decision = true;
    preempt_for(cpu, v, now);
}

void sched_event_arrived(struct vcpu *v, unsigned port, bool notified)
{
    /* Another CPU's vCPU: that CPU is asked only if the event can matter
     * to it now (cross_cpu.c: Xen's vcpu_kick). */
    if (v->cpu != this_cpu()->index) {
        /* The caller's upcall_pending store is a plain one after its last
         * locked bts: without a full barrier here, the state read below
         * could pass it (store-load reordering) while the owner, setting
         * RUNNING, reads upcall_pending still 0: no IPI and no upcall. */
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
        if (sched_remote_event_matters(v, port, notified))
            sched_remote_wake(v);
        return;
    }
    if (v->state != VCPU_BLOCKED || (!v->ev.polling && !notified))
        return;
    if (v->ev.polling) {
        bool watched = false;
        for (unsigned i = 0; i < v->ev.poll_count; i++)
            watched |= v->ev.poll_ports[i] == port;
        if (!watched)
            return;
        v->arch.regs.rax = 0; /* HV_CALL_POLL returns 0: an event came */
    }
    wake(v, time_now_ns());
}

uint64_t sched_block(struct vcpu *v, bool poll, uint64_t poll_deadline)
{
    struct percpu *cpu = this_cpu();
    uint64_t now = time_now_ns();
    v->cpu_time_ns += now - v->running_since;
    /* What it waits for is written before the state that another CPU's
     * raiser reads first (sched_remote_event_matters). */
    v->ev.polling = poll;
    v->ev.poll_deadline = poll ? poll_deadline : 0;
    __atomic_store_n(&v->state, VCPU_BLOCKED, __ATOMIC_RELEASE);
    stops_wanting_cpu(&cpu->sched, v);
    runstate_enter(v, HV_RUNSTATE_BLOCKED, now);
    if (poll && poll_deadline) {
        cpu->sched.vtimers_armed++;
        vtimer_armed_at(v, poll_deadline);
    }
    cpu->need_resched = true;
    if (poll && poll_deadline)
        rearm(now);
    return now;
}
