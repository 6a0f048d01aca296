#!/usr/bin/env python3
"""make bench: boots the benchmark guests, prints the figures with their
targets, writes build/bench.json. docs/benchmarks.md says what each figure
measures; make builds everything this script boots.

  bench/run.py --build build [--icount 1|0] [--json PATH] [--timeout S] [--hv-cfg LINE]

Eight boots, in parallel under -icount (they cannot disturb each other's
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
     sees no SMAP in CPUID and measures only those; then it is restarted
     once (on_exit = restart, its second life exits at once), so that
     hv_irq_off_max covers a restart's steps
  x  boot a's guests with `xpti = on` (page-table isolation forced, what a
     Meltdown-affected CPU gets): every figure of bench-main as NAME_xpti
  t  boot a's guests with `trace = yes` (hv's event trace, docs/trace.md):
     hypercall_null, vcpu_switch, trap_ud_roundtrip and event_cross_guest
     as NAME_traced, what tracing costs
  e  bench-attack + bench-timer: timer_late_under_attack
  f  bench-fair three times (fair-1, fair-2, fair-4: weights 1:2:4) +
     bench-spinpoll (fair-poll, default weight), [shm bench-fair]:
     fairness_error_pct
  g  one bench-boot (boot-00) at SMP 8 (BOOT_SMP): ap_bringup, hv's count
     from the first INIT to the last AP ready
  i  bench-event + bench-smp at SMP 5: ipi_event_cross_cpu, tlb_shootdown
  s  bench-scale as scale-0 .. scale-3 at SMP 4, one per CPU, and
  r  bench-scale alone at SMP 1: smp_scaling_pct

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

from figures import *  # noqa: F401,F403  (the figure table, the boots' guests and hv.cfg)
from parse import *  # noqa: F401,F403  (reading the logs into a Report)

sys.path.insert(0, os.path.join(ROOT, "tests", "system"))
import harness  # noqa: E402  (ESP building and the QEMU command line)


def boot(build, name, images, cfg, cpu, icount, timeout, workroot, hv_cfg=(), smp=1):
    """One QEMU boot in workroot/name: (exit status, serial log, seconds, stderr).
    hv_cfg: [hv] lines put before the boot's own (--hv-cfg)."""
    workdir = os.path.join(workroot, name)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    spec = harness.Boot(images=images, cfg=cfg, cpu=cpu, icount=icount, timeout=timeout,
                        runner_cfg=list(hv_cfg), smp=smp)
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--icount", type=int, choices=(0, 1), default=1)
    ap.add_argument("--json", default=None, help="default: BUILD/bench.json")
    # Boot x (page-table isolation) takes 110-175 s alone on a 2-core host
    # and well over 180 s beside other work; its count does not depend on
    # the wall-clock time it took, so a generous limit only catches hangs.
    ap.add_argument("--timeout", type=int, default=480, help="seconds per boot (default 480)")
    ap.add_argument("--hv-cfg", action="append", default=[], metavar="LINE",
                    help="an [hv] line for every boot, e.g. 'mitigations = off' (repeatable)")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    guests = os.path.join(build, "bench-guests")
    need = [os.path.join(build, "hv.efi")] + [os.path.join(guests, g) for g in
                                                ("bench-main", "bench-peer", "bench-boot",
                                                 EVENT_NAME, ATTACK_NAME, TIMER_NAME,
                                                 "bench-fair", "bench-spinpoll", SMP_NAME,
                                                 SCALE_NAME)]
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
        "t": (hot_path_images, f"[hv]\n{TRACED_CFG}" + hot_path_guests, "max"),
        "b": ([(os.path.join(guests, "bench-boot"), f"boot-{i:02d}") for i in range(BOOT_GUESTS)],
              IRQ_OFF_CFG, "max"),
        "c": ([(os.path.join(guests, "bench-boot"), "boot-00")], IRQ_OFF_CFG, "max"),
        "d": ([(os.path.join(guests, "bench-main"), "bench-main")], RESTART_CFG, NO_SMAP_CPU),
        "e": ([(os.path.join(guests, ATTACK_NAME), ATTACK_NAME),
               (os.path.join(guests, TIMER_NAME), TIMER_NAME)], IRQ_OFF_CFG, "max"),
        "f": ([(os.path.join(guests, "bench-spinpoll" if n == FAIR_ATTACKER else "bench-fair"), n)
               for n in FAIR_GUESTS], fair_cfg(), "max"),
        "g": ([(os.path.join(guests, "bench-boot"), "boot-00")], "", "max"),
        "i": ([(os.path.join(guests, EVENT_NAME), EVENT_ESP_NAME),
               (os.path.join(guests, SMP_NAME), SMP_NAME)],
              event_shm_cfg() + f"[guest {EVENT_ESP_NAME}]\nname = {EVENT_NAME}\ncpus = 4\n"
              f"[guest {SMP_NAME}]\nname = bench-main\ncpus = 0-3\n", "max"),
        "s": ([(os.path.join(guests, SCALE_NAME), f"scale-{c}") for c in range(SCALE_CPUS)],
              "".join(f"[guest scale-{c}]\ncpus = {c}\n" for c in range(SCALE_CPUS)), "max"),
        "r": ([(os.path.join(guests, SCALE_NAME), "scale-0")], "", "max"),
    }
    started = time.monotonic()
    how = "in parallel, under -icount shift=3" if icount else "one after the other, on wall-clock time"
    print(f"bench: {len(boots)} boots, {how}", flush=True)
    workers = (os.cpu_count() or 2) if icount else 1
    with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {k: pool.submit(boot, build, f"boot-{k}", imgs, cfg, cpu, icount, args.timeout,
                                  workroot, args.hv_cfg, BOOT_SMP.get(k, 1))
                   for k, (imgs, cfg, cpu) in boots.items()}
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
    parse_bench_main(results["t"][1], rep, "t", TRACED_SUFFIX, only=TRACED_FIGURES)
    parse_boot_b(results["b"][1], rep)
    parse_boot_c(results["c"][1], rep)
    parse_boot_d(results["d"][1], rep)
    parse_boot_e(results["e"][1], rep)
    parse_boot_f(results["f"][1], rep)
    parse_boot_g(results["g"][1], rep)
    parse_boot_i(results["i"][1], rep)
    parse_scale(results["s"][1], results["r"][1], rep)
    parse_irq_off(results, rep)
    hv_efi = os.path.join(build, "hv.efi")
    size = os.path.getsize(hv_efi)
    rep.put("hv_image_bytes", size, size, 1, f"{os.path.relpath(hv_efi)} (= EFI/BOOT/BOOTX64.EFI)")

    # --- the table and the JSON -----------------------------------------------
    rows, records = [], []
    for name, unit, target in FIGURES + rep.extra:
        shown_unit = "TSC cycles" if unit == "instructions" and not icount else unit
        target_text = (f"{'>=' if name in AT_LEAST else '<='} {fmt(target)}"
                       f"{EXTRA_TARGET_NOTE.get(name, '')}")
        v = rep.values.get(name)
        if v is None:
            rows.append((name, shown_unit, "-", "-", "-", target_text, "BROKEN", "", "", "", ""))
            records.append({"name": name, "unit": shown_unit, "median": None, "min": None,
                            "iterations": 0, "target": target, "status": "broken"})
            if not any(p.startswith(name) for p in rep.problems):
                rep.problems.append(f"{name}: missing")
            continue
        ver = verdict(rep, name, unit, target, v["median"])
        xen, linux = REFERENCES.get(name, (None, None))
        ratio = f"{v['median'] / xen[0]:.2f}x" if xen and rep.icount else ""
        rows.append((name, shown_unit, fmt(v["median"]), fmt(v["min"]), str(v["iterations"]),
                     target_text, ver, fmt(xen[0]) if xen else "", fmt(linux[0]) if linux else "",
                     ratio, v["note"]))
        status = "noisy" if ver.startswith("noisy") else ("ok" if ver.startswith("ok") else "missed")
        rnd = (lambda x: round(x, 4)) if unit == "percent" else \
            (lambda x: int(x) if float(x).is_integer() else round(x, 2))
        records.append({"name": name, "unit": shown_unit, "median": rnd(v["median"]),
                        "min": rnd(v["min"]), "iterations": v["iterations"], "target": target,
                        "status": status})
        if name in JUDGED_ON_MAX:
            records[-1].update({"max": rnd(v["max"]), "judged_on": "max"})
        if xen:
            records[-1].update({"xen_4_17_pv": xen[0], "xen_path": xen[1]})
        if linux:
            records[-1].update({"linux_6_1": linux[0], "linux_path": linux[1]})

    head = ("figure", "unit", "median", "min", "iterations", "target", "verdict", "Xen 4.17 PV",
            "Linux 6.1", "hv/Xen", "")
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    title = ("exact: instruction counts under -icount shift=3 (TSC / 8)" if icount
             else "NOISY, TSC cycles: wall-clock time, not instructions (ICOUNT=0)")
    print(f"\nbench results, {title}")
    for r in [head] + rows:
        print("  ".join(c.rjust(w) if 2 <= i <= 4 or 7 <= i <= 9 else c.ljust(w)
                        for i, (c, w) in enumerate(zip(r, widths))).rstrip())
    for n in rep.notes:
        print(f"note: {n}")
    print("note: Xen 4.17 PV and Linux 6.1 are fixed reference figures (bench/figures.py "
          "REFERENCES; docs/benchmarks.md, \"Reference figures\"), not measured by this run: "
          + "; ".join(f"{n}: " + ", ".join(f"{who} {r[1]}" for who, r in zip(("Xen", "Linux"), refs)
                                           if r)
                      for n, refs in REFERENCES.items()))

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
