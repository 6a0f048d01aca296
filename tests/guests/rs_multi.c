/* A guest of three vCPUs that is restarted (hv.cfg on_fault = restart,
 * max_restarts = 2; tests/system/soak_cases.py): in every life each vCPU
 * checks it starts on a zeroed .bss (the counter and the restart counts
 * its vCPUs saw), records the start info's restart count, and adds one to
 * the counter; vCPU 0 waits for all three, checks they saw the same count,
 * prints
 *     rs-multi: life R: vCPUs 0 1 2 all saw restarts = R
 * and faults in lives 0 and 1; in life 2 it exits 0. Every vCPU being back
 * in each life shows a restart rebuilds all of them, not only the first. */
#include "hvg.h"

#define VCPUS 3
#define MAX_YIELDS 1000000

HV_GUEST_NOTE("rs-multi", 0, VCPUS, 0);

static unsigned arrived;
static uint32_t seen[VCPUS];
static uint32_t seen_set[VCPUS];

int main(const struct hv_start_info *si, unsigned vcpu)
{
    if (vcpu >= VCPUS) {
        hvg_printf("rs-multi: vCPU %u beyond %u: FAILED\n", vcpu, VCPUS);
        hvg_exit(1);
    }
    if (seen_set[vcpu]) {
        hvg_printf("rs-multi: vCPU %u: its slot is not zero in life %u: FAILED\n", vcpu,
                   si->restarts);
        hvg_exit(1);
    }
    seen[vcpu] = si->restarts;
    seen_set[vcpu] = 1;
    hvg_printf("rs-multi: vCPU %u starts, restarts = %u\n", vcpu, si->restarts);
    __atomic_fetch_add(&arrived, 1, __ATOMIC_RELEASE);
    if (vcpu != 0) {
        for (;;)
            hvg_yield(); /* until the guest ends */
    }
    long i = 0;
    while (__atomic_load_n(&arrived, __ATOMIC_ACQUIRE) < VCPUS && i++ < MAX_YIELDS)
        hvg_yield();
    if (si->vcpu_count != VCPUS || arrived != VCPUS) {
        hvg_printf("rs-multi: life %u: %u of %u vCPUs arrived (vcpu_count %u): FAILED\n",
                   si->restarts, arrived, VCPUS, si->vcpu_count);
        hvg_exit(1);
    }
    for (unsigned v = 0; v < VCPUS; v++)
        if (seen[v] != si->restarts) {
            hvg_printf("rs-multi: vCPU %u saw restarts = %u, vCPU 0 %u: FAILED\n", v, seen[v],
                       si->restarts);
            hvg_exit(1);
        }
    hvg_printf("rs-multi: life %u: vCPUs 0 1 2 all saw restarts = %u\n", si->restarts,
               si->restarts);
    if (si->restarts < 2)
        __asm__ volatile("ud2");
    return 0;
}
