#!/usr/bin/env python3
"""make matrix: boots the examples (images/, with guest/examples/hv.cfg, as
`make run` does) on every machine x CPU model x RAM size x firmware x console
of MACHINES, CPUS, MEMS_MIB, FIRMWARES and CONSOLES, and prints the grid.

  tests/system/matrix.py --build build [-j N] [--short]

A cell passes when hv reaches its summary with every example exited with
status 0, nothing panicked, and the run ended on its own. "serial" cells
judge the serial log; "screen" cells boot without a serial port and judge
the text read back from the framebuffer (hv halts at the end there, so the
summary stays on screen). "secboot" cells boot hv signed with Debian's
snakeoil test key on OVMF's Secure Boot build with that key enrolled; it
needs q35 (SMM), so pc x secboot is not a cell. --short runs SHORT_CELLS,
the subset `make test` runs (tests/system/matrix_cases.py). Exit status: 0
when every cell passed."""

import argparse
import concurrent.futures
import itertools
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import ROOT, Boot, run, run_watching_screen  # noqa: E402
from secboot_cases import secboot_smp, sign, snakeoil  # noqa: E402

MACHINES = ["q35", "pc"]
CPUS = ["qemu64", "Nehalem", "Haswell", "Skylake-Client", "EPYC", "max"]
MEMS_MIB = [128, 1024, 8192]
FIRMWARES = ["plain", "secboot"]
CONSOLES = ["serial", "screen"]
# make test's few: the oldest CPU on the old chipset and least memory, a
# newer Intel read from the screen, AMD with Secure Boot and the most memory.
SHORT_CELLS = [("pc", "qemu64", 128, "plain", "serial"),
               ("q35", "Skylake-Client", 1024, "plain", "screen"),
               ("q35", "EPYC", 8192, "secboot", "serial")]
EXAMPLES = os.path.join(ROOT, "images")


def cells(short):
    if short:
        return list(SHORT_CELLS)
    return [c for c in itertools.product(MACHINES, CPUS, MEMS_MIB, FIRMWARES, CONSOLES)
            if not (c[0] == "pc" and c[3] == "secboot")]


def examples():
    names = sorted(n for n in os.listdir(EXAMPLES) if not n.startswith("."))
    with open(os.path.join(ROOT, "guest", "examples", "hv.cfg")) as f:
        return names, f.read()


class Signed:
    """hv.efi signed with the snakeoil key, made once for every secboot cell."""

    def __init__(self, build):
        self.build, self.efi = build, None

    def path(self):
        if self.efi is None:
            key, cert = snakeoil(self.build, "matrix")
            self.efi = sign(self.build, key, cert,
                            os.path.join(os.path.dirname(key), "hv-signed.efi"))
        return self.efi


def run_cell(build, cell, signed):
    """(problems, Result) for one cell."""
    machine, cpu, mem, firmware, console = cell
    names, cfg = examples()
    boot = Boot(images=[os.path.join(EXAMPLES, n) for n in names], cfg=cfg, machine=machine,
                cpu=cpu, mem=mem, serial=console == "serial", timeout=180,
                firmware=firmware, efi=signed.path() if firmware == "secboot" else "",
                **({"smp": secboot_smp()} if firmware == "secboot" else {}))
    tag = f"matrix-{machine}-{cpu}-{mem}-{firmware}-{console}"
    problems = []
    if console == "serial":
        r = run(build, boot, tag)
        text = r.log
        if r.status != 0:
            problems.append(f"exit status {r.status}, expected 0")
    else:
        boot.runner_cfg = ["halt_at_end = yes"]
        r = run_watching_screen(build, boot, tag, lambda t: "hv: halted with status" in t,
                                os.path.join(build, "screentext"))
        text = r.screen
        if "hv: halted with status 0" not in text:
            problems.append("the screen never showed hv halting with status 0")
    if not re.search(rf"hv: summary: {len(names)} guest\(s\)", text):
        problems.append("no summary of all the examples")
    for g in names:
        if not re.search(rf"hv:\s+{re.escape(g)}\s+exited with status 0", text):
            problems.append(f"{g} did not exit with status 0")
    if "PANIC" in text:
        problems.append("the hypervisor panicked")
    if firmware == "secboot" and console == "serial" and "Secure Boot: on" not in text:
        problems.append("the stub did not report Secure Boot on")
    return problems, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--short", action="store_true", help="only SHORT_CELLS")
    ap.add_argument("--keep", action="store_true", help="keep work directories of passing cells")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    os.makedirs(os.path.join(build, "systest"), exist_ok=True)
    todo = cells(args.short)
    signed = Signed(build)
    if any(c[3] == "secboot" for c in todo):
        signed.path()  # once, before the threads
    start = time.monotonic()
    results = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.j) as pool:
        futures = {pool.submit(run_cell, build, c, signed): c for c in todo}
        for f in concurrent.futures.as_completed(futures):
            c = futures[f]
            try:
                problems, r = f.result()
            except Exception as e:  # a harness failure is a failed cell, said plainly
                problems, r = [f"harness error: {type(e).__name__}: {e}"], None
            results[c] = problems
            word = "PASS" if not problems else "FAIL"
            print(f"{word} matrix/{'/'.join(map(str, c))}", flush=True)
            for p in problems:
                print(f"  - {p}")
            if r and problems:
                print(f"  files in {r.workdir}")
            elif r and not args.keep:
                shutil.rmtree(r.workdir, ignore_errors=True)

    # The grid: a row per machine, CPU and RAM; a column per firmware and console.
    cols = [(fw, con) for fw in FIRMWARES for con in CONSOLES]
    rows = sorted({c[:3] for c in todo}, key=lambda x: (MACHINES.index(x[0]), CPUS.index(x[1]), x[2]))
    head = ["machine", "cpu", "RAM"] + [f"{fw}/{con}" for fw, con in cols]
    table = [head]
    for m, cpu, mem in rows:
        row = [m, cpu, f"{mem} MiB" if mem < 1024 else f"{mem // 1024} GiB"]
        for fw, con in cols:
            p = results.get((m, cpu, mem, fw, con))
            row.append("-" if p is None else ("ok" if not p else "FAIL"))
        table.append(row)
    widths = [max(len(r[i]) for r in table) for i in range(len(head))]
    print()
    for r in table:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    failed = sum(1 for p in results.values() if p)
    print(f"\nmatrix: {len(results) - failed} passed, {failed} failed "
          f"({time.monotonic() - start:.0f} s; '-': not a cell)")
    if signed.efi:
        shutil.rmtree(os.path.dirname(signed.efi), ignore_errors=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
