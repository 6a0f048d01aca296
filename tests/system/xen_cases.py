"""System tests of the Xen personality's groundwork (docs/plans/
xen-personality.md, M0): hv's direct map off PML4 slot 256 (free for a Xen
guest's M2P), the GDT window with Xen's flat selectors, MSR_CSTAR pointing
at the stub that ends a compat-mode guest."""

import os
import re
import subprocess

from harness import ROOT, Boot, run
from judge import exited, expect, guest_lines, ended_line, test_guest
from registry import system_test

EXAMPLES = os.path.join(ROOT, "images")
DIRECT_MAP_LINE = "hv: mm: direct map at 0xffff888000000000 (PML4 slot 273); slots 256-272 empty"


def core_symbol(build, name):
    out = subprocess.run(["nm", os.path.join(build, "hv-core.elf")], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise AssertionError(f"{name} not in hv-core.elf")


def probe_boot(build, tag, runner_cfg=()):
    boot = Boot(images=[test_guest(build, "xen-gdt-probe"), test_guest(build, "companion")],
                runner_cfg=list(runner_cfg))
    r = run(build, boot, tag)
    problems = []
    lines = guest_lines(r.log, "xen-gdt-probe")
    seen = {}
    for l in lines:
        m = re.match(r"xen-gdt-probe: (.*?): (ok \(read back 0x[0-9a-f]+\)|#\w+ error 0x[0-9a-f]+)$", l)
        if m:
            seen[m.group(1)] = m.group(2)
    # Xen's flat selectors load at ring 3, as Xen PV guests expect.
    expect(problems, seen.get("data 0xe02b") == "ok (read back 0xe02b)",
           f"0xe02b did not load as data: {seen.get('data 0xe02b')}")
    expect(problems, seen.get("code64 0xe033") == "ok (read back 0xe033)",
           f"no far return to 0xe033: {seen.get('code64 0xe033')}")
    # 0xe020 is not present: no guest reaches compatibility mode (CSTAR).
    expect(problems, (seen.get("code32 0xe023") or "").startswith("#NP error 0xe020")
           or (seen.get("code32 0xe023") or "").startswith("#GP error 0xe020"),
           f"the 32-bit code selector did not fault: {seen.get('code32 0xe023')}")
    # The limit ends at 0xe037: one entry further is outside the GDT.
    expect(problems, (seen.get("beyond 0xe03b") or "").startswith("#GP error 0xe038"),
           f"a selector past the limit did not #GP: {seen.get('beyond 0xe03b')}")
    # hv's own selectors are unchanged.
    expect(problems, seen.get("hv data 0x1b") == "ok (read back 0x1b)",
           f"hv's user data selector changed: {seen.get('hv data 0x1b')}")
    expect(problems, "xen-gdt-probe: done" in lines and exited(r.log, "xen-gdt-probe"),
           f"xen-gdt-probe did not finish: {ended_line(r.log, 'xen-gdt-probe')}")
    expect(problems, exited(r.log, "companion"), "the companion did not exit 0")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    return problems, r


@system_test
def test_xen_gdt_window_flat_selectors(build):
    """The GDT reaches Xen's 0xe02b/0xe033 beside hv's selectors; 0xe023
    and anything past 0xe037 fault; the window's cost is logged."""
    problems, r = probe_boot(build, "xen-gdt")
    expect(problems, re.search(r"^hv: gdt: window at 0x[0-9a-f]+, limit 0xe037 .*1 own page per CPU",
                               r.log, re.M), "hv did not log the GDT window")
    expect(problems, DIRECT_MAP_LINE in r.log, "hv did not check PML4 slots 256-272 empty")
    cstar = core_symbol(build, "compat_syscall_entry")
    expect(problems, f"hv: syscall: MSR_CSTAR 0x{cstar:x}: a compat-mode syscall ends the guest" in r.log,
           f"MSR_CSTAR does not hold compat_syscall_entry (0x{cstar:x}): "
           f"{[l for l in r.log.splitlines() if 'CSTAR' in l]}")
    return problems, r


@system_test
def test_xen_gdt_window_under_xpti(build):
    """With page-table isolation the CPU reads the GDT window in the guest's
    isolated tables: the same loads work, and the isolated tables keep
    Xen's PML4 slots empty too (hv/mm/xpti.c panics otherwise)."""
    problems, r = probe_boot(build, "xen-gdt-xpti", ["xpti = on"])
    expect(problems, "hv: entry paths: page-table isolation on" in r.log, "isolation was not on")
    return problems, r
