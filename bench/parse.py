"""bench/run.py's reading of the boots' serial logs: each figure from the
lines bench-main and hv print, into a Report (docs/benchmarks.md says what
each figure measures)."""

import re

from figures import *  # noqa: F401,F403  (the figure table and names)

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


def parse_bench_main(log, rep, boot_name, suffix="", only=None):
    """bench-main's figures of one boot: {name: fields}; each is reported
    as name + suffix (only those in `only`, when given)."""
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
        if name in DERIVED or (only is not None and name not in only):
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
        if name not in main and (only is None or name in only):
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
    if not re.search(RESTARTED_LINE, log, re.M):
        rep.problems.append("hv_irq_off_max: bench-main was not restarted in boot d")


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


def parse_boot_g(log, rep):
    """ap_bringup: hv's own count, first INIT to the last AP ready (hv/cpu/smp.c)."""
    m = re.search(r"^hv: smp: (\d+) of (\d+) CPU\(s\) in use \((\d+) AP\(s\) started in (\d+) TSC "
                  r"cycles", log, re.M)
    n = AP_BRINGUP_CPUS
    if not m or int(m.group(1)) != n or int(m.group(2)) != n:
        rep.problems.append(f"ap_bringup: hv's smp line missing or not {n} of {n} CPUs: "
                            f"{m and m.group(0)}")
        return
    v = rep.time_value(int(m.group(4)))
    rep.put("ap_bringup", v, v, 1, f"{n - 1} APs at SMP {n}, {fmt(v / (n - 1))} per AP")


def parse_boot_i(log, rep):
    """ipi_event_cross_cpu and tlb_shootdown: bench-smp's lines (as bench-main)."""
    for g, f in guest_lines(log):
        if g != "bench-main" or f.get("name") not in SMP_FIGURES:
            continue
        if f["_error"]:
            rep.problems.append(f"{f['name']} broke: {f.get('reason', '?')} "
                                f"(result {f.get('result', '?')})")
            continue
        median = rep.time_value(int(f["tsc_median"]))
        low = rep.time_value(int(f["tsc_min"]))
        high = rep.time_value(int(f["tsc_max"]))
        note = ("bench-event blocked on CPU 4, the sender on CPU 0" if f["name"] == SMP_FIGURES[0]
                else "one page, the guest's other 3 vCPUs spinning on CPUs 1-3")
        rep.put(f["name"], median, low, int(f["iterations"]), f"{note}; max {fmt(high)}")
    cross = rep.values.get("event_cross_guest")
    ipi = rep.values.get(SMP_FIGURES[0])
    if cross and ipi:
        ipi["note"] += f"; {ipi['median'] / cross['median']:.2f} x event_cross_guest"


def scale_run(log, rep, boot, n):
    """(TSC advance from the first start to the last end, mean running
    fraction, crcs) of boot's n bench-scale copies, or None."""
    lines = [f for g, f in guest_lines(log) if f.get("name") == "smp_scale"]
    errors = [f for g, f in guest_lines(log) if f.get("name") == "smp_scaling_pct" and f["_error"]]
    if errors or len(lines) != n:
        rep.problems.append(f"smp_scaling_pct: boot {boot}: {len(lines)} of {n} copies reported"
                            + (f" ({errors[0].get('reason', '?')})" if errors else ""))
        return None
    t0 = min(int(f["tsc0"]) for f in lines)
    t1 = max(int(f["tsc1"]) for f in lines)
    running = sum(int(f["running_ns"]) / max(1, int(f["span_ns"])) for f in lines) / n
    return t1 - t0, running, {f["crc"] for f in lines}


def parse_scale(log_s, log_r, rep):
    """smp_scaling_pct = useful(4) x running(4) / (useful(1) x running(1)) x 100,
    useful(N) = N x work / every CPU's instructions over the run (the work
    cancels out: 4 x I(1) / I(4))."""
    four = scale_run(log_s, rep, "s", SCALE_CPUS)
    one = scale_run(log_r, rep, "r", 1)
    if not four or not one:
        return
    if len(four[2] | one[2]) != 1:
        rep.problems.append(f"smp_scaling_pct: the copies' CRCs differ: {four[2] | one[2]}")
        return
    (i4, run4, _), (i1, run1, _) = four, one
    useful = SCALE_CPUS * i1 / i4
    pct = useful * run4 / run1 * 100
    rep.put("smp_scaling_pct", pct, pct, 1,
            f"{SCALE_CPUS} CPUs: {fmt(rep.time_value(i4))} instructions for {SCALE_CPUS} "
            f"workloads, 1 CPU: {fmt(rep.time_value(i1))} for one (useful {100 * useful:.2f} %); "
            f"running {100 * run4:.2f} % against {100 * run1:.2f} %")


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
    if name in AT_LEAST:
        return "ok" if median >= target else "MISSED"
    return "ok" if median <= target else "MISSED"
