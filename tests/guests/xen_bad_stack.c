/* Xen-ABI test guest: an exception while its stack pointer names its own
 * read-only page tables. The bounce frame cannot be written there, so hv
 * must end this guest alone ("could not deliver"), write nothing into the
 * tables, and never enter the handler. */
#include "tests/guests/xen/xen_guest.h"

extern char trap_ud[];
extern volatile uint64_t trap_count;

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    static struct xen_trap_info table[] = {{6, 4, 0xe033, 0, 0}, {0, 0, 0, 0, 0}};
    table[0].address = (uint64_t)trap_ud;
    hcall(XEN_HC_set_trap_table, (uint64_t)table, 0, 0);
    xprint("xen-bad-stack: ud2 with rsp at 0x%lx\n", (unsigned long)(si->pt_base + 4096));
    __asm__ volatile("mov %0, %%rsp\n\tud2" : : "r"(si->pt_base + 4096) : "memory");
    xprint("xen-bad-stack: handled %lu\n", (unsigned long)trap_count);
    shutdown(XEN_SHUTDOWN_poweroff);
}
