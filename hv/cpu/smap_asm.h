/* stac and clac around hv's accesses to guest memory, for assembly. Both
 * are #UD on a CPU without SMAP, and a flag test per access would cost
 * two instructions on the copies' hot paths, so they are assembled as a
 * 3-byte NOP of the same length and turned into the instruction at boot
 * where the CPU has SMAP (hv/cpu/entry_patch.c, as Linux's ALTERNATIVE
 * does): unpatched, a copy on a SMAP CPU faults and fails, never runs
 * with SMAP off. */
#pragma once

.macro smap_site last_byte
.Lsmap_site\@:
    .byte 0x0f, 0x1f, 0x00
    .pushsection .smap_patch, "a"
    .balign 8
    .quad .Lsmap_site\@, \last_byte
    .popsection
.endm

.macro SMAP_STAC
    smap_site 0xcb
.endm

.macro SMAP_CLAC
    smap_site 0xca
.endm
