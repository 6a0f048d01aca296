/* Xen's 2-level event rules and set_timer_op's timeout rule
 * (hv/xen/xen_2l.h) on a shared-info page: what is set, in which order
 * the upcall flag follows, and what a masked, already pending or hostile
 * port does; timeouts 0, past, near, wrapped and far. */
#include "hv/xen/xen_2l.h"

#include "tests/unit/check.h"

static struct xen_shared_info si;

static void reset(void)
{
    memset(&si, 0, sizeof(si));
}

static int pending(unsigned port)
{
    return (si.evtchn_pending[port / 64] >> (port % 64)) & 1;
}

static void set_pending_notifies_once(void)
{
    reset();
    xen_2l_set_pending(&si, 70);
    CHECK(pending(70));
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_pending_sel, 1u << 1);
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_upcall_pending, 1);
    /* The guest takes the upcall flag but not yet the selector: another
     * port of the same word does not raise the flag again (Xen's rule). */
    si.vcpu_info[0].evtchn_upcall_pending = 0;
    xen_2l_set_pending(&si, 71);
    CHECK(pending(71));
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_upcall_pending, 0);
    /* Another word's port does. */
    xen_2l_set_pending(&si, 2);
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_pending_sel, (1u << 1) | 1u);
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_upcall_pending, 1);
}

static void already_pending_changes_nothing(void)
{
    reset();
    si.evtchn_pending[0] = 1u << 5;
    xen_2l_set_pending(&si, 5);
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_pending_sel, 0);
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_upcall_pending, 0);
}

static void masked_port_waits_for_unmask(void)
{
    reset();
    si.evtchn_mask[3] = 1ull << 63;
    xen_2l_set_pending(&si, 255);
    CHECK(pending(255));
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_pending_sel, 0);
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_upcall_pending, 0);
    si.evtchn_mask[3] = 0; /* what EVTCHNOP_unmask clears, then notifies */
    xen_2l_notify(&si, 255);
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_pending_sel, 1u << 3);
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_upcall_pending, 1);
    /* Notifying a port that is not pending does nothing. */
    reset();
    xen_2l_notify(&si, 9);
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_pending_sel, 0);
    CHECK_EQ_U64(si.vcpu_info[0].evtchn_upcall_pending, 0);
}

static void hostile_port_stays_in_the_bitmaps(void)
{
    /* Callers check ports first; a port past the bitmaps is clamped (to
     * 0) rather than reaching past them. */
    reset();
    xen_2l_set_pending(&si, 0xffffffffu);
    xen_2l_set_pending(&si, XEN_2L_PORTS);
    for (unsigned w = 4; w < 64; w++)
        CHECK_EQ_U64(si.evtchn_pending[w], 0);
    CHECK_EQ_U64(si.evtchn_pending[0], 1);
    CHECK_EQ_U64(si.evtchn_pending[1] | si.evtchn_pending[2] | si.evtchn_pending[3], 0);
}

static void timeouts_as_xen(void)
{
    const uint64_t now = 5000000000ull, huge = 100000000ull;
    CHECK_EQ_U64(xen_timer_deadline(0, now), 0);                      /* cancel */
    CHECK_EQ_U64(xen_timer_deadline(1, now), 1);                      /* past: due */
    CHECK_EQ_U64(xen_timer_deadline(now, now), now);
    CHECK_EQ_U64(xen_timer_deadline(now + 10000000, now), now + 10000000);
    CHECK_EQ_U64(xen_timer_deadline(now + (1ull << 50) - 1, now), now + (1ull << 50) - 1);
    CHECK_EQ_U64(xen_timer_deadline(now + (1ull << 50), now), now + huge); /* far */
    CHECK_EQ_U64(xen_timer_deadline(now + (1ull << 60), now), now + huge);
    CHECK_EQ_U64(xen_timer_deadline(~0ull, now), now + huge);        /* wrapped */
    CHECK_EQ_U64(xen_timer_deadline(1ull << 63, now), now + huge);
    CHECK_EQ_U64(xen_timer_deadline((1ull << 63) - 1, now), now + huge);
}

int main(void)
{
    check_suite = "xen_2l";
    RUN_TEST(set_pending_notifies_once);
    RUN_TEST(already_pending_changes_nothing);
    RUN_TEST(masked_port_waits_for_unmask);
    RUN_TEST(hostile_port_stays_in_the_bitmaps);
    RUN_TEST(timeouts_as_xen);
    return check_finish();
}
