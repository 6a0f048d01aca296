/* The SDK's event upcall entries (guest/include/hvg_event.h), one per vCPU.
 * hv enters a vCPU's upcall entry like an interrupt: the native frame (ss,
 * rsp, rflags, cs, rip; no error code) on a 16-byte aligned stack, events
 * masked. A ring-3 guest has no register of its own per vCPU, so each vCPU
 * registers a different stub, and the stub says which vCPU it is: it pushes
 * the vCPU's number where an error code goes and HVG_VECTOR_UPCALL as the
 * vector, then joins the trap entry's common part (guest/lib/trap_entry.S),
 * which saves every register into a struct hvg_trap_frame, calls C
 * (hvg_trap_dispatch -> hvg_event_upcall) and returns with HV_CALL_IRET: that
 * unmasks events (rflags.IF was 1 in the frame, or hv would not have
 * entered) and delivers what arrived meanwhile. Position-independent. */

/* guest/lib/event.c checks these against the C headers. */
#define HVG_VECTOR_UPCALL 0x101
#define HVG_UPCALL_STUB_SIZE 16
#define HVG_MAX_VCPUS 16

    .text
    .balign HVG_UPCALL_STUB_SIZE
    .globl hvg_upcall_stubs
    .type hvg_upcall_stubs, @function
hvg_upcall_stubs:
    vcpu = 0
    .rept HVG_MAX_VCPUS
    .org hvg_upcall_stubs + vcpu * HVG_UPCALL_STUB_SIZE, 0xcc
    .byte 0x6a, vcpu                /* pushq $vcpu: the frame's error code */
    .byte 0x68                      /* pushq $imm32: the frame's vector */
    .long HVG_VECTOR_UPCALL
    .byte 0xe9                      /* jmp rel32 */
    .long hvg_trap_common - . - 4
    vcpu = vcpu + 1
    .endr
    .org hvg_upcall_stubs + HVG_MAX_VCPUS * HVG_UPCALL_STUB_SIZE, 0xcc
    .size hvg_upcall_stubs, . - hvg_upcall_stubs

    .section .note.GNU-stack, "", @progbits
