#include "hv/debug/stats.h"

#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/guest/leak_check.h"
#include "hv/time/time.h"

uint64_t stats_next_due;

static uint64_t interval_ns, started_ns, late_run_max_ns;

/* Every running CPU's counters, by index. */
static struct cpu_stats *cpu_stats_all[PERCPU_MAX];

static uint32_t every_cpu_stats(void)
{
    uint32_t n = __atomic_load_n(&percpu_count, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n && i < PERCPU_MAX; i++)
        cpu_stats_all[i] = percpu_by_index[i] ? &percpu_by_index[i]->stats : NULL;
    return n < PERCPU_MAX ? n : PERCPU_MAX;
}

void stats_start(uint32_t every_s)
{
    if (!every_s)
        return;
    interval_ns = every_s * 1000000000ULL;
    started_ns = time_now_ns();
    stats_next_due = started_ns + interval_ns;
    log_info("stats: every %u s", every_s);
}

/* A look at hv's account can catch another CPU mid-step (a frame taken
 * from the pool and not yet charged, a block kmalloc'd and not yet linked:
 * hv/guest/leak_check.c), so the line does not print such a look: it looks
 * again STATS_WAIT_NS later, up to STATS_WAIT_LOOKS times, as the leak
 * check holds its looks until one balances. A step is bounded work (a few
 * microseconds), so the next look balances; a difference still there after
 * the last look is no step but a leak, and the line prints it. The line
 * says how many looks it waited (`waited_looks=`). Also on one CPU: a
 * timer interrupt taken in the console drain (interrupts on) is no
 * moment of its own guests' steps, but the wait costs nothing there. */
#define STATS_WAIT_NS 1000000ULL
#define STATS_WAIT_LOOKS 50

static uint64_t line_due;     /* the due time of the line being waited for; 0: none */
static uint32_t looks_waited; /* this line's looks that did not balance */
static bool debug_mid_step_once;

void stats_debug_mid_step(bool on)
{
    debug_mid_step_once = on;
}

void stats_line(uint64_t now)
{
    if (!line_due)
        line_due = stats_next_due;
    struct leak_account a;
    bool have = leak_account(&a);
    if (have && debug_mid_step_once) {
        /* hv.cfg debug_leak_on_end = mid_step: the first line's first look
         * sees 64 bytes not yet linked, as another CPU's hypercall would
         * leave them (leak_check.h). */
        debug_mid_step_once = false;
        a.unaccounted_bytes += 64;
        log_warn("debug: 64 kmalloc bytes counted unlinked for the statistics line's look");
    }
    if (have && (a.unaccounted_frames || a.unaccounted_bytes) && looks_waited < STATS_WAIT_LOOKS) {
        looks_waited++;
        stats_next_due = now + STATS_WAIT_NS;
        return;
    }
    /* The next line is due one interval after this one was, not after
     * now: lines stay on the minute however late the interrupt came. A
     * whole interval missed (hv held off that long) is skipped, and the
     * judge sees the gap. */
    stats_next_due = line_due;
    line_due = 0;
    while (stats_next_due <= now)
        stats_next_due += interval_ns;
    uint32_t waited = looks_waited;
    looks_waited = 0;
    if (!have)
        return;
    uint64_t events, late;
    stats_cpu_sum((struct cpu_stats *const *)cpu_stats_all, every_cpu_stats(), &events, &late);
    if (late > late_run_max_ns)
        late_run_max_ns = late;
    log_info("stats: t=%lus restarts=%u restarting=%u free_frames=%lu guest_frames=%lu "
             "kmalloc_pages=%lu shm_frames=%lu unaccounted_frames=%ld kmalloc_bytes=%lu "
             "unaccounted_bytes=%ld events=%lu late_max_ns=%lu late_run_max_ns=%lu "
             "waited_looks=%u",
             (unsigned long)((now - started_ns) / 1000000000ULL), a.restarts, a.restarting,
             (unsigned long)a.free, (unsigned long)a.guest_frames,
             (unsigned long)a.kmalloc_pages, (unsigned long)a.shm_frames,
             (long)a.unaccounted_frames, (unsigned long)a.kmalloc_bytes,
             (long)a.unaccounted_bytes, (unsigned long)events, (unsigned long)late,
             (unsigned long)late_run_max_ns, waited);
}
