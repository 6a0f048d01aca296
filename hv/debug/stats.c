#include "hv/debug/stats.h"

#include "hv/console/log.h"
#include "hv/guest/leak_check.h"
#include "hv/time/time.h"

uint64_t stats_events;
uint64_t stats_late_max_ns;
uint64_t stats_next_due;

static uint64_t interval_ns, started_ns, late_run_max_ns;

void stats_start(uint32_t every_s)
{
    if (!every_s)
        return;
    interval_ns = every_s * 1000000000ULL;
    started_ns = time_now_ns();
    stats_next_due = started_ns + interval_ns;
    stats_late_max_ns = 0;
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
    uint64_t late = stats_late_max_ns;
    stats_late_max_ns = 0;
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
             (long)a.unaccounted_bytes, (unsigned long)stats_events, (unsigned long)late,
             (unsigned long)late_run_max_ns);
}
