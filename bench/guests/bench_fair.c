/* bench-fair: one of the three spinning guests of fairness_error_pct
 * (docs/benchmarks.md). bench/run.py puts it on the ESP three times
 * (fair-1, fair-2, fair-4) with hv.cfg weights 1:2:4; each copy only spins
 * and looks at the clock, and reports its running time over the window
 * the four agree on (bench_fair.h). */
#include "bench/guests/bench_fair.h"

/* Named after its file: the name picks its [guest] weight in hv.cfg. */
HV_GUEST_NOTE("", 0, 1, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    struct bench_fair_window w;

    (void)si;
    (void)vcpu;
    bench_fair_join(&w);
    while (!bench_fair_step(&w))
        ;
    bench_fair_report(&w, "");
    return 0;
}
