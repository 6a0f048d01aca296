#!/usr/bin/env python3
"""System tests: boot hv in QEMU + OVMF and judge the serial log, the screen
and the exit status. Tests run in parallel (one QEMU per core by default).

  tests/system/run.py --build build [-j N] [-k PATTERN] [--keep] [--mitigated]

--smp4 runs SMP4_SUITES and SMP4_TESTS (less SMP4_SKIP) again with every
boot that does not choose its CPUs at SMP 4, named smp4/NAME (issue 13):
the subset of make test; make test-smp runs the whole suite at SMP 4
(HV_TEST_SMP=4).

Every pass's tests go in one queue, the longest first (durations.py), and
are reported as they finish.

--mitigated runs the adversarial and paravirtual-path tests (MITIGATED_SUITES)
a second time with every speculative-execution mitigation forced on
(`mitigations = on`: page-table isolation, VERW, register clearing, the
swapgs fence, the RSB fill; what QEMU's CPU cannot do is refused and stays
off), named mitigated/NAME: hv's defences must not change what guests see.
"""

import argparse
import concurrent.futures
import os
import re
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases  # noqa: E402,F401  (registers the tests)
import guest_cases  # noqa: E402,F401
import pv_cases  # noqa: E402,F401
import ev_cases  # noqa: E402,F401
import entry_cases  # noqa: E402,F401
import bench_cases  # noqa: E402,F401
import attack_cases  # noqa: E402,F401
import console_cases  # noqa: E402,F401
import sched_cases  # noqa: E402,F401
import mem_cases  # noqa: E402,F401
import spec_cases  # noqa: E402,F401
import xpti_cases  # noqa: E402,F401
import durations  # noqa: E402
import harness  # noqa: E402
import irqoff_cases  # noqa: E402,F401
import secboot_cases  # noqa: E402,F401
import sdk_cases  # noqa: E402,F401
import matrix_cases  # noqa: E402,F401
import usb_cases  # noqa: E402,F401
import stumbles_cases  # noqa: E402,F401
import boot_cases  # noqa: E402,F401
import uaccess_cases  # noqa: E402,F401
import lean_cases  # noqa: E402,F401
import idle_cases  # noqa: E402,F401
import timer_cases  # noqa: E402,F401
import xen_cases  # noqa: E402,F401
import xenreview_cases  # noqa: E402,F401
import xen_user_cases  # noqa: E402,F401
import xen_event_cases  # noqa: E402,F401
import xen_mm_cases  # noqa: E402,F401
import xenev_cases  # noqa: E402,F401
import xen_desc_cases  # noqa: E402,F401
import xen_shared_cases  # noqa: E402,F401
import shared_cases  # noqa: E402,F401
import xen4_cases  # noqa: E402,F401
import restart_cases  # noqa: E402,F401
import fast_cases  # noqa: E402,F401
import trace_cases  # noqa: E402,F401
import smp_cases  # noqa: E402,F401
import sched_smp_cases  # noqa: E402,F401
import switch_cases  # noqa: E402,F401
import soak_cases  # noqa: E402,F401
import review_cases  # noqa: E402,F401
import glocks_cases  # noqa: E402,F401
import mm_smp_cases  # noqa: E402,F401
import aprun_cases  # noqa: E402,F401
import balance_cases  # noqa: E402,F401
import smpreview_cases  # noqa: E402,F401
import smp4_cases  # noqa: E402,F401
from registry import TESTS  # noqa: E402


def invariants(problems, log):
    """What must hold after every boot, whatever the test: every frame and
    byte guests caused came back (hv/mm/mm.c), and no entry reached hv's C
    code with RFLAGS.AC set (hv/cpu/trap.c)."""
    for line in log.splitlines():
        if line.startswith("hv: error: memory balance") or \
                line.startswith("hv: error: entry:"):
            problems.append(f"hv reported: {line}")


# The suites whose paths the mitigations change: entry and exit, the
# bounce and upcall frames, uaccess, the fast gates, and the adversarial
# suite. Not in make test's pass (its 20 minutes), only with
# --mitigated-all (`make test-smp` gives it): MITIGATED_EXTRA, the event
# and memory-call suites, whose hypercall bodies the mitigations do not
# enter and whose entries and upcalls every suite above takes.
MITIGATED_SUITES = {"attack_cases", "entry_cases", "pv_cases", "uaccess_cases", "lean_cases",
                    "fast_cases"}
MITIGATED_EXTRA = {"mem_cases", "ev_cases"}
# Not again with mitigations on: tests whose verdict is the scheduler's
# arithmetic over seconds of guest time (shares, windows, CPU-time
# accounting), which the mitigations do not enter; the paths they change
# (entry, exit, the upcall, the timer interrupt, the switch) are taken by
# every other test of the pass, ev_timer_fires_on_time and
# trap_table_storm_keeps_a_timer_on_time among them. ~70 s of make test.
# Nor time_limit_stops_a_guest_that_only_sleeps: its subject, the idle
# loop's wake-up for hv.cfg's time limit (vtimer.c other_deadlines, sched.c
# enforce_time_limit), takes no entry or exit path; its companion's do
# (8.5 s of make test; the SMP-4 pass keeps it: the limit is the boot CPU's
# to enforce while the sleeper may sleep on an AP).
MITIGATED_SKIP = {"test_time_limit_stops_a_guest_that_only_sleeps",
                  "test_ev_masked_spinner_does_not_starve_timer_guest",
                  "test_ev_virtual_time_of_two_guests_sharing_the_cpu",
                  "test_ev_blocked_guest_accrues_no_cpu_time",
                  "test_partition_windows_respected",
                  "test_partition_window_holds_timer_wakeups_from_idle",
                  "test_weights_share_the_cpu"}
MITIGATED_CFG = ["mitigations = on"]

# make test's pass at SMP 4: the adversarial suite, the paravirtual traps
# and syscalls and the iret fuzz (SMP4_SUITES, below). Not again at SMP 4
# (SMP4_SKIP), what a dedicated SMP test covers, or a wall-time judgement:
#  - the NMI test: its busy part judges the companion's share in wall time
#    (435 ms for 100 ms of CPU once in three SMP-4 runs on a loaded host);
#  - events between CPUs: ev-pingpong is aprun_event_pingpong_between_
#    guests_pinned_to_two_cpus (the same guests, pinned apart: every event
#    to a vCPU blocked on the other CPU); ev-ipi's and ev-mask's IPI ports
#    and unmasks across CPUs are smpreview_unmask_storm_sends_no_ipi_per_
#    unmask's (two vCPUs of one guest on two CPUs, a poll ended by a send,
#    an unmasked port's event delivered) and glocks_races_on_four_cpus's
#    (BIND_IPI, SEND, STATUS and CLOSE of any port from four vCPUs on four
#    CPUs, every answer one the ABI allows: ev-calls' refusals at SMP 4);
#  - restarts up to the limit: smpreview_restart_race_two_cpus/_four_cpus
#    (60 restarts, each life ending on another CPU than the restart);
#  - the deliberate leak: smp4_leak_look_mid_step_is_held_then_balanced
#    and _on_one_cpu_reports_at_once (the leak check with several CPUs);
#  - the iret fuzz with mitigations on: smp4/review_iret_fuzz_same_answers_
#    both_paths (the fuzz at SMP 4) with smp_xpti_at_smp_4 (isolation's
#    per-CPU entry areas on the APs);
#  - the trap-table, unmap and destroy storms: their two guests share CPU 0
#    (`cpus = 0`) at any SMP, so the APs only idle (20 s each of make test
#    for nothing more);
#  - the four-vCPU storms: that boot is at SMP 4 already.
# make test's 20 minutes keep the adversarial suite, the paravirtual paths
# and the iret fuzz; `make test-smp` runs every suite at SMP 4. Left to it:
# uaccess (mm_smp_cases: stale translations and unmaps racing copies from
# other CPUs), entry (smp_xpti_at_smp_4 and every SMP test's guests enter
# on the APs), restarts (smpreview_restart_race_*,
# restart_ends_of_a_moment_share_grace_periods at SMP 4).
SMP4_SUITES = {"attack_cases", "pv_cases", "review_cases"}
# Again at SMP 4 besides the suites: the idle loop's direct entries and
# its timer path with the advance (its guests' CPUs fixed, so its counts
# hold at any SMP; ~6 s).
SMP4_TESTS = {"test_sched_idle_wakeups_enter_directly"}
SMP4_SKIP = {"test_entry_nmis_while_guests_run_and_hv_logs",
             "test_restart_on_fault_up_to_max_then_stop", "test_leak_check_fires_on_a_deliberate_leak",
             "test_review_iret_fuzz_mitigations_on", "test_trap_table_storm_keeps_a_timer_on_time",
             "test_unmap_storm_keeps_a_timer_on_time", "test_destroy_storm_keeps_a_timer_on_time",
             "test_storms_from_four_vcpus_end_cleanly_beside_a_timer"}


# OVMF's code images without the TPM probe's ~1.5 s wait
# (tests/tools/ovmf_no_tpm_wait.py, made by make test), by --firmware kind.
FIRMWARE_CODE = {"plain": "ovmf-code-no-tpm-wait.fd", "secboot": "ovmf-code-secboot-no-tpm-wait.fd"}


def mitigations_were_on(problems, log):
    """A boot of the mitigated pass really ran with isolation on (hv/mm/xpti.c)."""
    if "entry paths: page-table isolation on" not in log:
        problems.append("the mitigated pass booted without page-table isolation")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("-j", type=int, default=os.cpu_count() or 2)
    ap.add_argument("-k", action="append", default=[],
                    help="run only tests whose name contains this (repeat -k for any of several)")
    ap.add_argument("--keep", action="store_true", help="keep work directories of passing tests")
    ap.add_argument("--mitigated", action="store_true",
                    help="then run MITIGATED_SUITES again with every mitigation on")
    ap.add_argument("--mitigated-all", action="store_true",
                    help="with --mitigated, MITIGATED_EXTRA too")
    ap.add_argument("--smp4", action="store_true",
                    help="then run SMP4_SUITES and SMP4_TESTS again at SMP 4")
    ap.add_argument("--list", action="store_true",
                    help="print the tests the other options select, in the order they start, and stop")
    args = ap.parse_args()

    build = os.path.abspath(args.build)
    os.makedirs(os.path.join(build, "systest"), exist_ok=True)
    booted_vars = os.path.join(build, "ovmf-vars-booted.fd")
    if os.path.exists(booted_vars):
        harness.BOOTED_VARS[0] = booted_vars
        print(f"firmware variables: {booted_vars} (after one boot)", flush=True)
    else:
        print(f"firmware variables: OVMF's blank template ({booted_vars} not made: "
              f"make {os.path.relpath(booted_vars)} saves ~0.7 s a boot)", flush=True)
    notes = []
    for kind, name in FIRMWARE_CODE.items():
        path = os.path.join(build, name)
        if os.path.exists(path):
            harness.FIRMWARE_CODE[kind] = path
            notes.append(f"{kind} {path}")
        else:
            notes.append(f"{kind} Debian's ({name} not made: ~1.5 s more a boot)")
    print(f"firmware code without the TPM probe's wait: {'; '.join(notes)}", flush=True)
    selected = [t for t in TESTS if not args.k or any(k in t.__name__ for k in args.k)]
    passed = failed = 0
    start = time.monotonic()

    def one(test, mode):
        # This worker thread's settings for the test's pass (harness.py).
        harness.DEFAULT_SMP[0] = 4 if mode == "smp4/" else default_smp
        harness.EXTRA_RUNNER_CFG[0] = MITIGATED_CFG if mode == "mitigated/" else []
        t0 = time.monotonic()
        try:
            problems, result = test(build)
        except Exception as e:  # a harness failure is a test failure, said plainly
            return test, [f"harness error: {type(e).__name__}: {e}"], None, time.monotonic() - t0
        if result is not None:
            invariants(problems, result.log)
            if mode == "mitigated/":
                mitigations_were_on(problems, result.log)
        return test, problems, result, time.monotonic() - t0

    # The three passes in one queue, the longest boots first: no pass ends
    # with one core idle while the other finishes a long test.
    default_smp = harness.DEFAULT_SMP[0]
    jobs = [(t, "") for t in selected]
    if args.mitigated:
        suites = MITIGATED_SUITES | (MITIGATED_EXTRA if args.mitigated_all else set())
        jobs += [(t, "mitigated/") for t in selected
                 if t.__module__ in suites and t.__name__ not in MITIGATED_SKIP]
    if args.smp4:
        jobs += [(t, "smp4/") for t in selected if t.__name__ not in SMP4_SKIP and
                 (t.__module__ in SMP4_SUITES or t.__name__ in SMP4_TESTS)]
    jobs.sort(key=lambda j: -durations.expected(j[1] + j[0].__name__.removeprefix("test_")))
    if args.list:
        for test, mode in jobs:
            name = mode + test.__name__.removeprefix("test_")
            print(f"{name} ({durations.expected(name):g} s expected)")
        total = sum(durations.expected(m + t.__name__.removeprefix("test_")) for t, m in jobs)
        print(f"system: {len(jobs)} tests, {total:.0f} s expected in all")
        return 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.j) as pool:
        futures = {pool.submit(one, t, mode): mode for t, mode in jobs}
        for future in concurrent.futures.as_completed(futures):
            test, problems, result, secs = future.result()
            name = futures[future] + test.__name__.removeprefix("test_")
            if not problems:
                passed += 1
                print(f"PASS system/{name} ({secs:.1f} s)", flush=True)
                if result and not args.keep:
                    shutil.rmtree(result.workdir, ignore_errors=True)
                continue
            failed += 1
            print(f"FAIL system/{name} ({secs:.1f} s)", flush=True)
            for p in problems:
                print(f"  - {p}")
            if result:
                print(f"  status {result.status}; files in {result.workdir}")
                tail = (result.log or result.screen).strip().splitlines()[-25:]
                for line in tail:
                    print(f"  | {line}")
    print(f"system tests took {time.monotonic() - start:.0f} s")
    print(f"system: {passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
