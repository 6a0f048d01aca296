/* A blocked guest accumulates no CPU time. Booted beside ev-spin-masked
 * (tests/system/ev_cases.py), which keeps the CPU busy with events masked:
 * ev-block sleeps on its timer (HV_CALL_BLOCK) for SLEEP_MS, several times,
 * and checks across each sleep that its running time (run-state) and its
 * cpu_time_ns (HV_CALL_VCPU_INFO) hardly grew, that the blocked time grew
 * by about the sleep, and that the four run-state times add up to the
 * elapsed time. Prints the figures. A first short sleep is not judged:
 * the first pass through the block, wake-up and upcall paths (hv's and
 * this guest's) is translated by QEMU's TCG then, milliseconds of wall
 * time counted as running that are no work of the guest (6.2 ms of the
 * first judged sleep's running time at SMP 4 with NMIs injected, 0.08 ms
 * of the next ones; entry_nmis_while_guests_run_and_hv_logs). */
#include "ev_common.h"

#define SLEEP_MS 200
#define SLEEPS 3
/* What waking up, the upcall and reading the clocks may cost in CPU time:
 * generous for TCG, far below the sleep. */
#define SLACK_NS HVG_MS(5)
#define WARM_UP_MS 10

static uint64_t cpu_time(unsigned vcpu)
{
    struct hv_vcpu_info info;
    memset(&info, 0, sizeof(info));
    hvg_vcpu_info(vcpu, &info);
    return info.cpu_time_ns;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    EV_MUST(hvg_events_init(vcpu));

    /* The warm-up: every figure read, as in a judged round, none judged. */
    (void)cpu_time(vcpu);
    (void)hvg_runstate(vcpu);
    expect_eq("warm-up sleep 10 ms", hvg_sleep_until(vcpu, hvg_now() + HVG_MS(WARM_UP_MS)), 0);
    (void)hvg_runstate(vcpu);
    (void)cpu_time(vcpu);

    for (unsigned i = 0; i < SLEEPS; i++) {
        uint64_t cpu0 = cpu_time(vcpu);
        struct hv_runstate r0 = hvg_runstate(vcpu);
        uint64_t t0 = hvg_now();

        int64_t r = hvg_sleep_until(vcpu, t0 + HVG_MS(SLEEP_MS));

        uint64_t t1 = hvg_now();
        struct hv_runstate r1 = hvg_runstate(vcpu);
        uint64_t cpu1 = cpu_time(vcpu);
        expect_eq("sleep 200 ms", r, 0);

        uint64_t running = hvg_runstate_ns(&r1, HV_RUNSTATE_RUNNING, t1) -
                           hvg_runstate_ns(&r0, HV_RUNSTATE_RUNNING, t0);
        uint64_t blocked = hvg_runstate_ns(&r1, HV_RUNSTATE_BLOCKED, t1) -
                           hvg_runstate_ns(&r0, HV_RUNSTATE_BLOCKED, t0);
        uint64_t runnable = hvg_runstate_ns(&r1, HV_RUNSTATE_RUNNABLE, t1) -
                            hvg_runstate_ns(&r0, HV_RUNSTATE_RUNNABLE, t0);
        uint64_t offline = hvg_runstate_ns(&r1, HV_RUNSTATE_OFFLINE, t1) -
                           hvg_runstate_ns(&r0, HV_RUNSTATE_OFFLINE, t0);
        uint64_t elapsed = t1 - t0, sum = running + blocked + runnable + offline;
        hvg_printf("%s: sleep %u: elapsed %llu ns: running %llu ns, blocked %llu ns, runnable "
                   "%llu ns, offline %llu ns; cpu_time_ns grew %llu ns\n", pv_name, i,
                   (unsigned long long)elapsed, (unsigned long long)running,
                   (unsigned long long)blocked, (unsigned long long)runnable,
                   (unsigned long long)offline, (unsigned long long)(cpu1 - cpu0));
        expect_true("slept at least 200 ms", elapsed >= HVG_MS(SLEEP_MS));
        expect_true("running time grew by less than 5 ms", running < SLACK_NS);
        expect_true("cpu_time_ns grew by less than 5 ms", cpu1 - cpu0 < SLACK_NS);
        expect_true("blocked time grew by at least 195 ms", blocked >= HVG_MS(SLEEP_MS) - SLACK_NS);
        uint64_t diff = sum > elapsed ? sum - elapsed : elapsed - sum;
        expect_true("the four states add up to the elapsed time (within 1 ms)", diff <= HVG_MS(1));
        expect_eq("state while reading it", r1.state, HV_RUNSTATE_RUNNING);
    }
    return pv_finish();
}
