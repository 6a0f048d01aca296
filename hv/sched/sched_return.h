/* The return to a guest that has nothing to do but return: what every
 * hypercall, exception and interrupt ends with when no decision, timer
 * change or upcall is due. Inline for the hypercall path (vcpu/syscall.c);
 * everything else calls sched_return_to_guest (hv/sched/sched.h), which is
 * this. */
#pragma once

#include <stdbool.h>

#include "hv/cpu/percpu.h"
#include "hv/cpu/trap.h"
#include "hv/guest/guest.h"
#include "vcpu/vcpu.h"

/* The rest: a decision (and perhaps a switch or the idle loop), the timer,
 * an upcall (sched.c). */
void sched_return_with_work(struct trap_frame *f);

/* Events wait for v, are not masked, and it has an entry to take them: the
 * return enters its upcall as an interrupt would. upcall_pending and
 * upcall_mask are the guest's to write: read once each. */
static inline bool sched_upcall_due(const struct vcpu *v)
{
    const volatile struct hv_vcpu_shared *vs = &v->guest->shared->vcpu[v->id];
    return vs->upcall_pending && !vs->upcall_mask && v->ev.upcall;
}

static inline void sched_return_inline(struct trap_frame *f)
{
    struct percpu *cpu = this_cpu();
    struct vcpu *cur = cpu->current;
    if (cpu->need_resched || !cur || cur->state != VCPU_RUNNING || cpu->slice_cut ||
        sched_upcall_due(cur))
        sched_return_with_work(f);
    /* The one place every return to a guest passes, whoever wrote the
     * frame (an iret frame, a switch, a bounce, an interrupted guest's own
     * flags): rflags as guests may have them (vcpu_sanitize_rflags). */
    f->rflags = vcpu_sanitize_rflags(f->rflags);
}
