/* The spin-and-poll attacker (issue 10, attack 5): on every vCPU, spins
 * 9.9 ms, then sleeps in HV_CALL_POLL with a deadline a few microseconds
 * ahead, for ever. A scheduler that gives a woken vCPU a fresh slice at the
 * front of the queue lets it keep nearly all the CPU; a fair one gives it
 * its weight's share. Named by its file (the note leaves the name empty). */
#include "hvg.h"
#include "hvg_event.h"

#define SPIN_US 9900
#define AHEAD_US 5

HV_GUEST_NOTE("", 0, 0, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    static const uint32_t port = 1; /* never raised: only the deadline wakes it */
    if (vcpu == 0)
        hvg_printf("%s: spin %u us, poll %u us ahead, for ever\n", si->name, SPIN_US, AHEAD_US);
    for (;;) {
        uint64_t end = hvg_now() + HVG_US(SPIN_US);
        while (hvg_now() < end)
            ;
        int64_t r = hvg_poll(&port, 1, hvg_now() + HVG_US(AHEAD_US));
        if (r != -HV_ETIMEDOUT && r != 0) {
            hvg_printf("%s: HV_CALL_POLL returned %lld\n", si->name, (long long)r);
            return 1;
        }
    }
}
