"""Boot (issue 12): what the boot figures' work became. The UEFI stub's
report lines reach hv's log instead of the firmware's slow console, and hv's
own part of a boot (from ExitBootServices to the first guest instruction,
no firmware disk reads in it, so exact under -icount) stays within its
budget."""

import re

from bench_cases import irq_off_silent_without_the_setting
from harness import Boot, run, run_shared
from judge import expect, test_guest
from registry import system_test

BANNER = re.compile(r"^hv: hv \d+\.\d+\.\d+: a minimal paravirtualizing hypervisor$", re.M)
# Lines the stub gathers (efi/notes.c), in the order it finds them.
# The firmware's lines end in \r\n, gnu-efi prints hex in capitals.
STUB_NOTES = [r"^hv: stub loaded at 0x[0-9A-Fa-f]+ \(gdb: add-symbol-file",
              r"^hv: Secure Boot: off",
              r"^hv: framebuffer \d+x\d+ at 0x[0-9A-Fa-f]+\r?$",
              r"^hv: read 2 file\(s\) from \\images\r?$"]


def line_at(log, pattern):
    m = re.search(pattern, log, re.M)
    return m.start() if m else None


def test_boot_stub_notes_logged_by_hv_after_its_banner(build):  # shared_cases.py
    """The stub prints nothing through the firmware when all goes well
    (its two signs of life, 'UEFI stub starting' and 'exiting boot
    services', cost 0.54 M instructions of boot_first_guest: gone in issue
    12's eighth round); what it found comes after hv's banner, in the
    stub's order, from hv's own log."""
    r = run_shared(build, Boot(images=[test_guest(build, "lines-a"), test_guest(build, "lines-b")]),
                   "lines-pair")
    problems = []
    expect(problems, r.status == 0, f"exit status {r.status}, expected 0")
    banner = BANNER.search(r.log)
    expect(problems, banner is not None, "no banner")
    first_hv = line_at(r.log, r"^hv: ")
    expect(problems, banner is not None and first_hv == banner.start(),
           "a line of hv's before its banner: the stub printed through the firmware")
    where = [line_at(r.log, p) for p in STUB_NOTES]
    for p, at in zip(STUB_NOTES, where):
        expect(problems, at is not None and banner is not None and at > banner.start(),
               f"stub line {p!r} not in hv's log after its banner")
    found = [w for w in where if w is not None]
    expect(problems, found == sorted(found), "the stub's lines are not in the order it found them")
    expect(problems, "did not fit its notes" not in r.log, "stub lines lost")
    return problems, r


# hv's part of boot_first_guest under -icount: 7.7 M instructions before
# issue 12, 2.64 M after its first session, 2.07 M once the calibration
# window overlapped the screen set-up (it spun 0.63 M for it alone before);
# the whole figure's target is 5 M and the firmware's disk reads before
# ExitBootServices vary by up to 3 M, so hv's own part must stay small;
# 1.58 M once the screen's clear and first drawing waited for the idle loop
# (issue 12's eighth round: the stub's Huffman stage spends what that gave
# back), where drawing them at boot took 2.28 M; 1.53 M in session 10 and
# 1.31 M once the function table's check (216,000) moved into the
# calibration window (session 11, s11-boot), which it no longer waits
# before: 1.4 M catches that undone.
HV_PART_BUDGET = 1_400_000


@system_test
def test_boot_hv_part_within_budget_under_icount(build):
    """boot-tsc alone (bench-boot's shape: 256 KiB, the TSC read first),
    under -icount: from ExitBootServices (hv logs the TSC the stub read
    there) to the guest's first statement is at most HV_PART_BUDGET
    instructions (TSC / 8). Exact from run to run: no firmware disk reads
    after that point. The same boot is the HPET calibration's (below: on
    q35 at SMP 1 under -icount, as calibration_on boots; a boot of its own
    was ~12 s of make test)."""
    # At SMP 1, as bench-boot: at SMP N the APs' bring-up comes on top
    # (bench ap_bringup measures it, at SMP 8).
    r = run(build, Boot(images=[test_guest(build, "boot-tsc")], icount=True, smp=1),
            "boot-budget")
    problems = []
    expect(problems, r.status == 0, f"exit status {r.status}, expected 0")
    exited = re.search(r"^hv: boot: boot services exited at TSC (\d+)$", r.log, re.M)
    guest = re.search(r"boot-tsc: first tsc=(\d+)", r.log)
    expect(problems, exited and guest, "no exit TSC from hv or no reading from bench-boot")
    if exited and guest:
        instructions = (int(guest.group(1)) - int(exited.group(1))) // 8
        expect(problems, 0 < instructions <= HV_PART_BUDGET,
               f"hv's part of the boot took {instructions:,} instructions "
               f"(budget {HV_PART_BUDGET:,})")
    calibration_judged(problems, r, "HPET")  # boot_calibration_on_the_hpet's check
    return problems, r


CALIBRATED = re.compile(r"^hv: time: TSC (\d+)\.(\d+) MHz \(from ([^)]+)\).*APIC timer "
                        r"(\d+)\.(\d+) MHz \(from ([^)]+)\)$", re.M)


def calibration_on(build, machine, name, reference, cfg=(), images=()):
    """Under -icount QEMU runs the TSC and the APIC timer at exactly 1 GHz of
    virtual time: the calibration, whose window overlaps the screen set-up,
    must find both within 0.1 % on the given reference clock. At one CPU
    (smp=1): the boot CPU calibrates before any AP starts and the APs take
    its rates, so more CPUs change nothing measured here; but under -icount
    QEMU runs every CPU in one host thread, round robin, and OVMF's APs spin
    in it for the whole firmware run: at SMP 8 one such boot took 8 minutes
    on the 2-core host (the 120 s limit ran out in the firmware)."""
    r = run(build, Boot(machine=machine, icount=True, runner_cfg=list(cfg), smp=1,
                        images=list(images), timeout=240), name)
    problems = []
    calibration_judged(problems, r, reference)
    return problems, r


def calibration_judged(problems, r, reference):
    expect(problems, r.status == 0, f"exit status {r.status}, expected 0")
    m = CALIBRATED.search(r.log)
    expect(problems, m, "no calibration line")
    if m:
        tsc = int(m.group(1)) + int(m.group(2)) / 1e6
        apic = int(m.group(4)) + int(m.group(5)) / 1e6
        expect(problems, m.group(3) == reference and m.group(6) == reference,
               f"calibrated from {m.group(3)} / {m.group(6)}, expected the {reference}")
        expect(problems, abs(tsc - 1000) <= 1, f"TSC calibrated at {tsc} MHz, QEMU runs it at 1000")
        expect(problems, abs(apic - 1000) <= 1,
               f"APIC timer calibrated at {apic} MHz, QEMU runs it at 1000")


# The HPET's calibration (q35, SMP 1, -icount, nothing else set) is judged on
# test_boot_hv_part_within_budget_under_icount's boot, the same machine.


@system_test
def test_boot_calibration_on_the_pm_timer(build):
    """No HPET (a machine without one): the ACPI PM timer's 24/32-bit
    counter is the stopwatch, with its wraps counted."""
    return calibration_on(build, "q35,hpet=off", "cal-pm", "ACPI PM timer")


@system_test
def test_boot_calibration_survives_a_pause_mid_reading(build):
    """debug_calibration_gap: a 10 ms pause (as an SMI on a PC or the host
    descheduling QEMU) cuts into the window's closing reading between the
    reference clock's read and the TSC's. hv reads each end eight times and
    keeps the tightest, so the rates stay within 0.1 %; one read would put
    the pause into the TSC's count alone (+100 % over a ~10 ms window).
    The boot runs bench_cases.py's irqoff-probe without measure_irq_off
    too: hv measures nothing and says nothing (the probe runs after the
    calibration; the gap only touches the calibration's readings)."""
    problems, r = calibration_on(build, "q35", "cal-gap", "HPET", ["debug_calibration_gap = yes"],
                                 [test_guest(build, "irqoff-probe")])
    irq_off_silent_without_the_setting(problems, r)
    return problems, r
