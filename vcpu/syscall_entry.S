/* Hypercall entry: the guest's `syscall`. FMASK has cleared IF, TF, DF, NT
 * and AC, so nothing but NMI, #MC and #DB interrupts this and no guest flag
 * reaches hv. Those three come with IST stacks and check GS themselves
 * (hv/cpu/isr.S): a #DB can arrive on the very first instruction (a
 * single-step or breakpoint deferred by MOV SS), with the guest's RSP and
 * GS, and hv/cpu/trap.c drops it. The
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
    clac_if_smap                    /* FMASK did it; kept should FMASK change */
    mov %rsp, %gs:PERCPU_USER_RSP
    mov %gs:PERCPU_KERNEL_RSP, %rsp
    .globl syscall_entry_on_hv_stack
syscall_entry_on_hv_stack:          /* end of the window with the guest's RSP */
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
    cmpb $0, irqoff_measuring(%rip)  /* make bench's timing: hv/debug/irqoff.h */
    jne measured_hypercall
    call hypercall_entry
hypercall_done:
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

measured_hypercall:
    call irqoff_hypercall_entry
    jmp hypercall_done

    .section .note.GNU-stack,"",@progbits
