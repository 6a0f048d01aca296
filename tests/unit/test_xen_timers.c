/* A Xen vCPU's timers on hv's one vCPU timer (hv/xen/xen_timers.h): the
 * deadline armed is the earliest of the single-shot timer, the periodic
 * timer (only with VIRQ_TIMER bound) and a poll's timeout; what is due
 * sends VIRQ_TIMER once, a late periodic tick is one tick, a poll's
 * timeout sends nothing. */
#include "hv/xen/xen_timers.h"

#include "tests/unit/check.h"

#define MS 1000000ull

static void earliest_is_armed(void)
{
    struct xen_timers t = {.single = 50 * MS, .period = 10 * MS, .poll = 30 * MS};
    CHECK_EQ_U64(xen_timers_next(&t, true, 5 * MS), 15 * MS); /* the period counts from now */
    CHECK_EQ_U64(t.periodic_next, 15 * MS);
    t.period = 0;
    CHECK_EQ_U64(xen_timers_next(&t, true, 5 * MS), 30 * MS); /* stopped: poll first */
    CHECK_EQ_U64(t.periodic_next, 0);
    t.poll = 0;
    CHECK_EQ_U64(xen_timers_next(&t, true, 5 * MS), 50 * MS);
    t.single = 0;
    CHECK_EQ_U64(xen_timers_next(&t, true, 5 * MS), 0); /* nothing: no interrupt */
}

static void unbound_only_the_poll(void)
{
    struct xen_timers t = {.single = 50 * MS, .period = 10 * MS, .poll = 0};
    CHECK_EQ_U64(xen_timers_next(&t, false, 5 * MS), 0);
    CHECK_EQ_U64(t.periodic_next, 0); /* not counting until bound */
    t.poll = 70 * MS;
    CHECK_EQ_U64(xen_timers_next(&t, false, 5 * MS), 70 * MS);
}

static void due_sends_once(void)
{
    struct xen_timers t = {.single = 20 * MS};
    CHECK(!xen_timers_take_due(&t, 19 * MS));
    CHECK_EQ_U64(t.single, 20 * MS);
    CHECK(xen_timers_take_due(&t, 20 * MS));
    CHECK_EQ_U64(t.single, 0);
    CHECK(!xen_timers_take_due(&t, 30 * MS)); /* once */
}

static void late_periodic_is_one_tick(void)
{
    struct xen_timers t = {.period = 10 * MS, .periodic_next = 10 * MS};
    CHECK(xen_timers_take_due(&t, 95 * MS)); /* nine periods late: one tick */
    CHECK_EQ_U64(t.periodic_next, 105 * MS);
    CHECK(!xen_timers_take_due(&t, 100 * MS));
    /* Both due together: still one VIRQ_TIMER (one port, one pending bit). */
    t.single = 105 * MS;
    CHECK(xen_timers_take_due(&t, 106 * MS));
    CHECK_EQ_U64(t.single, 0);
    CHECK_EQ_U64(t.periodic_next, 116 * MS);
}

static void poll_timeout_sends_nothing(void)
{
    struct xen_timers t = {.single = 90 * MS, .poll = 40 * MS};
    CHECK(!xen_timers_take_due(&t, 40 * MS));
    CHECK_EQ_U64(t.poll, 0);
    CHECK_EQ_U64(t.single, 90 * MS); /* the single-shot timer stays */
    CHECK_EQ_U64(xen_timers_next(&t, true, 40 * MS), 90 * MS);
}

static void hostile_values_do_not_wrap(void)
{
    /* The largest period VCPUOP takes (2^63 - 1) from a late start: the
     * next tick is past now, never wrapped below it. */
    struct xen_timers t = {.period = (1ull << 63) - 1};
    uint64_t now = 1ull << 40;
    CHECK_EQ_U64(xen_timers_next(&t, true, now), now + (1ull << 63) - 1);
    CHECK(t.periodic_next > now);
    struct xen_timers s = {.single = ~0ull};
    CHECK_EQ_U64(xen_timers_next(&s, true, now), ~0ull);
    CHECK(!xen_timers_take_due(&s, now));
}

int main(void)
{
    check_suite = "xen_timers";
    RUN_TEST(earliest_is_armed);
    RUN_TEST(unbound_only_the_poll);
    RUN_TEST(due_sends_once);
    RUN_TEST(late_periodic_is_one_tick);
    RUN_TEST(poll_timeout_sends_nothing);
    RUN_TEST(hostile_values_do_not_wrap);
    return check_finish();
}
