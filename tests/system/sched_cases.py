"""System tests of per-guest fair shares (issue 10, attack 5): CPU hogs of 1
and 16 vCPUs, spin-and-poll, timer storms and yield storms, each booted
beside the well-behaved companion (tests/guests/companion.c), which must
finish within its weight's share of the CPU; and three guests of weights
1:2:4 beside a spin-and-poll attacker, whose shares of a 2 s window must be
their weights' within a few percent. All run under -icount: QEMU's clock is
then 8 ns per instruction, so the shares do not depend on the host's load.

Each fails on a scheduler that shares the CPU per vCPU or gives a woken
vCPU a fresh slice at the front of the queue (main before issue 10: the
companion needed 12x to 42x its share of wall time)."""

import re

from harness import Boot, run
from judge import companion_within_share, ended_line, exited, expect, guest_lines, test_guest
from registry import system_test

# The attackers never stop by themselves: hv stops them (and names them).
TIME_LIMIT_MS = 1500
# Room for the companion's own hypercalls and a quantum of lag (a fair hv
# needs 1.0x). The failures it catches were 12x and 42x; beside one 1-vCPU
# spinner, main before issue 10 needed 1.3x (a yield lost the rest of the
# companion's slice).
SLACK = 1.2


def no_panic(problems, r):
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")


def stopped_at_limit(problems, log, name):
    expect(problems, ended_line(log, name) == "stopped: hv.cfg time_limit_ms reached",
           f"{name} was not stopped at the time limit: {ended_line(log, name)!r}")


def beside_companion(build, attackers, share, cfg="", name="sched", limit_ms=TIME_LIMIT_MS):
    """Boots the companion beside `attackers` ((image, ESP name) pairs),
    judges its share, that each attacker ran until the time limit stopped
    it, and that hv did not panic."""
    boot = Boot(images=[test_guest(build, "companion")] + attackers, cfg=cfg, icount=True,
                runner_cfg=[f"time_limit_ms = {limit_ms}"])
    r = run(build, boot, name)
    problems = []
    companion_within_share(problems, r.log, share, slack=SLACK)
    for _, guest in attackers:
        stopped_at_limit(problems, r.log, guest)
    no_panic(problems, r)
    lines = [l for l in r.log.splitlines() if "companion companion:" in l and "wall" in l]
    if lines:
        print(f"  {name}: {lines[-1].split('] ', 1)[-1]} (share {share})")
    return problems, r


def vcpus_cfg(name, n):
    return f"[guest {name}]\nvcpus = {n}\nmemory = 4M\n"


@system_test
def test_sched_companion_beside_spinner(build):
    return beside_companion(build, [(test_guest(build, "spin"), "spin")], 0.5,
                            name="sched-spinner")


@system_test
def test_sched_companion_beside_16_vcpu_spinner(build):
    return beside_companion(build, [(test_guest(build, "spin"), "spin16")], 0.5,
                            cfg=vcpus_cfg("spin16", 16), name="sched-spinner16")


@system_test
def test_sched_companion_beside_spin_and_poll(build):
    return beside_companion(build, [(test_guest(build, "sched-spin-poll"), "spin-poll")], 0.5,
                            name="sched-spin-poll")


@system_test
def test_sched_companion_beside_timer_storm(build):
    return beside_companion(build, [(test_guest(build, "sched-timer-storm"), "timer-storm")],
                            0.5, name="sched-timer-storm")


@system_test
def test_sched_companion_beside_16_vcpu_yield_storm(build):
    return beside_companion(build, [(test_guest(build, "sched-yield-storm"), "yield-storm16")],
                            0.5, cfg=vcpus_cfg("yield-storm16", 16), name="sched-yield-storm16")


@system_test
def test_sched_companion_beside_16_vcpu_spin_and_poll(build):
    return beside_companion(build, [(test_guest(build, "sched-spin-poll"), "spin-poll16")], 0.5,
                            cfg=vcpus_cfg("spin-poll16", 16), name="sched-spin-poll16")


@system_test
def test_sched_companion_beside_four_spinners_one_of_16_vcpus(build):
    spin = test_guest(build, "spin")
    return beside_companion(build, [(spin, "spin-a"), (spin, "spin-b"), (spin, "spin-c"),
                                    (spin, "spin16")], 0.2,
                            cfg=vcpus_cfg("spin16", 16), name="sched-four-spinners")


@system_test
def test_sched_companion_beside_event_pingpong_handoffs(build):
    """Two guests that spin 1 ms, send to each other, block and yield, for
    ever (tests/guests/sched_handoff_storm.c): each send wakes the other,
    blocked, entitled to the CPU at once: the direct hand-off
    (docs/design.md). Its sender must be charged for the run the hand-off
    ends, or both guests' spins cost them nothing, they always come first,
    and the companion waits (a hand-off without the charge: the companion
    did not finish in 0.6 s, nor in 0.8 s; with it, 100 ms of CPU in 299
    ms). One boot, 0.6 s of guest time under -icount (the companion's 100
    ms at a third of the CPU, with the judge's slack, need 360 ms)."""
    image = test_guest(build, "sched-handoff-storm")
    cfg = "[shm storm]\nsize = 4K\nmap = storm-a:rw storm-b:rw\n"
    problems, r = beside_companion(build, [(image, "storm-a"), (image, "storm-b")], 1 / 3,
                                   cfg=cfg, name="sched-handoff-storm", limit_ms=600)
    for guest in ("storm-a", "storm-b"):
        expect(problems, any(re.match(rf"{guest}: spin \d+ us, send, block, for ever", l)
                             for l in guest_lines(r.log, guest)), f"{guest} did not start its loop")
        expect(problems, "FAILED" not in "\n".join(guest_lines(r.log, guest)),
               f"{guest}: a call failed: {guest_lines(r.log, guest)[-2:]}")
    return problems, r


HANDBACKS = re.compile(r"^hv: sched: (\d+) block\(s\) handed the CPU straight back$", re.M)


@system_test
def test_sched_block_hands_the_cpu_back(build):
    """The way back of the direct hand-off (hv/sched/sched_handback.c):
    back-a and back-b (tests/guests/sched_handoff_storm.c), both on CPU 0,
    spin 1 ms, send to each other, block and yield; each block after the
    other's yield leaves the other alone wanting the CPU, and hv switches
    to it from the block (main before it: no such line, every block took
    the return's decision; at least 20 of back-b's 40 rounds must). back-b
    ends right after its 40th send; back-a's next send fails, it sleeps
    50 ms (the console's lines out) and blocks with nothing left to run, so
    the CPU idles (the fall-back: no pick from an empty queue; without the
    test, hv's page fault on the empty queue's head) until the time limit
    stops back-a. The third-vCPU fall-back is
    test_sched_companion_beside_event_pingpong_handoffs's (the companion
    wants the CPU). One boot, 0.3 s of guest time under -icount."""
    image = test_guest(build, "sched-handoff-storm")
    cfg = ("[shm back]\nsize = 4K\nmap = back-a:rw back-b:rw\n"
           "[guest back-a]\ncpus = 0\n[guest back-b]\ncpus = 0\n")
    r = run(build, Boot(images=[(image, "back-a"), (image, "back-b")], cfg=cfg, icount=True,
                        runner_cfg=["time_limit_ms = 300"]), "sched-handback")
    problems = []
    no_panic(problems, r)
    expect(problems, exited(r.log, "back-b"),
           f"back-b did not exit 0: {guest_lines(r.log, 'back-b')[-2:]}")
    stopped_at_limit(problems, r.log, "back-a")
    for guest in ("back-a", "back-b"):
        expect(problems, "FAILED" not in "\n".join(guest_lines(r.log, guest)),
               f"{guest}: a call failed: {guest_lines(r.log, guest)[-2:]}")
    m = HANDBACKS.search(r.log)
    expect(problems, m is not None, "hv did not report its hand-backs (hv: sched: N block(s) ...)")
    if m:
        print(f"  sched-handback: {m.group(1)} block(s) handed the CPU straight back")
        expect(problems, int(m.group(1)) >= 20,
               f"{m.group(1)} hand-back(s) in back-b's 40 rounds: the blocks took the decision")
    return problems, r


@system_test
def test_sched_block_beside_a_spinner_takes_the_decision(build):
    """The way back's fall-back for a third guest wanting the CPU: storm-a
    and storm-b (tests/guests/sched_handoff_storm.c) ping-pong beside spin,
    all three on CPU 0. The spinner always wants the CPU, so a block after
    the other's yield leaves two guests wanting it, and the decision
    (fair_pick) must choose between them: hv hands nothing back once the
    ping-pong runs (a few set-up blocks may leave one guest alone: at most
    5), while storm-a goes round 10 times. The way back without its
    one-guest test handed the CPU to the fair queue's first guest at every
    such block. One boot, 0.3 s of guest time under -icount."""
    image = test_guest(build, "sched-handoff-storm")
    cfg = ("[shm storm]\nsize = 4K\nmap = storm-a:rw storm-b:rw\n" +
           "".join(f"[guest {g}]\ncpus = 0\n" for g in ("storm-a", "storm-b", "spin")))
    r = run(build, Boot(images=[(image, "storm-a"), (image, "storm-b"),
                                (test_guest(build, "spin"), "spin")], cfg=cfg, icount=True,
                        runner_cfg=["time_limit_ms = 300"]), "sched-handback-spinner")
    problems = []
    no_panic(problems, r)
    for guest in ("storm-a", "storm-b", "spin"):
        stopped_at_limit(problems, r.log, guest)
    expect(problems, "storm-a: 10 rounds" in guest_lines(r.log, "storm-a"),
           f"storm-a did not go round 10 times: {guest_lines(r.log, 'storm-a')[-2:]}")
    m = HANDBACKS.search(r.log)
    expect(problems, m is not None, "hv did not report its hand-backs (hv: sched: N block(s) ...)")
    if m:
        print(f"  sched-handback-spinner: {m.group(1)} block(s) handed the CPU straight back")
        expect(problems, int(m.group(1)) <= 5,
               f"{m.group(1)} hand-back(s) beside a spinner that always wants the CPU")
    return problems, r


# --- shares by weight -------------------------------------------------------------------

WEIGHTS = {"share-1": 256, "share-2": 512, "share-4": 1024}
ATTACKER_WEIGHT = 256
SHARE_TOLERANCE = 0.02  # of the whole CPU


@system_test
def test_sched_shares_follow_weights_1_2_4_beside_spin_and_poll(build):
    share = test_guest(build, "sched-share")
    cfg = "".join(f"[guest {n}]\nweight = {w}\n" for n, w in WEIGHTS.items())
    boot = Boot(images=[(share, n) for n in WEIGHTS] +
                [(test_guest(build, "sched-spin-poll"), "spin-poll")],
                cfg=cfg, icount=True, runner_cfg=["time_limit_ms = 4000"],
                smp=1)  # shares of one CPU: at SMP 4 each guest has its own (100 %)
    r = run(build, boot, "sched-shares")
    problems = []
    total = sum(WEIGHTS.values()) + ATTACKER_WEIGHT
    report = []
    for name, weight in WEIGHTS.items():
        lines = guest_lines(r.log, name)
        m = next((re.match(rf"{name}: share over (\d+) ns: running (\d+) ns", l) for l in lines
                  if re.match(rf"{name}: share over", l)), None)
        if not m:
            problems.append(f"{name} reported no share: {lines[-2:]}")
            continue
        got = int(m.group(2)) / int(m.group(1))
        want = weight / total
        report.append(f"{name} {100 * got:.2f} % (share {100 * want:.2f} %)")
        expect(problems, abs(got - want) <= SHARE_TOLERANCE,
               f"{name} (weight {weight}) got {100 * got:.2f} % of the CPU over the window; "
               f"its share is {100 * want:.2f} % (tolerance {100 * SHARE_TOLERANCE:.0f} %)")
        expect(problems, f"hv: guest {name} exited with status 0" in r.log,
               f"{name} did not exit 0")
    stopped_at_limit(problems, r.log, "spin-poll")
    no_panic(problems, r)
    print("  sched-shares: " + ", ".join(report))
    return problems, r


@system_test
def test_stats_lines_come_while_a_lone_guest_spins(build):
    """hv's statistics line (stats_every_s) is a deadline of its own: one
    guest spinning alone holds no slice, and with no time limit, reaping or
    console listener nothing else arms the timer, yet a line must come every
    second. Session 14's attack review found the line's deadline programmed
    only beside one of those sources (hv/sched/vtimer.c,
    next_decision_after): no line came until the guest ended. The guest
    spins to 3 s of system time (-icount: exact)."""
    boot = Boot(images=[(test_guest(build, "sched-share"), "lone")], icount=True,
                runner_cfg=["stats_every_s = 1"])
    r = run(build, boot, "stats-lone")
    problems = []
    no_panic(problems, r)
    expect(problems, exited(r.log, "lone", 0), "lone did not exit 0")
    lines = r.log.splitlines()
    done = next((i for i, l in enumerate(lines) if l.startswith("[lone] ") and "share over" in l),
                None)
    expect(problems, done is not None, "lone never reported its share")
    if done is not None:
        seen = [int(m.group(1)) for l in lines[:done]
                if (m := re.match(r"^hv: stats: t=(\d+)s ", l))]
        expect(problems, 1 in seen and 2 in seen,
               f"statistics lines before lone's end: t={seen} (want t=1s and t=2s)")
    return problems, r
