/* hv/event/evtchn.c against fake guests: the pending and mask bitmaps, the
 * selector and upcall flag, who gets woken, binding, closing and a peer's
 * end (races between host threads standing in for CPUs are
 * test_evtchn_race.c; the fake guests and stubs evtchn_fixture.h). */
#include "tests/unit/evtchn_fixture.h"

static void ipi_sets_pending_selector_and_upcall(void)
{
    struct fake a;
    make(&a, "a");
    int64_t p = evtchn_bind_ipi(&a.v[0], 1);
    CHECK(p >= 0);
    CHECK_EQ_U64(evtchn_send(&a.v[0], (uint64_t)p), 0);
    CHECK(pending(&a, (unsigned)p));
    CHECK_EQ_U64(a.shared.vcpu[1].upcall_pending, 1);
    CHECK_EQ_U64(a.shared.vcpu[1].pending_sel, 1ull << (p / 64));
    CHECK_EQ_U64(a.shared.vcpu[0].upcall_pending, 0); /* only the bound vCPU */
    CHECK_EQ_U64(wakes, 1);
    uint64_t events = stats_host.events;
    /* Already pending: no second notification, and no second event in
     * the statistics line's count (the guest sees one). */
    CHECK_EQ_U64(evtchn_send(&a.v[0], (uint64_t)p), 0);
    CHECK_EQ_U64(wakes, 1);
    CHECK_EQ_U64(stats_host.events, events);
    /* Cleared by the guest, sent again: one more. */
    a.shared.evtchn_pending[p / 64] = 0;
    CHECK_EQ_U64(evtchn_send(&a.v[0], (uint64_t)p), 0);
    CHECK_EQ_U64(stats_host.events, events + 1);
    done(&a);
}

static void masked_port_waits_for_unmask(void)
{
    struct fake a;
    make(&a, "a");
    int64_t p = evtchn_bind_ipi(&a.v[0], 0);
    a.shared.evtchn_mask[p / 64] |= 1ull << (p % 64);
    evtchn_send(&a.v[1], (uint64_t)p); /* from the other vCPU: vCPU 0 may wait */
    CHECK(pending(&a, (unsigned)p));
    CHECK_EQ_U64(a.shared.vcpu[0].upcall_pending, 0);
    CHECK_EQ_U64(wakes, 0);
    CHECK_EQ_U64(masked_wakes, 1); /* a poller of this port may still wake */
    CHECK_EQ_U64(evtchn_unmask(&a.v[0], (uint64_t)p), 0);
    CHECK_EQ_U64(a.shared.vcpu[0].upcall_pending, 1);
    CHECK_EQ_U64(wakes, 1);
    CHECK_EQ_U64(a.shared.evtchn_mask[p / 64], 0);
    done(&a);
}

/* A send on a port bound to the sender's own vCPU (the lean path): the
 * same bits as any raise, no wake-up (it runs), and when notified the
 * scheduler is offered its upcall; masked, already pending, sent by
 * another vCPU, or in a guest that ended, it is not. */
static void self_send_marks_and_offers_the_upcall(void)
{
    struct fake a;
    make(&a, "a");
    int64_t q = evtchn_bind_ipi(&a.v[0], 0);
    int64_t p = evtchn_bind_ipi(&a.v[1], 1);
    CHECK(q == 0 && p == 1);
    uint64_t events = stats_host.events;
    CHECK_EQ_U64(evtchn_send(&a.v[1], (uint64_t)p), 0);
    CHECK(pending(&a, (unsigned)p));
    CHECK_EQ_U64(a.shared.vcpu[1].pending_sel, 1);
    CHECK_EQ_U64(a.shared.vcpu[1].upcall_pending, 1);
    CHECK_EQ_U64(a.shared.vcpu[0].upcall_pending, 0);
    CHECK_EQ_U64(stats_host.events, events + 1);
    CHECK_EQ_U64(wakes + masked_wakes, 0);
    CHECK_EQ_U64(self_upcalls, 1);
    CHECK(self_upcall_vcpu == &a.v[1] && self_upcall_vs == &a.shared.vcpu[1]);
    /* Already pending: nothing more. */
    CHECK_EQ_U64(evtchn_send(&a.v[1], (uint64_t)p), 0);
    CHECK_EQ_U64(self_upcalls, 1);
    CHECK_EQ_U64(stats_host.events, events + 1);
    /* Masked: pending, no selector bit, no upcall offered, no wake-up. */
    a.shared.evtchn_pending[0] = 0;
    a.shared.vcpu[1].pending_sel = 0;
    a.shared.vcpu[1].upcall_pending = 0;
    a.shared.evtchn_mask[0] = 1ull << p;
    CHECK_EQ_U64(evtchn_send(&a.v[1], (uint64_t)p), 0);
    CHECK(pending(&a, (unsigned)p));
    CHECK_EQ_U64(a.shared.vcpu[1].pending_sel, 0);
    CHECK_EQ_U64(a.shared.vcpu[1].upcall_pending, 0);
    CHECK_EQ_U64(self_upcalls + wakes + masked_wakes, 1);
    CHECK_EQ_U64(stats_host.events, events + 2);
    /* Unmasked: delivered as if raised now (a notify, as before). */
    CHECK_EQ_U64(evtchn_unmask(&a.v[1], (uint64_t)p), 0);
    CHECK_EQ_U64(a.shared.vcpu[1].upcall_pending, 1);
    CHECK_EQ_U64(wakes, 1);
    /* The other vCPU's send on vCPU 0's port: a raise, its wake-up, no
     * upcall offered to the sender. */
    CHECK_EQ_U64(evtchn_send(&a.v[1], (uint64_t)q), 0);
    CHECK_EQ_U64(a.shared.vcpu[0].upcall_pending, 1);
    CHECK_EQ_U64(wakes, 2);
    CHECK_EQ_U64(self_upcalls, 1);
    /* Closed (by the other vCPU, say): refused. */
    CHECK_EQ_U64(evtchn_close(&a.v[0], (uint64_t)p), 0);
    CHECK_EQ_U64(evtchn_send(&a.v[1], (uint64_t)p), (uint64_t)-HV_EINVAL);
    /* A guest that ended raises nothing. */
    p = evtchn_bind_ipi(&a.v[1], 1);
    a.g.end = GUEST_EXITED;
    CHECK_EQ_U64(evtchn_send(&a.v[1], (uint64_t)p), 0);
    CHECK(!pending(&a, (unsigned)p));
    CHECK_EQ_U64(self_upcalls, 1);
    a.g.end = GUEST_ALIVE;
    done(&a);
}

static void virq_binds_once_per_vcpu(void)
{
    struct fake a;
    make(&a, "a");
    int64_t p = evtchn_bind_virq(&a.v[1], HV_VIRQ_TIMER);
    CHECK(p >= 0);
    CHECK_EQ_U64(evtchn_bind_virq(&a.v[1], HV_VIRQ_TIMER), (uint64_t)-HV_EEXIST);
    CHECK_EQ_U64(evtchn_bind_virq(&a.v[1], HV_VIRQ_COUNT), (uint64_t)-HV_EINVAL);
    evtchn_raise_virq(&a.v[1], HV_VIRQ_TIMER);
    CHECK(pending(&a, (unsigned)p));
    CHECK_EQ_U64(a.shared.vcpu[1].upcall_pending, 1);
    /* A VIRQ port cannot be sent on. */
    CHECK_EQ_U64(evtchn_send(&a.v[1], (uint64_t)p), (uint64_t)-HV_EINVAL);
    CHECK_EQ_U64(evtchn_bind_virq(&a.v[0], HV_VIRQ_CONSOLE) >= 0, 1);
    CHECK_EQ_U64(console_listeners, 1);
    done(&a);
    console_listeners = 0;
}

static void peers_connect_only_as_offered(void)
{
    struct fake a, b, c;
    make(&a, "a");
    make(&b, "b");
    make(&c, "c");
    int64_t offered = evtchn_alloc_unbound(&a.v[0], &b.g);
    CHECK(offered >= 0);
    /* c was not offered the port. */
    CHECK_EQ_U64(evtchn_bind_peer(&c.v[0], &a.g, (uint64_t)offered), (uint64_t)-HV_EINVAL);
    int64_t local = evtchn_bind_peer(&b.v[1], &a.g, (uint64_t)offered);
    CHECK(local >= 0);
    /* Binding twice to the same offer fails: it is taken. */
    CHECK_EQ_U64(evtchn_bind_peer(&b.v[0], &a.g, (uint64_t)offered), (uint64_t)-HV_EINVAL);
    CHECK_EQ_U64(evtchn_send(&b.v[1], (uint64_t)local), 0);
    CHECK(pending(&a, (unsigned)offered));
    CHECK_EQ_U64(evtchn_send(&a.v[0], (uint64_t)offered), 0);
    CHECK(pending(&b, (unsigned)local));
    CHECK_EQ_U64(b.shared.vcpu[1].upcall_pending, 1);
    struct hv_evtchn_status st;
    CHECK_EQ_U64(evtchn_status(&a.v[0], (uint64_t)offered, &st), 0);
    CHECK_EQ_U64(st.state, HV_EVTCHN_INTERGUEST);
    CHECK_STR_EQ(st.remote_name, "b");
    CHECK_EQ_U64(st.remote_port, (uint64_t)local);
    done(&a);
    done(&b);
    done(&c);
}

static void close_and_end_disconnect(void)
{
    struct fake a, b;
    make(&a, "a");
    make(&b, "b");
    int64_t pa = evtchn_alloc_unbound(&a.v[0], &b.g);
    int64_t pb = evtchn_bind_peer(&b.v[0], &a.g, (uint64_t)pa);
    int64_t notice = evtchn_bind_virq(&b.v[0], HV_VIRQ_NOTICE);
    CHECK(pa >= 0 && pb >= 0 && notice >= 0);
    /* a ends: b's side closes and b's notice VIRQ fires. */
    a.g.end = GUEST_EXITED;
    evtchn_guest_ended(&a.g);
    struct hv_evtchn_status st;
    evtchn_status(&b.v[0], (uint64_t)pb, &st);
    CHECK_EQ_U64(st.state, HV_EVTCHN_CLOSED_PEER);
    CHECK(pending(&b, (unsigned)notice));
    CHECK_EQ_U64(evtchn_send(&b.v[0], (uint64_t)pb), (uint64_t)-HV_EINVAL);
    /* Raising on an ended guest does nothing. */
    CHECK(!evtchn_raise(&a.g, (unsigned)pa));
    /* Closing frees the port and clears its pending bit. */
    evtchn_send(&b.v[0], (uint64_t)notice); /* -EINVAL, but harmless */
    CHECK_EQ_U64(evtchn_close(&b.v[0], (uint64_t)notice), 0);
    CHECK(!pending(&b, (unsigned)notice));
    CHECK_EQ_U64(evtchn_close(&b.v[0], (uint64_t)notice), (uint64_t)-HV_EINVAL);
    CHECK_EQ_U64(b.v[0].ev.virq_port[HV_VIRQ_NOTICE], NO_PORT);
    done(&a);
    done(&b);
}

/* A restarted guest's peers (a port closed when it ended, or one set aside
 * for it) get HV_VIRQ_PEER_RESTARTED once each; a guest with no port
 * naming it does not, nor the restarted guest itself. */
static void restart_notifies_peers_once(void)
{
    static struct fake a, b, c, d;
    make(&a, "a");
    make(&b, "b");
    make(&c, "c");
    make(&d, "d");
    a.g.next = &b.g;
    b.g.next = &c.g;
    c.g.next = &d.g;
    guest_list_head = &a.g;
    /* b connected to a (closed when a ends), c set a port aside for a
     * twice (one notice all the same), d has only a port for b. */
    int64_t pa = evtchn_alloc_unbound(&a.v[0], &b.g);
    int64_t pb = evtchn_bind_peer(&b.v[1], &a.g, (uint64_t)pa);
    int64_t pc1 = evtchn_alloc_unbound(&c.v[0], &a.g);
    int64_t pc2 = evtchn_alloc_unbound(&c.v[0], &a.g);
    int64_t pd = evtchn_alloc_unbound(&d.v[0], &b.g);
    int64_t rb = evtchn_bind_virq(&b.v[1], HV_VIRQ_PEER_RESTARTED);
    int64_t rc = evtchn_bind_virq(&c.v[0], HV_VIRQ_PEER_RESTARTED);
    int64_t rd = evtchn_bind_virq(&d.v[0], HV_VIRQ_PEER_RESTARTED);
    int64_t ra = evtchn_bind_virq(&a.v[0], HV_VIRQ_PEER_RESTARTED);
    CHECK(pa >= 0 && pb >= 0 && pc1 >= 0 && pc2 >= 0 && pd >= 0);
    CHECK(rb >= 0 && rc >= 0 && rd >= 0 && ra >= 0);
    a.g.end = GUEST_FAULTED;
    evtchn_guest_ended(&a.g);
    CHECK(!pending(&b, (unsigned)rb)); /* ended is not restarted */
    evtchn_free_table(&a.g);           /* its reaping */
    a.g.end = GUEST_ALIVE;             /* running again */
    evtchn_guest_restarted(&a.g);
    CHECK(pending(&b, (unsigned)rb));
    CHECK(pending(&c, (unsigned)rc));
    CHECK(!pending(&d, (unsigned)rd));
    CHECK(!a.g.evtchn); /* nothing of its own raised: its table is new */
    guest_list_head = NULL;
    done(&a);
    done(&b);
    done(&c);
    done(&d);
}

static void bad_ports_and_exhaustion(void)
{
    struct fake a;
    make(&a, "a");
    CHECK_EQ_U64(evtchn_send(&a.v[0], 0), (uint64_t)-HV_EINVAL);       /* no table yet */
    CHECK_EQ_U64(evtchn_unmask(&a.v[0], 999), (uint64_t)-HV_EINVAL);
    CHECK_EQ_U64(evtchn_bind_ipi(&a.v[0], 2), (uint64_t)-HV_EINVAL);    /* no vCPU 2 */
    struct hv_evtchn_status st;
    CHECK_EQ_U64(evtchn_status(&a.v[0], HV_EVTCHN_PORTS, &st), (uint64_t)-HV_EINVAL);
    for (unsigned i = 0; i < HV_EVTCHN_PORTS; i++)
        CHECK(evtchn_bind_ipi(&a.v[0], 0) == (int64_t)i);
    CHECK_EQ_U64(evtchn_bind_ipi(&a.v[0], 0), (uint64_t)-HV_ENOMEM);
    /* A freed port is reused, and starts with nothing pending. */
    evtchn_send(&a.v[0], 7);
    CHECK(pending(&a, 7));
    evtchn_close(&a.v[0], 7);
    CHECK_EQ_U64(evtchn_bind_ipi(&a.v[0], 1), 7);
    CHECK(!pending(&a, 7));
    done(&a);
}

/* Out-of-range numbers stay refused now that each check is followed by a
 * clamp (lib/nospec.h), which maps them to 0: port 0, VIRQ 0 and vCPU 0
 * are all in use here, so a clamp that took the place of its check would
 * show as an answer about them. */
static void out_of_range_never_reaches_index_zero(void)
{
    static const uint64_t far[] = {HV_EVTCHN_PORTS, HV_EVTCHN_PORTS + 1, 1ull << 32,
                                   1ull << 63, UINT64_MAX};
    struct fake a, b;
    make(&a, "a");
    make(&b, "b");
    CHECK_EQ_U64(evtchn_alloc_unbound(&a.v[0], &b.g), 0); /* a's port 0: offered to b */
    CHECK_EQ_U64(evtchn_bind_virq(&b.v[0], 0), 0);          /* b's port 0: VIRQ 0 */
    for (unsigned i = 1; i < HV_EVTCHN_PORTS; i++)          /* the last port is usable */
        CHECK(evtchn_bind_ipi(&b.v[1], 1) == (int64_t)i);
    b.shared.evtchn_pending[0] = 1; /* port 0 pending, masked: nothing else moves */
    b.shared.evtchn_mask[0] = 1;
    CHECK_EQ_U64(evtchn_send(&b.v[0], HV_EVTCHN_PORTS - 1), 0);
    CHECK(pending(&b, HV_EVTCHN_PORTS - 1));
    wakes = masked_wakes = 0;
    struct hv_evtchn_status st;
    for (size_t i = 0; i < sizeof(far) / sizeof(far[0]); i++) {
        uint64_t n = far[i];
        CHECK_EQ_U64(evtchn_send(&b.v[0], n), (uint64_t)-HV_EINVAL);
        CHECK_EQ_U64(evtchn_unmask(&b.v[0], n), (uint64_t)-HV_EINVAL);
        CHECK_EQ_U64(evtchn_close(&b.v[0], n), (uint64_t)-HV_EINVAL);
        CHECK_EQ_U64(evtchn_status(&b.v[0], n, &st), (uint64_t)-HV_EINVAL);
        CHECK_EQ_U64(evtchn_bind_virq(&a.v[0], n), (uint64_t)-HV_EINVAL);
        CHECK_EQ_U64(evtchn_bind_ipi(&a.v[0], n), (uint64_t)-HV_EINVAL);
        CHECK_EQ_U64(evtchn_bind_peer(&b.v[0], &a.g, n), (uint64_t)-HV_EINVAL);
    }
    static const unsigned far32[] = {HV_EVTCHN_PORTS, HV_EVTCHN_PORTS + 1, 1u << 31, UINT32_MAX};
    for (size_t i = 0; i < sizeof(far32) / sizeof(far32[0]); i++) {
        CHECK(!evtchn_pending(&b.g, far32[i]));
        CHECK(!evtchn_raise(&b.g, far32[i]));
    }
    CHECK_EQ_U64(evtchn_bind_ipi(&a.v[0], a.g.vcpu_count), (uint64_t)-HV_EINVAL);
    CHECK_EQ_U64(evtchn_bind_virq(&a.v[0], HV_VIRQ_COUNT), (uint64_t)-HV_EINVAL);
    evtchn_raise_virq(&b.v[0], HV_VIRQ_COUNT); /* not VIRQ 0's port */
    CHECK_EQ_U64(b.shared.evtchn_mask[0], 1); /* no unmask reached port 0 */
    CHECK_EQ_U64(wakes + masked_wakes, 0);    /* nothing was raised */
    /* Port 0 is as it was: still VIRQ 0, still bound; a's offer still open. */
    CHECK_EQ_U64(evtchn_status(&b.v[0], 0, &st), 0);
    CHECK_EQ_U64(st.state, HV_EVTCHN_VIRQ);
    CHECK_EQ_U64(evtchn_status(&a.v[0], 0, &st), 0);
    CHECK_EQ_U64(st.state, HV_EVTCHN_UNBOUND);
    done(&a);
    done(&b);
}

/* Only a send to another guest arms the direct hand-off, around its one
 * raise (and disarms it); an IPI send, a refused one and a raise from hv
 * never do. */
static void handoff_armed_only_around_an_interguest_raise(void)
{
    struct fake a, b;
    make(&a, "a");
    make(&b, "b");
    int64_t offered = evtchn_alloc_unbound(&a.v[0], &b.g);
    int64_t local = evtchn_bind_peer(&b.v[0], &a.g, (uint64_t)offered);
    int64_t ipi = evtchn_bind_ipi(&a.v[0], 1);
    CHECK(offered >= 0 && local >= 0 && ipi >= 0);
    unsigned arms = handoff_arms, armed_wakes = handoff_wakes, all = wakes;
    CHECK_EQ_U64(evtchn_send(&b.v[0], (uint64_t)local), 0);
    CHECK_EQ_U64(wakes, all + 1);
    CHECK_EQ_U64(handoff_arms, arms + 1);
    CHECK_EQ_U64(handoff_wakes, armed_wakes + 1); /* the raise's wake-up was armed */
    CHECK(!handoff_armed);
    CHECK_EQ_U64(evtchn_send(&a.v[0], (uint64_t)ipi), 0);
    CHECK_EQ_U64(wakes, all + 2);
    CHECK_EQ_U64(handoff_arms, arms + 1);
    CHECK_EQ_U64(handoff_wakes, armed_wakes + 1);
    CHECK_EQ_U64(evtchn_send(&a.v[0], HV_EVTCHN_PORTS + 5), (uint64_t)-HV_EINVAL);
    CHECK(evtchn_raise(&a.g, (unsigned)offered)); /* already pending: no wake-up */
    a.shared.evtchn_pending[offered / 64] = 0;
    CHECK(evtchn_raise(&a.g, (unsigned)offered));
    CHECK_EQ_U64(wakes, all + 3);
    CHECK_EQ_U64(handoff_arms, arms + 1);
    CHECK_EQ_U64(handoff_wakes, armed_wakes + 1);
    CHECK_EQ_U64(handoff_left_armed, 0);
    CHECK(!handoff_armed);
    done(&a);
    done(&b);
}

int main(void)
{
    check_suite = "evtchn";
    RUN_TEST(ipi_sets_pending_selector_and_upcall);
    RUN_TEST(masked_port_waits_for_unmask);
    RUN_TEST(self_send_marks_and_offers_the_upcall);
    RUN_TEST(virq_binds_once_per_vcpu);
    RUN_TEST(peers_connect_only_as_offered);
    RUN_TEST(close_and_end_disconnect);
    RUN_TEST(bad_ports_and_exhaustion);
    RUN_TEST(restart_notifies_peers_once);
    RUN_TEST(out_of_range_never_reaches_index_zero);
    RUN_TEST(handoff_armed_only_around_an_interguest_raise);
    return check_finish();
}
