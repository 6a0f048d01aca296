/* Sleeps for ever: HV_CALL_BLOCK with no event bound, so nothing can wake
 * it. hv must still stop it at hv.cfg's time limit (it used to idle for
 * ever once the other guests had ended: the time limit was checked only
 * when something ran). */
#include "hvg.h"
#include "hvg_event.h"

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    hvg_printf("%s: sleeping with nothing to wake me\n", si->name);
    for (;;)
        hvg_block();
}
