/* The timer-storm attacker (issue 10, attack 5): on every vCPU, spins
 * 9.9 ms, then sets its one-shot timer a few microseconds ahead and blocks
 * until it fires (HV_CALL_SET_TIMER + HV_CALL_BLOCK), for ever. A scheduler
 * that gives a woken vCPU a fresh slice at the front of the queue lets it
 * keep nearly all the CPU; a fair one gives it its weight's share. Named by
 * its file (the note leaves the name empty). */
#include "hvg.h"
#include "hvg_event.h"

#define SPIN_US 9900
#define AHEAD_US 10

HV_GUEST_NOTE("", 0, 0, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    int64_t r = hvg_events_init(vcpu);
    if (r < 0) {
        hvg_printf("%s: hvg_events_init returned %lld\n", si->name, (long long)r);
        return 1;
    }
    if (vcpu == 0)
        hvg_printf("%s: spin %u us, sleep until %u us ahead, for ever\n", si->name, SPIN_US,
                   AHEAD_US);
    for (;;) {
        uint64_t end = hvg_now() + HVG_US(SPIN_US);
        while (hvg_now() < end)
            ;
        r = hvg_sleep_until(vcpu, hvg_now() + HVG_US(AHEAD_US));
        if (r < 0) {
            hvg_printf("%s: hvg_sleep_until returned %lld\n", si->name, (long long)r);
            return 1;
        }
    }
}
