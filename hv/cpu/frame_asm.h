/* Saving and restoring the general registers in struct trap_frame's order
 * (hv/cpu/trap.h): shared by the interrupt entry (isr.S) and the syscall
 * entry (vcpu/syscall_entry.S), which build the same frame. */
#pragma once

.macro push_gprs
    push %rax
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

.macro pop_gprs
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

/* clac where the CPU has SMAP (elsewhere the instruction is #UD): a flag
 * set once at boot (cpu_protections_enable), so a predictable branch. */
.macro clac_if_smap
    testb $1, cpu_entry_clac(%rip)
    jz .Lno_clac\@
    clac
.Lno_clac\@:
.endm
