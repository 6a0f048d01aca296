/* Xen-ABI test guest (review of the Xen personality): the PV console
 * ring as an attacker uses it. out_prod set 2 GiB ahead of out_cons
 * (nonsense) and the ring full of text, then 20,000 notifications of the
 * console's port and 20,000 yields (each of which drains the ring), all
 * with the producer pushed ahead again every time: hv must take a bounded
 * piece per call, keep to the console's rate, and never stall this guest
 * or the companion. Then a 16 KiB console_io (continued in pieces under
 * the rate limit). Then, over its rate, as Unikraft's console writes:
 * 3 KiB of lines into the ring, a send after each 512 bytes, and out_cons
 * must have caught up when each send returns (Unikraft spins on out_cons
 * without a hypercall before its shutdown); and pieces written to the
 * ring first, then the same through console_io (Unikraft's two consoles):
 * each printed once. Then a poweroff. */
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

    /* Over its rate now: every send waits until hv has taken the ring. */
    static const char line[] = "xen-review-console: ring line, 64 bytes with its CR LF .......\r\n";
    _Static_assert(sizeof(line) - 1 == 64, "a 64-byte line");
    unsigned behind = 0;
    for (unsigned chunk = 0; chunk < 6; chunk++) {
        uint32_t prod = ring->out_prod;
        for (unsigned i = 0; i < 512; i++)
            ring->out[(prod + i) % sizeof(ring->out)] = line[i % 64];
        __atomic_thread_fence(__ATOMIC_RELEASE);
        ring->out_prod = prod + 512;
        hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_send, (uint64_t)&port, 0);
        behind += ring->out_cons != ring->out_prod;
    }
    check(behind == 0, "6 sends of 512 bytes over the rate: the ring empty after each", "%u behind",
          behind);

    /* Each piece to the ring (with a send), then the same to console_io. */
    static const char *const pieces[] = {"[ 0.1] ", "Info: ", "xen-review-console: ",
                                         "ring then console_io", "\r\n"};
    for (unsigned i = 0; i < 5; i++) {
        uint32_t prod = ring->out_prod, n = 0;
        for (const char *c = pieces[i]; *c; c++)
            ring->out[(prod + n++) % sizeof(ring->out)] = *c;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        ring->out_prod = prod + n;
        hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_send, (uint64_t)&port, 0);
        hcall(XEN_HC_console_io, XEN_CONSOLEIO_write, n, (uint64_t)pieces[i]);
    }
    xprint("xen-review-console: done, %u checks, %u failed\n", checks_run, checks_failed);
    shutdown(XEN_SHUTDOWN_poweroff);
}
