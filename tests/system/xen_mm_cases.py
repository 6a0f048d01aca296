"""System tests of the Xen personality's memory (docs/xen-personality.md):
RAM past the start-of-day region, mmu_update (page-table updates, the
M2P), mmuext_op (pin/unpin, base pointers, flushes), update_va_mapping
through tables the guest made, all beside hv's own companion."""

from harness import Boot, run
from judge import ended_line, expect, guest_lines, test_guest
from registry import system_test
from xen_cases import checks_all_ok, no_panic_no_leak

MM_CFG = "[guest xen-mm]\nmemory = 16M\n"


def mm_boot(build, tag, runner_cfg=(), smp=1):
    return run(build, Boot(images=[test_guest(build, "xen-mm"), test_guest(build, "companion")],
                           cfg=MM_CFG, runner_cfg=list(runner_cfg), smp=smp), tag)


def mm_checks(problems, r):
    oks = checks_all_ok(problems, r, "xen-mm", "xen-mm: all")
    expect(problems, len(oks) >= 55, f"only {len(oks)} checks ran")
    lines = guest_lines(r.log, "xen-mm")
    expect(problems, any(l.startswith("xen-mm: writing its new L1 at 0x") for l in lines),
           f"xen-mm did not reach its last write: {lines[-3:]}")
    expect(problems, "xen-mm: wrote its page table" not in lines, "the write into its table went through")
    end = ended_line(r.log, "xen-mm") or ""
    # Xen's error code for a kernel-mode write to a present read-only page.
    expect(problems, end.startswith("#PF (page fault) at 0x") and "error code 0x3" in end,
           f"xen-mm did not end on a write #PF: {end}")
    no_panic_no_leak(problems, r)


@system_test
def test_xen_mm_tables_and_ram_past_the_region(build):
    """Our own Xen-ABI guest with 16 MiB gets pfns past its start-of-day
    region (nr_pages, P2M list and M2P cover them, unmapped), makes a page
    its own L1 table as Mini-OS does (read-only first; refused while
    writable), maps 64 new pfns in one mmu_update continued over four
    pieces (pdone 64), uses them, aliases one through update_va_mapping in
    the new table; pins an L1 built unlinked and links it (its entries
    become real), unlinks and unpins it (writable again); a new L2 at 1 GiB
    that cannot be unlinked before its L1. Refused with Xen's numbers: a
    table mapped writable, linked twice or into itself, the root below,
    frames past its RAM, entries of non-tables, misaligned entries, L4
    slots 255/256, superpages, NO_TRANSLATE, an M2P change, another domain,
    requests at hv or across the half's end, pdone in its own table. Its
    last write into its new table faults and ends it; the companion exits
    0, nothing leaks."""
    r = mm_boot(build, "xen-mm")
    problems = []
    mm_checks(problems, r)
    return problems, r


@system_test
def test_xen_mm_under_xpti(build):
    """The same guest with page-table isolation on: the leaves its tables
    drive appear (and go) in the isolated root it runs on too."""
    r = mm_boot(build, "xen-mm-xpti", ["xpti = on"])
    problems = []
    expect(problems, "hv: entry paths: page-table isolation on" in r.log, "isolation was not on")
    mm_checks(problems, r)
    return problems, r
