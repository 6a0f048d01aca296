/* Prints "spinning", then loops forever without a hypercall or a yield:
 * only preemption takes the CPU from it. */
#include "hvg.h"

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    volatile uint64_t turns = 0;

    hvg_puts("spinning");
    for (;;)
        turns++;
}
