/* Helpers of our Xen-ABI test guests, written from Xen's public
 * interface (hv/xen/xen_abi.h holds the numbers and layouts). */
#pragma once

#include <stdint.h>

#include "hv/xen/xen_abi.h"

extern char hypercall_page[];
extern uint64_t entry_regs[17];
extern char __image_start[], _end[];

/* The trap handlers of tests/guests/xen/traps.S: each copies Xen's bounce
 * frame to trap_seen (trap_seen_count words), notes the vector, counts,
 * and resumes at trap_resume if set (else after a 2-byte instruction);
 * trap_db also clears TF in the frame (one step taken, no more), as do
 * trap_ud_step and trap_gp_step (a fault taken while single-stepping). */
extern volatile uint64_t trap_seen[8], trap_seen_count, trap_vector, trap_resume, trap_count;
extern char trap_db[], trap_ud[], trap_bp[], trap_np[], trap_gp[], trap_pf[];
extern char trap_ud_step[], trap_gp_step[];

/* Trap-table entries as our guests register them (Xen's trap_info): on
 * Xen's flat code selector, events masked on entry (flag 4), the DPL
 * saying from which mode `int n` may reach it (0: none, 3: both). */
#define TRAP_ENTRY(vector, dpl, handler) {(vector), (dpl) | 4, 0xe033, 0, (uint64_t)(handler)}
#define TRAP_END {0, 0, 0, 0, 0}
/* The three most of them want: #UD, #GP and #PF to traps.S's handlers. */
#define TRAP_UD_GP_PF TRAP_ENTRY(6, 0, trap_ud), TRAP_ENTRY(13, 0, trap_gp), TRAP_ENTRY(14, 0, trap_pf)

/* Runs one instruction (asm text; operands as the caller's constraints
 * say) with traps.S's handlers resuming after it; returns the trap vector
 * it took, or -1 for none. r8 is clobbered: name it in the constraints. */
#define TRY(insn, ...)                                                                     \
    ({                                                                                     \
        uint64_t before_ = trap_count;                                                     \
        __asm__ volatile("lea 1f(%%rip), %%r8\n\tmov %%r8, trap_resume\n\t" insn "\n1:"      \
                         __VA_ARGS__);                                                     \
        trap_resume = 0;                                                                   \
        trap_count != before_ ? (long)trap_vector : -1L;                                   \
    })

/* The segment state the guests look at: FS and GS bases, selectors. */
#define MSR_FS_BASE 0xc0000100u
#define MSR_GS_BASE 0xc0000101u
#define MSR_SHADOW_GS_BASE 0xc0000102u

/* `mov %seg, r` (never traps) and the 8 bytes at %seg:0, where the base
 * points: seg is ds, es, fs or gs. */
#define SEG_SELECTOR(seg)                                                      \
    ({                                                                         \
        uint16_t v_;                                                           \
        __asm__ volatile("mov %%" #seg ", %0" : "=r"(v_));                     \
        v_;                                                                    \
    })
#define SEG_WORD(seg)                                                          \
    ({                                                                         \
        uint64_t v_;                                                           \
        __asm__ volatile("mov %%" #seg ":0, %0" : "=r"(v_));                   \
        v_;                                                                    \
    })

static inline uint64_t fs_word(void)
{
    return SEG_WORD(fs);
}

static inline uint64_t gs_word(void)
{
    return SEG_WORD(gs);
}

/* rdmsr and wrmsr as they are (hv emulates a PV kernel's FS/GS base ones
 * at their #GP); try_rdmsr and try_wrmsr (TRY) for one that may trap. */
static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo = 0, hi = 0;
    __asm__ volatile("rdmsr" : "+a"(lo), "+d"(hi) : "c"(msr));
    return (uint64_t)hi << 32 | lo;
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

/* The same, run with TRY: the trap's vector, or -1 (then *v, the MSR). */
static inline long try_rdmsr(uint32_t msr, uint64_t *v)
{
    uint32_t lo = 0xbad, hi = 0xbad;
    long vec = TRY("rdmsr", : "+a"(lo), "+d"(hi) : "c"(msr) : "r8", "memory");
    *v = (uint64_t)hi << 32 | lo;
    return vec;
}

static inline long try_wrmsr(uint32_t msr, uint64_t v)
{
    return TRY("wrmsr", : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "r8", "memory");
}

int stub_keeps_rcx_r11(void);
long raw_hypercall(uint64_t nr, uint64_t a1, uint64_t a2, uint64_t a3);

/* A hypercall through its stub: arguments rdi, rsi, rdx; result rax. */
static inline long hcall(unsigned nr, uint64_t a1, uint64_t a2, uint64_t a3)
{
    register uint64_t rdi __asm__("rdi") = a1;
    register uint64_t rsi __asm__("rsi") = a2;
    register uint64_t rdx __asm__("rdx") = a3;
    long ret;
    __asm__ volatile("call *%[stub]"
                     : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx)
                     : [stub] "r"(hypercall_page + nr * 32)
                     : "memory", "rcx", "r8", "r9", "r10", "r11");
    return ret;
}

/* The same with a fourth argument in r10 (mmuext_op's domain). */
static inline long hcall4(unsigned nr, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4)
{
    register uint64_t rdi __asm__("rdi") = a1, rsi __asm__("rsi") = a2, rdx __asm__("rdx") = a3;
    register uint64_t r10 __asm__("r10") = a4;
    long ret;
    __asm__ volatile("call *%[stub]"
                     : "=a"(ret), "+r"(rdi), "+r"(rsi), "+r"(rdx), "+r"(r10)
                     : [stub] "r"(hypercall_page + nr * 32)
                     : "memory", "rcx", "r8", "r9", "r11");
    return ret;
}

void xprint(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One check: prints "NAME: ok" or "FAIL: NAME: ..." and counts. */
void check(int ok, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
extern unsigned checks_run, checks_failed;
__attribute__((noreturn)) void shutdown(uint32_t reason);
