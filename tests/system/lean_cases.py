"""Lean delivery (issue 12): hv no longer walks the guest's page tables to
check a handler before each delivery; the guest's own fetch of the
handler's first instruction finds an unmapped or non-executable handler,
and hv must report that #PF as the delivery's failure, with the report an
unmapped handler always had. And the flags an HV_CALL_IRET frame asks for
are sanitised as they are taken, not only as the last step of the return:
an upcall entered on that return copies them into its own frame."""

import re

from harness import Boot, run
from judge import ended_line, expect, guest_lines, self_checked, test_guest
from registry import system_test

ENDS = {
    # name: what hv's end line must say
    "lean-nx-ud": r"fault while delivering #UD: the handler is not mapped executable at 0x",
    "lean-nx-ud-pf": r"fault while delivering #UD: the handler is not mapped executable at 0x",
    "lean-unmapped-upcall":
        r"fault while delivering an event upcall: the handler is not mapped executable at 0x",
}


@system_test
def test_lean_handler_unusable_after_registration(build):
    images = [(test_guest(build, "lean-deliver"), n) for n in ENDS]
    images.append((test_guest(build, "lean-deliver"), "lean-upcall-flags"))
    r = run(build, Boot(images=images), "leandeliver")
    problems = []
    expect(problems, r.status == 1, f"exit status {r.status}, expected 1 (guests failed)")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    for name, want in ENDS.items():
        reason = ended_line(r.log, name)
        expect(problems, reason is not None, f"{name}: no end line")
        if reason is not None:
            expect(problems, re.search(want, reason), f"{name}: '{reason}', expected /{want}/")
        lines = guest_lines(r.log, name)
        expect(problems, not any("FAILED" in l for l in lines),
               f"{name} survived what should have ended it")
        # The first delivery worked: the handler was fine when registered.
        expect(problems, any("delivered 1 time" in l or "entered 1 time" in l for l in lines),
               f"{name}: the first delivery did not happen once")
    for l in guest_lines(r.log, "lean-nx-ud-pf"):
        expect(problems, "lean_pf" not in l, "the #PF handler ran")
    self_checked(problems, r.log, "lean-upcall-flags")
    return problems, r
