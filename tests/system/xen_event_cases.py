"""System tests of the Xen personality's events (docs/xen-personality.md,
M4's first steps): VIRQ_TIMER through set_timer_op, SCHEDOP_block, the
event callback entered in Xen's frame, vcpu_time_info and the wall clock."""

from harness import Boot, run
from judge import ended_line, exited, expect, guest_lines, test_guest
from registry import system_test
from xen_cases import checks_all_ok, no_panic_no_leak


def timer_boot(build, tag, runner_cfg=(), smp=1):
    return run(build, Boot(images=[test_guest(build, "xen-timer"), test_guest(build, "companion")],
                           runner_cfg=list(runner_cfg), smp=smp), tag)


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
