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
