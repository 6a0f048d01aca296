/* Writes 50000 console lines as fast as it can (the SDK yields and retries
 * whenever hv answers -HV_EAGAIN), then exits 0. hv must stay responsive
 * and other guests must still get their output through. */
#include "hvg.h"

#define LINES 50000

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;

    hvg_printf("flood: writing %d lines as fast as possible\n", LINES);
    for (int n = 1; n <= LINES; n++) {
        int64_t r = hvg_printf("flood line %d of %d\n", n, LINES);
        if (r < 0) {
            hvg_printf("flood: console write failed with %lld at line %d\n", (long long)r, n);
            return 1;
        }
    }
    hvg_puts("flood: done");
    return 0;
}
