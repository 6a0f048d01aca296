/* Xen-ABI test guest: its registers are its own across preemption and
 * yields (tests/system/switch_cases.py, beside two copies of
 * regs-preserved on two CPUs). Each round loads every general register but
 * rcx and rsp with values of its own (the round and a mark per copy of the
 * guest), counts rcx down (long enough for the timer to preempt it), then
 * yields with sched_op (a Xen hypercall: rax, rcx and r11 are the stub's),
 * and checks every register it loaded. hv switches vCPUs in both places,
 * and since session 9 leaves a switch from the next vCPU's own frame
 * (hv/sched/sched.c leave_from): a frame that went to the wrong vCPU, or
 * was not saved before it was left from, shows here. Prints
 *
 *     xen-regs: N rounds, W registers wrong
 *
 * and its checks, then shuts down (poweroff). */
#include "tests/guests/xen/xen_guest.h"

#define ROUNDS 24
#define SPIN 3000000ull

enum { RAX, RBX, RDX, RSI, RDI, RBP, R8, R9, R10, R11, R12, R13, R14, R15, NREGS };

/* Shared with the assembly by these offsets: in[] at 0, out[] at 112. */
struct probe {
    uint64_t in[NREGS], out[NREGS];
};

/* void xen_regs_probe(struct probe *p, uint64_t spin): load in[], spin,
 * sched_op(yield) through the hypercall page, store out[]. r11 and rax
 * are loaded again after the call, which may clobber them. */
void xen_regs_probe(struct probe *p, uint64_t spin);
__asm__(".pushsection .text\n"
        ".globl xen_regs_probe\n"
        "xen_regs_probe:\n"
        "  push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
        "  push %rdi\n"
        "  mov %rsi, %rcx\n"
        "  mov 0*8(%rdi), %rax\n  mov 1*8(%rdi), %rbx\n  mov 2*8(%rdi), %rdx\n"
        "  mov 3*8(%rdi), %rsi\n  mov 5*8(%rdi), %rbp\n  mov 6*8(%rdi), %r8\n"
        "  mov 7*8(%rdi), %r9\n   mov 8*8(%rdi), %r10\n  mov 9*8(%rdi), %r11\n"
        "  mov 10*8(%rdi), %r12\n mov 11*8(%rdi), %r13\n mov 12*8(%rdi), %r14\n"
        "  mov 13*8(%rdi), %r15\n mov 4*8(%rdi), %rdi\n"
        "1: dec %rcx\n"
        "  jnz 1b\n"
        /* Every register but rax, rcx, r11 is checked across the spin
         * and the yield; rax and r11 across the spin (stored first). */
        "  push %rdi\n"
        "  mov 8(%rsp), %rdi\n"
        "  mov %rax, 112+0*8(%rdi)\n mov %r11, 112+9*8(%rdi)\n"
        "  pop %rdi\n"
        "  push %rdi\n push %rsi\n push %rdx\n"
        "  mov $29, %eax\n"      /* XEN_HC_sched_op: in the stub, rdi = cmd, rsi = arg */
        "  xor %edi, %edi\n"     /* XEN_SCHEDOP_yield */
        "  xor %esi, %esi\n"
        "  call hypercall_page + 29 * 32\n"
        "  pop %rdx\n pop %rsi\n pop %rdi\n"
        "  push %rdi\n"
        "  mov 8(%rsp), %rdi\n"
        "  popq 112+4*8(%rdi)\n"
        "  mov %rbx, 112+1*8(%rdi)\n mov %rdx, 112+2*8(%rdi)\n mov %rsi, 112+3*8(%rdi)\n"
        "  mov %rbp, 112+5*8(%rdi)\n mov %r8, 112+6*8(%rdi)\n  mov %r9, 112+7*8(%rdi)\n"
        "  mov %r10, 112+8*8(%rdi)\n mov %r12, 112+10*8(%rdi)\n mov %r13, 112+11*8(%rdi)\n"
        "  mov %r14, 112+12*8(%rdi)\n mov %r15, 112+13*8(%rdi)\n"
        "  pop %rdi\n"
        "  pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
        "  ret\n"
        ".popsection\n");

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    (void)si;
    /* rdi, rsi, rdx go through the yield's stub untouched but for the
     * values pushed around it; r8-r10 are the stub's too in hcall()'s
     * constraints, but Xen's ABI and hv keep them: checked here. */
    unsigned wrong = 0, first_reg = 0, rounds = 0;
    uint64_t first_want = 0, first_got = 0;
    struct probe p;
    for (unsigned round = 0; round < ROUNDS; round++) {
        for (unsigned r = 0; r < NREGS; r++)
            p.in[r] = 0x5e00000000000000ull ^ ((uint64_t)round << 40) ^ ((uint64_t)r * 0x0101010101ull) ^
                      (uint64_t)(uintptr_t)&p; /* the copies' stacks differ: so do their values */
        for (unsigned r = 0; r < NREGS; r++)
            p.out[r] = 0;
        xen_regs_probe(&p, SPIN);
        rounds++;
        for (unsigned r = 0; r < NREGS; r++)
            if (p.out[r] != p.in[r] && !wrong++) {
                first_reg = r;
                first_want = p.in[r];
                first_got = p.out[r];
            }
    }
    xprint("xen-regs: %u rounds, %u registers wrong\n", rounds, wrong);
    check(!wrong, "every register its own after every spin and yield",
          "%u wrong, the first register %u: 0x%lx for 0x%lx", wrong, first_reg,
          (unsigned long)first_got, (unsigned long)first_want);
    xprint("xen-regs: all %u checks, %u failed\n", checks_run, checks_failed);
    shutdown(XEN_SHUTDOWN_poweroff);
}
