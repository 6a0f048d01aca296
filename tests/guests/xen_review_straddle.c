/* Xen-ABI test guest (review of the Xen personality): one instruction
 * that straddles two pages and stores into the second (its own tail's
 * page), in a RWX segment as Xen's builder maps it. Like
 * xen_review_self_store.c, but the fault's rip is on the page before the
 * one that flips: the store must complete or end the guest with the
 * reason, never flip that page between writable and executable forever. */
#include "tests/guests/xen/xen_guest.h"

void straddle_store(uint32_t value);
extern volatile uint32_t straddle_flag;
/* movl %edi, straddle_flag(%rip) is 6 bytes: 3 on each page. */
__asm__(".text\n.balign 4096\n.skip 4093, 0x90\n.globl straddle_store, straddle_flag\n"
        "straddle_store:\n movl %edi, straddle_flag(%rip)\n ret\n"
        "straddle_flag: .long 0\n");

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    (void)si;
    xprint("xen-review-straddle: a store at 0x%lx into 0x%lx\n", (unsigned long)straddle_store,
           (unsigned long)&straddle_flag);
    straddle_store(0x77);
    xprint("xen-review-straddle: stored 0x%x\n", (unsigned)straddle_flag);
    shutdown(XEN_SHUTDOWN_poweroff);
}
