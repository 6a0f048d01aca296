/* void enter_guest_frame(struct trap_frame *f): the first entry into a
 * guest, from hv_main's stack, and every return after a vCPU switch, from
 * the next vCPU's own frame (hv/sched/sched.c leave_from): take the frame
 * as the stack and leave through the common interrupt return
 * (hv/cpu/isr.S), by iretq. */
    .text
    .globl enter_guest_frame
    .type enter_guest_frame, @function
enter_guest_frame:
    mov %rdi, %rsp
    jmp trap_return

    .section .note.GNU-stack,"",@progbits
