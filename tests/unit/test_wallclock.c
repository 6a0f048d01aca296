/* hv/time/wallclock.c: calendar dates to Unix time. */
#include "check.h"
#include "hv/time/wallclock.h"

static struct handoff_time at(uint16_t y, uint8_t mo, uint8_t d, uint8_t h, uint8_t mi, uint8_t s)
{
    return (struct handoff_time){.valid = true, .year = y, .month = mo, .day = d, .hour = h,
                                 .minute = mi, .second = s, .utc_offset_minutes = 2047};
}

static void known_dates(void)
{
    uint64_t sec;
    uint32_t ns;
    struct handoff_time t = at(1970, 1, 1, 0, 0, 0);
    CHECK(wallclock_to_epoch(&t, &sec, &ns));
    CHECK_EQ_U64(sec, 0);
    t = at(2000, 3, 1, 0, 0, 0); /* after a leap day in a year divisible by 400 */
    CHECK(wallclock_to_epoch(&t, &sec, &ns));
    CHECK_EQ_U64(sec, 951868800);
    t = at(2026, 11, 22, 17, 29, 5);
    CHECK(wallclock_to_epoch(&t, &sec, &ns));
    CHECK_EQ_U64(sec, 1795368545);
    t = at(2100, 3, 1, 12, 0, 0); /* 2100 is not a leap year */
    CHECK(wallclock_to_epoch(&t, &sec, &ns));
    CHECK_EQ_U64(sec, 4107585600ULL);
    t = at(2024, 2, 29, 23, 59, 59);
    CHECK(wallclock_to_epoch(&t, &sec, &ns));
    CHECK_EQ_U64(sec, 1709251199);
}

static void timezone_offset_applies(void)
{
    uint64_t sec;
    uint32_t ns;
    struct handoff_time t = at(2026, 1, 1, 1, 0, 0);
    t.utc_offset_minutes = 60; /* local = UTC + 1 h */
    CHECK(wallclock_to_epoch(&t, &sec, &ns));
    CHECK_EQ_U64(sec, 1767225600); /* 2026-01-01T00:00:00Z */
}

static void nonsense_refused(void)
{
    uint64_t sec;
    uint32_t ns;
    struct handoff_time bad[] = {at(1969, 12, 31, 0, 0, 0), at(2026, 13, 1, 0, 0, 0),
                                 at(2026, 0, 1, 0, 0, 0),   at(2026, 4, 31, 0, 0, 0),
                                 at(2026, 1, 1, 24, 0, 0),  at(2026, 1, 1, 0, 60, 0)};
    for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!wallclock_to_epoch(&bad[i], &sec, &ns));
    struct handoff_time invalid = at(2026, 1, 1, 0, 0, 0);
    invalid.valid = false;
    CHECK(!wallclock_to_epoch(&invalid, &sec, &ns));
}

int main(void)
{
    check_suite = "wallclock";
    RUN_TEST(known_dates);
    RUN_TEST(timezone_offset_applies);
    RUN_TEST(nonsense_refused);
    return check_finish();
}
