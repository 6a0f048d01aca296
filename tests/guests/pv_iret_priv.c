/* HV_CALL_IRET frames that ask for privilege (issue 10, attack class "iret
 * frames with ring-0 selectors and privileged flags"), and trap/callback
 * registration at hostile addresses. docs/abi.md: a frame whose cs is not
 * HV_KERNEL_CS or HV_USER_CS (ring 0, hv's selectors, other RPLs, garbage
 * in the upper bits), whose ss is not HV_DATA_SS (null SS included), or
 * whose rip/rsp is at or above the lower half's end is refused with
 * -HV_EINVAL; an accepted frame's rflags is sanitised: IOPL 0, NT, RF,
 * VM, VIF, VIP and the reserved bits clear, IF set (the frame's IF is the
 * event mask); CF..OF, TF, DF, AC and ID kept. Each accepted return is
 * verified from inside: pushf, mov %cs / %ss after the return, and `cli`
 * must still raise #GP (IOPL 3 would let ring 3 run it).
 * Prints one line per check; "pv-iret-priv: all N checks passed", exit 0. */
#include "pv_common.h"
#include "hvg_event.h"

#define UPPER_HALF 0xffff800000000000ull
#define HV_CORE 0xffffffff80000000ull

#define FL_CF (1ull << 0)
#define FL_BIT1 (1ull << 1)
#define FL_TF (1ull << 8)
#define FL_IF (1ull << 9)
#define FL_DF (1ull << 10)
#define FL_IOPL (3ull << 12)
#define FL_NT (1ull << 14)
#define FL_RF (1ull << 16)
#define FL_VM (1ull << 17)
#define FL_AC (1ull << 18)
#define FL_VIF (1ull << 19)
#define FL_VIP (1ull << 20)
#define FL_ID (1ull << 21)

/* iret_probe(fr, out): HV_CALL_IRET with *fr (rip and rsp replaced by
 * "come back here" values) on a fresh stack area. Returns hv's error, or
 * fr->rax when hv took the frame; then out[0] = rflags as pushf saw it
 * right after the return, out[1] = %cs, out[2] = %ss. DF and AC are
 * cleared again before C code runs. */
int64_t iret_probe(const struct hv_iret_frame *fr, uint64_t out[3]);
__asm__(".pushsection .text\n"
        "iret_probe:\n"
        "    push %rbx\n"
        "    push %r12\n"
        "    mov %rsp, %rbx\n"
        "    mov %rsi, %r12\n"
        "    sub $96, %rsp\n"
        "    and $-16, %rsp\n"
        "    mov %rdi, %rsi\n"
        "    mov %rsp, %rdi\n"
        "    mov $9, %ecx\n"
        "    rep movsq\n"
        "    lea 1f(%rip), %rax\n"
        "    mov %rax, 32(%rsp)\n"      /* rip */
        "    mov %rbx, 56(%rsp)\n"      /* rsp */
        "    mov $10, %eax\n"
        "    syscall\n"
        "    jmp 2f\n"                  /* refused: rax is the error */
        "1:  pushfq\n"
        "    pop %rcx\n"
        "    mov %rcx, 0(%r12)\n"
        "    mov %cs, %rcx\n"
        "    mov %rcx, 8(%r12)\n"
        "    mov %ss, %rcx\n"
        "    mov %rcx, 16(%r12)\n"
        "    cld\n"
        "    pushfq\n"
        "    andq $~0x40000, (%rsp)\n"  /* AC off for the C code */
        "    popfq\n"
        "2:  mov %rbx, %rsp\n"
        "    pop %r12\n"
        "    pop %rbx\n"
        "    ret\n"
        ".popsection\n");

#define TAKEN 0x600d

static struct hv_iret_frame frame(uint64_t cs, uint64_t ss, uint64_t rflags)
{
    return (struct hv_iret_frame){ .rax = TAKEN, .cs = cs, .rflags = rflags, .ss = ss };
}

static void refused(const char *what, uint64_t cs, uint64_t ss, uint64_t rflags)
{
    struct hv_iret_frame fr = frame(cs, ss, rflags);
    uint64_t out[3] = { 0 };
    expect_eq(what, iret_probe(&fr, out), -HV_EINVAL);
}

static void check_selectors(void)
{
    refused("iret: cs 0 (null)", 0, HV_DATA_SS, 0x202);
    refused("iret: cs 0x08 (hv's code)", 0x08, HV_DATA_SS, 0x202);
    refused("iret: cs 0x10 (hv's data)", 0x10, HV_DATA_SS, 0x202);
    refused("iret: cs 0x18 (guest data, RPL 0)", 0x18, HV_DATA_SS, 0x202);
    refused("iret: cs 0x1b (a data selector as cs)", HV_DATA_SS, HV_DATA_SS, 0x202);
    refused("iret: cs 0x20 (guest code, RPL 0)", HV_KERNEL_CS & ~3ull, HV_DATA_SS, 0x202);
    refused("iret: cs 0x21 (guest code, RPL 1)", (HV_KERNEL_CS & ~3ull) | 1, HV_DATA_SS, 0x202);
    refused("iret: cs 0x22 (guest code, RPL 2)", (HV_KERNEL_CS & ~3ull) | 2, HV_DATA_SS, 0x202);
    refused("iret: cs 0x38 (user code, RPL 0)", HV_USER_CS & ~3ull, HV_DATA_SS, 0x202);
    refused("iret: cs 0x28", 0x28, HV_DATA_SS, 0x202);
    refused("iret: cs 0x30 (TSS area)", 0x30, HV_DATA_SS, 0x202);
    refused("iret: cs 0x10023 (the right selector, garbage above it)", 0x10000 | HV_KERNEL_CS,
            HV_DATA_SS, 0x202);
    refused("iret: cs 2^63 + 0x23", (1ull << 63) | HV_KERNEL_CS, HV_DATA_SS, 0x202);
    refused("iret: ss 0 (null SS)", HV_KERNEL_CS, 0, 0x202);
    refused("iret: ss 3 (null SS, RPL 3)", HV_KERNEL_CS, 3, 0x202);
    refused("iret: ss 0x10 (hv's data)", HV_KERNEL_CS, 0x10, 0x202);
    refused("iret: ss 0x18 (guest data, RPL 0)", HV_KERNEL_CS, HV_DATA_SS & ~3ull, 0x202);
    refused("iret: ss 0x23 (a code selector as ss)", HV_KERNEL_CS, HV_KERNEL_CS, 0x202);
    refused("iret: ss 0x1001b", HV_KERNEL_CS, 0x10000 | HV_DATA_SS, 0x202);
}

static volatile unsigned gp_count;

static void on_gp(struct hvg_trap_frame *f)
{
    gp_count++;
    f->rip += 1;    /* cli is one byte */
}

/* An accepted frame: the return lands in ring 3 with the flags the ABI
 * promises, whatever the frame asked for. */
static void sanitised(const char *what, uint64_t rflags)
{
    char buf[120];
    struct hv_iret_frame fr = frame(HV_KERNEL_CS, HV_DATA_SS, rflags);
    uint64_t out[3] = { 0 };
    fmt_format(buf, sizeof(buf), "iret: rflags 0x%llx (%s) taken", (unsigned long long)rflags,
               what);
    int64_t r = iret_probe(&fr, out);
    expect_eq(buf, r, TAKEN);
    if (r != TAKEN)
        return;
    uint64_t fl = out[0];
    fmt_format(buf, sizeof(buf), "... then cs 0x%llx, ss 0x%llx: ring 3, the guest's selectors",
               (unsigned long long)out[1], (unsigned long long)out[2]);
    expect_true(buf, out[1] == HV_KERNEL_CS && out[2] == HV_DATA_SS && (out[1] & 3) == 3);
    fmt_format(buf, sizeof(buf), "... then rflags 0x%llx: IOPL 0, no NT, VM, VIF, VIP, IF set",
               (unsigned long long)fl);
    expect_true(buf, (fl & (FL_IOPL | FL_NT | FL_VM | FL_VIF | FL_VIP)) == 0 && (fl & FL_IF) &&
                         (fl & FL_BIT1) && (fl >> 22) == 0);
    /* PUSHF never shows RF; what the ABI keeps must be kept. */
    uint64_t kept = FL_CF | FL_DF | FL_AC | FL_ID | 0x8d4ull /* PF AF ZF SF OF */;
    expect_eq("... and the flags the ABI keeps are the frame's", (int64_t)(fl & kept),
              (int64_t)(rflags & kept));
    expect_eq("... the event mask follows the frame's IF", hvg_vcpu_shared(0)->upcall_mask,
              (rflags & FL_IF) ? 0 : 1);
    hvg_vcpu_shared(0)->upcall_mask = 0;
    unsigned before = gp_count;
    __asm__ volatile("cli" ::: "memory");
    expect_eq("... and cli still raises #GP (no IOPL 3 in ring 3)", gp_count - before, 1);
}

static void check_flags(void)
{
    sanitised("IOPL 3", 0x202 | FL_IOPL);
    sanitised("NT", 0x202 | FL_NT);
    sanitised("RF", 0x202 | FL_RF);
    sanitised("VM", 0x202 | FL_VM);
    sanitised("VIF and VIP", 0x202 | FL_VIF | FL_VIP);
    sanitised("AC", 0x202 | FL_AC);
    sanitised("ID, CF, DF", 0x202 | FL_ID | FL_CF | FL_DF);
    sanitised("IF clear, bit 1 clear", 0);
    sanitised("every bit but TF", ~FL_TF);
    sanitised("IOPL 3, NT, VM, RF, AC at once", 0x202 | FL_IOPL | FL_NT | FL_VM | FL_RF | FL_AC);
}

/* Registration at addresses that are not the guest's: every entry point a
 * guest can register is refused at hv's halves and non-canonical
 * addresses, and accepted up to the last lower-half byte (a bad one only
 * faults in the guest when used). */
static void check_registration(void)
{
    static const struct { const char *what; uint64_t va; } bad[] = {
        { "hv's direct map", UPPER_HALF },
        { "hv's direct map + 0x1234000", UPPER_HALF + 0x1234000 },
        { "hv's core", HV_CORE },
        { "the top of the address space", UINT64_MAX & ~15ull },
        { "non-canonical 2^47", HV_GUEST_LOWER_HALF_END },
        { "non-canonical 2^47 + 0x1000", HV_GUEST_LOWER_HALF_END + 0x1000 },
        { "non-canonical 2^62", 1ull << 62 },
        { "non-canonical just below hv's half", UPPER_HALF - 16 },
    };
    char buf[120];
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct hv_trap_info e = { .vector = 0x90, .flags = 0, .handler = bad[i].va };
        fmt_format(buf, sizeof(buf), "trap handler in %s", bad[i].what);
        expect_eq(buf, hvg_set_trap_table(&e, 1), -HV_EINVAL);
        e = (struct hv_trap_info){ .vector = HV_FAST_TRAP_VECTOR, .flags = HV_TRAP_FAST,
                                   .handler = bad[i].va };
        fmt_format(buf, sizeof(buf), "fast system-call gate in %s", bad[i].what);
        expect_eq(buf, hvg_set_trap_table(&e, 1), -HV_EINVAL);
        fmt_format(buf, sizeof(buf), "syscall entry in %s", bad[i].what);
        expect_eq(buf, hvg_set_syscall(bad[i].va, 0), -HV_EINVAL);
        fmt_format(buf, sizeof(buf), "upcall in %s", bad[i].what);
        expect_eq(buf, hvg_set_upcall(bad[i].va), -HV_EINVAL);
        fmt_format(buf, sizeof(buf), "kernel stack in %s", bad[i].what);
        expect_eq(buf, hvg_set_kernel_stack(bad[i].va), -HV_EINVAL);
        fmt_format(buf, sizeof(buf), "trap table read from %s", bad[i].what);
        expect_eq(buf, hvg_set_trap_table((const struct hv_trap_info *)(uintptr_t)bad[i].va, 1),
                  -HV_EFAULT);
    }
    /* The table itself straddling the end of the lower half. */
    expect_eq("trap table crossing into non-canonical",
              hvg_set_trap_table((const struct hv_trap_info *)(uintptr_t)
                                 (HV_GUEST_LOWER_HALF_END - 8), 1), -HV_EFAULT);
    /* The last lower-half addresses are the guest's to name. */
    uint64_t last = HV_GUEST_LOWER_HALF_END - 16;
    expect_eq("syscall entry at the last lower-half bytes", hvg_set_syscall(last, 0), 0);
    expect_eq("kernel stack at the last lower-half bytes", hvg_set_kernel_stack(last), 0);
    expect_eq("syscall entry removed", hvg_set_syscall(0, 0), 0);
    expect_eq("kernel stack removed", hvg_set_kernel_stack(0), 0);
    /* A refused registration changed nothing: #GP still reaches on_gp. */
    unsigned before = gp_count;
    __asm__ volatile("cli" ::: "memory");
    expect_eq("after the refusals, #GP still reaches its handler", gp_count - before, 1);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    pv_name = "pv-iret-priv";
    struct hvg_trap_spec gp = { HVG_GP, 0, on_gp };
    expect_eq("registering #GP", hvg_traps_install(&gp, 1), 0);
    check_selectors();
    check_flags();
    check_registration();
    return pv_finish();
}
