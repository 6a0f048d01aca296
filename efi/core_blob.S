/* The hypervisor core, linked separately at its upper-half address, rides
 * inside the UEFI application as data; efi/core_load.c places it. */
    .section .rodata
    .balign 4096
    .globl hv_core_elf_start, hv_core_elf_end
hv_core_elf_start:
    .incbin HV_CORE_ELF_PATH
hv_core_elf_end:

    .section .note.GNU-stack,"",@progbits
