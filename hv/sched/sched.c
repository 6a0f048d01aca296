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
#include "hv/sched/sched_switch.h"
#include "hv/time/time.h"
#include "vcpu/deliver.h"
#include "vcpu/vcpu.h"

/* Who runs next on this CPU: the decision, the switch, the idle loop and
 * the return to the guest that takes them (sched_return_with_work,
 * leave_from; the switch itself inline in sched_switch.h, which the two
 * direct paths of sched_direct.c share). How a vCPU comes to want the CPU or stops wanting it
 * (wake-ups, blocks): wake.c; entry points off those paths: sched_life.c.
 * All its state but these two is per CPU: struct sched_cpu, sched_this(). */
uint64_t time_limit; /* hv-wide: hv.cfg's time limit */
void (*sched_all_ended)(void); /* sched_start's: runs when no guest is left */

/* Into its entity's round robin, at the back. */
void sched_enqueue(struct vcpu *v)
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
    sched_enqueue(v);
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
        sched_enqueue(cur);
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
        /* Cleared before the reaper, whose restart may add vCPUs here and
         * kick (hv/guest/restart.c): after it, the loop slept past them. */
        sc->idle_kick = false;
        reap_guests();
        if (boot_cpu && sched_debug_last_end_race)
            sched_race_gap(true);
        if (boot_cpu && guests_alive() == 0)
            finish();
        if (sc->window_boundary && now >= sc->window_boundary)
            next = pick_next(sc, now, NULL); /* the window changed while idle */
        if (next)
            break;
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
            sched_idle_timer_arm();
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

/* sched_return_with_work's no-decision branch for a send's own upcall,
 * less the tests the send answers: v is this CPU's current vCPU, in its
 * kernel mode (a hypercall's), and runs (a stop sets need_resched, and
 * none comes with interrupts off); upcall_pending was set just now.
 * Anything else due (a decision, the timer after a shortened run) leaves
 * the upcall to the general return. Its frame is this CPU's (a hypercall
 * builds it there): out through leave_from, past the hypercall's C return,
 * which has nothing left to do. */
int64_t sched_upcall_after_send(struct vcpu *v, const struct hv_vcpu_shared *vs)
{
    struct percpu *cpu = this_cpu();
    uint16_t work; /* need_resched and slice_cut, one test */
    _Static_assert(__builtin_offsetof(struct percpu, slice_cut) ==
                       __builtin_offsetof(struct percpu, need_resched) + 1,
                   "adjacent");
    __builtin_memcpy(&work, &cpu->need_resched, sizeof(work));
    /* upcall_mask is the guest's to write: read once. */
    /* v is this CPU's running vCPU in kernel mode (the native send's only
     * caller); its state tested anyway, as sched_return_with_work does, so
     * a stop that left need_resched clear never enters a stopped vCPU. */
    if (work || v->state != VCPU_RUNNING || __atomic_load_n(&vs->upcall_mask, __ATOMIC_RELAXED) ||
        !v->ev.upcall)
        return 0;
    cpu->frame->rax = 0;
    if (!deliver_to_kernel(v, cpu->frame, v->ev.upcall,
                           DELIVER_WHAT(DELIVERY_UPCALL) | DELIVER_MASK_EVENTS))
        return 0; /* the guest ended: the return's decision */
    /* The frame read again rather than kept across the call: no register
     * to save on the way in. */
    struct trap_frame *f;
    __asm__ volatile("mov %%gs:%c1, %0" : "=r"(f) : "i"(__builtin_offsetof(struct percpu, frame)));
    leave_from(f);
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
