/* A guest with a duty cycle, for tests that need a free vCPU handed from
 * CPU to CPU (tests/system/xen4_cases.py): until DUTY_END_MS of system
 * time it spins through one phase of DUTY_PHASE_MS and sleeps through the
 * next (a poll of a port never raised, with a deadline), phases counted from system
 * time 0; a copy whose name ends in "b" starts with a sleep. Two copies
 * pinned to CPUs 0 and 1 (hv.cfg `cpus`) keep exactly one of the two CPUs
 * busy at a time, so a CPU-bound vCPU free to run on both finds the other
 * CPU idle every phase and the balancer moves it there. Prints
 *
 *     NAME: N phases spun, M slept
 *
 * and exits 0. Named by its file (the note leaves the name empty). */
#include "hvg.h"
#include "hvg_event.h"
#include "lib/string.h"

#define DUTY_PHASE_MS 30
#define DUTY_END_MS 1000

HV_GUEST_NOTE("", 0, 1, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    size_t len = strlen(si->name);
    uint64_t odd = len && si->name[len - 1] == 'b';
    static const uint32_t port = 1; /* never raised: only the deadline wakes it */
    unsigned spun = 0, slept = 0;
    for (uint64_t now = hvg_now(); now < HVG_MS(DUTY_END_MS); now = hvg_now()) {
        uint64_t phase = now / HVG_MS(DUTY_PHASE_MS), next = (phase + 1) * HVG_MS(DUTY_PHASE_MS);
        if ((phase + odd) % 2 == 0) {
            while (hvg_now() < next)
                ;
            spun++;
        } else {
            while (hvg_now() < next)
                hvg_poll(&port, 1, next);
            slept++;
        }
    }
    hvg_printf("%s: %u phases spun, %u slept\n", si->name, spun, slept);
    return 0;
}
