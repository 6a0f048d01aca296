#!/usr/bin/env python3
"""Checks the UEFI stub's link (build/hv.so, before objcopy makes hv.efi of
it): gnu-efi's _relocate finds the stub's relocations through the dynamic
entries at the symbol _DYNAMIC (DT_RELA, DT_RELASZ), and efi/stub.lds puts
those entries inside .data. A layout where they do not point at the .rela
section would leave the stub unrelocated, which fails only where a pointer
stored in data is read: so the build checks it. Today the stub has no
relocation at all (no pointers in its data, no GOT entry), and no .rela.

  tools/check_stub_relocs.py build/hv.so      exit 0, or 1 with the reason
"""
import struct
import sys

DT_NULL, DT_RELA, DT_RELASZ = 0, 7, 8


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
    by_name = {s[0]: s for s in secs}
    rela = by_name.get(".rela")
    symtab = by_name.get(".symtab")
    if symtab is None:
        return "no .symtab to find _DYNAMIC in"
    names = secs[symtab[5]]
    dynamic = None
    for off in range(symtab[3], symtab[3] + symtab[4], 24):
        st_name, _info, _other, _shndx, value, _size = struct.unpack_from("<IBBHQQ", data, off)
        end = data.index(b"\0", names[3] + st_name)
        if data[names[3] + st_name:end] == b"_DYNAMIC":
            dynamic = value
    if dynamic is None:
        return "no symbol _DYNAMIC"
    home = [s for s in secs if s[1] == 1 and s[2] <= dynamic < s[2] + s[4]]  # PROGBITS
    home += [s for s in secs if s[1] == 6 and s[2] == dynamic]  # a .dynamic of its own
    if not home:
        return f"_DYNAMIC ({dynamic:#x}) lies in no section of the file"
    at = home[0][3] + dynamic - home[0][2]
    entries = {}
    while True:
        tag, val = struct.unpack_from("<qQ", data, at)
        if tag == DT_NULL:
            break
        entries[tag] = val
        at += 16
    if rela is None or rela[4] == 0:
        # No relocations at all is the stub as it should be (no pointer
        # stored in data, no GOT): _relocate finds no DT_RELA and has
        # nothing to do, and hv.efi has no .rela section. Relocations
        # elsewhere (inside .data, say) would be missed by _relocate.
        stray = [s[0] for s in secs if s[1] == 4 and s[4] > 0]  # SHT_RELA
        if stray or DT_RELA in entries:
            return (f"no .rela section but relocations in {stray or 'DT_RELA'}: "
                    "_relocate would not find them")
        return None
    want = (rela[2], rela[4])
    got = (entries.get(DT_RELA, 0), entries.get(DT_RELASZ, 0))
    if got != want:
        return (f"DT_RELA/DT_RELASZ say {got[0]:#x}/{got[1]}, the .rela section is at "
                f"{want[0]:#x}, {want[1]} bytes: _relocate would not relocate the stub")
    return None


if __name__ == "__main__":
    why = main(sys.argv[1])
    if why:
        print(f"check_stub_relocs: {sys.argv[1]}: {why}", file=sys.stderr)
        sys.exit(1)
