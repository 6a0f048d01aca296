/* Hypercalls and preemption must preserve every register but rax (the
 * result), rcx and r11 (include/hv/abi.h). Two vCPUs each load known values
 * into all general registers, xmm0-15, MXCSR and the x87 control word --
 * different values on each vCPU -- spin a while (long enough for the timer
 * to preempt them), make a hypercall (yield, then console_write), and check
 * everything came back. The yield switches to the other vCPU with its own
 * values loaded, so FPU/SSE state that is not kept per vCPU shows up here.
 * Exits 0 when both vCPUs saw every register intact. */
#include "hvg.h"

#include "lib/string.h"

HV_GUEST_NOTE("regs-preserved", 0, 2, 0);

#define ROUNDS 6
#define SPIN_ITERATIONS 10000000ull
#define MAX_YIELDS 1000000

enum reg { RAX, RBX, RCX, RDX, RSI, RDI, RBP, RSP, R8, R9, R10, R11, R12, R13, R14, R15, NREGS };

static const char *const reg_names[NREGS] = {
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};

/* Shared with the assembly below by these exact offsets. */
struct probe {
    uint64_t in[NREGS];     /* in[RCX]: spin count; in[RSP] unused */
    uint64_t out[NREGS];
    uint8_t xmm_in[16][16];
    uint8_t xmm_out[16][16];
    uint32_t mxcsr_in, mxcsr_out;
    uint16_t fcw_in, fcw_out;
    uint64_t rsp_before;    /* rsp at the syscall */
};
_Static_assert(__builtin_offsetof(struct probe, out) == 128, "asm offsets");
_Static_assert(__builtin_offsetof(struct probe, xmm_in) == 256, "asm offsets");
_Static_assert(__builtin_offsetof(struct probe, xmm_out) == 512, "asm offsets");
_Static_assert(__builtin_offsetof(struct probe, mxcsr_in) == 768, "asm offsets");
_Static_assert(__builtin_offsetof(struct probe, mxcsr_out) == 772, "asm offsets");
_Static_assert(__builtin_offsetof(struct probe, fcw_in) == 776, "asm offsets");
_Static_assert(__builtin_offsetof(struct probe, fcw_out) == 778, "asm offsets");
_Static_assert(__builtin_offsetof(struct probe, rsp_before) == 784, "asm offsets");

/* void regs_probe(struct probe *p): load everything from p, count rcx down
 * to 0, syscall, store everything to p, restore the C ABI's state. */
void regs_probe(struct probe *p);
__asm__(
    ".pushsection .text\n"
    ".globl regs_probe\n"
    ".type regs_probe, @function\n"
    "regs_probe:\n"
    "    push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
    "    push %rdi\n" /* p, to find it again after the syscall */
    "    mov %rsp, 784(%rdi)\n"
    "    ldmxcsr 768(%rdi)\n"
    "    fldcw 776(%rdi)\n"
    "    movdqu 256+0*16(%rdi), %xmm0\n  movdqu 256+1*16(%rdi), %xmm1\n"
    "    movdqu 256+2*16(%rdi), %xmm2\n  movdqu 256+3*16(%rdi), %xmm3\n"
    "    movdqu 256+4*16(%rdi), %xmm4\n  movdqu 256+5*16(%rdi), %xmm5\n"
    "    movdqu 256+6*16(%rdi), %xmm6\n  movdqu 256+7*16(%rdi), %xmm7\n"
    "    movdqu 256+8*16(%rdi), %xmm8\n  movdqu 256+9*16(%rdi), %xmm9\n"
    "    movdqu 256+10*16(%rdi), %xmm10\n movdqu 256+11*16(%rdi), %xmm11\n"
    "    movdqu 256+12*16(%rdi), %xmm12\n movdqu 256+13*16(%rdi), %xmm13\n"
    "    movdqu 256+14*16(%rdi), %xmm14\n movdqu 256+15*16(%rdi), %xmm15\n"
    "    mov 0*8(%rdi), %rax\n  mov 1*8(%rdi), %rbx\n  mov 2*8(%rdi), %rcx\n"
    "    mov 3*8(%rdi), %rdx\n  mov 4*8(%rdi), %rsi\n  mov 6*8(%rdi), %rbp\n"
    "    mov 8*8(%rdi), %r8\n   mov 9*8(%rdi), %r9\n   mov 10*8(%rdi), %r10\n"
    "    mov 11*8(%rdi), %r11\n mov 12*8(%rdi), %r12\n mov 13*8(%rdi), %r13\n"
    "    mov 14*8(%rdi), %r14\n mov 15*8(%rdi), %r15\n"
    "    mov 5*8(%rdi), %rdi\n"
    "1:  dec %rcx\n"
    "    jnz 1b\n"
    "    syscall\n"
    "    push %rdi\n"
    "    mov 8(%rsp), %rdi\n"
    "    popq 128+5*8(%rdi)\n"
    "    mov %rsp, 128+7*8(%rdi)\n"
    "    mov %rax, 128+0*8(%rdi)\n  mov %rbx, 128+1*8(%rdi)\n  mov %rcx, 128+2*8(%rdi)\n"
    "    mov %rdx, 128+3*8(%rdi)\n  mov %rsi, 128+4*8(%rdi)\n  mov %rbp, 128+6*8(%rdi)\n"
    "    mov %r8, 128+8*8(%rdi)\n   mov %r9, 128+9*8(%rdi)\n   mov %r10, 128+10*8(%rdi)\n"
    "    mov %r11, 128+11*8(%rdi)\n mov %r12, 128+12*8(%rdi)\n mov %r13, 128+13*8(%rdi)\n"
    "    mov %r14, 128+14*8(%rdi)\n mov %r15, 128+15*8(%rdi)\n"
    "    movdqu %xmm0, 512+0*16(%rdi)\n  movdqu %xmm1, 512+1*16(%rdi)\n"
    "    movdqu %xmm2, 512+2*16(%rdi)\n  movdqu %xmm3, 512+3*16(%rdi)\n"
    "    movdqu %xmm4, 512+4*16(%rdi)\n  movdqu %xmm5, 512+5*16(%rdi)\n"
    "    movdqu %xmm6, 512+6*16(%rdi)\n  movdqu %xmm7, 512+7*16(%rdi)\n"
    "    movdqu %xmm8, 512+8*16(%rdi)\n  movdqu %xmm9, 512+9*16(%rdi)\n"
    "    movdqu %xmm10, 512+10*16(%rdi)\n movdqu %xmm11, 512+11*16(%rdi)\n"
    "    movdqu %xmm12, 512+12*16(%rdi)\n movdqu %xmm13, 512+13*16(%rdi)\n"
    "    movdqu %xmm14, 512+14*16(%rdi)\n movdqu %xmm15, 512+15*16(%rdi)\n"
    "    stmxcsr 772(%rdi)\n"
    "    fnstcw 778(%rdi)\n"
    /* Back to the defaults the C code around expects. */
    "    movl $0x1f80, -8(%rsp)\n"
    "    ldmxcsr -8(%rsp)\n"
    "    movw $0x037f, -8(%rsp)\n"
    "    fldcw -8(%rsp)\n"
    "    pop %rdi\n"
    "    pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
    "    ret\n"
    ".size regs_probe, . - regs_probe\n"
    ".popsection\n");

static int failures_of[2];
static int finished[2];

static void fill(struct probe *p, unsigned vcpu, int round, uint64_t call)
{
    memset(p, 0, sizeof(*p));
    for (int r = 0; r < NREGS; r++)
        p->in[r] = 0xa500000000000000ull ^ ((uint64_t)vcpu << 48) ^ ((uint64_t)round << 40) ^
                   ((uint64_t)r * 0x0101010101ull);
    p->in[RAX] = call;
    p->in[RCX] = SPIN_ITERATIONS;
    for (int x = 0; x < 16; x++)
        for (int b = 0; b < 16; b++)
            p->xmm_in[x][b] = (uint8_t)(0x11 * (vcpu + 1) + 16 * x + b + round);
    /* Rounding: down on vCPU 0, up on vCPU 1 (MXCSR.RC and x87 CW.RC). */
    p->mxcsr_in = 0x1f80 | ((vcpu + 1u) << 13);
    p->fcw_in = (uint16_t)(0x037f | ((vcpu + 1u) << 10));
}

static int verify(const struct probe *p, unsigned vcpu, const char *what)
{
    int bad = 0;

    for (int r = 0; r < NREGS; r++) {
        if (r == RAX || r == RCX || r == R11 || r == RSP || p->out[r] == p->in[r])
            continue;
        hvg_printf("regs-preserved: vCPU %u %s: %s was %#llx, now %#llx: FAILED\n", vcpu, what,
                   reg_names[r], (unsigned long long)p->in[r], (unsigned long long)p->out[r]);
        bad++;
    }
    if (p->out[RSP] != p->rsp_before) {
        hvg_printf("regs-preserved: vCPU %u %s: rsp changed: FAILED\n", vcpu, what);
        bad++;
    }
    for (int x = 0; x < 16; x++) {
        if (memcmp(p->xmm_in[x], p->xmm_out[x], 16) != 0) {
            hvg_printf("regs-preserved: vCPU %u %s: xmm%d changed (byte 0 %#x -> %#x): FAILED\n",
                       vcpu, what, x, p->xmm_in[x][0], p->xmm_out[x][0]);
            bad++;
        }
    }
    if (p->mxcsr_out != p->mxcsr_in) {
        hvg_printf("regs-preserved: vCPU %u %s: MXCSR %#x -> %#x: FAILED\n", vcpu, what,
                   p->mxcsr_in, p->mxcsr_out);
        bad++;
    }
    if (p->fcw_out != p->fcw_in) {
        hvg_printf("regs-preserved: vCPU %u %s: x87 control word %#x -> %#x: FAILED\n", vcpu,
                   what, p->fcw_in, p->fcw_out);
        bad++;
    }
    return bad;
}

static int run_rounds(unsigned vcpu)
{
    static const char line[] = "regs-preserved: (console write from inside the probe)\n";
    struct probe p;
    int bad = 0;

    for (int round = 0; round < ROUNDS; round++) {
        fill(&p, vcpu, round, HV_CALL_YIELD);
        regs_probe(&p);
        int b = verify(&p, vcpu, "yield");
        if ((int64_t)p.out[RAX] != 0) {
            hvg_printf("regs-preserved: vCPU %u yield returned %lld: FAILED\n", vcpu,
                       (long long)p.out[RAX]);
            b++;
        }
        hvg_printf("regs-preserved: vCPU %u round %d yield: %s\n", vcpu, round, b ? "FAILED" : "ok");
        bad += b;

        fill(&p, vcpu, round, HV_CALL_CONSOLE_WRITE);
        p.in[RDI] = (uint64_t)(uintptr_t)line;
        p.in[RSI] = sizeof(line) - 1;
        regs_probe(&p);
        b = verify(&p, vcpu, "console_write");
        int64_t r = (int64_t)p.out[RAX];
        if (r != -HV_EAGAIN && (r <= 0 || r > (int64_t)sizeof(line) - 1)) {
            hvg_printf("regs-preserved: vCPU %u console_write returned %lld: FAILED\n", vcpu,
                       (long long)r);
            b++;
        }
        hvg_printf("regs-preserved: vCPU %u round %d console_write: %s\n", vcpu, round,
                   b ? "FAILED" : "ok");
        bad += b;
    }
    return bad;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    if (vcpu == 0)
        hvg_printf("regs-preserved: %u vCPUs, %d rounds of spin + yield + console_write each\n",
                   si->vcpu_count, ROUNDS);
    if (vcpu > 1)
        return 0;

    int bad = run_rounds(vcpu);
    __atomic_store_n(&failures_of[vcpu], bad, __ATOMIC_RELAXED);
    __atomic_store_n(&finished[vcpu], 1, __ATOMIC_RELEASE);
    if (vcpu != 0)
        return 0;

    if (si->vcpu_count < 2) {
        hvg_printf("regs-preserved: FAILED: only %u vCPU, the note asked for 2\n", si->vcpu_count);
        return 1;
    }
    for (long i = 0; !__atomic_load_n(&finished[1], __ATOMIC_ACQUIRE); i++) {
        if (i == MAX_YIELDS) {
            hvg_puts("regs-preserved: FAILED: vCPU 1 never finished");
            return 1;
        }
        hvg_yield();
    }
    int total = bad + __atomic_load_n(&failures_of[1], __ATOMIC_RELAXED);
    if (total != 0) {
        hvg_printf("regs-preserved: %d register(s) FAILED\n", total);
        return 1;
    }
    hvg_puts("regs-preserved: all registers preserved on both vCPUs");
    return 0;
}
