/* The common part of fast-gate stubs (HVG_FAST_ENTRY in hvg_cpu.h). The
 * CPU enters a fast gate directly, in the current mode, address space and
 * stack, so this code lives in .user.text: a guest kernel maps that section
 * into its user spaces at the same address. It returns with a plain iretq:
 * no hypervisor on the way in or out.
 *
 * Entered with, from the top: the native frame (no error code), 0, the
 * vector, the interrupted rax; and rax = the C handler. */

#include "guest/lib/trap_frame_asm.h"

    .section .user.text, "ax", @progbits
    .globl hvg_fast_common
    .type hvg_fast_common, @function
hvg_fast_common:
    /* The same layout as trap_entry.S builds: struct hvg_trap_frame. */
    SAVE_AFTER_RAX
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp
    cld
    call *%rax
    mov %rbx, %rsp
    RESTORE_ALL
    add $16, %rsp
    iretq
    .size hvg_fast_common, . - hvg_fast_common

    .section .note.GNU-stack, "", @progbits
