/* bench-scale: smp_scaling_pct (docs/benchmarks.md). bench/run.py boots it
 * as scale-0 .. scale-3 at SMP 4 (one per CPU, `cpus = i`) and as scale-0
 * alone at SMP 1, under -icount. Each copy waits for the same moment of
 * system time (so all start together, none while another is still being
 * loaded), runs bench_workload(BENCH_WORK_ROUNDS) once (lib/bench_work.c,
 * the object code of cpu_overhead_pct) and prints
 *
 *     bench: name=smp_scale guest=NAME tsc0=T0 tsc1=T1 running_ns=R span_ns=S crc=C
 *
 * T0 and T1 the TSC around the work (under -icount one clock for every
 * CPU, counting every CPU's instructions), R its RUNNING run-state time
 * and S the system time over the same stretch: bench/run.py's
 * useful(N) = N x work / TSC advance from the first start to the last end,
 * running(N) = the mean R / S. Named by its file (the note leaves the name
 * empty). */
#include "hvg.h"
#include "hvg_event.h"

#include "bench/guests/bench.h"
#include "lib/bench_work.h"

HV_GUEST_NOTE("", 0, 1, 0);

#define START_MS 500 /* every copy is loaded and waiting by then */

static inline __attribute__((always_inline)) uint64_t tsc(void)
{
    uint64_t t;
    __asm__ volatile("rdtsc\n\tshl $32, %%rdx\n\tor %%rdx, %%rax" : "=a"(t) : : "rdx");
    return t;
}

static uint64_t running_ns(uint64_t *now)
{
    struct hv_runstate rs = hvg_runstate(0);
    *now = hvg_now();
    return hvg_runstate_ns(&rs, HV_RUNSTATE_RUNNING, *now);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    if (hvg_now() >= HVG_MS(START_MS)) {
        hvg_printf("bench: error name=smp_scaling_pct reason=\"%s started after %u ms\"\n",
                   si->name, START_MS);
        return 1;
    }
    /* Asleep, not spinning: a waiting CPU halts and runs no instructions
     * into the interval, and all wake at the same moment of system time
     * (spinning with `pause`, the copies left their waits up to 8 M
     * instructions apart, as QEMU's round robin gave each its turn). */
    if (hvg_events_init(0) < 0 || hvg_sleep_until(0, HVG_MS(START_MS)) < 0) {
        hvg_printf("bench: error name=smp_scaling_pct reason=\"%s could not sleep\"\n", si->name);
        return 1;
    }
    uint64_t n0, n1;
    uint64_t r0 = running_ns(&n0);
    uint64_t t0 = tsc();
    uint32_t crc = bench_workload(BENCH_WORK_ROUNDS);
    uint64_t t1 = tsc();
    uint64_t r1 = running_ns(&n1);
    hvg_printf("bench: name=smp_scale guest=%s tsc0=%llu tsc1=%llu running_ns=%llu span_ns=%llu "
               "crc=%#x\n",
               si->name, (unsigned long long)t0, (unsigned long long)t1,
               (unsigned long long)(r1 - r0), (unsigned long long)(n1 - n0), crc);
    return 0;
}
