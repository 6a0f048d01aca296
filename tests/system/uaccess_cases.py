"""Guest memory access with fault fixups (hv/guest/uaccess.c, hv/cpu/extable.h):
hypercalls handed unmapped, half-mapped and read-only buffers, and a guest
kernel stack that runs off its mapping during a trap bounce. Each boots its
guests beside the well-behaved companion, which must finish normally.

hv reaches the loaded guest space directly and the MMU's faults are fixed up
to -HV_EFAULT; hv counts those fixups and reports them at the end
(`hv: uaccess: N fault(s) on guest memory fixed up to -HV_EFAULT`). The tests
compare that count with the faulting calls the guests made: a hv that
checked guest pages in software instead would return the same errors but
report no fixups, and a fault that was not fixed up would be a panic."""

import re

from cases import panic_report_judged
from harness import Boot, run
from judge import companion, ended_line, exited, expect, guest_lines, self_checked, test_guest
from registry import system_test

FIXUPS = re.compile(r"^hv: uaccess: (\d+) fault\(s\) on guest memory fixed up to -HV_EFAULT$", re.M)
# -cpu max has SMAP (stac/clac patched in); without it the NOPs stay.
NO_SMAP = "max,smap=off"


def fixups(problems, log):
    m = FIXUPS.search(log)
    if not m:
        problems.append("hv did not report its guest-memory fixups (hv: uaccess: ...)")
        return None
    return int(m.group(1))


def companion_finished(problems, log):
    expect(problems, companion(log) is not None, "the companion did not finish its work")
    expect(problems, exited(log, "companion"), "the companion did not exit 0")


def faults_beside_companion(build, cpu, tag):
    name = "uaccess-faults"
    r = run(build, Boot(images=[test_guest(build, name), test_guest(build, "companion")], cpu=cpu),
            tag)
    problems = []
    lines = self_checked(problems, r.log, name)
    companion_finished(problems, r.log)
    calls = [int(m.group(1)) for l in lines if (m := re.match(rf"{name}: (\d+) faulting calls$", l))]
    expect(problems, len(calls) == 1, f"{name} did not say how many faulting calls it made")
    n = fixups(problems, r.log)
    if calls and n is not None:
        expect(problems, n == calls[0],
               f"hv fixed up {n} fault(s) on guest memory; the guest made {calls[0]} faulting calls")
    return problems, r


@system_test
def test_uaccess_bad_buffers_are_efault_beside_companion(build):
    """Unmapped page, a buffer running from a mapped page into an unmapped
    one (read and written), read-only targets (a page, the image's rodata, a
    write spanning a writable and a read-only page): -HV_EFAULT, nothing
    written, one fixed-up fault each, the guest carries on."""
    return faults_beside_companion(build, "max", "uaccess-faults")


@system_test
def test_uaccess_bad_buffers_are_efault_without_smap(build):
    """The same on a CPU without SMAP: the copies run without stac/clac (the
    boot-time patch leaves their NOPs) and the range checks alone keep guest
    pointers out of hv."""
    problems, r = faults_beside_companion(build, NO_SMAP, "uaccess-faults-nosmap")
    expect(problems, "SMAP absent" in r.log, "the boot had SMAP after all")
    return problems, r


STACKS = {
    "uaccess-stack-unmapped": r"fault while delivering #UD: the kernel stack is not writable at 0x51ffffffffe8$",
    "uaccess-stack-readonly": r"fault while delivering #UD: the kernel stack is not writable at 0x51ffffffffe8$",
}


@system_test
def test_uaccess_kernel_stack_running_off_its_mapping_ends_the_guest(build):
    """A #UD bounced onto a kernel stack 16 bytes above the bottom of its
    page, the page below unmapped or read-only: the frame write faults in
    hv, is fixed up, and the guest ends with the named report; hv does not
    panic and the companion finishes."""
    images = [(test_guest(build, "uaccess-stack"), n) for n in STACKS]
    images.append(test_guest(build, "companion"))
    r = run(build, Boot(images=images), "uaccess-stack")
    problems = []
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, r.status == 1, f"exit status {r.status}, expected 1 (guests failed)")
    companion_finished(problems, r.log)
    for name, want in STACKS.items():
        reason = ended_line(r.log, name)
        expect(problems, reason is not None, f"{name}: no end line")
        if reason is not None:
            expect(problems, re.search(want, reason), f"{name}: '{reason}', expected /{want}/")
        expect(problems, not any("FAILED" in l for l in guest_lines(r.log, name)),
               f"{name} survived what should have ended it")
    n = fixups(problems, r.log)
    expect(problems, n is None or n == len(STACKS),
           f"hv fixed up {n} fault(s) on guest memory, expected one per guest ({len(STACKS)})")
    return problems, r


@system_test
def test_uaccess_fault_outside_the_table_still_panics(build):
    """hv.cfg debug_fault: hv writes to 0x10, a lower-half address like a
    guest's, at an instruction the exception table does not list: that is a
    hypervisor bug and must still be the panic report, never a fixup."""
    r = run(build, Boot(runner_cfg=["debug_fault = yes"]), "uaccess-panic")
    problems = []
    expect(problems, r.status == 3, f"exit status {r.status}, expected 3 (panic)")
    for needle in ["hv: error: PANIC: #PF (page fault, vector 14) in the hypervisor",
                   "CR2 0x0000000000000010", "debug_fault+0x"]:
        expect(problems, needle in r.log, f"panic report lacks '{needle}'")
    expect(problems, not FIXUPS.search(r.log) or fixups(problems, r.log) == 0,
           "a fault outside the exception table was fixed up")
    panic_report_judged(problems, r)  # cases.py's panic report, on this boot
    return problems, r


RACE_REPORT = (r"fault while delivering #(UD|PF): the kernel stack is not writable at "
               r"0x520000000[0-9a-f]{3}$")


@system_test
def test_uaccess_stack_unmapped_by_another_vcpu_ends_the_guest(build):
    """SMP 2, the guest's two vCPUs on two CPUs (tests/guests/stack_race.c):
    vCPU 0 takes #UD after #UD on a stack page vCPU 1 unmaps once. Wherever
    the unmap lands (before a delivery, between two of the lean path's
    stores, in the handler, in its HV_CALL_IRET) the guest ends with the
    named delivery report; hv does not panic."""
    r = run(build, Boot(smp=2, images=[test_guest(build, "stack-race")],
                        cfg="[guest stack-race]\ncpus = 0-1\n"), "stack-race")
    problems = []
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, r.status == 1, f"exit status {r.status}, expected 1 (the guest failed)")
    lines = guest_lines(r.log, "stack-race")
    # The delivery that ends it wrote onto the unmapped page: a fixed-up
    # fault (two when the unmap caught the handler's HV_CALL_IRET first).
    n = fixups(problems, r.log)
    expect(problems, n is None or n >= 1, "hv fixed up no fault on the unmapped stack page")
    reason = ended_line(r.log, "stack-race")
    expect(problems, reason is not None and re.search(RACE_REPORT, reason),
           f"stack-race ended '{reason}', expected /{RACE_REPORT}/")
    expect(problems, not any("FAILED" in l for l in lines), "stack-race survived or failed to set up")
    return problems, r
