#!/usr/bin/env python3
"""Checks the UEFI stub's link (build/hv.so, before objcopy makes hv.efi of
it): the stub must have no relocation at all. The firmware loads hv.efi
wherever it likes, and nothing adjusts the stub there: the stub links no
gnu-efi crt0 or self-relocation (efi_main is the PE entry point), and
hv.efi carries neither `.rela` nor `.dynamic` nor base relocations
(tools/pe_relocs.py). A relocation (a pointer stored in data, a
GOT entry) would be left unapplied and fail only where that pointer is
read, so the build fails on it instead.

  tools/check_stub_relocs.py build/hv.so      exit 0, or 1 with the reason
"""
import struct
import sys

SHT_RELA, SHT_REL, SHT_DYNAMIC = 4, 9, 6
DT_NULL, DT_RELA, DT_REL = 0, 7, 17


def main(path):
    data = open(path, "rb").read()
    if data[:4] != b"\x7fELF" or data[4] != 2:
        return "not a 64-bit ELF file"
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    secs = []
    for i in range(shnum):
        name, typ, _flags, addr, off, size, link, _info, _al, entsize = struct.unpack_from(
            "<IIQQQQIIQQ", data, shoff + i * shentsize)
        secs.append([name, typ, addr, off, size, link, entsize])
    strtab = secs[shstrndx]
    for s in secs:
        end = data.index(b"\0", strtab[3] + s[0])
        s[0] = data[strtab[3] + s[0]:end].decode()
    stray = [f"{s[0]} ({s[4]} bytes)" for s in secs if s[1] in (SHT_RELA, SHT_REL) and s[4] > 0]
    if stray:
        return (f"relocations in {', '.join(stray)}: nothing applies them "
                "(the stub has no self-relocation); a pointer stored in the stub's data is the usual cause")
    for s in secs:
        if s[1] != SHT_DYNAMIC:
            continue
        for at in range(s[3], s[3] + s[4], 16):
            tag, _val = struct.unpack_from("<qQ", data, at)
            if tag == DT_NULL:
                break
            if tag in (DT_RELA, DT_REL):
                return "the dynamic entries name a relocation table: nothing applies it"
    return None


if __name__ == "__main__":
    why = main(sys.argv[1])
    if why:
        print(f"check_stub_relocs: {sys.argv[1]}: {why}", file=sys.stderr)
        sys.exit(1)
