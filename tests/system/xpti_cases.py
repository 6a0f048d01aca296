"""System tests of page-table isolation (hv/mm/xpti.h): with it on, a guest's
tables hold none of hv's memory but the entry pages, which the probe guest
(tests/guests/xpti_probe.c) sees as reads of hv's half that fault as *not
present*; with it off the same reads fault on present, supervisor-only
pages. And every paravirtual path works the same with every mitigation
forced on (run.py --mitigated reruns the adversarial and path suites so)."""

import os
import re

from harness import ROOT, Boot, run
from judge import self_checked, exited, expect, guest_lines, ended_line, test_guest
from registry import system_test

EXAMPLES = os.path.join(ROOT, "images")
PROBES = 5  # tests/guests/xpti_probe.c's addresses; the first is hv's entry code


def probe(build, tag, runner_cfg=(), cpu="max", r=None):
    if r is None:
        boot = Boot(images=[test_guest(build, "xpti-probe"), test_guest(build, "companion")],
                    runner_cfg=list(runner_cfg), cpu=cpu)
        r = run(build, boot, tag)
    problems = []
    lines = guest_lines(r.log, "xpti-probe")
    seen = [m.group(1) for l in lines
            for m in [re.match(r"xpti-probe: .* 0x[0-9a-f]+: #PF error 0x[0-9a-f]+ \((.*)\)$", l)] if m]
    expect(problems, seen[:1] == ["present"], f"hv's entry code was not present: {seen[:1]}")
    seen = seen[1:]
    expect(problems, len(seen) == PROBES - 1, f"xpti-probe reported {len(seen) + 1} of {PROBES} "
           f"reads: {lines[-5:]}")
    expect(problems, "xpti-probe: done" in lines and exited(r.log, "xpti-probe"),
           f"xpti-probe did not finish: {ended_line(r.log, 'xpti-probe')}")
    expect(problems, exited(r.log, "companion"), "the companion did not exit 0")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    return problems, r, seen


def xpti_on_guest_tables_hold_no_hv_memory(r):
    """xpti = on: hv's core, direct map and device window are not present in
    the guest's tables (a fault says so), and hv logs what it maps. Judged
    on xen_shared_cases.py's test_xen_guests_under_xpti boot (xpti = on,
    the probe and the companion among its guests; a boot of its own was
    ~5.2 s of make test)."""
    problems, r, seen = probe(None, "xpti-on", r=r)
    expect(problems, seen and all(s == "not present" for s in seen),
           f"with isolation a read of hv's half faulted as {seen}")
    expect(problems, re.search(r"^hv: xpti: guests' tables map \d+ pages of hv", r.log, re.M),
           "hv did not say what guests' tables map")
    expect(problems, "hv: entry paths: page-table isolation on" in r.log,
           "the entry paths did not report isolation on")
    return problems, r


def xpti_off_guest_tables_hold_hv_supervisor_only(r):
    """xpti = off (the control): the same reads fault on present pages.
    Judged on xen_shared_cases.py's test_xen_guests_in_one_boot boot (xpti
    = off set there; the probe and the companion among its guests; a boot
    of its own was ~5 s of make test)."""
    problems, r, seen = probe(None, "xpti-off", r=r)
    expect(problems, seen and all(s == "present" for s in seen),
           f"without isolation a read of hv's half faulted as {seen}")
    expect(problems, "hv: entry paths: page-table isolation off" in r.log,
           "the entry paths did not report isolation off")
    expect(problems, "(0 branches patched out)" in r.log or "registers cleared on" in r.log,
           "a branch was patched out for a mitigation that is off")
    return problems, r


@system_test
def test_xpti_auto_isolates_on_a_meltdown_affected_cpu(build):
    """No hv.cfg line: an Intel CPU without RDCL_NO (QEMU's TCG offers no
    ARCH_CAPABILITIES) gets isolation by itself."""
    problems, r, seen = probe(build, "xpti-intel", cpu="max,vendor=GenuineIntel")
    expect(problems, seen and all(s == "not present" for s in seen),
           f"on an affected CPU a read of hv's half faulted as {seen}")
    return problems, r


# pv-exceptions (112 checks) writes more than its console share carries
# beside these: it runs alone in the mitigated pass of pv_cases.
PATH_GUESTS = ["pv-user", "pv-syscalls", "pv-trap-table", "pv-memops"]


@system_test
def test_xpti_every_path_with_every_mitigation_on(build):
    """mitigations = on: the self-checking guests of every paravirtual path
    (traps, bounces, the fast gate, user mode, iret, memory operations,
    hypercalls) and the example OS with its applications, all at once, so
    the CPU also switches between guests: all pass as with them off."""
    images = [test_guest(build, g) for g in PATH_GUESTS] + \
        [os.path.join(EXAMPLES, "tinyos"), test_guest(build, "companion")]
    r = run(build, Boot(images=images, runner_cfg=["mitigations = on"], mem=512, timeout=240),
            "xpti-paths")
    problems = []
    for g in PATH_GUESTS:
        self_checked(problems, r.log, g)
    expect(problems, exited(r.log, "tinyos"), f"tinyos did not exit 0: {ended_line(r.log, 'tinyos')}")
    expect(problems, "tinyos: crasher (pid 3) was ended by #PF" in guest_lines(r.log, "tinyos"),
           "tinyos's crasher was not ended by its #PF")
    expect(problems, exited(r.log, "companion"), "the companion did not exit 0")
    expect(problems, "hv: entry paths: page-table isolation on, VERW on, registers cleared on, "
           "swapgs fence on" in r.log, "not every entry mitigation was on")
    m = re.search(r"^hv: entry paths: .*\((\d+) branches patched out\)$", r.log, re.M)
    expect(problems, m and int(m.group(1)) > 0,
           "no branch that skips a mitigation was patched out (hv/cpu/entry_patch.c)")
    return problems, r
