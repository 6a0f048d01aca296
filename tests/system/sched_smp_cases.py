"""System tests of scheduling with several CPUs (hv/sched/, docs/design.md
"Scheduling on several CPUs"): per-CPU scheduler state, vCPU placement and
guest affinity (hv.cfg `[guest X] cpus`), the summary's per-CPU lines.

What these show: at SMP 2, 4 and 8 every example guest runs, with guests
switched in on APs (the APs run guests: hv/sched/cross_cpu.c), and the
summary names every CPU hv used with its busy time, the vCPUs placed on it
and its switches to a vCPU; an
affinity hv cannot honour (CPUs that run no guests, a malformed list) is
refused naming the guest, the key and why, and the other guests run."""

import os
import re

from smp_cases import bringup
from harness import ROOT, Boot, run
from judge import exited, expect, test_guest
from registry import system_test

EXAMPLES = os.path.join(ROOT, "images")
CPU_LINE = re.compile(r"^hv: sched:   CPU (\d+) \(APIC ID \d+\): (?:busy (\d+)\.(\d+) s of "
                      r"(\d+)\.(\d+) s \(\d+\.\d %\), (\d+) vCPU\(s\) placed, (\d+) switch\(es\) "
                      r"to a vCPU|runs no guests)", re.M)


def example_cfg():
    with open(os.path.join(ROOT, "guest/examples/hv.cfg")) as f:
        return f.read()


def cpu_lines(log):
    """{cpu: (busy_us, span_us, placed, switches) or None when it runs no guests}."""
    out = {}
    for m in CPU_LINE.finditer(log):
        if m.group(2) is None:
            out[int(m.group(1))] = None
        else:
            busy = int(m.group(2)) * 1000000 + int(m.group(3))
            span = int(m.group(4)) * 1000000 + int(m.group(5))
            out[int(m.group(1))] = (busy, span, int(m.group(6)), int(m.group(7)))
    return out


def examples_at(build, n, runner_cfg=()):
    names = sorted(x for x in os.listdir(EXAMPLES) if not x.startswith("."))
    r = run(build, Boot(smp=n, images=[os.path.join(EXAMPLES, x) for x in names],
                        cfg=example_cfg(), runner_cfg=list(runner_cfg)), f"sched-smp-examples{n}")
    problems = []
    expect(problems, r.status == 0, f"exit status {r.status}, expected 0")
    expect(problems, f"hv: smp: hv used {n} of {n} CPU(s)" in r.log, "not every CPU came up")
    for g in names:
        expect(problems, exited(r.log, g), f"{g} did not exit with status 0")
    expect(problems, "[compute] compute: correct" in r.log, "compute did not check its result")
    cpus = cpu_lines(r.log)
    expect(problems, sorted(cpus) == list(range(n)), f"per-CPU summary lines for {sorted(cpus)}")
    boot = cpus.get(0)
    expect(problems, boot is not None and 0 < boot[0] <= boot[1],
           f"the boot CPU's busy time: {boot}")
    placed = sum(c[2] for c in cpus.values() if c)
    # Every vCPU of a guest not yet freed counts where it was placed; at the
    # summary every guest is freed.
    expect(problems, placed == 0, f"{placed} vCPU(s) still counted as placed at the summary")
    # Placement spreads the guests' vCPUs over every CPU (the fewest placed
    # first): the APs run some of them.
    on_aps = sum(1 for c, v in cpus.items() if c > 0 and v and v[3] > 0)
    expect(problems, on_aps >= min(n - 1, 3), f"only {on_aps} AP(s) switched to a vCPU: {cpus}")
    m = re.search(r"^hv: sched: guests ran on (\d+) of (\d+) CPU\(s\)", r.log, re.M)
    expect(problems, m and int(m.group(2)) == n, f"CPU count line: {m and m.group(0)}")
    return problems, r


def with_bringup(build, n):
    """The examples at SMP n with log_level = debug, judged also by
    smp_cases.py's bringup(n) (a clean boot at SMP n, every AP checked in:
    debug lines; smp_bringup_2 and smp_bringup_8 were a boot each, ~5.4 s
    and ~6.2 s of make test)."""
    problems, r = examples_at(build, n, ["log_level = debug"])
    problems += [f"smp_bringup_{n}: {p}" for p in bringup(build, n, r)[0]]
    return problems, r


@system_test
def test_sched_smp_examples_at_smp_2(build):
    return with_bringup(build, 2)


@system_test
def test_sched_smp_examples_at_smp_4(build):
    return examples_at(build, 4)


@system_test
def test_sched_smp_examples_at_smp_8(build):
    return with_bringup(build, 8)


@system_test
def test_sched_smp_affinity_errors_are_refused(build):
    """At SMP 2: `cpus = 2-5` names CPUs hv does not have, `cpus = 1-0` is
    not a list: both images are refused with the guest, the key and the
    reason; a guest pinned to CPU 0 and one without affinity run."""
    cfg = ("[guest hello]\ncpus = 2-5\n"
           "[guest tinyos]\ncpus = 1-0\n"
           "[guest compute]\ncpus = 0\n")
    images = [os.path.join(EXAMPLES, x) for x in ("hello", "tinyos", "compute", "hello-pie")]
    r = run(build, Boot(smp=2, images=images, cfg=cfg), "sched-smp-affinity")
    problems = []
    expect(problems, re.search(r"^hv: error: image hello rejected: hv.cfg \[guest hello\] "
                               r"cpus = 2-5: CPU\(s\) 2-5 do not run guests \(guests run on "
                               r"CPU\(s\) 0(-1)?\)", r.log, re.M),
           "cpus = 2-5 not refused with the CPUs named")
    expect(problems, re.search(r"^hv: error: image tinyos rejected: hv.cfg \[guest tinyos\] "
                               r"cpus = 1-0: must be a list of CPU numbers 0 to 63", r.log, re.M),
           "cpus = 1-0 not refused as a malformed list")
    expect(problems, exited(r.log, "compute") and exited(r.log, "hello-pie"),
           "the other guests did not run to their end")
    expect(problems, "[compute] compute: correct" in r.log, "compute did not check its result")
    expect(problems, not exited(r.log, "hello") and not exited(r.log, "tinyos"),
           "a refused guest ran")
    return problems, r


@system_test
def test_end_on_an_ap_wakes_the_boot_cpus_reaper(build):
    """At SMP 2 under -icount: rs-fault, pinned to CPU 1 with on_fault =
    restart, max_restarts = 3, faults in each life while spin-pause runs
    alone on CPU 0 (no timer armed there: nothing else wants CPU 0). Each
    end on CPU 1 sends the boot CPU, which reaps and restarts, the IPI whose
    return arms its reaper (hv/sched/cross_cpu.c sched_reaper_kick): all
    four lives run well before the 1 s limit (they end by 0.33 s; the
    limit was 2 s, 1 s of spinning under -icount for nothing). Before, the
    boot CPU reaped only at its next interrupt, the limit's: one life, no
    restart. (spin's
    loop without pause would take every -icount turn from CPU 1 under QEMU
    7.2: docs/design.md.)"""
    cfg = ("[guest rs-fault]\non_fault = restart\nmax_restarts = 3\ncpus = 1\n"
           "[guest spin-pause]\ncpus = 0\n")
    images = [test_guest(build, "rs-fault"), test_guest(build, "spin-pause")]
    boot = Boot(smp=2, icount=True, images=images, cfg=cfg, runner_cfg=["time_limit_ms = 1000"],
                timeout=240)
    r = run(build, boot, "sched-smp-reaper-kick")
    problems = []
    lives = re.findall(r"^\[rs-fault\] rs-fault: life with restarts = (\d+)", r.log, re.M)
    expect(problems, lives == ["0", "1", "2", "3"], f"rs-fault's lives: {lives}")
    expect(problems, "guest rs-fault: on_fault = restart, but max_restarts (3) is reached"
           in r.log, "rs-fault was not left stopped at max_restarts before the limit")
    expect(problems, re.search(r"^hv: error: guest spin-pause ended: stopped: hv.cfg "
                               r"time_limit_ms reached", r.log, re.M),
           "spin-pause did not run to the limit")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    return problems, r
