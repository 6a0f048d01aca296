#!/usr/bin/env python3
"""Checks guest images for what hv asks of them (docs/abi.md, "Images"),
reading the ELF file directly: x86-64 ELF64 ET_EXEC or ET_DYN; no
PT_INTERP, no PT_TLS; a non-executable PT_GNU_STACK; loadable segments
neither writable and executable nor sharing a 4 KiB page, inside the image
area; the entry point in an executable segment; only R_X86_64_RELATIVE
relocations (ET_DYN) or none (ET_EXEC); at most one "hv" guest note, well
formed; at most one restart-policy note, asking only what hv lets an image
ask (docs/abi.md, "The restart-policy note").

    python3 guest/check_image.py IMAGE...

Prints one line per image and exits 1 if any image fails."""

import struct
import sys

PT_LOAD, PT_DYNAMIC, PT_INTERP, PT_NOTE, PT_TLS = 1, 2, 3, 4, 7
PT_GNU_STACK = 0x6474E551
PF_X, PF_W = 1, 2
ET_EXEC, ET_DYN = 2, 3
DT_NULL, DT_RELA, DT_RELASZ, DT_RELAENT, DT_REL, DT_NEEDED = 0, 7, 8, 9, 17, 1
R_X86_64_NONE, R_X86_64_RELATIVE = 0, 8
PAGE = 4096
IMAGE_MIN, IMAGE_MAX = 0x10000, 0x00007F0000000000
STATIC_PIE_BASE = 0x400000
HV_NOTE_GUEST, HV_ABI_VERSION, NOTE_DESC_SIZE = 1, 2, 56
HV_NOTE_POLICY, POLICY_DESC_SIZE = 2, 16
HV_NOTE_MAX_RESTARTS, HV_NOTE_MIN_WINDOW_S = 5, 60
NOTE_ACTIONS = {0: "default (stop)", 1: "stop", 2: "restart"}
NAME_CHARS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-")


class Bad(Exception):
    pass


def phdrs(data):
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        raise Bad("not a little-endian ELF64 file")
    (e_type, e_machine, _, e_entry, e_phoff, _, _, _, e_phentsize,
     e_phnum) = struct.unpack_from("<HHIQQQIHHH", data, 16)
    if e_machine != 62:
        raise Bad(f"machine {e_machine}, not x86-64")
    if e_type not in (ET_EXEC, ET_DYN):
        raise Bad(f"type {e_type}, not ET_EXEC or ET_DYN")
    if e_phentsize != 56:
        raise Bad(f"program header size {e_phentsize}")
    out = []
    for i in range(e_phnum):
        out.append(struct.unpack_from("<IIQQQQQQ", data, e_phoff + i * 56))
    return e_type, e_entry, out


def file_offset(loads, vaddr):
    for (_, _, off, va, _, filesz, _, _) in loads:
        if va <= vaddr < va + filesz:
            return off + vaddr - va
    raise Bad(f"address {vaddr:#x} is not in the file part of any segment")


def check_relocations(data, e_type, loads, dynamic):
    if dynamic is None:
        return 0
    entries = {}
    off, size = dynamic[2], dynamic[5]
    for pos in range(off, off + size, 16):
        tag, val = struct.unpack_from("<qQ", data, pos)
        if tag == DT_NULL:
            break
        if tag == DT_NEEDED:
            raise Bad("DT_NEEDED: linked against a shared library")
        entries[tag] = val
    if DT_REL in entries:
        raise Bad("DT_REL relocations (hv takes only RELA)")
    if DT_RELA not in entries:
        return 0
    if e_type == ET_EXEC:
        raise Bad("an ET_EXEC with relocations")
    start, total = file_offset(loads, entries[DT_RELA]), entries.get(DT_RELASZ, 0)
    count = 0
    for pos in range(start, start + total, entries.get(DT_RELAENT, 24)):
        r_offset, r_info, _ = struct.unpack_from("<QQq", data, pos)
        kind = r_info & 0xFFFFFFFF
        if kind not in (R_X86_64_NONE, R_X86_64_RELATIVE):
            raise Bad(f"relocation type {kind} at {r_offset:#x}: only R_X86_64_RELATIVE is applied")
        count += 1
    return count


def hv_notes(data, ph):
    """Yields (type, descriptor) of the hv notes of the types hv reads
    (guest, restart policy) in one PT_NOTE segment; others are skipped, as
    hv skips them."""
    align = 8 if ph[7] == 8 else 4
    pos, end = ph[2], ph[2] + ph[5]
    while pos + 12 <= end:
        namesz, descsz, kind = struct.unpack_from("<III", data, pos)
        name_off = pos + 12
        desc_off = name_off + (-(12 + namesz) % align) + namesz
        if desc_off + descsz > end:
            raise Bad(f"note at {pos:#x} runs past its segment")
        if data[name_off:name_off + namesz] == b"hv\0" and kind in (HV_NOTE_GUEST, HV_NOTE_POLICY):
            want = NOTE_DESC_SIZE if kind == HV_NOTE_GUEST else POLICY_DESC_SIZE
            if descsz != want:
                what = "hv note" if kind == HV_NOTE_GUEST else "restart-policy note"
                raise Bad(f"{what} descriptor is {descsz} bytes, not {want}")
            yield kind, data[desc_off:desc_off + descsz]
        pos = desc_off + descsz + (-descsz % align)


def describe_note(desc):
    abi, vcpus, memory, stack = struct.unpack_from("<IIQQ", desc, 0)
    raw = desc[24:56]
    if abi != HV_ABI_VERSION:
        raise Bad(f"hv note abi_version {abi}, not {HV_ABI_VERSION}")
    if b"\0" not in raw:
        raise Bad("hv note name is not NUL-terminated")
    name = raw[:raw.index(b"\0")].decode("ascii", "replace")
    if not set(name) <= NAME_CHARS:
        raise Bad(f"hv note name {name!r} uses characters other than A-Z a-z 0-9 . _ -")

    def value(v, unit=""):
        return str(v) + unit if v else "default"
    # hv ignores the note's name (docs/abi.md, "Names and identity"): the
    # checks above keep the SDK's notes tidy, the output says it is unused.
    return (f"note name={name + ' (ignored by hv)' if name else 'empty'} vcpus={value(vcpus)} "
            f"memory={value(memory >> 10, 'K') if memory % 1024 == 0 else memory} "
            f"stack={value(stack >> 10, 'K') if stack % 1024 == 0 else stack}")


def describe_policy(desc):
    """The restart-policy note, judged as hv judges it when hv.cfg does not
    set the key a field names (hv.cfg wins: such an image still runs where
    hv.cfg decides that key, and this says which key)."""
    on_exit, on_fault, max_restarts, window_s = struct.unpack_from("<IIII", desc, 0)
    for key, action in (("on_exit", on_exit), ("on_fault", on_fault)):
        if action not in NOTE_ACTIONS:
            asked = "halt" if action == 3 else str(action)
            raise Bad(f"restart-policy note asks {key} = {asked}: an image may ask only stop (1) or "
                      f"restart (2); hv refuses it unless hv.cfg's section sets {key}")
    if max_restarts > HV_NOTE_MAX_RESTARTS:
        raise Bad(f"restart-policy note asks max_restarts = {max_restarts}, above "
                  f"{HV_NOTE_MAX_RESTARTS}; hv refuses it unless hv.cfg's section sets max_restarts")
    if window_s and window_s < HV_NOTE_MIN_WINDOW_S:
        raise Bad(f"restart-policy note asks a {window_s} s window, under {HV_NOTE_MIN_WINDOW_S} s; "
                  f"hv refuses it unless hv.cfg's section sets max_restarts")
    return (f"policy on_exit={NOTE_ACTIONS[on_exit]} on_fault={NOTE_ACTIONS[on_fault]} "
            f"restarts={max_restarts or HV_NOTE_MAX_RESTARTS} within "
            f"{window_s or HV_NOTE_MIN_WINDOW_S} s")


def check(path):
    with open(path, "rb") as f:
        data = f.read()
    e_type, entry, headers = phdrs(data)
    loads = [p for p in headers if p[0] == PT_LOAD and p[6] > 0]
    kinds = [p[0] for p in headers]
    if PT_INTERP in kinds:
        raise Bad("PT_INTERP: dynamically linked")
    if PT_TLS in kinds:
        raise Bad("PT_TLS: thread-local storage")
    stacks = [p for p in headers if p[0] == PT_GNU_STACK]
    if not stacks or stacks[0][1] & PF_X:
        raise Bad("no PT_GNU_STACK, or an executable stack")
    if not loads:
        raise Bad("no loadable segment")

    bias = STATIC_PIE_BASE - min(p[3] for p in loads) // PAGE * PAGE if e_type == ET_DYN else 0
    pages = []
    for (_, flags, off, va, _, filesz, memsz, _) in loads:
        if flags & PF_W and flags & PF_X:
            raise Bad(f"segment at {va:#x} is writable and executable")
        if off % PAGE != va % PAGE:
            raise Bad(f"segment at {va:#x}: file offset {off:#x} is off the page grid")
        if filesz > memsz or off + filesz > len(data):
            raise Bad(f"segment at {va:#x}: bad sizes")
        first, last = (va + bias) // PAGE, (va + bias + memsz - 1) // PAGE
        if (va + bias) < IMAGE_MIN or (va + bias + memsz) > IMAGE_MAX:
            raise Bad(f"segment at {va + bias:#x} is outside the image area")
        pages.append((first, last, va + bias))
    pages.sort()
    for a, b in zip(pages, pages[1:]):
        if b[0] <= a[1]:
            raise Bad(f"segments at {a[2]:#x} and {b[2]:#x} share page {b[0] * PAGE:#x}")
    if not any(p[1] & PF_X and p[3] <= entry < p[3] + p[5] for p in loads):
        raise Bad(f"entry {entry:#x} is not in an executable segment")

    dynamic = next((p for p in headers if p[0] == PT_DYNAMIC), None)
    relocs = check_relocations(data, e_type, loads, dynamic)
    found = [n for p in headers if p[0] == PT_NOTE for n in hv_notes(data, p)]
    notes = [d for (t, d) in found if t == HV_NOTE_GUEST]
    policies = [d for (t, d) in found if t == HV_NOTE_POLICY]
    if len(notes) > 1:
        raise Bad("more than one hv note")
    if len(policies) > 1:
        raise Bad("more than one restart-policy note")
    kind = "ET_EXEC" if e_type == ET_EXEC else f"ET_DYN ({relocs} RELATIVE relocations)"
    note = describe_note(notes[0]) if notes else "no note"
    if policies:
        note += ", " + describe_policy(policies[0])
    return f"{kind}, entry {entry + bias:#x}, {len(loads)} segments, {note}"


def main(paths):
    failed = 0
    for path in paths:
        try:
            print(f"ok    {path}: {check(path)}")
        except (Bad, struct.error, OSError) as e:
            failed += 1
            print(f"FAIL  {path}: {e}")
    print(f"{len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
