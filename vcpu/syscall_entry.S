/* Hypercall entry: the guest's `syscall`. FMASK has cleared IF, TF, DF, NT
 * and AC, so nothing but NMI, #MC and #DB interrupts this and no guest flag
 * reaches hv. Those three come with IST stacks and check GS themselves
 * (hv/cpu/isr.S): a #DB can arrive on the very first instruction (a
 * single-step or breakpoint deferred by MOV SS), with the guest's RSP and
 * GS, and hv/cpu/trap.c drops it. The
 * guest's RSP is never used: the frame is built in the running vCPU's own
 * (percpu kernel_rsp: its end, as TSS.RSP0 for hv/cpu/isr.S), in the same
 * layout as an interrupt frame (struct trap_frame), so a hypercall that
 * switches vCPUs copies no registers and returns through the same path as
 * anything else; C runs on this CPU's hv stack.
 *
 * The swapgs here is unconditional (syscall comes only from ring 3), so it
 * needs no fence. Page-table isolation and register clearing take a copy
 * of the path off the straight line (hv/cpu/entry_flags.h); like isr.S,
 * this is in the pages isolation maps into guests' tables. */
#include "hv/cpu/extable.h"
#include "hv/cpu/gdt.h"
#include "hv/cpu/frame_asm.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/smap_asm.h"
#include "vcpu/deliver_fast.h"
#include "vcpu/space_asm.h"

#define VEC_SYSCALL 0x100
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
    .globl syscall_entry, hypercall_done
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
    mov %gs:PERCPU_STACK_TOP, %rsp
    /* hv's own guests in kernel mode, the hypercalls: one word test (the
     * user_mode and xen bytes); the rest below, at syscall_unusual. rbx
     * keeps v for iret_fast and syscall_bounce (C saves it). */
    mov %gs:PERCPU_CURRENT, %rbx
    cmpw $0, VCPU_USER_MODE(%rbx)
    jne syscall_unusual
    cmpq $HV_CALL_IRET_NR, FRAME_RAX(%rdi)
    /* make bench's interrupts-off timing patches both to its timed entry
     * (hv/debug/irqoff.c, irqoff_patch_entries): no test here for it. */
    measure_patch measured_hypercall
    {disp32} je iret_fast
    measure_patch irqoff_hypercall_entry
    call hypercall_kernel
hypercall_done:
    mov %gs:PERCPU_FRAME, %rsp      /* the running vCPU's (a switch never returns here) */
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

/* HV_CALL_IRET from guest kernel mode, the return of every handler and
 * upcall: vcpu_iret's work (vcpu/deliver.c) without the C path's layers.
 * It takes only a frame vcpu_iret would take and a return with nothing
 * else to do; anything else goes to the C path (iret_slow) before a
 * single effect, and the C path decides: any check failing (the C path
 * gives the error), events waiting that the unmasking would deliver, a
 * decision or timer due, iret_fast_off set. The frame is read once,
 * field by field, through the exception table: a #PF on it is the C
 * path's -HV_EFAULT (iret_frame_unreadable). Every register is free (the
 * frame holds the guest's) and trap_return reloads every one. RSP is hv's
 * stack (a #PF pushes there, never below the vCPU's frame); the vCPU's
 * frame is VCPU_REGS(%rbx), in v, which survives the calls. */
iret_fast:
    cmpb $0, iret_fast_off(%rip)
    jne iret_slow
    /* sched_return_inline's "anything to do?" but the upcall (below). */
    .if PERCPU_SLICE_CUT != PERCPU_NEED_RESCHED + 1
    .error "need_resched and slice_cut are not one word"
    .endif
    cmpw $0, %gs:PERCPU_NEED_RESCHED    /* and PERCPU_SLICE_CUT, the next byte */
    jne iret_slow
    cmpl $0, VCPU_STATE(%rbx)           /* VCPU_RUNNING */
    jne iret_slow
    /* The frame in the lower half, whole (range_ok), its address clamped
     * against a mispredicted check (guest_va_nospec: 0, never hv's). */
    mov VCPU_REGS+FRAME_RSP(%rbx), %r15
    movabs $IRET_FRAME_LIMIT, %rax
    cmp %rax, %r15
    jae iret_slow
    sbb %rax, %rax
    and %rax, %r15
    /* ...in the space loaded now, the guest kernel's (copy_from_space). */
    mov VCPU_GUEST(%rbx), %r12
    space_loaded_test GUEST_SPACE_ROOT(%r12), %rax, %rcx
    jne iret_slow
    /* The frame read whole, as vcpu_iret's copy, in one stac window. */
    SMAP_STAC
.Liret_cs:
    mov IRET_CS(%r15), %r8
.Liret_ss:
    mov IRET_SS(%r15), %r9
.Liret_flags:
    mov IRET_FLAGS(%r15), %rsi
.Liret_rip:
    mov IRET_RIP(%r15), %r14
.Liret_rflags:
    mov IRET_RFLAGS(%r15), %r10
.Liret_rax:
    mov IRET_RAX(%r15), %rdx
.Liret_rcx:
    mov IRET_RCX(%r15), %rcx
.Liret_r11:
    mov IRET_R11(%r15), %r11
.Liret_rsp:
    mov IRET_RSP(%r15), %r15            /* the frame's address no longer needed */
    SMAP_CLAC
    /* The CS: to user mode, the user space chosen must exist
     * (iret_user_space and guest_space, a look-up without effects: a
     * handle 1..MAX_USER_SPACES, clamped against a mispredicted check,
     * not dying, its space made; r13 keeps it, used only when the CS is
     * HV_USER_CS). r13 zeroed first: on the way to kernel mode it still
     * holds the guest's r13 (with clear_regs off), and the last test's
     * branch, mispredicted, would run space_load on it speculatively. */
    xor %r13d, %r13d
    cmp $HV_KERNEL_CS_SEL, %r8
    je 1f
    cmp $HV_USER_CS_SEL, %r8
    jne iret_slow
    mov VCPU_USER_SPACE(%rbx), %eax
    lea -1(%rax), %edi
    cmp $(MAX_USER_SPACES - 1), %edi
    ja iret_slow                        /* HV_SPACE_KERNEL (0) or past the last */
    cmp $(MAX_USER_SPACES + 1), %rax
    sbb %rdi, %rdi
    and %rdi, %rax
    cmpb $0, GUEST_SPACE_DYING(%r12,%rax)
    jne iret_slow
    mov GUEST_USER_SPACES(%r12,%rax,8), %r13
    test %r13, %r13
    jz iret_slow
1:
    /* The rest of vcpu_iret's checks, on the values read once: the data
     * SS, flags 0, rip and rsp in the lower half. */
    cmp $HV_DATA_SS_SEL, %r9
    jne iret_slow
    test %rsi, %rsi
    jnz iret_slow
    mov %r14, %rax
    or %r15, %rax
    shr $47, %rax
    jnz iret_slow
    /* The event mask from the frame's IF; unmasking with events waiting
     * is the C path's (it may enter the upcall). */
    mov VCPU_ID(%rbx), %eax
    shl $SHARED_VCPU_SHIFT, %rax
    add GUEST_SHARED(%r12), %rax        /* &shared->vcpu[v->id] */
    bt $RFLAGS_IF_BIT, %r10
    setnc %sil                          /* upcall_mask: 1 without IF */
    jnc 2f
    cmpb $0, SHARED_UPCALL_PENDING(%rax)
    jne iret_slow
2:
    /* Taken: the effects, as vcpu_iret and the common return make them. */
    mov %sil, SHARED_UPCALL_MASK(%rax)
    incq VCPU_HV_ENTRIES(%rbx)
    movq $0, VCPU_DELIVERY_RIP(%rbx)    /* the handler ran */
    mov %rdx, VCPU_REGS+FRAME_RAX(%rbx)
    mov %rcx, VCPU_REGS+FRAME_RCX(%rbx)
    mov %r11, VCPU_REGS+FRAME_R11(%rbx)
    mov %r14, VCPU_REGS+FRAME_RIP(%rbx)
    mov %r15, VCPU_REGS+FRAME_RSP(%rbx)
    and $RFLAGS_GUEST_BITS, %r10d       /* vcpu_sanitize_rflags */
    or $RFLAGS_ALWAYS, %r10d
    mov %r10, VCPU_REGS+FRAME_RFLAGS(%rbx)
    mov %r8, VCPU_REGS+FRAME_CS(%rbx)   /* HV_KERNEL_CS or HV_USER_CS */
    movq $HV_DATA_SS_SEL, VCPU_REGS+FRAME_SS(%rbx)
    /* rcx, r11 are the frame's: iretq */
    movq $VEC_GUEST_BOUNCE_NR, VCPU_REGS+FRAME_VECTOR(%rbx)
    cmp $HV_KERNEL_CS_SEL, %r8
    je trap_return_frame
    /* To user mode (iret_enter_user): its records, its space. */
    movb $1, VCPU_USER_MODE(%rbx)
    movb $1, SHARED_IN_USER_MODE(%rax)  /* rax: &shared->vcpu[v->id] */
    space_load %r13
    jmp trap_return_frame

measured_hypercall:                 /* every HV_CALL_IRET too, when timed */
    call irqoff_hypercall_entry
    jmp hypercall_done

iret_slow:
    incq %gs:PERCPU_IRET_C_PATH         /* entry_report's count */
    mov %gs:PERCPU_FRAME, %rdi
    call hypercall_kernel
    jmp hypercall_done

/* User mode (rbx v, rdi f): a system call of one of hv's own guests, to
 * bounce in assembly (vcpu/deliver_fast.S syscall_bounce); or a Xen
 * vCPU, whose calls, in either mode, are hypercall_entry's. The timed
 * entry of make bench takes both (the je is patched to it). */
syscall_unusual:
    cmpb $0, VCPU_XEN(%rbx)
    measure_patch measured_hypercall
    {disp32} je syscall_bounce
    measure_patch irqoff_hypercall_entry
    call hypercall_entry
    jmp hypercall_done

/* A #PF on the frame (extable_fixup has cleared AC: SMAP is on again). */
iret_frame_fault:
    mov %gs:PERCPU_FRAME, %rdi
    call iret_frame_unreadable
    jmp hypercall_done
    EXTABLE_ENTRY .Liret_cs, iret_frame_fault
    EXTABLE_ENTRY .Liret_ss, iret_frame_fault
    EXTABLE_ENTRY .Liret_flags, iret_frame_fault
    EXTABLE_ENTRY .Liret_rip, iret_frame_fault
    EXTABLE_ENTRY .Liret_rsp, iret_frame_fault
    EXTABLE_ENTRY .Liret_rflags, iret_frame_fault
    EXTABLE_ENTRY .Liret_rax, iret_frame_fault
    EXTABLE_ENTRY .Liret_rcx, iret_frame_fault
    EXTABLE_ENTRY .Liret_r11, iret_frame_fault

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
    /* The vCPU's frame goes with hv's tables: the guest's RSP waits in
     * the per-CPU area, which stays mapped (a push and a pop move it
     * without a register: the push lands in the frame's popped rax slot),
     * and RSP is the free register for the CR3 (xpti_load_user_cr3_rax). */
    pushq 40(%rsp)
    popq %gs:PERCPU_USER_RSP
    mov %gs:PERCPU_USER_CR3, %rsp
    mov %rsp, %cr3
    incq %gs:PERCPU_CR3_WRITES
    mov %gs:PERCPU_USER_CR3_NEXT, %rsp
    mov %rsp, %gs:PERCPU_USER_CR3
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
