"""Guests on every CPU (issue 13; hv/sched/cross_cpu.c, docs/design.md
"Scheduling on several CPUs"): the APs run guests, and what one CPU does
to another's vCPUs goes through the owner's wake list and the reschedule
IPI.

  - a guest with 4 vCPUs on 4 CPUs runs them at once: each vCPU's stretch
    of work overlaps the others' and it ran (its RUNNING run-state time)
    nearly all of it, which one CPU cannot give four vCPUs; and a shared
    counter they all add to with locked adds ends exact
    (tests/guests/smp_par.c);
  - two guests pinned to two CPUs play event ping-pong: every event crosses
    CPUs and wakes a vCPU blocked on the other one (tests/guests/ev_pingpong.c);
  - a guest ended on one CPU while its other vCPUs spin on three others:
    the other CPUs take them off, the run ends (not at hv.cfg's time
    limit), the other guests finish and its memory comes back
    (tests/guests/smp_end.c)."""

import os
import re

from harness import ROOT, Boot, run
from judge import ended_line, exited, expect, guest_lines, test_guest
from registry import system_test

TIME_LIMIT = ["time_limit_ms = 60000"]
PAR_LINE = re.compile(r"^smp-par: vCPU (\d) ran (\d+) us from (\d+) us to (\d+) us, added (\d+)$")
COUNTER = re.compile(r"^smp-par: counter (\d+) of (\d+)$")
SWITCHES = re.compile(r"^hv: sched:   CPU (\d+) \(APIC ID \d+\): busy .* (\d+) switch\(es\) to a "
                      r"vCPU$", re.M)


def switches(log):
    return {int(m.group(1)): int(m.group(2)) for m in SWITCHES.finditer(log)}


def no_panic_no_leak(problems, r):
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, re.search(r"^hv: leak checks: \d+ guest end\(s\) checked, no difference$",
                               r.log, re.M), "hv's frame account at a guest's end differs")


@system_test
def test_aprun_four_vcpus_run_in_parallel_and_count_exactly(build):
    """SMP 4, `cpus = 0-3`: one vCPU per CPU. Every vCPU ran at least 90 %
    of its stretch and all four stretches share a moment: four vCPUs
    running at once (on one CPU each runs about a quarter of it: tried at
    SMP 1, 44 % for the first). The shared counter equals the sum of what
    each vCPU says it added."""
    r = run(build, Boot(smp=4, images=[test_guest(build, "smp-par")],
                        cfg="[guest smp-par]\ncpus = 0-3\n", runner_cfg=TIME_LIMIT), "aprun-par")
    problems = []
    lines = guest_lines(r.log, "smp-par")
    par = {}
    for l in lines:
        m = PAR_LINE.match(l)
        if m:
            par[int(m.group(1))] = tuple(int(x) for x in m.groups()[1:])
    expect(problems, sorted(par) == [0, 1, 2, 3], f"vCPU lines for {sorted(par)}: {lines}")
    if len(par) == 4:
        for v, (ran, t0, t1, _) in par.items():
            expect(problems, ran * 10 >= (t1 - t0) * 9,
                   f"vCPU {v} ran {ran} us of its {t1 - t0} us stretch: it shared its CPU")
        last_start = max(t0 for _, t0, _, _ in par.values())
        first_end = min(t1 for _, _, t1, _ in par.values())
        expect(problems, last_start < first_end,
               f"the stretches do not overlap (last start {last_start}, first end {first_end})")
        added = sum(a for *_, a in par.values())
        c = next((COUNTER.match(l) for l in lines if COUNTER.match(l)), None)
        expect(problems, c and int(c.group(1)) == int(c.group(2)) == added,
               f"counter line {c and c.group(0)}, the vCPUs added {added}")
    expect(problems, exited(r.log, "smp-par"), f"smp-par did not exit 0: {ended_line(r.log, 'smp-par')}")
    sw = switches(r.log)
    expect(problems, all(sw.get(c, 0) > 0 for c in range(4)), f"CPUs' switches to a vCPU: {sw}")
    no_panic_no_leak(problems, r)
    return problems, r


@system_test
def test_aprun_event_pingpong_between_guests_pinned_to_two_cpus(build):
    """SMP 2, ev-ping on CPU 0 and ev-pong on CPU 1: 2000 round trips, each
    event raised on one CPU for a vCPU blocked on the other."""
    image = test_guest(build, "ev-pingpong")
    cfg = ("[shm pp]\nsize = 64K\nmap = ev-ping:rw ev-pong:rw\n"
           "[guest ev-ping]\ncpus = 0\n[guest ev-pong]\ncpus = 1\n")
    r = run(build, Boot(smp=2, images=[(image, "ev-ping"), (image, "ev-pong")], cfg=cfg,
                        runner_cfg=TIME_LIMIT), "aprun-pingpong")
    problems = []
    for name in ("ev-ping", "ev-pong"):
        lines = guest_lines(r.log, name)
        expect(problems, not [l for l in lines if "FAILED" in l], f"{name}: failing checks")
        expect(problems, exited(r.log, name), f"{name} did not exit 0: {ended_line(r.log, name)}")
    expect(problems, any(re.match(r"ev-ping: 2000 round trips in \d+ us", l)
                         for l in guest_lines(r.log, "ev-ping")), "no round-trip line")
    sw = switches(r.log)
    expect(problems, sw.get(0, 0) > 0 and sw.get(1, 0) > 0, f"CPUs' switches to a vCPU: {sw}")
    no_panic_no_leak(problems, r)
    return problems, r


@system_test
def test_aprun_guest_ended_from_another_cpu_while_its_vcpus_run(build):
    """SMP 4: smp-end's vCPU 0 (CPU 0) ends its guest with a #UD while its
    vCPUs 1-3 spin on CPUs 1-3 without entering hv; hello and compute run
    beside it. hv names the end, the run ends well before the time limit,
    and the other guests exit 0."""
    images = [test_guest(build, "smp-end")] + [os.path.join(ROOT, "images", x)
                                               for x in ("hello", "compute")]
    r = run(build, Boot(smp=4, images=images, cfg="[guest smp-end]\ncpus = 0-3\n",
                        runner_cfg=TIME_LIMIT), "aprun-end")
    problems = []
    expect(problems, "smp-end: vCPUs 1-3 are spinning; ending the guest from vCPU 0"
           in guest_lines(r.log, "smp-end"), "smp-end's vCPUs 1-3 did not all run")
    why = ended_line(r.log, "smp-end")
    expect(problems, why and why.startswith("#UD"), f"smp-end's end: {why}")
    for g in ("hello", "compute"):
        expect(problems, exited(r.log, g), f"{g} did not exit 0: {ended_line(r.log, g)}")
    expect(problems, "time limit of hv.cfg reached" not in r.log,
           "the run went on to the time limit: vCPUs on other CPUs were not stopped")
    expect(problems, r.status == 1, f"exit status {r.status}, expected 1 (a guest failed)")
    sw = switches(r.log)
    expect(problems, all(sw.get(c, 0) > 0 for c in range(4)), f"CPUs' switches to a vCPU: {sw}")
    no_panic_no_leak(problems, r)
    return problems, r
