#!/usr/bin/env python3
"""Writes a copy of an OVMF code image (Debian's OVMF_CODE_4M.fd or its
Secure Boot build) whose TPM probe gives up at once, for the system tests.

    tests/tools/ovmf_no_tpm_wait.py IN OUT

Why: OVMF's Tcg2ConfigPei looks for a TPM at 0xfed40000 in every boot. On
QEMU without a TPM that address reads 0, not the 0xff the presence check
takes for "absent", so it waits TIS_TIMEOUT_A (750 ms of the guest's PM
timer) for the TIS "valid" bit twice, once for TPM 1.2 and once for TPM 2:
~1.5 s of busy polling in each boot (under TCG more; 1.7 of a trivial
boot's 5.9 s of QEMU CPU time, measured by sampling the guest's RIP), and
make test boots ~300 times. The copy has the two 750,000 us timeouts of
that module (its only 0x000b71b0 immediates) set to 44 us: it finds no
TPM, as before, and installs the same "no TPM" PPIs; nothing else differs.
hv does not use a TPM, and no test judges the firmware's TPM probe.

How: the code image's first firmware volume holds one file, an LZMA section
with the PEI and DXE volumes; it is unpacked (Python's lzma reads EDK2's
13-byte LZMA header), the module is found by its UI name, the two
immediates are changed, and the volume packed again (LZMA1, lc 3 lp 0 pb 2,
the header's size field set, as EDK2's decoder reads it) in place of the
old section, the file's size and header checksum updated, the rest of the
volume erased (0xff). Every step is checked (one file, the LZMA GUID, the
module, exactly two immediates, the new stream unpacks to the patched
volume, the file fits); on any surprise OUT is not written and the exit
status is 1: the tests then boot the stock image (tests/system/run.py says
so). The volume's header and the SEC volume are untouched."""

import lzma
import os
import struct
import sys
import uuid

LZMA_GUID = uuid.UUID("EE4E5898-3914-4259-9D6E-DC7BD79403CF").bytes_le
SECTION_GUID_DEFINED, SECTION_UI, SECTION_FV_IMAGE = 0x02, 0x15, 0x17
FILE_PEIM = 0x06
MODULE = "Tcg2ConfigPei"
OLD = struct.pack("<I", 750_000)   # TIS_TIMEOUT_A in us
NEW = struct.pack("<I", 44)        # same byte sum: a data checksum, if any, still holds


class Refused(Exception):
    pass


def ffs_files(d, fv):
    """(offset, type, size, header size) of each file of the volume at fv."""
    if d[fv + 0x28:fv + 0x2c] != b"_FVH":
        raise Refused(f"no firmware volume at {fv:#x}")
    length, = struct.unpack_from("<Q", d, fv + 0x20)
    hlen, = struct.unpack_from("<H", d, fv + 0x30)
    ext, = struct.unpack_from("<H", d, fv + 0x34)
    off = fv + hlen
    if ext:
        off = fv + ext + struct.unpack_from("<I", d, fv + ext + 16)[0]
    end = fv + length
    while True:
        off = (off + 7) & ~7
        if off + 24 > end or d[off:off + 24] == b"\xff" * 24:
            return
        typ, attr = d[off + 18], d[off + 19]
        size, hdr = int.from_bytes(d[off + 20:off + 23], "little"), 24
        if attr & 0x01:  # FFS_ATTRIB_LARGE_FILE
            size, hdr = struct.unpack_from("<Q", d, off + 24)[0], 32
        if size < hdr or off + size > end:
            raise Refused(f"a file at {off:#x} runs past its volume")
        yield off, typ, size, hdr
        off += size


def sections(d, start, end):
    """(offset, type, size, header size) of each section in [start, end)."""
    off = start
    while True:
        off = (off + 3) & ~3
        if off + 4 > end:
            return
        size, typ, hdr = int.from_bytes(d[off:off + 3], "little"), d[off + 3], 4
        if size == 0xffffff:
            size, hdr = struct.unpack_from("<I", d, off + 4)[0], 8
        if size < hdr or off + size > end:
            raise Refused(f"a section at {off:#x} runs past its file")
        yield off, typ, size, hdr
        off += size


def patch_module(volumes):
    """Changes the module's timeouts in the unpacked volumes (in place)."""
    found = []
    for so, st, ss, sh in sections(volumes, 0, len(volumes)):
        if st != SECTION_FV_IMAGE:
            continue
        for fo, ft, fs, fh in ffs_files(volumes, so + sh):
            if ft != FILE_PEIM:
                continue
            names = [volumes[o + h:o + s].decode("utf-16-le").rstrip("\0")
                     for o, t, s, h in sections(volumes, fo + fh, fo + fs) if t == SECTION_UI]
            if names == [MODULE]:
                found.append((fo, fs))
    if len(found) != 1:
        raise Refused(f"{len(found)} PEIMs named {MODULE}")
    fo, fs = found[0]
    body = bytes(volumes[fo:fo + fs])
    hits = [i for i in range(len(body) - 3) if body[i:i + 4] == OLD]
    if len(hits) != 2:
        raise Refused(f"{MODULE} has {len(hits)} immediates 750,000, not 2")
    for i in hits:
        volumes[fo + i:fo + i + 4] = NEW


def header_sum(ffs):
    """The FFS header checksum: with it, the header's bytes sum to 0, the
    file checksum and the state taken as 0."""
    return -(sum(ffs[:24]) - ffs[16] - ffs[17] - ffs[23]) & 0xff


def patched(d):
    files = list(ffs_files(d, 0))
    if len(files) != 1:
        raise Refused(f"the first volume holds {len(files)} files, not 1")
    off, _, size, hdr = files[0]
    if header_sum(d[off:off + 24]) != d[off + 16]:
        raise Refused("the file's header checksum is not EDK2's")
    secs = list(sections(d, off + hdr, off + size))
    if len(secs) != 1 or secs[0][1] != SECTION_GUID_DEFINED or secs[0][3] != 4:
        raise Refused("the file is not one GUID-defined section")
    so, st, ss, sh = secs[0]
    if d[so + 4:so + 20] != LZMA_GUID:
        raise Refused("the section is not LZMA")
    data_off, = struct.unpack_from("<H", d, so + 20)
    old = bytes(d[so + data_off:so + ss])
    volumes = bytearray(lzma.decompress(old, format=lzma.FORMAT_ALONE))
    if len(volumes) != struct.unpack_from("<Q", old, 5)[0]:
        raise Refused("the unpacked size differs from the header's")
    patch_module(volumes)
    new = bytearray(lzma.compress(bytes(volumes), format=lzma.FORMAT_ALONE, filters=[
        {"id": lzma.FILTER_LZMA1, "preset": 6, "lc": 3, "lp": 0, "pb": 2, "dict_size": 1 << 24}]))
    new[5:13] = struct.pack("<Q", len(volumes))  # EDK2 sizes its buffer from it
    if lzma.decompress(bytes(new), format=lzma.FORMAT_ALONE) != volumes:
        raise Refused("the packed volumes do not unpack to the patched ones")
    section = bytearray(d[so:so + data_off]) + new
    section[0:3] = len(section).to_bytes(3, "little")
    ffs = bytearray(d[off:off + hdr]) + section
    if hdr != 24 or len(ffs) >= 1 << 24:
        raise Refused("the new file does not fit a small file's header")
    ffs[20:23] = len(ffs).to_bytes(3, "little")
    ffs[16] = header_sum(ffs)
    fv_len, = struct.unpack_from("<Q", d, 0x20)
    if off + len(ffs) > fv_len:
        raise Refused("the packed volumes no longer fit the firmware volume")
    out = bytearray(d)
    out[off:fv_len] = ffs + b"\xff" * (fv_len - off - len(ffs))
    return out


def main():
    if len(sys.argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    src, dst = sys.argv[1:]
    with open(src, "rb") as f:
        d = bytearray(f.read())
    try:
        out = patched(d)
    except (Refused, lzma.LZMAError, UnicodeDecodeError, struct.error) as e:
        print(f"ovmf_no_tpm_wait: {src}: {e}: not written (the tests boot the stock image)",
              file=sys.stderr)
        return 1
    with open(dst + ".tmp", "wb") as f:
        f.write(out)
    os.replace(dst + ".tmp", dst)
    return 0


if __name__ == "__main__":
    sys.exit(main())
