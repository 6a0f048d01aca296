"""The attack review of the HV_CALL_IRET fast path (vcpu/syscall_entry.S
`iret_fast`): random frames, good and hostile, beside the companion, with
the fast path and with hv.cfg `debug_slow_iret = yes` (every return in
vcpu_iret). The two boots must give the same answers frame by frame (the
guest prints a digest of them every 64 returns), the companion must finish
either way, and hv's count of returns left to C must show that the fast
path took most of the good ones (a path that refused everything would pass
the comparison)."""

import re
import shutil

from fast_cases import SLOW, c_path_count
from harness import Boot, run
from judge import exited, expect, guest_lines, self_checked, test_guest
from registry import system_test


def fuzz_both_paths(build, cfg, tag):
    name = "review-iret-fuzz"
    images = [test_guest(build, name), test_guest(build, "companion")]
    fast = run(build, Boot(images=images, runner_cfg=cfg), f"{tag}-fast")
    slow = run(build, Boot(images=images, runner_cfg=cfg + SLOW), f"{tag}-slow")
    problems = []
    if cfg:
        for r, t in ((fast, "fast"), (slow, "slow")):
            expect(problems, "entry paths: page-table isolation on" in r.log,
                   f"{t}: the boot with mitigations on ran without page-table isolation")
    expect(problems, "debug: every HV_CALL_IRET takes the C path" in slow.log,
           "the slow boot did not turn the fast path off")
    a = self_checked(problems, fast.log, name)
    b = self_checked(problems, slow.log, name)
    digests = [l for l in a if "digest" in l]
    expect(problems, len(digests) == 16, f"{name}: {len(digests)} digest lines, not 16")
    if a != b:
        diff = [(x, y) for x, y in zip(a, b) if x != y][:4]
        problems.append(f"{name}: the fast path and the C path answered differently "
                        f"(first differences: {diff})")
    for r, tag in ((fast, "fast"), (slow, "slow")):
        expect(problems, exited(r.log, "companion"), f"{tag}: the companion did not exit 0")
    n_fast = c_path_count(problems, fast.log, "fast")
    n_slow = c_path_count(problems, slow.log, "slow")
    counts = [m.groups() for l in a if (m := re.match(rf"{name}: (\d+) taken, (\d+) einval, "
                                                     rf"(\d+) efault$", l))]
    expect(problems, len(counts) == 1, f"{name} did not say how its returns went")
    if counts and n_fast is not None and n_slow is not None:
        taken, einval, efault = (int(x) for x in counts[0])
        refused = einval + efault
        expect(problems, n_slow == taken + refused,
               f"with debug_slow_iret hv counted {n_slow} returns in C, the guest made "
               f"{taken + refused}")
        expect(problems, refused <= n_fast < refused + taken // 2,
               f"with the fast path hv left {n_fast} returns to C: {refused} refused, "
               f"{taken} taken (most taken ones must be the fast path's)")
    if not problems:
        shutil.rmtree(slow.workdir, ignore_errors=True)
    return problems, fast


@system_test
def test_review_iret_fuzz_same_answers_both_paths(build):
    """tests/guests/review_iret_fuzz.c: 1024 random frames (CS, SS, flags
    word, rip, rsp from good and hostile palettes, random rflags, on page A,
    astride its end or on the unmapped page B): the same digests with and
    without the fast path; the companion exits 0 in both boots."""
    return fuzz_both_paths(build, [], "reviewfuzz")


@system_test
def test_review_iret_fuzz_mitigations_on(build):
    """The same with `mitigations = on` (page-table isolation: the fast
    path's CR3 check and the exit's CR3 switch, VERW, cleared registers)."""
    return fuzz_both_paths(build, ["mitigations = on"], "reviewfuzzmit")
