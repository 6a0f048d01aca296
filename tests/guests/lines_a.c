/* Prints 200 numbered lines, yielding every 5, so that run beside lines-b
 * the two outputs interleave line by line (never inside a line). Exits 0. */
#include "hvg.h"

#define LINES 200
#define LINES_PER_YIELD 5

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;

    hvg_printf("lines-a: printing %d lines, yielding every %d\n", LINES, LINES_PER_YIELD);
    for (int n = 1; n <= LINES; n++) {
        hvg_printf("line %d of A\n", n);
        if (n % LINES_PER_YIELD == 0)
            hvg_yield();
    }
    hvg_puts("lines-a: done");
    return 0;
}
