"""System tests of hv's event trace (hv.cfg `trace = yes`, docs/trace.md):
the example partition schedule (guest/examples/partition.cfg) traced and
checked from the trace alone (every vCPU ran only inside its guest's
windows), the window check fed doctored traces (it must fail them), the
timeline (scripts/hv-trace) rendered by headless Chromium, and the dump a
monitor guest asks for.

Each fails without the trace (no records to read), with a scheduler that
lets a vCPU run outside its windows (the doctored traces show the check
sees that), or with a timeline whose script fails or lacks a vCPU's row."""

import importlib.machinery
import importlib.util
import os
import re
import shutil
import subprocess

from harness import ROOT, Boot, run
from judge import exited, expect, guest_lines, test_guest
from registry import system_test


def _load_hv_trace():
    path = os.path.join(ROOT, "scripts", "hv-trace")
    loader = importlib.machinery.SourceFileLoader("hv_trace", path)
    spec = importlib.util.spec_from_loader("hv_trace", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


hv_trace = _load_hv_trace()

EXAMPLE_CFG = os.path.join(ROOT, "guest", "examples", "partition.cfg")
EXAMPLES = ["compute", "consumer", "hello", "hello-pie", "producer", "tinyos"]
TRACE_ON = ["trace = yes", "time_limit_ms = 60000"]


def plan_from_cfg(text):
    """[(guest, offset ns, duration ns)] and the major frame, as hv.cfg says
    (not as the trace's header repeats it)."""
    windows = [(m.group(1), int(m.group(2)) * 1_000_000, int(m.group(3)) * 1_000_000)
               for m in re.finditer(r"^window = (\S+) (\d+) (\d+)$", text, re.M)]
    major = int(re.search(r"^major_frame_ms = (\d+)$", text, re.M).group(1)) * 1_000_000
    return windows, major


def example_run(build, name, **boot):
    with open(EXAMPLE_CFG) as f:
        cfg = f.read()
    images = [os.path.join(ROOT, "images", g) for g in EXAMPLES]
    r = run(build, Boot(images=images, cfg=cfg, icount=True, runner_cfg=TRACE_ON, timeout=600,
                        **boot), name)
    return cfg, r


def schedule_start(log):
    m = re.search(r"schedule: partitioned, major frame \d+ ms, \d+ window\(s\), from system time (\d+) ns",
                  log)
    return int(m.group(1)) if m else None


def doctored(trace_text, guest, at_ns, for_ns):
    """The log with one more running stretch of d<guest>v0 at at_ns."""
    return trace_text + (f"\nhv: trace 0 {at_ns} runstate_change d{guest}v0 running"
                         f"\nhv: trace 0 {at_ns + for_ns} runstate_change d{guest}v0 runnable\n")


@system_test
def test_trace_partition_windows_kept(build):
    # One CPU: the windows are to the microsecond there. At SMP N under
    # -icount, QEMU 7.2 runs the CPUs in turn, each until the next timer
    # deadline, so CPU 0's window-end interrupt waits for CPU 1's turn to end
    # (1.6 ms late in the trace: compute ran past its window end).
    # aprun_partition_windows_per_cpu covers windows on several CPUs.
    cfg, r = example_run(build, "trace-windows", smp=1)
    problems = []
    expect(problems, r.status == 0, f"hv ended with status {r.status}")
    for g in EXAMPLES:
        expect(problems, exited(r.log, g), f"{g} did not exit 0")
    expect(problems, re.search(r"trace: on, \d+ points", r.log), "tracing was not switched on")
    t = hv_trace.parse(r.log)
    expect(problems, len(t.records) > 1000, f"only {len(t.records)} trace records")
    expect(problems, t.ends.get(0, (0, 1))[1] == 0, f"records were lost: {t.ends}")
    windows, major = plan_from_cfg(cfg)
    start = schedule_start(r.log)
    expect(problems, start is not None, "the partition schedule was not started")
    names = {name for name, _ in t.guests.values()}
    expect(problems, names == set(EXAMPLES), f"the trace names the guests {sorted(names)}")
    stretches = hv_trace.running_stretches(t)
    for g, (name, n) in t.guests.items():
        for v in range(n):
            expect(problems, stretches.get((g, v)), f"d{g}v{v} ({name}) never ran in the trace")
    # hv's own view (the header) must agree with hv.cfg's.
    expect(problems, t.schedule == (start, major), f"trace schedule {t.schedule} != ({start}, {major})")
    expect(problems, sorted((g, o, d) for _, g, o, d in t.windows) == sorted(windows),
           f"trace windows {t.windows} differ from hv.cfg's {windows}")
    if start is not None:
        bad = hv_trace.window_violations(t, windows=windows, schedule=(start, major))
        for b in bad[:10]:
            problems.append(f"outside its window: {b}")
        n = sum(len(s) for s in stretches.values())
        print(f"  trace-windows: {len(t.records)} records, {n} running stretches, {len(bad)} outside")
        # The same check on the same trace with a stretch moved: compute
        # (d0 in load order) running 2 ms into producer's first window
        # after the trace began.
        ids = {name: g for g, (name, _) in t.guests.items()}
        frame = (t.records[0]["ns"] - start) // major + 2
        at = start + frame * major + 5_000_000
        t2 = hv_trace.parse(doctored(r.log, ids["compute"], at, 2_000_000))
        bad2 = hv_trace.window_violations(t2, windows=windows, schedule=(start, major))
        expect(problems, len(bad2) == len(bad) + 1 and any("compute" in b for b in bad2),
               f"the check missed compute running in producer's window: {bad2[:3]}")
    # A traced run goes through C for HV_CALL_IRET (entry_flags ENTRY_TRACE):
    # tinyos's returns to user mode are there.
    iret = [x for x in t.records if x["event"] == "hypercall" and x["args"].get("nr") == "10"]
    expect(problems, iret, "no HV_CALL_IRET (10) hypercall in the trace")
    for kind in ("switch_infnext", "hypercall", "trap", "evtchn_send", "evtchn_deliver", "timer_fire",
                 "window", "dom_end"):
        expect(problems, any(x["event"] == kind for x in t.records), f"no {kind} record in the trace")
    return problems, r


def _synthetic(runs):
    """A trace of two guests, a (0..20 ms) and b (50..90 ms) in a 100 ms
    frame starting at 1 s, with the given running stretches (guest id,
    from ns, to ns)."""
    lines = ["hv: trace: begin cpus=1 cap=16384 now=2000000000",
             "hv: trace: guest d0 name=a vcpus=1", "hv: trace: guest d1 name=b vcpus=1",
             "hv: trace: schedule start=1000000000 major=100000000 windows=2",
             "hv: trace: window idx=0 guest=a offset=0 duration=20000000",
             "hv: trace: window idx=1 guest=b offset=50000000 duration=40000000"]
    for g, a, b in runs:
        lines.append(f"hv: trace 0 {a} runstate_change d{g}v0 running")
        lines.append(f"hv: trace 0 {b} runstate_change d{g}v0 blocked")
    lines.append("hv: trace: end cpu=0 records=4 lost=0")
    return hv_trace.parse("\n".join(lines))


@system_test
def test_trace_window_check_fails_a_doctored_trace(build):
    del build  # no boot: the checker alone
    problems = []
    ms = 1_000_000
    good = _synthetic([(0, 1000 * ms, 1020 * ms), (1, 1050 * ms, 1090 * ms), (0, 1200 * ms + 50_000, 1205 * ms)])
    expect(problems, hv_trace.window_violations(good) == [],
           f"a trace that kept its windows was refused: {hv_trace.window_violations(good)}")
    cases = {
        "a stretch in the other guest's window": [(0, 1060 * ms, 1061 * ms)],
        "a stretch in a gap": [(1, 1030 * ms, 1031 * ms)],
        "a stretch overrunning its window's end": [(0, 1015 * ms, 1025 * ms)],
        "a stretch starting before its window": [(1, 1045 * ms, 1055 * ms)],
        "a stretch across two of its windows": [(0, 1000 * ms, 1110 * ms)],
    }
    for what, runs in cases.items():
        bad = hv_trace.window_violations(_synthetic(runs))
        expect(problems, len(bad) == 1, f"{what}: the check gave {bad}")
    # A guest that ends while running ends its stretch there.
    t = hv_trace.parse("\n".join(["hv: trace 0 5 runstate_change d0v0 running",
                                  "hv: trace 0 9 dom_end d0 action=stop"]))
    expect(problems, hv_trace.running_stretches(t) == {(0, 0): [(5, 9, 0)]},
           f"dom_end did not end the stretch: {hv_trace.running_stretches(t)}")
    return problems, None


def chromium():
    for name in ("chromium-headless-shell", "chromium"):
        path = shutil.which(name)
        if path:
            return path
    return None


@system_test
def test_trace_timeline_renders_in_chromium(build):
    _, r = example_run(build, "trace-timeline")
    problems = []
    expect(problems, r.status == 0, f"hv ended with status {r.status}")
    log_path = os.path.join(r.workdir, "trace-serial.log")
    with open(log_path, "w") as f:
        f.write(r.log)
    out = os.path.join(r.workdir, "trace.html")
    with open(out, "w") as f:
        p = subprocess.run([os.path.join(ROOT, "scripts", "hv-trace"), log_path], stdout=f,
                           stderr=subprocess.PIPE, text=True)
    expect(problems, p.returncode == 0, f"hv-trace failed: {p.stderr}")
    browser = chromium()
    expect(problems, browser, "no chromium-headless-shell or chromium (make deps installs it)")
    if problems:
        return problems, r
    t = hv_trace.parse(r.log)
    want_vcpus = sum(n for _, n in t.guests.values())
    dom = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                          "--virtual-time-budget=5000", "--dump-dom", "file://" + out],
                         capture_output=True, text=True, timeout=180)
    m = re.search(r'<p id="status"([^>]*)>([^<]*)<', dom.stdout)
    expect(problems, m, f"no status element in the rendered page (chromium: {dom.stderr[-300:]!r})")
    if m:
        attrs = dict(re.findall(r'([\w-]+)="([^"]*)"', m.group(1)))
        print(f"  trace-timeline: {m.group(2)}; {len(t.records)} records, html {os.path.getsize(out)} bytes")
        expect(problems, attrs.get("data-errors") == "0", f"script errors: {m.group(2)}")
        expect(problems, attrs.get("data-rendered") == "1", "the SVG has no size")
        expect(problems, attrs.get("data-vcpu-rows") == str(want_vcpus),
               f"{attrs.get('data-vcpu-rows')} vCPU rows, the trace has {want_vcpus} vCPUs")
        expect(problems, attrs.get("data-rows") == str(want_vcpus + len(t.ends)),
               f"{attrs.get('data-rows')} rows, want {want_vcpus} vCPUs + {len(t.ends)} CPU(s)")
    # One row per vCPU, each labelled with its guest's name.
    for g, (name, n) in t.guests.items():
        for v in range(n):
            expect(problems, f'data-row="d{g}v{v} {name}"' in dom.stdout, f"no row for d{g}v{v} {name}")
    return problems, r


def monitor_line(log, name):
    for l in guest_lines(log, name):
        m = re.match(r"trace-monitor: dump calls (\d+), records (\d+), largest (-?\d+), first (-?\d+)$", l)
        if m:
            return tuple(int(x) for x in m.groups())
    return None


@system_test
def test_trace_dump_for_a_monitor(build):
    img = test_guest(build, "trace-monitor")
    cfg = "[guest tm]\nname = tm\nmonitor = yes\n[guest tm-nopriv]\nname = tm-nopriv\n"
    r = run(build, Boot(images=[(img, "tm"), (img, "tm-nopriv")], cfg=cfg, icount=True,
                        runner_cfg=TRACE_ON), "trace-monitor")
    problems = []
    got = monitor_line(r.log, "tm")
    expect(problems, got, "tm did not report")
    if got:
        calls, records, largest, first = got
        expect(problems, records > 40 and first > 0, f"the monitor got {records} records ({got})")
        expect(problems, 0 < largest <= 16, f"one call gave {largest} records (at most 16)")
        # What it asked for is on the serial line before its report, and
        # the end of the run writes only what came after. Every CPU's
        # records ("hv: trace CPU ..."): at SMP 2 and 8 the monitor got 175,
        # 94 of CPU 0 and 81 of CPU 1 (counting CPU 0's alone failed there).
        before = r.log[:r.log.index("[tm] trace-monitor: dump calls")]
        expect(problems, len(re.findall(r"hv: trace \d+ \d+ ", before)) >= records,
               "the monitor's records are not in the log before its report")
    got = monitor_line(r.log, "tm-nopriv")
    expect(problems, got and got[3] == -1, f"without monitor = yes: {got} (want first -HV_EPERM)")
    expect(problems, re.search(r"trace: end cpu=0 records=\d+ lost=0", r.log), "no end-of-run dump")
    # The monitor's dumps and the end's, in log order, are one trace in time order.
    ns = [int(m.group(1)) for m in re.finditer(r"hv: trace 0 (\d+) ", r.log)]
    expect(problems, ns == sorted(ns), "records out of time order across the dumps")
    return problems, r


@system_test
def test_trace_off_by_default(build):
    # Not under -icount: nothing here is timed (the first dump call's answer
    # ends the monitor's loop), and an -icount boot is ~2.5x the firmware's
    # time of a plain one.
    img = test_guest(build, "trace-monitor")
    r = run(build, Boot(images=[(img, "tm")], cfg="[guest tm]\nname = tm\nmonitor = yes\n",
                        runner_cfg=["time_limit_ms = 60000"]), "trace-off")
    problems = []
    got = monitor_line(r.log, "tm")
    expect(problems, got and got[3] == -2, f"tracing off: {got} (want first -HV_ENOENT)")
    expect(problems, not re.search(r"trace: on|\btrace \d+ \d+ ", r.log), "trace output with tracing off")
    return problems, r
