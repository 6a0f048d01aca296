/* iret_from(): one HV_CALL_IRET with a frame the caller drew, and what it
 * did, for the test guests of the iret paths (fast_iret.c and
 * review_iret_fuzz.c, which compare hv's fast path with its C path). Each
 * includes it once: it defines the function in asm. */
#pragma once

#include <stdint.h>

/* iret_from(frame_va, out): HV_CALL_IRET with rsp = frame_va. Refused,
 * it returns hv's error. Taken, the frame's rip must be iret_back (and
 * its rsp any lower-half value: iret_back goes back to the caller's stack
 * first): it returns the frame's rax, with out[0..2] = rcx, r11 and
 * rflags as they were right after the return. DF and AC are cleared
 * again before C code runs. */
int64_t iret_from(uint64_t frame_va, uint64_t out[3]);
extern char iret_back[];
__asm__(".pushsection .text\n"
        "iret_from:\n"
        "    push %rbx\n"
        "    push %r12\n"
        "    mov %rsp, %rbx\n"
        "    mov %rsi, %r12\n"
        "    mov %rdi, %rsp\n"
        "    mov $10, %eax\n"
        "    syscall\n"
        "    jmp 2f\n" /* refused: rax is the error */
        "iret_back:\n"
        "    mov %rbx, %rsp\n"
        "    mov %rcx, 0(%r12)\n"
        "    mov %r11, 8(%r12)\n"
        "    pushfq\n"
        "    pop %rcx\n"
        "    mov %rcx, 16(%r12)\n"
        "    cld\n"
        "    pushfq\n"
        "    andq $~0x40000, (%rsp)\n"
        "    popfq\n"
        "2:  mov %rbx, %rsp\n"
        "    pop %r12\n"
        "    pop %rbx\n"
        "    ret\n"
        ".popsection\n");
