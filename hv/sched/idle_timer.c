/* The idle loop's timer path (docs/design.md, "The idle loop's direct
 * entry", "The timer path"): the APIC timer's interrupt in the idle loop's
 * `hlt` whose only due deadline is the timer of one vCPU, the only vCPU
 * deadline armed on this CPU (vtimer.c's earliest-deadline record), that
 * vCPU blocked and its events open. What the general path
 * (timer_interrupt -> timer_fired -> run_vtimers -> expire_vcpu ->
 * evtchn_raise_virq -> evtchn_raise -> sched_event_arrived -> wake ->
 * wake_in_idle, then sched_idle_interrupted -> sched_idle_enter) would do
 * then, and only that: the EOI and the clock, the timer expired, its
 * VIRQ_TIMER port marked (virq_mark.h), the vCPU woken into the fair
 * queue, the switch and its upcall. Anything else is tested before any
 * effect and takes the general path.
 *
 * The advance (KVM's lapic_timer_advance_ns): the idle loop arms the APIC
 * early (sched_idle_timer_arm) by this CPU's estimate of the path's time
 * up to its spin. The interrupt, that much before the deadline, makes the
 * tests and everything no guest can see (the timer's records, the fair
 * queue's entry, the switch's load: space, barriers, registers, the
 * re-arm), spins to the deadline, and only then makes what a guest can
 * see: the mark (and its re-checks), the running state and its run-state
 * record at the deadline's reading, the upcall's frame, the exit. */
#include "hv/sched/sched.h"

#include "hv/console/input.h"
#include "hv/cpu/idt.h"
#include "hv/debug/stats.h"
#include "hv/debug/trace.h"
#include "hv/event/virq_mark.h"
#include "hv/mm/mm.h"
#include "hv/sched/fair.h"
#include "hv/sched/sched_internal.h"
#include "hv/sched/sched_return.h"
#include "hv/sched/sched_switch.h"
#include "hv/sched/switch_enter.h"
#include "hv/time/time.h"
#include "vcpu/deliver.h"

/* The advance's bound (ns): a few us, what an entry from a deep C-state
 * may take on real CPUs; the spin it costs is at most this much. */
#define IDLE_TIMER_ADVANCE_MAX 4000

uint32_t idle_timer_advance_fixed;

/* After the spin, the mark is not the general path's plain case: the
 * guest (another of its vCPUs) set the port's pending bit, masked the
 * port, closed or bound it anew, or ended meanwhile. Everything made
 * before the spin is undone (none of it was visible), and the general
 * path runs from the deadline's reading as if the tests had failed:
 * evtchn_raise's rest for a bit this path set (evtchn_pended: the mask and
 * the entry's vCPU read after the mark), then timer_fired, which expires
 * v's timer (its VIRQ where it is bound now; a bit set already tells no
 * one). The CPU goes back to hv's tables, as the idle loop keeps it. */
static __attribute__((noinline, cold)) void idle_timer_undo(struct vcpu *v, uint64_t due,
                                                            uint64_t vtime)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    cpu->current = NULL;
    idt_set_fast_gate(0);
    space_load(kernel_space());
    stops_wanting_cpu(sc, v);
    v->ent->fair.vtime = vtime;
    v->ev.timer_deadline = due;
    sc->vtimers_armed = 1;
    sc->vtimer_next = due;
    sc->vtimer_first = v;
    cpu->timer_deadline = 0; /* taken, as timer_take_due takes it */
    sc->idle_halted = true;
}

/* The fast path, or a return with nothing changed: the reading
 * timer_fired runs at, or 0 (an early interrupt, the deadline programmed
 * again). Interrupts are off; the CPU is in its idle loop (no current
 * vCPU, no slice, nothing wanting it, hv's tables). now may be up to the
 * advance before the deadline armed (timer_interrupt_near). armed_for:
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
     * (sched_idle_interrupted); and nothing else timer_fired or the
     * re-arm would do at the deadline (a window, the time limit; the boot
     * CPU's reaping, statistics line and console poll). */
    if (v->state != VCPU_BLOCKED || v->ev.polling || v->cpu != cpu->index || v->arch.xen ||
        v->guest->end != GUEST_ALIVE || sc->nr_wanting || sc->fair_queue.count ||
        sched_partitioned ||
        sc->window_boundary || v->ent->run_head ||
        __atomic_load_n(&sc->wake_list, __ATOMIC_RELAXED) || sc->park ||
        (time_limit && at >= time_limit) ||
        (cpu->index == 0 &&
         (guests_to_reap() || (stats_next_due && at >= stats_next_due) ||
          (console_listeners && at >= next_console_poll))) ||
        trace_on())
        return timer_take_due(now);
    /* Its events open (the upcall follows at once), the port plain and
     * not pending (read, not set: the mark comes after the spin). */
    struct hv_shared_info *sh = v->guest->shared;
    struct hv_vcpu_shared *vs = &sh->vcpu[v->id];
    if (__atomic_load_n(&vs->upcall_mask, __ATOMIC_RELAXED) || !v->ev.upcall)
        return timer_take_due(now);
    unsigned port;
    if (!virq_port_plain(v, HV_VIRQ_TIMER, &port) || virq_pending(sh, port))
        return timer_take_due(now);
    /* Before the deadline, what no guest can see (idle_timer_undo takes
     * it back). The timer's records, expired (hv's own: the re-arm below
     * then finds no vCPU deadline); v's guest into the fair queue (wake's
     * wants_cpu: other CPUs' balancing reads the load, a hint); the
     * switch's load; v current (the reaper's sched_vcpus_let_go keeps its
     * guest); the timer re-armed for hv's own deadlines, as the switch's
     * rearm would: none is due by the deadline (tested above), so it runs
     * no poll and wakes no one. */
    struct fair_entity *e = &v->ent->fair;
    uint64_t vtime = e->vtime;
    v->ev.timer_deadline = 0;
    sc->vtimers_armed = 0;
    sc->vtimer_next = 0;
    sc->vtimer_first = NULL;
    wants_cpu(sc, v);
    sc->idle_halted = false;
    struct trap_frame *out = switch_load(cpu, sc, v);
    cpu->current = v;
    rearm(now);
    /* The advance: what the path took up to here since the hardware's
     * interrupt was due, a running mean (1/8), bounded. Then the spin to
     * the deadline (at most the advance: timer_interrupt_near). */
    uint64_t t = time_now_ns();
    if (armed_for <= t) {
        uint64_t took = t - armed_for;
        if (took > IDLE_TIMER_ADVANCE_MAX)
            took = IDLE_TIMER_ADVANCE_MAX;
        cpu->timer_advance += (int32_t)(took - cpu->timer_advance) / 8;
    }
    while (t < due) {
        cpu_relax();
        t = time_now_ns();
    }
    /* The deadline has passed: what a guest can see, from t. The mark
     * (lock bts) as evtchn_raise makes it: its guest alive and the port
     * still v's VIRQ first (found before the spin: another vCPU of the
     * guest may have closed it and bound the number anew meanwhile, and
     * the window is then the raise's few instructions, not the advance),
     * then after the mark the port still v's (virq_port_still) and not
     * masked: otherwise idle_timer_undo and the general path. */
    bool fresh = false;
    if (__builtin_expect(v->guest->end != GUEST_ALIVE || !virq_port_still(v, port) ||
                             !(fresh = virq_pend(sh, port)) || !virq_port_still(v, port) ||
                             virq_masked(sh, port),
                         0)) {
        idle_timer_undo(v, due, vtime);
        if (fresh)
            evtchn_pended(v->guest, port);
        return t;
    }
    virq_notify(vs, port);
    /* expire_vcpu's and evtchn_raise's statistics; the direct entry's run
     * (sched_idle_enter's: dequeue's pick, the idle time's end, the switch's
     * rest) from t, blocked to running. */
    sc->idle_timer_entries++;
    stats_timer_late(t - due);
    stats_event_pending();
    sc->woken_first = NULL;
    sc->idle_ns += t;
    if (fair_before(sc->fair_queue.floor, e->vtime))
        sc->fair_queue.floor = e->vtime;
    sc->picked_run_ns = fair_run_before(e, NULL, 0);
    idle_decided(cpu);
    vcpu_set_running(v);
    v->running_since = t;
    runstate_enter(v, HV_RUNSTATE_RUNNING, t);
    sc->switches++;
    sc->slice_end = slice_until(sc, v, t);
    enter_from_idle(v, out);
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
 * early by a switch), for a vCPU the path could take (not a Xen vCPU's
 * timer, not a poll's deadline: those are the general path's always). An
 * interrupt that comes early in any other case (a guest woken meanwhile
 * runs, the path's other tests fail) programs the deadline again
 * (timer_take_due) and nothing else; the idle loop's next arming then
 * finds the early time passed and leaves the exact one (timer_arm_early),
 * so a refused early interrupt is not taken again and again up to the
 * deadline. */
void sched_idle_timer_arm(void)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    /* hv.cfg's fixed advance from the first arming on (the estimate is
     * made all the same, and set back here). */
    if (idle_timer_advance_fixed)
        cpu->timer_advance = idle_timer_advance_fixed;
    struct vcpu *v = sc->vtimer_first;
    if (v && sc->vtimers_armed == 1 && cpu->timer_deadline == sc->vtimer_next &&
        v->ev.timer_deadline == sc->vtimer_next && !v->ev.polling && !v->arch.xen)
        timer_arm_early(cpu->timer_advance);
}
