"""A Xen guest's own GDT entries while its vCPU moves between CPUs
(hv/xen/xen_gdt.c: entries 8-15 of its first frame are copied into the
GDT page of the CPU it is loaded on when that CPU's version differs from
the vCPU's; docs/xen-personality.md)."""

import re

from harness import Boot, run
from judge import ended_line, exited, expect, guest_lines, test_guest
from registry import system_test
from xen_cases import checks_all_ok, no_panic_no_leak

XEN_COPIES = ("xen-move-a", "xen-move-b", "xen-move-c")
MOVES = re.compile(r"^hv: sched: guests ran on (\d+) of (\d+) CPU\(s\), (\d+) vCPU move\(s\) "
                   r"between them$", re.M)


@system_test
def test_xen_own_descriptors_follow_the_vcpu_between_cpus(build):
    """SMP 2 under -icount (exact): `duty-a` pinned to CPU 0 and `duty-b`
    to CPU 1 spin and sleep in turn (30 ms phases), so one CPU is idle in
    every phase and the balancer hands the free, CPU-bound Xen vCPUs over
    (every move in the summary is theirs: the others are pinned; three
    copies, placed two on CPU 0 and one on CPU 1, so that one CPU holds
    two more vCPUs than the other in turn). The copies of xen-gdt-move,
    for 0.7 s each, rewrite their GDT entry 10
    (update_descriptor, every 16th a set_gdt) with a new limit and read it
    back with `lsl`, with ES loaded from it: every read must see its newest
    limit on whichever CPU it runs (a CPU holding an older copy, its own or
    another copy's, shows another limit; one without the entry makes
    hv's own ES reload fault), and they must have moved at least three
    times. Fails if vcpu_load copies only onto a CPU that ran no Xen
    descriptors (the other copy's stay) or never copies."""
    duty = test_guest(build, "duty")
    cfg = "[guest duty-a]\ncpus = 0\nmemory = 4M\n[guest duty-b]\ncpus = 1\nmemory = 4M\n"
    xen = test_guest(build, "xen-gdt-move")
    r = run(build, Boot(smp=2, icount=True, cfg=cfg, runner_cfg=["time_limit_ms = 8000"],
                        images=[(duty, "duty-a"), (duty, "duty-b")] + [(xen, n) for n in XEN_COPIES]),
            "xen-gdt-move")
    problems = []
    for name in XEN_COPIES:
        oks = checks_all_ok(problems, r, name, "xen-gdt-move: all")
        expect(problems, len(oks) >= 3, f"{name}: only {len(oks)} checks ran")
        expect(problems, exited(r.log, name), f"{name} did not power off: {ended_line(r.log, name)}")
    for name in ("duty-a", "duty-b"):
        expect(problems, exited(r.log, name), f"{name} did not exit 0: {guest_lines(r.log, name)[-2:]}")
    m = MOVES.search(r.log)
    expect(problems, m and int(m.group(3)) >= 3, f"the Xen vCPU moved too rarely: {m and m.group(0)}")
    no_panic_no_leak(problems, r, companion=False)
    rounds = [next((l for l in guest_lines(r.log, n) if "rounds" in l), "") for n in XEN_COPIES]
    print(f"  xen-gdt-move: {rounds}; {m and m.group(0)}")
    return problems, r

