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

/* int stub_unpack_on_stack(buf, size, out, out_size, stack_top): System V
 * (efi/stub.h), so the arguments are lz_unpack's already, stack_top in %r8;
 * the C caller saves what the firmware's convention keeps. */
    .globl stub_unpack_on_stack
    .type stub_unpack_on_stack, @function
stub_unpack_on_stack:
    push %rbp
    mov %rsp, %rbp
    mov %r8, %rsp
    call lz_unpack
    leave
    ret

    .section .note.GNU-stack,"",@progbits
