/* Xen-ABI test guest: HYPERVISOR_iret with a frame whose rip is hv's
 * (the upper half). hv must refuse it before any effect and end this
 * guest alone, as Xen crashes a domain whose iret fails; it must never
 * run at that rip or reach its next line. */
#include "tests/guests/xen/xen_guest.h"

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    (void)si;
    xprint("xen-bad-iret: iret to 0xffff888000000000\n");
    /* The iret stub expects, above the rcx/r11/rax it pushes itself:
     * flags, rip, cs, rflags, rsp, ss. */
    __asm__ volatile("mov %%rsp, %%rax\n\t"
                     "push $0xe02b\n\t"
                     "push %%rax\n\t"
                     "push $0x200\n\t"
                     "push $0xe030\n\t"
                     "movabs $0xffff888000000000, %%rax\n\t"
                     "push %%rax\n\t"
                     "push $0\n\t"
                     "jmp hypercall_page + 23 * 32" ::: "rax", "memory");
    xprint("xen-bad-iret: still running\n");
    shutdown(XEN_SHUTDOWN_poweroff);
}
