"""System tests of the Xen personality's groundwork (docs/plans/
xen-personality.md, M0): hv's direct map off PML4 slot 256 (free for a Xen
guest's M2P), the GDT window with Xen's flat selectors, MSR_CSTAR pointing
at the stub that ends a compat-mode guest."""

import os
import re
import struct
import subprocess
import threading

from harness import ROOT, Boot, run, run_shared
from judge import exited, expect, guest_lines, ended_line, test_guest
from registry import system_test


def no_panic_no_leak(problems, r, companion=True):
    """What every Xen case asks at its end: the companion (hv's own guest
    beside the Xen one, when it was booted) exited 0, hv did not panic, its
    leak check is clean."""
    if companion:
        expect(problems, exited(r.log, "companion"), "the companion did not exit 0")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    # (The reaper's debug progress notes, "reaping, N frame(s) still
    # charged", are not findings.)
    leaks = [l for l in r.log.splitlines()
             if "leak check after" in l or ("still charged" in l and "reaping," not in l)]
    expect(problems, not leaks, f"hv's leak check found something: {leaks}")

EXAMPLES = os.path.join(ROOT, "images")
DIRECT_MAP_LINE = "hv: mm: direct map at 0xffff888000000000 (PML4 slot 273); slots 256-272 empty"


def core_symbol(build, name):
    out = subprocess.run(["nm", os.path.join(build, "hv-core.elf")], capture_output=True,
                         text=True, check=True).stdout
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == name:
            return int(parts[0], 16)
    raise AssertionError(f"{name} not in hv-core.elf")


def xen_debug_boot(build):
    """xen-gdt-probe and xr-big (xen_user_cases.py's bookkeeping image) beside
    the companion with log_level = debug: the boot of
    test_xen_gdt_window_flat_selectors and test_xen_bookkeeping_charged_not_hv_heap,
    judged together by xen_shared_cases.py's test_xen_debug_log_guests_in_one_boot."""
    from xenreview_cases import elf, notes
    big = elf([(7, 0x1000, 0x100000, 0x100000, 0x1000, 0x3c00000)], 0x2000, notes())
    return run_shared(build, Boot(images=[test_guest(build, "xen-gdt-probe"), (None, "xr-big", big),
                                          test_guest(build, "companion")],
                                  runner_cfg=["log_level = debug"]), "xen-debug")


def probe_boot(build, tag, runner_cfg=(), r=None):
    # log_level = debug: the window, CSTAR and Xen-slot lines are debug lines.
    if r is None:
        boot = Boot(images=[test_guest(build, "xen-gdt-probe"), test_guest(build, "companion")],
                    runner_cfg=["log_level = debug"] + list(runner_cfg))
        r = run(build, boot, tag)
    problems = []
    lines = guest_lines(r.log, "xen-gdt-probe")
    seen = {}
    for l in lines:
        m = re.match(r"xen-gdt-probe: (.*?): (ok \(read back 0x[0-9a-f]+\)|#\w+ error 0x[0-9a-f]+)$", l)
        if m:
            seen[m.group(1)] = m.group(2)
    # Xen's flat selectors load at ring 3, as Xen PV guests expect.
    expect(problems, seen.get("data 0xe02b") == "ok (read back 0xe02b)",
           f"0xe02b did not load as data: {seen.get('data 0xe02b')}")
    expect(problems, seen.get("code64 0xe033") == "ok (read back 0xe033)",
           f"no far return to 0xe033: {seen.get('code64 0xe033')}")
    # 0xe020 is not present: no guest reaches compatibility mode (CSTAR).
    expect(problems, (seen.get("code32 0xe023") or "").startswith("#NP error 0xe020")
           or (seen.get("code32 0xe023") or "").startswith("#GP error 0xe020"),
           f"the 32-bit code selector did not fault: {seen.get('code32 0xe023')}")
    # The limit ends at 0xe037: one entry further is outside the GDT.
    expect(problems, (seen.get("beyond 0xe03b") or "").startswith("#GP error 0xe038"),
           f"a selector past the limit did not #GP: {seen.get('beyond 0xe03b')}")
    # hv's own selectors are unchanged.
    expect(problems, seen.get("hv data 0x1b") == "ok (read back 0x1b)",
           f"hv's user data selector changed: {seen.get('hv data 0x1b')}")
    expect(problems, "xen-gdt-probe: done" in lines and exited(r.log, "xen-gdt-probe"),
           f"xen-gdt-probe did not finish: {ended_line(r.log, 'xen-gdt-probe')}")
    no_panic_no_leak(problems, r)
    return problems, r


def test_xen_gdt_window_flat_selectors(build):  # xen_shared_cases.py
    """The GDT reaches Xen's 0xe02b/0xe033 beside hv's selectors; 0xe023
    and anything past 0xe037 fault; the window's cost is logged."""
    problems, r = probe_boot(build, "xen-gdt", r=xen_debug_boot(build))
    expect(problems, re.search(r"^hv: gdt: window at 0x[0-9a-f]+, limit 0xe037\b.*1 own page per CPU",
                               r.log, re.M), "hv did not log the GDT window")
    expect(problems, DIRECT_MAP_LINE in r.log, "hv did not check PML4 slots 256-272 empty")
    cstar = core_symbol(build, "compat_syscall_entry")
    expect(problems, f"hv: syscall: MSR_CSTAR 0x{cstar:x}: a compat-mode syscall ends the guest" in r.log,
           f"MSR_CSTAR does not hold compat_syscall_entry (0x{cstar:x}): "
           f"{[l for l in r.log.splitlines() if 'CSTAR' in l]}")
    return problems, r


@system_test
def test_xen_gdt_window_under_xpti(build):
    """With page-table isolation the CPU reads the GDT window in the guest's
    isolated tables: the same loads work, and the isolated tables keep
    Xen's PML4 slots empty too (hv/mm/xpti.c panics otherwise)."""
    problems, r = probe_boot(build, "xen-gdt-xpti", ["xpti = on"])
    expect(problems, "hv: entry paths: page-table isolation on" in r.log, "isolation was not on")
    return problems, r


# ---- Xen PV images, built here from the public note format (Xen's
# elfnote.h: owner "Xen", 4-byte-aligned name and descriptor; numbers as
# little-endian 1/2/4/8 bytes, strings NUL-terminated). Our own, nobody's
# code: a page of `ud2` and the notes. ----

XEN_ELFNOTE = {"HYPERCALL_PAGE": 2, "XEN_VERSION": 5, "GUEST_OS": 6, "LOADER": 8, "FEATURES": 10}


def xen_note(ntype, desc):
    name = b"Xen\0"
    pad = lambda b: b + b"\0" * (-len(b) % 4)
    return struct.pack("<III", len(name), len(desc), ntype) + pad(name) + pad(desc)


def xen_notes(hcall, hcall_bytes=8, version=b"xen-3.0"):
    n = XEN_ELFNOTE
    return (xen_note(n["GUEST_OS"], b"hv-test\0") + xen_note(n["LOADER"], b"generic\0")
            + xen_note(n["HYPERCALL_PAGE"], hcall.to_bytes(hcall_bytes, "little"))
            + xen_note(n["XEN_VERSION"], version + b"\0")
            + xen_note(n["FEATURES"], b"!writable_page_tables\0"))


def xen_image(in_segment=True, base=0x100000, version=b"xen-3.0"):
    """An ET_EXEC x86-64 image: one RWX PT_LOAD of 0x11000 bytes at `base`
    (a page of ud2 from the file, the rest bss) and the Xen notes, in a
    PT_NOTE (XTF's shape) or only in a SHT_NOTE section (Mini-OS's)."""
    notes = xen_notes(base + 0x6000, 8 if in_segment else 4, version)
    notes_off, code_off = 0x200, 0x1000
    phdrs = [struct.pack("<IIQQQQQQ", 1, 7, code_off, base, base, 0x1000, 0x11000, 0x1000)]
    if in_segment:
        phdrs.append(struct.pack("<IIQQQQQQ", 4, 4, notes_off, 0, 0, len(notes), len(notes), 4))
    body = bytearray(0x2000)
    body[notes_off:notes_off + len(notes)] = notes
    body[code_off:code_off + 0x1000] = b"\x0f\x0b" * 0x800
    shoff, shnum = 0, 0
    if not in_segment:
        shoff, shnum = len(body), 2
        body += bytes(64) + struct.pack("<IIQQQQIIQQ", 0, 7, 0, 0, notes_off, len(notes), 0, 0, 4, 0)
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    eh = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, base, 64, shoff, 0, 64, 56, len(phdrs),
                             64 if shnum else 0, shnum, 0)
    body[0:64] = eh
    body[64:64 + 56 * len(phdrs)] = b"".join(phdrs)
    return bytes(body)


def generated_images():
    """test_xen_images_recognised_built_and_run's images, made here."""
    return [(None, "xen-seg", xen_image()), (None, "xen-sect", xen_image(False, 0)),
            (None, "xen-oldver", xen_image(version=b"xen-2.0"))]


def test_xen_images_recognised_built_and_run(build):  # in test_xen_guests_in_one_boot
    """Images with Xen's notes (in a note segment, or only in a note section
    with the image at address 0) are recognised as Xen PV, validated, built
    with Xen's start-of-day layout and run: their page of ud2 faults and
    ends each alone (no trap table), reported as a fault; a Xen image with
    a bad note is refused naming the note; native guests run as before."""
    r = xen_shared_boot(build, "xen-seg")  # with generated_images()
    problems = []
    expect(problems, 'hv: image xen-seg: Xen PV image (notes in a note segment): GUEST_OS "hv-test", '
           'LOADER "generic", XEN_VERSION "xen-3.0", image 0x100000-0x111000, entry 0x100000, '
           'hypercall page 0x106000' in r.log, "xen-seg was not recognised from its PT_NOTE")
    # RAM = the start-of-day region (4 MiB, 1024 pages): P2M 2 pages after
    # the image, then start_info, xenstore, console, 5 page-table frames,
    # the stack (xen.h's rules; hv/xen/xen_layout.c).
    expect(problems, "hv: guest xen-seg: xen-seg, Xen PV, 1024 pages (" in r.log and
           "P2M 0x111000, start_info 0x113000, page tables 0x116000 (5 frames), stack top "
           "0x11c000, mapped to 0x400000, entry 0x100000" in r.log,
           "xen-seg was not built with Xen's start-of-day layout")
    expect(problems, (ended_line(r.log, "xen-seg") or "").startswith("#UD (invalid opcode), error code 0x0, RIP 0x100000"),
           f"xen-seg did not run into its ud2: {ended_line(r.log, 'xen-seg')}")
    expect(problems, 'hv: image xen-sect: Xen PV image (notes in a note section): GUEST_OS "hv-test"'
           in r.log and "image 0x0-0x11000, entry 0x0, hypercall page 0x6000" in r.log,
           "xen-sect (notes only in a section, image at 0) was not recognised")
    expect(problems, (ended_line(r.log, "xen-sect") or "").startswith("#UD (invalid opcode), error code 0x0, RIP 0x0"),
           f"xen-sect (at address 0) did not run into its ud2: {ended_line(r.log, 'xen-sect')}")
    expect(problems, 'image xen-oldver rejected: Xen PV image: XEN_ELFNOTE_XEN_VERSION is "xen-2.0"'
           in r.log, "xen-oldver was not refused naming its note")
    expect(problems, exited(r.log, "companion"), "the native companion did not exit 0")
    expect(problems, "PANIC" not in r.log, "the hypervisor panicked")
    # (The reaper's debug progress notes, "reaping, N frame(s) still
    # charged", are not findings.)
    leaks = [l for l in r.log.splitlines()
             if "leak check after" in l or ("still charged" in l and "reaping," not in l)]
    expect(problems, not leaks, f"hv's leak check found something: {leaks}")
    return problems, r


# One boot, several tests (xen_xpti_cases.py's test_xen_guests_in_one_boot):
# these Xen guests, each judged by its own module's function as if booted
# alone beside the companion, share a boot of the firmware (~4.5 s each).
# Every one checks itself or ends on its own fault; none counts the guests
# beside it. The functions that judge them (test_* names kept, not
# registered) call xen_shared_boot, which boots once per run of the group.
XEN_SHARED = ("xen-boot", "xen-traps", "xen-pt-write", "xen-user", "xen-mm", "xen-descs",
              "xen-emul", "xen-review-vamap", "xen-review-self-store", "xen-review-straddle",
              "xen-user-hostile", "xen-mm-hostile", "xen-bad-iret", "xen-bad-stack")
XEN_SHARED_CFG = "[guest xen-mm]\nmemory = 16M\n[guest xen-mm-hostile]\nmemory = 16M\n"
_shared = threading.local()


def xen_shared_boot(build, name=None, tag=None):
    """The group's boot (booted on the first call of a run of the group)."""
    if getattr(_shared, "result", None) is None:
        _shared.result = run(build, Boot(images=[test_guest(build, g) for g in XEN_SHARED] +
                                         generated_images() +
                                         [test_guest(build, "companion"), test_guest(build, "xpti-probe")],
                                         cfg=XEN_SHARED_CFG, runner_cfg=["xpti = off"],
                                         timeout=240),
                             "xen-shared")
    assert name is None or name in XEN_SHARED or name == "xen-seg", name
    return _shared.result


def xen_shared_boot_forget():
    _shared.result = None


def beside_companion(build, name, tag, runner_cfg=(), smp=1, cfg="", **boot):
    """Boots our Xen-ABI test guest `name` beside hv's own companion (hv.cfg
    text `cfg`; other Boot fields, e.g. timeout, as keywords)."""
    return run(build, Boot(images=[test_guest(build, name), test_guest(build, "companion")],
                           cfg=cfg, runner_cfg=list(runner_cfg), smp=smp, **boot), tag)


def checks_all_ok(problems, r, name, done_line):
    lines = guest_lines(r.log, name)
    fails = [l for l in lines if l.startswith("FAIL")]
    oks = [l for l in lines if l.endswith(": ok")]
    expect(problems, not fails, f"{name} checks failed: {fails}")
    expect(problems, oks and any(done_line in l for l in lines),
           f"{name} did not finish its checks ({len(oks)} ok): {lines[-3:]}")
    return oks


def test_xen_boot_start_of_day(build):  # in test_xen_guests_in_one_boot
    """Our own Xen-ABI guest checks from inside what Xen promises at start
    of day: start_info's fields, the registers at entry, the layout
    (P2M list, start_info, xenstore and console pages, page tables at
    pt_base, boot stack, 4 MiB-aligned mapped region), the initial page
    tables in Xen's format with the tables' own frames read-only, the
    hypercall page's 64-bit stubs keeping rcx/r11, xen_version, -ENOSYS for
    unknown hypercalls; it prints through the hypercall page's console_io
    and ends with sched_op(shutdown, poweroff): a clean exit."""
    r = xen_shared_boot(build, "xen-boot")
    problems = []
    oks = checks_all_ok(problems, r, "xen-boot", "xen-boot: all")
    expect(problems, len(oks) >= 40, f"only {len(oks)} checks ran")
    expect(problems, exited(r.log, "xen-boot"), "xen-boot did not exit 0 (shutdown poweroff)")
    no_panic_no_leak(problems, r)
    return problems, r


@system_test
def test_xen_image_disabled_is_not_a_failure(build):
    """hv.cfg `enabled = no` for a Xen image: logged as disabled and left
    out, as for hv's own images; not counted as a rejected image, so a run
    whose other guests all exit 0 ends with status 0."""
    r = beside_companion(build, "xen-boot", "xen-disabled", cfg="[guest xen-boot]\nenabled = no\n")
    problems = []
    expect(problems, "hv: image xen-boot: disabled in hv.cfg" in r.log,
           "no 'disabled in hv.cfg' line for the Xen image")
    expect(problems, not guest_lines(r.log, "xen-boot"), "the disabled Xen guest ran")
    expect(problems, r.status == 0, f"exit status {r.status}, expected 0 (nothing rejected)")
    no_panic_no_leak(problems, r)
    return problems, r


@system_test
def test_xen_hostile_arguments_and_crash(build):
    """Bad hypercall arguments from a Xen guest (pointers at hv, at nothing,
    non-canonical, at its own read-only page tables, across the end of its
    RAM; huge counts; unknown commands and numbers; poll, VCPUOP, bind_ipi,
    set_segment_base, set_debugreg with the same pointers; bind_ipi whose
    write-back fails keeps its port, 254 times, then -ENOSPC; EVTCHNOP_status
    at those pointers, of ports 256..2^32-1 and of all 256 ports once every
    one is an IPI) get Xen's error codes and change nothing. First, while
    the companion runs, a descriptor storm: set_gdt with huge counts (refused
    before the list is read), lists at hv and at nothing, frames past its
    RAM, 200 tables of 7168 entries, a list inside the frame it names;
    update_descriptor at maddrs outside its RAM, into its tables and code,
    and 2000 rewrites of an installed entry, each seen by `lar`/`lsl` at
    once (fails if update_descriptor stops installing: 1000 wrong); a long console_io is taken in bounded pieces and
    continued; sched_op(shutdown, crash) ends that guest alone, as a fault,
    while a companion runs on."""
    # hv.cfg asks for a restart on a fault: Xen guests are not restarted
    # yet, so the loader says so and the crash stops it.
    cfg = "[guest xen-hostile]\non_fault = restart\n"
    r = beside_companion(build, "xen-hostile", "xen-hostile", cfg=cfg)
    problems = []
    expect(problems, "hv: warning: image xen-hostile: Xen PV guests are not restarted: "
                     "restart becomes stop" in r.log,
           "no warning that the restart policy does not apply")
    oks = checks_all_ok(problems, r, "xen-hostile", "xen-hostile: ")
    expect(problems, len(oks) >= 30, f"only {len(oks)} checks ran")
    lines = guest_lines(r.log, "xen-hostile")
    longs = [l for l in lines if l.startswith("xen-hostile: long write line")]
    expect(problems, longs == [f"xen-hostile: long write line {i:02d}......." for i in range(24)],
           f"the continued console_io lost or reordered lines: {len(longs)} of 24")
    expect(problems, ended_line(r.log, "xen-hostile") == "shutdown: crash",
           f"xen-hostile did not end as a crash: {ended_line(r.log, 'xen-hostile')}")
    no_panic_no_leak(problems, r)
    return problems, r


def test_xen_page_tables_read_only(build):  # in test_xen_guests_in_one_boot
    """A Xen guest's initial page tables are read-only to it (as Xen maps
    them): its write to pt_base faults and ends it alone, before its next
    line."""
    r = xen_shared_boot(build, "xen-pt-write")
    problems = []
    lines = guest_lines(r.log, "xen-pt-write")
    expect(problems, any(l.startswith("xen-pt-write: writing L4 at 0x") for l in lines),
           f"xen-pt-write did not start: {lines}")
    expect(problems, "xen-pt-write: wrote its page tables" not in lines, "the write went through")
    end = ended_line(r.log, "xen-pt-write") or ""
    # Xen's error code: present, write, and no U bit (kernel mode).
    expect(problems, end.startswith("#PF (page fault) at 0x") and "error code 0x3" in end,
           f"xen-pt-write did not end on a write #PF: {end}")
    no_panic_no_leak(problems, r)
    return problems, r


def test_xen_traps_memory_console(build):  # in test_xen_guests_in_one_boot
    """Our own Xen-ABI guest exercises what a PV kernel's start of day uses
    (XTF's boot path among them): the trap table and Xen's bounce frame
    with HYPERVISOR_iret back (rcx/r11, the upcall mask in the CS slot, a
    DPL-3 int3), FEP cpuid with Xen's leaves and #UD for a prefix before
    anything else, mov from CR0/CR2/CR3, update_va_mapping (shared info,
    unmap/remap keeping the frame, read-only, refusals), the read-only M2P,
    a continued mmuext_op batch, the PV console ring printed once even when
    console_io printed the same line."""
    r = xen_shared_boot(build, "xen-traps")
    problems = []
    oks = checks_all_ok(problems, r, "xen-traps", "xen-traps: all")
    expect(problems, len(oks) >= 35, f"only {len(oks)} checks ran")
    lines = guest_lines(r.log, "xen-traps")
    expect(problems, lines.count("xen-traps: through the ring") == 1,
           f"the ring's line was not printed once: {lines.count('xen-traps: through the ring')}")
    expect(problems, lines.count("xen-traps: through both") == 1,
           f"a line written through console_io and the ring was not printed once: "
           f"{lines.count('xen-traps: through both')}")
    expect(problems, exited(r.log, "xen-traps"), f"xen-traps did not exit 0: {ended_line(r.log, 'xen-traps')}")
    no_panic_no_leak(problems, r)
    return problems, r


def test_xen_bad_iret_and_bad_stack_end_only_that_guest(build):  # in test_xen_guests_in_one_boot
    """HYPERVISOR_iret to an upper-half rip, and an exception whose bounce
    frame would land in the guest's read-only page tables: each ends its
    guest alone, before its next line, with the reason; a companion runs
    on."""
    r = xen_shared_boot(build, "xen-bad-iret")
    problems = []
    iret = guest_lines(r.log, "xen-bad-iret")
    expect(problems, "xen-bad-iret: iret to 0xffff888000000000" in iret and
           "xen-bad-iret: still running" not in iret, f"xen-bad-iret: {iret}")
    expect(problems, ended_line(r.log, "xen-bad-iret") == "Xen iret: rip or rsp outside the guest's half",
           f"xen-bad-iret ended: {ended_line(r.log, 'xen-bad-iret')}")
    stack = guest_lines(r.log, "xen-bad-stack")
    expect(problems, any(l.startswith("xen-bad-stack: ud2 with rsp") for l in stack) and
           not any(l.startswith("xen-bad-stack: handled") for l in stack), f"xen-bad-stack: {stack}")
    expect(problems, (ended_line(r.log, "xen-bad-stack") or "").startswith("#UD (invalid opcode)") and
           (ended_line(r.log, "xen-bad-stack") or "").endswith("(could not deliver)"),
           f"xen-bad-stack ended: {ended_line(r.log, 'xen-bad-stack')}")
    no_panic_no_leak(problems, r)
    return problems, r
