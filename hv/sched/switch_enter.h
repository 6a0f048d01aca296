/* The end of the scheduler's direct paths that switch from one vCPU to
 * another (sched_direct.c's send hand-off, sched_handback.c's way back):
 * the switch, the upcall if one is due, the exit. Inline in each: the
 * switch is on every event_cross_guest sample (make bench). */
#pragma once

#include "hv/sched/sched_return.h"
#include "hv/sched/sched_switch.h"
#include "vcpu/deliver.h"

static inline __attribute__((always_inline, noreturn)) void switch_and_enter(struct percpu *cpu,
                                                                           struct vcpu *next,
                                                                           uint64_t now)
{
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
