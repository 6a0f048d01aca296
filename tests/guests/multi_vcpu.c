/* Four vCPUs: each says hello and adds one to a shared counter; vCPU 0 waits
 * (yielding) for all four, checks the others end up HV_VCPU_DEAD once they
 * return from main (hvg_vcpu_exit), prints the total and exits 0. */
#include "hvg.h"

#define VCPUS 4
/* Generous: a few yields per vCPU are enough on any scheduler. */
#define MAX_YIELDS 1000000

HV_GUEST_NOTE("multi-vcpu", 0, VCPUS, 0);

static unsigned counter;

static int wait_for(int (*done)(void), const char *what)
{
    for (long i = 0; i < MAX_YIELDS; i++) {
        if (done())
            return 1;
        hvg_yield();
    }
    hvg_printf("multi-vcpu: FAILED: gave up waiting for %s\n", what);
    return 0;
}

static int all_counted(void)
{
    return __atomic_load_n(&counter, __ATOMIC_ACQUIRE) == VCPUS;
}

static int others_dead(void)
{
    for (unsigned id = 1; id < VCPUS; id++) {
        struct hv_vcpu_info info;
        if (hvg_vcpu_info(id, &info) != 0 || info.state != HV_VCPU_DEAD)
            return 0;
    }
    return 1;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    struct hv_vcpu_info self = { 0 };

    if (vcpu == 0)
        hvg_printf("multi-vcpu: %u vCPUs, each adds 1 to a shared counter\n", si->vcpu_count);
    int64_t r = hvg_vcpu_info(vcpu, &self);
    hvg_printf("multi-vcpu: vCPU %u here (vcpu_info: %lld, id %u, state %u)\n", vcpu,
               (long long)r, self.vcpu_id, self.state);
    if (r != 0 || self.vcpu_id != vcpu || self.state != HV_VCPU_RUNNING) {
        hvg_printf("multi-vcpu: FAILED: vCPU %u: vcpu_info does not describe the caller\n", vcpu);
        hvg_exit(1);
    }
    __atomic_fetch_add(&counter, 1, __ATOMIC_RELEASE);
    if (vcpu != 0)
        return 0; /* ends this vCPU only */

    if (si->vcpu_count != VCPUS) {
        hvg_printf("multi-vcpu: FAILED: %u vCPUs, the note asked for %d\n", si->vcpu_count, VCPUS);
        return 1;
    }
    if (!wait_for(all_counted, "all vCPUs to count") ||
        !wait_for(others_dead, "vCPUs 1-3 to be dead"))
        return 1;
    hvg_printf("multi-vcpu: total %u of %d, all other vCPUs dead\n",
               __atomic_load_n(&counter, __ATOMIC_ACQUIRE), VCPUS);
    return 0;
}
