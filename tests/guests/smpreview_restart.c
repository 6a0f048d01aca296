/* A guest that ends itself the moment each new life starts, from a vCPU on
 * an AP (issue 13, stream smpreview; tests/system/smpreview_cases.py).
 * hv.cfg gives it `on_exit = restart`; it has 16 vCPUs, placed round robin
 * over the CPUs, so vCPU 1 is on CPU 1 together with vCPUs added after it.
 * A restart adds the vCPUs of the new life to their CPUs one after the
 * other (hv/guest/restart.c, running_again); vCPU 1 calls HV_CALL_EXIT as
 * the first thing it does, so its end races the additions still to come:
 * without the end waiting for them (hv/guest/guest_end.c), a stop could
 * reach a vCPU before its addition (a NULL entity read on the owner CPU,
 * an hv panic; or the addition made after the stop, a vCPU of an ended
 * guest runnable again and freed while queued). The other vCPUs spin
 * until they are stopped, yielding now and then so a shared CPU's other
 * guests still run. Prints nothing: its summary line and health lines are
 * the judge's (one restart per life, then the stop at max_restarts). */
#include "hvg.h"

HV_GUEST_NOTE("smpreview-restart", HVG_MIB(4), 16, 0);

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    if (vcpu == 1)
        hvg_exit(0);
    for (unsigned long i = 0;; i++)
        if (i % 4096 == 4095)
            hvg_yield();
}
