/* What one CPU does to another's vCPUs (docs/design.md, "Scheduling on
 * several CPUs"): a CPU's run queue, its entities and the state of the
 * vCPUs placed on it are written by that CPU alone, with interrupts off.
 * Another CPU that wakes, stops or adds one of them pushes it on the
 * owner's wake list (lock-free, any CPU) with what it asks, and sends the
 * reschedule IPI; the owner drains the list at its next decision or in the
 * IPI's handler and does the rest itself, as Linux's ttwu_queue.
 *
 * Also here: each AP's scheduler start and its parking at the end of the
 * run, and the reaper's grace periods (until no CPU can still hold a
 * pointer into an ended guest: its vCPUs, its shared page), counted in
 * each CPU's quiet points, as RCU's. */
#include "hv/sched/cross_cpu.h"

#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/event/evtchn.h"
#include "hv/guest/guest.h"
#include "hv/sched/sched.h"
#include "hv/sched/sched_internal.h"
#include "hv/time/lapic.h"
#include "hv/time/time.h"
#include "vcpu/vcpu.h"


/* Set by the boot CPU's sched_start: the APs' schedulers wait for it, so
 * no guest runs before every guest is loaded. */
static volatile bool sched_go;

void sched_send_reschedule(uint32_t cpu)
{
    sched_this()->ipis_sent++; /* the summary's count (interrupts are off) */
    lapic_send_ipi(percpu_by_index[cpu]->apic_id, ICR_FIXED | VEC_RESCHEDULE);
}

/* Any CPU, interrupts off (hv's state everywhere but its idle loop): xAPIC's
 * IPI is two register writes that an interrupt must not split. The caller
 * took v's `queued`. Its CPU is read only now: a vCPU being moved
 * (balance.c) holds `queued` until its new CPU has it, and gets its new
 * v->cpu before, so whoever takes `queued` next pushes it there. */
static inline void list_push(struct vcpu *v)
{
    uint32_t cpu = __atomic_load_n(&v->cpu, __ATOMIC_ACQUIRE);
    struct sched_cpu *owner = &percpu_by_index[cpu]->sched;
    struct vcpu *head = __atomic_load_n(&owner->wake_list, __ATOMIC_RELAXED);
    do
        v->wake_next = head;
    while (!__atomic_compare_exchange_n(&owner->wake_list, &head, v, true, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED));
    sched_send_reschedule(cpu);
}

void sched_push_queued(struct vcpu *v)
{
    list_push(v);
}

static void push(struct vcpu *v, uint32_t req)
{
    __atomic_or_fetch(&v->remote_req, req, __ATOMIC_SEQ_CST);
    /* Queued already: the owner has yet to take it off its list (and read
     * remote_req, which it does after it clears `queued`), and its IPI is
     * on the way. */
    if (__atomic_exchange_n(&v->queued, true, __ATOMIC_SEQ_CST))
        return;
    list_push(v);
}

void sched_remote_wake(struct vcpu *v)
{
    push(v, VCPU_REQ_WAKE);
}

void sched_remote_add(struct vcpu *v)
{
    push(v, VCPU_REQ_ADD);
}

/* The owner's look at a vCPU another CPU raised an event for: the sender
 * saw neither its state nor its poll list (the owner's to read), so this
 * is the check sched_event_arrived makes, on what the shared page says
 * now. The sender set the pending bits before it pushed: a vCPU that
 * blocks after this check saw them in its own (hc_block, hc_poll). */
static void wake_if_due(struct vcpu *v, uint64_t now)
{
    if (v->state != VCPU_BLOCKED)
        return;
    struct guest *g = v->guest;
    if (v->ev.polling) {
        bool due = false;
        for (unsigned i = 0; i < v->ev.poll_count && i < VCPU_POLL_MAX; i++)
            due |= evtchn_pending(g, v->ev.poll_ports[i]);
        if (!due)
            return;
        v->arch.regs.rax = 0; /* HV_CALL_POLL returns 0: an event came */
    } else if (!__atomic_load_n(&g->shared->vcpu[v->id].upcall_pending, __ATOMIC_RELAXED)) {
        return;
    }
    wake(v, now);
}

void sched_drain_wake_list_slow(void)
{
    struct sched_cpu *sc = sched_this();
    struct vcpu *v = __atomic_exchange_n(&sc->wake_list, NULL, __ATOMIC_ACQUIRE);
    uint64_t now = time_now_ns();
    while (v) {
        struct vcpu *next = v->wake_next;
        /* Cleared before remote_req is read: a request or'ed in after that
         * read finds `queued` clear and pushes the vCPU again. */
        __atomic_store_n(&v->queued, false, __ATOMIC_SEQ_CST);
        uint32_t req = __atomic_exchange_n(&v->remote_req, 0, __ATOMIC_SEQ_CST);
        if (req & VCPU_REQ_ADD)
            sched_add_here(v);
        if (req & VCPU_REQ_MOVE)
            sched_move_in(v);
        if (req & VCPU_REQ_STOP)
            sched_stop_here(v);
        else if (req & VCPU_REQ_WAKE)
            wake_if_due(v, now);
        v = next;
    }
}

static void reschedule_interrupt(struct trap_frame *f)
{
    struct sched_cpu *sc = sched_this();
    lapic_eoi();
    sched_drain_wake_list();
    sc->idle_kick = true;
    /* From a guest: no hypercall of this CPU is in flight. */
    if (frame_from_guest(f))
        sched_quiet_point();
}

__attribute__((cold)) void sched_reaper_kick(void)
{
    if (this_cpu()->index == 0)
        return;
    /* As Xen's cpu_raise_softirq: the boot CPU's flag, then the IPI. Its
     * `slice_cut` asks its next return to a guest to re-arm (the IPI's
     * return, if nothing comes first), which arms the reaper's deadline
     * (vtimer.c); every path that clears it re-arms after, and the count
     * to reap was stored before. Set here, nothing is added to the IPI's
     * handler (ipi_event_cross_cpu). */
    __atomic_store_n(&percpu_by_index[0]->slice_cut, true, __ATOMIC_RELEASE);
    sched_send_reschedule(0);
}

void sched_cross_cpu_init(void)
{
    irq_register(VEC_RESCHEDULE, reschedule_interrupt);
}

void sched_guest_ended(struct guest *g)
{
    uint32_t me = this_cpu()->index;
    for (uint32_t i = 0; i < g->vcpu_count; i++) {
        struct vcpu *v = g->vcpus[i];
        /* One on its way here (balance.c) is not in this CPU's queue
         * yet: the stop follows it through the wake list. */
        if (__atomic_load_n(&v->cpu, __ATOMIC_ACQUIRE) == me &&
            !(__atomic_load_n(&v->remote_req, __ATOMIC_ACQUIRE) & VCPU_REQ_MOVE))
            sched_stop_here(v);
        else
            push(v, VCPU_REQ_STOP);
    }
    evtchn_guest_ended(g);
}

/* ---- the reaper's grace periods (boot CPU: hv/guest/guest_end.c) ---- */

/* Each CPU's quiet count when the grace period under way began: one at a
 * time, whatever number of ended guests it covers. */
static uint64_t grace_since[PERCPU_MAX];

/* A CPU's quiet points: those counted as such, and its switches to a vCPU
 * (each at the end of a decision: one count fewer on the switch path). */
static uint64_t quiet_points(const struct sched_cpu *sc)
{
    return __atomic_load_n(&sc->quiet_count, __ATOMIC_ACQUIRE) +
           __atomic_load_n(&sc->switches, __ATOMIC_ACQUIRE);
}

__attribute__((cold)) void sched_grace_begin(void)
{
    uint32_t me = this_cpu()->index;
    for (uint32_t c = 0; c < percpu_count; c++) {
        struct sched_cpu *sc = &percpu_by_index[c]->sched;
        grace_since[c] = quiet_points(sc);
        /* An idle CPU passes a quiet point at its next turn, a CPU in a
         * guest when the IPI interrupts it, one in hv once it is done. */
        if (c != me && sc->runs_guests && !sc->parked)
            sched_send_reschedule(c);
    }
}

__attribute__((cold)) bool sched_grace_over(void)
{
    uint32_t me = this_cpu()->index;
    for (uint32_t c = 0; c < percpu_count; c++) {
        struct sched_cpu *sc = &percpu_by_index[c]->sched;
        if (c != me && sc->runs_guests && !sc->parked &&
            quiet_points(sc) == grace_since[c])
            return false;
    }
    return true;
}

__attribute__((cold)) bool sched_vcpus_let_go(const struct guest *g)
{
    for (uint32_t i = 0; i < g->vcpu_count; i++)
        if (g->vcpus[i] && __atomic_load_n(&g->vcpus[i]->queued, __ATOMIC_ACQUIRE))
            return false;
    for (uint32_t c = 0; c < percpu_count; c++) {
        struct vcpu *cur = __atomic_load_n(&percpu_by_index[c]->current, __ATOMIC_ACQUIRE);
        if (cur && cur->guest == g)
            return false;
    }
    return true;
}

/* ---- the APs' schedulers ---- */

void sched_ap_prepare(void)
{
    struct sched_cpu *sc = sched_this();
    fair_queue_init(&sc->fair_queue);
    sc->started_ns = time_now_ns();
    __atomic_store_n(&sc->runs_guests, true, __ATOMIC_RELEASE);
}

__attribute__((cold)) void sched_ap_wait_for_start(void)
{
    struct sched_cpu *sc = sched_this();
    /* The loader's vCPUs arrive through the wake list. */
    while (!__atomic_load_n(&sched_go, __ATOMIC_ACQUIRE)) {
        sched_drain_wake_list();
        cpu_relax();
    }
    sc->idle_ns = 0;
    sc->started_ns = time_now_ns();
}

void sched_aps_go(void)
{
    __atomic_store_n(&sched_go, true, __ATOMIC_SEQ_CST);
    for (uint32_t c = 1; c < percpu_count; c++)
        if (percpu_by_index[c]->sched.runs_guests)
            sched_send_reschedule(c);
}

uint8_t sched_debug_park;

/* Called before the idle loop counts its quiet point: an AP asked to park
 * parks at once, before anything the boot CPU could see it do. */
void sched_ap_park_if_asked(void)
{
    struct sched_cpu *sc = sched_this();
    if (!sc->park)
        return;
    if (sched_debug_park && this_cpu()->index == percpu_count - 1) {
        if (sched_debug_park == 2)
            return;
        time_spin_ns(500000000ULL);
    }
    __atomic_store_n(&sc->parked, true, __ATOMIC_RELEASE);
    halt_forever();
}

/* How long the boot CPU waits for an AP to park. Not in wall time alone:
 * under QEMU's TCG a CPU is a host thread, which a loaded host may not run
 * for longer than 100 ms (session 10: smp_bringup_8's CPU 5). An AP seen
 * running since it was asked (a quiet point counted: an idle AP counts one
 * each turn of its idle loop, right after its park check) has had its
 * chance: 100 ms from then. One never seen running may be starved: up to
 * 10 s, as the bring-up waits for a claimed AP (or stuck with interrupts
 * off: reported then). */
#define PARK_WAIT_NS 100000000ULL      /* 100 ms once seen running */
#define PARK_UNSEEN_NS 10000000000ULL  /* 10 s never seen running */

__attribute__((cold)) void sched_park_aps(void)
{
    uint64_t asked_at[PERCPU_MAX]; /* read for CPUs running guests only (set once, at bring-up) */
    for (uint32_t c = 1; c < percpu_count; c++) {
        struct sched_cpu *sc = &percpu_by_index[c]->sched;
        if (!sc->runs_guests)
            continue;
        asked_at[c] = quiet_points(sc);
        __atomic_store_n(&sc->park, true, __ATOMIC_SEQ_CST);
        sched_send_reschedule(c);
    }
    uint64_t asked = time_now_ns();
    for (uint32_t c = 1; c < percpu_count; c++) {
        struct sched_cpu *sc = &percpu_by_index[c]->sched;
        uint64_t seen = 0; /* when it was first seen running since asked */
        while (sc->runs_guests && !sc->parked) {
            uint64_t now = time_now_ns();
            if (!seen && quiet_points(sc) != asked_at[c])
                seen = now;
            if (seen ? now - seen >= PARK_WAIT_NS : now - asked >= PARK_UNSEEN_NS)
                break;
            cpu_relax();
        }
        if (sc->runs_guests && !sc->parked)
            log_warn("sched: CPU %u did not park for the end of the run (%s)", c,
                     seen ? "it ran since it was asked, then 100 ms" : "not seen running in 10 s");
    }
}
