/* Trap handlers of our Xen-ABI test guests, Xen's way: the bounce frame
 * (rcx, r11, [error code], rip, cs, rflags, rsp, ss) is copied to
 * `trap_seen` (words; trap_seen_count of them), the handler resumes at
 * `trap_resume` if it is set (else after a 2-byte ud2), and returns with
 * HYPERVISOR_iret: rcx and r11 popped, flags 0 pushed, a jump to the iret
 * stub, which pushes rcx, r11 and rax itself. */
    .section .bss
    .balign 8
    .globl trap_seen, trap_seen_count, trap_vector, trap_resume, trap_count
trap_seen: .skip 8 * 8
trap_seen_count: .skip 8
trap_vector: .skip 8
trap_resume: .skip 8
trap_count: .skip 8
scratch: .skip 16

    .text
.macro handler name, vector, words, clear_tf=0
    .globl \name
\name:
    mov %rax, scratch
    mov %rbx, scratch + 8
    xor %ebx, %ebx
1:  mov (%rsp, %rbx, 8), %rax
    mov %rax, trap_seen(, %rbx, 8)
    inc %rbx
    cmp $\words, %rbx
    jne 1b
    movq $\words, trap_seen_count
    movq $\vector, trap_vector
    incq trap_count
    mov trap_resume, %rax
    test %rax, %rax
    jnz 2f
    mov (\words - 5) * 8(%rsp), %rax   /* the rip slot */
    add $2, %rax
2:  mov %rax, (\words - 5) * 8(%rsp)
    .if \clear_tf
    andq $~0x100, (\words - 3) * 8(%rsp)  /* the rflags slot: stop stepping */
    .endif
    movq $0, trap_resume
    mov scratch + 8, %rbx
    mov scratch, %rax
    pop %rcx
    pop %r11
    .if \words == 8
    add $8, %rsp                       /* the error code */
    .endif
    push $0                            /* flags: not VGCF_in_syscall */
    jmp hypercall_page + 23 * 32
.endm

    handler trap_db, 1, 7, 1
    handler trap_ud, 6, 7
    handler trap_bp, 3, 7
    handler trap_np, 11, 8
    handler trap_gp, 13, 8
    handler trap_pf, 14, 8
    handler trap_ud_step, 6, 7, 1
    handler trap_gp_step, 13, 8, 1

/* ud2 with rcx and r11 set to known values; returns them as the handler
 * left them: 1 if both came back. */
    .globl ud2_keeps_rcx_r11
ud2_keeps_rcx_r11:
    movabs $0x0123456789abcdef, %rcx
    movabs $0xfedcba9876543210, %r11
    .globl ud2_here
ud2_here:
    ud2
    xor %eax, %eax
    movabs $0x0123456789abcdef, %rdx
    cmp %rdx, %rcx
    jne 1f
    movabs $0xfedcba9876543210, %rdx
    cmp %rdx, %r11
    jne 1f
    mov $1, %eax
1:  ret

/* The forced-emulation prefix before something that is not cpuid: Xen
 * delivers #UD at the ud2. */
    .globl fep_not_cpuid, fep_not_cpuid_ud2
fep_not_cpuid:
    lea 1f(%rip), %rax
    mov %rax, trap_resume
fep_not_cpuid_ud2:
    ud2
    .ascii "xen"
    nop
1:  ret

/* uint32_t regs[4] = cpuid through the forced-emulation prefix. */
    .globl fep_cpuid
fep_cpuid:                              /* (leaf, uint32_t out[4]) */
    push %rbx
    mov %rsi, %r8
    mov %edi, %eax
    xor %ecx, %ecx
    ud2
    .ascii "xen"
    cpuid
    mov %eax, 0(%r8)
    mov %ebx, 4(%r8)
    mov %ecx, 8(%r8)
    mov %edx, 12(%r8)
    pop %rbx
    ret

    .globl read_cr3, read_cr3_r9, read_cr0, read_cr2
read_cr3:
    mov %cr3, %rax
    ret
read_cr3_r9:
    mov %cr3, %r9
    mov %r9, %rax
    ret
read_cr0:
    mov %cr0, %rax
    ret
read_cr2:
    mov %cr2, %rax
    ret

    .section .note.GNU-stack, "", @progbits
