"""System tests of what `make bench` relies on in hv: the interrupts-off
measurement behind hv_irq_off_max (hv.cfg `measure_irq_off`,
hv/debug/irqoff.c; docs/benchmarks.md). Run under -icount, where the TSC
counts instructions, so the bounds are exact whatever the host does."""

import re

from harness import DEFAULT_SMP, Boot, run
from judge import ended_line, exited, expect, guest_lines, test_guest
from registry import system_test

IRQ_OFF_LINE = re.compile(r"^hv: irq-off: longest (\d+) TSC cycles: (\S+) (\d+) guest (\S+) "
                          r"\((\d+) stretches\)$", re.M)
# Inside the probe's timing of a call but outside hv's stretch: the entry
# and exit assembly around hypercall_entry (vcpu/syscall_entry.S) and the
# rdtsc pair, under 100 instructions, and the slice timer's interrupt, which
# fires during a call this long and is taken as soon as hv returns to the
# probe, before its second rdtsc (~750 instructions: a stretch of its own).
# 1,500 instructions, 8 TSC cycles each under -icount: 0.06 % of the call.
OUTSIDE_STRETCH_TSC = 1500 * 8
# The longest stretch of the probe's boot, in instructions: its longest
# HV_CALL_MEM_MAP, ~4,800 (a call's budget: include/hv/abi_cpu.h). Its
# HV_CALL_SET_TRAP_TABLE of 256 entries was ~10,600 in one piece and its
# HV_CALL_EXIT 8,190 (its line formatted, a reaping step); the first goes
# a piece of 32 entries per entry into hv now, and the second formats its
# line with interrupts on and makes no reaping step (docs/benchmarks.md,
# hv_irq_off_max).
PROBE_BOUND = 5500


def probe(build, cfg):
    # At most 2 CPUs: two already have each CPU keep its own record and the
    # report take the longest (hv/debug/irqoff.c); more, under -icount, only
    # multiply the firmware's time (QEMU runs every CPU in one host thread,
    # round robin, and OVMF's APs spin in it: a boot at SMP 8 took 8 minutes
    # on the 2-core host, past the 120 s limit). 240 s: at SMP 2 on that
    # host, loaded ~25, one boot took 116 s and another ran out of 120 in
    # the firmware; under -icount no verdict here depends on wall time.
    r = run(build, Boot(images=[test_guest(build, "irqoff-probe")], cfg=cfg, icount=True,
                        smp=min(DEFAULT_SMP[0], 2), timeout=240), "irqoff-probe")
    problems = []
    return r, problems, probe_judged(problems, r)


def probe_judged(problems, r):
    """The probe ran to its end and reported its longest call: (TSC cycles,
    hypercall number), or None."""
    expect(problems, exited(r.log, "irqoff-probe"),
           f"irqoff-probe did not exit 0: {ended_line(r.log, 'irqoff-probe')}")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    m = None
    for l in guest_lines(r.log, "irqoff-probe"):
        m = re.match(r"irqoff-probe: longest call (\d+) hypercall (\d+)", l) or m
    expect(problems, m is not None, "irqoff-probe did not report its longest call")
    return (int(m.group(1)), int(m.group(2))) if m else None


@system_test
def test_bench_irq_off_finds_the_longest_call(build):
    """hv's longest interrupts-off stretch is the probe's longest hypercall
    (a memory call, bounded to ~5,000 instructions: include/hv/abi_cpu.h),
    within the assembly around it, and under PROBE_BOUND: neither the
    probe's HV_CALL_SET_TRAP_TABLE of 256 entries, done a piece of 32 per
    entry into hv, nor its HV_CALL_EXIT, whose line is formatted with
    interrupts on and whose stretch makes no reaping step, is longer.
    Checked: with the call in one piece (main before session 12) hv names
    hypercall 7 at ~10,600 instructions."""
    r, problems, longest = probe(build, "[hv]\nmeasure_irq_off = yes\n")
    m = IRQ_OFF_LINE.search(r.log)
    expect(problems, m is not None, "hv logged no irq-off line with measure_irq_off = yes")
    if m and longest:
        tsc, kind, nr, guest, stretches = m.groups()
        tsc, nr, stretches = int(tsc), int(nr), int(stretches)
        probe_tsc, probe_nr = longest
        expect(problems, kind == "hypercall" and guest == "irqoff-probe" and nr == probe_nr,
               f"hv names {kind} {nr} of {guest}, the probe's longest was hypercall {probe_nr}")
        expect(problems, probe_tsc - OUTSIDE_STRETCH_TSC <= tsc <= probe_tsc,
               f"hv's longest stretch {tsc} TSC cycles is not within {OUTSIDE_STRETCH_TSC} "
               f"below the probe's timing of that call, {probe_tsc}")
        expect(problems, tsc // 8 <= PROBE_BOUND,
               f"hv's longest stretch is {tsc // 8} instructions ({kind} {nr}), "
               f"over {PROBE_BOUND}")
        expect(problems, stretches >= 1000, f"only {stretches} stretches for 1000+ hypercalls")
    return problems, r


def irq_off_silent_without_the_setting(problems, r):
    """Without measure_irq_off hv measures nothing and says nothing: judged
    on boot_cases.py's calibration-gap boot, which runs the probe under
    -icount without the setting (an -icount boot of its own was ~11 s of
    make test for this one check)."""
    probe_judged(problems, r)
    expect(problems, "irq-off" not in r.log, "hv logged an irq-off line without measure_irq_off")
