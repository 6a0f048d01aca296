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
