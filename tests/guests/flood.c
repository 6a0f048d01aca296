/* Writes 2000 console lines (about 70 KB on the serial line) as fast as it
 * can (the SDK yields and retries whenever hv answers -HV_EAGAIN), then exits
 * 0. hv must stay responsive and other guests must still get their output
 * through. (It wrote 50000 when the rate limit was 256 KiB/s of input; at
 * the serial line's 11,520 bytes/s that would take minutes.) */
#include "hvg.h"

#define LINES 2000

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
