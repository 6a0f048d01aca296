"""Adversarial system tests of issue 10 (stream ident): guest identity, the
in-guest hypercall fuzzer, event ports not the attacker's own, trap and
callback registration at hostile addresses, HV_CALL_IRET frames with
privileged selectors and flags. Each attack guest (tests/guests/) boots
beside the well-behaved companion and is judged on: the attack fails with
the documented error or the attacker is stopped with a named report, hv
never panics or hangs, the companion finishes within its share."""

import re

from harness import Boot, run
from judge import (self_checked, companion_within_share, ended_line, exited, expect, guest_lines,
                   test_guest)
from registry import system_test

# Two guests of equal weight that both want the CPU: half each.
HALF = 0.5


def no_panic(problems, r):
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    expect(problems, r.status in (0, 1), f"hv ended with status {r.status} (a hang or a crash)")


# --- attack 8: names decide access ------------------------------------------------------

@system_test
def test_impostor_gets_no_name_and_no_region(build):
    """An image whose note says "companion", whose file sorts before the real
    companion's, beside a region hv.cfg grants the companion read-write; a
    third file that hv.cfg names "companion" too must be rejected."""
    companion = test_guest(build, "companion")
    cfg = ("[shm secret]\nsize = 4K\nmap = companion:rw\n"
           "[guest zzz-copy]\nname = companion\n")
    r = run(build, Boot(images=[(test_guest(build, "impostor"), "aaa-impostor"), companion,
                                (companion, "zzz-copy")], cfg=cfg), "impostor")
    problems = []
    no_panic(problems, r)
    self_checked(problems, r.log, "aaa-impostor", "impostor")
    expect(problems, "impostor: name aaa-impostor, shared regions: none"
           in guest_lines(r.log, "aaa-impostor"), "the impostor did not report its own name and no region")
    expect(problems, re.search(r"^hv: image aaa-impostor: its note asks for the name 'companion', "
                               r"ignored: the name is aaa-impostor \(from the file name\)$",
                               r.log, re.M), "no info line about the ignored note name")
    expect(problems, re.search(r"^hv: guest companion: companion, ", r.log, re.M),
           "the real companion was not started under its own name from its own file")
    expect(problems, "companion-2" not in r.log, "a guest was renamed")
    expect(problems, re.search(r"^hv: error: image zzz-copy rejected: guest name companion "
                               r"\(from hv.cfg\) is already the name of image companion$",
                               r.log, re.M), "the second claim of the name was not rejected, "
                                             "naming both files")
    expect(problems, "hv: shm secret: 4 KiB shared by 1 guest(s)" in r.log,
           "the region was not set up for exactly one guest")
    expect(problems, r.status == 1, f"exit status {r.status}, expected 1 (an image rejected)")
    companion_within_share(problems, r.log, HALF)
    return problems, r


# --- the in-guest hypercall fuzzer ------------------------------------------------------

FUZZ_SHORT_CALLS = 30000


def fuzz_verdict(problems, r, name, calls):
    lines = self_checked(problems, r.log, name)
    m = [l for l in lines if re.match(rf"{re.escape(name)}: seed \d+, {calls} calls, mode normal$", l)]
    expect(problems, m, f"{name} did not print its seed")
    expect(problems, any(l.endswith(f"checks passed ({calls} calls)") for l in lines),
           f"{name} did not make its {calls} calls")


@system_test
def test_hypercall_fuzzer_short_run(build):
    """tests/guests/hcall_fuzz.c, tens of thousands of calls beside the
    companion (make fuzz runs a million). Memory calls name at most 512
    pages (-m512) here: on an hv whose MEM_MAP/UNMAP/PROTECT walk every page
    named (issue 10, attack 1, the mem stream's fix) one call of 2^31 pages
    holds hv for minutes, which make fuzz shows (it runs uncapped). Drop the
    cap once those calls are bounded."""
    name = f"hcall-fuzz-n{FUZZ_SHORT_CALLS}"
    r = run(build, Boot(images=[(test_guest(build, "hcall-fuzz"), name),
                                test_guest(build, "companion")],
                        runner_cfg=["time_limit_ms = 100000"], timeout=150), "fuzz")
    problems = []
    no_panic(problems, r)
    fuzz_verdict(problems, r, name, FUZZ_SHORT_CALLS)
    companion_within_share(problems, r.log, HALF)
    return problems, r


@system_test
def test_hypercall_fuzzer_sacrificial_run_is_ended(build):
    """The fuzzer's sacrificial mode also makes EXIT, VCPU_EXIT, BLOCK and
    IRET with random frames: it must be ended with a report (its own exit,
    a fault, or the time limit), hv must neither panic nor hang."""
    name = "hcall-fuzz-s829191115-m512-end"
    r = run(build, Boot(images=[(test_guest(build, "hcall-fuzz"), name),
                                test_guest(build, "companion")],
                        runner_cfg=["time_limit_ms = 3000"], timeout=60), "fuzzend")
    problems = []
    no_panic(problems, r)
    how = ended_line(r.log, name)
    expect(problems, how or re.search(rf"^hv: guest {re.escape(name)} exited with status", r.log,
                                      re.M), f"{name} was not ended with a named report")
    expect(problems, not [l for l in guest_lines(r.log, name) if "FAILED" in l],
           f"{name} found an undocumented answer")
    companion_within_share(problems, r.log, HALF)
    return problems, r


# --- iret frames and registration at hostile addresses ----------------------------------

@system_test
def test_iret_frames_and_registration_cannot_gain_privilege(build):
    """tests/guests/pv_iret_priv.c beside the companion: HV_CALL_IRET frames
    with ring-0 and hv's selectors, null SS, IOPL 3, NT, RF, VM, AC are
    refused or sanitised (checked from inside after the return), and every
    entry point refuses hv's halves and non-canonical addresses."""
    r = run(build, Boot(images=[test_guest(build, "pv-iret-priv"), test_guest(build, "companion")]),
            "ivetpriv")
    problems = []
    no_panic(problems, r)
    self_checked(problems, r.log, "pv-iret-priv")
    companion_within_share(problems, r.log, HALF)
    return problems, r


# --- event ports not the attacker's own -------------------------------------------------

@system_test
def test_event_ports_not_its_own(build):
    """tests/guests/ev_foreign.c as ev-thief beside ev-owner and ev-grantee
    (which complete an exchange through the port set aside for the grantee)
    and the companion."""
    image = test_guest(build, "ev-foreign")
    cfg = "[shm grant]\nsize = 4K\nmap = ev-owner:rw ev-grantee:ro\n"
    r = run(build, Boot(images=[(image, "ev-thief"), (image, "ev-owner"), (image, "ev-grantee"),
                                test_guest(build, "companion")], cfg=cfg,
                        runner_cfg=["time_limit_ms = 60000"], timeout=150), "evforeign")
    problems = []
    no_panic(problems, r)
    for g in ["ev-thief", "ev-owner", "ev-grantee"]:
        self_checked(problems, r.log, g)
    # Four guests of equal weight: a quarter each while all want the CPU.
    companion_within_share(problems, r.log, 0.25)
    return problems, r


@system_test
def test_time_limit_stops_a_guest_that_only_sleeps(build):
    """Found by the sacrificial fuzzer: a guest whose vCPUs all sleep with
    nothing to wake them kept hv idle for ever once the companion had
    ended (the time limit was checked only when something ran)."""
    r = run(build, Boot(images=[test_guest(build, "sleeper"), test_guest(build, "companion")],
                        runner_cfg=["time_limit_ms = 3000"], timeout=60), "sleeper")
    problems = []
    no_panic(problems, r)
    expect(problems, ended_line(r.log, "sleeper") == "stopped: hv.cfg time_limit_ms reached",
           f"sleeper was not stopped at the time limit: {ended_line(r.log, 'sleeper')}")
    expect(problems, r.status == 1, f"exit status {r.status}, expected 1 (a guest was stopped)")
    companion_within_share(problems, r.log, HALF)
    return problems, r


# --- interrupts-off budget: HV_CALL_SET_TRAP_TABLE ----------------------------------------

# trap-late's worst timer (ns under -icount, 8 per instruction): about 1,600
# instructions of the timer's path and hand-over plus one piece of the
# storm's call (~1,000); the whole 256-entry call in one piece (~9,000
# instructions) made it ~85 us.
TRAP_LATE_MAX_NS = 40000


def storm_beside_trap_late(build, attacker, report, what, bound):
    """One -icount boot of the trap-storm image as trap-late (one-shot
    timers) and as ATTACKER, both on CPU 0 (`cpus = 0`) whatever the
    boot's CPUs: a stretch with interrupts off delays the timers of its
    own CPU only, and under -icount at SMP 2 and more a timer of another,
    halted CPU waits for QEMU's round robin to reach it (tens of ms),
    which is not hv's lateness. ATTACKER's REPORT line (its first group
    the count of WHAT, at least 50) and trap-late's worst timer within
    BOUND ns are judged, both exiting 0 and every byte back."""
    boot = Boot(images=[(test_guest(build, "trap-storm"), "trap-late"),
                        (test_guest(build, "trap-storm"), attacker)],
                cfg=f"[guest trap-late]\ncpus = 0\n[guest {attacker}]\ncpus = 0\n",
                icount=True, timeout=240)
    r = run(build, boot, attacker)
    problems = []
    no_panic(problems, r)
    storm = re.search(rf"^\[{attacker}\] {attacker}: {report}$", r.log, re.M)
    expect(problems, storm is not None,
           f"{attacker} did not report: " + str(guest_lines(r.log, attacker)[-2:]))
    expect(problems, storm is None or int(storm.group(1)) >= 50,
           f"{attacker} made only {storm and storm.group(1)} {what}")
    late = re.search(r"^\[trap-late\] trap-late: max (\d+) ns median (\d+) ns over (\d+) samples$",
                     r.log, re.M)
    expect(problems, late is not None,
           "trap-late did not report: " + str(guest_lines(r.log, "trap-late")[-2:]))
    if late:
        expect(problems, int(late.group(1)) <= bound,
               f"trap-late's worst timer was {late.group(1)} ns late (median {late.group(2)}), "
               f"more than {bound}")
    for g in (attacker, "trap-late"):
        expect(problems, exited(r.log, g), f"{g} did not exit 0")
    expect(problems, re.search(r"^hv: memory balance: \d+ free frames and \d+ kmalloc bytes, "
                               r"as before the first guest$", r.log, re.M),
           "the memory balance line is missing or not balanced")
    return problems, r


@system_test
def test_trap_table_storm_keeps_a_timer_on_time(build):
    """trap-storm calls HV_CALL_SET_TRAP_TABLE with 256 entries, the bad one
    last, back to back beside trap-late's one-shot timers (-icount): every
    call returns -HV_EINVAL and changes nothing (int3 still reaches the
    handler installed before), while hv cuts the call into pieces when an
    interrupt waits (a continuation back to the `syscall`), so no timer of
    trap-late is more than TRAP_LATE_MAX_NS late; every byte comes back."""
    return storm_beside_trap_late(build, "trap-storm",
                                  r"(\d+) calls, all -HV_EINVAL, table unchanged", "calls",
                                  TRAP_LATE_MAX_NS)


# trap-late's worst timer beside trap-unmap (ns under -icount): the path and
# hand-over (~1,600 instructions) plus the rest of the call the deadline
# fell in. MEM_UNMAP ends after the page it is on when hv's timer waits
# (docs/abi.md): 24,056 measured; without that check its 8-page calls made
# it 38,135.
UNMAP_LATE_MAX_NS = 30000


@system_test
def test_unmap_storm_keeps_a_timer_on_time(build):
    """trap-unmap maps 8 read-only aliases and unmaps them with raw
    HV_CALL_MEM_UNMAPs (a budget's worth each) beside trap-late's one-shot
    timers on the same CPU (-icount): every call deals with >= 1 page, and
    a call ends after its current page when the timer's interrupt waits,
    so no timer is more than UNMAP_LATE_MAX_NS late; every byte comes
    back. One boot, ~1 s of guest time."""
    return storm_beside_trap_late(build, "trap-unmap",
                                  r"(\d+) rounds, (\d+) unmap calls, (\d+) cut short", "rounds",
                                  UNMAP_LATE_MAX_NS)


@system_test
def test_storms_from_four_vcpus_end_cleanly_beside_a_timer(build):
    """trap-hammer (4 vCPUs on CPUs 0-3, SMP 4, statistics every second):
    vCPUs 0 and 1 map and unmap one 16-page range against each other with
    raw HV_CALL_MEM_UNMAPs (each unmaps the other's fresh pages, tables
    emptied and freed under the other's calls; a call ends early when an
    interrupt waits), vCPUs 2 and 3 call HV_CALL_SET_TRAP_TABLE with a bad
    256th entry back to back on one buffer (vCPU 2 sets and removes one valid
    entry of it between its calls: it changes under vCPU 3's call, which
    goes a piece of 32 per entry into hv), vCPU 3's timer callback calling it on another
    table in the middle of the interrupted call (its staged copy dropped,
    the call starts over). Every unmap deals with 1..rest pages, every table
    call is -HV_EINVAL, int3 still reaches the handler of before on both
    vCPUs. Beside it trap-late-long on CPU 0 takes one-shot timers for
    1.2 s, none lost or early; hv's statistics line at 1 s (its looks made
    while other CPUs are mid-call) balances, both exit 0 and every byte
    comes back. Not under -icount and not judged on lateness: at SMP 4 QEMU
    runs the CPUs round robin in one thread: under -icount hv's own timer
    interrupts came up to 516 ms late by its statistics line (the
    companion's worst 526 ms, median 2.3 ms; the boot took 245 s), without
    it 104 ms (the companion's worst 104 ms, median 40 ms, 30 timers; the
    hammer's each round waits for TLB shootdowns to the other CPUs, which
    run in turn: 22 rounds), QEMU's lateness, not hv's. One boot, 58 s
    on the 2-core host at load 18, ~1.2 s of guest time."""
    boot = Boot(images=[(test_guest(build, "trap-storm"), "trap-hammer"),
                        (test_guest(build, "trap-storm"), "trap-late-long")],
                cfg="[guest trap-hammer]\nvcpus = 4\ncpus = 0-3\n[guest trap-late-long]\ncpus = 0\n",
                runner_cfg=["stats_every_s = 1"], smp=4)
    r = run(build, boot, "trap-hammer")
    problems = []
    no_panic(problems, r)
    m = re.search(r"^\[trap-hammer\] trap-hammer: (\d+) rounds, (\d+) unmap calls, (\d+) cut short; "
                  r"(\d+) table calls \((\d+) from events\), all -HV_EINVAL, tables unchanged$",
                  r.log, re.M)
    expect(problems, m is not None,
           "trap-hammer did not report: " + str(guest_lines(r.log, "trap-hammer")[-3:]))
    if m:
        rounds, calls, cut, tables, events = (int(g) for g in m.groups())
        expect(problems, rounds >= 5 and tables >= 20 and events >= 2,
               f"too little hammering: {rounds} rounds, {tables} table calls, {events} from events")
    late = re.search(r"^\[trap-late-long\] trap-late: max (\d+) ns median (\d+) ns over (\d+) "
                     r"samples$", r.log, re.M)
    expect(problems, late is not None and int(late.group(3)) >= 10,
           "trap-late-long did not report 10 timers or more: "
           + str(guest_lines(r.log, "trap-late-long")[-2:]))
    stats = re.findall(r"^hv: stats: t=(\d+)s .*unaccounted_frames=(-?\d+) .*"
                       r"unaccounted_bytes=(-?\d+) ", r.log, re.M)
    expect(problems, stats and all(f == "0" and b == "0" for _, f, b in stats),
           f"statistics lines (t, unaccounted frames, bytes): {stats}")
    expect(problems, "hv: smp: hv used 4 of 4 CPU(s)" in r.log, "hv did not use 4 CPUs")
    expect(problems, "hv: leak checks: 2 guest end(s) checked, no difference" in r.log,
           "the leak checks' line is missing or differs")
    for g in ("trap-hammer", "trap-late-long"):
        expect(problems, exited(r.log, g), f"{g} did not exit 0")
    expect(problems, re.search(r"^hv: memory balance: \d+ free frames and \d+ kmalloc bytes, "
                               r"as before the first guest$", r.log, re.M),
           "the memory balance line is missing or not balanced")
    return problems, r


# trap-late's worst timer beside trap-destroy (ns under -icount): the path
# and hand-over plus the rest of the call the deadline fell in, the longest
# of which are now the ones that make the space (HV_CALL_USER_SPACE_CREATE,
# ~2,200 instructions, and the first HV_CALL_MEM_MAP into it, which takes
# its three tables, ~2,800): 34,991 measured (34,832 without the preemption check:
# a destroy step visits mostly absent entries, a budget of 128 of them,
# and is short either way; the cut-short rounds are what the check shows);
# 46,879 in the mitigated pass (XPTI: a space's isolated root made and
# switched too). The bound is issue 10's for a timer under attack
# (timer_late_under_attack, docs/benchmarks.md).
DESTROY_LATE_MAX_NS = 50000


@system_test
def test_destroy_storm_keeps_a_timer_on_time(build):
    """trap-destroy maps 8 read-only aliases in a user space and destroys
    it with raw HV_CALL_USER_SPACE_DESTROYs (a budget's worth a step,
    HV_CONTINUE between them), round after round, beside trap-late's
    one-shot timers on the same CPU (-icount): a step ends after its
    current page when the timer's interrupt waits (as HV_CALL_MEM_UNMAP),
    so some rounds take more calls than the fewest (without that check
    every round took the same), no timer is more than DESTROY_LATE_MAX_NS
    late, and every byte comes back. One boot, ~1 s of guest time."""
    problems, r = storm_beside_trap_late(build, "trap-destroy",
                                         r"(\d+) rounds, (\d+) destroy calls, (\d+) cut short",
                                         "rounds", DESTROY_LATE_MAX_NS)
    storm = re.search(r"^\[trap-destroy\] trap-destroy: \d+ rounds, \d+ destroy calls, "
                      r"(\d+) cut short$", r.log, re.M)
    expect(problems, storm is not None and int(storm.group(1)) >= 1,
           "no destroy step was cut short by the waiting timer: "
           + (storm.group(0) if storm else "no report"))
    return problems, r
