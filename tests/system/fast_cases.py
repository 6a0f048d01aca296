"""The HV_CALL_IRET fast path (issue 12; vcpu/syscall_entry.S `iret_fast`):
it takes a frame only where vcpu_iret (vcpu/deliver.c) would take it, with
the same effects, and leaves everything else to that C path before any
effect. Each test boots the same guests twice, with the fast path and with
hv.cfg `debug_slow_iret = yes` (every HV_CALL_IRET in C), and requires the
same lines from both: the same answer for the same frames, hostile ones
included. hv's count of returns the fast path left to C
(`hv: iret: N HV_CALL_IRET(s) left to the C path by the fast path`) shows
which path ran."""

import re
import shutil

from harness import Boot, run
from judge import expect, guest_lines, self_checked, test_guest
from registry import system_test

C_PATH = re.compile(r"^hv: iret: (\d+) HV_CALL_IRET\(s\) left to the C path by the fast path$",
                    re.M)
SLOW = ["debug_slow_iret = yes"]


def c_path_count(problems, log, tag):
    m = C_PATH.search(log)
    if not m:
        problems.append(f"{tag}: hv did not report its HV_CALL_IRET count (hv: iret: ...)")
        return None
    return int(m.group(1))


def both_ways(build, names, tag):
    """Boots `names` with the fast path and without; returns (problems,
    fast result, slow result, fast count, slow count)."""
    images = [test_guest(build, n) for n in names]
    fast = run(build, Boot(images=images), f"{tag}-fast")
    slow = run(build, Boot(images=images, runner_cfg=SLOW), f"{tag}-slow")
    problems = []
    expect(problems, "debug: every HV_CALL_IRET takes the C path" in slow.log,
           "the slow boot did not turn the fast path off")
    for name in names:
        a = self_checked(problems, fast.log, name)
        b = self_checked(problems, slow.log, name)
        if a != b:
            diff = [(x, y) for x, y in zip(a, b) if x != y][:4]
            problems.append(f"{name}: the fast path and the C path answered differently "
                            f"({len(a)} and {len(b)} lines; first differences: {diff})")
    counts = (c_path_count(problems, fast.log, "fast"), c_path_count(problems, slow.log, "slow"))
    if not problems:
        shutil.rmtree(slow.workdir, ignore_errors=True)  # the runner removes the fast one's
    return (problems, fast, slow) + counts


@system_test
def test_fast_iret_same_answers_as_the_c_path(build):
    """tests/guests/fast_iret.c: good frames (rax, rcx, r11, rflags, the
    event mask, one hv entry each) and hostile ones (non-canonical and
    upper-half rip/rsp, a flags word, hv's selectors, IOPL/NT/RF/VM/AC, a
    frame on an unmapped page, frames running into one, a frame past the
    lower half, user mode without a user space): the same lines either
    way. The fast path took every good return (hv left exactly the refused
    ones to C); the slow boot ran all of them in C."""
    name = "fast-iret"
    problems, fast, slow, n_fast, n_slow = both_ways(build, [name], "fastiret")
    counts = [m.groups() for l in guest_lines(fast.log, name)
              if (m := re.match(rf"{name}: (\d+) returns taken, (\d+) refused$", l))]
    expect(problems, len(counts) == 1, f"{name} did not say how many returns it made")
    if counts and n_fast is not None and n_slow is not None:
        taken, refused = (int(x) for x in counts[0])
        expect(problems, taken > 0 and refused > 0, f"{name}: {taken} taken, {refused} refused")
        expect(problems, n_fast == refused,
               f"with the fast path hv left {n_fast} returns to C; the guest had {refused} "
               f"refused (every taken one must be the fast path's)")
        expect(problems, n_slow == taken + refused,
               f"with debug_slow_iret hv counted {n_slow} returns in C, the guest made "
               f"{taken + refused}")
    return problems, fast


def pv_guests_unchanged(build, names, tag):
    problems, fast, slow, n_fast, n_slow = both_ways(build, names, tag)
    if n_fast is not None and n_slow is not None:
        expect(problems, n_fast < n_slow,
               f"the fast path left {n_fast} returns to C, no fewer than the {n_slow} of the "
               f"C path alone")
    return problems, fast


# The paravirtual CPU's own test guests that return through HV_CALL_IRET
# most, each boot's guests few enough that the console carries all their
# lines (a guest writing faster than its share loses lines, differently
# from boot to boot).

@system_test
def test_fast_iret_pv_iret_priv_unchanged(build):
    """pv-iret-priv (frames asking for privilege, entry points at hostile
    addresses): every check passes and prints the same either way."""
    return pv_guests_unchanged(build, ["pv-iret-priv"], "fastpriv")


@system_test
def test_fast_iret_pv_user_and_ev_mask_unchanged(build):
    """pv-user (to guest user mode and back: exceptions and system calls
    from it) and ev-mask (an HV_CALL_IRET unmasking events that wait enters
    the upcall): every check passes and prints the same either way."""
    return pv_guests_unchanged(build, ["pv-user", "ev-mask"], "fastuser")
