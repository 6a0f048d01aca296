/* The x86 branch filter the core's code travels through inside BOOTX64.EFI
 * (tools/lzpack.c applies it before packing, the UEFI stub undoes it after
 * unpacking): in the executable segment, the 32-bit displacement after each
 * E8 (call) and E9 (jmp) byte becomes the target's offset from the segment's
 * start. A function called from many places is then the same four bytes at
 * every call, which the packer finds as matches; as displacements they
 * differ at every call site. The packed core: 3.3 KB smaller
 * (docs/benchmarks.md hv_image_bytes).
 *
 * Which bytes are changed depends only on what both sides see alike:
 * scanning from the start, an E8 or E9 byte with four bytes after it inside
 * the segment takes those four (whatever instruction they really belong
 * to), and the scan goes on after them. Those four bytes are changed only
 * if their top byte is 0x00 or 0xFF (a value v in [-2^24, 2^24), the
 * displacements of a segment under 16 MiB), into another value in the same
 * range: v plus the offset just after them, wrapped modulo 2^25 into that
 * range, which the stub subtracts again. Any input comes back exactly
 * (tests/unit/test_branch_filter.c tries every kind). Little endian: x86
 * only. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Displacements to offsets (the packer) and back (the stub), in place. */
void branch_filter_encode(uint8_t *code, size_t size);
void branch_filter_decode(uint8_t *code, size_t size);
/* Both are applied to the bytes in the file of each executable PT_LOAD
 * segment of the core's ELF file (offsets from the segment's start), in
 * program-header order: tools/lzpack.c, efi/core_load.c. */
