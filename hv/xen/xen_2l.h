/* Xen's 2-level event ABI and set_timer_op's timeout rule, as pure
 * functions on a shared-info page (hv/xen/xen_upcall.c uses them;
 * tests/unit/test_xen_2l.c checks them). One vCPU: vcpu_info[0]. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/xen/xen_abi.h"
#include "lib/nospec.h"

#define XEN_2L_PORTS 256 /* ports hv gives a Xen guest: words 0-3 of the bitmaps */
#define XEN_HUGE_TIMEOUT_BITS 50 /* a timeout 2^50 ns (~13 days) away is a wrap... */
#define XEN_HUGE_TIMEOUT_NS 100000000ULL /* ... taken as 100 ms, as Xen does */

/* A pending, unmasked port: its selector bit and, if that was clear, the
 * upcall flag (Xen's evtchn_set_pending tail and its unmask). */
static inline void xen_2l_notify(struct xen_shared_info *si, unsigned port)
{
    port = (unsigned)array_index_nospec(port, XEN_2L_PORTS);
    uint64_t bit = 1ULL << (port % 64), sel = 1ULL << (port / 64);
    if (!(__atomic_load_n(&si->evtchn_pending[port / 64], __ATOMIC_SEQ_CST) & bit) ||
        (__atomic_load_n(&si->evtchn_mask[port / 64], __ATOMIC_SEQ_CST) & bit))
        return;
    if (!(__atomic_fetch_or(&si->vcpu_info[0].evtchn_pending_sel, sel, __ATOMIC_SEQ_CST) & sel))
        __atomic_store_n(&si->vcpu_info[0].evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
}

/* Marks the port pending; a port already pending changes nothing. */
static inline void xen_2l_set_pending(struct xen_shared_info *si, unsigned port)
{
    port = (unsigned)array_index_nospec(port, XEN_2L_PORTS);
    uint64_t bit = 1ULL << (port % 64);
    if (!(__atomic_fetch_or(&si->evtchn_pending[port / 64], bit, __ATOMIC_SEQ_CST) & bit))
        xen_2l_notify(si, port);
}

/* set_timer_op's deadline for `timeout` at `now` (0: cancel): a negative
 * (wrapped) one or one 2^50 ns or more away is now + 100 ms, as Xen
 * (neither "never", which would lose the event a guest with work wants,
 * nor "now", which would spin it); anything else as given (the past: due). */
static inline uint64_t xen_timer_deadline(uint64_t timeout, uint64_t now)
{
    if (timeout && ((int64_t)timeout < 0 ||
                    (timeout > now && ((timeout - now) >> XEN_HUGE_TIMEOUT_BITS))))
        return now + XEN_HUGE_TIMEOUT_NS;
    return timeout;
}
