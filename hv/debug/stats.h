/* The statistics line (hv.cfg `[hv] stats_every_s = N`; make soak reads
 * it, tests/system/soak.py): once every N seconds of hv's clock, from the
 * timer interrupt, one line
 *
 *   hv: stats: t=60s restarts=R restarting=G free_frames=F guest_frames=C
 *       kmalloc_pages=K shm_frames=S unaccounted_frames=0 kmalloc_bytes=B
 *       unaccounted_bytes=0 events=E late_max_ns=L late_run_max_ns=M
 *       waited_looks=W
 *
 * (one line in the log): restarts made in all and guests between an end
 * and their next life; hv's frame and kmalloc account (hv/guest/leak_check.h:
 * free frames, frames charged to guests, taken by kmalloc since the first
 * guest, held by [shm] regions, and what none of them explains, which must
 * be 0; the same for kmalloc bytes); events made pending since the start
 * (hv/event/evtchn.c, a port going from clear to pending: a raise onto an
 * event already pending is not counted, as the guest sees one); the worst
 * lateness of a vCPU timer since the last line and in the whole run
 * (hv/sched/vtimer.c: when hv expired it minus its deadline); how many
 * looks at the account the line waited for one that balances (stats.c: a
 * look can catch another CPU mid-step; a difference that stays is printed).
 * Counters are per CPU (hv/debug/stats_cpu.h) and the line sums them. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/debug/stats_cpu.h"

extern uint64_t stats_next_due; /* hv time of the next line; 0: no lines */

#ifdef STATS_HOST_COUNTERS
/* Host unit tests (tests/unit/evtchn.mk): one set, no GS. */
extern struct cpu_stats stats_host;
static inline struct cpu_stats *stats_this_cpu(void)
{
    return &stats_host;
}
static inline void stats_event_pending(void)
{
    stats_host.events++;
}
#else
#include <stddef.h>

#include "hv/cpu/percpu.h"

static inline struct cpu_stats *stats_this_cpu(void)
{
    return &this_cpu()->stats;
}

/* An unbound port's raise is not an event; one that becomes pending is.
 * One instruction on this CPU's own counter: no locked operation, no line
 * shared with another CPU. */
static inline void stats_event_pending(void)
{
    __asm__ volatile("incq %%gs:%c0" : : "i"(offsetof(struct percpu, stats.events)) : "cc");
}
#endif

static inline void stats_timer_late(uint64_t late_ns)
{
    struct cpu_stats *s = stats_this_cpu();
    if (late_ns > s->late_max_ns)
        s->late_max_ns = late_ns;
}

/* Before the first guest runs: a line every `every_s` seconds (0: none). */
void stats_start(uint32_t every_s);
/* From the timer interrupt once stats_next_due has passed: the line. */
void stats_line(uint64_t now);
/* hv.cfg debug_leak_on_end = mid_step: the first line's first look counts
 * 64 bytes unlinked (tests/system/smp4_cases.py). */
void stats_debug_mid_step(bool on);
