/* Xen-ABI test guest: the timer tick of a Xen PV kernel (Mini-OS's shape),
 * written from Xen's public interface. It maps its shared-info page,
 * registers its event callback with set_callbacks, binds VIRQ_TIMER,
 * then sets timers (set_timer_op) and blocks (SCHEDOP_block), counting
 * the upcalls its callback takes in Xen's frame; it reads time from
 * vcpu_time_info. Beside each call, the hostile values: huge, wrapped and
 * past timeouts, VIRQs and vCPUs out of range, a double bind, unbound and
 * huge ports, pointers at hv. Prints "xen-timer: all N checks, M failed". */
#include "tests/guests/xen/xen_events.h"

/* Sets a timer for `timeout` and blocks until a tick; how long it slept,
 * and how many ticks came. Events are masked while it looks at the count
 * (block unmasks them in the same step): a tick between the look and the
 * block would otherwise leave it asleep with nothing to wake it. */
static uint64_t sleep_for(uint64_t timeout, unsigned *got)
{
    volatile uint8_t *mask = &si_page.vcpu_info[0].evtchn_upcall_mask;
    unsigned before = ticks;
    uint64_t t0 = now_ns();
    *mask = 1;
    set_timer(timeout);
    while (ticks == before && now_ns() - t0 < 2000 * MS) {
        block();
        *mask = 1;
    }
    *mask = 0;
    *got = ticks - before;
    return now_ns() - t0;
}

/* Spins with events as they are for `ns`: what arrives meanwhile. */
static unsigned spin_for(uint64_t ns)
{
    unsigned before = ticks;
    uint64_t t0 = now_ns();
    while (now_ns() - t0 < ns)
        __asm__ volatile("pause");
    return ticks - before;
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    struct xen_vcpu_info *vi = &si_page.vcpu_info[0];
    check(hcall(XEN_HC_update_va_mapping, (uint64_t)&si_page, si->shared_info | 3, 2) == 0,
          "map the shared-info page", "refused");
    volatile struct xen_vcpu_time_info *tv = &vi->time;
    check(tv->version && !(tv->version & 1) && tv->tsc_to_system_mul,
          "vcpu_time_info filled in", "version %u mul %u", tv->version, tv->tsc_to_system_mul);
    check(si_page.wc_version && !(si_page.wc_version & 1) && si_page.wc_sec > 1500000000u,
          "wall clock filled in", "version %u sec %u", si_page.wc_version, si_page.wc_sec);
    uint64_t a = now_ns(), b = now_ns();
    check(a > 0 && b >= a, "system time moves forward", "%lu then %lu", (unsigned long)a,
          (unsigned long)b);

    /* set_callbacks: refusals first, then the event callback. */
    check(hcall(XEN_HC_set_callbacks, HV_ADDR, 0, 0) == -XEN_EINVAL,
          "set_callbacks: event in hv's half -EINVAL", "other");
    check(hcall(XEN_HC_set_callbacks, (uint64_t)event_entry, 0, ~0ULL) == -XEN_EINVAL,
          "set_callbacks: syscall in hv's half -EINVAL", "other");
    check(hcall(XEN_HC_set_callbacks, (uint64_t)event_entry, 0, 0) == 0, "set_callbacks",
          "refused");
    /* Xen starts a PV vCPU with a 100 Hz periodic timer; this guest counts
     * its own single-shot ticks, so it stops it first (as Linux does). */
    check(vcpu_op(XEN_VCPUOP_stop_periodic_timer, 0, 0) == 0, "stop the periodic timer",
          "refused");

    /* bind_virq: hostile arguments, then VIRQ_TIMER. */
    uint32_t port;
    check(bind_virq(24, 0, &port) == -XEN_EINVAL, "bind_virq: VIRQ 24 -EINVAL", "other");
    check(bind_virq(0xffffffffu, 0, &port) == -XEN_EINVAL, "bind_virq: VIRQ 2^32-1 -EINVAL",
          "other");
    check(bind_virq(XEN_VIRQ_TIMER, 1, &port) == -XEN_ENOENT, "bind_virq: vCPU 1 -ENOENT",
          "other");
    check(bind_virq(XEN_VIRQ_TIMER, 0xffffffffu, &port) == -XEN_ENOENT,
          "bind_virq: vCPU 2^32-1 -ENOENT", "other");
    check(evtchn(XEN_EVTCHNOP_bind_virq, (void *)HV_ADDR) == -XEN_EFAULT,
          "bind_virq: argument in hv -EFAULT", "other");
    check(evtchn(XEN_EVTCHNOP_bind_virq, (void *)0x00007ffffffffffcULL) == -XEN_EFAULT,
          "bind_virq: argument across the lower half's end -EFAULT", "other");
    check(evtchn(XEN_EVTCHNOP_bind_virq, (void *)0x40000000ULL) == -XEN_EFAULT,
          "bind_virq: argument past its RAM -EFAULT", "other");
    long rc = bind_virq(XEN_VIRQ_TIMER, 0, &port);
    check(rc == 0 && port > 1 && port < 4096, "bind_virq: VIRQ_TIMER", "rc %ld port %u", rc, port);
    timer_port = port;
    uint32_t again;
    check(bind_virq(XEN_VIRQ_TIMER, 0, &again) == -XEN_EEXIST, "bind_virq: twice -EEXIST",
          "other");
    check(port_op(XEN_EVTCHNOP_unmask, 0xffffffffu) == -XEN_EINVAL, "unmask: port 2^32-1 -EINVAL",
          "other");
    check(port_op(XEN_EVTCHNOP_unmask, 200) == -XEN_EINVAL, "unmask: a free port -EINVAL",
          "other");
    check(port_op(XEN_EVTCHNOP_unmask, 0) == -XEN_EINVAL, "unmask: port 0 -EINVAL", "other");
    check(port_op(XEN_EVTCHNOP_send, port) == -XEN_EINVAL, "send on a VIRQ's port -EINVAL",
          "other");
    check(port_op(XEN_EVTCHNOP_unmask, port) == 0, "unmask: the timer's port", "refused");

    /* Events are masked at start: a timer that passes leaves its event
     * pending, no upcall, until the guest unmasks and asks (a hypercall). */
    check(vi->evtchn_upcall_mask == 1, "events masked at start", "mask %u",
          vi->evtchn_upcall_mask);
    set_timer(now_ns() + 2 * MS);
    unsigned got = spin_for(20 * MS);
    check(got == 0 && upcalls == 0 && vi->evtchn_upcall_pending == 1 &&
              (si_page.evtchn_pending[port / 64] >> (port % 64) & 1),
          "masked: the timer's event pending, no upcall",
          "ticks %u upcalls %u upcall_pending %u", got, upcalls, vi->evtchn_upcall_pending);
    vi->evtchn_upcall_mask = 0;
    hcall(XEN_HC_xen_version, 0, 0, 0); /* Mini-OS's force_evtchn_callback */
    check(ticks == 1 && upcalls == 1, "unmasked: the upcall at the next hypercall",
          "ticks %u upcalls %u", ticks, upcalls);
    check(frame_cs == 0xe030 && (frame_rflags & 0x200) && frame_ss == 0xe02b &&
              mask_in_handler == 1,
          "the upcall's frame: kernel mode, saved mask 0, IF set, events masked inside",
          "cs 0x%lx rflags 0x%lx ss 0x%lx mask %lu", (unsigned long)frame_cs,
          (unsigned long)frame_rflags, (unsigned long)frame_ss, (unsigned long)mask_in_handler);
    check(vi->evtchn_upcall_mask == 0, "unmasked again by the callback's iret", "mask %u",
          vi->evtchn_upcall_mask);

    /* The tick: timer, block, upcall, five times. */
    for (int i = 0; i < 5; i++) {
        uint64_t slept = sleep_for(now_ns() + 10 * MS, &got);
        check(got == 1 && slept >= 10 * MS && slept < 1000 * MS, "timer 10 ms, block, one upcall",
              "ticks %u after %lu ns", got, (unsigned long)slept);
    }

    /* A timer while it runs: the upcall interrupts its loop. */
    uint64_t t0 = now_ns();
    set_timer(t0 + 5 * MS);
    got = spin_for(50 * MS);
    check(got == 1 && frame_rip > (uint64_t)__image_start && frame_rip < (uint64_t)_end,
          "timer while running: one upcall, in the middle of its loop", "ticks %u rip 0x%lx", got,
          (unsigned long)frame_rip);

    /* Hostile timeouts. */
    uint64_t slept = sleep_for(1, &got); /* long passed */
    check(got == 1 && slept < 50 * MS, "timeout in the past: at once", "ticks %u after %lu ns",
          got, (unsigned long)slept);
    slept = sleep_for(~0ULL, &got); /* negative: a wrapped delta */
    check(got == 1 && slept >= 100 * MS && slept < 1000 * MS,
          "timeout 2^64-1 (wrapped): in 100 ms, as Xen", "ticks %u after %lu ns", got,
          (unsigned long)slept);
    slept = sleep_for(now_ns() + (1ULL << 60), &got); /* decades away */
    check(got == 1 && slept >= 100 * MS && slept < 1000 * MS,
          "timeout 2^60 ns away: in 100 ms, as Xen", "ticks %u after %lu ns", got,
          (unsigned long)slept);
    check(set_timer(now_ns() + 5 * MS) == 0 && set_timer(0) == 0, "set_timer_op 0 cancels",
          "refused");
    got = spin_for(30 * MS);
    check(got == 0, "cancelled: no upcall", "ticks %u", got);

    /* Block with an event already pending returns at once. */
    vi->evtchn_upcall_mask = 1;
    set_timer(1);
    hcall(XEN_HC_xen_version, 0, 0, 0); /* the event arrives (masked) */
    unsigned before = ticks;
    t0 = now_ns();
    block(); /* unmasks; the pending upcall is entered on its return */
    check(ticks == before + 1 && now_ns() - t0 < 50 * MS, "block with one pending: at once",
          "ticks %u", ticks - before);

    /* Closed, the VIRQ raises nothing; bound again, it ticks again. */
    check(port_op(XEN_EVTCHNOP_close, port) == 0, "close the timer's port", "refused");
    check(port_op(XEN_EVTCHNOP_close, port) == -XEN_EINVAL, "close it twice -EINVAL", "other");
    set_timer(now_ns() + 2 * MS);
    got = spin_for(20 * MS);
    check(got == 0 && !(si_page.evtchn_pending[port / 64] >> (port % 64) & 1),
          "closed: no event", "ticks %u", got);
    rc = bind_virq(XEN_VIRQ_TIMER, 0, &port);
    timer_port = port;
    check(rc == 0 && port > 1, "bind_virq again", "rc %ld", rc);
    slept = sleep_for(now_ns() + 10 * MS, &got);
    check(got == 1 && slept >= 10 * MS, "bound again: ticks", "ticks %u after %lu ns", got,
          (unsigned long)slept);

    xprint("xen-timer: all %u checks, %u failed (%u torn time reads retried)\n", checks_run,
           checks_failed, time_reads_torn);
    shutdown(XEN_SHUTDOWN_poweroff);
}
