"""Xen guests with page-table isolation on (`xpti = on`): xen-traps,
xen-user, xen-mm and xen-descs, each judged as in its own module's test
without isolation (xen_cases.py, xen_user_cases.py, xen_mm_cases.py,
xen_desc_cases.py), in one boot beside the companion. Each was a boot of
its own (~4.5 s of firmware apiece); what isolation changes for each
guest (the M2P and the leaves its tables drive in the isolated root, user
mode's entries and the iretq to Xen's selectors through it, the GDT page
each CPU shows there) is its own, whatever runs beside it."""

from judge import ended_line, exited, expect
from registry import system_test
from xen_cases import checks_all_ok
from xen_desc_cases import _judge as descs_checks
from xen_mm_cases import MM_CFG, mm_checks
from xen_user_cases import user_checks
from harness import Boot, run
from judge import test_guest

GUESTS = ("xen-traps", "xen-user", "xen-mm", "xen-descs")


@system_test
def test_xen_guests_under_xpti(build):
    """xen_traps_under_xpti, xen_user_mode_under_xpti, xen_mm_under_xpti and
    xen_own_descriptors_under_xpti in one boot: isolation was on, and each
    guest passed every check its test asks (xen-traps ran all its checks and
    exited 0; xen-user and xen-mm ended where they must, alone; xen-descs
    exited 0), the companion exited 0, no panic, no leak."""
    r = run(build, Boot(images=[test_guest(build, g) for g in GUESTS] +
                        [test_guest(build, "companion")],
                        cfg=MM_CFG, runner_cfg=["xpti = on"]), "xen-xpti")
    problems = []
    expect(problems, "hv: entry paths: page-table isolation on" in r.log, "isolation was not on")
    checks_all_ok(problems, r, "xen-traps", "xen-traps: all")
    expect(problems, exited(r.log, "xen-traps"),
           f"xen-traps did not exit 0: {ended_line(r.log, 'xen-traps')}")
    user_checks(problems, r)   # and the companion, no panic, no leak
    mm_checks(problems, r)
    descs_checks(r, problems)
    return problems, r
