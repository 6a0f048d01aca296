/* Xen-ABI test guest: writes its own initial page tables (start_info's
 * pt_base), which Xen maps read-only. The write must fault and end this
 * guest (it has no trap table), the tables unchanged; it must never reach
 * the "wrote" line. */
#include "tests/guests/xen/xen_guest.h"

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    volatile uint64_t *l4 = (volatile uint64_t *)si->pt_base;
    xprint("xen-pt-write: writing L4 at 0x%lx\n", (unsigned long)si->pt_base);
    l4[1] = l4[0] | 0x7; /* a second alias of the whole low 512 GiB, if it worked */
    xprint("xen-pt-write: wrote its page tables\n");
    shutdown(XEN_SHUTDOWN_poweroff);
}
