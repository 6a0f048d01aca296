"""A vCPU woken while hv sleeps in its idle loop (issue 12's idle stream;
docs/design.md, "The idle loop's direct entry"): hv enters a lone woken
vCPU straight from the interrupt (hv/sched/sched.c sched_idle_interrupted),
and that decision is the one the wake-up asked for, so the vCPU's next
return (its upcall's HV_CALL_IRET) takes no second one."""

import re

from harness import Boot, run
from judge import ended_line, expect, self_checked, test_guest
from registry import system_test

C_PATH = re.compile(r"^hv: iret: (\d+) HV_CALL_IRET\(s\) left to the C path by the fast path$",
                    re.M)
SLEEPS = 50  # tests/guests/idle_entry.c
WAITED = re.compile(r"^\[idle-entry-sleeper\] idle-entry-sleeper: (\d+) of \d+ wake-ups from idle "
                    r"had a runnable interval$", re.M)
TWINS = ("idle-entry-twin-a", "idle-entry-twin-b")
TIMER_PATH = re.compile(r"^hv: sched: (\d+) vCPU\(s\) entered by the idle loop's timer path$", re.M)


@system_test
def test_sched_idle_wakeups_enter_directly(build):
    """idle-entry-stack: woken alone by its timer while hv idles, its upcall
    frame on an unmapped stack: the guest ends with the delivery's report
    and hv goes on (the direct entry's fall back to a new decision).
    idle-entry-sleeper, from 700 ms of system time (the others have ended):
    50 timers, each waking it from hv's idle loop, each
    upcall returning with HV_CALL_IRET: hv's fast path takes them (a wake-up
    from idle left need_resched set, and every such return was a decision
    in C: at least 50 of them); the direct entry takes it from blocked to
    running at its wake-up, so fewer than half of those wake-ups leave a
    runnable interval in its run-state record (every one did while the
    wake-up queued it first: 50).
    idle-entry-twin-a and -b, on one CPU, woken 20 times by the same timer
    interrupt: the first wake-up, recorded for the direct entry, is
    completed as the general path's by the second; both wake every time,
    each with a runnable interval. The sleeper's 50 timers come to hv's
    idle loop alone: the timer path (hv/sched/idle_timer.c) enters it, so
    hv's summary counts 50 such entries, or 51 with its first sleep; its 6
    polls on its timer port (events masked, then unmasked), the twins'
    shared deadlines (two vCPU timers due in one interrupt) are that path's
    fallbacks, which the count and the guests' checks see. idle-entry-stack
    shares CPU 0 with the twins at any SMP: alone on a CPU of its own (at
    SMP 2 and up it was placed on one), its 150 ms sleep and its last timer
    were that path's too (53 entries at SMP 4 before it was pinned; 51 now
    at SMP 1 and 4).
    The path's advance (KVM's lapic_timer_advance_ns) is fixed at 20 us
    (hv.cfg `debug_timer_advance_ns`): the APIC fires 20 us before each
    lone vCPU deadline, far more than the path takes up to its spin under
    -icount (~3 us), so only the spin to the deadline keeps the mark, the
    run-state record and the upcall after it: a wake-up delivered early is
    one more entry (the SDK's sleep blocks again until its deadline; with
    the spin removed this read 101), and the polls' early interrupt (a
    polling vCPU is the general path's) must program the exact deadline
    again (the polls check they did not end early). One boot, ~0.76 s of
    guest time, mostly idle."""
    image = test_guest(build, "idle-entry")
    cfg = "[hv]\ndebug_timer_advance_ns = 20000\n" + "".join(
        f"[guest {t}]\ncpus = 0\n" for t in ("idle-entry-stack",) + TWINS)
    r = run(build, Boot(images=[(image, "idle-entry-stack"), (image, "idle-entry-sleeper")] +
                        [(image, t) for t in TWINS], cfg=cfg, icount=True), "idle-entry")
    problems = []
    expect(problems, r.status == 1, f"exit status {r.status}, expected 1 (a guest failed)")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    reason = ended_line(r.log, "idle-entry-stack")
    want = r"fault while delivering an event upcall: the kernel stack is not writable at 0x"
    expect(problems, reason is not None and re.search(want, reason),
           f"idle-entry-stack: end line {reason!r}, expected /{want}/")
    expect(problems, "FAILED: survived" not in r.log, "idle-entry-stack's block returned")
    self_checked(problems, r.log, "idle-entry-sleeper")
    for t in TWINS:
        self_checked(problems, r.log, t)
    w = WAITED.search(r.log)
    expect(problems, w is not None, "idle-entry-sleeper did not report its runnable intervals")
    if w:
        print(f"  idle-entry: {w.group(1)} of {SLEEPS} wake-ups with a runnable interval")
        expect(problems, int(w.group(1)) < SLEEPS // 2,
               f"{w.group(1)} of {SLEEPS} wake-ups from idle queued the vCPU before entering it")
    t = TIMER_PATH.search(r.log)
    expect(problems, t is not None, "hv did not report its idle timer path's entries")
    if t:
        print(f"  idle-entry: {t.group(1)} vCPU(s) entered by the idle loop's timer path")
        expect(problems, SLEEPS <= int(t.group(1)) <= SLEEPS + 1,
               f"{t.group(1)} entries by the idle loop's timer path, expected {SLEEPS} or "
               f"{SLEEPS + 1} (the sleeper's timers and its first sleep; its polls are the "
               f"general path's)")
    m = C_PATH.search(r.log)
    expect(problems, m is not None, "hv did not report its HV_CALL_IRET count (hv: iret: ...)")
    if m:
        n = int(m.group(1))
        print(f"  idle-entry: {n} HV_CALL_IRET(s) left to the C path")
        expect(problems, n < SLEEPS // 2,
               f"{n} HV_CALL_IRETs left to the C path: the upcalls' returns after a wake-up "
               f"from idle took a second decision")
    return problems, r


@system_test
def test_idle_timer_spin_sees_the_guests_mask_and_bit(build):
    """idle-spin-mask (SMP 2, -icount, the advance fixed at 50 us): vCPU 0
    masks its sleeping vCPU 1's timer port, or sets its pending bit, 5 us
    before each of 19 deadlines (the 20th: closes it and binds the number
    anew as an IPI port to vCPU 1, 40 us before), while hv's idle loop on vCPU 1's CPU
    spins to the deadline with the vCPU's state already loaded
    (hv/sched/idle_timer.c). The general path would leave vCPU 1 blocked
    (a masked port notifies no one; a bit already set tells no one), so
    the path must take back what it did before the spin (idle_timer_undo)
    and the sleeper wakes only when vCPU 0 unmasks the port or sends on an
    IPI port: the guest checks it, and that every wake-up came. Without
    the mask's read after the mark, the masked rounds woke at the
    deadline; without the port's check before the mark, the rebound
    round's sleeper woke at the deadline (the IPI port marked). One boot,
    ~30 ms of guest time."""
    name = "idle-spin-mask"
    r = run(build, Boot(smp=2, images=[test_guest(build, name)],
                        cfg=f"[hv]\ndebug_timer_advance_ns = 50000\n[guest {name}]\ncpus = 0-1\n",
                        icount=True), "spin-mask")
    problems = []
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    self_checked(problems, r.log, name)
    expect(problems, re.search(r"^hv: sched: guests ran on 2 of 2 CPU\(s\)", r.log, re.M),
           "the vCPUs did not run on two CPUs")
    m = re.search(r"idle-spin-mask: (\d+) of (\d+) rounds judged", r.log)
    if m:
        print(f"  spin-mask: {m.group(1)} of {m.group(2)} rounds judged")
    return problems, r
