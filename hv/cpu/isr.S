/* Entry stubs for all 256 vectors, 16 bytes apart so the IDT can compute
 * their addresses. Each makes the frame uniform (a zero error code where the
 * CPU pushes none, then the vector) and joins isr_common, which saves the
 * general registers as struct trap_frame and calls trap_dispatch. */
#include "hv/cpu/frame_asm.h"

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
    jmp isr_common
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
    /* Coming from ring 3, GS still holds the guest's base: switch to ours. */
    testb $3, 24(%rsp)
    jz 1f
    swapgs
1:
    push_gprs
    cld
    mov %rsp, %rdi
    call *trap_dispatch_fn(%rip)     /* trap_dispatch; hv/debug/irqoff.h */
    .globl trap_return
trap_return:
    pop_gprs
    testb $3, 24(%rsp)
    jz 2f
    swapgs
2:
    add $16, %rsp
    iretq

    .section .note.GNU-stack,"",@progbits
