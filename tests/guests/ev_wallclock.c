/* The wall clock: prints UTC now (hvg_wallclock: the firmware's time at
 * system time 0 plus system time) in a line the system test compares with
 * the host's clock (tests/system/ev_cases.py; run without -icount, where
 * QEMU's RTC follows the host). Checks what it can alone: the clock is
 * valid, after 2020, and advances with system time across a 100 ms sleep. */
#include "ev_common.h"

#define YEAR_2020 1577836800ull

/* The wall clock and the system time of one instant: read between two
 * system-time readings, again while they are more than 50 us apart (the
 * guest was preempted between them: beside other guests on one CPU, that
 * is a slice or more, which the 1 ms check below would take for the
 * clock's error). Returns the wall clock's result and the middle reading. */
static int64_t wallclock_at(uint64_t *sec, uint32_t *nsec, uint64_t *now)
{
    int64_t r = 0;
    for (int tries = 0; tries < 100; tries++) {
        uint64_t before = hvg_now();
        r = hvg_wallclock(sec, nsec);
        uint64_t after = hvg_now();
        *now = before + (after - before) / 2;
        if (after - before <= HVG_US(50))
            break;
    }
    return r;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    EV_MUST(hvg_events_init(vcpu));

    uint64_t sec0 = 0, sec1 = 0;
    uint32_t nsec0 = 0, nsec1 = 0;
    uint64_t now0 = 0, now1 = 0;
    int64_t r = wallclock_at(&sec0, &nsec0, &now0);
    hvg_printf("%s: wallclock %llu.%09u (system time %llu ns)\n", pv_name,
               (unsigned long long)sec0, nsec0, (unsigned long long)now0);
    expect_eq("the firmware gave hv a clock (wall_valid)", r, 0);
    expect_true("after 2020", sec0 > YEAR_2020);
    expect_true("nsec below a second", nsec0 < HVG_NS_PER_SEC);
    volatile struct hv_time_info *t = &hvg_shared()->time;
    expect_true("wall_nsec below a second in the shared page", t->wall_nsec < HVG_NS_PER_SEC);

    expect_eq("sleep 100 ms", hvg_sleep_until(vcpu, hvg_now() + HVG_MS(100)), 0);
    wallclock_at(&sec1, &nsec1, &now1);
    uint64_t wall_ns = (sec1 - sec0) * HVG_NS_PER_SEC + (uint64_t)nsec1 - (uint64_t)nsec0;
    uint64_t sys_ns = now1 - now0;
    uint64_t diff = wall_ns > sys_ns ? wall_ns - sys_ns : sys_ns - wall_ns;
    hvg_printf("%s: wall clock advanced %llu ns, system time %llu ns\n", pv_name,
               (unsigned long long)wall_ns, (unsigned long long)sys_ns);
    expect_true("the wall clock advances with system time (within 1 ms)",
                sys_ns >= HVG_MS(100) && diff <= HVG_MS(1));
    return pv_finish();
}
