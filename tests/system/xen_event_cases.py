"""System tests of the Xen personality's events (docs/xen-personality.md,
M4's first steps): VIRQ_TIMER through set_timer_op, SCHEDOP_block, the
event callback entered in Xen's frame, vcpu_time_info and the wall clock."""

from judge import ended_line, exited, expect, guest_lines
from registry import system_test
from xen_cases import beside_companion, checks_all_ok, no_panic_no_leak


def timer_boot(build, tag, runner_cfg=(), smp=1):
    return beside_companion(build, "xen-timer", tag, runner_cfg, smp)


def timer_checks(problems, r):
    oks = checks_all_ok(problems, r, "xen-timer", "xen-timer: all")
    expect(problems, len(oks) >= 40, f"only {len(oks)} checks ran")
    expect(problems, exited(r.log, "xen-timer"),
           f"xen-timer did not exit 0: {ended_line(r.log, 'xen-timer')}")
    no_panic_no_leak(problems, r)


@system_test
def test_xen_timer_block_upcalls(build):
    """Our own Xen-ABI guest ticks as a PV kernel does: set_callbacks,
    bind_virq(VIRQ_TIMER), set_timer_op, SCHEDOP_block, one upcall per
    timer in Xen's frame (kernel CS 0xe030 with the saved mask, IF from
    it, events masked inside, unmasked by the callback's iret); a masked
    event waits for the next hypercall after the unmask; a timer interrupts
    its loop; past, wrapped (2^64-1) and far (2^60 ns) timeouts come at once
    or in 100 ms as Xen's; cancel, close and rebind; the refusals of
    hostile VIRQs, vCPUs, ports and pointers; time from vcpu_time_info.
    Beside it hv's own companion exits 0 and nothing leaks."""
    r = timer_boot(build, "xen-timer")
    problems = []
    timer_checks(problems, r)
    expect(problems, any(l.startswith("xen-timer: all ") and ", 0 failed" in l
                         for l in guest_lines(r.log, "xen-timer")), "xen-timer's summary says failures")
    return problems, r


@system_test
def test_xen_timer_under_xpti(build):
    """The same guest with page-table isolation on: the upcall's frame is
    written and the callback entered on the isolated root it runs on."""
    r = timer_boot(build, "xen-timer-xpti", ["xpti = on"])
    problems = []
    expect(problems, "hv: entry paths: page-table isolation on" in r.log, "isolation was not on")
    timer_checks(problems, r)
    return problems, r


@system_test
def test_xen_timer_smp(build):
    """The same guest on two CPUs (QEMU's multi-threaded TCG): wherever it
    is placed, its timer is its CPU's, raised, woken and delivered there."""
    r = timer_boot(build, "xen-timer-smp", smp=2)
    problems = []
    expect(problems, "hv: sched: guests ran on 2 of 2 CPU(s)" in r.log, "the guests did not run on two CPUs")
    timer_checks(problems, r)
    return problems, r


@system_test
def test_xen_vcpuop_timers_poll_ipi(build):
    """Our own Xen-ABI guest uses VCPUOP for its one vCPU (is_up, up,
    initialise -EEXIST, other vCPUs -ENOENT), Xen's timers (the 100 Hz
    periodic timer a PV vCPU starts with, a 40 ms period, stop; the
    single-shot timer by VCPUOP, shared with set_timer_op: each stops the
    other's), SCHEDOP_poll with events masked (129 ports -EINVAL, ports 256,
    4096 and a free one -EINVAL, pointers at hv -EFAULT, 128 ports until the
    timeout, a past timeout at once, woken by the timer's event and left
    pending, a pending port at once, a poll's timeout that does not cancel
    the single-shot timer), bind_ipi and a send to itself (the upcall on the
    send's return; masked: pending, and a poll on it returns), then
    VCPUOP_down of its last vCPU, which powers it off; a companion runs on."""
    r = beside_companion(build, "xen-vcpuop", "xen-vcpuop")
    problems = []
    oks = checks_all_ok(problems, r, "xen-vcpuop", "xen-vcpuop: all")
    expect(problems, len(oks) >= 40, f"only {len(oks)} checks ran")
    expect(problems, "FAIL: VCPUOP_down" not in r.log, "VCPUOP_down of the last vCPU returned")
    expect(problems, exited(r.log, "xen-vcpuop"),
           f"xen-vcpuop did not exit 0: {ended_line(r.log, 'xen-vcpuop')}")
    no_panic_no_leak(problems, r)
    return problems, r
