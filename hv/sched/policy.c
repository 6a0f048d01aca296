/* The scheduler's pure decisions, unit-tested on the host. */
#include "hv/sched/sched.h"

uint64_t sched_slice_for_weight(uint32_t weight)
{
    uint64_t slice = SCHED_SLICE_NS * weight / 256;
    if (slice < SCHED_SLICE_NS / 10)
        slice = SCHED_SLICE_NS / 10;
    if (slice > SCHED_SLICE_NS * 10)
        slice = SCHED_SLICE_NS * 10;
    return slice;
}
