/* Ends by returning 7 from main, which guest/lib/start.S turns into
 * hvg_exit(7): hv must report status 7 for this guest. */
#include "hvg.h"

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    hvg_puts("exit-status: exiting with status 7");
    return 7;
}
