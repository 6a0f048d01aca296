"""System tests of a Xen guest's own GDT entries (set_gdt and
update_descriptor: hv/xen/xen_desc.h, hv/xen/xen_gdt.c,
docs/xen-personality.md)."""

from judge import ended_line, exited, expect
from xen_cases import checks_all_ok, no_panic_no_leak, xen_shared_boot


def _judge(r, problems):
    oks = checks_all_ok(problems, r, "xen-descs", "xen-descs: all")
    expect(problems, len(oks) >= 25, f"only {len(oks)} checks ran")
    expect(problems, exited(r.log, "xen-descs"),
           f"xen-descs did not exit 0: {ended_line(r.log, 'xen-descs')}")
    no_panic_no_leak(problems, r)


def test_xen_own_descriptors(build):  # in test_xen_guests_in_one_boot
    """Our own Xen-ABI guest installs GDT entries of its own: set_gdt's
    table (a ring-0 code segment made ring 3: a far jump to it lands at
    ring 3; a data segment that loads; a call gate that always faults
    with #GP(selector) and never reaches its target) and Xen's refusals
    (LDT, TSS, interrupt gate, a gate to hv's ring-0 code, 7169 entries,
    frames past its RAM, lists in hv's half); update_descriptor's
    refusals (misaligned, past its RAM, into its page tables, into its
    code: W^X) and a ring-0 data segment written back as ring 3. LDT
    selectors are #GP(selector): hv loads a null LDT on every CPU (left as
    the firmware had it, the CPU read the guest's memory at linear 0x1000
    as an LDT, and only SMAP stopped it: a #PF there). Then the
    attack on hv's own reload: DS on an entry it makes not present, and a
    yield to the companion: hv's vcpu_load must null DS rather than fault
    on it (without that check hv panics there), and set_gdt with 0
    entries leaves no entry loadable."""
    r = xen_shared_boot(build, "xen-descs")
    problems = []
    _judge(r, problems)
    return problems, r
