/* xen-fsgs-storm's single steps (tests/guests/xen_fsgs_storm.c includes
 * it once, after its million). */
#pragma once

#include "tests/guests/xen_fsgs_base.h"

/* Single steps over emulated instructions, many of them: TF set by popfq
 * before the instruction (its address in rdi); a completed one is one
 * #DB right after it (rip at label 2, TF in the frame's flags), with its
 * result; a refused one is its fault at the instruction with TF in the
 * frame and no #DB after it (the handlers clear TF: trap_*_step). DR6.BS
 * is set by the steps and by nothing else (a fault sets none). */
#define STEPS 100000u
#define STEP_AT(insn) "lea 3f(%%rip), %%rdi\n\tlea 2f(%%rip), %%rbx\n\tpushfq\n\t" \
                      "orq $0x100, (%%rsp)\n\tpopfq\n3:\t" insn "\n2:\tnop\n\tnop"
#define DR6_BS 0x4000u

static void step_storm(void)
{
    static struct xen_trap_info stepping[] = {
        TRAP_ENTRY(1, 0, trap_db), TRAP_ENTRY(6, 0, trap_ud_step), TRAP_ENTRY(13, 0, trap_gp_step),
        TRAP_ENTRY(14, 0, trap_pf), TRAP_END};
    check(hcall(XEN_HC_set_trap_table, (uint64_t)stepping, 0, 0) == 0,
          "set_trap_table with #DB and the stepping handlers", "refused");
    unsigned wrong = 0, steps = 0, faults = 0, dr6_wrong = 0;
    uint64_t a = TOP(0), c = TOP(1), fs_now = a;
    set_bases(a, a);
    hcall(XEN_HC_set_debugreg, 6, 0, 0);
    for (unsigned i = 0; i < STEPS; i++) {
        uint64_t at = 0, after = 0, before = trap_count, v = i & 8 ? a : c;
        uint32_t lo = 0, hi = 0;
        int ok = 0;
        long vec;
        if (i % 4096 == 2)
            hcall(XEN_HC_set_debugreg, 6, 0, 0); /* the fault below must set no BS */
        switch (i % 4) {
        case 0: /* wrfsbase, emulated at its #UD, completes */
            vec = TRY(STEP_AT("wrfsbase %%rax"), : "=&D"(at), "=&b"(after) : "a"(v)
                      : "r8", "memory", "cc");
            fs_now = v;
            ok = vec == 1 && trap_seen[2] == after && (trap_seen[4] & 0x100) &&
                 fs_word() == (v == a ? TAG(0) : TAG(1));
            steps += vec == 1;
            break;
        case 1: /* rdmsr, emulated at its #GP, completes with the base */
            vec = TRY(STEP_AT("rdmsr"), : "=&D"(at), "=&b"(after), "+a"(lo), "+d"(hi)
                      : "c"(MSR_FS_BASE) : "r8", "memory", "cc");
            ok = vec == 1 && trap_seen[2] == after && ((uint64_t)hi << 32 | lo) == fs_now;
            steps += vec == 1;
            break;
        case 2: /* wrgsbase of an address on hv's half: #GP(0) at it, no step */
            vec = TRY(STEP_AT("wrgsbase %%rsi"), : "=&D"(at), "=&b"(after)
                      : "S"(0xffff800000000000ULL + i) : "r8", "memory", "cc");
            ok = vec == 13 && trap_seen[2] == 0 && trap_seen[3] == at &&
                 (trap_seen[5] & 0x100) && gs_word() == TAG(0);
            faults += vec == 13;
            if (i % 4096 == 2)
                dr6_wrong += (hcall(XEN_HC_get_debugreg, 6, 0, 0) & DR6_BS) != 0;
            break;
        default: /* a form the decoder refuses: #UD at it, no step */
            vec = TRY(STEP_AT(".byte 0xf3, 0x48, 0x48, 0x0f, 0xae, 0xc0"), : "=&D"(at), "=&b"(after)
                      : : "rax", "r8", "memory", "cc");
            ok = vec == 6 && trap_seen[2] == at && (trap_seen[4] & 0x100);
            faults += vec == 6;
            break;
        }
        wrong += !ok || trap_count - before != 1;
        if (i % 4096 == 1) {
            dr6_wrong += !(hcall(XEN_HC_get_debugreg, 6, 0, 0) & DR6_BS);
            hcall(XEN_HC_set_debugreg, 6, 0, 0);
        }
    }
    xprint("xen-fsgs-storm: steps: %u single steps, %u faults, %u wrong, %u DR6 wrong\n", steps,
           faults, wrong, dr6_wrong);
    check(wrong == 0 && dr6_wrong == 0 && steps == STEPS / 2 && faults == STEPS / 2,
          "single steps over emulated instructions, each as the CPU", "%u wrong, %u DR6 wrong",
          wrong, dr6_wrong);
    set_bases(TOP(0), TOP(0));
}
