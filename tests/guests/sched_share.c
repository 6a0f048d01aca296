/* A CPU-bound guest that reports the share of the CPU it got: it spins
 * (no hypercall) through the window [WINDOW_START_MS, WINDOW_END_MS) of
 * system time, the same window for every copy, reads its running time at
 * both ends and prints
 *
 *     NAME: share over W ns: running R ns (P per mille)
 *
 * then exits 0. Booted under several names with different hv.cfg weights,
 * the system test compares each R / W with the weight's share. It exits 1
 * (and says so) if it started after the window had begun. Named by its file
 * (the note leaves the name empty). */
#include "hvg.h"
#include "hvg_event.h"

#define WINDOW_START_MS 1000
#define WINDOW_END_MS 3000

#ifndef YIELD_EVERY_US
#define YIELD_EVERY_US 0 /* sched_yield_share.c: spins yield this often */
#endif

HV_GUEST_NOTE("", 0, 1, 0);

/* Spins until system time t; with YIELD_EVERY_US, yields that often. */
static void spin_until(uint64_t t)
{
    uint64_t next_yield = hvg_now() + HVG_US(YIELD_EVERY_US);
    for (uint64_t now = hvg_now(); now < t; now = hvg_now())
        if (YIELD_EVERY_US && now >= next_yield) {
            hvg_yield();
            next_yield = hvg_now() + HVG_US(YIELD_EVERY_US);
        }
}

static uint64_t running_ns(uint64_t *now)
{
    struct hv_runstate rs = hvg_runstate(0);
    *now = hvg_now();
    return hvg_runstate_ns(&rs, HV_RUNSTATE_RUNNING, *now);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    if (hvg_now() >= HVG_MS(WINDOW_START_MS)) {
        hvg_printf("%s: FAILED: started at %llu ns, after the window began\n", si->name,
                   (unsigned long long)hvg_now());
        return 1;
    }
    hvg_printf("%s: spinning through [%u, %u) ms of system time\n", si->name, WINDOW_START_MS,
               WINDOW_END_MS);
    spin_until(HVG_MS(WINDOW_START_MS));
    uint64_t t0, t1;
    uint64_t r0 = running_ns(&t0);
    spin_until(HVG_MS(WINDOW_END_MS));
    uint64_t r1 = running_ns(&t1);
    uint64_t w = t1 - t0, r = r1 - r0;
    hvg_printf("%s: share over %llu ns: running %llu ns (%llu per mille)\n", si->name,
               (unsigned long long)w, (unsigned long long)r,
               (unsigned long long)(r * 1000 / (w ? w : 1)));
    return 0;
}
