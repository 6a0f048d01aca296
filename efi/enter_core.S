/* void stub_enter_core(uint64_t pml4_phys, uint64_t entry, uint64_t arg)
 * Switch to the boot page tables and jump to the core. The stub is built
 * with the firmware's calling convention (-mabi=ms): the arguments come in
 * %rcx, %rdx and %r8; the core takes its one argument in %rdi (System V).
 * This code runs from the identity map, which the boot tables keep, so the
 * instruction after the CR3 load is still mapped. The core sets up its own
 * stack at once. */
    .text
    .globl stub_enter_core
    .type stub_enter_core, @function
stub_enter_core:
    cli
    mov %rcx, %cr3
    mov %r8, %rdi
    xor %ebp, %ebp
    jmp *%rdx

    .section .note.GNU-stack,"",@progbits
