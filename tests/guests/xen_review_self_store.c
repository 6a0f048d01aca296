/* Xen-ABI test guest (review of the Xen personality): one instruction
 * stores into the very page it runs from. Xen's builder maps a PV image
 * read-write-execute, so on Xen this simply works. hv maps each page
 * either writable or executable and flips it on the fault the other use
 * takes (hv/xen/xen_mem.c); a store that needs both at once must still
 * finish (or the guest must be told), never spin between the two
 * forever. Prints "stored" and powers off. */
#include "tests/guests/xen/xen_guest.h"

void self_store(uint32_t value);
extern volatile uint32_t self_flag;
/* The store and its target within 64 bytes, so on one page. */
__asm__(".text\n.balign 64\n.globl self_store, self_flag\n"
        "self_store:\n movl %edi, self_flag(%rip)\n ret\n"
        "self_flag: .long 0\n");

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    (void)si;
    xprint("xen-review-self-store: storing into its own code page at 0x%lx\n",
           (unsigned long)&self_flag);
    self_store(0x5a5a);
    xprint("xen-review-self-store: stored 0x%x\n", (unsigned)self_flag);
    shutdown(XEN_SHUTDOWN_poweroff);
}
