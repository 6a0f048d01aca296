/* Four vCPUs that run at once when hv places them on four CPUs (hv.cfg
 * `[guest smp-par] cpus = 0-3` at SMP 4; tests/system/aprun_cases.py).
 * All four meet, then each adds 1 to one shared counter with a locked add,
 * counting its own additions, until every vCPU has started and at least
 * WORK_NS have passed since it did; each notes when it started and ended
 * (system time) and how long it ran over that stretch (its RUNNING
 * run-state time). vCPU 0 waits for the others, prints one line per vCPU
 * and the count, and exits 0 only if the shared counter is exactly the sum
 * of the four own counts (no increment lost between CPUs).
 *
 * Whether they ran in parallel is the test's to judge from the lines: every
 * stretch contains the last start, so the stretches overlap; a vCPU that
 * ran (nearly) all of its stretch held a CPU throughout, and four such
 * overlapping stretches are four CPUs at once. On one CPU each runs about a
 * quarter of its stretch. */
#include "hvg.h"
#include "hvg_event.h"

#define VCPUS 4
#define WORK_NS HVG_MS(30)
#define GIVE_UP_NS HVG_MS(20000)
#define MAX_WAIT_NS HVG_MS(20000)

HV_GUEST_NOTE("smp-par", 0, VCPUS, 0);

static unsigned arrived, started, finished;
static uint64_t counter;
static uint64_t started_ns[VCPUS], ended_ns[VCPUS], ran_ns[VCPUS], added[VCPUS];

/* Waits (yielding, so it also works with every vCPU on one CPU) until
 * *word reaches want. */
static int wait_for(unsigned *word, unsigned want, const char *what)
{
    uint64_t give_up = hvg_now() + MAX_WAIT_NS;
    while (__atomic_load_n(word, __ATOMIC_ACQUIRE) < want) {
        if (hvg_now() > give_up) {
            hvg_printf("smp-par: FAILED: gave up waiting for %s\n", what);
            return 0;
        }
        hvg_yield();
    }
    return 1;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    if (si->vcpu_count != VCPUS || vcpu >= VCPUS)
        return 1;
    __atomic_fetch_add(&arrived, 1, __ATOMIC_ACQ_REL);
    if (!wait_for(&arrived, VCPUS, "every vCPU to arrive"))
        return 1;
    uint64_t t0 = hvg_now();
    struct hv_runstate rs = hvg_runstate(vcpu);
    uint64_t run0 = hvg_runstate_ns(&rs, HV_RUNSTATE_RUNNING, t0);
    __atomic_fetch_add(&started, 1, __ATOMIC_ACQ_REL);
    uint64_t mine = 0, t1;
    do {
        for (unsigned i = 0; i < 1000; i++)
            __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED); /* lock add */
        mine += 1000;
        t1 = hvg_now();
    } while ((__atomic_load_n(&started, __ATOMIC_ACQUIRE) < VCPUS || t1 - t0 < WORK_NS) &&
             t1 - t0 < GIVE_UP_NS);
    added[vcpu] = mine;
    rs = hvg_runstate(vcpu);
    started_ns[vcpu] = t0;
    ended_ns[vcpu] = t1;
    ran_ns[vcpu] = hvg_runstate_ns(&rs, HV_RUNSTATE_RUNNING, t1) - run0;
    __atomic_fetch_add(&finished, 1, __ATOMIC_ACQ_REL);
    if (vcpu != 0)
        return 0; /* ends this vCPU only */
    if (!wait_for(&finished, VCPUS, "every vCPU to finish"))
        return 1;
    uint64_t sum = 0;
    for (unsigned i = 0; i < VCPUS; i++) {
        hvg_printf("smp-par: vCPU %u ran %llu us from %llu us to %llu us, added %llu\n", i,
                   (unsigned long long)(ran_ns[i] / 1000),
                   (unsigned long long)(started_ns[i] / 1000),
                   (unsigned long long)(ended_ns[i] / 1000), (unsigned long long)added[i]);
        sum += added[i];
    }
    uint64_t total = __atomic_load_n(&counter, __ATOMIC_ACQUIRE);
    hvg_printf("smp-par: counter %llu of %llu\n", (unsigned long long)total,
               (unsigned long long)sum);
    return total == sum ? 0 : 1;
}
