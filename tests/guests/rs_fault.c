/* Faults (#UD) in every life: with hv.cfg on_fault = restart and
 * max_restarts = N, hv restarts it N times and then leaves it stopped
 * (tests/system/restart_cases.py). Each life prints the restart count the
 * start info gives, so the test sees 0, 1, .., N in order. */
#include "hvg.h"

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    hvg_printf("rs-fault: life with restarts = %u, faulting\n", si->restarts);
    __asm__ volatile("ud2");
    hvg_puts("rs-fault: survived ud2: FAILED");
    return 1;
}
