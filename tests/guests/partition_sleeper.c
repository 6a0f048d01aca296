/* partition-probe's record for a guest that sleeps: it sleeps on its timer
 * (300 us), then spins 200 us reading system time, and again, for 400 ms.
 * Its timers keep expiring while the CPU idles in the schedule's gaps: a
 * wake-up entered there straight from the idle CPU's interrupt (hv's
 * direct way in, hv/sched/sched.c) would run it outside its window. Prints
 * every stretch it ran as "ran FROM TO" (a jump of more than 200 us
 * between two reads within a spin starts a new one; each wake-up does),
 * then exits 0. */
#include "hvg.h"
#include "hvg_event.h"

#define STRETCHES 2048
#define GAP_NS 200000ull
#define SLEEP_NS 300000ull
#define SPIN_NS 200000ull
#define RUN_FOR_NS 400000000ull

static uint64_t from[STRETCHES], to[STRETCHES];

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    if (hvg_events_init(vcpu) != 0)
        return 1;
    unsigned n = 0;
    uint64_t start = hvg_now();
    while (hvg_now() - start < RUN_FOR_NS && n + 2 < STRETCHES) {
        if (hvg_sleep_until(vcpu, hvg_now() + SLEEP_NS) != 0)
            return 2;
        uint64_t t = hvg_now(), last = t;
        from[n] = t;
        while (last - t < SPIN_NS) {
            uint64_t u = hvg_now();
            if (u - last > GAP_NS && n + 2 < STRETCHES) {
                to[n++] = last;
                from[n] = u;
            }
            last = u;
        }
        to[n++] = last;
    }
    for (unsigned i = 0; i < n; i++)
        hvg_printf("ran %lu %lu\n", (unsigned long)from[i], (unsigned long)to[i]);
    return 0;
}
