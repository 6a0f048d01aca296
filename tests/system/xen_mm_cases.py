"""System tests of the Xen personality's memory (docs/xen-personality.md):
RAM past the start-of-day region, mmu_update (page-table updates, the
M2P), mmuext_op (pin/unpin, base pointers, flushes), update_va_mapping
through tables the guest made, all beside hv's own companion."""

from judge import ended_line, expect, guest_lines
from xen_cases import checks_all_ok, no_panic_no_leak, xen_shared_boot

MM_CFG = "[guest xen-mm]\nmemory = 16M\n"


def mm_checks(problems, r):
    oks = checks_all_ok(problems, r, "xen-mm", "xen-mm: all")
    expect(problems, len(oks) >= 60, f"only {len(oks)} checks ran")
    lines = guest_lines(r.log, "xen-mm")
    expect(problems, any(l.startswith("xen-mm: writing its new L1 at 0x") for l in lines),
           f"xen-mm did not reach its last write: {lines[-3:]}")
    expect(problems, "xen-mm: wrote its page table" not in lines, "the write into its table went through")
    end = ended_line(r.log, "xen-mm") or ""
    # Xen's error code for a kernel-mode write to a present read-only page.
    expect(problems, end.startswith("#PF (page fault) at 0x") and "error code 0x3" in end,
           f"xen-mm did not end on a write #PF: {end}")
    no_panic_no_leak(problems, r)


def test_xen_mm_tables_and_ram_past_the_region(build):  # in test_xen_guests_in_one_boot
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
    r = xen_shared_boot(build, "xen-mm")
    problems = []
    mm_checks(problems, r)
    return problems, r


def test_xen_mm_hostile_beside_companion(build):  # in test_xen_guests_in_one_boot
    """A hostile Xen guest against its own page-table calls, beside the
    companion: a request list running into unmapped memory (-EFAULT after
    40, pdone 40), a forged preempted bit, counts over 32 bits, pdone in hv
    and in its root table, DOMID_XEN, unknown mmuext commands; a full L1 of
    512 leaves linked and unlinked 300 times (each link a piece of its
    own); every writable padding page refused as a table; pin/unpin 1000
    times; a multicall of mmu_updates. Last it unlinks the L1 of its own
    code and must end on that, not run on; the companion exits 0, hv does
    not panic and its leak check is clean."""
    r = xen_shared_boot(build, "xen-mm-hostile")
    problems = []
    oks = checks_all_ok(problems, r, "xen-mm-hostile", "xen-mm-hostile: all")
    expect(problems, len(oks) >= 25, f"only {len(oks)} checks ran")
    lines = guest_lines(r.log, "xen-mm-hostile")
    expect(problems, "xen-mm-hostile: unlinking the L1 of its own code" in lines, "it did not get there")
    expect(problems, "xen-mm-hostile: still running" not in lines, "it ran on without its code")
    end = ended_line(r.log, "xen-mm-hostile") or ""
    expect(problems, end and "exited" not in end, f"it did not end on the unmapping: {end}")
    no_panic_no_leak(problems, r)
    return problems, r
