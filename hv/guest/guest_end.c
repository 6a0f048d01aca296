/* A guest's end and the freeing of what it held (split from guest.c,
 * which creates guests): ending it on whichever CPU notices (one wins),
 * its vCPUs stopped by their own CPUs, then its spaces torn down and its
 * memory given back by the boot CPU's reaper, a bounded step at a time,
 * once no CPU can still hold a pointer into it (hv/sched/cross_cpu.h). */
#include "hv/guest/guest.h"

#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/tlb_shootdown.h"
#include "hv/cpu/x86.h"
#include "hv/debug/irqoff.h"
#include "hv/debug/panic.h"
#include "hv/debug/trace.h"
#include "hv/event/evtchn.h"
#include "hv/guest/console.h"
#include "hv/guest/guest_internal.h"
#include "hv/guest/leak_check.h"
#include "hv/guest/restart.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "hv/mm/xpti.h"
#include "hv/sched/cross_cpu.h"
#include "hv/sched/sched.h"
#include "hv/time/lapic.h"
#include "hv/xen/xen.h"
#include "vcpu/vcpu.h"

#define LOWER_HALF_END 0x0000800000000000ULL
#define PAGE 4096ULL

uint32_t guest_alive_count, guest_unreaped_count;
static uint64_t guest_end_seq; /* ends so far (struct guest's end_seq) */
static uint64_t ends_reaped, grace_periods; /* the summary's reaper line */
/* An end on the boot CPU since its last reaper step, which skips one step:
 * the switch or idle loop right after the end would make it in the end's
 * own interrupts-off stretch (a teardown step, ~3,000 instructions, on top
 * of the end's: docs/benchmarks.md, hv_irq_off_max). The next switch, the
 * idle loop's next pass or hv's timer makes it. The boot CPU's alone. */
static bool reap_after_end;

uint32_t guests_alive(void)
{
    return __atomic_load_n(&guest_alive_count, __ATOMIC_ACQUIRE);
}

uint32_t guests_to_reap(void)
{
    return __atomic_load_n(&guest_unreaped_count, __ATOMIC_ACQUIRE);
}

/* A restarted guest's vCPUs are added to their CPUs one after the other
 * (hv/guest/restart.c, running_again) while its first ones may already
 * run and end it on another CPU. A stop that reached a vCPU before its
 * addition would be undone by the addition: a vCPU of an ended guest
 * runnable again (a vCPU not yet added has no entity either, which the
 * stop reads). So the end waits for the additions to be pushed (at most
 * GUEST_MAX_VCPUS pushes on the boot CPU, no lock held on either side),
 * and the ending CPU applies what its own wake list holds before it stops
 * its own vCPUs; a remote CPU gets the stop behind the addition. */
static void wait_for_additions(struct guest *g)
{
    while (__atomic_load_n(&g->vcpus_adding, __ATOMIC_ACQUIRE))
        cpu_relax();
    sched_drain_wake_list();
}

/* Ends the guest; `policy`: whether its on_exit/on_fault decides what
 * follows (false: hv stopped it, it stays stopped); `line`: its line
 * formatted already (log_format; NULL: formatted here). False if it had
 * ended already (another CPU won). */
static bool end_guest(struct guest *g, enum guest_end how, int64_t status, const char *reason,
                      bool policy, const char *line, size_t line_len)
{
    /* Two vCPUs of the guest may end it at once on two CPUs (two faults,
     * an exit beside a fault), or another CPU stop it: one of them does. */
    enum guest_end was = GUEST_ALIVE;
    if (!__atomic_compare_exchange_n(&g->end, &was, how, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_RELAXED))
        return false;
    /* Its number, taken before anything of the end is done: a grace
     * period whose beginning saw the count (reap_guests) began after the
     * claim, and waits for this CPU's next quiet point, after the end. */
    uint64_t seq = __atomic_add_fetch(&guest_end_seq, 1, __ATOMIC_SEQ_CST);
    g->exit_status = status;
    wait_for_additions(g);
    /* Its vCPUs leave their CPUs (each CPU stops its own: this one now,
     * the others at their next decision or IPI) and add their CPU time
     * to the guest's. */
    sched_guest_ended(g);
    guest_copy_name(g->end_reason, sizeof(g->end_reason), reason);
    uint32_t action = restart_decide(g, how, policy);
    TRACE_GUEST(TR_DOM_END, g, action);
    if (action == HV_HEALTH_RESTART)
        guest_console_break(g); /* the console stays open for its next life */
    else
        guest_console_flush(g);
    __atomic_store_n(&g->vcpus_alive, 0, __ATOMIC_RELAXED);
    /* To reap before no longer alive: the boot CPU that finds no guest
     * alive reaps until nothing is left to reap (sched.c, finish), and
     * must find this end there. Counted the other way round, it could park
     * the CPUs and free every guest while this CPU was still in the end
     * (on the guest's tables, with interrupts off): the park timed out and
     * the free loop waited for the tables to be left (test
     * aprun_last_end_on_another_cpu_is_reaped). */
    __atomic_add_fetch(&guest_unreaped_count, 1, __ATOMIC_SEQ_CST);
    if (sched_debug_last_end_race)
        sched_race_gap(false);
    /* A guest being restarted still counts as alive: the run goes on. */
    if (action != HV_HEALTH_RESTART)
        __atomic_sub_fetch(&guest_alive_count, 1, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g->end_seq, seq, __ATOMIC_RELEASE); /* the reaper's from here */
    if (this_cpu()->index == 0)
        reap_after_end = true;
    sched_reaper_kick(); /* the boot CPU may run a vCPU alone, with no timer */
    if (line)
        log_put(how == GUEST_EXITED ? LOG_INFO : LOG_ERROR, line, line_len);
    else if (how == GUEST_EXITED)
        log_info("guest %s exited with status %ld", g->name, (long)status);
    else
        log_error("guest %s ended: %s", g->name, reason);
    restart_announce(g, action);
    return true;
}

void guest_end(struct guest *g, enum guest_end how, int64_t status, const char *reason)
{
    end_guest(g, how, status, reason, true, NULL, 0);
}

/* The exit's line is formatted before the end, with interrupts on: lib/fmt.c's
 * ~1,600 instructions were a fifth of boot b's longest interrupts-off
 * stretch (docs/benchmarks.md, hv_irq_off_max). The vCPU is running, in
 * its hypercall, nothing held: an interrupt finds the state the
 * scheduler's console drain leaves it in with interrupts on
 * (hv/sched/console_drain.c); one that stops the vCPU (its guest ended on
 * another CPU meanwhile) makes the end below find the guest ended, and the
 * line is dropped with it. */
void guest_exit(struct guest *g, int64_t status)
{
    char line[LOG_FORMAT_BYTES];
    irqoff_pause();
    irq_enable();
    size_t n = log_format(line, LOG_INFO, "guest %s exited with status %ld", g->name,
                          (long)status);
    irq_disable();
    irqoff_resume();
    end_guest(g, GUEST_EXITED, status, "exited", true, line, n);
}

void guest_end_formatted(struct guest *g, enum guest_end how, int64_t status,
                         const char *reason, const char *line, size_t line_len)
{
    end_guest(g, how, status, reason, true, line, line_len);
}

void guest_stop(struct guest *g, const char *reason)
{
    /* Noted first: an end that wins the race on another CPU (its exit or
     * fault just now) decides under restart_lock, after this store, and
     * then finds it (restart_decide); one that decided before is abandoned
     * below. Either way no restart follows hv's stop. */
    __atomic_store_n(&g->stopped_by_hv, true, __ATOMIC_SEQ_CST);
    if (g->end == GUEST_ALIVE && end_guest(g, GUEST_FAULTED, -1, reason, false, NULL, 0))
        return;
    restart_abandon(g, reason); /* ended already: its restart, if one is under way */
}

/* For hv/guest/restart.c: a restart given up (the guest is no longer
 * alive), and a restarted guest's reaping over (it runs again, or its
 * memory is all back). */
void guest_restart_gave_up(void)
{
    __atomic_sub_fetch(&guest_alive_count, 1, __ATOMIC_SEQ_CST);
}

void guest_restart_reaped(void)
{
    __atomic_sub_fetch(&guest_unreaped_count, 1, __ATOMIC_SEQ_CST);
}

/* Its vCPUs may stop themselves on several CPUs at once. */
void guest_vcpu_stopped(struct guest *g)
{
    uint32_t n = __atomic_load_n(&g->vcpus_alive, __ATOMIC_RELAXED);
    while (n && !__atomic_compare_exchange_n(&g->vcpus_alive, &n, n - 1, false, __ATOMIC_SEQ_CST,
                                             __ATOMIC_RELAXED))
        ;
    if (n == 1)
        guest_end(g, GUEST_EXITED, 0, "every vCPU stopped");
}

/* Once per mapped page of a space torn down (a guest's end, a user
 * space's destroy, the attacker of timer_late_under_attack): kept -O2 in a
 * file built -Os (the Makefile's CORE_COLD_SRCS), as lib/fmt.c's digit
 * loop; at -Os the longest such call ran 3.8 % more instructions. */
__attribute__((optimize("O2"))) void guest_unmap_leaf(void *arg, uint64_t va, uint64_t pa, uint64_t size,
                                                      uint64_t flags)
{
    (void)va;
    struct guest *g = arg;
    for (uint64_t off = 0; off < size; off += PAGE) {
        guest_frame_drop_mapping(pa + off, flags);
        guest_frame_release(pa + off, &g->mem);
    }
}

/* One step of reaping an ended guest visits at most this many page-table
 * entries (a mapped page costs HV_MEM_UNMAP_PAGE_COST): 8 mapped pages,
 * about 3 000 instructions, as much as one HV_CALL_MEM_UNMAP (or one
 * step of HV_CALL_USER_SPACE_DESTROY, guest_space_teardown_step). Reaping goes
 * on from hv's timer between other guests' work (hv/sched/sched.c), so its
 * steps are interrupts-off stretches nobody asked for: they are kept well
 * under hv_irq_off_max's 8 000 and short beside a timer's 50 us
 * (docs/benchmarks.md). */
#define REAP_STEP_BUDGET (8 * HV_MEM_UNMAP_PAGE_COST)

static bool space_teardown_step(struct guest *g, uint64_t handle, uint64_t budget)
{
    struct pt_space *s = handle == HV_SPACE_KERNEL ? &g->space : g->user_spaces[handle];
    /* Not while any CPU may still have the space loaded (its root in CR3,
     * or translations of it not yet flushed: hv/cpu/tlb_shootdown.h):
     * frames and tables freed here go straight back to the allocator.
     * Such a CPU leaves it at its next switch; the step is tried again. */
    if (tlb_space_in_use(s))
        return false;
    uint64_t from = g->teardown_done[handle];
    if (from < LOWER_HALF_END) {
        /* Everything below `from` went in earlier steps. */
        struct pt_unmap_step step = {.budget = budget,
                                     .clear_below = true,
                                     .leaf_cost = HV_MEM_UNMAP_PAGE_COST,
                                     .leaf = guest_unmap_leaf,
                                     .free_table = guest_free_table,
                                     .arg = g,
                                     /* ends at the next page when an interrupt waits */
                                     .preempt = lapic_interrupt_waiting};
        uint64_t done = 0;
        if (pt_unmap_bounded(s, from, LOWER_HALF_END - from, &step, &done) != PT_OK)
            panic("guest %s: cannot tear down address space %lu", g->name, (unsigned long)handle);
        g->teardown_done[handle] = from + done;
        if (from + done < LOWER_HALF_END)
            return false;
    }
    /* Every lower-half table is gone; the upper half's are hv's. */
    xpti_space_free(s, guest_free_table, g);
    guest_free_table(g, s->root_phys);
    s->root_phys = 0;
    g->teardown_done[handle] = 0;
    if (handle != HV_SPACE_KERNEL) {
        kfree(s, sizeof(*s));
        g->user_spaces[handle] = NULL;
        g->space_dying[handle] = false;
    }
    return true;
}

/* Under the guest's lock: another vCPU of a live guest (a user space's
 * destroy) may be changing its other spaces, which share the allowance. */
static bool locked_teardown_step(struct guest *g, uint64_t handle, uint64_t budget)
{
    uint64_t irq = spin_lock_irqsave(&g->mm_lock);
    /* Another vCPU's destroy of the same handle may have finished it. */
    bool gone = handle != HV_SPACE_KERNEL ? !g->user_spaces[handle] : !g->space.root_phys;
    bool done = gone || space_teardown_step(g, handle, budget);
    spin_unlock_irqrestore(&g->mm_lock, irq);
    return done;
}

bool guest_space_teardown_step(struct guest *g, uint64_t handle)
{
    return locked_teardown_step(g, handle, HV_MEM_UNMAP_BUDGET);
}

/* Reaping steps so far, for an occasional progress line at debug level. */
static uint64_t reap_steps;
#define REAP_STEPS_PER_NOTE 512

/* The leak check after an ended guest's memory is back (leak_check.h): a
 * look at every guest (~135 instructions each: 4,191 to 4,542 with 32),
 * made as a step of its own, in a stretch apart from the end's last
 * teardown step (hv_irq_off_max, docs/benchmarks.md). Until it is made,
 * the guest counts as unreaped and the step finds nothing else to do. */
static bool leak_check_step(struct guest *g)
{
    g->leak_check_due = false;
    leak_check_after_end(g);
    g->memory_freed = true;
    if (g->end != GUEST_ALIVE) {
        __atomic_sub_fetch(&guest_unreaped_count, 1, __ATOMIC_SEQ_CST);
        log_debug("guest %s: memory given back", g->name);
    }
    return true;
}

bool guest_free_memory(struct guest *g)
{
    if (g->memory_freed)
        return true;
    if (g->leak_check_due)
        return leak_check_step(g);
    if (g->restart_stage > RESTART_REAPING)
        return restart_step(g);
    if (g->end != GUEST_ALIVE && ++reap_steps % REAP_STEPS_PER_NOTE == 0)
        log_debug("guest %s: reaping, %lu frame(s) still charged", g->name,
                  (unsigned long)g->mem.used);
    for (int h = 1; h <= HV_MAX_USER_SPACES; h++) {
        if (!g->user_spaces[h])
            continue;
        g->space_dying[h] = true;
        locked_teardown_step(g, (uint64_t)h, REAP_STEP_BUDGET);
        return false; /* one bounded step per call */
    }
    if (g->space.root_phys && !locked_teardown_step(g, HV_SPACE_KERNEL, REAP_STEP_BUDGET))
        return false;
    if (!xen_guest_free(g)) /* Xen personality hook: its frames and state, in steps */
        return false;
    if (g->shared_pa)
        guest_frame_release(g->shared_pa, &g->mem); /* hv's own reference */
    g->shared_pa = 0;
    evtchn_free_table(g);
    g->shared = NULL;
    for (uint32_t i = 0; i < g->vcpu_count; i++)
        if (g->vcpus[i]) {
            vcpu_destroy(g->vcpus[i]);
            g->vcpus[i] = NULL;
        }
    if (g->restart_stage == RESTART_REAPING) {
        restart_reaped(g); /* the reservation stays: the next life's memory */
        return false;
    }
    uint64_t still = mm_reservation_end(&g->mem);
    if (still)
        log_error("guest %s: %lu frame(s) still charged after the free", g->name,
                  (unsigned long)still);
    sched_guest_unplace(g);
    g->leak_check_due = true; /* the next step */
    return false;
}

/* ---- the reaper (boot CPU) ----
 *
 * A guest's end is freed only once no CPU can hold a pointer into it (its
 * vCPUs, its shared page): a grace period (hv/sched/cross_cpu.h) begun
 * after its end, a look, and another grace period begun after the look.
 * After the first, every CPU that saw the guest alive (an event raised
 * from another guest's hypercall, its own end) is done, and later ones see
 * its end and stop; the look waits until the owners have taken its vCPUs
 * off their CPUs and wake lists; after the second, none is still reading
 * one it just took off. The grace periods follow one another and each
 * serves every end: it is the first for the ends counted before it began
 * (end_seq <= grace_first) and the second for those whose look was done
 * before (<= grace_looked), so ends of one moment share their grace
 * periods and each batch costs about one (at SMP 8, where each waits for
 * seven other CPUs, one ended guest per two grace periods was a restart
 * throughput the soak could not hold). They run on while the guests
 * already past them are torn down: a step of each per call.
 *
 * The guests are freed in the order of their ends, one after the other
 * (their teardown and restart steps): a guest that ends again goes behind
 * those that ended before it, so none that keep ending can take the reaper
 * over. Taking them in the guest list's order starved those late in it
 * (SMP 8: the soak's last restarting guest was not restarted once in 100
 * s, lives by list position 11, 8, 5, 4, 2, 2, 1, 0). */
static uint64_t grace_upto;   /* ends 1..grace_upto are past both: freed in order */
static uint64_t grace_looked; /* ..grace_looked: looked at, the grace period under way is their second */
static uint64_t grace_first;  /* ..grace_first: the grace period under way (or over) is their first */
static bool grace_running, grace_looking;
static struct guest *look_next; /* where the look goes on (guests stay listed) */

/* Guests whose vCPUs the look waits for, per step: each a look at its
 * vCPUs and at each CPU (~25 loads). */
#define LOOK_GUESTS_PER_STEP 4

/* One bounded step: a grace period's beginning or end, or the look at
 * LOOK_GUESTS_PER_STEP guests. */
static void grace_step(void)
{
    /* Read before the quiet counts (sched_grace_begin): an end it counts
     * was claimed before, on a CPU not quiet since (the count's increment
     * orders that CPU's last quiet point before it). */
    uint64_t ended = __atomic_load_n(&guest_end_seq, __ATOMIC_SEQ_CST);
    if (percpu_count == 1) { /* nothing to wait for: every end is done */
        grace_upto = ended;
        return;
    }
    if (grace_looking) {
        for (uint32_t n = 0; look_next && n < LOOK_GUESTS_PER_STEP; look_next = look_next->next) {
            uint64_t seq = __atomic_load_n(&look_next->end_seq, __ATOMIC_ACQUIRE);
            if (seq <= grace_looked || seq > grace_first)
                continue; /* not of this look (alive: 0) */
            if (!sched_vcpus_let_go(look_next))
                return; /* looked at again next step */
            n++;
        }
        if (look_next)
            return;
        grace_looking = false;
        grace_looked = grace_first;
    }
    if (!grace_running) {
        if (ended == grace_upto)
            return; /* every end freed or being freed: none waits */
        grace_first = ended;
        sched_grace_begin();
        grace_periods++;
        grace_running = true;
        return;
    }
    if (!sched_grace_over())
        return;
    grace_running = false;
    grace_upto = grace_looked;
    if (grace_first > grace_looked) { /* its first: look, then the next is their second */
        grace_looking = true;
        look_next = guest_list();
    }
}

void guest_reap_step(void)
{
    if (reap_after_end) {
        reap_after_end = false;
        return;
    }
    /* One walk over the guests: the first of the ends not yet freed. */
    struct guest *first = NULL;
    uint64_t first_seq = 0;
    for (struct guest *g = guest_list(); g; g = g->next) {
        uint64_t seq = __atomic_load_n(&g->end_seq, __ATOMIC_ACQUIRE);
        if (seq && !g->memory_freed && (!first || seq < first_seq)) {
            first = g;
            first_seq = seq;
        }
    }
    if (!first)
        return; /* an end not yet stored (it is counted a moment before) */
    grace_step();
    /* A guest that never had a vCPU has nothing any CPU could hold. */
    if ((first_seq <= grace_upto || !first->vcpus[0]) && guest_free_memory(first))
        ends_reaped++;
}

void guest_reaper_report(void)
{
    if (ends_reaped)
        log_info("reaper: %lu guest end(s) reaped after %lu grace period(s)",
                 (unsigned long)ends_reaped, (unsigned long)grace_periods);
}

