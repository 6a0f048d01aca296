#!/usr/bin/env python3
"""make fuzz, part 2: the in-guest hypercall fuzzer (tests/guests/hcall_fuzz.c)
for a long run in QEMU, beside the companion, under a time limit.

  tests/fuzz/run-hcall-fuzz.py --build build [--calls 1000000] [--seed N]
                               [--page-cap PAGES] [--time-limit SECONDS]

Boots hv with the fuzzer named hf-n<calls>-s<seed>[-m<cap>] (the guest
reads its parameters from its name; docs in the guest) and the companion, and
then the sacrificial variant (-end: EXIT, VCPU_EXIT, BLOCK and IRET with a
random frame too) beside the companion. Passes when the fuzzer made every
call and every answer was documented, hv did not panic or hang, the
sacrificial guest was ended with a named report, and the companion finished
within its share. The seed is printed: --seed reproduces a run exactly (the
companion beside it may interleave differently). The log stays in
build/fuzz/hcall/."""

import argparse
import os
import random
import re
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "system"))

import harness  # noqa: E402

SACRIFICIAL_BOOTS = 3
from judge import (companion_within_share, ended_line, exited, expect,  # noqa: E402
                   guest_lines)


def boot(build, name, images, seconds):
    workdir = os.path.join(build, "fuzz", "hcall", name)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    spec = harness.Boot(images=images, runner_cfg=[f"time_limit_ms = {seconds * 1000}"],
                        timeout=seconds + 60)
    esp = harness.build_esp(build, spec, workdir)
    proc = subprocess.run(harness.qemu_command(spec, esp, workdir), capture_output=True,
                          text=True)
    log = ""
    path = os.path.join(workdir, "serial.log")
    if os.path.exists(path):
        with open(path, "rb") as f:
            log = f.read().decode("utf-8", "replace").replace("\r\n", "\n")
    return proc.returncode, log + proc.stderr, workdir


def summary(log, name):
    for line in guest_lines(log, name):
        if re.match(rf"{re.escape(name)}: (nr |errors:|seed |memory calls|slow:|all |.*FAILED)",
                    line):
            print("  " + line)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--calls", type=int, default=1000000)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--page-cap", type=int, default=0)
    ap.add_argument("--time-limit", type=int, default=600, help="seconds, per boot")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    # The guest reads its parameters from its name, which is at most 31
    # characters: a short prefix, and seeds below 10^9.
    seed = args.seed if args.seed is not None else random.randrange(1, 10 ** 9 - 10)
    guests = os.path.join(build, "test-guests")
    fuzzer, companion = os.path.join(guests, "hcall-fuzz"), os.path.join(guests, "companion")
    for p in (fuzzer, companion, os.path.join(build, "hv.efi")):
        if not os.path.exists(p):
            sys.exit(f"run-hcall-fuzz: {p} missing (make all test-guests)")
    cap = f"-m{args.page_cap}" if args.page_cap else ""
    problems = []

    name = f"hf-n{args.calls}-s{seed}{cap}"
    if len(name + "-end") > 31:
        sys.exit(f"run-hcall-fuzz: {name}-end is longer than a guest name may be (31): "
                 "a smaller --seed, --calls or --page-cap")
    print(f"run-hcall-fuzz: {name}: {args.calls} calls, seed {seed}, beside the companion "
          f"(time limit {args.time_limit} s)", flush=True)
    status, log, workdir = boot(build, name, [(fuzzer, name), companion], args.time_limit)
    summary(log, name)
    lines = guest_lines(log, name)
    expect(problems, "PANIC" not in log, "hv panicked")
    expect(problems, status in (0, 1), f"hv ended with status {status} (a hang or a crash)")
    expect(problems, any(l.endswith(f"checks passed ({args.calls} calls)") for l in lines),
           f"{name} did not make its {args.calls} calls with every answer documented: "
           f"{ended_line(log, name) or lines[-3:]}")
    expect(problems, exited(log, name), f"{name} did not exit 0")
    companion_within_share(problems, log, 0.5)
    print(f"run-hcall-fuzz: log in {os.path.relpath(workdir)}/serial.log", flush=True)

    # The sacrificial variant, a few seeds (each ends soon): it must be ended,
    # by its own EXIT, by a fault after an IRET hv took, or by the time limit
    # (after VCPU_EXIT or a BLOCK nothing wakes).
    for k in range(SACRIFICIAL_BOOTS):
        end_name = f"hf-n{args.calls}-s{seed + k}{cap}-end"
        print(f"run-hcall-fuzz: {end_name}: the calls that end or stall a vCPU too", flush=True)
        status, log, workdir = boot(build, end_name, [(fuzzer, end_name), companion], 20)
        summary(log, end_name)
        expect(problems, "PANIC" not in log, f"hv panicked ({end_name})")
        expect(problems, status in (0, 1), f"hv ended with status {status} ({end_name})")
        how = ended_line(log, end_name)
        m = re.search(rf"^hv: guest {re.escape(end_name)} exited with status (-?\d+)$", log, re.M)
        if m:
            how = f"exited with status {m.group(1)}"
        expect(problems, how, f"{end_name} was not ended with a report")
        print(f"run-hcall-fuzz: {end_name}: {how or 'no report'}")
        bad = [l for l in guest_lines(log, end_name) if "FAILED" in l]
        expect(problems, not bad, f"{end_name}: {bad[:5]}")
        companion_within_share(problems, log, 0.5)
        print(f"run-hcall-fuzz: log in {os.path.relpath(workdir)}/serial.log", flush=True)

    for p in problems:
        print(f"run-hcall-fuzz: FAILED: {p}")
    if problems:
        print(f"run-hcall-fuzz: reproduce with --seed {seed}" + (f" --page-cap {args.page_cap}"
                                                                   if args.page_cap else ""))
        return 1
    print(f"run-hcall-fuzz: passed ({args.calls} calls, seed {seed})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
