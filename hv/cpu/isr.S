/* Entry stubs for all 256 vectors, 16 bytes apart so the IDT can compute
 * their addresses. Each makes the frame uniform (a zero error code where the
 * CPU pushes none, then the vector) and joins isr_common, which saves the
 * general registers as struct trap_frame and calls trap_dispatch.
 *
 * The vectors with an IST stack (#DB, NMI, #DF, #MC) join isr_paranoid
 * instead: they can arrive anywhere, including the few instructions of the
 * syscall entry and exit where CS is hv's but GS (and RSP) still the
 * guest's, so the saved CS alone cannot say whether to swapgs. */
#include "hv/cpu/frame_asm.h"
#include "hv/cpu/percpu.h"

#define MSR_GS_BASE 0xc0000101
/* CS in the frame before push_gprs (vector, error code, CPU frame). */
#define STUB_CS 24
#define TRAP_FRAME_QWORDS 22 /* sizeof(struct trap_frame) / 8 */

    .text
    .altmacro

.macro isr_stub n
    .balign 16
    /* Vectors where the CPU pushes an error code: #DF #TS #NP #SS #GP #PF #AC #CP #VC #SX. */
    .if (\n == 8) || (\n == 10) || (\n == 11) || (\n == 12) || (\n == 13) || (\n == 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
    .else
    pushq $0
    .endif
    pushq $\n
    .if (\n == 1) || (\n == 2) || (\n == 8) || (\n == 18)
    jmp isr_paranoid
    .else
    jmp isr_common
    .endif
.endm

    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    isr_stub %vec
    .set vec, vec + 1
    .endr

isr_common:
    /* RFLAGS.AC is whatever the interrupted code had (a gate clears TF
     * and IF, not AC): a guest's AC would turn SMAP off in hv. */
    clac_if_smap
    /* Coming from ring 3, GS still holds the guest's base: switch to ours. */
    testb $3, STUB_CS(%rsp)
    jz 1f
    swapgs
1:
    push_gprs
    cld
dispatch_on_this_stack:
    mov %rsp, %rdi
    cmpb $0, irqoff_measuring(%rip)  /* make bench's timing: hv/debug/irqoff.h */
    jne measured_dispatch
    call trap_dispatch
    .globl trap_return
trap_return:
    pop_gprs
    testb $3, STUB_CS(%rsp)
    jz 2f
    swapgs
2:
    add $16, %rsp
    iretq

measured_dispatch:
    call irqoff_trap_dispatch
    jmp trap_return

/* Linux's "paranoid entry". From ring 3 the saved CS is the truth: take
 * hv's GS and move the frame to the hypervisor stack, so what follows
 * (delivery to the guest, a vCPU switch) runs as after any other entry
 * and the IST stack is free again. From hv, the frame stays on the IST
 * stack, and GS is hv's exactly when IA32_GS_BASE holds an upper-half
 * address: guests' GS bases are always 0 (no FSGSBASE, no MSR access; see
 * vcpu/vcpu.c), hv's per-CPU area is in the upper half. The exit puts GS
 * back as it found it. */
isr_paranoid:
    clac_if_smap
    testb $3, STUB_CS(%rsp)
    jnz paranoid_from_guest
    push_gprs
    cld
    mov $MSR_GS_BASE, %ecx
    rdmsr
    xor %ebx, %ebx                  /* rbx (callee-saved): 1 if we swapped */
    test %edx, %edx
    js 3f
    swapgs
    mov $1, %ebx
3:
    mov %rsp, %rdi
    call trap_dispatch
    test %ebx, %ebx
    jz 4f
    swapgs
4:
    pop_gprs
    add $16, %rsp
    iretq

paranoid_from_guest:
    swapgs
    push_gprs
    cld
    mov %rsp, %rsi
    mov %gs:PERCPU_KERNEL_RSP, %rsp
    sub $(TRAP_FRAME_QWORDS * 8), %rsp
    mov %rsp, %rdi
    mov $TRAP_FRAME_QWORDS, %ecx
    rep movsq
    jmp dispatch_on_this_stack

    .section .note.GNU-stack,"",@progbits
