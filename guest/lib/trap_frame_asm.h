/* Saving and restoring a guest trap frame's general registers (struct
 * hvg_trap_frame, guest/include/hvg_cpu.h), for the SDK's entry stubs:
 * trap_entry.S (through hv) and trap_fast.S (the direct gate) build the
 * same frame. rax is pushed by each stub itself, before this. */
#pragma once

/* Pushes the general registers in the order struct hvg_trap_frame lists
 * them from the top (rax highest, r15 at the frame's address). */
.macro SAVE_AFTER_RAX
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
.endm

.macro RESTORE_ALL
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
.endm
