/* The end of the scheduler's direct paths that enter a vCPU: from another
 * vCPU (sched_direct.c's send hand-off, sched_handback.c's way back: the
 * switch, the upcall if one is due, the exit) and from the idle loop
 * (sched_direct.c's `sched_idle_enter`, idle_timer.c's timer path: the
 * upcall and the exit after their own switch). Inline in each: the switch
 * is on every event_cross_guest sample, the idle entry on every
 * timer_deadline_late one (make bench). */
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

/* v's entry frame `out` is loaded and v is RUNNING: the upcall if one is
 * due, then the exit. Should the upcall not be delivered and v's guest
 * end, decide again, as sched_return_with_work's loop would, on a fresh
 * stack: the one in use holds the idle loop the CPU left. */
static inline __attribute__((always_inline, noreturn)) void enter_from_idle(struct vcpu *v,
                                                                          struct trap_frame *out)
{
    if (sched_upcall_due(v))
        deliver_to_kernel(v, out, v->ev.upcall, DELIVER_WHAT(DELIVERY_UPCALL) | DELIVER_MASK_EVENTS);
    if (v->state == VCPU_RUNNING)
        leave_from(out);
    __asm__ volatile("mov %%gs:%c[top], %%rsp\n\t"
                     "call sched_return_with_work\n\t"
                     "ud2" ::"D"(out), [top] "i"(PERCPU_STACK_TOP) : "memory");
    __builtin_unreachable();
}
