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

void stats_line(uint64_t now)
{
    /* The next line is due one interval after this one was, not after
     * now: lines stay on the minute however late the interrupt came. A
     * whole interval missed (hv held off that long) is skipped, and the
     * judge sees the gap. */
    while (stats_next_due <= now)
        stats_next_due += interval_ns;
    uint64_t events, late;
    stats_cpu_sum((struct cpu_stats *const *)cpu_stats_all, every_cpu_stats(), &events, &late);
    if (late > late_run_max_ns)
        late_run_max_ns = late;
    struct leak_account a;
    if (!leak_account(&a))
        return;
    log_info("stats: t=%lus restarts=%u restarting=%u free_frames=%lu guest_frames=%lu "
             "kmalloc_pages=%lu shm_frames=%lu unaccounted_frames=%ld kmalloc_bytes=%lu "
             "unaccounted_bytes=%ld events=%lu late_max_ns=%lu late_run_max_ns=%lu",
             (unsigned long)((now - started_ns) / 1000000000ULL), a.restarts, a.restarting,
             (unsigned long)a.free, (unsigned long)a.guest_frames,
             (unsigned long)a.kmalloc_pages, (unsigned long)a.shm_frames,
             (long)a.unaccounted_frames, (unsigned long)a.kmalloc_bytes,
             (long)a.unaccounted_bytes, (unsigned long)events, (unsigned long)late,
             (unsigned long)late_run_max_ns);
}
