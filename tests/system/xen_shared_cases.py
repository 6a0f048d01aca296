"""Xen guests that share a boot (~4.5 s of firmware apiece saved): each
guest checks itself or ends on its own fault, and each is judged as when it
booted alone beside the companion (it still does: the companion runs in
every one of these boots); none counts the guests beside it.

  - test_xen_guests_in_one_boot: xen-boot, xen-traps, xen-pt-write,
    xen-user, xen-mm, xen-descs, xen-emul, xen-review-vamap,
    xen-review-self-store, xen-review-straddle, xen-user-hostile,
    xen-mm-hostile, xen-bad-iret, xen-bad-stack and the three images
    xen_cases.py makes (xen-seg, xen-sect, xen-oldver), judged by
    their modules' own test functions (xen_cases.py, xen_user_cases.py,
    xen_mm_cases.py, xen_desc_cases.py, xenev_cases.py,
    xenreview_cases.py: not registered one by one, each reads the shared
    boot, xen_cases.xen_shared_boot).
  - test_xen_guests_under_xpti: xen-traps, xen-user, xen-mm and xen-descs
    with page-table isolation on (`xpti = on`). What isolation changes for
    each (the M2P and the leaves its tables drive in the isolated root,
    user mode's entries and the iretq to Xen's selectors through it, the
    GDT page each CPU shows there) is its own, whatever runs beside it.
  - test_xen_debug_log_guests_in_one_boot: xen-gdt-probe and xr-big with
    log_level = debug (xen_cases.xen_debug_boot): the GDT window's flat
    selectors, the Xen bookkeeping charged to the guest."""

import harness
import xen_cases
import xenev_cases
import xenreview_cases
from harness import Boot, run
from judge import ended_line, exited, expect, test_guest
from registry import system_test
from xen_cases import checks_all_ok
from xpti_cases import (xpti_off_guest_tables_hold_hv_supervisor_only,
                        xpti_on_guest_tables_hold_no_hv_memory)
from xen_desc_cases import _judge as descs_checks
from xen_desc_cases import test_xen_own_descriptors
from xen_mm_cases import (MM_CFG, mm_checks, test_xen_mm_hostile_beside_companion,
                          test_xen_mm_tables_and_ram_past_the_region)
from xen_user_cases import (test_xen_bookkeeping_charged_not_hv_heap,
                            test_xen_user_hostile_round_trips_then_no_kernel_stack,
                            test_xen_user_mode_callbacks_grants, user_checks)

SHARED_JUDGES = (xen_cases.test_xen_boot_start_of_day, xen_cases.test_xen_traps_memory_console,
                 xen_cases.test_xen_page_tables_read_only, test_xen_user_mode_callbacks_grants,
                 test_xen_mm_tables_and_ram_past_the_region, test_xen_own_descriptors,
                 xenev_cases.test_xen_debug_registers_cr4_msrs,
                 xenreview_cases.test_xenreview_update_va_mapping_churn_then_crash,
                 xenreview_cases.test_xenreview_store_into_own_code_page,
                 xenreview_cases.test_xenreview_store_straddling_into_next_page,
                 test_xen_user_hostile_round_trips_then_no_kernel_stack,
                 test_xen_mm_hostile_beside_companion,
                 xen_cases.test_xen_bad_iret_and_bad_stack_end_only_that_guest,
                 xen_cases.test_xen_images_recognised_built_and_run)


@system_test
def test_xen_guests_in_one_boot(build):
    """Each of SHARED_JUDGES' verdicts on the one boot, its problems named
    after it: xen_boot_start_of_day, xen_traps_memory_console,
    xen_page_tables_read_only, xen_user_mode_callbacks_grants,
    xen_mm_tables_and_ram_past_the_region, xen_own_descriptors,
    xen_debug_registers_cr4_msrs, xenreview_update_va_mapping_churn_then_crash,
    xenreview_store_into_own_code_page, xenreview_store_straddling_into_next_page,
    xen_user_hostile_round_trips_then_no_kernel_stack,
    xen_mm_hostile_beside_companion, xen_bad_iret_and_bad_stack_end_only_that_guest,
    xen_images_recognised_built_and_run (their docstrings say what each checks);
    and, with `xpti = off` set (what auto gives this AMD CPU model),
    xpti_cases.py's probe beside them: xpti_off_guest_tables_hold_hv_supervisor_only."""
    xen_cases.xen_shared_boot_forget()
    problems, r = [], None
    try:
        for judge_one in SHARED_JUDGES:
            found, r = judge_one(build)
            problems += [f"{judge_one.__name__.removeprefix('test_')}: {p}" for p in found]
        problems += [f"xpti_off_guest_tables_hold_hv_supervisor_only: {p}"
                     for p in xpti_off_guest_tables_hold_hv_supervisor_only(r)[0]]
    finally:
        xen_cases.xen_shared_boot_forget()
    return problems, r


@system_test
def test_xen_guests_under_xpti(build):
    """xen_traps_under_xpti, xen_user_mode_under_xpti, xen_mm_under_xpti and
    xen_own_descriptors_under_xpti in one boot: isolation was on, and each
    guest passed every check its test asks (xen-traps ran all its checks and
    exited 0; xen-user and xen-mm ended where they must, alone; xen-descs
    exited 0), the companion exited 0, no panic, no leak; and xpti_cases.py's
    probe beside them (xpti_on_guest_tables_hold_no_hv_memory)."""
    guests = ("xen-traps", "xen-user", "xen-mm", "xen-descs", "xpti-probe")
    r = run(build, Boot(images=[test_guest(build, g) for g in guests] +
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
    problems += [f"xpti_on_guest_tables_hold_no_hv_memory: {p}"
                 for p in xpti_on_guest_tables_hold_no_hv_memory(r)[0]]
    return problems, r


@system_test
def test_xen_debug_log_guests_in_one_boot(build):
    """xen_gdt_window_flat_selectors, xen_bookkeeping_charged_not_hv_heap
    (their docstrings say what each checks)."""
    harness.shared_forget()
    problems, r = [], None
    try:
        for judge_one in (xen_cases.test_xen_gdt_window_flat_selectors,
                          test_xen_bookkeeping_charged_not_hv_heap):
            found, r = judge_one(build)
            problems += [f"{judge_one.__name__.removeprefix('test_')}: {p}" for p in found]
    finally:
        harness.shared_forget()
    return problems, r
