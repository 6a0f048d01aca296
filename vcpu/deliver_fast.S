/* The lean delivery to a guest kernel, written like HV_CALL_IRET's fast
 * path (vcpu/syscall_entry.S iret_fast): the native frame stored word by
 * word onto the guest kernel's stack, directly in the space loaded, each
 * store in the exception table (a #PF on one ends the guest with the
 * delivery's named report); the checks once; no C layers on the common
 * case. What it does not take (a Xen vCPU, tracing on, the kernel's space
 * not loaded, no kernel stack for an entry from user mode) goes to
 * deliver_to_kernel_general (vcpu/deliver.c) before a single effect, and
 * that C path decides. Two entries:
 *
 *   deliver_to_kernel      the C function of vcpu/deliver.h, called by
 *                          every delivery: exceptions, `int n`, bounced
 *                          system calls, upcalls
 *   guest_exception_lean   isr.S's call for an exception from a guest: the
 *                          common case (a kernel-mode vCPU of hv's own, a
 *                          trap-table entry) without guest_exception_entry
 *                          (vcpu/guest_trap.c), which takes the rest */
#include "hv/cpu/extable.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/smap_asm.h"
#include "vcpu/deliver_fast.h"
#include "vcpu/space_asm.h"

/* A store of 8 bytes to the guest's stack (movq: with an immediate
 * source a plain mov stores 4): a #PF there is the delivery's failure. */
.macro guest_store src, dst, fault
99:
    movq \src, \dst
    EXTABLE_ENTRY 99b, \fault
.endm

/* The frame below the stack's 16-byte aligned top, from the top down as
 * the CPU pushes it: ss, rsp, rflags (r9), cs (\cs), rip, and with \ec
 * the error code; r11 is the frame's lowest address, \f the interrupted
 * state. r8 is free. */
.macro frame_stores ec, fault, f, cs
    SMAP_STAC
    guest_store $HV_DATA_SS_SEL, (\ec + 32)(%r11), \fault
    mov FRAME_RSP(\f), %r8
    guest_store %r8, (\ec + 24)(%r11), \fault
    guest_store %r9, (\ec + 16)(%r11), \fault
    guest_store \cs, (\ec + 8)(%r11), \fault
    mov FRAME_RIP(\f), %r8
    guest_store %r8, \ec(%r11), \fault
    .if \ec
    mov FRAME_ERROR(\f), %r8
    guest_store %r8, (%r11), \fault
    .endif
    SMAP_CLAC
.endm

/* With tracing on (hv/debug/trace.h's 5-byte NOP, patched into a jump
 * at boot), to \target: the C path, which records the delivery. */
.macro if_tracing target
98: .byte 0x0f, 0x1f, 0x44, 0x00, 0x00
    .pushsection .trace_patch, "a"
    .balign 4
    .long 98b - .
    .long \target - .
    .popsection
.endm

/* rax = &shared->vcpu[v->id], v in \v, its guest in \g. */
.macro shared_vcpu v, g
    mov VCPU_ID(\v), %eax
    shl $SHARED_VCPU_SHIFT, %rax
    add GUEST_SHARED(\g), %rax
.endm

/* The delivery itself, from the checks of the frame's place to the
 * frame rewritten and the delivery recorded. In: \v (rdi) v, \f (rsi) f
 * (the interrupted state), rdx the handler, ecx how (kept; with \what or
 * \what_reg, only its events bit counts: the record is \what, or the
 * 32-bit register \what_reg), rax &shared->vcpu[v->id] (kept), \cs the
 * interrupted mode's CS (r10 or an immediate), r11 the stack the frame
 * goes below; the space loaded is the guest kernel's. \ec: the frame's
 * error code, 0 none (40 bytes), 8 one (48 bytes), 2 as how's bit says.
 * With \lean (guest_exception_lean: the frame's vector is an exception's,
 * never syscall_entry's, so no sysret can take it and it stays), the
 * return's rflags sanitised here (vcpu_sanitize_rflags, from the rflags
 * already loaded): sched_return_inline does it again only on its C path.
 * Out: r11 the frame (the handler's rsp); r8, r9 clobbered. A frame that
 * cannot be written goes to \fault with \v, \f, ecx (or \what_reg: the
 * record) and r11 (the frame's address) as here. */
.macro frame_body fault, ec=2, v=%rdi, f=%rsi, what=0, what_reg=, cs=%r10, lean=0
    /* The frame's lowest address (aligned to 16, then the frame), whole
     * in the lower half (each size against its own limit, as the C path's
     * copy checks it), clamped against a mispredicted check. */
    and $-16, %r11
    .if \ec == 8
    sub $48, %r11
    movabs $(DELIVER_FRAME_LIMIT - 8), %r9 /* deliver_frame_fits */
    .else
    sub $40, %r11
    movabs $DELIVER_FRAME_LIMIT, %r9
    .endif
    .if \ec == 2
    test $DELIVER_ERROR_CODE_BIT, %cl
    jz 2f
    sub $8, %r11
    sub $(48 - 40), %r9                  /* deliver_frame_fits */
2:
    .endif
    cmp %r9, %r11
    jae \fault
    sbb %r9, %r9
    and %r9, %r11
    /* rflags with the virtual IF: the event mask, inverted, read once. */
    mov FRAME_RFLAGS(\f), %r9
    btr $RFLAGS_IF_BIT, %r9
    cmpb $0, SHARED_UPCALL_MASK(%rax)
    jne 3f
    bts $RFLAGS_IF_BIT, %r9
3:
    .if \ec == 2
    test $DELIVER_ERROR_CODE_BIT, %cl
    jnz 4f
    frame_stores 0, \fault, \f, \cs
    jmp 5f
4:
    frame_stores 8, \fault, \f, \cs
5:
    .else
    frame_stores \ec, \fault, \f, \cs
    .endif
    /* Written: the effects, as deliver_to_kernel_general makes them. */
    test $DELIVER_MASK_EVENTS_BIT, %cl
    jz 6f
    movb $1, SHARED_UPCALL_MASK(%rax)
6:
    mov %rdx, FRAME_RIP(\f)
    mov %r11, FRAME_RSP(\f)
    movq $HV_KERNEL_CS_SEL, FRAME_CS(\f)
    movq $HV_DATA_SS_SEL, FRAME_SS(\f)
    .if \lean
    /* The handler's rflags: the interrupted ones (r9 differs in IF only,
     * which RFLAGS_ALWAYS sets) without TF, NT and RF, sanitised. */
    and $(RFLAGS_GUEST_BITS & ~RFLAGS_ENTRY_CLEARS), %r9d
    or $RFLAGS_ALWAYS, %r9d
    mov %r9, FRAME_RFLAGS(\f)
    .else
    andq $~RFLAGS_ENTRY_CLEARS, FRAME_RFLAGS(\f)
    /* rcx and r11 are live here: the return must not be a sysret. */
    movq $VEC_GUEST_BOUNCE_NR, FRAME_VECTOR(\f)
    .endif
    mov %rdx, VCPU_DELIVERY_RIP(\v)
    mov %r11, VCPU_DELIVERY_RSP(\v)
    .ifnb \what_reg
    mov \what_reg, VCPU_DELIVERY_WHAT(\v)
    .elseif \what
    movl $\what, VCPU_DELIVERY_WHAT(\v)
    .else
    mov %ecx, %r8d
    shr $8, %r8d
    mov %r8d, VCPU_DELIVERY_WHAT(\v)
    .endif
.endm

    .text

/* bool deliver_to_kernel(struct vcpu *v, struct trap_frame *f,
 *                        uint64_t handler, uint32_t how)
 * rdi v, rsi f, rdx handler, ecx how; only caller-saved registers. */
    .globl deliver_to_kernel
    .type deliver_to_kernel, @function
deliver_to_kernel:
    if_tracing deliver_to_kernel_general
    movzwl VCPU_USER_MODE(%rdi), %eax   /* user_mode and xen, one word */
    test %eax, %eax
    jnz .Lunusual
    /* Kernel mode: the frame goes below the interrupted rsp, in the space
     * loaded now, which must be the kernel's (copy_to_space's test). */
    mov VCPU_GUEST(%rdi), %r9
    space_loaded_test GUEST_SPACE_ROOT(%r9), %rax, %r8
    jne deliver_to_kernel_general
    mov FRAME_RSP(%rsi), %r11
    mov $HV_KERNEL_CS_SEL, %r10d
.Lframe:
    shared_vcpu %rdi, %r9
    frame_body deliver_frame_fault
    mov $1, %eax
    ret

/* User mode (a system call to bounce, an exception or upcall there) or a
 * Xen vCPU (its own delivery: the C path). From user mode: onto the
 * registered kernel stack, in the kernel's space, loaded first (the frame
 * is written there), as the C path does. */
.Lunusual:
    test %ah, %ah
    jnz deliver_to_kernel_general
    mov VCPU_KERNEL_SP(%rdi), %r11
    test %r11, %r11
    jz deliver_to_kernel_general         /* its report: no kernel stack */
    push %rdi
    push %rsi
    push %rdx
    push %rcx
    push %r11                            /* and RSP 16-byte aligned */
    call deliver_enter_kernel_mode
    pop %r11
    pop %rcx
    pop %rdx
    pop %rsi
    pop %rdi
    mov VCPU_GUEST(%rdi), %r9
    mov $HV_USER_CS_SEL, %r10d
    jmp .Lframe
    .size deliver_to_kernel, . - deliver_to_kernel

/* A store faulted (extable_fixup cleared AC: SMAP is on again), or the
 * frame would leave the lower half: the guest ends with the delivery's
 * report, what the C path says of a stack it cannot write. rdi v, ecx how,
 * r11 the frame's address. */
    .type deliver_frame_fault, @function
deliver_frame_fault:
    mov %ecx, %esi
    shr $8, %esi
    mov %r11, %rdx
    jmp deliver_stack_unwritable
    .size deliver_frame_fault, . - deliver_frame_fault

/* void guest_exception_lean(struct trap_frame *f): f is the running
 * vCPU's frame, vector < 32 (hv/cpu/isr.S); returns to isr.S, which
 * leaves from the vCPU's frame. The triage of exception_from_guest
 * (vcpu/guest_trap.c) for the common case: a kernel-mode vCPU of hv's own,
 * a vector with nothing but its delivery to do, a trap-table entry; then
 * the delivery (frame_body: the vCPU entered from its kernel mode, so the
 * space loaded is its kernel's) and sched_return_inline's checks. Anything
 * else is guest_exception_entry's, before a single effect. (isr_common
 * cleared AC a few instructions ago: guest_exception_entry's AC count has
 * nothing to count here.) */
    .globl guest_exception_lean
    .type guest_exception_lean, @function
guest_exception_lean:
    if_tracing guest_exception_entry
    mov %rdi, %rsi                       /* f */
    mov %gs:PERCPU_CURRENT, %rdi         /* v */
    cmpw $0, VCPU_USER_MODE(%rdi)
    jne .Lexc_c
    /* r10 the vector, < 32: the trap table's index, the record's what
     * (frame_body's CS is the immediate: r10 is kept). Masked to 0..31
     * as trap_table_exception masks it: isr.S's "< 32" branch can be
     * mispredicted for a guest's `int n`, and the table's reads below
     * must not then reach past its 32 entries. */
    mov FRAME_VECTOR(%rsi), %r10d
    and $31, %r10d
    mov VCPU_TRAPS(%rdi), %rax
    test %rax, %rax
    jz .Lexc_c
    mov (%rax,%r10,8), %rdx              /* the handler */
    test %rdx, %rdx
    jz .Lexc_c
    movzbl TRAPS_FLAGS(%rax,%r10), %ecx
    and $HV_TRAP_MASK_EVENTS_BIT, %ecx   /* how: = DELIVER_MASK_EVENTS */
    mov VCPU_GUEST(%rdi), %r9
    shared_vcpu %rdi, %r9
    /* A lean vector without an error code, or .Lexc_ec's (with one). */
    mov $(LEAN_VECTORS & ~ERROR_CODE_VECTOR_BITS), %r8d
    bt %r10d, %r8d
    jnc .Lexc_ec
    incq VCPU_HV_ENTRIES(%rdi)
    mov FRAME_RSP(%rsi), %r11
    frame_body .Lexc_fault, ec=0, what_reg=%r10d, cs=$HV_KERNEL_CS_SEL, lean=1
.Lexc_return:
    /* sched_return_inline: anything to do but return? v is current.
     * need_resched and slice_cut, adjacent bytes, in one word. */
    .if PERCPU_SLICE_CUT != PERCPU_NEED_RESCHED + 1
    .error "need_resched and slice_cut are not one word"
    .endif
    cmpw $0, %gs:PERCPU_NEED_RESCHED
    jne .Lwork
    cmpl $0, VCPU_STATE(%rdi)            /* VCPU_RUNNING */
    jne .Lwork
    /* An upcall due? Not when the delivery masked events (rax is still
     * &shared->vcpu[v->id]); else perhaps: the C return decides. The
     * frame's rflags are sanitised (frame_body). */
    test $DELIVER_MASK_EVENTS_BIT, %cl
    jnz 2f
    cmpb $0, SHARED_UPCALL_PENDING(%rax)
    je 2f
    cmpb $0, SHARED_UPCALL_MASK(%rax)
    je .Lwork
2:
    ret
.Lwork:
    mov %rsi, %rdi
    jmp sched_return_to_guest
.Lexc_c:
    mov %rsi, %rdi
    jmp guest_exception_entry

/* A lean vector with an error code (the 48-byte frame); #PF only for a
 * guest's data access (U set, I/D clear); anything else is hv's business
 * first (deliver_fetch_failed, the SMAP quirk): the C path. The address to
 * the vCPU's cr2 in the shared page. */
.Lexc_ec:
    mov $(LEAN_VECTORS & ERROR_CODE_VECTOR_BITS), %r8d
    bt %r10d, %r8d
    jnc .Lexc_c
    cmp $VEC_PF_NR, %r10d
    jne 1f
    mov FRAME_ERROR(%rsi), %r8
    and $(PF_ERROR_USER | PF_ERROR_FETCH), %r8d
    cmp $PF_ERROR_USER, %r8d
    jne .Lexc_c
    mov %cr2, %r8
    mov %r8, SHARED_CR2(%rax)
1:
    incq VCPU_HV_ENTRIES(%rdi)
    mov FRAME_RSP(%rsi), %r11
    frame_body .Lexc_fault, ec=8, what_reg=%r10d, cs=$HV_KERNEL_CS_SEL, lean=1
    jmp .Lexc_return

/* The frame could not be written: the guest ends with the delivery's
 * report (rdi v, rsi f, r10d the vector, r11 the frame's address), then the
 * return, which finds it ended. */
.Lexc_fault:
    push %rsi                            /* and RSP 16-byte aligned */
    mov %r10d, %esi
    mov %r11, %rdx
    call deliver_stack_unwritable
    pop %rdi
    jmp sched_return_to_guest
    .size guest_exception_lean, . - guest_exception_lean

/* syscall_bounce: a guest user-mode `syscall` of one of hv's own vCPUs,
 * bounced to the handler HV_CALL_SET_SYSCALL registered (entered by a
 * jump from syscall_entry, vcpu/syscall_entry.S: rbx v, rdi f, the
 * vCPU's frame, RSP this CPU's hv stack top). hypercall_entry,
 * bounce_to_guest_kernel (vcpu/syscall.c), deliver_to_kernel's user-mode
 * branch and sched_return_inline without their C layers. What it does not
 * take (tracing on, no handler or no kernel stack registered: their
 * reports) is hypercall_entry's, before a single effect. Every register
 * is free (the frame holds the guest's; trap_return reloads every one). */
    .globl syscall_bounce
    .type syscall_bounce, @function
syscall_bounce:
    if_tracing syscall_bounce_c
    mov VCPU_SYSCALL_HANDLER(%rbx), %rdx
    test %rdx, %rdx
    jz syscall_bounce_c
    mov VCPU_KERNEL_SP(%rbx), %r11
    test %r11, %r11
    jz syscall_bounce_c
    /* Taken: the effects, as the C path makes them: the entry counted,
     * kernel mode (its space, then its records), the frame. */
    incq VCPU_HV_ENTRIES(%rbx)
    mov VCPU_GUEST(%rbx), %r9
    lea GUEST_SPACE(%r9), %r8
    space_load %r8, keep=1
    movb $0, VCPU_USER_MODE(%rbx)
    shared_vcpu %rbx, %r9
    movb $0, SHARED_IN_USER_MODE(%rax)
    /* how: only the events bit counts (HV_CALL_SET_SYSCALL refuses any
     * other; the record is DELIVERY_SYSCALL, the frame has no error code) */
    movzbl VCPU_SYSCALL_FLAGS(%rbx), %ecx
    mov $HV_USER_CS_SEL, %r10d
    frame_body syscall_bounce_fault, ec=0, v=%rbx, f=%rdi, what=DELIVERY_SYSCALL_NR
    /* sched_return_inline, as guest_exception_lean's return. */
    cmpw $0, %gs:PERCPU_NEED_RESCHED     /* and PERCPU_SLICE_CUT */
    jne 7f
    cmpl $0, VCPU_STATE(%rbx)            /* VCPU_RUNNING */
    jne 7f
    test $DELIVER_MASK_EVENTS_BIT, %cl
    jnz 8f
    cmpb $0, SHARED_UPCALL_PENDING(%rax)
    je 8f
    cmpb $0, SHARED_UPCALL_MASK(%rax)
    jne 8f
7:
    call sched_return_to_guest           /* rdi: f */
    jmp trap_return_frame
8:
    mov FRAME_RFLAGS(%rdi), %rax         /* vcpu_sanitize_rflags */
    and $RFLAGS_GUEST_BITS, %eax
    or $RFLAGS_ALWAYS, %eax
    mov %rax, FRAME_RFLAGS(%rdi)
    jmp trap_return_frame

/* Tracing on, or a check failed: the C path, from the start. */
syscall_bounce_c:
    call hypercall_entry
    jmp hypercall_done

/* The frame could not be written: the guest ends with the delivery's
 * report (rbx v, rdi f, r11 the frame's address), then the return, which
 * finds it ended, as the C path's. */
syscall_bounce_fault:
    mov %rdi, %r12                       /* f, kept across the call */
    mov %rbx, %rdi
    mov $DELIVERY_SYSCALL_NR, %esi
    mov %r11, %rdx
    call deliver_stack_unwritable
    mov %r12, %rdi
    call sched_return_to_guest
    jmp hypercall_done
    .size syscall_bounce, . - syscall_bounce

    .section .note.GNU-stack,"",@progbits
