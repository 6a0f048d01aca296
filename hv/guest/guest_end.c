/* A guest's end and the freeing of what it held (split from guest.c,
 * which creates guests): ending it on whichever CPU notices (one wins),
 * its vCPUs stopped by their own CPUs, then its spaces torn down and its
 * memory given back by the boot CPU's reaper, a bounded step at a time,
 * once no CPU can still hold a pointer into it (hv/sched/cross_cpu.h). */
#include "hv/guest/guest.h"

#include "hv/console/log.h"
#include "hv/cpu/tlb_shootdown.h"
#include "hv/cpu/x86.h"
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
#include "hv/xen/xen.h"
#include "vcpu/vcpu.h"

#define LOWER_HALF_END 0x0000800000000000ULL
#define PAGE 4096ULL

uint32_t guest_alive_count, guest_unreaped_count;
static uint64_t guest_end_seq; /* ends so far (struct guest's end_seq) */

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
 * follows (false: hv stopped it, it stays stopped). False if it had ended
 * already (another CPU won). */
static bool end_guest(struct guest *g, enum guest_end how, int64_t status, const char *reason,
                      bool policy)
{
    /* Two vCPUs of the guest may end it at once on two CPUs (two faults,
     * an exit beside a fault), or another CPU stop it: one of them does. */
    enum guest_end was = GUEST_ALIVE;
    if (!__atomic_compare_exchange_n(&g->end, &was, how, false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_RELAXED))
        return false;
    g->end_seq = __atomic_add_fetch(&guest_end_seq, 1, __ATOMIC_RELAXED);
    g->quiesced = false; /* the reaper waits until no CPU holds a pointer into it */
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
    /* A guest being restarted still counts as alive: the run goes on. */
    if (action != HV_HEALTH_RESTART)
        __atomic_sub_fetch(&guest_alive_count, 1, __ATOMIC_SEQ_CST);
    __atomic_add_fetch(&guest_unreaped_count, 1, __ATOMIC_SEQ_CST);
    if (how == GUEST_EXITED)
        log_info("guest %s exited with status %ld", g->name, (long)status);
    else
        log_error("guest %s ended: %s", g->name, reason);
    restart_announce(g, action);
    return true;
}

void guest_end(struct guest *g, enum guest_end how, int64_t status, const char *reason)
{
    end_guest(g, how, status, reason, true);
}

void guest_stop(struct guest *g, const char *reason)
{
    /* Noted first: an end that wins the race on another CPU (its exit or
     * fault just now) decides under restart_lock, after this store, and
     * then finds it (restart_decide); one that decided before is abandoned
     * below. Either way no restart follows hv's stop. */
    __atomic_store_n(&g->stopped_by_hv, true, __ATOMIC_SEQ_CST);
    if (g->end == GUEST_ALIVE && end_guest(g, GUEST_FAULTED, -1, reason, false))
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
 * under hv_irq_off_max's 20 000 and short beside a timer's 50 us
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
                                     .arg = g};
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

bool guest_free_memory(struct guest *g)
{
    if (g->memory_freed)
        return true;
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
        log_error("guest %s: %lu frame(s) still charged after its memory was freed", g->name,
                  (unsigned long)still);
    g->memory_freed = true;
    sched_guest_unplace(g);
    leak_check_after_end(g);
    if (g->end != GUEST_ALIVE) {
        __atomic_sub_fetch(&guest_unreaped_count, 1, __ATOMIC_SEQ_CST);
        log_debug("guest %s: memory given back", g->name);
    }
    return true;
}

