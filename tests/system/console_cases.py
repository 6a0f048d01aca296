"""System tests of the console (issue 10, attack 6): a guest's output is
charged in output bytes, buffered per guest and drained by hv outside the
hypercall; a flood is refused at the documented rate, its excess dropped from
its own buffer and reported, and the guest beside it keeps its share."""

import re

from harness import Boot, run
from judge import companion, companion_within_share, ended_line, exited, expect, test_guest
from registry import system_test

# docs/abi.md, HV_CALL_CONSOLE_WRITE: output bytes (label, text, CR LF).
CONSOLE_BURST = 2048
CONSOLE_RATE = 10080          # bytes a second, 7/8 of 115200 baud
LONG_CALL_US = 500            # under -icount: no console call may hold hv anywhere near this
COMPANION_LONGEST_WAIT_US = 60000


def summary_row(log, guest):
    m = re.search(rf"^hv:   {re.escape(guest)} +(.*)$", log, re.M)
    return m.group(1) if m else None


@system_test
def test_console_flood_beside_companion(build):
    # Two flooding guests and the companion: the flooders write far more than
    # the serial line carries, each call is cheap, the companion keeps its
    # share, and each flooder's summary row says how much of its output was
    # dropped.
    flood = test_guest(build, "console-flood")
    r = run(build, Boot(images=[(flood, "console-flood-a"), (flood, "console-flood-b"),
                                test_guest(build, "companion")], icount=True, timeout=240,
                       # One CPU, shared with the companion. At SMP N under -icount a
                       # call's time would include other CPUs' turns (QEMU 7.2 runs
                       # them one at a time): 29-51 ms at SMP 4, the same each run.
                       smp=1),
            "console-flood")
    problems = []
    expect(problems, r.status == 0, f"exit status {r.status}")
    expect(problems, "PANIC" not in r.log, "hv panicked")
    companion_within_share(problems, r.log, 1 / 3)
    c = companion(r.log)
    if c:
        expect(problems, c[2] <= COMPANION_LONGEST_WAIT_US,
               f"the companion waited {c[2]} us at once (at most {COMPANION_LONGEST_WAIT_US})")
    for name in ("console-flood-a", "console-flood-b"):
        expect(problems, exited(r.log, name), f"{name} did not exit with status 0 "
               f"({ended_line(r.log, name)})")
        m = re.search(rf"^\[{name}\] flood {name}: (\d+) calls, (\d+) bytes taken, (\d+) output "
                      rf"bytes in (\d+) ms, (\d+) refused, longest call (\d+) us", r.log, re.M)
        if not m:
            problems.append(f"{name} did not report its flood")
            continue
        calls, taken, output, ms, refused, longest = (int(x) for x in m.groups())
        allowed = CONSOLE_BURST + CONSOLE_RATE * (ms + 1) // 1000
        expect(problems, output <= allowed,
               f"{name} was let write {output} output bytes in {ms} ms (rate allows {allowed})")
        expect(problems, output >= CONSOLE_RATE * ms // 1000 // 4,
               f"{name} wrote only {output} output bytes in {ms} ms: the flood did not flood")
        expect(problems, refused > 0, f"{name} was never refused with -HV_EAGAIN")
        expect(problems, longest <= LONG_CALL_US,
               f"one console call of {name} took {longest} us (at most {LONG_CALL_US})")
        row = summary_row(r.log, name) or ""
        d = re.search(r"dropped (\d+) bytes", row)
        expect(problems, d and int(d.group(1)) > 0,
               f"the summary row of {name} reports no dropped bytes: {row!r}")
        expect(problems, re.search(rf"^hv: warning: guest {name}: console output dropped", r.log,
                                   re.M), f"no notice that {name}'s output is being dropped")
        # Whatever was dropped, every line that did go out is whole.
        # (The last long line may be cut short when the flood's time is up.)
        lines = [l[len(name) + 3:] for l in r.log.splitlines() if l.startswith(f"[{name}] ")]
        bad = [l for l in lines if not re.fullmatch(r"x{0,150}|flood .*", l)]
        expect(problems, not bad, f"{name} has mangled lines, e.g. {bad[:1]}")
    return problems, r


@system_test
def test_console_charges_label_bytes(build):
    # 256 newlines are 256 lines, each paying for its label and CR LF: hv
    # refuses them (partial count or -HV_EAGAIN) far sooner than 256 letters.
    r = run(build, Boot(images=[test_guest(build, "console-charge")]), "console-charge")
    problems = []
    expect(problems, exited(r.log, "console-charge"), "console-charge did not exit with status 0")
    m = re.search(r"^\[console-charge\] charge: letters (\d+), newlines (\d+), label (\d+)$",
                  r.log, re.M)
    if not m:
        problems.append("console-charge did not report")
        return problems, r
    letters, newlines, label = (int(x) for x in m.groups())
    line_cost = label + 2
    # The burst, plus what the allowance earns while the loop runs (a little).
    slack = CONSOLE_RATE // 10
    expect(problems, newlines <= (CONSOLE_BURST + slack) // line_cost,
           f"{newlines} newlines taken from a full allowance: each costs {line_cost} output "
           f"bytes, so at most {(CONSOLE_BURST + slack) // line_cost}")
    expect(problems, newlines >= CONSOLE_BURST // line_cost - 1,
           f"only {newlines} newlines taken from a full allowance of {CONSOLE_BURST}")
    expect(problems, letters >= (CONSOLE_BURST - 2 * line_cost) * 160 // (160 + line_cost),
           f"only {letters} letters taken from a full allowance of {CONSOLE_BURST}")
    expect(problems, letters <= CONSOLE_BURST + slack,
           f"{letters} letters taken from a full allowance of {CONSOLE_BURST}")
    expect(problems, newlines * 4 < letters,
           f"newlines ({newlines}) were not charged more than letters ({letters})")
    return problems, r
