#!/usr/bin/env python3
"""hv.efi's relocation form: relocatable, with nothing to relocate.

The stub has no relocations (tools/check_stub_relocs.py), so hv.efi carries
no base-relocation data: no `.reloc` section (gnu-efi's crt0 adds a 12-byte
dummy one, which cost a 512-byte step of the file; efi/stub.lds discards
it) and an empty base-relocation data directory (entry 5: address 0, size
0). objcopy then marks the file IMAGE_FILE_RELOCS_STRIPPED, which would
make a loader place the image at its ImageBase, 0, and fail; this tool
clears that flag (and recomputes the PE checksum), which is the form
EDK2's BasePeCoffLib documents as "relocatable but has no base relocs to
apply" and systemd's elf2efi writes for an image without relocations
(docs/design.md, "The PE file", says which loaders were read).

  tools/pe_relocs.py --fix hv.efi   clear RELOCS_STRIPPED, then check
  tools/pe_relocs.py hv.efi         check only: exit 0, or 1 with the reason
  tools/pe_relocs.py --self-test    the check refuses the forms it must
"""
import struct
import sys

RELOCS_STRIPPED = 0x0001
DIR_BASERELOC = 5


def layout(data):
    """Offsets of the fields this tool reads, or a reason string."""
    if len(data) < 0x40 or data[:2] != b"MZ":
        return "not an MZ/PE file"
    pe, = struct.unpack_from("<I", data, 0x3c)
    if pe + 24 > len(data) or data[pe:pe + 4] != b"PE\0\0":
        return "no PE signature"
    nsec, = struct.unpack_from("<H", data, pe + 6)
    optsize, = struct.unpack_from("<H", data, pe + 20)
    opt = pe + 24
    if opt + optsize > len(data) or optsize < 112:
        return "the optional header is cut short"
    if struct.unpack_from("<H", data, opt)[0] != 0x20b:
        return "not PE32+"
    ndirs, = struct.unpack_from("<I", data, opt + 108)
    if 112 + 8 * ndirs > optsize:
        return "the data directories overflow the optional header"
    sec = opt + optsize
    if sec + 40 * nsec > len(data):
        return "the section table overflows the file"
    return {"chars": pe + 22, "checksum": opt + 64, "ndirs": ndirs, "dirs": opt + 112,
            "sections": [data[sec + 40 * i:sec + 40 * i + 8].rstrip(b"\0") for i in range(nsec)]}


def check(data):
    """None if `data` is relocatable with no relocation data, else why not."""
    at = layout(data)
    if isinstance(at, str):
        return at
    if at["ndirs"] <= DIR_BASERELOC:
        return (f"{at['ndirs']} data directories: shim refuses an image without the "
                "base-relocation entry")
    if struct.unpack_from("<H", data, at["chars"])[0] & RELOCS_STRIPPED:
        return "IMAGE_FILE_RELOCS_STRIPPED is set: a loader would place the image at ImageBase 0"
    rva, size = struct.unpack_from("<II", data, at["dirs"] + 8 * DIR_BASERELOC)
    if (rva, size) != (0, 0):
        return f"the base-relocation directory is {rva:#x}+{size}, not empty"
    if b".reloc" in at["sections"]:
        return "a .reloc section (the stub has nothing to relocate: efi/stub.lds discards crt0's)"
    if struct.unpack_from("<I", data, at["checksum"])[0] != checksum(data, at["checksum"]):
        return "the PE checksum is stale"
    return None


def checksum(data, at):
    """The PE image checksum: 16-bit one's-complement-style sum of the file
    with its own field taken as zero, plus the file's length."""
    buf = bytearray(data)
    buf[at:at + 4] = b"\0\0\0\0"
    if len(buf) % 2:
        buf.append(0)
    total = 0
    for (w,) in struct.iter_unpack("<H", bytes(buf)):
        total += w
        total = (total & 0xffff) + (total >> 16)
    total = (total & 0xffff) + (total >> 16)
    return (total + len(data)) & 0xffffffff


def fix(data):
    at = layout(data)
    if isinstance(at, str):
        return data
    buf = bytearray(data)
    chars, = struct.unpack_from("<H", buf, at["chars"])
    struct.pack_into("<H", buf, at["chars"], chars & ~RELOCS_STRIPPED)
    struct.pack_into("<I", buf, at["checksum"], checksum(buf, at["checksum"]))
    return bytes(buf)


def fake_pe(sections=(b".text", b".data"), chars=0x20e, reloc_dir=(0, 0), ndirs=16):
    """A minimal PE32+ header for the self-test."""
    optsize = 112 + 8 * ndirs
    buf = bytearray(0x200)
    buf[:2] = b"MZ"
    struct.pack_into("<I", buf, 0x3c, 0x40)
    buf[0x40:0x44] = b"PE\0\0"
    struct.pack_into("<HHIIIHH", buf, 0x44, 0x8664, len(sections), 0, 0, 0, optsize, chars)
    opt = 0x58
    struct.pack_into("<H", buf, opt, 0x20b)
    struct.pack_into("<I", buf, opt + 108, ndirs)
    if ndirs > DIR_BASERELOC:
        struct.pack_into("<II", buf, opt + 112 + 8 * DIR_BASERELOC, *reloc_dir)
    for i, name in enumerate(sections):
        buf[opt + optsize + 40 * i:opt + optsize + 40 * i + len(name)] = name
    return fix(bytes(buf)) if not chars & RELOCS_STRIPPED else bytes(buf)


def self_test():
    cases = [("the chosen form", fake_pe(), None),
             ("crt0's dummy .reloc", fake_pe((b".text", b".reloc", b".data"), reloc_dir=(0x5000, 12)),
              "base-relocation directory"),
             (".reloc section, empty directory", fake_pe((b".text", b".reloc", b".data")), ".reloc section"),
             ("RELOCS_STRIPPED (objcopy's output)", fake_pe(chars=0x20f), "RELOCS_STRIPPED"),
             ("five data directories", fake_pe(ndirs=5), "data directories"),
             ("stale checksum", fake_pe()[:0x98] + b"\1" + fake_pe()[0x99:], "checksum")]
    bad = 0
    for name, data, want in cases:
        got = check(data)
        ok = got is None if want is None else (got is not None and want in got)
        bad += not ok
        print(f"{'PASS' if ok else 'FAIL'} pe_relocs/{name}: {got or 'accepted'}")
    fixed = check(fix(fake_pe(chars=0x20f)))
    bad += fixed is not None
    print(f"{'PASS' if fixed is None else 'FAIL'} pe_relocs/--fix clears RELOCS_STRIPPED: "
          f"{fixed or 'accepted'}")
    return 1 if bad else 0


def main(argv):
    if argv[1:] == ["--self-test"]:
        return self_test()
    fixing = len(argv) == 3 and argv[1] == "--fix"
    if len(argv) != 2 + fixing:
        print(__doc__, file=sys.stderr)
        return 2
    path = argv[-1]
    data = open(path, "rb").read()
    if fixing:
        data = fix(data)
        with open(path, "wb") as f:
            f.write(data)
    why = check(data)
    if why:
        print(f"pe_relocs: {path}: {why}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
