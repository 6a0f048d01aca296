#!/usr/bin/env python3
"""The core ELF file as BOOTX64.EFI carries it (packed: lib/lz.h), with
section headers only where hv reads one: the ELF header, the program
headers and the segments' bytes (one after the other, not at the link's
page-aligned offsets), then the function table (hv/debug/symtab.h), then
two section headers, the null one and the table's. hv finds the table as the one section that starts with its magic
(hv/debug/symbols.c) and the stub reads only program headers
(efi/core_load.c): the other nine sections' headers and their name table
packed to 154 bytes (docs/benchmarks.md hv_image_bytes). gdb reads
hv-core.elf, which keeps all of them.

  core_sections.py CORE_ELF HVSYMS OUT
"""
import struct
import sys

SHT_PROGBITS = 1
PT_LOAD = 1


def main():
    core, table_path, out = sys.argv[1:4]
    elf = open(core, "rb").read()
    table = open(table_path, "rb").read()
    if elf[:4] != b"\x7fELF" or elf[4] != 2 or elf[5] != 1:
        sys.exit(f"{core}: not a little-endian ELF64 file")
    (machine,) = struct.unpack_from("<H", elf, 0x12)
    (phoff,) = struct.unpack_from("<Q", elf, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", elf, 0x36)
    # The stub trusts what this writes: a wrong or truncated input stops
    # the build here rather than packing shifted segments.
    if machine != 62 or phentsize != 56 or phnum == 0 or phoff + phentsize * phnum > len(elf):
        sys.exit(f"{core}: not an x86-64 ELF with program headers inside the file")
    # The segments one after the other, without the link's page padding
    # (the stub copies each to its address, and 10 KB of zeros cost one
    # unpacking instruction a byte).
    body = bytearray(elf[:phoff + phentsize * phnum])
    for i in range(phnum):
        at = phoff + i * phentsize
        p_type, _, p_offset, _, _, p_filesz = struct.unpack_from("<IIQQQQ", elf, at)
        if p_type != PT_LOAD:
            continue
        body += bytes(-len(body) % 16)
        struct.pack_into("<Q", body, at + 8, len(body))
        if p_offset + p_filesz > len(elf):
            sys.exit(f"{core}: segment {i} ends at {p_offset + p_filesz}, past the file's "
                     f"{len(elf)} bytes")
        body += elf[p_offset:p_offset + p_filesz]
    table_off = len(body)
    body += table
    body += bytes(-len(body) % 8)
    shoff = len(body)
    body += bytes(64)  # the null section
    body += struct.pack("<IIQQQQIIQQ", 0, SHT_PROGBITS, 0, 0, table_off, len(table), 0, 0, 1, 0)
    # e_shoff, then e_shentsize, e_shnum, e_shstrndx (none: no names)
    struct.pack_into("<Q", body, 0x28, shoff)
    struct.pack_into("<HHH", body, 0x3A, 64, 2, 0)
    open(out, "wb").write(bytes(body))


if __name__ == "__main__":
    main()
