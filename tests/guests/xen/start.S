/* Start code of our Xen-ABI test guests: Xen's ELF notes (public
 * elfnote.h: owner "Xen", 4-byte aligned name and descriptor), the
 * hypercall page hv must overwrite (poisoned with `ret` until then), and
 * the entry, which records every register as the builder left them
 * before any C code runs. */

.macro xen_note type, desc_start, desc_end
    .balign 4
    .long 4, \desc_end - \desc_start, \type
    .asciz "Xen"
.endm

    .section .note.Xen, "a", @note
    xen_note 6, 1f, 2f      /* GUEST_OS */
1:  .asciz "hv-xen-test"
2:  .balign 4
    xen_note 8, 1f, 2f      /* LOADER */
1:  .asciz "generic"
2:  .balign 4
    xen_note 2, 1f, 2f      /* HYPERCALL_PAGE */
1:  .quad hypercall_page
2:  .balign 4
    xen_note 5, 1f, 2f      /* XEN_VERSION */
1:  .asciz "xen-3.0"
2:  .balign 4

    .section .hcall, "ax", @progbits
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xc3

    .section .bss
    .balign 8
    .globl entry_regs
/* rax rbx rcx rdx rsi rdi rbp rsp r8 .. r15 rflags */
entry_regs:
    .skip 8 * 17

    .section .text.entry, "ax", @progbits
    .globl _start
_start:
    mov %rax, entry_regs + 0
    mov %rbx, entry_regs + 8
    mov %rcx, entry_regs + 16
    mov %rdx, entry_regs + 24
    mov %rsi, entry_regs + 32
    mov %rdi, entry_regs + 40
    mov %rbp, entry_regs + 48
    mov %rsp, entry_regs + 56
    mov %r8, entry_regs + 64
    mov %r9, entry_regs + 72
    mov %r10, entry_regs + 80
    mov %r11, entry_regs + 88
    mov %r12, entry_regs + 96
    mov %r13, entry_regs + 104
    mov %r14, entry_regs + 112
    mov %r15, entry_regs + 120
    pushfq
    popq entry_regs + 128
    mov %rsi, %rdi
    and $-16, %rsp
    call xen_main
    ud2

/* 1 if rcx and r11 come back from a hypercall stub (xen_version) as they
 * went in. */
    .text
    .globl stub_keeps_rcx_r11
stub_keeps_rcx_r11:
    push %rbx
    movabs $0x1122334455667788, %rcx
    movabs $0x8877665544332211, %r11
    xor %edi, %edi
    xor %esi, %esi
    call hypercall_page + 17 * 32
    xor %eax, %eax
    movabs $0x1122334455667788, %rbx
    cmp %rbx, %rcx
    jne 1f
    movabs $0x8877665544332211, %rbx
    cmp %rbx, %r11
    jne 1f
    mov $1, %eax
1:  pop %rbx
    ret

/* long raw_hypercall(nr, a1, a2, a3): `syscall` straight, not through a stub. */
    .globl raw_hypercall
raw_hypercall:
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    syscall
    ret

    .section .note.GNU-stack, "", @progbits
