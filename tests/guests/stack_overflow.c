/* Recurses, 1 KiB of stack per call, until it runs into the unmapped guard
 * page below its stack: hv must report a #PF there and end the guest. */
#include "hvg.h"

/* Keeps the recursion conditional in the compiler's eyes (it warns about
 * and may rewrite unconditional infinite recursion). */
static volatile int keep_going = 1;

static uint64_t recurse(uint64_t depth)
{
    volatile uint8_t frame[1024];

    frame[0] = (uint8_t)depth;
    frame[sizeof(frame) - 1] = (uint8_t)depth;
    if (depth % 16 == 0)
        hvg_printf("stack-overflow: depth %llu, frame at %p\n", (unsigned long long)depth,
                   (void *)frame);
    if (!keep_going)
        return depth;
    /* Not a tail call: the sum needs this frame after the call returns. */
    return recurse(depth + 1) + frame[0];
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    hvg_printf("stack-overflow: recursing through a %llu KiB stack, expect #PF below it\n",
               (unsigned long long)(si->stack_bytes >> 10));
    uint64_t r = recurse(1);
    hvg_printf("stack-overflow: FAILED: recursion returned %llu\n", (unsigned long long)r);
    return 1;
}
