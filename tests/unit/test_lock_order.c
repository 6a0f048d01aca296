/* hv/cpu/lock_order.h: the lock-order check's rule and its per-CPU mask
 * (a thread's here). */
#include "hv/cpu/lock_order.h"

#include "tests/unit/check.h"

__thread uint32_t lock_order_held_host;
static unsigned violations, last_level, last_held;
void lock_order_violation(unsigned level, unsigned held_level)
{
    violations++;
    last_level = level;
    last_held = held_level;
    /* hv panics; here the test goes on to the next check */
}

static void increasing_levels_are_allowed(void)
{
    CHECK_EQ_U64(lock_order_check(0, LOCK_RESTART), 0);
    uint32_t held = 1u << LOCK_RESTART | 1u << LOCK_MM;
    CHECK_EQ_U64(lock_order_check(held, LOCK_EVTCHN), 0);
    CHECK_EQ_U64(lock_order_check(held, LOCK_FRAMES), 0);
    CHECK_EQ_U64(lock_order_check(1u << LOCK_EVTCHN, LOCK_EVTCHN_SECOND), 0);
}

/* The same level twice (two guests' tables without the second level) or a
 * lower one after a higher: the highest level held that forbids it. */
static void same_or_lower_level_names_the_highest_held(void)
{
    CHECK_EQ_U64(lock_order_check(1u << LOCK_EVTCHN, LOCK_EVTCHN), LOCK_EVTCHN);
    CHECK_EQ_U64(lock_order_check(1u << LOCK_HEAP, LOCK_MM), LOCK_HEAP);
    CHECK_EQ_U64(lock_order_check(1u << LOCK_MM | 1u << LOCK_FRAMES | 1u << LOCK_CONSOLE,
                                  LOCK_EVTCHN),
                 LOCK_FRAMES);
    CHECK_EQ_U64(lock_order_check(1u << LOCK_RESTART, LOCK_RESTART), LOCK_RESTART);
}

static void names_every_level(void)
{
    CHECK_STR_EQ(lock_level_name(LOCK_MM), "mm_lock");
    CHECK_STR_EQ(lock_level_name(LOCK_FRAMES), "frames_lock");
    CHECK_STR_EQ(lock_level_name(LOCK_LEVELS), "?");
    for (unsigned l = LOCK_RESTART; l < LOCK_LEVELS; l++)
        CHECK(lock_level_name(l)[0] != '?');
}

/* The mask follows takes and gives; a wrong order is reported with both
 * levels, and the mask is clear again once everything is given back. */
static void mask_tracks_takes_and_gives(void)
{
    struct spinlock a = {0}, b = {0};
    lock_order_held_host = 0;
    violations = 0;
    spin_lock_at(&a, LOCK_MM);
    spin_lock_at(&b, LOCK_CONSOLE);
    CHECK_EQ_U64(lock_order_held_host, 1u << LOCK_MM | 1u << LOCK_CONSOLE);
    spin_unlock_at(&b, LOCK_CONSOLE);
    spin_unlock_at(&a, LOCK_MM);
    CHECK_EQ_U64(lock_order_held_host, 0);
    CHECK_EQ_U64(violations, 0);
    spin_lock_at(&b, LOCK_CONSOLE);
    spin_lock_at(&a, LOCK_RESTART); /* the wrong way round */
    CHECK_EQ_U64(violations, 1);
    CHECK_EQ_U64(last_level, LOCK_RESTART);
    CHECK_EQ_U64(last_held, LOCK_CONSOLE);
    spin_unlock_at(&a, LOCK_RESTART);
    spin_unlock_at(&b, LOCK_CONSOLE);
    CHECK_EQ_U64(lock_order_held_host, 0);
}

int main(void)
{
    check_suite = "lock_order";
    RUN_TEST(increasing_levels_are_allowed);
    RUN_TEST(same_or_lower_level_names_the_highest_held);
    RUN_TEST(names_every_level);
    RUN_TEST(mask_tracks_takes_and_gives);
    return check_finish();
}
