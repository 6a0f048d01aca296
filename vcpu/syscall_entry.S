/* Hypercall entry: the guest's `syscall`. FMASK has cleared IF, TF, DF, NT
 * and AC, so nothing but NMI, #MC and #DB interrupts this and no guest flag
 * reaches hv. Those three come with IST stacks and check GS themselves
 * (hv/cpu/isr.S): a #DB can arrive on the very first instruction (a
 * single-step or breakpoint deferred by MOV SS), with the guest's RSP and
 * GS, and hv/cpu/trap.c drops it. The
 * guest's RSP is never used: the frame is built on this CPU's hypervisor
 * stack, in the same layout as an interrupt frame (struct trap_frame), so a
 * hypercall that switches vCPUs returns through the same path as anything
 * else.
 *
 * The swapgs here is unconditional (syscall comes only from ring 3), so it
 * needs no fence. Page-table isolation and register clearing take a copy
 * of the path off the straight line (hv/cpu/entry_flags.h); like isr.S,
 * this is in the pages isolation maps into guests' tables. */
#include "hv/cpu/gdt.h"
#include "hv/cpu/frame_asm.h"
#include "hv/cpu/percpu.h"

#define VEC_SYSCALL 0x100
/* struct trap_frame: the offsets the exit reads. */
#define FRAME_VECTOR (15 * 8)
#define FRAME_RIP (17 * 8)
/* Highest RIP sysret may return to: below the last page of the lower half,
 * which guests never map. A non-canonical RIP would fault in ring 0 on
 * Intel CPUs with the guest's RSP (CVE-2012-0217); iretq handles it safely. */
#define SYSRET_RIP_LIMIT 0x00007ffffffff000

/* The frame of struct trap_frame, as an interrupt would have left it. */
.macro push_syscall_frame
    pushq $SEL_USER_DATA            /* ss */
    pushq %gs:PERCPU_USER_RSP       /* rsp */
    pushq %r11                      /* rflags, as syscall saved them */
    pushq $SEL_USER_CODE            /* cs */
    pushq %rcx                      /* rip */
    pushq $0                        /* error code */
    pushq $VEC_SYSCALL
    push_gprs
.endm

    .section .text.guest_entry, "ax", @progbits
    .globl syscall_entry
    .type syscall_entry, @function
syscall_entry:
    swapgs
    clac_if_smap                    /* FMASK did it; kept should FMASK change */
    mov %rsp, %gs:PERCPU_USER_RSP
    testb $(ENTRY_XPTI | ENTRY_CLEAR_REGS), entry_flags(%rip)
    jnz syscall_entry_mitigated
    mov %gs:PERCPU_KERNEL_RSP, %rsp
    .globl syscall_entry_on_hv_stack
syscall_entry_on_hv_stack:          /* end of the window with the guest's RSP */
    push_syscall_frame
syscall_frame_built:
    xor %ebp, %ebp
    mov %rsp, %rdi
    cmpb $0, irqoff_measuring(%rip)  /* make bench's timing: hv/debug/irqoff.h */
    jne measured_hypercall
    call hypercall_entry
hypercall_done:
    /* sysret only for a frame that is still syscall's as C left it (a
     * bounce or a switch made it another's: rcx and r11 are live) and whose
     * RIP is canonical (CVE-2012-0217); else the general iretq path. */
    cmpq $VEC_SYSCALL, FRAME_VECTOR(%rsp)
    jne trap_return
    movabs $SYSRET_RIP_LIMIT, %rax
    cmp %rax, FRAME_RIP(%rsp)
    jae trap_return
    pop_gprs
    testb $ENTRY_ON_EXIT, entry_flags(%rip)
    jnz sysret_mitigated
    mov 16(%rsp), %rcx              /* rip */
    mov 32(%rsp), %r11              /* rflags, sanitised by C */
    mov 40(%rsp), %rsp              /* guest rsp */
    swapgs
    sysretq

measured_hypercall:
    call irqoff_hypercall_entry
    jmp hypercall_done

    .globl syscall_entry_mitigated, syscall_entry_mitigated_on_hv_stack
syscall_entry_mitigated:
    testb $ENTRY_XPTI, entry_flags(%rip)
    jz 1f
    mov %gs:PERCPU_KERNEL_CR3, %rsp /* RSP is the one free register */
    mov %rsp, %cr3
    incq %gs:PERCPU_CR3_WRITES
1:
    mov %gs:PERCPU_KERNEL_RSP, %rsp
syscall_entry_mitigated_on_hv_stack:
    push_syscall_frame
    movq $0, %gs:PERCPU_USER_RSP     /* a mapped page with isolation */
    clear_gprs_if_on
    jmp syscall_frame_built

sysret_mitigated:
    mov 16(%rsp), %rcx              /* rip */
    mov 32(%rsp), %r11              /* rflags, sanitised by C */
    testb $ENTRY_XPTI, entry_flags(%rip)
    jz 2f
    /* hv's stack goes with hv's tables: the guest's RSP waits in the
     * per-CPU area, which stays mapped. */
    mov %rax, %gs:PERCPU_SCRATCH
    mov 40(%rsp), %rax
    mov %rax, %gs:PERCPU_USER_RSP
    xpti_load_user_cr3_rax
    mov %gs:PERCPU_SCRATCH, %rax
    movq $0, %gs:PERCPU_SCRATCH
    mov %gs:PERCPU_USER_RSP, %rsp
    movq $0, %gs:PERCPU_USER_RSP
    jmp 3f
2:
    mov 40(%rsp), %rsp              /* guest rsp */
3:
    verw_if_on
    swapgs
    sysretq

    .section .note.GNU-stack,"",@progbits
