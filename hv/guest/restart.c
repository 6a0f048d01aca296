#include "hv/guest/restart.h"

#include "guest-loader/loader.h"
#include "hv/console/log.h"
#include "hv/cpu/lock_order.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/debug/trace.h"
#include "hv/event/evtchn.h"
#include "hv/guest/console.h"
#include "hv/guest/leak_check.h"
#include "hv/mm/frame_alloc.h"
#include "hv/sched/sched.h"
#include "hv/time/time.h"
#include "lib/fmt.h"
#include "lib/nospec.h"
#include "lib/string.h"
#include "vcpu/vcpu.h"

/* Stack and heap pages mapped per step: each is zeroed and mapped (~1,100
 * instructions as measured under -icount), so a step stays near 5,000
 * within hv_irq_off_max's 8,000 (docs/benchmarks.md; 8 a step were
 * 8,907). */
#define HEAP_STEP_PAGES 4

bool restart_debug_corrupt_kept_image;
bool restart_debug_add_gap;
/* For the summary (restart_report): every restart's steps, and the bytes
 * of kept images VERIFYING hashed. Only the reaper (the boot CPU) makes
 * steps. */
static uint64_t steps_made, bytes_hashed;

/* The first byte of the middle of the first non-empty range a restart
 * hashes (debug_corrupt_kept_image's target: a byte it would load). */
static uint8_t *kept_middle(const struct guest_kept_image *k)
{
    uint64_t offset, bytes;
    for (uint64_t i = 0; loader_kept_range(&k->img, i, &offset, &bytes); i++)
        if (bytes)
            return (uint8_t *)k->file + offset + bytes / 2;
    return (uint8_t *)k->file;
}


/* Every change of the restart state, kept image, history and health log
 * is made under the guest's restart_lock: its end's decision (on the CPU
 * of the vCPU that ended it), an abandon (hv's stop, from any CPU) and the
 * reaper's steps (the boot CPU) may meet. Bounded holds: one step each. */
static uint32_t decide_locked(struct guest *g, enum guest_end how, bool policy)
{
    uint64_t now = time_now_ns();
    uint32_t event = !policy ? HV_HEALTH_STOPPED
                             : how == GUEST_EXITED ? HV_HEALTH_EXIT : HV_HEALTH_FAULT;
    uint32_t action = HV_HEALTH_STOP;
    if (policy) {
        unsigned want = how == GUEST_EXITED ? g->policy.on_exit : g->policy.on_fault;
        if (want == GUEST_ACTION_HALT)
            action = HV_HEALTH_HALT;
        else if (want == GUEST_ACTION_RESTART)
            action = g->kept && guest_restart_allowed(&g->policy, &g->kept->history, now)
                         ? HV_HEALTH_RESTART
                         : HV_HEALTH_LIMIT_STOP;
    }
    if (action == HV_HEALTH_RESTART) {
        guest_restart_record(&g->kept->history, now);
        g->restarts = g->kept->history.count;
        g->restart_stage = RESTART_REAPING;
        /* Said by the restart's first step (restart_step), a stretch of
         * its own: formatting it at the end made a restarting guest's end
         * ~2,000 instructions longer (hv_irq_off_max, docs/benchmarks.md).
         * Noted here, under the lock, so that an abandonment on another
         * CPU right after this decision says it too, before its "not
         * restarted" (abandon_locked); both may then come before the
         * end's own line (end_guest logs it after this decision). */
        g->kept->announce_due = true;
        /* The kept copy is the firmware's loader-data memory, writable
         * through the direct map: what a stray write could do to it. */
        if (restart_debug_corrupt_kept_image)
            *kept_middle(g->kept) ^= 1;
    }
    /* A plain exit of a guest whose on_exit is stop is in the summary
     * already; not logging it keeps HV_CALL_EXIT as cheap as before (no
     * log to make: bench's hv_irq_off_max is an exit). */
    if (!(event == HV_HEALTH_EXIT && action == HV_HEALTH_STOP))
        health_log_add(g, now, event, g->exit_status, g->end_reason, action);
    return action;
}

uint32_t restart_decide(struct guest *g, enum guest_end how, bool policy)
{
    uint64_t irq = spin_lock_irqsave_at(&g->restart_lock, LOCK_RESTART);
    /* hv's stop may have raced this end and lost (hv/guest/guest_end.c,
     * guest_stop): it still holds. */
    if (__atomic_load_n(&g->stopped_by_hv, __ATOMIC_ACQUIRE))
        policy = false;
    uint32_t action = decide_locked(g, how, policy);
    spin_unlock_irqrestore_at(&g->restart_lock, LOCK_RESTART, irq);
    return action;
}

static void halt_everything(struct guest *g)
{
    char why[112];
    fmt_format(why, sizeof(why), "stopped: guest %s halted hv (its %s = halt)", g->name,
               g->end == GUEST_EXITED ? "on_exit" : "on_fault");
    for (struct guest *o = guest_list(); o; o = o->next)
        if (o != g)
            guest_stop(o, why);
}

void restart_announce(struct guest *g, uint32_t action)
{
    const char *key = g->end == GUEST_EXITED ? "on_exit" : "on_fault";
    switch (action) { /* a restart is said by its first step (decide_locked) */
    case HV_HEALTH_LIMIT_STOP:
        log_error("guest %s: %s = restart, but max_restarts (%u%s) is reached: it stays "
                  "stopped", g->name, key, g->policy.max_restarts,
                  g->policy.window_ms ? " within the window" : "");
        break;
    case HV_HEALTH_HALT:
        log_error("guest %s: %s = halt: hv stops every guest and ends the run", g->name, key);
        halt_everything(g);
        break;
    default:
        break;
    }
}

void restart_reaped(struct guest *g)
{
    /* Every frame and page table of its last life is back in its
     * reservation, which is still whole: the next life gets all of it. */
    if (g->mem.used || frame_reservation_left(&g->mem) != g->memory_bytes / 4096)
        log_error("guest %s: leak: %lu frame(s) still charged after its memory was freed "
                  "for a restart (%lu of %lu left)", g->name, (unsigned long)g->mem.used,
                  (unsigned long)frame_reservation_left(&g->mem),
                  (unsigned long)(g->memory_bytes / 4096));
    leak_check_after_end(g);
    uint64_t irq = spin_lock_irqsave_at(&g->restart_lock, LOCK_RESTART);
    if (g->restart_stage == RESTART_REAPING) { /* not abandoned meanwhile */
        sha256_init(&g->kept->check);
        g->kept->range = g->kept->checked = 0;
        g->restart_stage = RESTART_VERIFYING;
    }
    spin_unlock_irqrestore_at(&g->restart_lock, LOCK_RESTART, irq);
}

/* The end's announcement of the restart (restart_announce), under
 * restart_lock: made by the restart's first step, or by its abandonment
 * if that comes first (hv's stop on another CPU, a halt), so that it is
 * never lost and always comes before "not restarted". */
static void announce_locked(struct guest *g)
{
    const char *key = g->end == GUEST_EXITED ? "on_exit" : "on_fault";
    g->kept->announce_due = false;
    log_info(g->policy.window_ms ? "guest %s: %s = restart: restart %u (at most %u within %lu ms)"
                                 : "guest %s: %s = restart: restart %u (at most %u)",
             g->name, key, g->restarts, g->policy.max_restarts,
             (unsigned long)g->policy.window_ms);
}

static void abandon_locked(struct guest *g, const char *why)
{
    if (g->restart_stage == RESTART_NONE)
        return;
    if (g->kept->announce_due)
        announce_locked(g);
    g->restart_stage = RESTART_NONE;
    guest_restart_gave_up();
    guest_console_flush(g);
    fmt_format(g->end_reason, sizeof(g->end_reason), "%s", why);
    health_log_add(g, time_now_ns(), HV_HEALTH_STOPPED, g->exit_status, why,
                   HV_HEALTH_RESTART_FAILED);
    log_error("guest %s: not restarted: %s", g->name, why);
    /* The reaper goes on from where it is and ends the reservation. */
}

void restart_abandon(struct guest *g, const char *why)
{
    uint64_t irq = spin_lock_irqsave_at(&g->restart_lock, LOCK_RESTART);
    abandon_locked(g, why);
    spin_unlock_irqrestore_at(&g->restart_lock, LOCK_RESTART, irq);
}

uint64_t restart_hash_step(struct guest_kept_image *k, uint8_t digest[SHA256_BYTES])
{
    static const uint8_t zeros[SHA256_BLOCK_BYTES];
    uint64_t offset, bytes, left = SHA256_BLOCK_BYTES - k->check.used, file_bytes = 0;
    if (!loader_kept_range(&k->img, k->range, &offset, &bytes) && !k->check.used) {
        sha256_final(&k->check, digest);
        return RESTART_HASH_DONE;
    }
    while (left && loader_kept_range(&k->img, k->range, &offset, &bytes)) {
        uint64_t n = bytes - k->checked < left ? bytes - k->checked : left;
        sha256_update(&k->check, k->file + offset + k->checked, n);
        k->checked += n;
        left -= n;
        file_bytes += n;
        if (k->checked == bytes) {
            k->range++;
            k->checked = 0;
        }
    }
    sha256_update(&k->check, zeros, left); /* the ranges are done: the block's zeros */
    return file_bytes;
}

/* One step of hashing again what the restart reads, then the compare. */
static bool verify_step(struct guest *g)
{
    uint8_t digest[SHA256_BYTES];
    uint64_t hashed = restart_hash_step(g->kept, digest);
    if (hashed != RESTART_HASH_DONE) {
        bytes_hashed += hashed;
        return false;
    }
    if (memcmp(digest, g->kept->sha256, SHA256_BYTES) != 0) {
        abandon_locked(g, "restart refused: its image changed since it was loaded "
                           "(SHA-256 differs)");
        return false;
    }
    g->restart_stage = RESTART_LOADING;
    return false;
}

/* The new root page table (~2,200 instructions: the upper half's 256
 * entries copied); the image's segments are BUILDING's first part. */
static bool load_step(struct guest *g)
{
    char why[160], reason[112];
    if (loader_rebuild_begin(g, why, sizeof(why))) {
        g->restart_stage = RESTART_BUILDING;
        return false;
    }
    fmt_format(reason, sizeof(reason), "restart failed: %s", why);
    abandon_locked(g, reason);
    return false;
}

#define DEBUG_GAP_WAIT_MAX_NS 1000000000ull /* 1 s: at most, for each addition */
#define DEBUG_GAP_AFTER_RUN_NS 10000000ull /* 10 ms: the vCPU added ran, it may end the guest */
#define DEBUG_GAP_AFTER_END_NS 1000000ull  /* 1 ms: the end's stops go out first */

/* hv.cfg debug_restart_add_gap (restart.h): after adding v, until the
 * guest's end is claimed, or v was seen running and 10 ms passed (a vCPU
 * that does not end it: the next is added), at most 1 s; once the end is
 * claimed, 1 ms after each further addition. Waits on events, not on a
 * fixed time, so a loaded host (another CPU's thread descheduled) does
 * not make the race pass by. Interrupts are off and the restart lock
 * held, as for the additions themselves; a debug key only. */
static bool debug_gap_after_addition(struct guest *g, const struct vcpu *v, uint32_t added,
                                     bool end_seen)
{
    uint64_t now = time_now_ns();
    bool ran = false;
    uint64_t until = now + (end_seen ? DEBUG_GAP_AFTER_END_NS : DEBUG_GAP_WAIT_MAX_NS);
    while (now < until) {
        if (!end_seen && __atomic_load_n(&g->end, __ATOMIC_ACQUIRE) != GUEST_ALIVE) {
            end_seen = true;
            until = now + DEBUG_GAP_AFTER_END_NS;
            if (added < g->vcpu_count)
                log_info("debug: guest %s ended while its restart had added %u of %u vCPU(s)",
                         g->name, added, g->vcpu_count);
        } else if (!end_seen && !ran &&
                   __atomic_load_n(&v->state, __ATOMIC_RELAXED) == VCPU_RUNNING) {
            ran = true;
            until = now + DEBUG_GAP_AFTER_RUN_NS;
        }
        cpu_relax(); /* a wait for another CPU: pause (under -icount the CPUs take turns) */
        now = time_now_ns();
    }
    return end_seen;
}

static void running_again(struct guest *g)
{
    /* Not ended any more: cleared before it can end again, or the reaper
     * would see its last end's number, one its grace periods are past, on
     * a guest alive again (hv/guest/guest_end.c, reap_guests). */
    __atomic_store_n(&g->end_seq, 0, __ATOMIC_RELEASE);
    /* Its vCPUs are added below while the first may already run and end
     * it: an end waits for the last addition (hv/guest/guest_end.c). Set
     * before it is alive, so an end that sees it alive sees this too. */
    __atomic_store_n(&g->vcpus_adding, true, __ATOMIC_SEQ_CST);
    __atomic_store_n(&g->end, GUEST_ALIVE, __ATOMIC_RELEASE);
    g->exit_status = 0;
    g->end_reason[0] = '\0';
    g->restart_stage = RESTART_NONE;
    g->vcpus_alive = g->vcpu_count;
    guest_restart_reaped();
    TRACE_GUEST(TR_DOM_RESTART, g, g->restarts);
    /* The new life starts from exactly the frames the first did: a
     * rebuild that took more or fewer would grow or shrink with each
     * restart (the soak's "free frames the same after each restart"). */
    if (g->mem.used != g->kept->built_frames)
        log_error("guest %s: leak: %lu frames at restart, %lu at start", g->name,
                  (unsigned long)g->mem.used, (unsigned long)g->kept->built_frames);
    bool end_seen = false; /* debug_restart_add_gap's */
    for (uint32_t i = 0; i < g->vcpu_count; i++) {
        sched_add(g->vcpus[i]);
        if (restart_debug_add_gap)
            end_seen = debug_gap_after_addition(g, g->vcpus[i], i + 1, end_seen);
    }
    __atomic_store_n(&g->vcpus_adding, false, __ATOMIC_RELEASE);
    log_info("guest %s: restarted from its image (sha256 checked), restart %u", g->name,
             g->restarts);
}

static bool map_step(struct guest *g)
{
    struct guest_kept_image *k = g->kept;
    if (k->later_next < k->later_count) {
        const struct guest_later_map *m =
            &k->later[array_index_nospec(k->later_next, GUEST_KEPT_LATER_MAX)];
        uint64_t left = m->bytes - k->later_done;
        uint64_t bytes = left < HEAP_STEP_PAGES * 4096ULL ? left : HEAP_STEP_PAGES * 4096ULL;
        if (guest_map_zeroed(g, m->va + k->later_done, bytes, m->flags) != 0) {
            abandon_locked(g, "restart failed: its stacks or heap could not be mapped");
            return false;
        }
        k->later_done += bytes;
        if (k->later_done == m->bytes) {
            k->later_next++;
            k->later_done = 0;
        }
        return false;
    }
    running_again(g);
    return true;
}

static bool step_locked(struct guest *g)
{
    if (g->restart_stage == RESTART_VERIFYING)
        return verify_step(g);
    if (g->restart_stage == RESTART_LOADING)
        return load_step(g);
    if (g->restart_stage == RESTART_MAPPING)
        return map_step(g);
    /* Given up meanwhile (restart_abandon on another CPU, between the
     * reaper's unlocked read of the stage and this lock): nothing to build.
     * A build piece now would make vCPUs or map pages for a guest that is
     * being torn down (the attack review of session 14's restart steps). */
    if (g->restart_stage != RESTART_BUILDING)
        return false;
    char why[160];
    bool done = false;
    if (!loader_rebuild_step(g, &done, why, sizeof(why))) {
        char reason[112];
        fmt_format(reason, sizeof(reason), "restart failed: %s", why);
        abandon_locked(g, reason);
        return false;
    }
    if (done)
        g->restart_stage = RESTART_MAPPING;
    return false;
}

bool restart_step(struct guest *g)
{
    steps_made++;
    bool running = false;
    uint64_t irq = spin_lock_irqsave_at(&g->restart_lock, LOCK_RESTART);
    if (g->kept->announce_due) /* a step of its own */
        announce_locked(g);
    else
        running = step_locked(g);
    spin_unlock_irqrestore_at(&g->restart_lock, LOCK_RESTART, irq);
    /* Its peers hear of it once the lock is given back: that takes each
     * peer's event-channel lock in turn. The idle loop that made this step
     * must not sleep past the vCPUs it added here (sched_add_here tells it
     * nothing): until the next interrupt, the screen's, up to 0.5 s. */
    if (running) {
        this_cpu()->sched.idle_kick = true;
        evtchn_guest_restarted(g);
    }
    return running;
}

void restart_report(void)
{
    if (steps_made)
        log_info("restarts: %lu step(s) after reaping, %lu byte(s) of kept images hashed again",
                 (unsigned long)steps_made, (unsigned long)bytes_hashed);
}
