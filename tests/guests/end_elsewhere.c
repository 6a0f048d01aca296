/* The run's last guest end on an AP while a vCPU of the guest is placed on
 * the boot CPU (tests/system/aprun_cases.py, at SMP 2 with hv.cfg
 * `debug_last_end_race = yes`). vCPU 0 (on the boot CPU) stops itself at once
 * (HV_CALL_VCPU_EXIT). vCPU 1 (on the AP) waits until vCPU 0 is
 * HV_VCPU_DEAD, then ends the guest: the end's stop of vCPU 0 goes
 * through the boot CPU's wake list and the reschedule IPI, which the boot
 * CPU, held with interrupts off, can only take in its reaping's interrupt
 * windows. Exit 0; the run must end (not at the harness's time limit). */
#include "hvg.h"

#define MAX_YIELDS 1000000

HV_GUEST_NOTE("end-elsewhere", 0, 2, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    if (si->vcpu_count != 2)
        return 1;
    if (vcpu == 0)
        hvg_vcpu_exit(); /* this vCPU only (vCPU 0's return from main ends the guest) */
    for (long i = 0; i < MAX_YIELDS; i++) {
        struct hv_vcpu_info info;
        if (hvg_vcpu_info(0, &info) == 0 && info.state == HV_VCPU_DEAD) {
            hvg_printf("end-elsewhere: vCPU 0 stopped; vCPU 1 ends the guest\n");
            hvg_exit(0);
        }
        hvg_yield();
    }
    hvg_printf("end-elsewhere: FAILED: vCPU 0 never stopped\n");
    hvg_exit(1);
}
