/* The direct hand-off (docs/design.md, "The direct hand-off"): a native
 * event send (hc_evtchn_send) whose wake-up gives the CPU at once to a
 * blocked vCPU of another guest on this CPU switches to it on the send's
 * way out, without the round robin, the pick and the general decision's
 * other work. Allowed only around evtchn_send (one port, one wake-up);
 * the wake-up side is wake.c's, the switch sched.c's. */
#pragma once

#include <stddef.h>

#include "hv/cpu/percpu.h"

#ifdef HANDOFF_HOST
/* Host unit tests of evtchn.c (tests/unit/evtchn.mk): no GS, no
 * scheduler; the fixture's stubs record the calls. */
void sched_handoff_arm(void);
void sched_handoff_done(void);
#else
/* Through GS, like the entry code's fields (percpu.h): the send keeps no
 * register for this CPU's area across its raise (event_self's send, which
 * raises no other guest's port, stays as it was). */
#define SCHED_HANDOFF_ARMED offsetof(struct percpu, sched.handoff_armed)
#define SCHED_HANDOFF offsetof(struct percpu, sched.handoff)

/* The send that follows may choose a hand-off. */
static inline void sched_handoff_arm(void)
{
    __asm__ volatile("movb $1, %%gs:%c0" : : "i"(SCHED_HANDOFF_ARMED) : "memory");
}

/* After the send's raise: if its wake-up chose a hand-off, puts the
 * send's result (0) in the sender's frame and leaves to the woken vCPU,
 * or, when something the fast path does not handle came up, hands the
 * wake-up to the general path (the return's decision) and returns. */
void sched_handoff_leave(void);
static inline void sched_handoff_done(void)
{
    struct vcpu *chosen;
    __asm__ volatile("movb $0, %%gs:%c1; mov %%gs:%c2, %0"
                     : "=r"(chosen)
                     : "i"(SCHED_HANDOFF_ARMED), "i"(SCHED_HANDOFF)
                     : "memory");
    if (chosen)
        sched_handoff_leave();
}
#endif
