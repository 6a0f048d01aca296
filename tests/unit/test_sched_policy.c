/* hv/sched/policy.c: weights become slices proportionally, within bounds. */
#include "check.h"
#include "hv/sched/sched.h"

static void default_weight_is_the_base_slice(void)
{
    CHECK_EQ_U64(sched_slice_for_weight(256), SCHED_SLICE_NS);
}

static void proportional_in_range(void)
{
    CHECK_EQ_U64(sched_slice_for_weight(512), 2 * SCHED_SLICE_NS);
    CHECK_EQ_U64(sched_slice_for_weight(768), 3 * SCHED_SLICE_NS);
    CHECK_EQ_U64(sched_slice_for_weight(128), SCHED_SLICE_NS / 2);
    /* Shares follow weights: 768:256 is 3:1. */
    CHECK_EQ_U64(sched_slice_for_weight(768) / sched_slice_for_weight(256), 3);
}

static void clamped_at_both_ends(void)
{
    CHECK_EQ_U64(sched_slice_for_weight(1), SCHED_SLICE_NS / 10);
    CHECK_EQ_U64(sched_slice_for_weight(0), SCHED_SLICE_NS / 10);
    CHECK_EQ_U64(sched_slice_for_weight(65535), SCHED_SLICE_NS * 10);
    CHECK_EQ_U64(sched_slice_for_weight(UINT32_MAX), SCHED_SLICE_NS * 10);
}

int main(void)
{
    check_suite = "sched_policy";
    RUN_TEST(default_weight_is_the_base_slice);
    RUN_TEST(proportional_in_range);
    RUN_TEST(clamped_at_both_ends);
    return check_finish();
}
