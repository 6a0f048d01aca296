/* The well-behaved guest every attack test boots beside its attacker: it
 * needs COMPANION_CPU_MS of CPU, spent in short steps between which it also
 * writes a line now and then, maps and unmaps a page of its allowance and
 * yields, as an ordinary guest would, and checks after each yield that
 * its FS and GS bases are still 0 (no other guest's). It reports how long that took in wall
 * time (system time) and the longest time it was kept off the CPU, which
 * the system tests judge against the share its weight gives it:
 *
 *     companion NAME: 100 ms of CPU in W ms of wall time, longest wait G us
 *
 * It exits 0 when every one of its own operations worked, 1 otherwise. */
#include "hvg.h"
#include "hvg_cpu.h"
#include "hvg_event.h"

#define COMPANION_CPU_MS 100
#define STEP_US 200
#define SCRATCH_VA 0x0000600000000000ull

HV_GUEST_NOTE("companion", HVG_MIB(4), 1, HVG_KIB(64));

static bool ok = true;

static void check(const char *what, int64_t got, int64_t want)
{
    if (got == want)
        return;
    hvg_printf("companion: %s returned %lld, expected %lld\n", what, (long long)got,
               (long long)want);
    ok = false;
}

/* Its FS and GS bases are 0 whatever a Xen guest beside it set (hv
 * writes an hv vCPU's after a Xen vCPU's ran): %fs:X and %gs:X read X. */
static const uint64_t canary = 0x636f6d70616e696fULL;

static int64_t via_fs(void)
{
    uint64_t v;
    __asm__ volatile("mov %%fs:(%1), %0" : "=r"(v) : "r"(&canary) : "memory");
    return (int64_t)v;
}

static int64_t via_gs(void)
{
    uint64_t v;
    __asm__ volatile("mov %%gs:(%1), %0" : "=r"(v) : "r"(&canary) : "memory");
    return (int64_t)v;
}

/* Running time of vCPU 0 so far (its virtual time). */
static uint64_t cpu_ns(void)
{
    struct hv_runstate rs = hvg_runstate(0);
    return hvg_runstate_ns(&rs, HV_RUNSTATE_RUNNING, hvg_now());
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    hvg_printf("companion %s: needs %u ms of CPU\n", si->name, COMPANION_CPU_MS);
    uint64_t start = hvg_now(), cpu_start = cpu_ns();
    uint64_t longest_wait = 0, last = start;
    unsigned step = 0;
    while (cpu_ns() - cpu_start < HVG_MS(COMPANION_CPU_MS)) {
        uint64_t step_end = hvg_now() + HVG_US(STEP_US);
        while (hvg_now() < step_end) {
            uint64_t now = hvg_now();
            if (now - last > longest_wait)
                longest_wait = now - last;
            last = now;
        }
        step++;
        if (step % 100 == 0)
            hvg_printf("companion %s: step %u\n", si->name, step);
        if (step % 10 == 0) {
            int64_t r = hvg_mem_map(HV_SPACE_KERNEL, SCRATCH_VA, 1, 0,
                                    HV_PROT_READ | HV_PROT_WRITE);
            check("mapping a scratch page", r, 0);
            if (r == 0) {
                volatile uint64_t *p = (volatile uint64_t *)SCRATCH_VA;
                check("reading a fresh page", (int64_t)*p, 0);
                *p = step;
                check("unmapping the scratch page", hvg_mem_unmap(HV_SPACE_KERNEL, SCRATCH_VA, 1),
                      0);
            }
        }
        if (step % 50 == 0) {
            check("yielding", hvg_yield(), 0);
            check("reading through FS (its base 0)", via_fs(), (int64_t)canary);
            check("reading through GS (its base 0)", via_gs(), (int64_t)canary);
        }
        last = hvg_now(); /* a hypercall's own time is not a wait */
    }
    uint64_t wall = hvg_now() - start;
    hvg_printf("companion %s: %u ms of CPU in %llu ms of wall time, longest wait %llu us\n",
               si->name, COMPANION_CPU_MS, (unsigned long long)(wall / 1000000),
               (unsigned long long)(longest_wait / 1000));
    return ok ? 0 : 1;
}
