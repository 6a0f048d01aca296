"""System tests of the switch stream's shortcuts (issue 12: vcpu_switch,
event_cross_guest, timer_deadline_late). Each shortcut skips work the
switch used to do every time; each test here sets up the case where that
work is needed and would fail if the shortcut skipped it there.

- A vCPU that runs alone gets no slice timer (hv/sched/vtimer.c,
  next_decision): the wake-up that ends its being alone must arm one, or
  a guest woken but not entitled to the CPU at once waits until the lone
  one blocks, which a spinner never does. A wake-up in the timer
  interrupt is covered twice: the handler's own re-arm comes after the
  wake and sees another vCPU wanting the CPU, and preempt_for's
  sched_slice_cut makes the return re-arm. With both removed this test
  fails (a tick 1.4 s late: the spinner's whole run); with either one it
  passes (max ~21 ms). A wake-up in a hypercall (an event from the lone
  vCPU to another guest) relies on sched_slice_cut alone; no test here
  isolates it (a stale, lazily cancelled APIC interrupt may come first and
  re-arm as well).

Under -icount (Boot(icount=True)) the bounds hold on a loaded host."""

from harness import Boot, run
from judge import ended_line, exited, expect, guest_lines, test_guest
from registry import system_test
from ev_cases import ticker_beside_masked_spinner
from xen_cases import checks_all_ok, no_panic_no_leak

# The ticker's ticks are 5 ms apart; at weight 1 beside a spinner of weight
# 256 its share is 1/257 of the CPU and each tick waits for the spinner's run
# to end (the cut of its run, not a preemption). Without the cut's timer the
# first tick after the spinner is alone waits for the spinner's whole 1.5 s.
LIGHT_TICKER_BOUND_NS = 200_000_000


@system_test
def test_switch_lone_spinner_cut_for_a_light_ticker(build):
    """ev-ticker (ev_timer.c, 100 ticks at 5 ms) with weight 1 beside
    ev-spin-masked (1.5 s without a hypercall, weight 256). Once the ticker
    is far ahead in virtual time its wake-ups do not preempt: they cut the
    spinner's run, which had no timer while it ran alone. Every tick must
    come, none early, each well before the spinner's end."""
    return ticker_beside_masked_spinner(build, "switch-lone-spinner", LIGHT_TICKER_BOUND_NS,
                                        cfg="[guest ev-ticker]\nweight = 1\n",
                                        who="ev-ticker (weight 1)",
                                        why=": the spinner's run was not cut")


@system_test
def test_switch_frames_private_on_two_cpus(build):
    """Two copies of regs-preserved (2 vCPUs each: every general register,
    xmm0-15, MXCSR and the x87 control word loaded with values of its own,
    checked after a preemptible spin and each yield and console write) and
    xen-regs (a Xen vCPU doing the same for its general registers around a
    spin and a sched_op yield), on 2 CPUs: five vCPUs switching on both,
    by preemption and by yields, on the hypercall and the interrupt path.
    Since session 9 the return after a switch leaves from the next vCPU's
    own frame (hv/sched/sched.c leave_from, vcpu_load without a copy): a
    frame left from for the wrong vCPU fails here; since session 11
    vcpu_save has no copy either (every entry from a guest pushes into its
    current vCPU's own frame), so an entry that pushed elsewhere fails
    here too."""
    regs = test_guest(build, "regs-preserved")
    r = run(build, Boot(smp=2, images=[regs, (regs, "regs-preserved-2"),
                                       test_guest(build, "xen-regs")],
                        cfg="[guest regs-preserved-2]\nname = regs-preserved-2\n",
                        timeout=300),  # ~480 M guest instructions of spinning
            "switch-frames")
    problems = []
    for g in ["regs-preserved", "regs-preserved-2"]:
        expect(problems, exited(r.log, g),
               f"{g} did not exit 0: " + "; ".join(guest_lines(r.log, g)[-3:]))
    checks_all_ok(problems, r, "xen-regs", "xen-regs: all")
    expect(problems, exited(r.log, "xen-regs"), f"xen-regs did not power off: {ended_line(r.log, 'xen-regs')}")
    no_panic_no_leak(problems, r, companion=False)
    return problems, r
