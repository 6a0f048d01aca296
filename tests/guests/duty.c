/* A guest with a duty cycle, for tests that need a free vCPU handed from
 * CPU to CPU (tests/system/xen4_cases.py): until DUTY_END_MS of system
 * time it spins through one phase of DUTY_PHASE_MS and sleeps through the
 * next (a poll of a port never raised, with a deadline), phases counted from system
 * time 0; a copy whose name ends in "b" starts with a sleep. Two copies
 * pinned to CPUs 0 and 1 (hv.cfg `cpus`) keep exactly one of the two CPUs
 * busy at a time, so a CPU-bound vCPU free to run on both finds the other
 * CPU idle every phase and the balancer moves it there. After every
 * sleep it reads a word of its own through %fs: hv's guests run on FS
 * base 0, so a base left by a Xen guest that ran there before (its FS
 * base, hv/xen/xen_gdt.c) would read elsewhere or fault. Prints
 *
 *     NAME: N phases spun, M slept, K reads through %fs wrong
 *
 * and exits 0 (1 with a wrong read). Named by its file (the note leaves the name empty). */
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
    static volatile uint64_t mark = 0x6475747964757479ull;
    unsigned spun = 0, slept = 0, fs_wrong = 0;
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
            uint64_t through_fs;
            __asm__ volatile("mov %%fs:(%1), %0" : "=r"(through_fs) : "r"(&mark));
            fs_wrong += through_fs != mark;
        }
    }
    hvg_printf("%s: %u phases spun, %u slept, %u reads through %%fs wrong\n", si->name, spun, slept,
               fs_wrong);
    return fs_wrong ? 1 : 0;
}
