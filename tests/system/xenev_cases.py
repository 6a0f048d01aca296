"""System tests of the Xen personality's privileged-instruction emulation
(hv/xen/xen_emul.c, docs/xen-personality.md): the virtual debug registers,
`mov` to CR4, the MSRs a PV kernel reads."""

from judge import ended_line, exited, expect
from registry import system_test
from xen_cases import beside_companion, checks_all_ok, no_panic_no_leak


@system_test
def test_xen_debug_registers_cr4_msrs(build):
    """Our own Xen-ABI guest at ring 3 uses what Xen emulates for a PV
    kernel: `mov` to and from %dr0-7 on virtual registers (start values
    0 / 0xffff0ff0 / 0x400, Xen's reserved bits, a breakpoint address in
    hv's half #GP, GD and upper bits #GP, an I/O breakpoint only with
    CR4.DE, DR4/5 aliases without it and #UD with it, dr8 #UD), the
    set_debugreg/get_debugreg hypercalls on the same registers, `mov` to
    CR4 as Xen's pv_fixup_guest_cr4 (DE kept, other bits discarded without
    a #GP: Unikraft's start sets OSFXSR and friends), `mov` to CR0 of only
    what it reads (TS, EM or WP changed #GP), `rdmsr` of the FS/GS bases, EFER and DEBUGCTL and
    `wrmsr` of what they hold; other MSRs and values #GP (a non-canonical
    or upper-half GS base among them). Beside it hv's companion runs."""
    r = beside_companion(build, "xen-emul", "xen-emul")
    problems = []
    oks = checks_all_ok(problems, r, "xen-emul", "xen-emul: all")
    expect(problems, len(oks) >= 40, f"only {len(oks)} checks ran")
    expect(problems, exited(r.log, "xen-emul"),
           f"xen-emul did not exit 0: {ended_line(r.log, 'xen-emul')}")
    no_panic_no_leak(problems, r)
    return problems, r


@system_test
def test_xen_gs_bases_on_two_cpus(build):
    """The same guest on two CPUs (QEMU's multi-threaded TCG): its GS base
    is saved and loaded with it wherever it runs, the companion beside it
    on either CPU runs with its own (0), and every check holds."""
    r = beside_companion(build, "xen-emul", "xen-emul-smp", smp=2)
    problems = []
    expect(problems, "hv: sched: guests ran on 2 of 2 CPU(s)" in r.log,
           "the guests did not run on two CPUs")
    checks_all_ok(problems, r, "xen-emul", "xen-emul: all")
    expect(problems, exited(r.log, "xen-emul"),
           f"xen-emul did not exit 0: {ended_line(r.log, 'xen-emul')}")
    no_panic_no_leak(problems, r)
    return problems, r
