#!/usr/bin/env python3
"""make bench: boots the benchmark guests, prints the figures with their
targets, writes build/bench.json. docs/benchmarks.md says what each figure
measures; make builds everything this script boots.

  bench/run.py --build build [--icount 1|0] [--json PATH] [--timeout S] [--hv-cfg LINE]

Seven boots, in parallel under -icount (they cannot disturb each other's
instruction counts), one after the other on wall-clock time. Each boot
figure needs an ESP of its own shape and nothing extra before its guests:

  a  bench-main + bench-peer + bench-event, log_level = debug,
     bench_native_rounds = N, [shm bench-ev] for bench-main and bench-event:
     rdtsc_pair, vcpu_switch, hypercall_null, hypercall_console_64b,
     cpu_overhead_pct (hv's native run comes before the guests, which is
     why boot_first_guest cannot come from this boot), guest_overhead_bytes,
     trap_ud_roundtrip(_iretq), trap_pf_roundtrip, syscall_bounce,
     event_self, event_cross_guest, timer_deadline_late
  b  32 copies of bench-boot (boot-00 .. boot-31): boot_32_guests
  c  one bench-boot (boot-00), nothing else: boot_first_guest
  d  bench-main alone on -cpu max,smap=off: syscall_fast and
     syscall_fast_hv_entries (under QEMU TCG with SMAP, hv completes every
     ring-3 iretq and fast-gate delivery: vcpu/smap_quirk.c); bench-main
     sees no SMAP in CPUID and measures only those
  x  boot a's guests with `xpti = on` (page-table isolation forced, what a
     Meltdown-affected CPU gets): every figure of bench-main as NAME_xpti
  e  bench-attack + bench-timer: timer_late_under_attack
  f  bench-fair three times (fair-1, fair-2, fair-4: weights 1:2:4) +
     bench-spinpoll (fair-poll, default weight), [shm bench-fair]:
     fairness_error_pct

Boots a and x have `measure_cr3_writes = yes`: bench-main reads hv's CR3
writes before and after each figure's samples, and the table's note says
how many one sample cost (under -icount a CR3 write counts as one
instruction, on hardware it costs far more, with PCID less).

Every boot but a and x has `measure_irq_off = yes` (hv/debug/irqoff.c): hv logs
its longest interrupts-off stretch since the first guest started, and
hv_irq_off_max is the longest of those. Boots a and x, whose figures are
the hot paths, run without it.

hv_image_bytes is the size of build/hv.efi. Exit status: 0 when every figure
was measured, whatever the verdicts; 1 when a boot failed or a figure is
missing (a broken benchmark); 2 for bad arguments or a missing build.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

import harness  # noqa: E402  (ESP building and the QEMU command line)

ICOUNT_SHIFT = 3  # scripts/hv-qemu --icount: -icount shift=3, TSC += 8 per instruction

# Every figure of the issue, in table order: (name, unit under -icount, target).
# A target is an upper bound ("<= target").
FIGURES = [
    ("hypercall_null", "instructions", 60),
    ("hypercall_console_64b", "instructions", 600),
    ("trap_ud_roundtrip", "instructions", 150),
    ("trap_ud_roundtrip_iretq", "instructions", 150),
    ("trap_pf_roundtrip", "instructions", 200),
    ("syscall_fast", "instructions", 10),
    ("syscall_fast_hv_entries", "hv entries per call", 0),
    ("syscall_bounce", "instructions", 250),
    ("event_self", "instructions", 200),
    ("event_cross_guest", "instructions", 600),
    ("vcpu_switch", "instructions", 400),
    ("timer_deadline_late", "ns", 5000),
    ("boot_first_guest", "instructions", 5_000_000),
    ("boot_32_guests", "instructions", 20_000_000),
    ("cpu_overhead_pct", "percent", 0.5),
    ("hv_image_bytes", "bytes", 131072),
    ("guest_overhead_bytes", "bytes", 32768),
    ("hv_irq_off_max", "instructions", 20000),
    ("timer_late_under_attack", "ns", 50000),
    ("fairness_error_pct", "percent", 2),
]
# Judged on the worst sample, not the median (the table says so in the note).
JUDGED_ON_MAX = {"timer_late_under_attack"}
EXTRA_TARGET_NOTE = {"syscall_fast": " and 0 hv entries", "timer_late_under_attack": " worst"}
# Figures that come from time: judged only under -icount.
TIME_UNITS = {"instructions", "ns", "percent"}

# bench-main lines that are not figures as they stand: the baseline, the
# guest half of cpu_overhead_pct, the hv-entries count parse_boot_d reads.
DERIVED = {"rdtsc_pair", "cpu_workload", "cpu_workload_check", "syscall_fast_hv_entries", "done"}
# What bench-main must report today, per boot; a missing one is a broken benchmark.
GUEST_FIGURES = {"a": ("vcpu_switch", "hypercall_null", "hypercall_console_64b", "cpu_workload",
                       "trap_ud_roundtrip", "trap_ud_roundtrip_iretq", "trap_pf_roundtrip",
                       "syscall_bounce", "event_self", "event_cross_guest",
                       "timer_deadline_late"),
                 "d": ("syscall_fast",)}
# Boot x: boot a's guests with page-table isolation forced on; its figures
# are reported as NAME_xpti, beside boot a's (docs/benchmarks.md).
GUEST_FIGURES["x"] = GUEST_FIGURES["a"]
XPTI_SUFFIX = "_xpti"
XPTI_CFG = "xpti = on\n"
# Boots a and x let bench-main see hv's CR3 writes (include/hv/abi_cpu.h):
# each figure's note says how many a sample cost.
CR3_CFG = "measure_cr3_writes = yes\n"
# Figures whose samples also wait (for console credit, a timer): their CR3
# writes are mostly the waiting's, not the path's.
CR3_NOT_PER_PATH = {"hypercall_console_64b", "timer_deadline_late", "cpu_workload"}
# Boot d's CPU model: the fast gate skips hv only without SMAP under QEMU TCG.
NO_SMAP_CPU = "max,smap=off"
# Said beside the figure in the table (the JSON has no notes).
FIGURE_NOTES = {
    "trap_ud_roundtrip_iretq": "boot a (SMAP on): hv's SMAP quirk completes the iretq",
    "syscall_fast": f"boot d, -cpu {NO_SMAP_CPU}",
}

BOOT_GUESTS = 32
PEER_NAME = "bench-peer"  # the "typical small guest" of guest_overhead_bytes
# event_cross_guest's receiver. Its ESP name sorts first, so it starts (sets
# up and blocks) before bench-main and bench-peer first run.
EVENT_NAME = "bench-event"
EVENT_ESP_NAME = "bench-0-event"

# Boots with hv's interrupts-off measurement (hv.cfg, [hv] measure_irq_off).
IRQ_OFF_BOOTS = ("b", "c", "d", "e", "f")
IRQ_OFF_CFG = "[hv]\nmeasure_irq_off = yes\n"
# fairness_error_pct: ESP name (= guest name) -> hv.cfg weight; None: the
# default (GUEST_DEFAULT_WEIGHT, guest-loader/guest_params.h).
FAIR_GUESTS = {"fair-1": 256, "fair-2": 512, "fair-4": 1024, "fair-poll": None}
FAIR_ATTACKER = "fair-poll"
# timer_late_under_attack's two guests (ESP name = guest name).
ATTACK_NAME = "bench-attack"
TIMER_NAME = "bench-timer"


def bench_h(name, value):
    """A #define of bench/guests/bench.h that the guests and hv.cfg must agree on."""
    with open(os.path.join(ROOT, "bench", "guests", "bench.h")) as f:
        m = re.search(rf"^#define {name} ({value})\s*$", f.read(), re.M)
    if not m:
        sys.exit(f"bench: {name} not found in bench/guests/bench.h")
    return m.group(1)


def work_rounds():
    """BENCH_WORK_ROUNDS: hv must run the same work as bench-main."""
    return int(bench_h("BENCH_WORK_ROUNDS", r"\d+"))


def names_cfg(names):
    """hv.cfg sections naming guests whose ESP file name is not their name
    (a guest's name comes from hv.cfg or its file name, never its note)."""
    return "".join(f"[guest {f}]\nname = {n}\n" for f, n in names.items())


def event_shm_cfg():
    """hv.cfg's region shared by bench-main and bench-event (event_cross_guest)."""
    name = bench_h("BENCH_EVENT_SHM", r'"[A-Za-z0-9_-]+"').strip('"')
    return f"[shm {name}]\nsize = 4K\nmap = bench-main:rw {EVENT_NAME}:rw\n"


def default_weight():
    with open(os.path.join(ROOT, "guest-loader", "guest_params.h")) as f:
        m = re.search(r"^#define GUEST_DEFAULT_WEIGHT (\d+)", f.read(), re.M)
    if not m:
        sys.exit("bench: GUEST_DEFAULT_WEIGHT not found in guest-loader/guest_params.h")
    return int(m.group(1))


def hypercall_names():
    """{number: name} from include/hv/abi.h, for the causes hv reports."""
    with open(os.path.join(ROOT, "include", "hv", "abi.h")) as f:
        return {int(n): name for name, n in re.findall(r"^\s*HV_CALL_(\w+) = (\d+),", f.read(),
                                                       re.M)}


def fair_cfg():
    """Boot f's hv.cfg: the weights and the region the four share."""
    cfg = IRQ_OFF_CFG
    for name, weight in FAIR_GUESTS.items():
        if weight is not None:
            cfg += f"[guest {name}]\nweight = {weight}\n"
    return cfg + (f"[shm {fair_shm_name()}]\nsize = 4K\nmap = "
                  + " ".join(f"{n}:rw" for n in FAIR_GUESTS) + "\n")


def fair_shm_name():
    with open(os.path.join(ROOT, "bench", "guests", "bench_fair.h")) as f:
        m = re.search(r'^#define BENCH_FAIR_SHM "([A-Za-z0-9_-]+)"\s*$', f.read(), re.M)
    if not m:
        sys.exit("bench: BENCH_FAIR_SHM not found in bench/guests/bench_fair.h")
    return m.group(1)


def boot(build, name, images, cfg, cpu, icount, timeout, workroot, hv_cfg=()):
    """One QEMU boot in workroot/name: (exit status, serial log, seconds, stderr).
    hv_cfg: [hv] lines put before the boot's own (--hv-cfg)."""
    workdir = os.path.join(workroot, name)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    spec = harness.Boot(images=images, cfg=cfg, cpu=cpu, icount=icount, timeout=timeout,
                        runner_cfg=list(hv_cfg))
    esp = harness.build_esp(build, spec, workdir)
    start = time.monotonic()
    proc = subprocess.run(harness.qemu_command(spec, esp, workdir), capture_output=True, text=True)
    log = ""
    path = os.path.join(workdir, "serial.log")
    if os.path.exists(path):
        with open(path, "rb") as f:
            log = f.read().decode("utf-8", "replace").replace("\r\n", "\n")
    with open(os.path.join(workdir, "qemu-stderr.log"), "w") as f:
        f.write(proc.stderr)
    return proc.returncode, log, time.monotonic() - start, proc.stderr


GUEST_LINE = re.compile(r"^\[([^\]]+)\] bench: (.*)$", re.M)
FIELD = re.compile(r'(\w+)=("[^"]*"|\S+)')


def guest_lines(log):
    """(guest, {key: value}) for every `bench:` line a guest printed."""
    out = []
    for guest, rest in GUEST_LINE.findall(log):
        fields = {k: v.strip('"') for k, v in FIELD.findall(rest)}
        fields["_error"] = rest.startswith("error ")
        out.append((guest, fields))
    return out


def hv_value(log, pattern):
    m = re.search(pattern, log, re.M)
    return m.groups() if m else None


class Report:
    def __init__(self, icount):
        self.icount = icount
        self.values = {}     # name -> dict(median, min, iterations, note)
        self.problems = []   # broken benchmarks
        self.notes = []
        self.extra = []      # figures bench-main measures that FIGURES does not list

    def time_value(self, tsc):
        """TSC cycles -> instructions under -icount; cycles as they are otherwise."""
        return tsc / (1 << ICOUNT_SHIFT) if self.icount else float(tsc)

    def put(self, name, median, minimum, iterations, note=""):
        note = "; ".join(n for n in (FIGURE_NOTES.get(name, ""), note) if n)
        self.values[name] = {"median": median, "min": minimum, "iterations": iterations,
                             "note": note}


def parse_bench_main(log, rep, boot_name, suffix=""):
    """bench-main's figures of one boot: {name: fields}; each is reported
    as name + suffix."""
    lines = guest_lines(log)
    main = {f["name"]: f for g, f in lines if g == "bench-main" and "name" in f and not f["_error"]}
    for g, f in lines:
        if f["_error"]:
            rep.problems.append(f"{g}: {f.get('name', '?')} broke: {f.get('reason', '?')} "
                                f"(result {f.get('result', '?')})")
    targets = dict((n, t) for n, _, t in FIGURES)

    pair = main.get("rdtsc_pair")
    if pair:
        rep.notes.append(f"boot {boot_name}: rdtsc pair (subtracted from every sample): "
                         f"{fmt(rep.time_value(int(pair['tsc_median'])))} "
                         f"{'instructions' if rep.icount else 'TSC cycles'}")
    else:
        rep.problems.append(f"rdtsc_pair: no result from bench-main in boot {boot_name}")

    # Every row of bench-main's table is a figure, whatever its name: a new
    # row needs nothing here (a name missing from FIGURES is appended).
    for name, f in main.items():
        if name in DERIVED:
            continue
        events = int(f["events"])
        if "tsc_median" in f:  # TSC deltas: instructions under -icount
            median, low = rep.time_value(int(f["tsc_median"])), rep.time_value(int(f["tsc_min"]))
        elif "median" in f:    # values in the figure's unit already (ns)
            median, low = int(f["median"]), int(f["min"])
        else:
            continue
        notes = [f"{events} per sample" if events > 1 else ""]
        if "cr3" in f and name not in CR3_NOT_PER_PATH:
            notes.append(f"{f['cr3']} CR3 writes per sample")
        rep.put(name + suffix, median / events, low / events, int(f["iterations"]),
                "; ".join(n for n in notes if n))
        if suffix:
            rep.extra.append((name + suffix, f["unit"], int(f["target"])))
        elif name not in targets:
            rep.extra.append((name, f["unit"], int(f["target"])))
        elif int(f["target"]) != targets[name]:
            rep.notes.append(f"{name}: the guest's target {f['target']} differs from "
                             f"run.py's {targets[name]}")
    for name in GUEST_FIGURES[boot_name]:
        if name not in main:
            rep.problems.append(f"{name + suffix}: no result from bench-main")
    return main


def parse_boot_a(log, rep, rounds):
    main = parse_bench_main(log, rep, "a")
    native = hv_value(log, r"^hv: bench: native workload of (\d+) rounds: (\d+) TSC cycles "
                           r"\(crc (0x[0-9a-f]+)\)")
    work = main.get("cpu_workload")
    check = main.get("cpu_workload_check")
    if native and work and check:
        n_rounds, n_tsc, n_crc = int(native[0]), int(native[1]), native[2]
        if n_rounds != rounds or int(check["rounds"]) != rounds:
            rep.problems.append(f"cpu_overhead_pct: rounds differ (hv {n_rounds}, guest "
                                f"{check['rounds']}, bench.h {rounds})")
        elif check["crc"].lower() != n_crc.lower():
            rep.problems.append(f"cpu_overhead_pct: the guest's CRC {check['crc']} is not "
                                f"hv's {n_crc}: not the same work")
        else:
            med = (int(work["tsc_median"]) - n_tsc) / n_tsc * 100
            low = (int(work["tsc_min"]) - n_tsc) / n_tsc * 100
            rep.put("cpu_overhead_pct", med, low, int(work["iterations"]),
                    f"{rounds} rounds: native {fmt(rep.time_value(n_tsc))}, guest "
                    f"{fmt(rep.time_value(int(work['tsc_median'])))}")
    else:
        rep.problems.append("cpu_overhead_pct: hv's native run or the guest's runs missing")

    over = hv_value(log, rf"^hv: guest {re.escape(PEER_NAME)}: hv overhead (\d+) bytes: "
                         r"(\d+) page-table pages, (\d+) bytes of structures")
    if over:
        v = int(over[0])
        rep.put("guest_overhead_bytes", v, v, 1,
                f"{PEER_NAME}: {over[1]} page-table pages + {over[2]} B of structures")
    else:
        rep.problems.append("guest_overhead_bytes: hv's debug line for bench-peer missing")


def parse_boot_d(log, rep):
    main = parse_bench_main(log, rep, "d")
    e = main.get("syscall_fast_hv_entries")
    if e and "entries" in e and "calls" in e:
        per_call = int(e["entries"]) / int(e["calls"])
        rep.put("syscall_fast_hv_entries", per_call, per_call, int(e["calls"]),
                f"{e['entries']} in {e['calls']} calls of syscall_fast, boot d")
        if "syscall_fast" in rep.values:
            rep.values["syscall_fast"]["note"] += f"; {fmt(per_call)} hv entries per call"
    else:
        rep.problems.append("syscall_fast_hv_entries: no result from bench-main in boot d")


def boot_tscs(log):
    """efi_main's TSC and {guest: first TSC} of the bench-boot guests."""
    efi = hv_value(log, r"^hv: boot: efi_main entered at TSC (\d+)")
    tscs = {f["guest"]: int(f["tsc"]) for g, f in guest_lines(log)
            if f.get("name") == "boot_guest" and "tsc" in f}
    return (int(efi[0]) if efi else None), tscs


def parse_boot_b(log, rep):
    efi, tscs = boot_tscs(log)
    if efi is None or len(tscs) != BOOT_GUESTS:
        rep.problems.append(f"boot_32_guests: efi_main's TSC {'found' if efi else 'missing'}, "
                            f"{len(tscs)} of {BOOT_GUESTS} guests reported")
        return
    last = max(tscs, key=tscs.get)
    v = rep.time_value(tscs[last] - efi)
    first = rep.time_value(min(tscs.values()) - efi)
    rep.put("boot_32_guests", v, v, 1, f"last: {last}; the first of them at {fmt(first)}")


def parse_boot_c(log, rep):
    efi, tscs = boot_tscs(log)
    if efi is None or len(tscs) != 1:
        rep.problems.append(f"boot_first_guest: efi_main's TSC {'found' if efi else 'missing'}, "
                            f"{len(tscs)} of 1 guest reported")
        return
    v = rep.time_value(next(iter(tscs.values())) - efi)
    rep.put("boot_first_guest", v, v, 1, "one 256 KiB guest on the ESP")


IRQ_OFF_LINE = (r"^hv: irq-off: longest (\d+) TSC cycles: (\S+) (\d+) guest (\S+) "
                r"\((\d+) stretches\)")
EXCEPTIONS = ["#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "#CSO", "#TS",
              "#NP", "#SS", "#GP", "#PF"]


def irq_off_cause(kind, number, names):
    """hv's cause words (hv/debug/irqoff.c) in plain words."""
    if kind == "hypercall":
        return f"hypercall {number} ({names.get(number, '?')})"
    if kind == "system-call-bounce":
        return "a guest system call bounced to its kernel"
    if kind == "idle-after-vector":
        return f"hv's idle loop choosing a vCPU (woken by vector {number})"
    what = EXCEPTIONS[number] if number < len(EXCEPTIONS) else "interrupt"
    return f"vector {number} ({what})"


def parse_irq_off(results, rep):
    """hv_irq_off_max: the longest stretch of every boot with the measurement."""
    per_boot = {}
    for k in IRQ_OFF_BOOTS:
        m = hv_value(results[k][1], IRQ_OFF_LINE)
        if m:
            per_boot[k] = m
        else:
            rep.problems.append(f"hv_irq_off_max: hv's irq-off line missing in boot {k}")
    if len(per_boot) != len(IRQ_OFF_BOOTS):
        return
    names = hypercall_names()
    worst = max(per_boot, key=lambda k: int(per_boot[k][0]))
    tsc, kind, number, guest, _ = per_boot[worst]
    v = rep.time_value(int(tsc))
    stretches = sum(int(m[4]) for m in per_boot.values())
    others = ", ".join(f"{k} {fmt(rep.time_value(int(m[0])))}" for k, m in per_boot.items()
                       if k != worst)
    rep.put("hv_irq_off_max", v, v, stretches,
            f"boot {worst}: {irq_off_cause(kind, int(number), names)} by {guest}; "
            f"other boots: {others}")


def guest_errors(log, rep, boot_name):
    for g, f in guest_lines(log):
        if f["_error"]:
            rep.problems.append(f"boot {boot_name}: {g}: {f.get('name', '?')} broke: "
                                f"{f.get('reason', '?')} (result {f.get('result', '?')})")


def parse_boot_e(log, rep):
    """timer_late_under_attack: bench-timer's line, bench-attack's longest call."""
    guest_errors(log, rep, "e")
    lines = guest_lines(log)
    late = [f for g, f in lines if g == TIMER_NAME and f.get("name") == "timer_late_under_attack"
            and not f["_error"]]
    ops = [f for g, f in lines if g == ATTACK_NAME and f.get("name") == "attack_op"]
    if not late or not ops:
        rep.problems.append("timer_late_under_attack: no result from "
                            + (TIMER_NAME if not late else ATTACK_NAME))
        return
    f = late[0]
    longest = max(ops, key=lambda o: int(o["longest_tsc"]))
    rep.put("timer_late_under_attack", int(f["median"]), int(f["min"]), int(f["iterations"]),
            f"worst {fmt(int(f['max']))} ns (judged); the attacker's longest call: "
            f"{longest['op']}, {fmt(rep.time_value(int(longest['longest_tsc'])))} "
            f"{'instructions' if rep.icount else 'TSC cycles'}")
    rep.values["timer_late_under_attack"]["max"] = int(f["max"])


def parse_boot_f(log, rep):
    """fairness_error_pct from the four guests' running times in one window."""
    guest_errors(log, rep, "f")
    shares = {f["guest"]: f for g, f in guest_lines(log)
              if f.get("name") == "fair_share" and not f["_error"] and g == f.get("guest")}
    missing = [n for n in FAIR_GUESTS if n not in shares]
    if missing:
        rep.problems.append("fairness_error_pct: no result from " + ", ".join(missing))
        return
    windows = {(shares[n]["start_ns"], shares[n]["window_ns"]) for n in FAIR_GUESTS}
    if len(windows) != 1:
        rep.problems.append(f"fairness_error_pct: the guests measured different windows {windows}")
        return
    running = {n: int(shares[n]["running_ns"]) for n in FAIR_GUESTS}
    total = sum(running.values())
    window = int(shares[FAIR_ATTACKER]["window_ns"])
    if total == 0 or total > window:
        rep.problems.append(f"fairness_error_pct: {total} ns of running time in a {window} ns "
                            "window")
        return
    weights = {n: w if w is not None else default_weight() for n, w in FAIR_GUESTS.items()}
    wsum = sum(weights.values())
    expected = {n: weights[n] / wsum for n in FAIR_GUESTS}
    error = {n: abs(running[n] / total - expected[n]) / expected[n] * 100 for n in FAIR_GUESTS}
    worst = max(error, key=error.get)
    share_text = ", ".join(f"{n} {running[n] / total * 100:.2f} % ({expected[n] * 100:.1f})"
                           for n in FAIR_GUESTS)
    rep.put("fairness_error_pct", error[worst], error[worst], 1,
            f"worst {worst}; share (expected): {share_text}; the four ran "
            f"{total / window * 100:.2f} % of the {window / 1e9:g} s window")


def fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float) and not v.is_integer():
        return f"{v:,.3f}" if abs(v) < 10 else f"{v:,.1f}"
    return f"{int(v):,}"


def verdict(rep, name, unit, target, median):
    if unit in TIME_UNITS and not rep.icount:
        return "noisy: not judged"
    if median is None:
        return "BROKEN"
    # syscall_fast's target is also "0 hv entries".
    entries = rep.values.get("syscall_fast_hv_entries", {}).get("median")
    if name == "syscall_fast" and entries:
        return "MISSED"
    if name in JUDGED_ON_MAX:
        median = rep.values[name]["max"]
    return "ok" if median <= target else "MISSED"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--icount", type=int, choices=(0, 1), default=1)
    ap.add_argument("--json", default=None, help="default: BUILD/bench.json")
    ap.add_argument("--timeout", type=int, default=180, help="seconds per boot")
    ap.add_argument("--hv-cfg", action="append", default=[], metavar="LINE",
                    help="an [hv] line for every boot, e.g. 'mitigations = off' (repeatable)")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    guests = os.path.join(build, "bench-guests")
    need = [os.path.join(build, "hv.efi")] + [os.path.join(guests, g) for g in
                                                ("bench-main", "bench-peer", "bench-boot",
                                                 EVENT_NAME, ATTACK_NAME, TIMER_NAME,
                                                 "bench-fair", "bench-spinpoll")]
    missing = [p for p in need if not os.path.exists(p)]
    if missing:
        print("bench: missing " + ", ".join(missing) + " (run make bench)", file=sys.stderr)
        return 2
    icount = bool(args.icount)
    rounds = work_rounds()
    workroot = os.path.join(build, "bench")
    os.makedirs(workroot, exist_ok=True)

    hot_path_images = [(os.path.join(guests, EVENT_NAME), EVENT_ESP_NAME),
                       (os.path.join(guests, "bench-main"), "bench-a-main"),
                       (os.path.join(guests, "bench-peer"), "bench-b-peer")]
    hot_path_guests = event_shm_cfg() + names_cfg({EVENT_ESP_NAME: EVENT_NAME,
                                                   "bench-a-main": "bench-main",
                                                   "bench-b-peer": PEER_NAME})
    boots = {
        "a": (hot_path_images,
              f"[hv]\nlog_level = debug\nbench_native_rounds = {rounds}\n{CR3_CFG}"
              + hot_path_guests, "max"),
        "x": (hot_path_images, f"[hv]\n{XPTI_CFG}{CR3_CFG}" + hot_path_guests, "max"),
        "b": ([(os.path.join(guests, "bench-boot"), f"boot-{i:02d}") for i in range(BOOT_GUESTS)],
              IRQ_OFF_CFG, "max"),
        "c": ([(os.path.join(guests, "bench-boot"), "boot-00")], IRQ_OFF_CFG, "max"),
        "d": ([(os.path.join(guests, "bench-main"), "bench-main")], IRQ_OFF_CFG, NO_SMAP_CPU),
        "e": ([(os.path.join(guests, ATTACK_NAME), ATTACK_NAME),
               (os.path.join(guests, TIMER_NAME), TIMER_NAME)], IRQ_OFF_CFG, "max"),
        "f": ([(os.path.join(guests, "bench-spinpoll" if n == FAIR_ATTACKER else "bench-fair"), n)
               for n in FAIR_GUESTS], fair_cfg(), "max"),
    }
    started = time.monotonic()
    how = "in parallel, under -icount shift=3" if icount else "one after the other, on wall-clock time"
    print(f"bench: {len(boots)} boots, {how}", flush=True)
    workers = (os.cpu_count() or 2) if icount else 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {k: pool.submit(boot, build, f"boot-{k}", imgs, cfg, cpu, icount, args.timeout,
                                  workroot, args.hv_cfg) for k, (imgs, cfg, cpu) in boots.items()}
        results = {k: f.result() for k, f in futures.items()}

    rep = Report(icount)
    for k, (status, log, secs, stderr) in results.items():
        print(f"bench: boot {k}: status {status}, {secs:.1f} s, log in "
              f"{os.path.relpath(os.path.join(workroot, 'boot-' + k, 'serial.log'))}")
        if status != 0:
            rep.problems.append(f"boot {k} ended with status {status} (0 expected): "
                                + (stderr.strip().splitlines() or ["see its serial log"])[-1])
    parse_boot_a(results["a"][1], rep, rounds)
    parse_bench_main(results["x"][1], rep, "x", XPTI_SUFFIX)
    parse_boot_b(results["b"][1], rep)
    parse_boot_c(results["c"][1], rep)
    parse_boot_d(results["d"][1], rep)
    parse_boot_e(results["e"][1], rep)
    parse_boot_f(results["f"][1], rep)
    parse_irq_off(results, rep)
    hv_efi = os.path.join(build, "hv.efi")
    size = os.path.getsize(hv_efi)
    rep.put("hv_image_bytes", size, size, 1, f"{os.path.relpath(hv_efi)} (= EFI/BOOT/BOOTX64.EFI)")

    # --- the table and the JSON -----------------------------------------------
    rows, records = [], []
    for name, unit, target in FIGURES + rep.extra:
        shown_unit = "TSC cycles" if unit == "instructions" and not icount else unit
        target_text = f"<= {fmt(target)}{EXTRA_TARGET_NOTE.get(name, '')}"
        v = rep.values.get(name)
        if v is None:
            rows.append((name, shown_unit, "-", "-", "-", target_text, "BROKEN", ""))
            records.append({"name": name, "unit": shown_unit, "median": None, "min": None,
                            "iterations": 0, "target": target, "status": "broken"})
            if not any(p.startswith(name) for p in rep.problems):
                rep.problems.append(f"{name}: missing")
            continue
        ver = verdict(rep, name, unit, target, v["median"])
        rows.append((name, shown_unit, fmt(v["median"]), fmt(v["min"]), str(v["iterations"]),
                     target_text, ver, v["note"]))
        status = "noisy" if ver.startswith("noisy") else ("ok" if ver.startswith("ok") else "missed")
        rnd = (lambda x: round(x, 4)) if unit == "percent" else \
            (lambda x: int(x) if float(x).is_integer() else round(x, 2))
        records.append({"name": name, "unit": shown_unit, "median": rnd(v["median"]),
                        "min": rnd(v["min"]), "iterations": v["iterations"], "target": target,
                        "status": status})
        if name in JUDGED_ON_MAX:
            records[-1].update({"max": rnd(v["max"]), "judged_on": "max"})

    head = ("figure", "unit", "median", "min", "iterations", "target", "verdict", "")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    title = ("exact: instruction counts under -icount shift=3 (TSC / 8)" if icount
             else "NOISY, TSC cycles: wall-clock time, not instructions (ICOUNT=0)")
    print(f"\nbench results, {title}")
    for r in [head] + rows:
        print("  ".join(c.rjust(w) if 2 <= i <= 4 else c.ljust(w)
                        for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    for n in rep.notes:
        print(f"note: {n}")

    out = args.json or os.path.join(build, "bench.json")
    with open(out, "w") as f:
        json.dump(records, f, indent=2)
        f.write("\n")
    print(f"bench: wrote {os.path.relpath(out)} in {time.monotonic() - started:.0f} s")
    if rep.problems:
        print("bench: BROKEN benchmarks:", file=sys.stderr)
        for p in rep.problems:
            print(f"  - {p}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
