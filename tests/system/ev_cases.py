"""System tests of events and time (include/hv/abi_event.h): event channels
between guests and vCPUs, masking, the one-shot timer, run-state (virtual)
time, the wall clock, shared memory regions, and the example producer and
consumer. Each returns (problems, result).

The test guests (tests/guests/ev_*.c) check themselves and print one line
per check; several print figures (timer lateness, run-state times, the wall
clock) that the tests here judge, and report in their problems when out of
bounds. Timer tests run under -icount (Boot(icount=True)): QEMU's virtual
clock then advances 8 ns per instruction whatever the host does, so the
bounds hold on a loaded host too."""

import os
import re

from harness import ROOT, Boot, run
from judge import ended_line, exited, expect, guest_lines, test_guest  # noqa: F401
from registry import system_test

EXAMPLES = os.path.join(ROOT, "images")
# A safety net: a guest waiting for an event that never comes is stopped
# (and named) by hv long before QEMU's timeout.
TIME_LIMIT = ["time_limit_ms = 60000"]




def judge_self_checking(problems, log, name):
    """The guest passed all its checks and exited 0. Returns its lines."""
    lines = guest_lines(log, name)
    failed = [l for l in lines if "FAILED" in l]
    expect(problems, not failed, f"{name}: failing checks: {failed[:8]}")
    expect(problems, any(re.match(rf"{re.escape(name)}: all \d+ checks passed", l) for l in lines),
           f"{name} did not finish its checks: {lines[-3:]}")
    expect(problems, exited(log, name),
           f"{name} did not exit 0: {ended_line(log, name) or 'no exit line'}")
    return lines


def no_panic(problems, r):
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")


def lateness(lines, name):
    """(n, min, max, mean) in ns from the guest's lateness line, or None."""
    for l in lines:
        m = re.match(rf"{re.escape(name)}: lateness over (\d+) events: min (\d+) ns, max (\d+) ns, "
                     r"mean (\d+) ns", l)
        if m:
            return tuple(int(x) for x in m.groups())
    return None


def first_match(lines, pattern):
    """The match of the first line matching pattern (re.match), or None."""
    for l in lines:
        m = re.match(pattern, l)
        if m:
            return m
    return None


def shm_cfg(name, size, mapping):
    return f"[shm {name}]\nsize = {size}\nmap = {mapping}\n"


# --- channels between guests, shared memory, the peer-ended notice -------------------

@system_test
def test_ev_pingpong_through_channel_and_shared_memory(build):
    image = test_guest(build, "ev-pingpong")
    boot = Boot(images=[(image, "ev-ping"), (image, "ev-pong")],
                cfg=shm_cfg("pp", "64K", "ev-ping:rw ev-pong:rw"), runner_cfg=TIME_LIMIT)
    r = run(build, boot, "ev-pingpong")
    problems = []
    ping = judge_self_checking(problems, r.log, "ev-ping")
    judge_self_checking(problems, r.log, "ev-pong")
    expect(problems, any(re.match(r"ev-ping: 2000 round trips in \d+ us", l) for l in ping),
           "ev-ping did not report its round trips")
    expect(problems, r.status == 0, f"exit status {r.status}")
    no_panic(problems, r)
    return problems, r


def producer_consumer_judged(problems, r):
    """The example producer and consumer (guest/examples, their hv.cfg's
    shared ring): 20,000 messages sent, each acknowledged, all received in
    sequence with right checksums. Judged on guest_cases.py's
    test_examples_run_labelled boot, which boots them with that hv.cfg
    beside the other examples, as `make run` does (a boot of their own was
    ~5.6 s of make test)."""
    for g in ["producer", "consumer"]:
        expect(problems, exited(r.log, g), f"{g} did not exit 0: {ended_line(r.log, g)}; "
                                           f"last words {guest_lines(r.log, g)[-2:]}")
    expect(problems, any(re.match(r"producer: sent 20000 messages in \d+ batches, each acknowledged", l)
                         for l in guest_lines(r.log, "producer")), "the producer's summary is missing")
    expect(problems, any(re.match(r"consumer: received 20000 messages in \d+ batches, all in sequence, "
                                  r"checksums right", l) for l in guest_lines(r.log, "consumer")),
           "the consumer's summary is missing")
    expect(problems, r.status == 0, f"exit status {r.status}")
    no_panic(problems, r)


# --- the timer -------------------------------------------------------------------------

TIMER_BOUND_NS = 1_000_000      # alone: an event at most 1 ms late
TICKER_BOUND_NS = 20_000_000    # beside a masked spinner: two 10 ms slices


@system_test
def test_ev_timer_fires_on_time(build):
    r = run(build, Boot(images=[test_guest(build, "ev-timer")], icount=True,
                        runner_cfg=TIME_LIMIT), "ev-timer")
    problems = []
    lines = judge_self_checking(problems, r.log, "ev-timer")
    late = lateness(lines, "ev-timer")
    expect(problems, late is not None, "ev-timer printed no lateness figures")
    if late:
        n, lo, hi, mean = late
        print(f"  ev-timer: {n} one-shot timers, lateness min {lo} ns, max {hi} ns, mean {mean} ns")
        expect(problems, n == 60, f"ev-timer measured {n} of 60 timers")
        expect(problems, hi < TIMER_BOUND_NS,
               f"a timer event came {hi} ns late (bound {TIMER_BOUND_NS} ns; mean {mean} ns)")
    # Under -icount the TSC counts QEMU's virtual nanoseconds: system time,
    # derived from it through hv's calibration, must agree closely.
    m = first_match(lines, r"ev-timer: clock: system time advanced (\d+) ns while the TSC advanced (\d+)")
    expect(problems, m is not None, "ev-timer printed no clock line")
    if m:
        ns, tsc = int(m.group(1)), int(m.group(2))
        expect(problems, tsc > 0 and abs(ns - tsc) <= tsc / 100,
               f"system time advanced {ns} ns while {tsc} virtual ns passed (> 1% apart)")
    no_panic(problems, r)
    return problems, r


def ticker_beside_masked_spinner(build, tag, bound_ns, cfg="", who="ev-ticker", why=""):
    """ev-ticker (ev_timer.c, 100 ticks at 5 ms) beside ev-spin-masked
    under -icount (hv.cfg text `cfg`): both self-check, every tick comes,
    none later than bound_ns (`why`: what a later one means)."""
    boot = Boot(images=[(test_guest(build, "ev-timer"), "ev-ticker"),
                        test_guest(build, "ev-spin-masked")],
                cfg=cfg, icount=True, runner_cfg=TIME_LIMIT)
    r = run(build, boot, tag)
    problems = []
    lines = judge_self_checking(problems, r.log, "ev-ticker")
    judge_self_checking(problems, r.log, "ev-spin-masked")
    late = lateness(lines, "ev-ticker")
    expect(problems, late is not None, "ev-ticker printed no lateness figures")
    if late:
        n, lo, hi, mean = late
        print(f"  {who}: {n} ticks beside a masked spinner, lateness min {lo} ns, max {hi} ns, "
              f"mean {mean} ns")
        expect(problems, n == 100, f"ev-ticker measured {n} of 100 ticks")
        expect(problems, hi < bound_ns, f"a tick came {hi} ns late (bound {bound_ns} ns){why}")
    return problems, r


@system_test
def test_ev_masked_spinner_does_not_starve_timer_guest(build):
    problems, r = ticker_beside_masked_spinner(build, "ev-ticker", TICKER_BOUND_NS,
                                               why=" beside the spinner")
    no_panic(problems, r)
    return problems, r


# --- run-state (virtual) time -------------------------------------------------------------

@system_test
def test_ev_virtual_time_of_two_guests_sharing_the_cpu(build):
    image = test_guest(build, "ev-vtime")
    boot = Boot(images=[(image, "ev-vtime-a"), (image, "ev-vtime-b")],
                cfg=shm_cfg("vt", "4K", "ev-vtime-a:rw ev-vtime-b:ro"), icount=True,
                runner_cfg=TIME_LIMIT, smp=1)  # sharing one CPU: at SMP 4 each has its own
    r = run(build, boot, "ev-vtime")
    problems = []
    windows, running = [], []
    for g in ["ev-vtime-a", "ev-vtime-b"]:
        lines = judge_self_checking(problems, r.log, g)
        m = first_match(lines, rf"{g}: window (\d+) ns: running (\d+) ns")
        expect(problems, m is not None, f"{g} printed no run-state figures")
        if m:
            w, run_ns = int(m.group(1)), int(m.group(2))
            windows.append(w)
            running.append(run_ns)
            expect(problems, run_ns < 0.75 * w,
                   f"{g}: running {run_ns} ns of a {w} ns window shared with another spinner")
    if len(windows) == 2:
        w = sum(windows) / 2
        total = sum(running)
        print(f"  ev-vtime: window {w:.0f} ns, running {running[0]} + {running[1]} = {total} ns "
              f"({100 * total / w:.1f}%)")
        expect(problems, abs(total - w) <= 0.1 * w,
               f"running times add up to {total} ns over a {w:.0f} ns window (not within 10%)")
    no_panic(problems, r)
    return problems, r


@system_test
def test_ev_blocked_guest_accrues_no_cpu_time(build):
    boot = Boot(images=[test_guest(build, "ev-block"), test_guest(build, "ev-spin-masked")],
                icount=True, runner_cfg=TIME_LIMIT)
    r = run(build, boot, "ev-block")
    problems = []
    lines = judge_self_checking(problems, r.log, "ev-block")
    judge_self_checking(problems, r.log, "ev-spin-masked")
    for l in lines:
        if re.match(r"ev-block: sleep \d+: elapsed", l):
            print(f"  {l}")
    no_panic(problems, r)
    return problems, r


# --- masking, IPIs, argument checks ----------------------------------------------------------

def self_checking_alone(build, name):
    """The self-checking guest `name` alone under -icount: its checks pass."""
    r = run(build, Boot(images=[test_guest(build, name)], icount=True, runner_cfg=TIME_LIMIT), name)
    problems = []
    judge_self_checking(problems, r.log, name)
    no_panic(problems, r)
    return problems, r


@system_test
def test_ev_masked_events_delivered_when_unmasked(build):
    # -icount: "at once" is judged in (virtual) milliseconds, which a
    # loaded host cannot stretch.
    return self_checking_alone(build, "ev-mask")


@system_test
def test_ev_ipi_between_vcpus(build):
    return self_checking_alone(build, "ev-ipi")


@system_test
def test_ev_bad_arguments_refused(build):
    image = test_guest(build, "ev-calls")
    boot = Boot(images=[(image, "ev-calls"), (image, "ev-calls-peer")], icount=True,
                runner_cfg=TIME_LIMIT)
    r = run(build, boot, "ev-calls")
    problems = []
    lines = judge_self_checking(problems, r.log, "ev-calls")
    for l in lines:
        if ": info: " in l:
            print(f"  {l}")
    expect(problems, "ev-calls-peer: outlived ev-calls: ok" in guest_lines(r.log, "ev-calls-peer"),
           "ev-calls-peer did not outlive ev-calls")
    expect(problems, exited(r.log, "ev-calls-peer"), "ev-calls-peer did not exit 0")
    no_panic(problems, r)
    return problems, r


# --- the wall clock ------------------------------------------------------------------------

def ev_wallclock_matches_the_host(problems, r, start, end):
    """ev-wallclock's reading of the wall clock lies within the host's
    [start, end] of the boot (+-1 s). Judged on guest_cases.py's
    test_every_guest_fault_ends_only_that_guest boot (not -icount: with it
    the runner gives QEMU `-rtc clock=vm`, and the RTC would not follow the
    host; QEMU's RTC starts at the host's UTC time). A boot of its own was
    ~5.4 s of make test."""
    lines = judge_self_checking(problems, r.log, "ev-wallclock")
    m = first_match(lines, r"ev-wallclock: wallclock (\d+)\.(\d{9})")
    expect(problems, m is not None, "ev-wallclock printed no wall clock")
    if m:
        wall = int(m.group(1)) + int(m.group(2)) / 1e9
        print(f"  ev-wallclock: guest {wall:.3f}, host {start:.3f} .. {end:.3f}")
        # The guest read it during the run; the firmware's clock has whole
        # seconds, so it may lag by up to one.
        expect(problems, start - 1 <= wall <= end + 1,
               f"guest wall clock {wall:.3f} outside the host's {start:.3f} .. {end:.3f} (+-1 s)")
    no_panic(problems, r)


# --- the schedulers: partitions (ARINC 653 style) and weights ------------------------

def stretches(log, guest):
    out = []
    for l in guest_lines(log, guest):
        m = re.match(r"ran (\d+) (\d+)$", l)
        if m:
            out.append((int(m.group(1)), int(m.group(2))))
    return out


@system_test
def test_partition_windows_respected(build):
    probe = test_guest(build, "partition-probe")
    cfg = ("[guest pa]\nname = pa\n[guest pb]\nname = pb\n"
           "[schedule]\nmode = partitioned\nmajor_frame_ms = 50\n"
           "window = pa 0 20\nwindow = pb 25 15\n")
    r = run(build, Boot(images=[(probe, "pa"), (probe, "pb")], cfg=cfg, icount=True,
                        runner_cfg=TIME_LIMIT), "partition")
    problems = []
    m = re.search(r"schedule: partitioned, major frame 50 ms, 2 window\(s\), from system time (\d+) ns",
                  r.log)
    expect(problems, m, "the partition schedule was not started")
    windows = {"pa": (0, 20_000_000), "pb": (25_000_000, 40_000_000)}
    if m:
        start = int(m.group(1))
        for g, (lo, hi) in windows.items():
            ran = stretches(r.log, g)
            expect(problems, exited(r.log, g), f"{g} did not exit 0")
            expect(problems, len(ran) >= 5, f"{g} ran in only {len(ran)} stretches")
            for a, b in ran:
                # Each stretch lies in one window of the frame (hv's own work
                # at a boundary may shift an edge by a little).
                pa, pb = (a - start) % 50_000_000, (b - start) % 50_000_000
                slack = 200_000
                ok = lo - slack <= pa <= hi + slack and lo - slack <= pb <= hi + slack and b - a <= hi - lo + slack
                expect(problems, ok, f"{g} ran {a}..{b} (phase {pa / 1e6:.2f}..{pb / 1e6:.2f} ms), "
                                     f"outside its window {lo / 1e6:.0f}..{hi / 1e6:.0f} ms")
    return problems, r


@system_test
def test_partition_window_holds_timer_wakeups_from_idle(build):
    """pb sleeps on short timers that keep expiring in the schedule's gaps,
    where the CPU idles: its wake-ups wait for its window. hv's direct way
    from the idle CPU's interrupt into a woken vCPU (hv/sched/sched.c,
    sched_idle_interrupted) must not take it there."""
    cfg = ("[guest pa]\nname = pa\n[guest pb]\nname = pb\n"
           "[schedule]\nmode = partitioned\nmajor_frame_ms = 50\n"
           "window = pa 0 20\nwindow = pb 25 15\n")
    r = run(build, Boot(images=[(test_guest(build, "partition-probe"), "pa"),
                                (test_guest(build, "partition-sleeper"), "pb")],
                        cfg=cfg, icount=True, runner_cfg=TIME_LIMIT), "partition-sleeper")
    problems = []
    m = re.search(r"schedule: partitioned, major frame 50 ms, 2 window\(s\), from system time (\d+) ns",
                  r.log)
    expect(problems, m, "the partition schedule was not started")
    if m:
        start = int(m.group(1))
        ran = stretches(r.log, "pb")
        expect(problems, exited(r.log, "pb"), "pb did not exit 0")
        expect(problems, len(ran) >= 100, f"pb ran in only {len(ran)} stretches")
        lo, hi, slack = 25_000_000, 40_000_000, 200_000
        outside = [(a, b) for a, b in ran
                   if not (lo - slack <= (a - start) % 50_000_000 <= hi + slack
                           and lo - slack <= (b - start) % 50_000_000 <= hi + slack)]
        expect(problems, not outside,
               f"pb ran {len(outside)} stretches outside its window, e.g. "
               + ", ".join(f"phase {((a - start) % 50_000_000) / 1e6:.2f}..{((b - start) % 50_000_000) / 1e6:.2f} ms"
                           for a, b in outside[:3]))
    return problems, r


@system_test
def test_weights_share_the_cpu(build):
    probe = test_guest(build, "partition-probe")
    cfg = "[guest heavy]\nname = heavy\nweight = 768\n[guest light]\nname = light\nweight = 256\n"
    # Weights divide one CPU: at SMP 4 each guest has its own (ratio 1, not 3).
    r = run(build, Boot(images=[(probe, "heavy"), (probe, "light")], cfg=cfg, icount=True,
                        runner_cfg=TIME_LIMIT, smp=1), "weights")
    problems = []
    totals = {}
    for g in ["heavy", "light"]:
        ran = stretches(r.log, g)
        expect(problems, exited(r.log, g), f"{g} did not exit 0")
        # Only while both run: up to the first one's end.
        totals[g] = ran
    if all(totals.values()):
        end = min(max(b for _, b in totals["heavy"]), max(b for _, b in totals["light"]))
        share = {g: sum(min(b, end) - a for a, b in ran if a < end) for g, ran in totals.items()}
        ratio = share["heavy"] / max(share["light"], 1)
        print(f"  weights: heavy {share['heavy']} ns, light {share['light']} ns, ratio {ratio:.2f}")
        expect(problems, 2.4 <= ratio <= 3.6, f"weight 768 vs 256 gave a CPU ratio of {ratio:.2f}, expected ~3")
    return problems, r


@system_test
def test_console_input_follows_the_focus(build):
    from harness import run_with_input
    probe = test_guest(build, "console-input")
    cfg = "[guest in-a]\nname = in-a\n[guest in-b]\nname = in-b\n"
    script = [("in-b: ready for input", b"first line\n"),
              ("in-a got: first line", b"\x01n"),
              ("console: input goes to guest in-b", b"second \x01\x01line\n")]
    r = run_with_input(build, Boot(images=[(probe, "in-a"), (probe, "in-b")], cfg=cfg,
                                   runner_cfg=TIME_LIMIT, timeout=90), "console", script)
    problems = []
    expect(problems, "[in-a] in-a got: first line" in r.log,
           "the first guest (with the focus at boot) did not get the first line")
    expect(problems, "hv: console: input goes to guest in-b" in r.log, "Ctrl-A n did not move the focus")
    expect(problems, "[in-b] in-b got: second ?line" in r.log,
           "the second guest did not get the second line (with its Ctrl-A, shown as ?)")
    expect(problems, exited(r.log, "in-a") and exited(r.log, "in-b"), "the guests did not exit 0")
    return problems, r
