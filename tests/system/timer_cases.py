"""System tests of issue 12's console and timer paths (the timer stream):
a guest's console line written straight into its buffer must still be
sanitised, labelled and split as docs/abi.md says; a guest's timer fires
at once for a deadline already past and never early for a far one."""

import re

from harness import Boot, run
from judge import exited, expect, guest_lines, test_guest
from registry import system_test


@system_test
def test_console_lines_sanitised_labelled_split(build):
    r = run(build, Boot(images=[test_guest(build, "console-lines")], icount=True),
            "console-lines")
    problems = []
    expect(problems, r.status == 0, f"exit status {r.status}")
    expect(problems, exited(r.log, "console-lines"), "console-lines did not exit with status 0")
    got = guest_lines(r.log, "console-lines")
    # The empty line is the label alone; guest_lines needs the space after it.
    empty = sum(1 for l in r.log.splitlines() if l in ("[console-lines]", "[console-lines] "))
    want = [
        "case 1: esc?[2J bell? cr?[companion] forged del? hi?? tab end",
        "case 2: short",
        "a" * 160,
        "b" * 160,
        "b",
        "case 3: first",
        "case 3: second?",
        "case 4: open and closed",
        "c" * 160,
        "c" * 40,
        "case 5: the last",
        "lines: all 11 calls took their bytes",
    ]
    got = [l for l in got if l]
    expect(problems, got == want, "the lines differ from what the ABI says:\n"
           + "\n".join(f"  got  {g!r}\n  want {w!r}" for g, w in zip(got, want) if g != w)
           + (f"\n  got {len(got)} lines, want {len(want)}" if len(got) != len(want) else ""))
    expect(problems, empty == 1, f"{empty} empty labelled lines, want 1")
    # Nothing a guest sends may reach the terminal raw.
    raw = [l for l in r.log.splitlines() if l.startswith("[console-lines]")
           and re.search(r"[\x00-\x08\x0b-\x1f\x7f]", l)]
    expect(problems, not raw, f"control characters reached the serial line: {raw[:1]!r}")
    return problems, r
