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

/* A store to the guest's stack: a #PF there is the delivery's failure. */
.macro guest_store src, dst
99:
    mov \src, \dst
    EXTABLE_ENTRY 99b, deliver_frame_fault
.endm

/* The frame below the stack's 16-byte aligned top, from the top down as
 * the CPU pushes it: ss, rsp, rflags (r9), cs (r10), rip, and with \ec
 * the error code; r11 is the frame's lowest address. r8 is free. */
.macro frame_stores ec
    SMAP_STAC
    guest_store $HV_DATA_SS_SEL, (\ec + 32)(%r11)
    mov FRAME_RSP(%rsi), %r8
    guest_store %r8, (\ec + 24)(%r11)
    guest_store %r9, (\ec + 16)(%r11)
    guest_store %r10, (\ec + 8)(%r11)
    mov FRAME_RIP(%rsi), %r8
    guest_store %r8, \ec(%r11)
    .if \ec
    mov FRAME_ERROR(%rsi), %r8
    guest_store %r8, (%r11)
    .endif
    SMAP_CLAC
.endm

    .text

/* bool deliver_to_kernel(struct vcpu *v, struct trap_frame *f,
 *                        uint64_t handler, uint32_t how)
 * rdi v, rsi f, rdx handler, ecx how; only caller-saved registers. */
    .globl deliver_to_kernel
    .type deliver_to_kernel, @function
deliver_to_kernel:
    /* Tracing on (hv/debug/trace.h's 5-byte NOP, patched into a jump):
     * the C path records the delivery. */
1:  .byte 0x0f, 0x1f, 0x44, 0x00, 0x00
    .pushsection .trace_patch, "a"
    .balign 4
    .long 1b - .
    .long deliver_to_kernel_general - .
    .popsection
    movzwl VCPU_USER_MODE(%rdi), %eax   /* user_mode and xen, one word */
    test %eax, %eax
    jnz .Lunusual
    /* Kernel mode: the frame goes below the interrupted rsp, in the space
     * loaded now, which must be the kernel's (copy_to_space's test). */
    mov VCPU_GUEST(%rdi), %r9
    mov %cr3, %rax
    movabs $PTE_ADDR_BITS, %r8
    and %r8, %rax
    cmp GUEST_SPACE_ROOT(%r9), %rax
    jne deliver_to_kernel_general
    mov FRAME_RSP(%rsi), %r11
    mov $HV_KERNEL_CS_SEL, %r10d
.Lframe:
    /* r11: the stack the frame goes on; r10: the interrupted mode's CS;
     * r9: the guest.
     * The frame's lowest address (aligned to 16, then the frame), whole
     * in the lower half, clamped against a mispredicted check. */
    and $-16, %r11
    sub $40, %r11
    test $DELIVER_ERROR_CODE_BIT, %cl
    jz 2f
    sub $8, %r11
2:
    movabs $DELIVER_FRAME_LIMIT, %rax
    cmp %rax, %r11
    jae deliver_frame_fault
    sbb %rax, %rax
    and %rax, %r11
    /* rflags with the virtual IF: the event mask, inverted, read once. */
    mov VCPU_ID(%rdi), %eax
    shl $SHARED_VCPU_SHIFT, %rax
    add GUEST_SHARED(%r9), %rax          /* &shared->vcpu[v->id] */
    mov FRAME_RFLAGS(%rsi), %r9
    btr $RFLAGS_IF_BIT, %r9
    cmpb $0, SHARED_UPCALL_MASK(%rax)
    jne 3f
    bts $RFLAGS_IF_BIT, %r9
3:
    test $DELIVER_ERROR_CODE_BIT, %cl
    jnz 4f
    frame_stores 0
    jmp 5f
4:
    frame_stores 8
5:
    /* Written: the effects, as deliver_to_kernel_general makes them. */
    test $DELIVER_MASK_EVENTS_BIT, %cl
    jz 6f
    movb $1, SHARED_UPCALL_MASK(%rax)
6:
    mov %rdx, FRAME_RIP(%rsi)
    mov %r11, FRAME_RSP(%rsi)
    movq $HV_KERNEL_CS_SEL, FRAME_CS(%rsi)
    movq $HV_DATA_SS_SEL, FRAME_SS(%rsi)
    andq $~RFLAGS_ENTRY_CLEARS, FRAME_RFLAGS(%rsi)
    /* rcx and r11 are live here: the return must not be a sysret. */
    movq $VEC_GUEST_BOUNCE_NR, FRAME_VECTOR(%rsi)
    mov %rdx, VCPU_DELIVERY_RIP(%rdi)
    mov %r11, VCPU_DELIVERY_RSP(%rdi)
    shr $8, %ecx
    mov %ecx, VCPU_DELIVERY_WHAT(%rdi)
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
 * the delivery and sched_return_inline's checks. Anything else is
 * guest_exception_entry's, before a single effect. (isr_common cleared
 * AC a few instructions ago: guest_exception_entry's AC count has nothing
 * to count here.) */
    .globl guest_exception_lean
    .type guest_exception_lean, @function
guest_exception_lean:
    mov %gs:PERCPU_CURRENT, %r8
    cmpw $0, VCPU_USER_MODE(%r8)
    jne guest_exception_entry
    mov FRAME_VECTOR(%rdi), %ecx
    mov $LEAN_VECTORS, %eax
    bt %ecx, %eax
    jnc guest_exception_entry
    mov VCPU_TRAPS(%r8), %rax
    test %rax, %rax
    jz guest_exception_entry
    mov (%rax,%rcx,8), %rdx              /* the handler */
    test %rdx, %rdx
    jz guest_exception_entry
    movzbl TRAPS_FLAGS(%rax,%rcx), %eax
    and $HV_TRAP_MASK_EVENTS_BIT, %eax   /* = DELIVER_MASK_EVENTS */
    mov $ERROR_CODE_VECTOR_BITS, %r9d
    bt %ecx, %r9d
    jnc 1f
    or $DELIVER_ERROR_CODE_BIT, %eax
1:
    cmp $VEC_PF_NR, %ecx
    je .Lpf
.Ldeliver:
    shl $8, %ecx
    or %eax, %ecx                        /* how: DELIVER_WHAT(vector) | flags */
    incq VCPU_HV_ENTRIES(%r8)
    push %rdi                            /* f; and RSP 16-byte aligned */
    mov %rdi, %rsi
    mov %r8, %rdi
    call deliver_to_kernel
    pop %rdi
    /* sched_return_inline: anything to do but return? */
    cmpb $0, %gs:PERCPU_NEED_RESCHED
    jne .Lwork
    mov %gs:PERCPU_CURRENT, %rax
    cmpl $0, VCPU_STATE(%rax)            /* VCPU_RUNNING */
    jne .Lwork
    cmpb $0, %gs:PERCPU_SLICE_CUT
    jne .Lwork
    mov VCPU_ID(%rax), %ecx
    shl $SHARED_VCPU_SHIFT, %rcx
    mov VCPU_GUEST(%rax), %rdx
    add GUEST_SHARED(%rdx), %rcx
    cmpb $0, SHARED_UPCALL_PENDING(%rcx)
    je 2f
    cmpb $0, SHARED_UPCALL_MASK(%rcx)
    je .Lwork                            /* perhaps an upcall: the C return decides */
2:
    mov FRAME_RFLAGS(%rdi), %rax         /* vcpu_sanitize_rflags */
    and $RFLAGS_GUEST_BITS, %eax
    or $RFLAGS_ALWAYS, %eax
    mov %rax, FRAME_RFLAGS(%rdi)
    ret
.Lwork:
    jmp sched_return_to_guest

/* A guest's data access (U set, I/D clear); anything else is hv's business
 * first (deliver_fetch_failed, the SMAP quirk): the C path. The address to
 * the vCPU's cr2 in the shared page. */
.Lpf:
    mov FRAME_ERROR(%rdi), %r9
    and $(PF_ERROR_USER | PF_ERROR_FETCH), %r9d
    cmp $PF_ERROR_USER, %r9d
    jne guest_exception_entry
    mov VCPU_ID(%r8), %r9d
    shl $SHARED_VCPU_SHIFT, %r9
    mov VCPU_GUEST(%r8), %r10
    add GUEST_SHARED(%r10), %r9
    mov %cr2, %r10
    mov %r10, SHARED_CR2(%r9)
    jmp .Ldeliver
    .size guest_exception_lean, . - guest_exception_lean

    .section .note.GNU-stack,"",@progbits
