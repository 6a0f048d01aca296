/* The run-state times of a vCPU in its guest's shared page: the guest's
 * virtual time (include/hv/abi_event.h). Inline: every switch enters two
 * run states (the one leaving, the one coming). */
#pragma once

#include <stdint.h>

#include "hv/guest/guest.h"
#include "hv/debug/trace.h"
#include "include/hv/abi.h"
#include "vcpu/vcpu.h"

static inline void runstate_enter(struct vcpu *v, uint32_t state, uint64_t now)
{
    TRACE_VCPU_AT(TR_RUNSTATE, v, state, now);
    struct hv_shared_info *shared = v->guest->shared;
    if (!shared)
        return;
    struct hv_runstate *rs = &shared->runstate[v->id];
    /* Odd while changing, so a guest reading concurrently (another of its
     * vCPUs, on a later SMP hv) retries. */
    __atomic_add_fetch(&rs->version, 1, __ATOMIC_SEQ_CST);
    /* The page is the guest's to write: a state it made up indexes nothing. */
    uint64_t since = rs->state_entry_ns;
    uint32_t was = rs->state;
    if (since && now > since && was < 4)
        rs->time_ns[was] += now - since;
    rs->state = state;
    rs->state_entry_ns = now;
    __atomic_add_fetch(&rs->version, 1, __ATOMIC_SEQ_CST);
}
