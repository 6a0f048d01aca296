/* The hypervisor core, linked separately at its upper-half address, rides
 * inside the UEFI application as data, packed (lib/lz.h); efi/core_load.c
 * unpacks and places it. */
    .section .rodata
    .globl hv_core_packed_start, hv_core_packed_end
hv_core_packed_start:
    .incbin HV_CORE_PACKED_PATH
hv_core_packed_end:

    .section .note.GNU-stack,"",@progbits
