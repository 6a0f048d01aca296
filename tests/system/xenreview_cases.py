"""Review of the Xen personality (issue 16, branch s5-xen): attacks by a
Xen PV guest or image on hv, each booted beside a well-behaved companion.
Each test says what must hold; one that fails names a bug (the review's
report says where and why)."""

import struct

from harness import Boot, run
from judge import exited, expect, guest_lines, ended_line, test_guest
from registry import system_test
from xen_cases import XEN_ELFNOTE, beside_companion, no_panic_no_leak, xen_note, xen_shared_boot

PAGE = 0x1000


def own_page_store(build, name, tag):
    r = xen_shared_boot(build, name)  # test_xen_guests_in_one_boot's
    problems = []
    lines = guest_lines(r.log, name)
    expect(problems, lines and not lines[0].startswith("FAIL"), f"the guest did not start: {lines}")
    end = ended_line(r.log, name) or ""
    stored = any(l.startswith(f"{name}: stored") for l in lines)
    expect(problems, (stored and exited(r.log, name)) or
           (end.startswith("#PF (page fault) at 0x") and "writes the page it runs from" in end),
           f"the store neither completed nor ended the guest with the reason (a livelock "
           f"between W and X): {lines}; ended: {end!r}")
    no_panic_no_leak(problems, r)
    return problems, r


def test_xenreview_store_into_own_code_page(build):  # in test_xen_guests_in_one_boot
    """A Xen guest's instruction that stores into its own page (one RWX
    segment, as Xen's builder maps it) must not flip that page between
    writable and executable forever (each flip restarts the instruction,
    which then faults the other way): it completes, or, as hv never maps a
    page writable and executable, the guest ends on that #PF with the
    reason. Before the fix it spun until the timeout."""
    return own_page_store(build, "xen-review-self-store", "xenreview-self-store")


def test_xenreview_store_straddling_into_next_page(build):  # in test_xen_guests_in_one_boot
    """The same with an instruction straddling two pages that stores into
    the second: the fault's rip is on the first page, the flipping page is
    the second. Before the fix it spun until the timeout."""
    return own_page_store(build, "xen-review-straddle", "xenreview-straddle")


def test_xenreview_update_va_mapping_churn_then_crash(build):  # in test_xen_guests_in_one_boot
    """update_va_mapping driven hard (aliases at every free page, shared
    info at many, every refusal, its tables' mappings unmapped and back,
    one va remapped 1000 times), then a fetch from an executable alias of a
    frame writable elsewhere, with it all mapped: every answer is Xen's, the
    fetch faults (W^X holds) and ends the guest, and the reaping finds every
    count and charge at zero."""
    r = xen_shared_boot(build, "xen-review-vamap")
    problems = []
    lines = guest_lines(r.log, "xen-review-vamap")
    fails = [l for l in lines if l.startswith("FAIL")]
    oks = [l for l in lines if l.endswith(": ok")]
    expect(problems, not fails, f"checks failed: {fails}")
    expect(problems, len(oks) >= 15, f"only {len(oks)} checks passed: {lines}")
    expect(problems, "xen-review-vamap: ran code from a frame mapped writable" not in lines,
           "W^X broken: code ran from a frame writable elsewhere")
    end = ended_line(r.log, "xen-review-vamap") or ""
    # Xen's error code: present, fetch, no U bit (kernel mode).
    expect(problems, end.startswith("#PF (page fault) at 0x") and "error code 0x11" in end,
           f"did not end on the fetch #PF (W^X) at its executable alias: {end}")
    no_panic_no_leak(problems, r)
    return problems, r


def elf(phdrs, body_len, notes, notes_off=0x200, entry=0x100000, code=b"\x0f\x0b" * 0x800,
        code_off=0x1000):
    """ET_EXEC x86-64: the given PT_LOADs (type, flags, off, vaddr, paddr,
    filesz, memsz), the notes in a PT_NOTE."""
    ph = [struct.pack("<IIQQQQQQ", 1, fl, off, va, pa, fs, ms, 0x1000)
          for (fl, off, va, pa, fs, ms) in phdrs]
    ph.append(struct.pack("<IIQQQQQQ", 4, 4, notes_off, 0, 0, len(notes), len(notes), 4))
    body = bytearray(max(body_len, code_off + len(code)))
    body[notes_off:notes_off + len(notes)] = notes
    body[code_off:code_off + len(code)] = code
    ident = b"\x7fELF" + bytes([2, 1, 1, 0]) + bytes(8)
    body[0:64] = ident + struct.pack("<HHIQQQIHHHHHH", 2, 62, 1, entry, 64, 0, 0, 64, 56,
                                     len(ph), 0, 0, 0)
    body[64:64 + 56 * len(ph)] = b"".join(ph)
    return bytes(body)


def notes(hcall=0x106000, extra=b""):
    n = XEN_ELFNOTE
    return (xen_note(n["GUEST_OS"], b"hv-test\0") + xen_note(n["LOADER"], b"generic\0")
            + xen_note(n["HYPERCALL_PAGE"], hcall.to_bytes(8, "little"))
            + xen_note(n["XEN_VERSION"], b"xen-3.0\0") + extra)


ONE = [(7, 0x1000, 0x100000, 0x100000, 0x1000, 0x11000)]
HOSTILE_IMAGES = {
    # name: (image bytes, what the refusal must mention)
    "xr-hc-unaligned": (elf(ONE, 0x2000, notes(0x106008)), "XEN_ELFNOTE_HYPERCALL_PAGE"),
    "xr-hc-outside": (elf(ONE, 0x2000, notes(0x200000)), "XEN_ELFNOTE_HYPERCALL_PAGE"),
    "xr-overlap": (elf(ONE + [(6, 0x1000, 0x108000, 0x108000, 0x1000, 0x1000)], 0x2000, notes()),
                   "overlap"),
    "xr-huge-span": (elf([(7, 0x1000, 0x100000, 0x100000, 0x1000, 0x40000000)], 0x2000, notes()),
                     "memory"),
    "xr-paddr-wrap": (elf(ONE, 0x2000, notes(extra=xen_note(4, (0x200000).to_bytes(8, "little")))),
                      "Xen PV image"),
    "xr-file-short": (elf([(7, 0x1000, 0x100000, 0x100000, 0x100000, 0x100000)], 0x2000, notes()),
                      "Xen PV image"),
    "xr-top": (elf([(7, 0x1000, 0x7effffe00000, 0x7effffe00000, 0x1000, 0x1000)], 0x2000,
                   notes(0x7effffe00000), entry=0x7effffe00000), "Xen PV image"),
    "xr-desc-huge": (elf(ONE, 0x2000, notes() + struct.pack("<III", 4, 0xfffffff0, 2) + b"Xen\0"),
                     "descriptor"),
    "xr-entry-outside": (elf(ONE, 0x2000, notes(extra=xen_note(1, (0x5000).to_bytes(8, "little")))),
                         "entry point"),
}


@system_test
def test_xenreview_hostile_images_refused(build):
    """Hostile Xen PV images (a hypercall page off a page boundary or
    outside the image, overlapping segments, a 1 GiB span, a PADDR_OFFSET
    that wraps the addresses, a segment past the file's end, an image at
    the top of the guest area, a note whose size runs off the notes, an
    entry outside the image) are each refused with a reason; a small
    allowance (the loader's least) either fits a good image or refuses it; hv and the companion carry on and
    nothing is leaked."""
    images = [(None, name, data) for name, (data, _) in HOSTILE_IMAGES.items()]
    good = elf(ONE, 0x2000, notes())
    images.append((None, "xr-small-allowance", good))
    images.append(test_guest(build, "companion"))
    # The least hv.cfg lets it have (the loader's minimum for its span): the
    # builder's own frames (P2M, M2P, shared pages, hv's tables) must fit
    # or be refused cleanly, never overdrawn.
    cfg = "[guest xr-small-allowance]\nmemory = 4172K\n"
    r = run(build, Boot(images=images, cfg=cfg), "xenreview-images")
    problems = []
    for name, (_, why) in HOSTILE_IMAGES.items():
        refused = [l for l in r.log.splitlines() if f"image {name} rejected" in l]
        expect(problems, refused and why in refused[0],
               f"{name} was not refused (mentioning {why!r}): "
               f"{[l for l in r.log.splitlines() if name in l]}")
    refused = [l for l in r.log.splitlines() if "image xr-small-allowance rejected" in l]
    end = ended_line(r.log, "xr-small-allowance") or ""
    expect(problems, refused or end.startswith("#UD (invalid opcode), error code 0x0, RIP 0x100000"),
           f"xr-small-allowance neither refused nor run to its ud2: "
           f"{[l for l in r.log.splitlines() if 'xr-small-allowance' in l]}")
    no_panic_no_leak(problems, r)
    return problems, r


@system_test
def test_xenreview_console_ring_flood(build):
    """The PV console ring abused: out_prod 2 GiB (then 4 GiB - 1) ahead,
    20,000 notifications and 20,000 yields each draining it, then a 16 KiB
    console_io: bounded work per call under the console's rate, the guest
    finishes and powers off, the companion exits, nothing leaks. Then, over
    its rate, Unikraft's ways with the ring: a send returns only when hv
    has taken the whole (sane) ring, so out_cons has caught up (Unikraft
    spins on it without a hypercall before its shutdown; before, the send
    left the rest for a later drain that never came), all 48 ring lines
    printed; and pieces to the ring first, then the same to console_io,
    printed once (before, only console_io-then-ring was recognised)."""
    r = beside_companion(build, "xen-review-console", "xenreview-console", timeout=240)
    problems = []
    lines = guest_lines(r.log, "xen-review-console")
    fails = [l for l in lines if l.startswith("FAIL")]
    expect(problems, not fails, f"checks failed: {fails}")
    expect(problems, any(l.startswith("xen-review-console: done, 4 checks, 0 failed") for l in lines),
           f"the guest did not finish: {lines[-5:]}")
    ring_lines = [l for l in lines if l.startswith("xen-review-console: ring line, 64 bytes")]
    # hv drops a guest's output the serial line cannot carry (a loaded
    # host's slow QEMU serial): then some of them, else all of them.
    dropped = any("guest xen-review-console: console output dropped" in l
                  for l in r.log.splitlines())
    expect(problems, len(ring_lines) == 48 or (dropped and ring_lines),
           f"{len(ring_lines)} of the 48 ring lines printed (output dropped: {dropped})")
    echoed = [l for l in lines if "ring then console_io" in l]
    expect(problems, echoed == ["[ 0.1] Info: xen-review-console: ring then console_io"],
           f"the ring-then-console_io line not printed exactly once: {echoed}")
    expect(problems, exited(r.log, "xen-review-console"),
           f"did not power off: {ended_line(r.log, 'xen-review-console')}")
    no_panic_no_leak(problems, r)
    return problems, r
