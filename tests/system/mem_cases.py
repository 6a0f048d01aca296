"""System tests of issue 10's memory attacks (1-4): bounded memory
hypercalls, maximum protections, allowances as reservations, counters that
cannot wrap. Each boots an attack guest (tests/guests/mem_*.c) beside the
well-behaved companion and judges: the attack fails with the documented
error, hv never panics, the companion finishes within its share, and every
frame and hv allocation is back when the guests have ended (hv's memory
balance line)."""

import re

from harness import Boot, run
from judge import self_checked, companion, companion_within_share, exited, expect, guest_lines, \
    test_guest
from registry import system_test

INSN_PER_TSC = 1 / 8  # scripts/hv-qemu --icount: TSC += 8 per instruction
# One memory call, the guest's syscall and return included: hv runs it with
# interrupts off, so another guest's timer waits behind it. 50 us (the
# timer_late_under_attack target) is 6,250 instructions, about 1,600 of
# them the timer's path and hand-over (docs/benchmarks.md).
MEM_CALL_TARGET = 5100
# With every defence on (run.py --mitigated: page-table isolation's two CR3
# writes, VERW and the RSB fill on each entry and exit) a call costs about
# 100 more (5,194 and 5,201 measured): the bound stays what it protects,
# timer_late_under_attack, which is measured with the defaults.
MEM_CALL_TARGET_MITIGATED = MEM_CALL_TARGET + 300


def balanced(problems, log):
    """hv's end-of-run line: every frame and kmalloc byte came back."""
    expect(problems, re.search(r"^hv: memory balance: \d+ free frames and \d+ kmalloc bytes, "
                               r"as before the first guest$", log, re.M),
           "hv's memory balance line is missing or says frames/bytes were not given back: " +
           str(re.findall(r"^hv: .*(?:memory balance|still charged).*$", log, re.M)))
    expect(problems, "still charged" not in log, "a guest's frames stayed charged after its end")


# The companion's share beside one attacker of equal weight: half of the
# CPU (per-guest fair shares, hv/sched/fair.c). What these tests guard
# against is far beyond any slack: before bounded calls one hypercall held
# the CPU for minutes.
SHARE = 0.5
LONGEST_WAIT_US = 50000  # five time slices of the attacker


def attack(build, guest, tag, cfg="", icount=False, mem=256, share=SHARE, extra=()):
    boot = Boot(images=[test_guest(build, guest), test_guest(build, "companion")] + list(extra),
                cfg=cfg, icount=icount, mem=mem, timeout=240)
    r = run(build, boot, tag)
    problems = []
    lines = self_checked(problems, r.log, guest)
    companion_within_share(problems, r.log, share)
    c = companion(r.log)
    if c:
        expect(problems, c[2] <= LONGEST_WAIT_US,
               f"the companion was kept off the CPU for {c[2]} us at a stretch")
    balanced(problems, r.log)
    return problems, r, lines


@system_test
def test_mem_huge_ranges_bounded_per_call(build):
    """Attack 1: MEM_UNMAP(0, 0, 0x7fff00000) and huge MEM_MAP/MEM_PROTECT,
    raw and repeated: each call returns the documented value, and under
    -icount no call costs more than MEM_CALL_TARGET instructions (one call
    of the batch sizes and unmap budget before issue 12's cut reached
    9,400 to 15,200)."""
    problems, r, lines = attack(build, "mem-bounds", "mem-bounds", icount=True)
    costs = {m.group(1): int(m.group(2)) for l in lines
             for m in [re.match(r"mem-bounds: longest (\S+) call (\d+) cycles", l)] if m}
    expect(problems, len(costs) == 9, f"mem-bounds reported {len(costs)} of 9 call costs")
    target = (MEM_CALL_TARGET_MITIGATED if "entry paths: page-table isolation on" in r.log
              else MEM_CALL_TARGET)
    for kind, cycles in sorted(costs.items()):
        insns = cycles * INSN_PER_TSC
        expect(problems, insns <= target,
               f"a {kind} call costs {insns:.0f} instructions, more than {target}")
    return problems, r


@system_test
def test_mem_read_only_shm_never_writable(build):
    """Attack 2: a guest with a read-only [shm] region tries every route to
    write it (writable alias, MEM_PROTECT, a read-only alias raised, alias of
    an alias, a user space), and to write its start-info page and its code:
    all refused with -HV_EPERM, and the region's owner finds it unchanged."""
    cfg = "[shm victim]\nsize = 8K\nmap = mem-shm-owner:rw mem-shm-ro:ro\n"
    problems, r, lines = attack(build, "mem-shm-ro", "mem-shm-ro", cfg=cfg,
                                extra=[test_guest(build, "mem-shm-owner")], share=SHARE * 2 / 3)
    expect(problems, "[mem-shm-owner] mem-shm-owner: the region is unchanged" in r.log,
           "the owner of the shared region found it changed: " +
           str(guest_lines(r.log, "mem-shm-owner")[-2:]))
    expect(problems, exited(r.log, "mem-shm-owner"), "the region's owner did not exit 0")
    return problems, r


@system_test
def test_mem_allowances_are_reservations(build):
    """Attack 3: two guests with 96 MiB allowances each map fresh pages (two
    page tables apiece) until -HV_ENOMEM: neither passes its allowance, both
    reach it, both get every page and table back after unmapping, user
    space create/destroy loops drain nothing; a third copy, whose allowance
    is no longer free, is rejected at load with the sizes named."""
    image = test_guest(build, "mem-allowance")
    boot = Boot(images=[(image, "mem-allowance-a"), (image, "mem-allowance-b"),
                        (image, "mem-allowance-c"), test_guest(build, "companion")],
                mem=256, icount=True, timeout=240)  # -icount: shares judged exactly
    r = run(build, boot, "mem-allowance")
    problems = []
    names = sorted(set(re.findall(r"^\[(mem-allowance[^\]]*)\] ", r.log, re.M)))
    expect(problems, len(names) == 2, f"expected two copies to run, saw {names}")
    for n in names:
        self_checked(problems, r.log, n)
    expect(problems, re.search(r"^hv: error: image mem-allowance-c rejected: .*98304 KiB.*"
                               r"\d+ KiB (are )?free", r.log, re.M),
           "the third copy was not rejected naming its 98304 KiB allowance and the free memory")
    # Three guests of equal weight: a third of the CPU each.
    companion_within_share(problems, r.log, 1 / 3)
    balanced(problems, r.log)
    return problems, r


@system_test
def test_mem_wx_counters_cannot_wrap(build):
    """Attack 4: 300 writable aliases of one frame, then an executable one;
    writable aliases in batches to the counter's limit (-HV_ENOMEM); 300
    executable aliases, then a writable one: W^X per frame holds throughout."""
    problems, r, lines = attack(build, "mem-wx-alias", "mem-wx-alias")
    return problems, r
