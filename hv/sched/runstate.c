#include "hv/sched/runstate.h"

#include "hv/guest/guest.h"
#include "vcpu/vcpu.h"

void runstate_enter(struct vcpu *v, uint32_t state, uint64_t now)
{
    if (!v->guest->shared)
        return;
    struct hv_runstate *rs = &v->guest->shared->runstate[v->id];
    /* Odd while changing, so a guest reading concurrently (another of its
     * vCPUs, on a later SMP hv) retries. */
    __atomic_add_fetch(&rs->version, 1, __ATOMIC_SEQ_CST);
    if (rs->state_entry_ns && now > rs->state_entry_ns && rs->state < 4)
        rs->time_ns[rs->state] += now - rs->state_entry_ns;
    rs->state = state;
    rs->state_entry_ns = now;
    __atomic_add_fetch(&rs->version, 1, __ATOMIC_SEQ_CST);
}
