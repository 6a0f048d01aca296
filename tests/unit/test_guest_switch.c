/* hv/sched/guest_switch.h: which switches cross from one guest to another
 * (and so get IBPB and the RSB fill). */
#include "check.h"
#include "hv/sched/guest_switch.h"

static void the_first_guest_after_boot_crosses(void)
{
    struct guest_switch s = {0};
    /* Guest 0 is a real id (hv counts from 0): not "nobody". */
    CHECK(guest_switch_crosses(&s, 0));
    CHECK(!guest_switch_crosses(&s, 0));
}

static void vcpus_of_one_guest_do_not_cross(void)
{
    struct guest_switch s = {0};
    CHECK(guest_switch_crosses(&s, 7));
    /* The scheduler passes the guest's id: vCPU 0, 1, 0 of guest 7. */
    CHECK(!guest_switch_crosses(&s, 7));
    CHECK(!guest_switch_crosses(&s, 7));
}

static void idle_and_back_to_the_same_guest_does_not_cross(void)
{
    struct guest_switch s = {0};
    CHECK(guest_switch_crosses(&s, 3));
    /* Idle runs no guest code: the switch path is not taken for it, so
     * the next call is the return to guest 3. */
    CHECK(!guest_switch_crosses(&s, 3));
}

static void every_change_of_guest_crosses(void)
{
    struct guest_switch s = {0};
    static const uint32_t order[] = {1, 2, 1, 1, 3, 2, 2, 1};
    static const bool crosses[] = {true, true, true, false, true, true, false, true};
    for (unsigned i = 0; i < sizeof(order) / sizeof(order[0]); i++)
        CHECK(guest_switch_crosses(&s, order[i]) == crosses[i]);
}

static void ids_far_apart_are_told_apart(void)
{
    struct guest_switch s = {0};
    CHECK(guest_switch_crosses(&s, UINT32_MAX));
    CHECK(guest_switch_crosses(&s, 0));
    CHECK(guest_switch_crosses(&s, UINT32_MAX));
    CHECK(!guest_switch_crosses(&s, UINT32_MAX));
}

int main(void)
{
    check_suite = "guest_switch";
    RUN_TEST(the_first_guest_after_boot_crosses);
    RUN_TEST(vcpus_of_one_guest_do_not_cross);
    RUN_TEST(idle_and_back_to_the_same_guest_does_not_cross);
    RUN_TEST(every_change_of_guest_crosses);
    RUN_TEST(ids_far_apart_are_told_apart);
    return check_finish();
}
