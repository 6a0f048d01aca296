/* Four vCPUs that end their guest at the same moment (issue 13, stream
 * glocks): hv.cfg gives it `on_exit = restart`, `max_restarts = 3`; in
 * every life the four vCPUs meet, then all call HV_CALL_EXIT(0) at once,
 * so with APs running guests up to four CPUs end it together. hv must
 * decide each end once (its `end` claimed by one compare-and-swap, the
 * restart state under the guest's restart_lock): exactly 3 restarts, then
 * the stop at max_restarts, 4 health entries (tests/system/glocks_cases.py
 * reads the summary). Prints
 *     glocks-restart: life R: 4 vCPUs met
 * in each life. */
#include "hvg.h"
#include "hvg_event.h"

HV_GUEST_NOTE("glocks-restart", HVG_MIB(2), 4, 0);

#define VCPUS 4
#define WAIT_NS 60000000000ull /* by time: a loaded host is slow */

static volatile unsigned arrived, go;

int main(const struct hv_start_info *si, unsigned vcpu)
{
    if (vcpu >= VCPUS || si->vcpu_count != VCPUS) {
        hvg_printf("glocks-restart: FAILED: vCPU %u of %u\n", vcpu, si->vcpu_count);
        hvg_exit(1);
    }
    __atomic_fetch_add(&arrived, 1, __ATOMIC_ACQ_REL);
    if (vcpu == 0) {
        uint64_t until = hvg_now() + WAIT_NS;
        while (arrived < VCPUS && hvg_now() < until)
            hvg_yield();
        hvg_printf("glocks-restart: life %u: %u vCPUs met\n", si->restarts, arrived);
        __atomic_store_n(&go, 1, __ATOMIC_RELEASE);
    }
    /* Spin without yielding once released: the exits come together. */
    uint64_t until = hvg_now() + WAIT_NS;
    for (long i = 0; !__atomic_load_n(&go, __ATOMIC_ACQUIRE) && hvg_now() < until; i++)
        if (i % 1024 == 1023)
            hvg_yield(); /* on one CPU vCPU 0 needs it */
    hvg_exit(0);
}
