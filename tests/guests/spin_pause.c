/* Prints "spinning", then loops forever without a hypercall or a yield,
 * with a pause every 1,000 turns: only preemption takes the CPU from it.
 * The pause lets QEMU 7.2's -icount round robin give the other CPUs their
 * turns (docs/design.md), which spin.c's loop does not; 1,000 turns between
 * pauses keep the round robin's overhead small beside the guest's time. */
#include "hvg.h"

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    volatile uint64_t turns = 0;

    hvg_puts("spinning");
    for (;;) {
        for (unsigned i = 0; i < 1000; i++)
            turns++;
        __asm__ volatile("pause" ::: "memory");
    }
}
