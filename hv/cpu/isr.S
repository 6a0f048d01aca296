/* Entry stubs for all 256 vectors, 16 bytes apart so the IDT can compute
 * their addresses. Each makes the frame uniform (a zero error code where the
 * CPU pushes none, then the vector) and joins isr_common, which saves the
 * general registers as struct trap_frame and calls trap_dispatch.
 *
 * The vectors with an IST stack (#DB, NMI, #DF, #MC) join isr_paranoid
 * instead: they can arrive anywhere, including the few instructions of the
 * syscall entry and exit where CS is hv's but GS (and RSP) still the
 * guest's, so the saved CS alone cannot say whether to swapgs.
 *
 * The mitigations (hv/cpu/entry_flags.h) live off the straight path: with
 * all of them off an entry from a guest pays one test and an untaken
 * branch, and so does the exit. This file is all in .text.guest_entry,
 * the pages page-table isolation maps into guests' tables: with it on,
 * a guest entry lands on the CPU's small entry stack (TSS.RSP0) in the
 * guest's tables, switches CR3 and moves the CPU's frame into the vCPU's
 * own (hv's tables map it); the exit moves the return frame back before
 * switching CR3 again. */
#include "hv/cpu/frame_asm.h"
#include "hv/cpu/percpu.h"

#define MSR_GS_BASE 0xc0000101
/* CS in the frame before push_gprs (vector, error code, CPU frame). */
#define STUB_CS 24
#define TRAP_FRAME_QWORDS 22 /* sizeof(struct trap_frame) / 8 */
#define FRAME_VECTOR (15 * 8) /* struct trap_frame's vector */
/* The CPU's frame (RIP, CS, RFLAGS, RSP, SS) with the stub's vector and
 * error code. */
#define ENTRY_FRAME_QWORDS 7
/* The vectors hv uses past the exceptions (hv/cpu/trap.h, smp_internal.h,
 * tlb_shootdown.h, sched/cross_cpu.h, include/hv/abi_cpu.h). */
#define VEC_TIMER 0x30
#define HV_FAST_TRAP_VECTOR 0x80
#define VEC_AP_CHECKIN 0xf0
#define VEC_TLB_SHOOTDOWN 0xf2
#define VEC_RESCHEDULE 0xf3
#define VEC_SPURIOUS 0xff

    .section .text.guest_entry, "ax", @progbits
    .altmacro

.macro isr_stub n
    .balign 16
    .if ((\n > VEC_TIMER) && (\n != HV_FAST_TRAP_VECTOR) && (\n != VEC_AP_CHECKIN) && (\n != VEC_TLB_SHOOTDOWN) && (\n != VEC_RESCHEDULE) && (\n != VEC_SPURIOUS))
    /* A vector nothing registers: the same 7 bytes for every one (the
     * call's target is one offset once the branch filter has run, so the
     * packed core holds them as one repeated run, not 200 stubs that
     * differ in their vector byte: 424 packed bytes); isr_numbered finds
     * the vector from the return address. The exceptions (a reserved one
     * among them packs worse: it breaks the run of its neighbours) and
     * the vectors hv uses keep their two pushes and a jump: nothing on
     * their path changes. */
    pushq $0
    call isr_numbered
    .else
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

/* The return address a compact stub's call pushed, where the vector goes,
 * becomes the vector: (address - (isr_stubs + 7)) / 16. No RSB entry is
 * ever used by a return here: the interrupts that land here are stray. */
isr_numbered:
    push %rax
    lea isr_stubs + 7(%rip), %rax
    neg %rax
    add 8(%rsp), %rax
    shr $4, %rax
    mov %rax, 8(%rsp)
    pop %rax
    jmp isr_common

isr_common:
    /* RFLAGS.AC is whatever the interrupted code had (a gate clears TF
     * and IF, not AC): a guest's AC would turn SMAP off in hv. */
    clac_if_smap
    /* Coming from ring 3, GS still holds the guest's base: switch to ours. */
    testb $3, STUB_CS(%rsp)
    jz isr_from_hv
    swapgs
    testb $ENTRY_ON_ENTRY, entry_flags(%rip)
    jnz isr_from_guest_mitigated
    push_gprs
    cld
/* An entry from a guest: the CPU pushed at TSS.RSP0, the end of the
 * running vCPU's own frame (percpu kernel_rsp, set at its switch-in), so
 * the frame RSP points at now is where its registers stay while it is
 * off the CPU: a switch copies none. C runs on this CPU's hv stack. An
 * exception (the IST vectors come through isr_paranoid and trap_dispatch)
 * goes straight to its delivery, without trap_dispatch's triage
 * (vcpu/deliver_fast.S guest_exception_lean, vcpu/guest_trap.c). */
from_guest_in_frame:
    mov %rsp, %rdi
    mov %gs:PERCPU_STACK_TOP, %rsp
    cmpq $32, FRAME_VECTOR(%rdi)
    jae 1f
    /* make bench's interrupts-off timing patches both calls to its timed
     * dispatch (hv/debug/irqoff.c, irqoff_patch_entries): no test here. */
    measure_patch irqoff_trap_dispatch
    call guest_exception_lean
    jmp trap_return_frame
1:
    measure_patch irqoff_trap_dispatch
    call trap_dispatch
/* Back to the running vCPU's frame (a switch left from the next one's,
 * sched.c leave_from, and never comes here). */
    .globl trap_return_frame
trap_return_frame:
    mov %gs:PERCPU_FRAME, %rsp
    .globl trap_return
trap_return:
    pop_gprs
    testb $3, STUB_CS(%rsp)
    jz 2f
    testb $ENTRY_ON_EXIT, entry_flags(%rip)
    jnz exit_to_guest_mitigated
    swapgs
2:
    add $16, %rsp
    iretq

/* An entry from hv itself: the frame on the stack it ran on. */
isr_from_hv:
    swapgs_fence_if_on              /* the path that did not swapgs */
    push_gprs
    cld
    mov %rsp, %rdi
    measure_patch irqoff_trap_dispatch
    call trap_dispatch
    jmp trap_return

isr_from_guest_mitigated:
    swapgs_fence_if_on
    testb $ENTRY_XPTI, entry_flags(%rip)
    jz 1f
    /* Onto hv's full tables (xpti_switch_to_kernel_cr3), then the CPU's
     * frame from the entry stack into the vCPU's own frame, mapped now,
     * with one register parked for both. */
    mov %rax, %gs:PERCPU_SCRATCH
    mov %gs:PERCPU_KERNEL_CR3, %rax
    mov %rax, %cr3
    incq %gs:PERCPU_CR3_WRITES
    mov %rsp, %rax
    mov %gs:PERCPU_KERNEL_RSP, %rsp
    pushq 48(%rax)                  /* ss */
    pushq 40(%rax)                  /* rsp */
    pushq 32(%rax)                  /* rflags */
    pushq 24(%rax)                  /* cs */
    pushq 16(%rax)                  /* rip */
    pushq 8(%rax)                   /* error code */
    pushq (%rax)                    /* vector */
    mov %gs:PERCPU_SCRATCH, %rax
    movq $0, %gs:PERCPU_SCRATCH     /* no guest value stays on a mapped page */
1:
    push_gprs
    clear_gprs_if_on
    cld
    jmp from_guest_in_frame

/* Every register is the guest's, RSP points at the vector of the frame. */
exit_to_guest_mitigated:
    testb $ENTRY_XPTI, entry_flags(%rip)
    jz exit_on_this_stack
    /* The return frame to the entry stack, which stays mapped; one
     * register parked for the copy and the CR3 load. */
    mov %rax, %gs:PERCPU_SCRATCH
    mov %rsp, %rax
    mov %gs:PERCPU_ENTRY_STACK_TOP, %rsp
    pushq 48(%rax)                  /* ss */
    pushq 40(%rax)                  /* rsp */
    pushq 32(%rax)                  /* rflags */
    pushq 24(%rax)                  /* cs */
    pushq 16(%rax)                  /* rip */
    xpti_load_user_cr3_rax
    mov %gs:PERCPU_SCRATCH, %rax
    movq $0, %gs:PERCPU_SCRATCH
    verw_if_on
    swapgs
    iretq
exit_on_this_stack:
    verw_if_on
    swapgs
    add $16, %rsp
    iretq

/* Linux's "paranoid entry". From ring 3 the saved CS is the truth: take
 * hv's GS and move the frame into the running vCPU's, so what follows
 * (delivery to the guest, a vCPU switch) runs as after any other entry
 * and the IST stack is free again. From hv, the frame stays on the IST
 * stack, and GS is hv's exactly when IA32_GS_BASE holds an upper-half
 * address. INVARIANT: a guest's GS base is always a lower-half address
 * (hv/cpu/gs_base.h lists every way a guest could set it and what holds
 * each to the rule); hv's per-CPU area is in the upper half. The exit puts GS
 * back as it found it. With isolation, CR3 too: an NMI or #DB can arrive
 * in the few instructions of an entry or exit that run on a guest's
 * isolated tables (the IST stacks are mapped there). */
isr_paranoid:
    clac_if_smap
    testb $3, STUB_CS(%rsp)
    jnz paranoid_from_guest
    push_gprs
    clear_gprs_if_on                /* in a window, they may be the guest's */
    cld
    mov $MSR_GS_BASE, %ecx
    rdmsr
    xor %ebx, %ebx                  /* rbx (callee-saved): 1 if we swapped */
    test %edx, %edx
    js 3f
    swapgs
    mov $1, %ebx
3:
    swapgs_fence_if_on
    xor %r13d, %r13d                /* r13 (callee-saved): 1 if we switched CR3 */
    testb $ENTRY_XPTI, entry_flags(%rip)
    jz 5f
    /* Only in an entry's or exit's window on the guest's tables: anywhere
     * else hv chose the CR3 (its own tables at the end, firmware's at
     * power-off) and it stays. */
    mov %cr3, %r12                  /* r12 (callee-saved): the CR3 to go back to */
    mov %gs:PERCPU_USER_CR3, %rcx
    btr $63, %rcx                   /* CR3 reads never show the no-flush bit */
    cmp %rcx, %r12
    jne 5f
    mov %gs:PERCPU_KERNEL_CR3, %rax
    mov %rax, %cr3
    mov $1, %r13d
5:
    mov %rsp, %rdi
    call trap_dispatch
    test %r13d, %r13d
    jz 6f
    or %gs:PERCPU_CR3_NOFLUSH, %r12
    mov %r12, %cr3
6:
    test %ebx, %ebx
    jz 4f
    swapgs
4:
    /* Back into an exit's window (r13 set), hv ran since the exit's VERW:
     * one more. The test's ZF survives the pops and the lea. */
    test %r13d, %r13d
    pop_gprs
    lea 16(%rsp), %rsp
    jz 8f
    verw_if_on
8:
    iretq

paranoid_from_guest:
    swapgs
    swapgs_fence_if_on
    testb $ENTRY_XPTI, entry_flags(%rip)
    jz 7f
    xpti_switch_to_kernel_cr3       /* the IST stack is mapped in both */
7:
    push_gprs
    clear_gprs_if_on
    cld
    /* Into the running vCPU's own frame, as any entry from its guest (it
     * runs ring 3, so nothing of hv uses that frame now). */
    mov %rsp, %rsi
    mov %gs:PERCPU_FRAME, %rdi
    mov $TRAP_FRAME_QWORDS, %ecx
    rep movsq
    /* The IST stack is mapped into guests' tables: wipe the guest's
     * registers off it. */
    sub $(TRAP_FRAME_QWORDS * 8), %rsi
    mov %rsi, %rdi
    mov $TRAP_FRAME_QWORDS, %ecx
    xor %eax, %eax
    rep stosq
    mov %gs:PERCPU_FRAME, %rdi
    mov %gs:PERCPU_STACK_TOP, %rsp
    measure_patch irqoff_trap_dispatch
    call trap_dispatch
    jmp trap_return_frame

    .section .note.GNU-stack,"",@progbits
