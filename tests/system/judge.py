"""Helpers every system test uses to read a boot's log."""

import os
import re


def test_guest(build, name):
    return os.path.join(build, "test-guests", name)


def expect(problems, cond, what):
    if not cond:
        problems.append(what)


def exited(log, guest, status=0):
    return f"hv: guest {guest} exited with status {status}" in log


def guest_lines(log, guest):
    prefix = f"[{guest}] "
    return [l[len(prefix):] for l in log.splitlines() if l.startswith(prefix)]


def ended_line(log, guest):
    m = re.search(rf"^hv: error: guest {re.escape(guest)} ended: (.*)$", log, re.M)
    return m.group(1) if m else None


def companion(log, name="companion"):
    """What tests/guests/companion.c reported: (cpu_ms, wall_ms, longest_wait_us),
    or None if it never finished its work."""
    m = re.search(rf"^\[{re.escape(name)}\] companion {re.escape(name)}: (\d+) ms of CPU in "
                  rf"(\d+) ms of wall time, longest wait (\d+) us$", log, re.M)
    return tuple(int(x) for x in m.groups()) if m else None


def companion_within_share(problems, log, share, name="companion", slack=1.25):
    """The companion finished, exited 0 and needed no more wall time than its
    share of the CPU allows (cpu / share), with `slack` for hv's own time and
    the boot."""
    c = companion(log, name)
    if c is None:
        problems.append(f"the companion {name} did not finish its work")
        return
    expect(problems, exited(log, name), f"the companion {name} did not exit with status 0")
    cpu_ms, wall_ms, wait_us = c
    limit = cpu_ms / share * slack
    expect(problems, wall_ms <= limit,
           f"the companion {name} needed {wall_ms} ms of wall time for {cpu_ms} ms of CPU; "
           f"its share {share:.2f} allows {limit:.0f} ms")


def self_checked(problems, log, name, reports_as=None):
    """A self-checking test guest's verdict: no check FAILED, it printed
    `NAME: all N checks passed` (NAME = reports_as, default its guest name),
    it exited 0, and hv did not panic. Returns the guest's lines."""
    lines = guest_lines(log, name)
    prefix = re.escape(reports_as or name)
    failed = [l for l in lines if "FAILED" in l]
    expect(problems, not failed, f"{name}: failing checks: {failed[:8]}")
    expect(problems, any(re.match(rf"{prefix}: all \d+ checks passed", l) for l in lines),
           f"{name} did not finish its checks: {lines[-3:]}")
    expect(problems, exited(log, name), f"{name} did not exit 0: {ended_line(log, name)}")
    expect(problems, "PANIC" not in log, "the hypervisor panicked")
    return lines
