"""System tests of the Xen personality's privileged-instruction emulation
(hv/xen/xen_emul.c, docs/xen-personality.md): the virtual debug registers,
`mov` to CR4, the MSRs a PV kernel reads, a storm of the FS/GS base
instructions."""

from judge import companion_within_share, ended_line, exited, expect, guest_lines
from registry import system_test
from xen_cases import beside_companion, checks_all_ok, no_panic_no_leak, xen_shared_boot


def test_xen_debug_registers_cr4_msrs(build):  # in test_xen_guests_in_one_boot
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
    r = xen_shared_boot(build, "xen-emul")
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


@system_test
def test_xen_fsgsbase_storm_beside_companion(build):
    """tests/guests/xen_fsgs_storm.c under -icount (exact) beside the
    companion: the FS/GS base instructions hv emulates at their #UD, in
    every form its decoder takes (4 ops x 16 registers x 32/64 bits, REX.R
    and REX.X ignored) and refuses (other prefixes before, after or
    instead of f3, two REX, REX first, f3 0f 0b: the guest's #UD at the
    instruction, nothing changed), without CR4.FSGSBASE (#UD), with bases
    the MSRs refuse (#GP(0) to the guest, the base kept), after selector
    loads (the CPU's base is read), then a million of them, then 100,000
    single steps (TF) over emulated and refused ones (a #DB right after a
    completed one with DR6.BS, the fault alone at a refused one); every
    check holds, and the companion, whose progress is judged, gets its share
    (0.5: two guests) while the storm runs."""
    r = beside_companion(build, "xen-fsgs-storm", "xen-fsgs-storm", icount=True, timeout=300)
    problems = []
    oks = checks_all_ok(problems, r, "xen-fsgs-storm", "xen-fsgs-storm: all")
    expect(problems, len(oks) >= 10, f"only {len(oks)} checks ran")
    expect(problems, exited(r.log, "xen-fsgs-storm"),
           f"xen-fsgs-storm did not exit 0: {ended_line(r.log, 'xen-fsgs-storm')}")
    # The companion finished while the storm still ran: its share was
    # judged against the storm, not an idle CPU.
    began = r.log.find("[xen-fsgs-storm] xen-fsgs-storm: storm of")
    done = r.log.find("[xen-fsgs-storm] xen-fsgs-storm: storm: ")
    finished = r.log.find("[companion] companion companion: 100 ms of CPU in")
    expect(problems, 0 <= began < finished < done,
           "the companion did not finish while the storm ran")
    companion_within_share(problems, r.log, 0.5, slack=1.2)
    no_panic_no_leak(problems, r)
    for l in guest_lines(r.log, "xen-fsgs-storm"):
        if l.startswith(("xen-fsgs-storm: storm: ", "xen-fsgs-storm: /4-/7: ",
                         "xen-fsgs-storm: steps: ")):
            print(f"  {l}")
    return problems, r
