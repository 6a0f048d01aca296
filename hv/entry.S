/* First instruction of the core. The stub jumps here on its boot page
 * tables with interrupts off and %rdi = the handoff (direct-map address).
 * Take our own stack before anything else, then run C. */
    .section .text.entry, "ax"
    .globl hv_entry
    .type hv_entry, @function
hv_entry:
    mov $__boot_stack_top, %rsp
    xor %ebp, %ebp
    push $0             /* a zero return address ends stack traces */
    call hv_main
1:  cli
    hlt
    jmp 1b

    .section .note.GNU-stack,"",@progbits
