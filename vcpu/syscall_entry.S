/* Hypercall entry: the guest's `syscall`. FMASK has cleared IF, TF, DF, NT
 * and AC, so nothing interrupts this and no guest flag reaches hv. The
 * guest's RSP is never used: the frame is built on this CPU's hypervisor
 * stack, in the same layout as an interrupt frame (struct trap_frame), so a
 * hypercall that switches vCPUs returns through the same path as anything
 * else. */
#include "hv/cpu/gdt.h"
#include "hv/cpu/frame_asm.h"
#include "hv/cpu/percpu.h"

#define VEC_SYSCALL 0x100

    .text
    .globl syscall_entry
    .type syscall_entry, @function
syscall_entry:
    swapgs
    mov %rsp, %gs:PERCPU_USER_RSP
    mov %gs:PERCPU_KERNEL_RSP, %rsp
    pushq $SEL_USER_DATA            /* ss */
    pushq %gs:PERCPU_USER_RSP       /* rsp */
    pushq %r11                      /* rflags, as syscall saved them */
    pushq $SEL_USER_CODE            /* cs */
    pushq %rcx                      /* rip */
    pushq $0                        /* error code */
    pushq $VEC_SYSCALL
    push_gprs
    xor %ebp, %ebp
    mov %rsp, %rdi
    call *hypercall_entry_fn(%rip)   /* hypercall_entry; hv/debug/irqoff.h */
    /* C decided how to leave: sysret only for a frame made by syscall whose
     * RIP is canonical (CVE-2012-0217), else the general iretq path. */
    cmpq $0, %gs:PERCPU_SYSRET_OK
    je trap_return
    pop_gprs
    mov 16(%rsp), %rcx              /* rip */
    mov 32(%rsp), %r11              /* rflags, sanitised by C */
    mov 40(%rsp), %rsp              /* guest rsp */
    swapgs
    sysretq

    .section .note.GNU-stack,"",@progbits
