"""Test functions of several modules judged on one boot (harness.run_shared):
they boot the same configuration, each asks its own questions of the log.
A boot is ~4.5 s of firmware (~11 s under -icount); each group here is one
registered test that runs its functions one after the other and names each
problem after the function that found it. (Xen's groups:
xen_shared_cases.py.)

  - test_two_line_guests_in_one_boot: lines-a and lines-b (200 numbered
    lines each) at SMP 1, nothing set: boot_cases.py's stub notes after
    hv's banner, guest_cases.py's output interleaved by whole lines,
    secboot_cases.py's plain firmware saying Secure Boot off, spec_cases.py's
    AMD CPU needing neither isolation nor VERW.
  - test_multi_vcpu_guest_judged_twice: multi-vcpu alone at SMP 1:
    guest_cases.py's multi-vCPU guest, spec_cases.py's RSB fill only when
    the guest changes."""

import boot_cases
import guest_cases
import harness
import secboot_cases
import spec_cases
from registry import system_test


def judged_together(build, functions):
    harness.shared_forget()
    problems, r = [], None
    try:
        for fn in functions:
            found, r = fn(build)
            problems += [f"{fn.__name__.removeprefix('test_')}: {p}" for p in found]
    finally:
        harness.shared_forget()
    return problems, r


@system_test
def test_two_line_guests_in_one_boot(build):
    """boot_stub_notes_logged_by_hv_after_its_banner, output_interleaves_by_line,
    secboot_plain_firmware_says_secure_boot_off, spec_amd_cpu_needs_neither_xpti_nor_verw
    (their docstrings say what each checks)."""
    return judged_together(build, (boot_cases.test_boot_stub_notes_logged_by_hv_after_its_banner,
                                   guest_cases.test_output_interleaves_by_line,
                                   secboot_cases.test_secboot_plain_firmware_says_secure_boot_off,
                                   spec_cases.test_spec_amd_cpu_needs_neither_xpti_nor_verw))


@system_test
def test_multi_vcpu_guest_judged_twice(build):
    """multi_vcpu_guest, spec_rsb_fill_only_when_the_guest_changes (their
    docstrings say what each checks)."""
    return judged_together(build, (guest_cases.test_multi_vcpu_guest,
                                   spec_cases.test_spec_rsb_fill_only_when_the_guest_changes))
