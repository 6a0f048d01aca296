/* The event hypercalls with bad arguments, and the semantics of the calls
 * the other ev-* guests do not cover: HV_CALL_POLL, status of free ports,
 * running out of ports, closing. Where abi.h / abi_event.h / docs/abi.md
 * name the error the check demands it (bad port numbers, virqs and vCPUs
 * are -HV_EINVAL, bad pointers -HV_EFAULT, an unknown peer -HV_ESRCH, a
 * closed port -HV_EINVAL); where they are silent the line says "info" and
 * only shows hv's answer. Self-checking, one line per check.
 *
 * Booted as "ev-calls" beside a copy named "ev-calls-peer"
 * (tests/system/ev_cases.py), a guest that is certainly alive to bind to:
 * the peer only waits until ev-calls has ended, then exits 0. */
#include "ev_common.h"

#define UPPER_HALF 0xffff800000000000ull
#define NONCANONICAL 0x0000900000000000ull

static volatile uint64_t count;

static void info(const char *what, int64_t got)
{
    hvg_printf("%s: info: %s -> %lld\n", pv_name, what, (long long)got);
}

static void bad_ports(const char *call, int64_t (*fn)(uint64_t))
{
    static const uint64_t ports[] = { HV_EVTCHN_PORTS, HV_EVTCHN_PORTS + 1, 1ull << 32,
                                      1ull << 63, UINT64_MAX };
    char what[96];

    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++) {
        fmt_format(what, sizeof(what), "%s(%llu)", call, (unsigned long long)ports[i]);
        expect_eq(what, fn(ports[i]), -HV_EINVAL);
    }
}

static int64_t status_into_stack(uint64_t port)
{
    struct hv_evtchn_status st;
    return hvg_evtchn_status(port, &st);
}

/* A port in range that this guest has not bound, or -1. */
static int64_t free_port(void)
{
    for (int64_t p = HV_EVTCHN_PORTS - 1; p >= 0; p--) {
        struct hv_evtchn_status st;
        memset(&st, 0xff, sizeof(st));
        if (hvg_evtchn_status((uint64_t)p, &st) == 0 && st.state == HV_EVTCHN_FREE)
            return p;
    }
    return -1;
}

static void upcall_and_binding(const struct hv_start_info *si, unsigned vcpu)
{
    expect_eq("set_upcall(upper half)", hvg_set_upcall(UPPER_HALF), -HV_EINVAL);
    expect_eq("set_upcall(0x0000800000000000)", hvg_set_upcall(HV_GUEST_LOWER_HALF_END), -HV_EINVAL);
    expect_eq("set_upcall(non-canonical)", hvg_set_upcall(NONCANONICAL | (1ull << 62)), -HV_EINVAL);

    expect_eq("bind_virq(HV_VIRQ_COUNT)", hvg_evtchn_bind_virq(HV_VIRQ_COUNT), -HV_EINVAL);
    expect_eq("bind_virq(2^32)", hvg_evtchn_bind_virq(1ull << 32), -HV_EINVAL);
    expect_eq("bind_virq(-1)", hvg_evtchn_bind_virq(UINT64_MAX), -HV_EINVAL);

    expect_eq("bind_ipi(vcpu_count)", hvg_evtchn_bind_ipi(si->vcpu_count), -HV_EINVAL);
    expect_eq("bind_ipi(HV_MAX_VCPUS)", hvg_evtchn_bind_ipi(HV_MAX_VCPUS), -HV_EINVAL);
    expect_eq("bind_ipi(2^32)", hvg_evtchn_bind_ipi(1ull << 32), -HV_EINVAL);

    expect_eq("alloc_unbound(NULL)", hvg_evtchn_alloc_unbound(NULL), -HV_EFAULT);
    expect_eq("alloc_unbound(upper half)",
              hvg_evtchn_alloc_unbound((const char *)(uintptr_t)UPPER_HALF), -HV_EFAULT);
    expect_error("alloc_unbound(\"\")", hvg_evtchn_alloc_unbound(""));
    expect_error("alloc_unbound(a 40-character name)",
                 hvg_evtchn_alloc_unbound("a-name-of-forty-characters-0123456789xyz"));
    info("alloc_unbound(\"no-such-guest\")", hvg_evtchn_alloc_unbound("no-such-guest"));

    expect_eq("bind_peer(\"no-such-guest\", 0)", hvg_evtchn_bind_peer("no-such-guest", 0),
              -HV_ESRCH);
    expect_eq("bind_peer(NULL, 0)", hvg_evtchn_bind_peer(NULL, 0), -HV_EFAULT);
    expect_eq("bind_peer(upper half, 0)",
              hvg_evtchn_bind_peer((const char *)(uintptr_t)UPPER_HALF, 0), -HV_EFAULT);
    expect_eq("bind_peer(\"ev-calls-peer\", HV_EVTCHN_PORTS)",
              hvg_evtchn_bind_peer("ev-calls-peer", HV_EVTCHN_PORTS), -HV_EINVAL);
    expect_eq("bind_peer(\"ev-calls-peer\", 2^32)",
              hvg_evtchn_bind_peer("ev-calls-peer", 1ull << 32), -HV_EINVAL);
    expect_error("bind_peer(\"ev-calls-peer\", a port it did not allocate for us)",
                 hvg_evtchn_bind_peer("ev-calls-peer", 7));
    expect_error("bind_peer(our own name, our timer port)",
                 hvg_evtchn_bind_peer(si->name, (uint64_t)hvg_timer_port(vcpu)));
}

static void ports(unsigned vcpu)
{
    bad_ports("send", hvg_evtchn_send);
    bad_ports("close", hvg_evtchn_close);
    bad_ports("unmask", hvg_evtchn_unmask);
    bad_ports("status", status_into_stack);

    int64_t p = hvg_evtchn_bind_ipi(vcpu);
    expect_true("bind_ipi(this vCPU) -> a port", p >= 0 && p < HV_EVTCHN_PORTS);
    if (p < 0)
        return;
    EV_MUST(hvg_event_handler((unsigned)p, ev_count, (void *)&count));
    expect_eq("status(port, NULL)", hvg_evtchn_status((uint64_t)p, NULL), -HV_EFAULT);
    expect_eq("status(port, upper half)",
              hvg_evtchn_status((uint64_t)p, (struct hv_evtchn_status *)(uintptr_t)UPPER_HALF),
              -HV_EFAULT);
    expect_eq("status(port, the read-only start info)",
              hvg_evtchn_status((uint64_t)p, (struct hv_evtchn_status *)(uintptr_t)
                                                 hvg_start_info()),
              -HV_EFAULT);

    /* The bad calls above changed nothing: events still arrive. */
    expect_eq("send after all that", hvg_evtchn_send((uint64_t)p), 0);
    expect_eq("... delivered", (int64_t)count, 1);

    int64_t f = free_port();
    expect_true("a free port exists", f >= 0);
    if (f >= 0) {
        struct hv_evtchn_status st;
        memset(&st, 0xff, sizeof(st));
        expect_eq("status(a free port)", hvg_evtchn_status((uint64_t)f, &st), 0);
        expect_eq("... HV_EVTCHN_FREE", st.state, HV_EVTCHN_FREE);
        expect_eq("send(a free port)", hvg_evtchn_send((uint64_t)f), -HV_EINVAL);
        expect_eq("close(a free port)", hvg_evtchn_close((uint64_t)f), -HV_EINVAL);
        info("unmask(a free port)", hvg_evtchn_unmask((uint64_t)f));
    }

    /* HV_CALL_POLL. */
    uint32_t list[2] = { (uint32_t)p, HV_EVTCHN_PORTS };
    expect_eq("poll(NULL, 1)", hvg_poll(NULL, 1, hvg_now() + HVG_MS(1)), -HV_EFAULT);
    expect_eq("poll(upper half, 1)",
              hvg_poll((const uint32_t *)(uintptr_t)UPPER_HALF, 1, hvg_now() + HVG_MS(1)),
              -HV_EFAULT);
    expect_eq("poll([port, HV_EVTCHN_PORTS], 2)", hvg_poll(list, 2, hvg_now() + HVG_MS(1)),
              -HV_EINVAL);
    expect_error("poll(list, 2^32)", hvg_poll(list, 1ull << 32, hvg_now() + HVG_MS(1)));
    info("poll(list, 0, now + 1 ms)", hvg_poll(list, 0, hvg_now() + HVG_MS(1)));

    hvg_evtchn_mask((unsigned)p);
    uint64_t t0 = hvg_now();
    expect_eq("poll([port], 1, now + 3 ms), nothing pending", hvg_poll(list, 1, t0 + HVG_MS(3)),
              -HV_ETIMEDOUT);
    uint64_t t1 = hvg_now();
    expect_true("... returned at the deadline, not before", t1 >= t0 + HVG_MS(3));
    hvg_printf("%s: poll timed out %llu ns after its deadline\n", pv_name,
               (unsigned long long)(t1 - t0 - HVG_MS(3)));
    expect_eq("poll(a deadline in the past), nothing pending", hvg_poll(list, 1, 1), -HV_ETIMEDOUT);
    expect_eq("send on the masked port", hvg_evtchn_send((uint64_t)p), 0);
    t0 = hvg_now();
    expect_eq("poll([port]) with the port pending (masked)", hvg_poll(list, 1, t0 + HVG_MS(50)), 0);
    expect_true("... at once (within 10 ms)", hvg_now() - t0 < HVG_MS(10));
    expect_true("... the port is still pending", hvg_evtchn_is_pending((unsigned)p));
    expect_eq("... nothing delivered while masked", (int64_t)count, 1);
    expect_eq("unmask", hvg_evtchn_unmask((uint64_t)p), 0);
    expect_eq("... delivers", (int64_t)count, 2);

    expect_eq("close", hvg_evtchn_close((uint64_t)p), 0);
    expect_eq("send on the closed port", hvg_evtchn_send((uint64_t)p), -HV_EINVAL);
    expect_eq("close it again", hvg_evtchn_close((uint64_t)p), -HV_EINVAL);
    expect_eq("unmask the closed port", hvg_evtchn_unmask((uint64_t)p), -HV_EINVAL);
}

static void exhaustion(unsigned vcpu)
{
    static int64_t got[HV_EVTCHN_PORTS + 1];
    unsigned n = 0;
    int64_t last = 0;

    while (n < HV_EVTCHN_PORTS + 1) {
        last = hvg_evtchn_bind_ipi(vcpu);
        if (last < 0)
            break;
        got[n++] = last;
    }
    hvg_printf("%s: bound %u IPI ports before %lld\n", pv_name, n, (long long)last);
    expect_true("running out of ports is an error", last < 0);
    expect_eq("... -HV_ENOMEM", last, -HV_ENOMEM);
    bool in_range = true, distinct = true;
    for (unsigned i = 0; i < n; i++) {
        in_range &= got[i] >= 0 && got[i] < HV_EVTCHN_PORTS;
        for (unsigned j = 0; j < i; j++)
            distinct &= got[i] != got[j];
    }
    expect_true("every port number in range", in_range);
    expect_true("no port number twice", distinct);
    unsigned closed = 0;
    for (unsigned i = 0; i < n; i++)
        closed += hvg_evtchn_close((uint64_t)got[i]) == 0;
    expect_eq("closing them all", closed, n);
    int64_t again = hvg_evtchn_bind_ipi(vcpu);
    expect_true("a port can be bound again", again >= 0 && again < HV_EVTCHN_PORTS);
    if (again >= 0)
        hvg_evtchn_close((uint64_t)again);
}

static int peer(unsigned vcpu)
{
    /* Alive until ev-calls has ended (no channel joins the two, so hv owes
     * this guest no notice: it looks every millisecond). */
    uint64_t give_up = hvg_now() + EV_TIMEOUT_NS;
    struct hv_guest_info gi;
    do {
        hvg_sleep_until(vcpu, hvg_now() + HVG_MS(1));
        memset(&gi, 0, sizeof(gi));
        hvg_guest_info(&gi);
    } while (gi.guests_running > 1 && hvg_now() < give_up);
    hvg_printf("%s: outlived ev-calls: %s\n", pv_name, gi.guests_running == 1 ? "ok" : "FAILED");
    return gi.guests_running == 1 ? 0 : 1;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    EV_MUST(hvg_events_init(vcpu));
    if (strcmp(si->name, "ev-calls-peer") == 0)
        return peer(vcpu);
    expect_eq("hypercall HV_CALL_COUNT (29)", hvg_hypercall0(HV_CALL_COUNT), -HV_ENOSYS);
    upcall_and_binding(si, vcpu);
    ports(vcpu);
    exhaustion(vcpu);
    /* The timer still works after all that. */
    expect_eq("sleep 1 ms", hvg_sleep_until(vcpu, hvg_now() + HVG_MS(1)), 0);
    /* Last, as it might take the timer from the SDK's port. */
    info("bind_virq(HV_VIRQ_TIMER) a second time on this vCPU",
         hvg_evtchn_bind_virq(HV_VIRQ_TIMER));
    return pv_finish();
}
