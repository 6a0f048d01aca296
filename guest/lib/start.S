/* Guest entry point: every vCPU starts here (include/hv/abi.h) with
 *     rdi = struct hv_start_info *, rsi = vCPU id, rsp = 16-byte aligned - 8
 * and enters int main(const struct hv_start_info *si, unsigned vcpu).
 * vCPU 0 returning ends the guest with main's value as the status; any other
 * vCPU returning ends just that vCPU. Position-independent, so the same code
 * serves ET_EXEC and static-pie guests. */

/* include/hv/abi.h is C only; guest/lib/runtime.c checks these match it. */
#define HVG_CALL_EXIT 1
#define HVG_CALL_VCPU_EXIT 5

    .text
    .globl _start
    .type _start, @function
_start:
    /* A zero frame pointer ends debugger back-traces here. */
    xorl %ebp, %ebp
    /* Every vCPU stores the same value, so the unsynchronised store is
     * harmless; hvg_start_info() reads it. */
    movq %rdi, hvg_start_info_ptr(%rip)
    /* Callee-saved: still the vCPU id when main returns. */
    movl %esi, %r12d
    /* The ABI promises this alignment already; forcing it costs nothing and
     * keeps SSE spills in main safe whatever happens. */
    andq $-16, %rsp
    call main

    /* int status -> int64_t, as hvg_exit takes it. */
    movslq %eax, %rdi
    testl %r12d, %r12d
    jnz 2f
1:  movl $HVG_CALL_EXIT, %eax
    syscall
    jmp 1b          /* hv does not return; if it did, ask again */
2:  movl $HVG_CALL_VCPU_EXIT, %eax
    syscall
    jmp 2b
    .size _start, . - _start

    .section .note.GNU-stack, "", @progbits
