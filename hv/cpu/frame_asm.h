/* Saving and restoring the general registers in struct trap_frame's order
 * (hv/cpu/trap.h): shared by the interrupt entry (isr.S) and the syscall
 * entry (vcpu/syscall_entry.S), which build the same frame. */
#pragma once

#include "hv/cpu/entry_flags.h"
#include "hv/cpu/percpu.h"

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

/* A call or a `je` (rel32: `{disp32} je`) that make bench's interrupts-off
 * timing redirects to `target` at boot (hv/debug/irqoff.c,
 * irqoff_patch_entries), so the straight path tests nothing for it. The
 * entry holds the instruction's and the target's addresses, each relative
 * to itself. */
.macro measure_patch target
.Lmeasure_site\@:
    .pushsection .measure_patch, "a"
    .balign 4
    .long .Lmeasure_site\@ - .
    .long \target - .
    .popsection
.endm

/* clac where the CPU has SMAP (elsewhere the instruction is #UD): a flag
 * set once at boot (cpu_protections_enable), so a predictable branch. */
.macro clac_if_smap
    testb $1, cpu_entry_clac(%rip)
    jz .Lno_clac\@
    clac
.Lno_clac\@:
.endm

/* The entry mitigations (hv/cpu/entry_flags.h), each behind its switch.
 *
 * A switch that is on must not be skippable even speculatively (a branch
 * predictor trained by a guest could run past an lfence or the register
 * clearing): its branch is a patch site, which hv/cpu/entry_patch.c turns
 * into a NOP at boot when the mitigation is on, as Linux's ALTERNATIVE
 * does. Off, the branch stays and skips the block. */
.macro skip_unless_patched flag, label
.Lpatch_site\@:
    jz \label
    .pushsection .entry_patch, "a"
    .balign 8
    .quad .Lpatch_site\@, \flag
    .popsection
.endm

/* Guest values left in registers could steer speculative gadgets in the C
 * code that runs next: they are saved in the frame, so zero them all. */
.macro clear_gprs_if_on
    testb $ENTRY_CLEAR_REGS, entry_flags(%rip)
    skip_unless_patched ENTRY_CLEAR_REGS, .Lkeep_gprs\@
    xor %eax, %eax
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    xor %edi, %edi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
.Lkeep_gprs\@:
.endm

/* After a conditional swapgs: the CPU may have speculated past the branch
 * either way and run a GS-relative load with the wrong base
 * (CVE-2019-1125); lfence stops that. */
.macro swapgs_fence_if_on
    testb $ENTRY_SWAPGS_FENCE, entry_flags(%rip)
    skip_unless_patched ENTRY_SWAPGS_FENCE, .Lno_fence\@
    lfence
.Lno_fence\@:
.endm

/* Page-table isolation, at an entry from a guest with hv's GS loaded: on to
 * hv's full tables of the loaded space (every register is the guest's, so
 * one is parked in the per-CPU scratch slot). */
.macro xpti_switch_to_kernel_cr3
    mov %rax, %gs:PERCPU_SCRATCH
    mov %gs:PERCPU_KERNEL_CR3, %rax
    mov %rax, %cr3
    incq %gs:PERCPU_CR3_WRITES
    mov %gs:PERCPU_SCRATCH, %rax
    movq $0, %gs:PERCPU_SCRATCH     /* no guest value stays on a mapped page */
.endm

/* ...and back to the guest's isolated tables at the exit, every register
 * but RSP the guest's again. With PCID the first exit after a change of
 * the guest's mappings flushes its tag; user_cr3_next is that CR3 without
 * the flush, for the exits after it. */
.macro xpti_load_user_cr3_rax       /* RAX is free (the sysret exit) */
    mov %gs:PERCPU_USER_CR3, %rax
    mov %rax, %cr3
    incq %gs:PERCPU_CR3_WRITES
    mov %gs:PERCPU_USER_CR3_NEXT, %rax
    mov %rax, %gs:PERCPU_USER_CR3
.endm

.macro xpti_switch_to_user_cr3
    mov %rax, %gs:PERCPU_SCRATCH
    xpti_load_user_cr3_rax
    mov %gs:PERCPU_SCRATCH, %rax
    movq $0, %gs:PERCPU_SCRATCH
.endm

/* MD_CLEAR: VERW with a memory operand overwrites the CPU's buffers (MDS,
 * TAA, ...) on CPUs whose microcode says so; on others it is a harmless
 * segment check. The last thing before the return to a guest. */
.macro verw_if_on
    testb $ENTRY_VERW, entry_flags(%rip)
    skip_unless_patched ENTRY_VERW, .Lno_verw\@
    verw entry_verw_selector(%rip)
.Lno_verw\@:
.endm
