"""Load balancing (issue 13; hv/sched/balance.c, docs/design.md "Scheduling
on several CPUs"): a CPU whose slice ends while vCPUs wait hands waiting
ones to idle CPUs of their affinity, so no CPU idles while a vCPU that may
run there waits on another.

  - four CPU-bound guests with one vCPU each, all placed on CPU 0 (a
    9-vCPU `hello` pinned to CPUs 1-3 is loaded first, so CPUs 1-3 count
    three vCPUs placed each and the four land on CPU 0, the lowest of the
    least loaded; `hello` exits at once and leaves them idle): each spins
    through the same 2 s window of system time (tests/guests/sched_share.c)
    and reports the share of it it ran. Balanced, each has a CPU of its own
    (about 100 %); left where placed, each has a quarter of CPU 0. Every
    CPU switched to a vCPU, and the summary counts the moves."""

import os
import re

from harness import ROOT, Boot, run
from judge import exited, expect, guest_lines, test_guest
from registry import system_test

SPINNERS = ("bal-a", "bal-b", "bal-c", "bal-d")
MIN_SHARE = 0.80  # of the window; a quarter if nothing moves
SWITCHES = re.compile(r"^hv: sched:   CPU (\d+) \(APIC ID \d+\): busy .* (\d+) switch\(es\) to a "
                      r"vCPU$", re.M)
MOVES = re.compile(r"^hv: sched: guests ran on (\d+) of (\d+) CPU\(s\), (\d+) vCPU move\(s\) "
                   r"between them$", re.M)


@system_test
def test_balance_four_spinners_placed_on_one_cpu_spread_to_four(build):
    """SMP 4 under -icount (exact virtual time): the four spinners placed
    on CPU 0 each run at least 80 % of their window, every CPU ran a vCPU,
    and at least three vCPUs moved."""
    share = test_guest(build, "sched-share")
    hello = os.path.join(ROOT, "images", "hello")
    # Loaded first: its file name sorts first, and it is written first.
    cfg = "[guest a-fill]\nvcpus = 9\ncpus = 1-3\nmemory = 4M\n" + "".join(
        f"[guest {n}]\nmemory = 4M\n" for n in SPINNERS)
    r = run(build, Boot(smp=4, icount=True, images=[(hello, "a-fill")] + [(share, n) for n in SPINNERS],
                        cfg=cfg, runner_cfg=["time_limit_ms = 6000"]), "balance-spread")
    problems = []
    report = []
    for name in SPINNERS:
        m = next((re.match(rf"{name}: share over (\d+) ns: running (\d+) ns", l)
                  for l in guest_lines(r.log, name) if l.startswith(f"{name}: share over")), None)
        if not m:
            problems.append(f"{name} reported no share: {guest_lines(r.log, name)[-2:]}")
            continue
        got = int(m.group(2)) / int(m.group(1))
        report.append(f"{name} {100 * got:.1f} %")
        expect(problems, got >= MIN_SHARE,
               f"{name} ran {100 * got:.1f} % of its window (at least {100 * MIN_SHARE:.0f} % "
               f"with a CPU of its own): it waited on a busy CPU while others idled")
        expect(problems, exited(r.log, name), f"{name} did not exit 0")
    sw = {int(m.group(1)): int(m.group(2)) for m in SWITCHES.finditer(r.log)}
    expect(problems, all(sw.get(c, 0) > 0 for c in range(4)), f"CPUs' switches to a vCPU: {sw}")
    m = MOVES.search(r.log)
    expect(problems, m and int(m.group(3)) >= 3, f"summary's moves: {m and m.group(0)}")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, "time limit of hv.cfg reached" not in r.log, "the run reached the time limit")
    print("  balance-spread: " + ", ".join(report))
    return problems, r


def spinner_shares(r, names, problems, report):
    shares = {}
    for name in names:
        m = next((re.match(rf"{name}: share over (\d+) ns: running (\d+) ns", l)
                  for l in guest_lines(r.log, name) if l.startswith(f"{name}: share over")), None)
        if not m:
            problems.append(f"{name} reported no share: {guest_lines(r.log, name)[-2:]}")
            continue
        shares[name] = int(m.group(2)) / int(m.group(1))
        report.append(f"{name} {100 * shares[name]:.1f} %")
        expect(problems, exited(r.log, name), f"{name} did not exit 0")
    return shares


BUSY = ("bus-a", "bus-b", "bus-c", "bus-d")
MIN_BUSY_SHARE = 0.42  # of the window: 1/2 evened, 1/3 for CPU 0's three if not


@system_test
def test_balance_three_beside_one_busy_cpu_evens_out(build):
    """SMP 2 under -icount: three spinners on CPU 0 beside one on CPU 1
    (neither CPU ever idle) each run at least 42 % of their window: one of
    CPU 0's moved to CPU 1 (2 beside 2, half each); left 3 beside 1, CPU
    0's get a third."""
    share = test_guest(build, "sched-share")
    hello = os.path.join(ROOT, "images", "hello")
    cfg = "[guest a-fill]\nvcpus = 2\ncpus = 1\nmemory = 4M\n" + "".join(
        f"[guest {n}]\nmemory = 4M\n" for n in BUSY)
    r = run(build, Boot(smp=2, icount=True, images=[(hello, "a-fill")] + [(share, n) for n in BUSY],
                        cfg=cfg, runner_cfg=["time_limit_ms = 6000"]), "balance-busy")
    problems, report = [], []
    shares = spinner_shares(r, BUSY, problems, report)
    for name, got in shares.items():
        expect(problems, got >= MIN_BUSY_SHARE,
               f"{name} ran {100 * got:.1f} % of its window (at least {100 * MIN_BUSY_SHARE:.0f} %: "
               f"2 beside 2 once evened; a third if 3 stay beside 1)")
    m = MOVES.search(r.log)
    expect(problems, m and int(m.group(3)) >= 1, f"summary's moves: {m and m.group(0)}")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, "time limit of hv.cfg reached" not in r.log, "the run reached the time limit")
    print("  balance-busy: " + ", ".join(report))
    return problems, r


YIELDERS = ("yld-a", "yld-b", "yld-c", "yld-d")
MIN_YIELD_SHARE = 0.60  # of the window: about all of it spread, a quarter if not


@system_test
def test_balance_yielding_guests_on_one_cpu_spread_without_slice_ends(build):
    """SMP 4 under -icount: four guests that yield every 500 us, placed on
    CPU 0, each run at least 60 % of their window, and at least three
    moved: balancing looked at a decision, not only at slice ends (which
    never come: each yield decides first)."""
    yielder = test_guest(build, "sched-yield-share")
    hello = os.path.join(ROOT, "images", "hello")
    cfg = "[guest a-fill]\nvcpus = 9\ncpus = 1-3\nmemory = 4M\n" + "".join(
        f"[guest {n}]\nmemory = 4M\n" for n in YIELDERS)
    r = run(build, Boot(smp=4, icount=True,
                        images=[(hello, "a-fill")] + [(yielder, n) for n in YIELDERS],
                        cfg=cfg, runner_cfg=["time_limit_ms = 6000"]), "balance-yield")
    problems, report = [], []
    shares = spinner_shares(r, YIELDERS, problems, report)
    for name, got in shares.items():
        expect(problems, got >= MIN_YIELD_SHARE,
               f"{name} ran {100 * got:.1f} % of its window (at least {100 * MIN_YIELD_SHARE:.0f} %"
               f" spread over 4 CPUs; a quarter if all stay on CPU 0)")
    m = MOVES.search(r.log)
    expect(problems, m and int(m.group(3)) >= 3, f"summary's moves: {m and m.group(0)}")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, "time limit of hv.cfg reached" not in r.log, "the run reached the time limit")
    print("  balance-yield: " + ", ".join(report))
    return problems, r
