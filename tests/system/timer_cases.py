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
    # Not under -icount: the verdict is the text, not a time. The guest's
    # 300 ms wait fills its console allowance; a loaded host only stretches
    # the wait (more refill), so every call still takes all its bytes.
    r = run(build, Boot(images=[test_guest(build, "console-lines")]), "console-lines")
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


# Alone under -icount a timer's upcall comes ~12 us after its deadline
# (bench timer_deadline_late, plus the SDK's event dispatch here): 50 us is
# a bound that only a second interrupt round or a lost re-arm would break.
NEAR_BOUND_NS = 50_000


@system_test
def test_timer_edges_never_early_never_lost(build):
    r = run(build, Boot(images=[test_guest(build, "timer-edges")], icount=True,
                        runner_cfg=["time_limit_ms = 60000"]), "timer-edges")
    problems = []
    lines = guest_lines(r.log, "timer-edges")
    failed = [l for l in lines if "FAILED" in l]
    expect(problems, not failed, f"failing checks: {failed[:8]}")
    expect(problems, any(re.match(r"timer-edges: all \d+ checks passed", l) for l in lines),
           f"timer-edges did not finish its checks: {lines[-3:]}")
    expect(problems, exited(r.log, "timer-edges"), "timer-edges did not exit with status 0")
    expect(problems, "PANIC" not in r.log, "hv panicked")
    got = {}
    for l in lines:
        m = re.match(r"timer-edges: (near|far): timer-edges: lateness over (\d+) events: "
                     r"min (\d+) ns, max (\d+) ns, mean (\d+) ns", l)
        if m:
            got[m.group(1)] = tuple(int(x) for x in m.groups()[1:])
    expect(problems, "near" in got and got["near"][0] == 200,
           f"no lateness line for the 200 near timers: {got.get('near')}")
    expect(problems, "far" in got and got["far"][0] == 1, f"no lateness line for the far timer")
    for k in got:
        n, lo, hi, mean = got[k]
        print(f"  timer-edges: {k}: {n} timers, lateness min {lo} ns, max {hi} ns, mean {mean} ns")
        expect(problems, hi <= NEAR_BOUND_NS,
               f"a {k} timer came {hi} ns late (bound {NEAR_BOUND_NS} ns)")
    return problems, r
