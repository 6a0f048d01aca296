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


def every_cpu_ran_no_panic_no_leak(problems, r, cpus):
    """What every case here judges at the end: each of the first `cpus`
    CPUs switched to a vCPU at least once, hv did not panic, and its frame
    account at every guest's end was the same as before the guest."""
    sw = switches(r.log)
    expect(problems, all(sw.get(c, 0) > 0 for c in range(cpus)), f"CPUs' switches to a vCPU: {sw}")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, re.search(r"^hv: leak checks: \d+ guest end\(s\) checked, no difference$",
                               r.log, re.M), "hv's frame account at a guest's end differs")


def run_two_on_two_cpus(build, image, names, cfg, tag):
    """Boots `image` twice, as names[0] and names[1], at SMP 2 with `cfg`
    (which pins them) and the time limit."""
    return run(build, Boot(smp=2, images=[(image, n) for n in names], cfg=cfg,
                           runner_cfg=TIME_LIMIT), tag)


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
    every_cpu_ran_no_panic_no_leak(problems, r, 4)
    return problems, r


@system_test
def test_aprun_event_pingpong_between_guests_pinned_to_two_cpus(build):
    """SMP 2, ev-ping on CPU 0 and ev-pong on CPU 1: 2000 round trips, each
    event raised on one CPU for a vCPU blocked on the other."""
    image = test_guest(build, "ev-pingpong")
    cfg = ("[shm pp]\nsize = 64K\nmap = ev-ping:rw ev-pong:rw\n"
           "[guest ev-ping]\ncpus = 0\n[guest ev-pong]\ncpus = 1\n")
    r = run_two_on_two_cpus(build, image, ("ev-ping", "ev-pong"), cfg, "aprun-pingpong")
    problems = []
    for name in ("ev-ping", "ev-pong"):
        lines = guest_lines(r.log, name)
        expect(problems, not [l for l in lines if "FAILED" in l], f"{name}: failing checks")
        expect(problems, exited(r.log, name), f"{name} did not exit 0: {ended_line(r.log, name)}")
    expect(problems, any(re.match(r"ev-ping: 2000 round trips in \d+ us", l)
                         for l in guest_lines(r.log, "ev-ping")), "no round-trip line")
    every_cpu_ran_no_panic_no_leak(problems, r, 2)
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
    every_cpu_ran_no_panic_no_leak(problems, r, 4)
    return problems, r


@system_test
def test_aprun_last_end_on_another_cpu_is_reaped(build):
    """SMP 2, hv.cfg debug_last_end_race: end-elsewhere's vCPU 0 (boot CPU)
    stops, the boot CPU idles with interrupts off until vCPU 1 (CPU 1) ends
    the guest, the run's last end, whose stop of vCPU 0 waits on the boot
    CPU's wake list for the reschedule IPI. The boot CPU's reaping loop
    must take that IPI in its interrupt windows (a `sti; cli` pair took
    none, and the run hung there with its log undrained: the SMP-2 hang of
    pv_fast_and_bounced_syscalls_agree under host load). The end also
    pauses 200 ms between its counts (to reap, then alive): counted the
    other way round, the boot CPU found nothing to reap, parked the APs
    (CPU 1 did not park) and freed the guest while CPU 1 was in its end.
    The run ends, the guest exited 0, its end reaped."""
    r = run(build, Boot(smp=2, images=[test_guest(build, "end-elsewhere")],
                        runner_cfg=["debug_last_end_race = yes"]), "aprun-last-end")
    problems = []
    expect(problems, "hv: sched: debug_last_end_race: the last end queued a stop here" in r.log,
           "the race was not set up: the last end left no stop on the boot CPU's wake list")
    expect(problems, exited(r.log, "end-elsewhere"),
           f"end-elsewhere did not exit 0: {ended_line(r.log, 'end-elsewhere')}")
    expect(problems, re.search(r"^hv: reaper: 1 guest end\(s\) reaped", r.log, re.M),
           "the end was not reaped (the run hung in the boot CPU's reaping loop?)")
    expect(problems, "did not park" not in r.log,
           "the boot CPU went on to park the APs while the end was under way on CPU 1")
    expect(problems, r.status == 0, f"exit status {r.status}")
    every_cpu_ran_no_panic_no_leak(problems, r, 2)
    return problems, r


@system_test
def test_aprun_partition_windows_per_cpu(build):
    """SMP 2, `[schedule]` windows with `cpu=`: pa (pinned to CPU 0) owns
    0-20 ms of a 50 ms frame on CPU 0, pb (CPU 1) 10-30 ms on CPU 1: the
    two overlap in time, which only per-CPU windows allow (one timeline
    refuses it as an overlap). The plan starts, both guests run to their
    end, and nearly every stretch each one ran (partition-probe: runs with
    no gap over 200 us) starts in its own CPU's window (multi-threaded TCG
    on a shared host can make an edge late: 80 % is required)."""
    probe = test_guest(build, "partition-probe")
    cfg = ("[guest pa]\nname = pa\ncpus = 0\n[guest pb]\nname = pb\ncpus = 1\n"
           "[schedule]\nmode = partitioned\nmajor_frame_ms = 50\n"
           "window = pa 0 20 cpu=0\nwindow = pb 10 20 cpu=1\n")
    r = run_two_on_two_cpus(build, probe, ("pa", "pb"), cfg, "aprun-windows")
    problems = []
    m = re.search(r"schedule: partitioned, major frame 50 ms, 2 window\(s\), from system time "
                  r"(\d+) ns", r.log)
    expect(problems, m, "the partition schedule was not started")
    windows = {"pa": (0, 20_000_000), "pb": (10_000_000, 30_000_000)}
    for g, (lo, hi) in windows.items():
        expect(problems, exited(r.log, g), f"{g} did not exit 0: {ended_line(r.log, g)}")
        if not m:
            continue
        start = int(m.group(1))
        ran = []
        for l in guest_lines(r.log, g):
            s = re.match(r"ran (\d+) (\d+)$", l)
            if s:
                ran.append((int(s.group(1)), int(s.group(2))))
        slack = 500_000
        # Where each stretch starts: hv starts it in the window; its end
        # is the next timer, which a loaded host can make late.
        inside = [(a, b) for a, b in ran if lo - slack <= (a - start) % 50_000_000 <= hi]
        expect(problems, len(ran) >= 5 and len(inside) * 5 >= len(ran) * 4,
               f"{g}: {len(inside)} of {len(ran)} stretches start in its window "
               f"{lo / 1e6:.0f}..{hi / 1e6:.0f} ms")
    every_cpu_ran_no_panic_no_leak(problems, r, 2)
    return problems, r
