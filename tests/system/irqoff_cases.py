"""System tests of hv's interrupts-off stretches outside any one hypercall
(docs/benchmarks.md, hv_irq_off_max): reaping an ended guest. Under -icount,
where the TSC counts instructions, so the bounds are exact."""

import os
import re
import subprocess

from harness import Boot, run
from judge import companion_within_share, ended_line, exited, expect, test_guest
from registry import system_test

IRQ_OFF_LINE = re.compile(r"^hv: irq-off: longest (\d+) TSC cycles: (\S+) (\d+) guest (\S+) "
                          r"\((\d+) stretches\)$", re.M)
# hv_irq_off_max's target (docs/benchmarks.md), in instructions: 20,000
# until session 12; this boot's longest, a reaping step from hv's timer,
# read 6,763 then.
IRQ_OFF_TARGET = 8000


@system_test
def test_irqoff_big_guest_reaped_in_bounded_steps(build):
    """reap-big has 64 MiB mapped and exits while the companion runs: hv gives its
    memory back in bounded steps while the companion is still running (from
    its timer: the companion never leaves the CPU to an idle loop), no stretch
    of hv with interrupts off -- the reaping steps included, and the end of
    the run -- reaches 8 000 instructions, the companion finishes within its
    share and the memory balance holds. At one CPU (smp=1): under -icount
    at SMP > 1 QEMU runs the CPUs round robin on one clock, so a stretch
    timed in it holds the other CPUs' turns (the companion's HV_CALL_YIELD,
    which pauses with nothing else to run, measured 127 837 at SMP 2).
    240 s for the boot: on the 2-core host loaded ~30 one ran out of 120 in
    the firmware; under -icount no verdict here depends on wall time."""
    cfg = "[hv]\nmeasure_irq_off = yes\nlog_level = debug\n"
    r = run(build, Boot(images=[test_guest(build, "reap-big"), test_guest(build, "companion")],
                        cfg=cfg, icount=True, smp=1, timeout=240), "irqoff-reap")
    problems = []
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, exited(r.log, "reap-big"),
           f"reap-big did not exit 0: {ended_line(r.log, 'reap-big')}")
    m = re.search(r"^\[reap-big\] reap-big: (\d+) heap pages mapped$", r.log, re.M)
    expect(problems, m is not None and int(m.group(1)) >= 16384,
           "reap-big did not have 64 MiB mapped")
    freed = re.search(r"^hv: guest reap-big: memory given back$", r.log, re.M)
    done = re.search(r"^\[companion\] companion companion: \d+ ms of CPU", r.log, re.M)
    expect(problems, freed is not None, "hv never said it gave reap-big's memory back")
    # hv notes its progress every 512 steps (8 pages each): 17 000 pages take
    # about 2 100, at most one every 50 us of hv's timer, so some of them fall
    # in the companion's 100 ms; the rest go on in the end-of-run loop.
    notes = [m.start() for m in re.finditer(
        r"^hv: guest reap-big: reaping, \d+ frame\(s\) still charged$", r.log, re.M)]
    expect(problems, len(notes) >= 3, f"{len(notes)} reaping progress notes, 3 or more expected "
           "(steps of 8 pages)")
    if done:
        expect(problems, notes and notes[0] < done.start(),
               "reap-big was not reaped while the companion ran (only at the end of the run)")
    m = IRQ_OFF_LINE.search(r.log)
    expect(problems, m is not None, "hv logged no irq-off line")
    if m:
        insns = int(m.group(1)) // 8
        expect(problems, insns < IRQ_OFF_TARGET,
               f"hv ran {insns} instructions with interrupts off ({m.group(2)} {m.group(3)} of "
               f"{m.group(4)}); the bound is {IRQ_OFF_TARGET}")
    expect(problems, re.search(r"^hv: memory balance: .* as before the first guest$", r.log, re.M),
           "the memory balance does not hold after reap-big was reaped")
    companion_within_share(problems, r.log, 0.5)
    return problems, r


@system_test
def test_irqoff_no_sti_directly_before_cli(build):
    """No boot: hv's code (build/hv-core.elf) has no `sti` followed at once
    by `cli`. The CPU takes no interrupt until the instruction after an
    `sti` has run (its interrupt shadow), so such a pair is a window that
    lets nothing in: irqoff_interrupt_window was one, and the boot CPU's
    end-of-run reaping never took the IPI it waited for (the SMP-2 hang of
    session 10; aprun_last_end_on_another_cpu_is_reaped). Checked: finds
    the two of the old window (finish's loop, all_guests_ended's)."""
    text = subprocess.run(["objdump", "-d", "--no-show-raw-insn", os.path.join(build, "hv-core.elf")],
                          capture_output=True, text=True, check=True).stdout
    insns = [l.split("\t") for l in text.splitlines() if l.startswith("ffffffff") and "\t" in l]
    bad = [a[0].strip().rstrip(":") for a, b in zip(insns, insns[1:])
           if a[-1].strip() == "sti" and b[-1].strip() == "cli"]
    problems = []
    expect(problems, len(insns) > 10000, f"objdump listed {len(insns)} instructions")
    expect(problems, not bad, f"sti directly before cli at {', '.join(bad)}")
    return problems, None
