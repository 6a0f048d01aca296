#include "hv/sched/sched.h"

#include "hv/console/fbcon.h"
#include "hv/console/log.h"
#include "hv/cpu/idt.h"
#include "hv/cpu/mitigations.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/debug/trace.h"
#include "hv/debug/irqoff.h"
#include "hv/event/evtchn.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
#include "hv/mm/xpti.h"
#include "hv/sched/cross_cpu.h"
#include "hv/sched/fair.h"
#include "hv/sched/guest_switch.h"
#include "hv/sched/runstate.h"
#include "hv/sched/sched_return.h"
#include "hv/sched/sched_internal.h"
#include "hv/time/time.h"
#include "vcpu/deliver.h"
#include "vcpu/vcpu.h"

/* Who runs next on this CPU: the decision, the switch, the idle loop and
 * the return to the guest that takes them (sched_return_with_work,
 * leave_from). How a vCPU comes to want the CPU or stops wanting it
 * (wake-ups, blocks): wake.c; entry points off those paths: sched_life.c.
 * All its state but these two is per CPU: struct sched_cpu, sched_this(). */
uint64_t time_limit; /* hv-wide: hv.cfg's time limit */
void (*sched_all_ended)(void); /* sched_start's: runs when no guest is left */

static struct sched_entity *entity_of(struct fair_entity *e)
{
    return (struct sched_entity *)((char *)e - __builtin_offsetof(struct sched_entity, fair));
}

/* Into its entity's round robin, at the back. */
static void enqueue(struct vcpu *v)
{
    struct sched_entity *e = v->ent;
    v->run_next = NULL;
    if (e->run_tail)
        e->run_tail->run_next = v;
    else
        e->run_head = v;
    e->run_tail = v;
}

/* The next runnable vCPU of e, taken out of its round robin. */
static struct vcpu *dequeue_of(struct sched_entity *e)
{
    while (e->run_head) {
        struct vcpu *v = e->run_head;
        e->run_head = v->run_next;
        if (!e->run_head)
            e->run_tail = NULL;
        if (v->state == VCPU_RUNNABLE)
            return v;
        /* Dead (it stopped while it waited): drop it. */
    }
    return NULL;
}

/* The guest furthest behind its share runs (another one than `yielder`'s,
 * if it yields and another can run), its next vCPU in round robin. */
static struct vcpu *dequeue(struct sched_cpu *sc, struct sched_entity *yielder)
{
    struct sched_entity *woken = sc->woken_first;
    sc->woken_first = NULL;
    if (woken && !yielder && woken->vcpus_wanting) {
        struct vcpu *v = dequeue_of(woken);
        if (v) {
            sc->picked_run_ns = fair_run_ns(&sc->fair_queue, &woken->fair, 0);
            return v;
        }
    }
    /* Each turn leaves the queue or returns: at most one turn per guest. */
    for (;;) {
        struct fair_entity *f =
            fair_pick(&sc->fair_queue, yielder ? &yielder->fair : NULL, &sc->picked_run_ns);
        if (!f)
            return NULL;
        struct sched_entity *e = entity_of(f);
        struct vcpu *v = dequeue_of(e);
        if (v) {
            if (yielder && e != yielder)
                fair_yielded(&yielder->fair, f);
            return v;
        }
        /* Cannot happen while vcpus_wanting is kept right; never loop on it. */
        e->vcpus_wanting = 0;
        fair_dequeue(&sc->fair_queue, f);
    }
}

/* g's entity on this CPU (NULL: none of its vCPUs is placed here): the
 * partition window's owner. At most GUEST_MAX_VCPUS looked at. */
static struct sched_entity *entity_here(struct guest *g)
{
    uint32_t cpu = this_cpu()->index;
    for (uint32_t i = 0; i < g->vcpu_count; i++)
        if (g->vcpus[i] && g->vcpus[i]->cpu == cpu)
            return g->vcpus[i]->ent;
    return NULL;
}

/* v runs from now on. A full barrier (an xchg) between this store and
 * every later look at its pending events (the upcall check on the way
 * out, hc_block's, hc_poll's): a raiser on another CPU that saw v
 * RUNNABLE asked nothing of this CPU (sched_remote_event_matters), so one
 * of the two must see the other's write. Costs no instruction over a
 * plain store. */
static inline void vcpu_set_running(struct vcpu *v)
{
    __atomic_store_n(&v->state, VCPU_RUNNING, __ATOMIC_SEQ_CST);
}

static bool something_runnable(void)
{
    return sched_this()->idle_kick;
}

/* Inlined on purpose: it is on every switch (vcpu_switch, make bench). */
static inline __attribute__((always_inline)) struct vcpu *
pick_next(struct sched_cpu *sc, uint64_t now, struct sched_entity *yielder)
{
    if (!sched_partitioned) /* tested here: no call on every switch without a plan */
        return dequeue(sc, yielder);
    struct guest *owner = sched_window_owner(now);
    struct sched_entity *e = owner ? entity_here(owner) : NULL;
    return e ? dequeue_of(e) : NULL;
}

static void enforce_time_limit(uint64_t now)
{
    if (!time_limit || now < time_limit || this_cpu()->index != 0) /* the boot CPU's duty */
        return;
    time_limit = 0;
    log_warn("time limit of hv.cfg reached: stopping the guests still running");
    for (struct guest *g = guest_list(); g; g = g->next)
        guest_stop(g, "stopped: hv.cfg time_limit_ms reached"); /* never restarted */
}

__attribute__((cold)) void sched_add_here(struct vcpu *v)
{
    struct percpu *cpu = this_cpu();
    /* Every caller adds a fresh or a moving vCPU, runnable; a stopped one
     * means its guest's end came first (hv/guest/guest_end.c keeps that
     * from happening): it stays stopped, never queued for a dead guest. */
    if (v->state == VCPU_DEAD)
        return;
    v->state = VCPU_RUNNABLE;
    runstate_enter(v, HV_RUNSTATE_RUNNABLE, time_now_ns());
    wants_cpu(&cpu->sched, v);
    enqueue(v);
    /* A restart adds vCPUs while another may run alone, with no interrupt
     * for its slice's end: the return re-arms for it. */
    if (!cpu->sched.slice_armed)
        cpu->slice_cut = true;
}

/* The reaper's step (hv/guest/guest_end.c: ended guests in the order of
 * their ends, their grace periods in batches), on the boot CPU only, at
 * each switch, in idle time and from hv's timer (vtimer.c), so a teardown
 * finishes while guests keep the CPU busy and never switch; only called
 * on page tables no ended guest owns. The test stays here, inlined into
 * the switch (as a call to another file it cost vcpu_switch 5
 * instructions). */
void reap_guests(void)
{
    if (guests_to_reap() && this_cpu()->index == 0) /* the boot CPU's duty */
        guest_reap_step();
}

static void leave_guest_tables(void)
{
    idt_set_fast_gate(0);
    space_load(kernel_space());
}

static void __attribute__((noreturn)) finish(void)
{
    leave_guest_tables();
    while (guests_to_reap()) {
        irqoff_interrupt_window(); /* the last exit's stretch ends; then between steps */
        reap_guests();
        cpu_relax(); /* it may wait for the other CPUs (the reaper's grace period) */
    }
    sched_park_aps(); /* idle already: nothing of theirs is left */
    sched_this()->slice_end = 0;
    timer_arm(0);
    sched_all_ended();
    halt_forever(); /* all_ended must not return; stop here if it does */
}

/* Its guest's fair run (fair_pick's answer); in a partition window, the
 * guest's slice cut at the window's end. */
static uint64_t slice_until(const struct sched_cpu *sc, const struct vcpu *v, uint64_t now)
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

/* Returns next's own frame, the one the exit leaves from (vcpu_load). */
static inline __attribute__((always_inline)) struct trap_frame *switch_to(struct vcpu *next,
                                                                       uint64_t now)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    TRACE_VCPU_AT(TR_SWITCH_INFNEXT, next, 0, now);
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

/* Picks what runs next; f holds the current vCPU's registers. Returns the
 * frame to leave from: f if the current vCPU runs on, else the next's own. */
static struct trap_frame *reschedule(struct trap_frame *f)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    uint64_t now = time_now_ns();
    /* When the drain did work, read the clock again: that time is cur's to
     * be charged. */
    if (sched_drain_console(now))
        now = time_now_ns();
    sched_drain_wake_list(); /* what other CPUs asked of this one's vCPUs */
    /* vCPUs wait here: balancing looks between slice ends too, at most
     * every BALANCE_EVERY_NS (a CPU whose decisions all come from blocks
     * and yields has no slice end). */
    if (sc->nr_wanting >= 2 && percpu_count > 1 && now >= sc->balance_next_ns)
        sched_balance(now);
    sc->woken_since_decision = false; /* interrupts are off: this decision sees every wake-up */
    struct vcpu *cur = cpu->current;
    cpu->need_resched = false;
    bool yielding = sc->yield_pending;
    sc->yield_pending = false;
    cpu->slice_cut = false;
    enforce_time_limit(now);
    /* What it used, hv's time on its behalf included: from its switch-in
     * to now, whether it runs on, blocked or stopped; at most a slice and
     * a quantum (fair.h: a longer stretch was not the guest's). */
    if (cur)
        fair_charge_run(&cur->ent->fair, now - cur->running_since);
    if (cur && cur->state == VCPU_RUNNING) {
        cur->cpu_time_ns += now - cur->running_since;
        cur->state = VCPU_RUNNABLE;
        runstate_enter(cur, HV_RUNSTATE_RUNNABLE, now);
        enqueue(cur);
    }
    struct vcpu *next = pick_next(sc, now, yielding && cur ? cur->ent : NULL);
    if (next == cur && cur) {
        /* The only runnable vCPU: it keeps the CPU for another slice. A
         * yield that finds nothing else to run here is a guest waiting
         * for something elsewhere (its other vCPU on another CPU, a
         * device): the spin-wait hint frees the sibling hyperthread, and
         * QEMU 7.2's -icount round robin moves on to the next CPU only at
         * a pause or hlt (docs/design.md), so a guest's yield loop no
         * longer keeps the CPU it waits for from running. */
        if (yielding)
            cpu_relax();
        vcpu_set_running(cur);
        cur->running_since = now;
        runstate_enter(cur, HV_RUNSTATE_RUNNING, now);
        sc->slice_end = slice_until(sc, cur, now);
        rearm(now);
        sched_quiet_point();
        return f;
    }
    /* A vCPU that is off the CPU keeps its registers, blocked or not:
     * they are in its own frame, f (vcpu_save). */
    if (cur && cur->state != VCPU_DEAD)
        vcpu_save(cur);
    cpu->current = NULL;
    sc->slice_end = 0;
    bool boot_cpu = cpu->index == 0;
    while (!next) {
        leave_guest_tables();
        if (!boot_cpu) /* before the quiet point the boot CPU watches (sched_park_aps) */
            sched_ap_park_if_asked();
        sched_quiet_point(); /* nothing in flight: the reaper's grace period */
        if (!boot_cpu)
            sched_drain_wake_list();
        reap_guests();
        if (boot_cpu && sched_debug_last_end_race)
            sched_race_gap(true);
        if (boot_cpu && guests_alive() == 0)
            finish();
        if (sc->window_boundary && now >= sc->window_boundary)
            next = pick_next(sc, now, NULL); /* the window changed while idle */
        if (next)
            break;
        sc->idle_kick = false;
        rearm(now);
        /* Nothing can run (nothing runnable, or not in its partition's
         * window): the screen catches up, with interrupts on so a timer cuts
         * it short, then sleep until an interrupt gives work. */
        irqoff_idle_leaving();
        if (boot_cpu) { /* the console and the screen are the boot CPU's */
            irq_enable();
            log_flush_idle(something_runnable);
            uint64_t screen_due = fbcon_idle(); /* the status line, live */
            irq_disable();
            timer_arm_no_later(screen_due);
        }
        /* Its sleep counts as idle time: the start taken off now, the end
         * added after (one add on the way out, a timer's path). */
        sc->idle_ns -= time_now_ns();
        if (!sc->idle_kick && !(boot_cpu && guests_to_reap())) { /* reaping goes on in idle time */
            /* An interrupt in the `hlt` that woke a lone vCPU enters it
             * from there (sched_idle_interrupted) and never comes back. */
            sc->idle_halted = true;
            __asm__ volatile("sti; hlt; cli" ::: "memory");
            sc->idle_halted = false; /* an NMI ends the hlt too */
        } else {
            cpu_relax(); /* the reaper may wait for other CPUs (its grace period) */
        }
        irqoff_idle_entered();
        now = time_now_ns();
        sc->idle_ns += now;
        enforce_time_limit(now);
        sched_drain_wake_list();
        next = pick_next(sc, now, NULL);
        idle_decided(cpu);
    }
    return switch_to(next, now); /* counts a quiet point too (`switches`, cross_cpu.c) */
}

/* After a decision: out, the own frame of the vCPU that runs now (this
 * CPU's entry frame, set by switch_to if it switched), is where the exit
 * leaves from, so the return goes straight to the common exit
 * (hv/cpu/isr.S trap_return_frame: the frame as the stack, then iretq):
 * what the callers below would have done to the entry's frame
 * (sched_return_inline's flag sanitising, the syscall path's sysret test)
 * is done here or needs no doing, and nothing above is left to run but
 * make bench's interrupts-off stretch, ended here. The C frames on this
 * CPU's stack are dropped: the next entry's C code starts at its top
 * again. Interrupts stay off until the iretq. */
static inline __attribute__((always_inline, noreturn)) void leave_from(struct trap_frame *out)
{
    out->rflags = vcpu_sanitize_rflags(out->rflags);
    if (irqoff_measuring)
        irqoff_leave_to_guest();
    trap_return_frame(); /* out, through this CPU's percpu frame */
}

/* Everything a return does that only some need: a decision, the timer
 * after a shortened run, an upcall. Out of line, so the common return
 * saves no registers for it. */
void sched_return_with_work(struct trap_frame *f)
{
    struct percpu *cpu = this_cpu();
    struct vcpu *cur = cpu->current;
    if (!cpu->need_resched && cur && cur->state == VCPU_RUNNING) {
        /* No decision: the timer after a shortened run, an upcall. */
        if (cpu->slice_cut) { /* a wake-up shortened the run */
            cpu->slice_cut = false;
            rearm(time_now_ns());
        }
        if (sched_upcall_due(cur))
            deliver_to_kernel(cur, f, cur->ev.upcall,
                              DELIVER_WHAT(DELIVERY_UPCALL) | DELIVER_MASK_EVENTS);
        if (cur->state == VCPU_RUNNING)
            return;
    }
    /* Decisions until a vCPU runs; out: the frame that holds its
     * registers (f while the one that entered runs on, or runs again
     * after a switch through idle). Every decision leaves by leave_from:
     * out is this CPU's frame, whichever vCPU runs, and the callers' tails
     * (the flag sanitising, the sysret decision) are done there or need no
     * doing, so no test tells a switch from none, and none pays the C
     * epilogues on the way back. */
    struct trap_frame *out = f;
    for (;;) {
        out = reschedule(out);
        cur = cpu->current;
        if (sched_upcall_due(cur))
            deliver_to_kernel(cur, out, cur->ev.upcall,
                              DELIVER_WHAT(DELIVERY_UPCALL) | DELIVER_MASK_EVENTS);
        /* An upcall that could not be delivered ended the guest: choose
         * again. (A guest the switch itself woke, entitled to the CPU at
         * once, waits for the next decision: checking need_resched here
         * too cost every timer wake-up a second decision, +2 us.) */
        if (cur->state == VCPU_RUNNING)
            break;
    }
    leave_from(out);
}

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
    uint64_t now = time_now_ns();
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
    enqueue(cur);
    /* fair_run_ns(q, next's, 0), whose common case, two guests wanting
     * the CPU, is here without the call: the other is cur's. */
    struct fair_queue *q = &sc->fair_queue;
    sc->picked_run_ns = q->count == 2 ? fair_run_before(&next->ent->fair, &cur->ent->fair, 0)
                                      : fair_run_ns(q, &next->ent->fair, 0);
    vcpu_save(cur);
    struct trap_frame *out = switch_to(next, now);
    if (sched_upcall_due(next))
        deliver_to_kernel(next, out, next->ev.upcall,
                          DELIVER_WHAT(DELIVERY_UPCALL) | DELIVER_MASK_EVENTS);
    if (next->state == VCPU_RUNNING)
        leave_from(out);
    /* The upcall could not be delivered and ended next's guest: a
     * decision, as sched_return_with_work's loop makes (it leaves). */
    cpu->need_resched = true;
    sched_return_with_work(out);
    __builtin_unreachable();
}

/* The direct way in from the idle loop's sleep (docs/design.md, "The idle
 * loop's direct entry"): trap_dispatch calls this after the handler of an
 * interrupt that came in the idle loop's `hlt` (idle_halted). If the
 * interrupt left exactly one vCPU wanting this CPU, runnable at the head
 * of the one entity queued, the pick the idle loop would make after its
 * `iretq` is that vCPU, and it is made here: the idle loop's steps after
 * its `hlt` (the clock, the idle time, the time limit's check, the wake
 * list's, the pick: dequeue's with one entity and no vCPU woken first),
 * then its switch and the return every decision ends with, from the
 * interrupt itself. The idle loop's stack under the interrupt's frame is
 * given up, as every exit to a guest gives up hv's stack. Anything else
 * (no vCPU or several, a partition plan, the wake list or another CPU's
 * request waiting, hv.cfg's time limit passed) returns, and the idle
 * loop decides as ever. Interrupts are off. The make bench figure's
 * interrupts-off stretch (irqoff.c) runs from the interrupt's entry to
 * the exit here, one stretch, as the idle loop's is from its `cli`. */
void sched_idle_interrupted(void)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    sc->idle_halted = false;
    struct fair_queue *q = &sc->fair_queue;
    if (sc->nr_wanting != 1 || q->count != 1 || sched_partitioned || sc->woken_first ||
        __atomic_load_n(&sc->wake_list, __ATOMIC_RELAXED) || sc->park)
        return;
    struct sched_entity *e = entity_of(q->head);
    struct vcpu *v = e->run_head;
    if (!v || v->state != VCPU_RUNNABLE)
        return;
    uint64_t now = time_now_ns();
    if (time_limit && now >= time_limit)
        return; /* enforce_time_limit's: the idle loop's */
    sc->idle_ns += now;
    /* dequeue's pick with one entity queued: fair_pick's floor and run
     * (alone: a slice), dequeue_of's round robin. */
    e->run_head = v->run_next;
    if (!e->run_head)
        e->run_tail = NULL;
    if (fair_before(q->floor, e->fair.vtime))
        q->floor = e->fair.vtime;
    sc->picked_run_ns = fair_run_before(&e->fair, NULL, 0);
    idle_decided(cpu);
    struct trap_frame *out = switch_to(v, now);
    if (sched_upcall_due(v))
        deliver_to_kernel(v, out, v->ev.upcall, DELIVER_WHAT(DELIVERY_UPCALL) | DELIVER_MASK_EVENTS);
    if (v->state == VCPU_RUNNING)
        leave_from(out);
    /* The upcall could not be delivered and the guest ended: decide again,
     * as sched_return_with_work's loop would, on a fresh stack (this one
     * holds the idle loop it left). */
    __asm__ volatile("mov %%gs:%c[top], %%rsp\n\t"
                     "call sched_return_with_work\n\t"
                     "ud2" ::"D"(out), [top] "i"(PERCPU_STACK_TOP) : "memory");
    __builtin_unreachable();
}
