"""Memory across CPUs (docs/design.md, "Locking" and "TLB shootdown"): two
vCPUs of one guest placed on two CPUs (hv.cfg `[guest mm-race] cpus = 0-1`
at SMP 2; the scheduler puts each new vCPU on the allowed CPU with the
fewest) race memory changes against accesses and against each other
(tests/guests/mm_race.c):

  - one unmaps a page (then, separately, makes it read-only) while the other
    reads (writes) it in a loop: every access made after the hypercall
    returned faults; none reaches the old frame through a stale TLB entry
    (QEMU's TCG keeps a TLB per CPU that only a flush on that CPU empties,
    so without the shootdown the accesses go on succeeding);
  - both issue MEM_MAP/UNMAP/PROTECT on one range at once: every answer is
    one some order of the calls allows, the tables end consistent (the whole
    range maps again once unmapped) and the allowance's charge comes back to
    where it was; hv's frame account at the guest's end has no difference.

hv logs `tlb: N shootdown(s) sent, M flush request(s) served by other CPUs`
at the summary: the test requires both, so a run where the two vCPUs shared
one CPU (no shootdown needed, the race never happens) fails instead of
passing for the wrong reason."""

import re

from harness import Boot, run
from judge import exited, expect, guest_lines, test_guest
from registry import system_test

RACE_CFG = "[guest mm-race]\ncpus = 0-1\n"
ROUNDS = 64
SHOOTDOWNS = re.compile(r"^hv: tlb: (\d+) shootdown\(s\) sent, (\d+) flush request\(s\) served "
                        r"by other CPUs$", re.M)


def race_run(build, smp, name, cfg=RACE_CFG):
    r = run(build, Boot(smp=smp, images=[test_guest(build, "mm-race")], cfg=cfg), name)
    problems = []
    lines = guest_lines(r.log, "mm-race")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, exited(r.log, "mm-race"), "mm-race did not exit with status 0")
    expect(problems, "mm-race: all checks passed" in lines, "mm-race did not pass its checks")
    for what in ("unmap while reading", "read-only while writing"):
        want = f"mm-race: {what}: {ROUNDS} rounds, {ROUNDS} faults, 0 stale"
        expect(problems, want in lines, f"no '{want}' (the accesses after the change did not all "
               f"fault: {[l for l in lines if what in l]})")
    expect(problems, any(l.startswith("mm-race: MEM_* race:") and l.endswith("charged as before")
                         for l in lines), "the MEM_* race left the tables or the charge changed")
    expect(problems, re.search(r"^hv: leak checks: \d+ guest end\(s\) checked, no difference$",
                               r.log, re.M), "hv's frame account at the guest's end differs")
    return problems, r


@system_test
def test_mm_smp_stale_translations_never_survive_a_change(build):
    """SMP 2, the guest's two vCPUs on CPUs 0 and 1: unmap / read-only while
    the other vCPU reads / writes: every access after the hypercall faults,
    and the other CPU flushed on hv's request (at least one shootdown and
    one served flush per round of the two kinds)."""
    problems, r = race_run(build, 2, "mm-smp-race")
    m = SHOOTDOWNS.search(r.log)
    expect(problems, m is not None, "hv sent no TLB shootdown: the vCPUs did not run on two CPUs")
    if m:
        expect(problems, int(m.group(1)) >= 2 * ROUNDS and int(m.group(2)) >= 2 * ROUNDS,
               f"{m.group(0)}: fewer than one per round ({2 * ROUNDS})")
    expect(problems, re.search(r"^hv: sched: guests ran on 2 of 2 CPU\(s\)", r.log, re.M),
           "the guest did not run on both CPUs")
    return problems, r


@system_test
def test_mm_smp_race_guest_on_one_cpu(build):
    """The same guest at SMP 1 (both vCPUs take turns on one CPU): the same
    answers, and no shootdown (nothing else can hold its translations)."""
    problems, r = race_run(build, 1, "mm-smp-race-one-cpu", cfg="")
    expect(problems, SHOOTDOWNS.search(r.log) is None, "hv sent a shootdown with one CPU")
    return problems, r
