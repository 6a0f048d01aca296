/* Xen-ABI test guest: a storm of the FS/GS base instructions hv emulates
 * at their #UD (hv/xen/xen_emul.c, xen_emulate_fsgsbase), beside the
 * companion (tests/system/xenev_cases.py). Every form is run from one
 * patched slot with all 16 registers loaded from fsgs_in and stored to
 * fsgs_out, so each check sees every register:
 *  - without the guest's CR4.FSGSBASE every form is the guest's #UD;
 *  - with it, f3 [REX] 0f ae /0-/3 with a register operand, each op, each
 *    of the 16 registers, 32 and 64 bits (REX.R and REX.X ignored), does
 *    what the CPU does: the register or the base written (32 bits zero-
 *    extended), every other register kept, %fs:/%gs: accesses at the new
 *    base, the MSRs agreeing;
 *  - forms the decoder refuses (other prefixes, before, after or instead
 *    of f3; two REX; REX before f3; `f3 0f 0b`) are the guest's #UD at
 *    the instruction, nothing changed; /4-/7 never touch a base;
 *  - a non-canonical base, or a GS base on hv's half, is the guest's
 *    #GP(0) at the instruction, the base kept (an FS base there is taken);
 *  - the bases the CPU holds are what rd{fs,gs}base read: after a
 *    selector load (base 0) too;
 *  - then a million of them, mixed with the #GP and #UD ones, each
 *    result checked;
 *  - then 100,000 single steps (TF) over emulated ones and faulting ones.
 * Prints "xen-fsgs-storm: all N checks, M failed". */
#include "tests/guests/xen/xen_guest.h"

#include "lib/string.h"
#include "tests/guests/xen_fsgs_base.h"
#include "tests/guests/xen_fsgs_step.h"

#define CR4_FSGSBASE 0x10000ULL
#define STORM 1000000u

extern uint64_t fsgs_in[16], fsgs_out[16];
extern uint8_t fsgs_slot[16];
extern char fsgs_after[];
void fsgs_run(void);

/* fsgs_run: a page of its own (patching the slot flips only it between
 * writable and executable, hv's demand W^X). Registers by x86 number
 * (0 rax, 1 rcx, 2 rdx, 3 rbx, 4 rsp, 5 rbp, 6 rsi, 7 rdi, 8-15). */
__asm__(".pushsection .text.fsgs, \"ax\"\n"
        ".balign 4096\n"
        ".globl fsgs_run, fsgs_slot, fsgs_after\n"
        "fsgs_run:\n"
        "push %rbx\n push %rbp\n push %r12\n push %r13\n push %r14\n push %r15\n"
        "mov %rsp, fsgs_saved_rsp\n"
        "lea fsgs_in(%rip), %rax\n"
        "mov 8(%rax), %rcx\n mov 16(%rax), %rdx\n mov 24(%rax), %rbx\n"
        "mov 40(%rax), %rbp\n mov 48(%rax), %rsi\n mov 56(%rax), %rdi\n"
        "mov 64(%rax), %r8\n mov 72(%rax), %r9\n mov 80(%rax), %r10\n mov 88(%rax), %r11\n"
        "mov 96(%rax), %r12\n mov 104(%rax), %r13\n mov 112(%rax), %r14\n mov 120(%rax), %r15\n"
        "mov 32(%rax), %rsp\n"
        "mov (%rax), %rax\n"
        "fsgs_slot:\n"
        ".fill 16, 1, 0x90\n"
        "fsgs_after:\n"
        "mov %rax, fsgs_out\n"
        "lea fsgs_out(%rip), %rax\n"
        "mov %rcx, 8(%rax)\n mov %rdx, 16(%rax)\n mov %rbx, 24(%rax)\n mov %rsp, 32(%rax)\n"
        "mov %rbp, 40(%rax)\n mov %rsi, 48(%rax)\n mov %rdi, 56(%rax)\n"
        "mov %r8, 64(%rax)\n mov %r9, 72(%rax)\n mov %r10, 80(%rax)\n mov %r11, 88(%rax)\n"
        "mov %r12, 96(%rax)\n mov %r13, 104(%rax)\n mov %r14, 112(%rax)\n mov %r15, 120(%rax)\n"
        "mov fsgs_saved_rsp, %rsp\n"
        "pop %r15\n pop %r14\n pop %r13\n pop %r12\n pop %rbp\n pop %rbx\n"
        "ret\n"
        ".balign 4096\n"
        ".popsection\n");

uint64_t fsgs_in[16], fsgs_out[16], fsgs_saved_rsp;

static uint64_t cr4(void)
{
    uint64_t v = 0;
    TRY("mov %%cr4, %%rax", : "+a"(v) : : "r8", "memory");
    return v;
}

/* The registers every form starts with: distinct, rsp a stack. */
static void fill_in(void)
{
    for (unsigned i = 0; i < 16; i++)
        fsgs_in[i] = 0x0101010101010101ULL * (i + 1) ^ 0xc3;
    fsgs_in[4] = TOP(1);
}

/* Runs bytes[0..len) in the slot: the vector it trapped with, or -1. */
static long run(const uint8_t *bytes, unsigned len)
{
    memcpy(fsgs_slot, bytes, len);
    memset(fsgs_slot + len, 0x90, 16 - len);
    uint64_t before = trap_count;
    trap_resume = (uint64_t)fsgs_after;
    fsgs_run();
    trap_resume = 0;
    return trap_count != before ? (long)trap_vector : -1;
}

/* f3 [REX] 0f ae /op with register rm (REX when w or rm > 7, or `rex`
 * given: extra REX bits, e.g. R and X, which the CPU ignores here). */
static unsigned encode(uint8_t *b, unsigned op, unsigned rm, unsigned w, unsigned rex)
{
    unsigned n = 0;
    b[n++] = 0xf3;
    rex |= (w ? 8 : 0) | (rm > 7 ? 1 : 0);
    if (rex)
        b[n++] = (uint8_t)(0x40 | rex);
    b[n++] = 0x0f;
    b[n++] = 0xae;
    b[n++] = (uint8_t)(0xc0 | op << 3 | (rm & 7));
    return n;
}

static const char *const OPS[4] = {"rdfsbase", "rdgsbase", "wrfsbase", "wrgsbase"};

/* Registers other than `except` as they went in (16: none excepted). */
static int others_kept(unsigned except)
{
    for (unsigned i = 0; i < 16; i++)
        if (i != except && fsgs_out[i] != fsgs_in[i])
            return 0;
    return 1;
}

/* The trap left nothing changed, at the instruction: rip in the frame
 * (#UD: word 2; #GP: word 3, after its error code 0). */
static int trapped_at_slot(long vec, long want)
{
    if (vec != want)
        return 0;
    if (want == 13)
        return trap_seen[2] == 0 && trap_seen[3] == (uint64_t)fsgs_slot;
    return trap_seen[2] == (uint64_t)fsgs_slot;
}

static void without_cr4(void)
{
    unsigned bad = 0, n = 0;
    uint8_t b[8];
    set_bases(TOP(0), TOP(0));
    for (unsigned op = 0; op < 4; op++)
        for (unsigned rm = 0; rm < 16; rm++)
            for (unsigned w = 0; w < 2; w++) {
                fill_in();
                long vec = run(b, encode(b, op, rm, w, 0));
                n++;
                if (!trapped_at_slot(vec, 6) || !others_kept(16) || rdmsr(MSR_FS_BASE) != TOP(0) ||
                    rdmsr(MSR_GS_BASE) != TOP(0))
                    bad++;
            }
    check(bad == 0, "every form without CR4.FSGSBASE: #UD, nothing changed", "%u of %u wrong",
          bad, n);
}

/* Every accepted form: 4 ops x 16 registers x 32/64 bits, and REX.R, REX.X, a bare REX. */
static void accepted_forms(void)
{
    static const unsigned extra_rex[] = {0, 4, 2, 6};
    unsigned bad = 0, n = 0;
    uint8_t b[8];
    for (unsigned op = 0; op < 4; op++)
        for (unsigned rm = 0; rm < 16; rm++)
            for (unsigned w = 0; w < 2; w++)
                for (unsigned x = 0; x < 4; x++) {
                    if (x && rm % 5)
                        continue; /* the REX variants on a few registers */
                    unsigned rex = extra_rex[x];
                    fill_in();
                    uint64_t before = TOP(0), want = TOP(1);
                    set_bases(before, before);
                    /* A 32-bit write drops bits 32-63, a 32-bit read
                     * zero-extends (rsp stays a stack: TOP(1)). */
                    if (op >= 2)
                        fsgs_in[rm] = w || rm == 4 ? want : want | 0xa5a5a5a500000000ULL;
                    else if (rm != 4)
                        fsgs_in[rm] = 0xffffffffffffffffULL;
                    long vec = run(b, encode(b, op, rm, w, rex));
                    n++;
                    int ok = vec == -1;
                    if (op < 2) {
                        ok = ok && fsgs_out[rm] == (w ? before : (uint32_t)before) && others_kept(rm) &&
                             rdmsr(MSR_FS_BASE) == before && rdmsr(MSR_GS_BASE) == before;
                    } else {
                        uint64_t fs = op == 2 ? want : before, gs = op == 3 ? want : before;
                        ok = ok && others_kept(16) && rdmsr(MSR_FS_BASE) == fs &&
                             rdmsr(MSR_GS_BASE) == gs && fs_word() == (fs == want ? TAG(1) : TAG(0)) &&
                             gs_word() == (gs == want ? TAG(1) : TAG(0));
                    }
                    if (!ok) {
                        bad++;
                        if (bad <= 4)
                            xprint("xen-fsgs-storm: %s rm %u w %u rex %u: vec %ld, reg 0x%lx, fs "
                                   "0x%lx gs 0x%lx\n",
                                   OPS[op], rm, w, rex, vec, (unsigned long)fsgs_out[rm],
                                   (unsigned long)rdmsr(MSR_FS_BASE),
                                   (unsigned long)rdmsr(MSR_GS_BASE));
                    }
                }
    check(bad == 0, "every accepted form does what the CPU does", "%u of %u wrong", bad, n);
}

struct form {
    uint8_t b[8];
    unsigned len;
    const char *what;
};

/* Forms the decoder refuses: the guest's #UD at the instruction. */
static const struct form REFUSED[] = {
    {{0x66, 0xf3, 0x0f, 0xae, 0xd8}, 5, "66 before f3"},
    {{0xf3, 0x66, 0x0f, 0xae, 0xd8}, 5, "66 after f3"},
    {{0xf2, 0x0f, 0xae, 0xd0}, 4, "f2 instead of f3"},
    {{0xf2, 0xf3, 0x0f, 0xae, 0xd0}, 5, "f2 before f3"},
    {{0xf3, 0xf2, 0x0f, 0xae, 0xd0}, 5, "f2 after f3"},
    {{0xf0, 0xf3, 0x0f, 0xae, 0xd8}, 5, "lock before f3"},
    {{0xf3, 0xf0, 0x0f, 0xae, 0xd8}, 5, "lock after f3"},
    {{0x65, 0xf3, 0x0f, 0xae, 0xd8}, 5, "gs override before f3"},
    {{0xf3, 0x64, 0x0f, 0xae, 0xd0}, 5, "fs override after f3"},
    {{0x2e, 0xf3, 0x48, 0x0f, 0xae, 0xd0}, 6, "cs override before f3 REX.W"},
    {{0x48, 0xf3, 0x0f, 0xae, 0xd8}, 5, "REX before f3"},
    {{0xf3, 0x48, 0x48, 0x0f, 0xae, 0xd8}, 6, "two REX"},
    {{0xf3, 0x40, 0x49, 0x0f, 0xae, 0xd0}, 6, "REX then REX.WB"},
    {{0xf3, 0xf3, 0x0f, 0xae, 0xd8}, 5, "f3 twice"},
    {{0xf3, 0x0f, 0x0b}, 3, "f3 0f 0b (ud2)"},
    {{0xf3, 0x48, 0x0f, 0x0b}, 4, "f3 REX.W 0f 0b"},
};

static void refused_forms(void)
{
    unsigned bad = 0;
    for (unsigned i = 0; i < sizeof(REFUSED) / sizeof(REFUSED[0]); i++) {
        fill_in();
        fsgs_in[0] = TOP(1); /* the wr forms' source: a good base */
        set_bases(TOP(0), TOP(0));
        long vec = run(REFUSED[i].b, REFUSED[i].len);
        if (!trapped_at_slot(vec, 6) || !others_kept(16) || rdmsr(MSR_FS_BASE) != TOP(0) ||
            rdmsr(MSR_GS_BASE) != TOP(0)) {
            bad++;
            xprint("xen-fsgs-storm: refused form %s: vec %ld\n", REFUSED[i].what, vec);
        }
    }
    check(bad == 0, "every refused prefix form: #UD at the instruction, nothing changed",
          "%u wrong", bad);

    /* /4-/7 with a register operand: whatever the CPU makes of them (a
     * fence runs, the rest #UD), never a base written. */
    unsigned trapped = 0;
    bad = 0;
    for (unsigned op = 4; op < 8; op++)
        for (unsigned w = 0; w < 2; w++) {
            uint8_t b[8];
            fill_in();
            fsgs_in[0] = TOP(1);
            set_bases(TOP(0), TOP(0));
            long vec = run(b, encode(b, op, 0, w, 0));
            trapped += vec == 6;
            if ((vec != -1 && !trapped_at_slot(vec, 6)) || !others_kept(16) ||
                rdmsr(MSR_FS_BASE) != TOP(0) || rdmsr(MSR_GS_BASE) != TOP(0))
                bad++;
        }
    check(bad == 0, "f3 0f ae /4-/7: no base written", "%u wrong (%u #UD)", bad, trapped);
    xprint("xen-fsgs-storm: /4-/7: %u of 8 forms #UD here\n", trapped);
}

/* Bases the MSRs refuse: #GP(0) at the instruction, the base kept; an FS
 * base on hv's half (canonical) taken. */
static void bad_values(void)
{
    static const uint64_t noncanonical[] = {0x0000800000000000ULL, 0x8000000000000000ULL,
                                            0xffff7fffffffffffULL, 0x00ff000000000000ULL};
    static const uint64_t upper[] = {0xffff800000000000ULL, 0xffffffffffffffffULL};
    unsigned bad = 0, n = 0;
    uint8_t b[8];
    for (unsigned op = 2; op < 4; op++)
        for (unsigned rm = 0; rm < 16; rm++) {
            if (rm == 4)
                continue; /* rsp: the #GP's frame needs a stack */
            for (unsigned i = 0; i < 6; i++) {
                uint64_t v = i < 4 ? noncanonical[i] : upper[i - 4];
                fill_in();
                fsgs_in[rm] = v;
                set_bases(TOP(0), TOP(0));
                long vec = run(b, encode(b, op, rm, 1, 0));
                n++;
                if (op == 2 && i >= 4) { /* taken */
                    if (vec != -1 || rdmsr(MSR_FS_BASE) != v || !others_kept(16))
                        bad++;
                    continue;
                }
                if (!trapped_at_slot(vec, 13) || !others_kept(16) || rdmsr(MSR_FS_BASE) != TOP(0) ||
                    rdmsr(MSR_GS_BASE) != TOP(0) || fs_word() != TAG(0) || gs_word() != TAG(0))
                    bad++;
            }
        }
    check(bad == 0, "non-canonical bases and GS bases on hv's half: #GP(0), base kept", "%u of %u wrong",
          bad, n);
    fill_in();
    fsgs_in[3] = 0x00007fffffffffffULL;
    long v1 = run(b, encode(b, 2, 3, 1, 0)), v2 = run(b, encode(b, 3, 3, 1, 0));
    check(v1 == -1 && v2 == -1 && rdmsr(MSR_FS_BASE) == 0x00007fffffffffffULL &&
              rdmsr(MSR_GS_BASE) == 0x00007fffffffffffULL,
          "the last lower-half address: taken for both", "vec %ld %ld", v1, v2);
    set_bases(TOP(0), TOP(0));
}

/* What a selector load gave is the base: mov of Xen's flat 0xe02b (base
 * 0) into %fs and %gs after bases were written; rd{fs,gs}base and the
 * MSRs read 0, as on the CPU. */
static void after_selector_loads(void)
{
    uint8_t b[8];
    set_bases(TOP(0), TOP(0));
    __asm__ volatile("mov %0, %%fs; mov %0, %%gs" : : "r"((uint16_t)0xe02b) : "memory");
    fill_in();
    long v1 = run(b, encode(b, 0, 3, 1, 0));
    uint64_t fs = fsgs_out[3];
    long v2 = run(b, encode(b, 1, 3, 1, 0));
    uint64_t gs = fsgs_out[3];
    check(v1 == -1 && fs == 0 && rdmsr(MSR_FS_BASE) == 0, "rdfsbase after a selector load: 0",
          "vec %ld 0x%lx", v1, (unsigned long)fs);
    check(v2 == -1 && gs == 0 && rdmsr(MSR_GS_BASE) == 0, "rdgsbase after a selector load: 0",
          "vec %ld 0x%lx msr 0x%lx", v2, (unsigned long)gs, (unsigned long)rdmsr(MSR_GS_BASE));
    __asm__ volatile("mov %0, %%fs; mov %0, %%gs" : : "r"((uint16_t)0) : "memory");
    set_bases(TOP(0), TOP(0));
}

/* The million: good writes and reads of both bases, 32 and 64 bits, the
 * #GP ones and a refused form, each result checked. */
static void storm(void)
{
    unsigned wrong = 0, gp = 0, ud = 0;
    uint64_t a = TOP(0), c = TOP(1);
    for (unsigned i = 0; i < STORM; i++) {
        uint64_t v = i & 16 ? a : c, r = 0;
        long vec;
        switch (i % 8) {
        case 0:
            vec = TRY("wrfsbase %%rax", : : "a"(v) : "r8", "memory");
            wrong += vec != -1;
            break;
        case 1:
            vec = TRY("rdfsbase %%rbx", : "+b"(r) : : "r8", "memory");
            wrong += vec != -1 || r != v;
            break;
        case 2:
            vec = TRY("wrgsbase %0", : : "r"(v) : "r8", "memory");
            wrong += vec != -1;
            break;
        case 3:
            vec = TRY("rdgsbase %%ecx", : "+c"(r) : : "r8", "memory");
            wrong += vec != -1 || r != (uint32_t)v;
            break;
        case 4:
            vec = TRY("wrfsbase %%rdx", : : "d"(0x8000000000000000ULL | i) : "r8", "memory");
            gp += vec == 13;
            wrong += vec != 13;
            break;
        case 5:
            vec = TRY("wrgsbase %%rsi", : : "S"(0xffff800000000000ULL + i) : "r8", "memory");
            gp += vec == 13;
            wrong += vec != 13;
            break;
        case 6:
            vec = TRY(".byte 0xf3, 0x48, 0x48, 0x0f, 0xae, 0xc0", : : : "rax", "r8", "memory");
            ud += vec == 6;
            wrong += vec != 6;
            break;
        default:
            vec = TRY("wrfsbase %%edi", : : "D"(0xdead000000000000ULL | v) : "r8", "memory");
            wrong += vec != -1 || fs_word() != (v == a ? TAG(0) : TAG(1));
            break;
        }
    }
    xprint("xen-fsgs-storm: storm: %u instructions, %u #GP, %u #UD, %u wrong\n", STORM, gp, ud,
           wrong);
    check(wrong == 0 && gp == STORM / 4 && ud == STORM / 8, "a million of them, each as the CPU",
          "%u wrong", wrong);
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    (void)si;
    static struct xen_trap_info table[] = {TRAP_UD_GP_PF, TRAP_END};
    check(hcall(XEN_HC_set_trap_table, (uint64_t)table, 0, 0) == 0, "set_trap_table", "refused");
    area[0][500] = TAG(0);
    area[1][500] = TAG(1);
    uint64_t c4 = cr4();
    without_cr4();
    check(TRY("mov %%rax, %%cr4", : : "a"(c4 | CR4_FSGSBASE) : "r8", "memory") == -1 &&
              cr4() == (c4 | CR4_FSGSBASE),
          "mov to CR4: FSGSBASE set", "0x%lx", (unsigned long)cr4());
    accepted_forms();
    refused_forms();
    bad_values();
    after_selector_loads();
    xprint("xen-fsgs-storm: storm of %u begins\n", STORM);
    storm();
    step_storm();
    check(TRY("mov %%rax, %%cr4", : : "a"(c4) : "r8", "memory") == -1, "CR4.FSGSBASE cleared",
          "refused");
    fill_in();
    uint8_t b[8];
    check(run(b, encode(b, 2, 0, 1, 0)) == 6, "wrfsbase #UD again", "other");
    set_bases(0, 0);
    xprint("xen-fsgs-storm: all %u checks, %u failed\n", checks_run, checks_failed);
    shutdown(XEN_SHUTDOWN_poweroff);
}
