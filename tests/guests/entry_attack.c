/* The entry-path attacker (issue 10, attack 7), booted beside the companion.
 * Each round of its three attacks goes through an hv entry path with state
 * a native kernel entry would have to distrust:
 *
 *   mov-ss-step   TF set, then `mov %ss` followed by the hypercall's
 *                 `syscall`: MOV SS defers the single-step trap past the
 *                 syscall, so on hardware the #DB can be raised at CPL 0
 *                 on the first instruction of hv's entry, with the guest's
 *                 RSP (CVE-2018-8897). docs/abi.md: the guest gets at most
 *                 one #DB per round, in its own code, after the hypercall.
 *   mov-ss-rsp    the same without TF, with RSP pointing at hv's core and
 *                 at a non-canonical address. Booted with hv.cfg
 *                 debug_syscall_breakpoint = yes, hv arms an instruction
 *                 breakpoint on its own syscall entry, so each of these
 *                 hypercalls raises #DB in hv before the stack switch, the
 *                 state hardware leaves after a deferred data breakpoint.
 *                 Without an IST stack for #DB the CPU would push that
 *                 frame at the guest's RSP, at ring 0.
 *   ac            RFLAGS.AC set (popf) while taking exceptions (#UD, #BP,
 *                 #PF, handled) and timer interrupts. hv must clear AC on
 *                 every entry (SMAP would be off in hv otherwise); hv
 *                 counts entries that reach C with AC set and reports them.
 *
 * Every hypercall must return HV_CALL_NOP's 0 with the guest's registers
 * intact. Prints one line per check, then "entry-attack: all N checks
 * passed" (exit 0). */
#include "pv_common.h"
#include "hvg_event.h"

HV_GUEST_NOTE("entry-attack", HVG_MIB(4), 1, 0);

#define ROUNDS 200
#define AC_SPIN_MS 20
#define HV_CORE 0xffffffff80000000ull
#define NONCANONICAL 0x0000800000000000ull
#define UNMAPPED_VA 0x0000400000000000ull

static volatile uint64_t db_count, db_outside, ud_count, bp_count, pf_count, ac_in_frames;

static void on_trap(struct hvg_trap_frame *f)
{
    if (f->rflags & HVG_RFLAGS_AC)
        ac_in_frames++;
    switch (f->vector) {
    case HVG_DB:
        db_count++;
        /* step_into_syscall's labels, stored before TF was set */
        if (f->rip < pv_fault_rip || f->rip > pv_resume_rip)
            db_outside++;
        f->rflags &= ~HVG_RFLAGS_TF; /* one step is all this test wants */
        return;
    case HVG_UD:
        ud_count++;
        f->rip += 2; /* ud2 */
        return;
    case HVG_BP:
        bp_count++; /* a trap: rip is already after int3 */
        return;
    case HVG_PF:
        pf_count++;
        f->rip = pv_resume_rip;
        return;
    default:
        hvg_trap_dump("entry-attack: unexpected trap", f);
        hvg_exit(3);
    }
}

/* TF on, then MOV SS and the hypercall. The #DB may come after the
 * syscall (rip at 8:, the instruction after it) or after the next
 * instruction; both lie in [8:, 9:]. */
static int64_t step_into_syscall(void)
{
    int64_t rax;
    __asm__ volatile(PV_ARM
                     "mov %[nr], %%eax\n\t"
                     "mov %%ss, %%r9d\n\t"
                     "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n\t"
                     "mov %%r9d, %%ss\n\t"
                     "syscall\n"
                     "8: nop\n\tnop\n"
                     "9: pushfq\n\tandq $~0x100, (%%rsp)\n\tpopfq"
                     : "=&a"(rax), PV_ARM_OUT
                     : [nr] "i"(HV_CALL_NOP) : "rcx", "r9", "r11", "memory", "cc");
    return rax;
}

/* No TF; RSP at `rsp` for the MOV SS and the syscall. rbx keeps the real
 * one: hv never uses the guest's RSP for a hypercall (docs/abi.md). */
static int64_t syscall_on_stack(uint64_t rsp)
{
    int64_t rax = HV_CALL_NOP;
    __asm__ volatile("mov %%rsp, %%rbx\n\t"
                     "mov %%ss, %%r9d\n\t"
                     "mov %[rsp], %%rsp\n\t"
                     "mov %%r9d, %%ss\n\t"
                     "syscall\n\t"
                     "mov %%rbx, %%rsp"
                     : "+a"(rax)
                     : [rsp] "r"(rsp)
                     : "rbx", "rcx", "r9", "r11", "memory", "cc");
    return rax;
}

static void test_mov_ss_step(void)
{
    uint64_t wrong = 0;
    db_count = db_outside = 0;
    int64_t r = 0;
    for (unsigned i = 0; i < ROUNDS; i++)
        if ((r = step_into_syscall()) != 0)
            wrong++;
    if (wrong)
        hvg_printf("entry-attack: mov-ss-step: a hypercall returned %lld\n", (long long)r);
    expect_eq("mov-ss-step: every hypercall returned 0", (int64_t)wrong, 0);
    hvg_printf("entry-attack: mov-ss-step: %llu #DB in %u rounds\n",
               (unsigned long long)db_count, ROUNDS);
    expect_true("mov-ss-step: at most one #DB per round", db_count <= ROUNDS);
    expect_eq("mov-ss-step: every #DB in the guest's own code after the syscall",
              (int64_t)db_outside, 0);
}

static void test_mov_ss_rsp(void)
{
    static const uint64_t stacks[] = {HV_CORE + 0x1000, NONCANONICAL, 0};
    static const char *const names[] = {"hv's core", "a non-canonical address", "address 0"};
    for (unsigned s = 0; s < 3; s++) {
        uint64_t wrong = 0;
        db_count = 0;
        for (unsigned i = 0; i < ROUNDS; i++)
            if (syscall_on_stack(stacks[s]) != 0)
                wrong++;
        char what[96];
        fmt_format(what, sizeof(what), "mov-ss-rsp: %u hypercalls with RSP at %s returned 0",
                   ROUNDS, names[s]);
        expect_eq(what, (int64_t)wrong, 0);
        fmt_format(what, sizeof(what), "mov-ss-rsp: no #DB reached the guest (RSP at %s)",
                   names[s]);
        expect_eq(what, (int64_t)db_count, 0);
    }
}

static void ac_on(void) { __asm__ volatile("pushfq\n\torq $0x40000, (%%rsp)\n\tpopfq" ::: "cc"); }
static void ac_off(void) { __asm__ volatile("pushfq\n\tandq $~0x40000, (%%rsp)\n\tpopfq" ::: "cc"); }

static void test_ac(void)
{
    ac_in_frames = 0;
    ac_on();
    for (unsigned i = 0; i < ROUNDS; i++) {
        __asm__ volatile("ud2");
        __asm__ volatile("int3");
        __asm__ volatile(PV_ARM "8: movq (%[va]), %%rax\n9:"
                         : PV_ARM_OUT : [va] "r"(UNMAPPED_VA) : "rax", "memory");
    }
    /* Timer interrupts arrive while this spins with AC set. */
    uint64_t end = hvg_now() + HVG_MS(AC_SPIN_MS);
    while (hvg_now() < end)
        ;
    uint64_t flags;
    __asm__ volatile("pushfq\n\tpopq %0" : "=r"(flags));
    ac_off();
    expect_true("ac: AC was still set after the exceptions and interrupts",
                (flags & HVG_RFLAGS_AC) != 0);
    expect_true("ac: every exception handled", ud_count == ROUNDS && bp_count == ROUNDS &&
                                                   pf_count == ROUNDS);
    expect_eq("ac: every frame showed the guest's AC", (int64_t)ac_in_frames, 3 * ROUNDS);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    static const unsigned vectors[] = {HVG_DB, HVG_BP, HVG_UD, HVG_PF};
    struct hvg_trap_spec specs[4];

    (void)si;
    (void)vcpu;
    pv_name = "entry-attack";
    for (unsigned i = 0; i < 4; i++)
        specs[i] = (struct hvg_trap_spec){vectors[i], 0, on_trap};
    expect_eq("registering #DB, #BP, #UD and #PF handlers", hvg_traps_install(specs, 4), 0);
    test_mov_ss_step();
    test_mov_ss_rsp();
    test_ac();
    return pv_finish();
}
