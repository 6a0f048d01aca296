/* bench-peer: the other half of vcpu_switch (docs/benchmarks.md). It yields
 * exactly VCPU_SWITCH_PEER_YIELDS times, each yield answering one of
 * bench-main's, then exits when bench-main's last yield releases it.
 *
 * It is also the "typical small guest" of guest_overhead_bytes: one vCPU,
 * default memory (4 MiB) and stack (64 KiB), like guest/examples/hello.c. */
#include "hvg.h"

#include "bench/guests/bench.h"

HV_GUEST_NOTE("bench-peer", 0, 1, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    for (unsigned i = 0; i < VCPU_SWITCH_PEER_YIELDS; i++)
        hvg_yield();
    return 0;
}
