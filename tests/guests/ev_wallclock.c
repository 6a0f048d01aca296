/* The wall clock: prints UTC now (hvg_wallclock: the firmware's time at
 * system time 0 plus system time) in a line the system test compares with
 * the host's clock (tests/system/ev_cases.py; run without -icount, where
 * QEMU's RTC follows the host). Checks what it can alone: the clock is
 * valid, after 2020, and advances with system time across a 100 ms sleep. */
#include "ev_common.h"

#define YEAR_2020 1577836800ull

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    EV_MUST(hvg_events_init(vcpu));

    uint64_t sec0 = 0, sec1 = 0;
    uint32_t nsec0 = 0, nsec1 = 0;
    int64_t r = hvg_wallclock(&sec0, &nsec0);
    uint64_t now0 = hvg_now();
    hvg_printf("%s: wallclock %llu.%09u (system time %llu ns)\n", pv_name,
               (unsigned long long)sec0, nsec0, (unsigned long long)now0);
    expect_eq("the firmware gave hv a clock (wall_valid)", r, 0);
    expect_true("after 2020", sec0 > YEAR_2020);
    expect_true("nsec below a second", nsec0 < HVG_NS_PER_SEC);
    volatile struct hv_time_info *t = &hvg_shared()->time;
    expect_true("wall_nsec below a second in the shared page", t->wall_nsec < HVG_NS_PER_SEC);

    expect_eq("sleep 100 ms", hvg_sleep_until(vcpu, hvg_now() + HVG_MS(100)), 0);
    hvg_wallclock(&sec1, &nsec1);
    uint64_t now1 = hvg_now();
    uint64_t wall_ns = (sec1 - sec0) * HVG_NS_PER_SEC + (uint64_t)nsec1 - (uint64_t)nsec0;
    uint64_t sys_ns = now1 - now0;
    uint64_t diff = wall_ns > sys_ns ? wall_ns - sys_ns : sys_ns - wall_ns;
    hvg_printf("%s: wall clock advanced %llu ns, system time %llu ns\n", pv_name,
               (unsigned long long)wall_ns, (unsigned long long)sys_ns);
    expect_true("the wall clock advances with system time (within 1 ms)",
                sys_ns >= HVG_MS(100) && diff <= HVG_MS(1));
    return pv_finish();
}
