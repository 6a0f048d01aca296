/* A guest whose image asks, in its restart-policy note, to be restarted on
 * a fault at most twice within 60 s (HV_GUEST_POLICY; docs/abi.md, "The
 * restart-policy note"), and faults (ud2) in every life, printing the
 * start info's restart count first (tests/system/soak_cases.py): with no
 * hv.cfg policy its lives are 0, 1, 2; hv.cfg's on_fault = stop wins over
 * the note (one life). */
#include "hvg.h"

HV_GUEST_POLICY(HV_NOTE_ACTION_DEFAULT, HV_NOTE_ACTION_RESTART, 2, 60);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    hvg_printf("rs-note: life with restarts = %u, faulting\n", si->restarts);
    __asm__ volatile("ud2");
    hvg_puts("rs-note: survived ud2: FAILED");
    return 1;
}
