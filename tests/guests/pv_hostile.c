/* hv never trusts a guest's registers, stack or flags on entry: hypercalls
 * made with a hostile rsp (0, the upper half, non-canonical) or with TF, DF,
 * AC and NT set in rflags still work (a hypercall that writes guest memory
 * writes the right bytes, forwards, with DF set), hv survives, and the
 * guest gets back its own rsp and rflags (NT excepted: hv never returns
 * with NT set, as docs/abi.md says, since a later iretq with NT set would
 * fault). With TF set, the single-step trap after the return reaches the
 * guest's own #DB handler in guest code, never hv.
 * Prints one line per check; "pv-hostile: all N checks passed", exit 0. */
#include "pv_common.h"

HV_GUEST_NOTE("pv-hostile", HVG_MIB(1), 1, 0);

static struct hv_guest_info info;
static volatile unsigned db_count;
static volatile uint64_t db_rips[4];

static void on_db(struct hvg_trap_frame *f)
{
    if (db_count < 4)
        db_rips[db_count] = f->rip;
    db_count++;
    f->rflags &= ~HVG_RFLAGS_TF; /* one step is enough */
}

static void on_other(struct hvg_trap_frame *f)
{
    hvg_trap_dump("pv-hostile: unexpected exception", f);
    hvg_exit(3);
}

/* GUEST_INFO with rsp = hostile; returns rax, *rsp_after = rsp after. */
static int64_t info_with_rsp(uint64_t hostile, uint64_t *rsp_after)
{
    int64_t ret;
    uint64_t after;

    memset(&info, 0, sizeof(info));
    __asm__ volatile("mov %%rsp, %%r12\n\t"
                     "mov %[sp], %%rsp\n\t"
                     "syscall\n\t"
                     "mov %%rsp, %%r13\n\t"
                     "mov %%r12, %%rsp\n\t"
                     "mov %%r13, %[after]"
                     : "=a"(ret), [after] "=r"(after)
                     : "a"((uint64_t)HV_CALL_GUEST_INFO), "D"(&info), [sp] "r"(hostile)
                     : "rcx", "r11", "r12", "r13", "memory");
    *rsp_after = after;
    return ret;
}

/* GUEST_INFO with `set` ORed into rflags; returns rax, *flags_after. */
static int64_t info_with_flags(uint64_t set, uint64_t *flags_after)
{
    int64_t ret;
    uint64_t after;

    memset(&info, 0, sizeof(info));
    __asm__ volatile("pushfq\n\t"
                     "orq %[set], (%%rsp)\n\t"
                     "popfq\n\t"
                     "syscall\n\t"
                     "pushfq\n\t"
                     "popq %[after]\n\t"
                     "cld\n\t"
                     "pushfq\n\t"
                     "andq $~0x44000, (%%rsp)\n\t" /* AC, NT */
                     "popfq"
                     : "=a"(ret), [after] "=&r"(after)
                     : "a"((uint64_t)HV_CALL_GUEST_INFO), "D"(&info), [set] "r"(set)
                     : "rcx", "r11", "memory", "cc");
    *flags_after = after;
    return ret;
}

static bool info_right(const struct hv_start_info *si)
{
    return strcmp(info.name, si->name) == 0 && info.guest_id == si->guest_id &&
           info.vcpu_count == 1 && info.abi_version == HV_ABI_VERSION;
}

static void test_hostile_rsp(const struct hv_start_info *si)
{
    static const struct {
        const char *what;
        uint64_t rsp;
    } cases[] = {
        { "rsp = 0", 0 },
        { "rsp = 8 (unmapped)", 8 },
        { "rsp in hv's direct map", 0xffff888000000000ull },
        { "rsp in hv's core", 0xffffffff80001000ull },
        { "rsp non-canonical (2^47)", 0x0000800000000000ull },
        { "rsp non-canonical (2^63)", 0x8000000000000000ull },
        { "rsp = 2^64 - 8", 0xfffffffffffffff8ull },
    };
    char label[96];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t after = 0;
        int64_t r = info_with_rsp(cases[i].rsp, &after);
        fmt_format(label, sizeof(label), "guest_info with %s: result", cases[i].what);
        expect_eq(label, r, 0);
        fmt_format(label, sizeof(label), "guest_info with %s: right answer, rsp given back",
                   cases[i].what);
        expect_true(label, info_right(si) && after == cases[i].rsp);
    }
}

static void test_flags(const struct hv_start_info *si)
{
    uint64_t after = 0;
    const uint64_t status = 0x8d5; /* CF PF AF ZF SF OF: all set by the popf */
    int64_t r = info_with_flags(HVG_RFLAGS_DF | HVG_RFLAGS_AC | HVG_RFLAGS_NT | status, &after);

    expect_eq("guest_info with DF, AC, NT and the status flags set", r, 0);
    expect_true("... wrote the right bytes (forwards, whatever DF said)", info_right(si));
    expect_true("... DF, AC and the status flags are the guest's own afterwards",
                (after & HVG_RFLAGS_DF) && (after & HVG_RFLAGS_AC) && (after & status) == status);
    expect_true("... NT comes back clear (hv never returns with NT), IF set",
                !(after & HVG_RFLAGS_NT) && (after & HVG_RFLAGS_IF));
}

static void test_tf(const struct hv_start_info *si)
{
    uint64_t flags_after;
    uint64_t after_syscall, after_next;
    int64_t ret;

    db_count = 0;
    memset(&info, 0, sizeof(info));
    __asm__ volatile("lea 7f(%%rip), %%rcx\n\t"
                     "mov %%rcx, %[a]\n\t"
                     "lea 8f(%%rip), %%rcx\n\t"
                     "mov %%rcx, %[b]\n\t"
                     "pushfq\n\t"
                     "orq $0x100, (%%rsp)\n\t"
                     "popfq\n\t"
                     "syscall\n"
                     "7: nop\n"
                     "8: pushfq\n\t"
                     "popq %[flags]"
                     : "=a"(ret), [a] "=m"(after_syscall), [b] "=m"(after_next),
                       [flags] "=r"(flags_after)
                     : "a"((uint64_t)HV_CALL_GUEST_INFO), "D"(&info)
                     : "rcx", "r11", "memory", "cc");
    expect_eq("guest_info with TF set: result", ret, 0);
    expect_true("... right answer", info_right(si));
    expect_eq("... exactly one single-step #DB reached the guest's handler", db_count, 1);
    expect_true("... in guest code, right after the return or the instruction after it",
                db_rips[0] == after_syscall || db_rips[0] == after_next);
    hvg_printf("pv-hostile: the #DB came at %s\n",
               db_rips[0] == after_syscall ? "the syscall's return address" :
               db_rips[0] == after_next ? "the instruction after the return" : "a wrong place");
    expect_true("... TF clear afterwards (the handler cleared it)", !(flags_after & HVG_RFLAGS_TF));
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    struct hvg_trap_spec specs[32];

    (void)vcpu;
    pv_name = "pv-hostile";
    for (unsigned v = 0; v < 32; v++)
        specs[v] = (struct hvg_trap_spec){ v, 0, v == HVG_DB ? on_db : on_other };
    expect_eq("registering handlers", hvg_traps_install(specs, 32), 0);
    test_hostile_rsp(si);
    test_flags(si);
    test_tf(si);
    expect_eq("hv still answers: nop", hvg_hypercall0(HV_CALL_NOP), 0);
    return pv_finish();
}
