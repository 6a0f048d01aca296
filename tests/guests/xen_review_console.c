/* Xen-ABI test guest (review of the Xen personality): the PV console
 * ring as an attacker uses it. out_prod set 2 GiB ahead of out_cons
 * (nonsense) and the ring full of text, then 20,000 notifications of the
 * console's port and 20,000 yields (each of which drains the ring), all
 * with the producer pushed ahead again every time: hv must take a bounded
 * piece per call, keep to the console's rate, and never stall this guest
 * or the companion. Then a 16 KiB console_io (continued in pieces under
 * the rate limit) and a poweroff. */
#include "tests/guests/xen/xen_guest.h"

#define CALLS 20000
static char big[16 * 1024];

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    volatile struct xen_console_interface *ring =
        (volatile struct xen_console_interface *)(si->console_mfn << 12);
    uint32_t port = si->console_evtchn;
    static const char text[] = "xen-review-console: ring flood\n";
    for (unsigned i = 0; i < sizeof(ring->out); i++)
        ring->out[i] = text[i % (sizeof(text) - 1)];
    unsigned bad_send = 0, bad_yield = 0;
    for (unsigned i = 0; i < CALLS; i++) {
        ring->out_prod = ring->out_cons + 0x80000000u;
        bad_send += hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_send, (uint64_t)&port, 0) != 0;
    }
    for (unsigned i = 0; i < CALLS; i++) {
        ring->out_prod = ring->out_cons - 1; /* 4 GiB - 1 ahead */
        bad_yield += hcall(XEN_HC_sched_op, XEN_SCHEDOP_yield, 0, 0) != 0;
    }
    ring->out_prod = ring->out_cons; /* empty: nothing more from the ring */
    check(bad_send == 0, "20000 sends to the console port: 0", "%u failed", bad_send);
    check(bad_yield == 0, "20000 yields: 0", "%u failed", bad_yield);
    for (unsigned i = 0; i < sizeof(big); i++)
        big[i] = (i % 64 == 63) ? '\n' : 'b';
    long rc = hcall(XEN_HC_console_io, XEN_CONSOLEIO_write, sizeof(big), (uint64_t)big);
    check(rc == 0, "16 KiB console_io: 0", "%ld", rc);
    xprint("xen-review-console: done, %u checks, %u failed\n", checks_run, checks_failed);
    shutdown(XEN_SHUTDOWN_poweroff);
}
