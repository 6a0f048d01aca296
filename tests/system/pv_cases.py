"""System tests of the paravirtual CPU (include/hv/abi_cpu.h): trap tables and
delivery, system calls (bounced and fast), guest user mode, HV_CALL_IRET,
memory operations, and the example guest OS. Each returns (problems, result).

Most test guests (tests/guests/pv_*.c) check themselves and print one line
per check; the tests here judge their last words, their exit status and
hv's log (no panic, the reports hv must give)."""

import os
import re

from harness import ROOT, Boot, run
from judge import self_checked, ended_line, exited, expect, guest_lines, test_guest  # noqa: F401
from registry import system_test

EXAMPLES = os.path.join(ROOT, "images")




def self_checking(build, name, boot=None, tag=None):
    """Boots one self-checking pv guest (beside `hello`, which must not be
    disturbed) and judges it: every check passed, exit 0, hv did not panic."""
    boot = boot or Boot()
    boot.images = [test_guest(build, name), os.path.join(EXAMPLES, "hello")] + boot.images
    r = run(build, boot, tag or name)
    problems = []
    lines = self_checked(problems, r.log, name)
    expect(problems, exited(r.log, "hello"), "hello beside it did not complete")
    return problems, r, lines


# --- the example guest OS, as `make run` boots it ------------------------------------

def pv_tinyos_runs_its_applications(problems, r):
    """The example OS's applications, judged on
    test_pv_self_checking_guests_in_one_boot's boot (tinyos is one of its
    guests: a boot of its own was ~5 s in each of make test's three passes)."""
    lines = guest_lines(r.log, "tinyos")
    text = "\n".join(lines)
    expect(problems, exited(r.log, "tinyos"), f"tinyos did not exit 0: {ended_line(r.log, 'tinyos')}")
    expect(problems, r.status == 0, f"exit status {r.status}")
    expect(problems, "demand paging: touched 3 pages" in text and "3 page fault(s)" in text
           and "contents right" in text, "the kernel's demand paging did not show")
    expect(problems, "hello: hello from user mode, getpid() by syscall = 1" in lines,
           "hello did not print its pid")
    expect(problems, "counter: getpid() by int $0x80 (the fast gate) = 2" in lines
           and "counter: getpid() by syscall (bounced through hv) = 2" in lines,
           "counter did not print its pid both ways")
    expect(problems, "counter: 1 + 2 + ... + 1000 = 500500" in lines, "counter's sum missing")
    expect(problems, re.search(r"tinyos: crasher \(pid 3\) ended: #PF reading 0x[0-9a-f]+ "
                               r"\(not mapped in its space\)", text),
           "crasher's page fault was not reported by the kernel")
    for app in ["hello (pid 1)", "counter (pid 2)"]:
        expect(problems, f"tinyos: {app} exited with status 0" in lines, f"{app} did not exit 0")
    expect(problems, "tinyos: crasher (pid 3) was ended by #PF" in lines, "crasher was not ended")
    expect(problems, any(l.endswith(": all done") for l in lines), "tinyos did not sum up well")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")


# --- exceptions in guest kernel mode ----------------------------------------------------

@system_test
def test_pv_exceptions_reach_guest_handlers(build):
    # Alone: its ~10 KiB of check lines come near the console allowance
    # (2 KiB and 10,080 bytes/s: docs/abi.md); beside other guests it ran
    # longer and lost lines ("dropped 713 bytes").
    problems, r, lines = self_checking(build, "pv-exceptions")
    return problems, r


# --- guest user mode: system calls and exceptions bounced to the guest kernel;
# hostile state on entry, registration checks; memory operations. Four
# self-checking guests in one boot (beside hello), each judged as when it booted
# alone: a boot is ~4.5 s of firmware, and the test runs in three passes (plain,
# mitigated, SMP 4). They share the CPU (at SMP 4 they run side by side on the
# APs too). pv-syscalls boots alone: its hv_entries bound counts every entry
# while it runs, other guests' preemptions included.

SELF_CHECKING = ("pv-user", "pv-hostile", "pv-trap-table", "pv-memops")


@system_test
def test_pv_self_checking_guests_in_one_boot(build):
    """pv-user (user-mode system calls and exceptions bounced to the guest
    kernel), pv-hostile (hostile rsp and flags on syscall), pv-trap-table
    (bad registrations rejected), pv-memops (memory operations refuse and
    work): every check of each passed, each exited 0, hello beside them
    completed, hv did not panic; and the example OS tinyos beside them ran
    its applications (pv_tinyos_runs_its_applications)."""
    boot = Boot(images=[test_guest(build, n) for n in SELF_CHECKING[1:]] +
                [os.path.join(EXAMPLES, "tinyos")])
    problems, r, _ = self_checking(build, SELF_CHECKING[0], boot, "pv-self-checking")
    for name in SELF_CHECKING[1:]:
        self_checked(problems, r.log, name)
    expect(problems, r.status == 0, f"exit status {r.status}, expected 0")
    found = []
    pv_tinyos_runs_its_applications(found, r)
    problems += [f"pv_tinyos_runs_its_applications: {p}" for p in found]
    return problems, r


# --- system calls: the fast gate and the bounced syscall ------------------------------------

@system_test
def test_pv_fast_and_bounced_syscalls_agree(build):
    problems, r, lines = self_checking(build, "pv-syscalls")
    return problems, r


@system_test
def test_pv_fast_gate_does_not_enter_hv(build):
    # Without SMAP, QEMU TCG's gate and iretq accesses need no help from hv,
    # so the guest judges hv_entries strictly (see tests/guests/pv_syscalls.c).
    problems, r, lines = self_checking(build, "pv-syscalls", Boot(cpu="max,-smap"), "pv-nosmap")
    expect(problems, any("judged strictly" in l for l in lines),
           "the guest did not judge hv_entries strictly")
    return problems, r


# --- deliveries that cannot be made -------------------------------------------------------------

FAILS = {
    # name: what hv's end line must say
    "pv-fail-stack": r"fault while delivering #PF: the kernel stack is not writable at 0x5000000",
    "pv-fail-handler": r"fault while delivering #UD: the handler is not mapped executable at 0x",
    "pv-fail-kstack": r"fault while delivering a system call: the kernel stack is not writable at 0xff",
    "pv-fail-nokstack": r"fault while delivering a system call: no kernel stack registered",
    "pv-fail-nosyscall": r"system call from guest user mode with no handler registered",
    "pv-fail-unhandled": r"#UD \(invalid opcode\), RIP 0x",
}


@system_test
def test_pv_undeliverable_ends_only_that_guest(build):
    images = [(test_guest(build, "pv-fail"), n) for n in FAILS]
    images.append(os.path.join(EXAMPLES, "hello"))
    r = run(build, Boot(images=images), "pvfail")
    problems = []
    expect(problems, r.status == 1, f"exit status {r.status}, expected 1 (guests failed)")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, exited(r.log, "hello"), "hello did not complete beside them")
    for name, want in FAILS.items():
        reason = ended_line(r.log, name)
        expect(problems, reason is not None, f"{name}: no end line")
        if reason is not None:
            expect(problems, re.search(want, reason), f"{name}: '{reason}', expected /{want}/")
        expect(problems, not any("FAILED" in l for l in guest_lines(r.log, name)),
               f"{name} survived what should have ended it")
    return problems, r
