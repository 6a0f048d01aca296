/* The common part of fast-gate stubs (HVG_FAST_ENTRY in hvg_cpu.h). The
 * CPU enters a fast gate directly, in the current mode, address space and
 * stack, so this code lives in .user.text: a guest kernel maps that section
 * into its user spaces at the same address. It returns with a plain iretq:
 * no hypervisor on the way in or out.
 *
 * Entered with, from the top: the native frame (no error code), 0, the
 * vector, the interrupted rax; and rax = the C handler. */

    .section .user.text, "ax", @progbits
    .globl hvg_fast_common
    .type hvg_fast_common, @function
hvg_fast_common:
    /* The same layout as trap_entry.S builds: struct hvg_trap_frame. */
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp
    cld
    call *%rax
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp
    iretq
    .size hvg_fast_common, . - hvg_fast_common

    .section .note.GNU-stack, "", @progbits
