/* Records when it gets the CPU: it spins reading system time, and a jump
 * of more than 200 us between two reads means another partition (or hv)
 * had the CPU. Prints every stretch it ran as "ran FROM TO" in system ns,
 * for the test to check against the partition windows, then exits 0. */
#include "hvg.h"
#include "hvg_event.h"

#define STRETCHES 1024 /* a fair scheduler switches every few ms */
#define GAP_NS 200000ull
#define RUN_FOR_NS 400000000ull /* 400 ms of system time */

static uint64_t from[STRETCHES], to[STRETCHES];

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    unsigned n = 0;
    uint64_t start = hvg_now(), last = start;
    from[0] = start;
    while (last - start < RUN_FOR_NS) {
        uint64_t t = hvg_now();
        if (t - last > GAP_NS && n + 1 < STRETCHES) {
            to[n++] = last;
            from[n] = t;
        }
        last = t;
    }
    to[n++] = last;
    for (unsigned i = 0; i < n; i++)
        hvg_printf("ran %lu %lu\n", (unsigned long)from[i], (unsigned long)to[i]);
    return 0;
}
