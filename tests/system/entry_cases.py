"""System tests of hv's entry paths (issue 10, attack 7): #DB at the syscall
entry, RFLAGS.AC on entry, NMIs while guests run and while hv logs, and
`sysenter`. Each attack is booted beside the companion (tests/guests/
companion.c) and judged on: the attack fails as docs/abi.md says, hv never
panics or hangs, the companion finishes within its share, and hv's entry
report (one line at the end, hv/cpu/trap.c entry_report) shows what the
entry paths saw."""

import os
import re
import subprocess
import tempfile
import time

from harness import ROOT, Boot, Qmp, build_esp, qemu_command, run, Result
from judge import self_checked, companion_within_share, ended_line, exited, expect, guest_lines, test_guest
from registry import system_test

EXAMPLES = os.path.join(ROOT, "images")
ENTRY_REPORT = re.compile(
    r"^hv: entry: (\d+) NMI\(s\) \((\d+) in hv, (\d+) in guests\), (\d+) #DB in hv dropped "
    r"\((\d+) at the syscall entry\), (\d+) trap entries with RFLAGS.AC set$", re.M)
ROUNDS = 200  # tests/guests/entry_attack.c


def entry_report(problems, log):
    """hv's entry counters as a dict, or None (a problem) if hv did not report."""
    m = ENTRY_REPORT.search(log)
    if not m:
        problems.append("hv printed no entry report (hv: entry: ...)")
        return None
    keys = ["nmi", "nmi_hv", "nmi_guest", "db_hv", "db_syscall", "ac"]
    return dict(zip(keys, (int(x) for x in m.groups())))


@system_test
def test_entry_db_at_syscall_entry_and_ac_beside_companion(build):
    """TF + MOV SS + syscall, hypercalls with RSP at hv / non-canonical / 0
    while hv's syscall entry has an instruction breakpoint (a #DB at CPL 0
    on the guest's RSP and GS, each hypercall), and exceptions and
    interrupts with RFLAGS.AC set. Without the #DB IST stack the first
    such #DB pushes its frame at the guest's RSP (hv panics with #DF);
    without `clac` on entry hv reports trap entries with AC set."""
    boot = Boot(images=[test_guest(build, "entry-attack"), test_guest(build, "companion")],
                runner_cfg=["debug_syscall_breakpoint = yes"])
    r = run(build, boot, "entry-db")
    problems = []
    self_checked(problems, r.log, "entry-attack")
    # The breakpoint is on every hypercall, the companion's too: each costs
    # it a #DB, charged to its own time (about twice its work under TCG).
    companion_within_share(problems, r.log, 0.5, slack=1.8)
    c = entry_report(problems, r.log)
    if c:
        # Every hypercall of the attacker and the companion hits the breakpoint.
        expect(problems, c["db_syscall"] >= 4 * ROUNDS,
               f"only {c['db_syscall']} #DB at the syscall entry; the attacker alone makes "
               f"{4 * ROUNDS} hypercalls")
        expect(problems, c["db_hv"] == c["db_syscall"],
               f"#DB in hv elsewhere than the syscall entry: {c}")
        expect(problems, c["ac"] == 0, f"{c['ac']} trap entries reached C with RFLAGS.AC set")
    return problems, r


@system_test
def test_entry_attacker_without_breakpoint(build):
    """The same attacker as QEMU's TCG runs it without help: the MOV SS
    single-step comes back to the guest after the hypercall, no #DB is
    raised in hv, nothing reaches C with AC set."""
    boot = Boot(images=[test_guest(build, "entry-attack"), test_guest(build, "companion")])
    r = run(build, boot, "entry-plain")
    problems = []
    self_checked(problems, r.log, "entry-attack")
    companion_within_share(problems, r.log, 0.5)
    c = entry_report(problems, r.log)
    if c:
        expect(problems, c["ac"] == 0, f"{c['ac']} trap entries reached C with RFLAGS.AC set")
    return problems, r


def run_injecting_nmis(build, boot, name, interval):
    """Boots with QMP and injects an NMI every `interval` seconds until QEMU
    ends. Returns (Result, NMIs injected)."""
    workdir = tempfile.mkdtemp(prefix=f"hv-{name}-", dir=os.path.join(build, "systest"))
    esp = build_esp(build, boot, workdir)
    qmp_path = os.path.join(workdir, "qmp.sock")
    start = time.monotonic()
    proc = subprocess.Popen(qemu_command(boot, esp, workdir, qmp_path),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    injected = 0
    serial = os.path.join(workdir, "serial.log")
    try:
        qmp = Qmp(qmp_path, start + boot.timeout)
        # Not before hv runs: the firmware does not survive NMIs.
        while proc.poll() is None and time.monotonic() < start + boot.timeout:
            if os.path.exists(serial):
                with open(serial, "rb") as f:
                    if b"guest(s) started" in f.read():
                        break
            time.sleep(0.05)
        while proc.poll() is None and time.monotonic() < start + boot.timeout:
            if "error" not in qmp.call("inject-nmi"):
                injected += 1
            time.sleep(interval)
    except (OSError, ValueError):
        pass  # QEMU quit between two injections
    try:
        _, err = proc.communicate(timeout=max(5, start + boot.timeout - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    log = ""
    path = os.path.join(workdir, "serial.log")
    if os.path.exists(path):
        with open(path, "rb") as f:
            log = f.read().decode("utf-8", "replace").replace("\r\n", "\n")
    return Result(proc.returncode, log + err, seconds=time.monotonic() - start,
                  workdir=workdir), injected


@system_test
def test_entry_nmis_while_guests_run_and_hv_logs(build):
    """NMIs injected (QMP inject-nmi) every few milliseconds, first while a
    guest floods the console (hv holds its log lock often) beside the
    companion, then while hv idles (ev-block sleeps on its timer, alone).
    An NMI handler that logged would deadlock on the log lock it
    interrupted; hv must survive, keep the guests' CPU shares and count
    the NMIs in its entry report."""
    problems = []
    busy = Boot(images=[test_guest(build, "flood"), test_guest(build, "companion"),
                        os.path.join(EXAMPLES, "hello")],
                runner_cfg=["time_limit_ms = 3000"], timeout=120)
    idle = Boot(images=[test_guest(build, "ev-block")], timeout=120)
    r = None
    for boot, tag in [(busy, "busy"), (idle, "idle")]:
        r, injected = run_injecting_nmis(build, boot, f"entry-nmi-{tag}", 0.005)
        expect(problems, "PANIC" not in r.log, f"{tag}: the hypervisor panicked")
        expect(problems, r.status in (0, 1) and "powering off" in r.log,
               f"{tag}: hv did not finish (status {r.status})")
        expect(problems, injected >= 20, f"{tag}: only {injected} NMIs could be injected")
        c = entry_report(problems, r.log)
        if c:
            # An NMI arriving while one is handled is held, but further ones
            # then merge with it: hv sees between 1 and all of them.
            expect(problems, 1 <= c["nmi"] <= injected,
                   f"{tag}: hv counted {c['nmi']} NMIs of {injected} injected")
            expect(problems, c["nmi"] == c["nmi_hv"] + c["nmi_guest"],
                   f"{tag}: NMI counts disagree: {c}")
        if tag == "busy":
            expect(problems, exited(r.log, "hello"), "busy: hello did not complete")
            companion_within_share(problems, r.log, 0.5, slack=1.6)
        else:
            expect(problems, exited(r.log, "ev-block"),
                   f"idle: ev-block did not exit 0: {ended_line(r.log, 'ev-block')}")
            expect(problems, c and c["nmi_hv"] >= 1, "idle: no NMI was taken in hv")
    return problems, r


@system_test
def test_entry_sysenter_faults_on_intel_and_amd(build):
    """`sysenter` on a CPU that reports itself as Intel (where it is valid in
    64-bit mode and enters ring 0 unless IA32_SYSENTER_CS is 0) and as AMD
    (#UD in long mode): the guest ends with #GP or #UD, never runs in ring
    0. The default CPU (-cpu max) is AMD under TCG; the fault suite covers it."""
    problems = []
    last = None
    for vendor, want in [("GenuineIntel", "#GP"), ("AuthenticAMD", "#UD")]:
        boot = Boot(images=[test_guest(build, "fault-sysenter"), test_guest(build, "companion")],
                    cpu=f"max,vendor={vendor}")
        r = run(build, boot, f"entry-sysenter-{vendor}")
        last = r
        reason = ended_line(r.log, "fault-sysenter") or ""
        expect(problems, reason.startswith(want),
               f"{vendor}: fault-sysenter ended '{reason}', expected {want}")
        expect(problems, "FAULT-TEST FAILED" not in "\n".join(guest_lines(r.log, "fault-sysenter")),
               f"{vendor}: sysenter returned")
        expect(problems, "PANIC" not in r.log, f"{vendor}: the hypervisor panicked")
        companion_within_share(problems, r.log, 0.5)
    return problems, last
