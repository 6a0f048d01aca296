"""System tests of the Xen personality's M2 (docs/xen-personality.md):
guest user mode, the syscall and failsafe callbacks, Xen's #PF error code,
Xen's selectors after a hypercall, `int n` from user mode, grant tables."""

from judge import ended_line, expect, guest_lines
from xen_cases import checks_all_ok, no_panic_no_leak, xen_debug_boot, xen_shared_boot


def user_checks(problems, r):
    oks = checks_all_ok(problems, r, "xen-user", "xen-user: all")
    expect(problems, len(oks) >= 30, f"only {len(oks)} checks ran")
    # Last, an iret to user mode with no user root ends it, alone.
    expect(problems, "xen-user: still running" not in guest_lines(r.log, "xen-user"),
           "the iret to user mode without a user root returned")
    expect(problems, ended_line(r.log, "xen-user") == "Xen iret to user mode: no user root",
           f"xen-user ended: {ended_line(r.log, 'xen-user')}")
    no_panic_no_leak(problems, r)


def test_xen_user_mode_callbacks_grants(build):  # in test_xen_guests_in_one_boot
    """Our own Xen-ABI guest runs on Xen's selectors from its first
    instruction and after 50 yields that switch it out and in (vcpu_load
    gave it hv's 0x23/0x1b before), and runs user mode as a PV kernel does: iret to
    0xe033 with its root as the user root, user mode on Xen's selectors,
    `syscall` to the syscall callback (its frame, DF cleared, events
    masked) and back with VGCF_in_syscall, a hypercall stub called from
    user mode landing in the callback and not in hv, `int $0x20` through a
    DPL-3 entry to kernel mode on the stack_switch stack, `int $0x21`
    through a DPL-0 entry a #GP with error code 0x10a, `mov %cr3` not
    emulated in user mode, #PF with the U bit from user mode and without
    it from kernel mode, no syscall callback: #UD at the syscall; after a
    hypercall the kernel runs on 0xe033/0xe02b; the grant table (setup_table
    of one frame, its special mfn mapped, query_size, refusals); event
    channel ports (alloc_unbound 2..255 then -ENOSPC, send on an unbound
    port, close and reuse, refusals, init_control -EINVAL/-ENOSYS); an iret
    with CS 0x30 enters the failsafe callback; and an iret to user mode
    after NEW_USER_BASEPTR 0 ends the guest, while a companion runs on."""
    r = xen_shared_boot(build, "xen-user")
    problems = []
    user_checks(problems, r)
    return problems, r


def test_xen_bookkeeping_charged_not_hv_heap(build):  # xen_shared_cases.py
    """A Xen image whose start-of-day region is near the most hv builds
    (60 MiB of bss: ~16,000 pages, a 128 KiB p2m) costs hv's own heap only
    its vCPU: the p2m and the Xen bookkeeping are frames charged to the
    guest's allowance (review finding 3; before, ~132 KiB came from hv's
    heap per such guest, where many could exhaust it). It runs to its ud2,
    the companion runs, nothing leaks."""
    r = xen_debug_boot(build)
    problems = []
    built = [l for l in r.log.splitlines() if "guest xr-big: built:" in l]
    expect(problems, built, "no build line for xr-big")
    if built:
        heap = int(built[0].split("hv's heap +")[1].split()[0])
        frames = int(built[0].split("built: ")[1].split()[0])
        expect(problems, heap < 16384, f"the build took {heap} bytes of hv's heap")
        expect(problems, frames > 16384 + 32, f"only {frames} frames charged")
    end = ended_line(r.log, "xr-big") or ""
    expect(problems, end.startswith("#UD (invalid opcode)"), f"xr-big did not run to its ud2: {end}")
    no_panic_no_leak(problems, r)
    return problems, r


def test_xen_user_hostile_round_trips_then_no_kernel_stack(build):  # in test_xen_guests_in_one_boot
    """A hostile Xen guest against M2's calls, beside a companion: 3000
    user-mode round trips (iret to user, syscall to its callback and back,
    int $0x20 home), int from user mode on 13 vectors without a DPL-3
    entry (each a #GP), grant setup_table 3000 times (one frame), 3000
    alloc_unbound/close pairs, a multicall of 512 multicalls of itself
    (each -EINVAL), a multicall over its read-only page tables (-EFAULT),
    3000 irets with hv's own selectors 0x23/0x1b
    (the failsafe callback each time, never a return on hv's selectors);
    then its stack_switch stack in its own read-only page tables and a
    syscall from user mode: it ends with the reason, alone, and hv's leak
    check finds every frame back."""
    r = xen_shared_boot(build, "xen-user-hostile")
    problems = []
    checks_all_ok(problems, r, "xen-user-hostile", "xen-user-hostile: all")
    expect(problems, "xen-user-hostile: still running" not in guest_lines(r.log, "xen-user-hostile"),
           "the undeliverable syscall returned")
    expect(problems, ended_line(r.log, "xen-user-hostile") ==
           "Xen syscall callback: no kernel stack to take it",
           f"xen-user-hostile ended: {ended_line(r.log, 'xen-user-hostile')}")
    no_panic_no_leak(problems, r)
    return problems, r
