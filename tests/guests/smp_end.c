/* A guest ended on one CPU while its other vCPUs run on others (hv.cfg
 * `[guest smp-end] cpus = 0-3` at SMP 4; tests/system/aprun_cases.py).
 * vCPUs 1-3 spin for ever, never entering hv, each moving its own counter;
 * vCPU 0 waits until every counter has moved, says so, and executes ud2
 * with no trap handler: hv ends the guest on vCPU 0's CPU, and the other
 * CPUs must take the spinning vCPUs off (hv's remote stop), or the run
 * would only end at hv.cfg's time limit. */
#include "hvg.h"
#include "hvg_event.h"

#define VCPUS 4
#define MAX_WAIT_NS HVG_MS(20000)

HV_GUEST_NOTE("smp-end", 0, VCPUS, 0);

static volatile uint64_t spins[VCPUS];

static int all_moving(void)
{
    for (unsigned i = 1; i < VCPUS; i++)
        if (spins[i] < 1000)
            return 0;
    return 1;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    if (si->vcpu_count != VCPUS || vcpu >= VCPUS)
        return 1;
    if (vcpu != 0)
        for (;;)
            spins[vcpu]++;
    uint64_t give_up = hvg_now() + MAX_WAIT_NS;
    while (!all_moving()) {
        if (hvg_now() > give_up) {
            hvg_printf("smp-end: FAILED: vCPUs 1-3 did not all run\n");
            return 1;
        }
        hvg_yield();
    }
    hvg_printf("smp-end: vCPUs 1-3 are spinning; ending the guest from vCPU 0\n");
    __builtin_trap();
}
