/* The yield-storm attacker (issue 10, attack 5), meant to run with many
 * vCPUs: on every vCPU, three rounds of spinning 2 us and calling
 * HV_CALL_YIELD, then one round of spinning 5 ms and yielding, for ever.
 * Yielding must neither bank credit that the long rounds spend, nor let a
 * guest's many vCPUs each take a turn of their own: a scheduler that shares
 * per vCPU gives 16 such vCPUs most of the CPU. Named by its file (the note
 * leaves the name empty). */
#include "hvg.h"
#include "hvg_event.h"

HV_GUEST_NOTE("", 0, 0, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    if (vcpu == 0)
        hvg_printf("%s: on %u vCPU(s), yield after 2 us, 2 us, 2 us, 5 ms, for ever\n",
                   si->name, (unsigned)si->vcpu_count);
    for (unsigned round = 1;; round++) {
        uint64_t end = hvg_now() + (round % 4 ? HVG_US(2) : HVG_MS(5));
        while (hvg_now() < end)
            ;
        int64_t r = hvg_yield();
        if (r != 0) {
            hvg_printf("%s: HV_CALL_YIELD returned %lld\n", si->name, (long long)r);
            return 1;
        }
    }
}
