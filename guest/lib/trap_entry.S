/* Entry stubs for trap and system-call handlers written in C, and the way
 * into guest user mode (guest/include/hvg_cpu.h). hv delivers an exception
 * or a system call by pushing the native frame (ss, rsp, rflags, cs, rip
 * and, for some vectors, an error code) on a 16-byte aligned stack and
 * jumping to the registered address; these stubs complete it into a
 * struct hvg_trap_frame, call C, and leave through HV_CALL_IRET.
 * Position-independent, for ET_EXEC and static-pie guests alike. */

/* include/hv/abi.h is C only; guest/lib/cpu.c checks these match it. */
#define HVG_CALL_IRET 10
#define HVG_KERNEL_CS 0x23
#define HVG_USER_CS 0x3b
#define HVG_DATA_SS 0x1b
#define HVG_VECTOR_SYSCALL 0x100
#define HVG_STUB_SIZE 16

#include "guest/lib/trap_frame_asm.h"

    .text

/* hvg_trap_stubs + 16 * vector: push 0 where the CPU pushes no error code,
 * push the vector, go to the common part. Each stub starts at its .org, so
 * the stride is fixed; one that outgrew 16 bytes would make the assembler
 * fail ("attempt to move .org backwards"). */
    .balign HVG_STUB_SIZE
    .globl hvg_trap_stubs
    .type hvg_trap_stubs, @function
hvg_trap_stubs:
    vector = 0
    .rept 256
    .org hvg_trap_stubs + vector * HVG_STUB_SIZE, 0xcc
    .if !((vector == 8) || ((vector >= 10) && (vector <= 14)) || (vector == 17) || (vector == 21) || (vector == 29) || (vector == 30))
    pushq $0
    .endif
    .if vector < 128
    .byte 0x6a, vector              /* pushq $imm8 */
    .else
    .byte 0x68                      /* pushq $imm32: imm8 would sign-extend */
    .long vector
    .endif
    .byte 0xe9                      /* jmp rel32 */
    .long hvg_trap_common - . - 4
    vector = vector + 1
    .endr
    .org hvg_trap_stubs + 256 * HVG_STUB_SIZE, 0xcc
    .size hvg_trap_stubs, . - hvg_trap_stubs

/* `syscall` from guest user mode: the native frame has no error code. */
    .globl hvg_syscall_entry
    .type hvg_syscall_entry, @function
hvg_syscall_entry:
    pushq $0
    pushq $HVG_VECTOR_SYSCALL
    jmp hvg_trap_common
    .size hvg_syscall_entry, . - hvg_syscall_entry

    /* Global: the event upcall entries (event_entry.S) join here too. */
    .globl hvg_trap_common
    .type hvg_trap_common, @function
hvg_trap_common:
    push %rax
    SAVE_AFTER_RAX
    mov %rsp, %rdi
    /* hv aligns the native frame, which makes rsp 16-byte aligned here
     * already; aligning again costs one instruction and keeps C safe
     * whatever it was entered with. */
    mov %rsp, %rbx
    and $-16, %rsp
    cld                             /* the C ABI wants DF clear; the frame keeps it */
    call hvg_trap_dispatch
    mov %rbx, %rsp
    RESTORE_ALL
    add $16, %rsp                   /* vector, error code: rsp is at the native frame */
    /* struct hv_iret_frame: flags, r11, rcx, rax on top of the native frame. */
    pushq $0
    push %r11
    push %rcx
    push %rax
    mov $HVG_CALL_IRET, %eax
    syscall
    jmp iret_failed                 /* HV_CALL_IRET returns only with an error */
    .size hvg_trap_common, . - hvg_trap_common

/* int64_t hvg_user_run(struct hvg_user_context *ctx, uint64_t rip,
 *                      uint64_t rsp, uint64_t arg)
 * Saves what hvg_user_return needs to come back here, then returns "into"
 * user mode with HV_CALL_IRET. */
    .globl hvg_user_run
    .type hvg_user_run, @function
hvg_user_run:
    mov %rbx, 0(%rdi)
    mov %rbp, 8(%rdi)
    mov %r12, 16(%rdi)
    mov %r13, 24(%rdi)
    mov %r14, 32(%rdi)
    mov %r15, 40(%rdi)
    mov %rsp, 48(%rdi)              /* at the return address: hvg_user_resume rets */
    pushfq
    popq 56(%rdi)
    pushq $HVG_DATA_SS
    push %rdx                       /* rsp */
    pushq $0x202                    /* rflags: IF (events unmasked) and the fixed bit 1 */
    pushq $HVG_USER_CS
    push %rsi                       /* rip */
    pushq $0                        /* flags */
    pushq $0                        /* r11 */
    pushq $0                        /* rcx */
    pushq $0                        /* rax */
    mov %rcx, %rdi
    /* Nothing of the kernel's registers reaches user mode. */
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    mov $HVG_CALL_IRET, %eax
    syscall
    jmp iret_failed
    .size hvg_user_run, . - hvg_user_run

/* Where hvg_user_return sends a handler's return: rsp is the one
 * hvg_user_run was called with, rax the value, callee-saved registers the
 * caller's. */
    .globl hvg_user_resume
    .type hvg_user_resume, @function
hvg_user_resume:
    ret
    .size hvg_user_resume, . - hvg_user_resume

iret_failed:
    mov %rax, %rdi
    and $-16, %rsp
    call hvg_iret_failed            /* prints and ends the guest */
    ud2

    .section .note.GNU-stack, "", @progbits
