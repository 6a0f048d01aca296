/* The ARINC 653-style partition schedule (hv.cfg [schedule], the plan
 * itself in hv/sched/partition.c): whose window it is, looked up by
 * guest name once when the schedule starts. */
#include "guest-loader/guest_params.h"
#include "hv/console/log.h"
#include "hv/debug/trace.h"
#include "hv/guest/guest.h"
#include "hv/sched/partition.h"
#include "hv/sched/sched.h"
#include "hv/sched/sched_internal.h"
#include "hv/time/time.h"

static struct partition_plan plan;
static struct guest *window_owner[PARTITION_MAX_WINDOWS];
static uint64_t plan_start;
bool sched_partitioned;

/* Whose window it is now (NULL: a gap, or no such guest); sets the next
 * boundary. Only with a plan (sched_partitioned). */
struct guest *sched_window_owner(uint64_t now)
{
    uint64_t until;
    const struct partition_window *w = partition_at(&plan, now - plan_start, this_cpu()->index, &until);
    sched_this()->window_boundary = now + until;
    TRACE_WINDOW(w ? (long)(w - plan.w) : -1L, now);
    return w ? window_owner[w - plan.w] : NULL;
}

void sched_set_partitions(const struct partition_plan *p)
{
    plan = *p;
    sched_partitioned = plan.enabled;
    plan_start = time_now_ns();
    for (unsigned i = 0; i < plan.count; i++) {
        window_owner[i] = NULL;
        for (struct guest *g = guest_list(); g; g = g->next)
            if (g->end == GUEST_ALIVE && guest_name_equal(g->name, plan.w[i].guest))
                window_owner[i] = g;
        if (!window_owner[i])
            log_warn("schedule: no guest %s for the window at %lu ms; it stays idle",
                     plan.w[i].guest, (unsigned long)(plan.w[i].offset_ns / 1000000));
        else if (plan.w[i].cpu != PARTITION_EVERY_CPU &&
                 !(sched_guest_cpus() >> plan.w[i].cpu & 1))
            log_warn("schedule: the window at %lu ms names CPU %d, which runs no guests; it "
                     "never holds", (unsigned long)(plan.w[i].offset_ns / 1000000), plan.w[i].cpu);
    }
    log_info("schedule: partitioned, major frame %lu ms, %u window(s), from system time %lu ns",
             (unsigned long)(plan.major_frame_ns / 1000000), plan.count,
             (unsigned long)plan_start);
}

const struct partition_plan *sched_partition_plan(uint64_t *start)
{
    *start = plan_start;
    return sched_partitioned ? &plan : NULL;
}
