/* Xen-ABI test guest: VCPUOP for its one vCPU, Xen's timers (the 100 Hz
 * periodic timer a PV vCPU starts with, set/stop_periodic_timer,
 * set/stop_singleshot_timer sharing set_timer_op's timer), SCHEDOP_poll
 * (a pending port returns at once, a timeout, a timer waking it, events
 * masked throughout) and an IPI port it sends to itself, written from
 * Xen's public interface. Beside each, the hostile values: other vCPUs,
 * periods under 1 ms and past 2^63, more than 128 ports, ports that are
 * no ports, pointers at hv. EVTCHNOP_status of each kind of port (closed,
 * the console's interdomain, a VIRQ's, an IPI's, unbound for itself and
 * for dom0) and its refusals. It ends with VCPUOP_down of its last vCPU,
 * which Xen takes as shutdown poweroff. */
#include "tests/guests/xen/xen_events.h"

struct sched_poll_arg {
    uint32_t *ports;
    uint32_t nr_ports, pad;
    uint64_t timeout;
};

static long poll(uint32_t *ports, uint32_t n, uint64_t timeout)
{
    struct sched_poll_arg p = {ports, n, 0, timeout};
    return hcall(XEN_HC_sched_op, XEN_SCHEDOP_poll, (uint64_t)&p, 0);
}

static long set_periodic(uint64_t ns)
{
    return vcpu_op(XEN_VCPUOP_set_periodic_timer, 0, &ns);
}

static long set_singleshot(uint64_t abs_ns)
{
    struct { uint64_t timeout; uint32_t flags, pad; } a = {abs_ns, 0, 0};
    return vcpu_op(XEN_VCPUOP_set_singleshot_timer, 0, &a);
}

/* Spins with events unmasked for `ns`: the ticks that come. */
static unsigned ticks_in(uint64_t ns, uint64_t *took)
{
    unsigned before = ticks;
    uint64_t t0 = now_ns();
    while (now_ns() - t0 < ns)
        __asm__ volatile("pause");
    *took = now_ns() - t0;
    return ticks - before;
}

/* Blocks (SCHEDOP_block: events unmasked, asleep until one comes) again
 * and again for `ns`, as Mini-OS idles: the ticks that woke it. */
static unsigned ticks_blocking(uint64_t ns, uint64_t *took)
{
    volatile uint8_t *mask = &si_page.vcpu_info[0].evtchn_upcall_mask;
    unsigned before = ticks;
    uint64_t t0 = now_ns();
    while (now_ns() - t0 < ns) {
        *mask = 1;
        block();
    }
    *mask = 0;
    *took = now_ns() - t0;
    return ticks - before;
}

static void vcpu_checks(void)
{
    check(vcpu_op(XEN_VCPUOP_is_up, 0, 0) == 1, "is_up(0) 1", "other");
    check(vcpu_op(XEN_VCPUOP_is_up, 1, 0) == -XEN_ENOENT, "is_up(1) -ENOENT", "other");
    check(vcpu_op(XEN_VCPUOP_is_up, 0xffffffffu, 0) == -XEN_ENOENT, "is_up(2^32-1) -ENOENT",
          "other");
    check(vcpu_op(XEN_VCPUOP_up, 0, 0) == 0, "up(0): it is up, 0", "other");
    check(vcpu_op(XEN_VCPUOP_initialise, 0, 0) == -XEN_EEXIST, "initialise(0) -EEXIST", "other");
    check(vcpu_op(XEN_VCPUOP_down, 3, 0) == -XEN_ENOENT, "down(3) -ENOENT", "other");
    check(vcpu_op(XEN_VCPUOP_register_vcpu_info, 0, 0) == -XEN_ENOSYS,
          "register_vcpu_info -ENOSYS", "other");
    check(vcpu_op(99, 0, 0) == -XEN_ENOSYS, "an unknown command -ENOSYS", "other");
    uint64_t half_ms = 500000, huge = 1ULL << 63;
    check(vcpu_op(XEN_VCPUOP_set_periodic_timer, 0, &half_ms) == -XEN_EINVAL,
          "periodic 0.5 ms -EINVAL", "other");
    check(vcpu_op(XEN_VCPUOP_set_periodic_timer, 0, &huge) == -XEN_EINVAL,
          "periodic 2^63 ns -EINVAL", "other");
    check(vcpu_op(XEN_VCPUOP_set_periodic_timer, 0, (void *)HV_ADDR) == -XEN_EFAULT,
          "periodic: argument in hv -EFAULT", "other");
    check(vcpu_op(XEN_VCPUOP_set_singleshot_timer, 0, (void *)HV_ADDR) == -XEN_EFAULT,
          "singleshot: argument in hv -EFAULT", "other");
}

struct runstate_info { /* vcpu.h's struct vcpu_runstate_info */
    int32_t state;
    uint64_t state_entry_time, time[4]; /* running, runnable, blocked, offline */
};
_Static_assert(sizeof(struct runstate_info) == 48, "vcpu_runstate_info");

/* VCPUOP_get_runstate_info: running now, since a time in the past; 30 ms
 * of blocking shows as blocked time, the spinning around it as running
 * time; its refusals. */
static void runstate_checks(const struct xen_start_info *si)
{
    struct runstate_info a, b;
    __builtin_memset(&a, 0x55, sizeof(a));
    long rc = vcpu_op(XEN_VCPUOP_get_runstate_info, 0, &a);
    uint64_t now = now_ns();
    check(rc == 0 && a.state == 0 && a.state_entry_time <= now && a.time[0] > 0 && a.time[3] == 0,
          "get_runstate_info: running, since the past, running time counted", "rc %ld state %d entry %lu now %lu",
          rc, a.state, (unsigned long)a.state_entry_time, (unsigned long)now);
    uint64_t took, until = now_ns() + 30 * MS;
    while (now_ns() < until) { /* blocked until its single-shot timer */
        set_singleshot(until);
        block();
    }
    ticks_in(5 * MS, &took);
    rc = vcpu_op(XEN_VCPUOP_get_runstate_info, 0, &b);
    check(rc == 0 && b.state == 0 && b.time[2] >= a.time[2] + 20 * MS && b.time[0] > a.time[0] &&
              b.state_entry_time > a.state_entry_time,
          "get_runstate_info after 30 ms blocked: blocked time grew by it, running time too",
          "rc %ld blocked +%lu ns running +%lu ns", rc, (unsigned long)(b.time[2] - a.time[2]),
          (unsigned long)(b.time[0] - a.time[0]));
    check(vcpu_op(XEN_VCPUOP_get_runstate_info, 1, &b) == -XEN_ENOENT, "get_runstate_info(1) -ENOENT",
          "other");
    check(vcpu_op(XEN_VCPUOP_get_runstate_info, 0, (void *)HV_ADDR) == -XEN_EFAULT,
          "get_runstate_info into hv -EFAULT", "other");
    check(vcpu_op(XEN_VCPUOP_get_runstate_info, 0, (void *)(0x800000000000ULL - 24ULL)) == -XEN_EFAULT,
          "get_runstate_info across the lower half's end -EFAULT", "other");
    uint64_t l4 = *(volatile uint64_t *)si->pt_base;
    check(vcpu_op(XEN_VCPUOP_get_runstate_info, 0, (void *)si->pt_base) == -XEN_EFAULT &&
              *(volatile uint64_t *)si->pt_base == l4,
          "get_runstate_info into its page tables -EFAULT, unchanged", "other");
}

static void timer_checks(void)
{
    uint64_t took;
    /* The periodic timer Xen starts a PV vCPU with: 100 Hz, counting once
     * VIRQ_TIMER is bound. Never faster than its period (hv keeps no
     * backlog: a late tick is one tick). */
    unsigned got = ticks_blocking(200 * MS, &took);
    xprint("xen-vcpuop: default period: %u ticks in %lu ms\n", got, (unsigned long)(took / MS));
    check(got >= 3 && got <= took / (10 * MS) + 1, "the default periodic timer: 100 Hz",
          "%u ticks in %lu ms", got, (unsigned long)(took / MS));
    check(set_periodic(40 * MS) == 0, "set_periodic_timer 40 ms", "refused");
    got = ticks_blocking(400 * MS, &took);
    xprint("xen-vcpuop: 40 ms period: %u ticks in %lu ms\n", got, (unsigned long)(took / MS));
    check(got >= 2 && got <= took / (40 * MS) + 1, "periodic 40 ms: at most one a period",
          "%u ticks in %lu ms", got, (unsigned long)(took / MS));
    check(vcpu_op(XEN_VCPUOP_stop_periodic_timer, 0, 0) == 0, "stop_periodic_timer", "refused");
    ticks_in(2 * MS, &took); /* one already due may still come */
    got = ticks_in(100 * MS, &took);
    check(got == 0, "stopped: no tick", "%u ticks", got);

    /* The single-shot timer, by VCPUOP and by set_timer_op: one timer. */
    check(set_singleshot(now_ns() + 5 * MS) == 0, "set_singleshot_timer", "refused");
    got = ticks_in(60 * MS, &took);
    check(got == 1, "singleshot 5 ms: one tick", "%u ticks", got);
    unsigned before = ticks;
    check(set_singleshot(0) == 0 && ticks == before + 1, "singleshot 0 (passed): the tick at once",
          "%u ticks", ticks - before);
    set_singleshot(now_ns() + 5 * MS);
    check(vcpu_op(XEN_VCPUOP_stop_singleshot_timer, 0, 0) == 0, "stop_singleshot_timer",
          "refused");
    got = ticks_in(40 * MS, &took);
    check(got == 0, "singleshot stopped: no tick", "%u ticks", got);
    set_timer(now_ns() + 5 * MS);
    vcpu_op(XEN_VCPUOP_stop_singleshot_timer, 0, 0);
    got = ticks_in(40 * MS, &took);
    check(got == 0, "stop_singleshot stops set_timer_op's timer (Xen's one timer)", "%u ticks",
          got);
    set_singleshot(now_ns() + 5 * MS);
    set_timer(0);
    got = ticks_in(40 * MS, &took);
    check(got == 0, "set_timer_op 0 cancels the VCPUOP timer", "%u ticks", got);
}

static void poll_checks(void)
{
    volatile uint8_t *mask = &si_page.vcpu_info[0].evtchn_upcall_mask;
    uint32_t port = timer_port, ports[130];
    *mask = 1; /* a poll's waker need not be delivered: Xen's spin-lock use */
    check(poll(&port, 129, 0) == -XEN_EINVAL, "poll: 129 ports -EINVAL", "other");
    check(poll((uint32_t *)HV_ADDR, 1, 0) == -XEN_EFAULT, "poll: ports in hv -EFAULT", "other");
    check(hcall(XEN_HC_sched_op, XEN_SCHEDOP_poll, HV_ADDR, 0) == -XEN_EFAULT,
          "poll: argument in hv -EFAULT", "other");
    port = 256;
    check(poll(&port, 1, 0) == -XEN_EINVAL, "poll: port 256 -EINVAL", "other");
    port = 4096;
    check(poll(&port, 1, 0) == -XEN_EINVAL, "poll: port 4096 -EINVAL", "other");
    port = 200;
    check(poll(&port, 1, 0) == -XEN_EINVAL, "poll: a free port -EINVAL", "other");
    for (unsigned i = 0; i < 128; i++)
        ports[i] = timer_port;
    uint64_t t0 = now_ns();
    long rc = poll(ports, 128, now_ns() + 20 * MS);
    uint64_t took = now_ns() - t0;
    check(rc == 0 && took >= 20 * MS && took < 1000 * MS, "poll 128 ports: the timeout ends it",
          "rc %ld after %lu ms", rc, (unsigned long)(took / MS));
    t0 = now_ns();
    rc = poll(ports, 1, 1);
    check(rc == 0 && now_ns() - t0 < 20 * MS, "poll with a timeout passed: at once", "rc %ld", rc);

    /* A timer's event wakes it, and is left pending (events masked). */
    set_timer(now_ns() + 10 * MS);
    t0 = now_ns();
    rc = poll(ports, 1, now_ns() + 2000 * MS);
    took = now_ns() - t0;
    check(rc == 0 && took >= 10 * MS && took < 1000 * MS && port_pending(timer_port),
          "poll woken by the timer's event, left pending", "rc %ld after %lu ms pending %d", rc,
          (unsigned long)(took / MS), port_pending(timer_port));
    t0 = now_ns();
    rc = poll(ports, 1, now_ns() + 2000 * MS);
    check(rc == 0 && now_ns() - t0 < 20 * MS, "poll with the port pending: at once", "rc %ld", rc);
    __atomic_and_fetch(&si_page.evtchn_pending[timer_port / 64], ~(1ULL << (timer_port % 64)),
                       __ATOMIC_SEQ_CST);

    /* A poll's timeout is not the single-shot timer: that still comes. */
    set_timer(now_ns() + 40 * MS);
    t0 = now_ns();
    rc = poll(ports, 1, now_ns() + 5 * MS);
    took = now_ns() - t0;
    check(rc == 0 && took < 35 * MS && !port_pending(timer_port),
          "poll timeout before the timer: no event yet", "after %lu ms pending %d",
          (unsigned long)(took / MS), port_pending(timer_port));
    t0 = now_ns();
    while (!port_pending(timer_port) && now_ns() - t0 < 1000 * MS)
        hcall(XEN_HC_xen_version, 0, 0, 0);
    check(port_pending(timer_port), "the timer after the poll's timeout still ticks", "none");
    __atomic_and_fetch(&si_page.evtchn_pending[timer_port / 64], ~(1ULL << (timer_port % 64)),
                       __ATOMIC_SEQ_CST);
    *mask = 0;
    hcall(XEN_HC_xen_version, 0, 0, 0);
}

struct evtchn_status {
    uint16_t dom;
    uint32_t port, status, vcpu;
    union {
        struct { uint16_t dom; } unbound;
        struct { uint16_t dom; uint32_t port; } interdomain;
        uint32_t virq;
    } u;
};
_Static_assert(sizeof(struct evtchn_status) == 24, "event_channel.h's evtchn_status");

/* EVTCHNOP_status of port: its status, or the call's error (negative). */
static long port_status(uint32_t port, struct evtchn_status *st)
{
    *st = (struct evtchn_status){.dom = XEN_DOMID_SELF, .port = port, .status = 99, .vcpu = 99};
    st->u.interdomain.dom = 0x5555;
    st->u.interdomain.port = 0x5555;
    long rc = evtchn(XEN_EVTCHNOP_status, st);
    return rc ? rc : (long)st->status;
}

static void ipi_checks(void)
{
    struct { uint32_t vcpu, port; } a = {1, 0};
    check(evtchn(XEN_EVTCHNOP_bind_ipi, &a) == -XEN_ENOENT, "bind_ipi: vCPU 1 -ENOENT", "other");
    check(evtchn(XEN_EVTCHNOP_bind_ipi, (void *)HV_ADDR) == -XEN_EFAULT,
          "bind_ipi: argument in hv -EFAULT", "other");
    a.vcpu = 0;
    long rc = evtchn(XEN_EVTCHNOP_bind_ipi, &a);
    check(rc == 0 && a.port > 1 && a.port < 256 && a.port != timer_port, "bind_ipi", "rc %ld port %u",
          rc, a.port);
    struct evtchn_status st;
    check(port_status(a.port, &st) == 5 && st.vcpu == 0, "status: the IPI port an IPI's", "other");
    ipi_port = a.port;
    check(port_op(XEN_EVTCHNOP_unmask, a.port) == 0, "unmask the IPI port", "refused");
    unsigned before = ipis;
    check(port_op(XEN_EVTCHNOP_send, a.port) == 0 && ipis == before + 1,
          "send to itself: the upcall on the send's return", "%u upcalls", ipis - before);
    /* Masked and polled: the send leaves it pending, the poll returns. */
    si_page.vcpu_info[0].evtchn_upcall_mask = 1;
    port_op(XEN_EVTCHNOP_send, a.port);
    uint32_t p = a.port;
    uint64_t t0 = now_ns();
    rc = poll(&p, 1, now_ns() + 2000 * MS);
    check(rc == 0 && now_ns() - t0 < 50 * MS && port_pending(a.port) && ipis == before + 1,
          "masked IPI: pending, the poll on it returns at once", "rc %ld ipis %u", rc,
          ipis - before);
    si_page.vcpu_info[0].evtchn_upcall_mask = 0;
    hcall(XEN_HC_xen_version, 0, 0, 0);
    check(ipis == before + 2, "unmasked: the pending IPI delivered", "%u", ipis - before);
    check(port_op(XEN_EVTCHNOP_close, a.port) == 0, "close the IPI port", "refused");
    check(port_op(XEN_EVTCHNOP_send, a.port) == -XEN_EINVAL, "send on it closed -EINVAL", "other");
    ipi_port = 0;
}

static void status_checks(void)
{
    struct evtchn_status st;
    check(port_status(0, &st) == 0, "status: port 0 closed", "other");
    check(port_status(255, &st) == 0 && st.vcpu == 0, "status: a free port closed", "other");
    check(port_status(256, &st) == -XEN_EINVAL, "status: port 256 -EINVAL", "other");
    check(port_status(0xffffffffu, &st) == -XEN_EINVAL, "status: port 2^32-1 -EINVAL", "other");
    check(port_status(1, &st) == 2 && st.u.interdomain.dom == 0 && st.u.interdomain.port == 0,
          "status: the console's port interdomain with dom0", "dom %u port %u",
          st.u.interdomain.dom, st.u.interdomain.port);
    check(port_status(timer_port, &st) == 4 && st.u.virq == XEN_VIRQ_TIMER && st.vcpu == 0,
          "status: the timer's port a VIRQ's", "virq %u", st.u.virq);
    st.dom = 1;
    check(evtchn(XEN_EVTCHNOP_status, &st) == -XEN_ESRCH, "status: another domain -ESRCH", "other");
    check(evtchn(XEN_EVTCHNOP_status, (void *)HV_ADDR) == -XEN_EFAULT, "status: argument in hv -EFAULT",
          "other");
    check(evtchn(XEN_EVTCHNOP_status, (void *)(0x800000000000ULL - 8)) == -XEN_EFAULT,
          "status: argument across the lower half's end -EFAULT", "other");
    struct { uint16_t dom, remote; uint32_t port; } a = {XEN_DOMID_SELF, 0, 0}, b = {XEN_DOMID_SELF,
                                                                                       XEN_DOMID_SELF, 0};
    check(evtchn(XEN_EVTCHNOP_alloc_unbound, &a) == 0 && evtchn(XEN_EVTCHNOP_alloc_unbound, &b) == 0,
          "two unbound ports", "refused");
    check(port_status(a.port, &st) == 1 && st.u.unbound.dom == 0, "status: unbound for dom0",
          "status %u dom 0x%x", st.status, st.u.unbound.dom);
    check(port_status(b.port, &st) == 1 && st.u.unbound.dom == XEN_DOMID_SELF,
          "status: unbound for itself", "status %u dom 0x%x", st.status, st.u.unbound.dom);
    port_op(XEN_EVTCHNOP_close, a.port);
    port_op(XEN_EVTCHNOP_close, b.port);
    check(port_status(b.port, &st) == 0, "status: closed once closed", "status %u", st.status);
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    check(events_setup(si), "shared info mapped, event callback set", "refused");
    vcpu_checks();
    uint32_t port;
    long rc = bind_virq(XEN_VIRQ_TIMER, 0, &port);
    check(rc == 0 && port > 1, "bind_virq(VIRQ_TIMER)", "rc %ld", rc);
    timer_port = port;
    port_op(XEN_EVTCHNOP_unmask, port);
    si_page.vcpu_info[0].evtchn_upcall_mask = 0;
    hcall(XEN_HC_xen_version, 0, 0, 0);
    timer_checks();
    runstate_checks(si);
    poll_checks();
    ipi_checks();
    status_checks();
    xprint("xen-vcpuop: all %u checks, %u failed\n", checks_run, checks_failed);
    vcpu_op(XEN_VCPUOP_down, 0, 0); /* its last vCPU: the guest powers off */
    xprint("FAIL: VCPUOP_down of the last vCPU returned\n");
    shutdown(XEN_SHUTDOWN_crash);
}
