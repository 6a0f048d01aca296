/* A guest whose restart-policy note asks on_fault = halt (the raw value 3,
 * which no HV_NOTE_ACTION_* names): an image must not be able to stop the
 * machine, so hv refuses the image unless hv.cfg decides on_fault itself
 * (tests/system/soak_cases.py). When it runs, it says so and faults. */
#include "hvg.h"

HV_GUEST_POLICY(HV_NOTE_ACTION_DEFAULT, 3, 0, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    hvg_printf("%s: life with restarts = %u, faulting\n", si->name, si->restarts);
    __asm__ volatile("ud2");
    return 1;
}
