/* Registration is validated (include/hv/abi_cpu.h; error codes as
 * docs/abi.md lists them): HV_CALL_SET_TRAP_TABLE refuses a bad table
 * pointer (-HV_EFAULT), more than 256 entries, a handler in the upper half
 * or non-canonical, non-zero reserved fields, unknown flags, HV_TRAP_FAST
 * on any vector but 0x80 or without a handler (-HV_EINVAL), more software
 * vectors than hv keeps (-HV_ENOMEM); a refused table changes nothing, an
 * accepted one merges with what was there; one of 256 entries goes into hv
 * once a piece of 32, all of it or nothing. HV_CALL_SET_SYSCALL and
 * HV_CALL_SET_KERNEL_STACK refuse upper-half and non-canonical addresses
 * and unknown flags; HV_CALL_IRET refuses a frame it cannot read
 * (-HV_EFAULT) or one with a bad cs, ss, flags, rip or rsp, or a return to
 * user mode without a user space (-HV_EINVAL), and then returns.
 * Prints one line per check; "pv-trap-table: all N checks passed", exit 0. */
#include "pv_common.h"

HV_GUEST_NOTE("pv-trap-table", HVG_MIB(1), 1, 0);

#define UPPER_HALF 0xffff800000000000ull
#define HV_CORE 0xffffffff80000000ull
#define NONCANONICAL 0x0000800000000000ull
#define UNMAPPED 0x10000000ull

static volatile unsigned ud_by_sdk, bp_seen;

static void on_ud(struct hvg_trap_frame *f)
{
    ud_by_sdk++;
    f->rip += 2;
}

static void on_bp(struct hvg_trap_frame *f)
{
    (void)f;
    bp_seen++;
}

/* A handler that must never run: a refused table would have installed it. */
static volatile unsigned wrong_handler_ran;
extern char wrong_handler[];
__asm__(".pushsection .text\n"
        "wrong_handler:\n"
        "    incl wrong_handler_ran(%rip)\n"
        "    addq $2, (%rsp)\n" /* skip the ud2 */
        "    iretq\n"
        ".popsection\n");

static struct hv_trap_info one(uint8_t vector, uint8_t flags, uint64_t handler)
{
    return (struct hv_trap_info){ .vector = vector, .flags = flags, .handler = handler };
}

static int64_t set1(struct hv_trap_info e)
{
    return hvg_set_trap_table(&e, 1);
}

static struct hv_trap_info big_table[257];
static const struct hv_trap_info rodata_table[1] = { { .vector = 3, .flags = 0, .handler = 0 } };

static void check_rejects(const struct hv_start_info *si)
{
    uint64_t good = hvg_trap_stub(HVG_UD);

    expect_eq("table NULL, 1 entry", hvg_set_trap_table(NULL, 1), -HV_EFAULT);
    expect_eq("table unmapped", hvg_set_trap_table((void *)(uintptr_t)UNMAPPED, 1), -HV_EFAULT);
    expect_eq("table in hv's direct map", hvg_set_trap_table((void *)(uintptr_t)UPPER_HALF, 1),
              -HV_EFAULT);
    expect_eq("table in hv's core", hvg_set_trap_table((void *)(uintptr_t)HV_CORE, 1), -HV_EFAULT);
    expect_eq("table non-canonical", hvg_set_trap_table((void *)(uintptr_t)NONCANONICAL, 1),
              -HV_EFAULT);
    /* The entry starts in the image's last page; the guard page after it
     * is unmapped. */
    const struct hv_trap_info *edge =
        (const struct hv_trap_info *)(uintptr_t)(si->image_end - 8);
    expect_eq("table running off mapped memory", hvg_set_trap_table(edge, 1), -HV_EFAULT);
    expect_eq("257 entries", hvg_set_trap_table(big_table, 257), -HV_EINVAL);
    expect_eq("2^63 entries", hvg_set_trap_table(big_table, 1ull << 63), -HV_EINVAL);
    expect_eq("2^64 - 1 entries", hvg_set_trap_table(big_table, UINT64_MAX), -HV_EINVAL);
    expect_eq("table in read-only data is fine (hv only reads it)",
              hvg_set_trap_table(rodata_table, 1), 0);
    expect_eq("0 entries, pointer not looked at", hvg_set_trap_table((void *)(uintptr_t)UNMAPPED, 0), 0);

    expect_eq("handler in hv's core", set1(one(HVG_UD, 0, HV_CORE)), -HV_EINVAL);
    expect_eq("handler in hv's direct map", set1(one(HVG_UD, 0, UPPER_HALF)), -HV_EINVAL);
    expect_eq("handler non-canonical (2^47)", set1(one(HVG_UD, 0, NONCANONICAL)), -HV_EINVAL);
    expect_eq("handler non-canonical (2^63)", set1(one(HVG_UD, 0, 1ull << 63)), -HV_EINVAL);
    expect_eq("handler 2^64 - 1", set1(one(0x90, 0, UINT64_MAX)), -HV_EINVAL);
    struct hv_trap_info e = one(HVG_UD, 0, good);
    e.reserved0 = 1;
    expect_eq("reserved0 non-zero", set1(e), -HV_EINVAL);
    e = one(HVG_UD, 0, good);
    e.reserved1 = 0x80000000u;
    expect_eq("reserved1 non-zero", set1(e), -HV_EINVAL);
    expect_eq("unknown flag 0x08", set1(one(HVG_UD, 0x08, good)), -HV_EINVAL);
    expect_eq("unknown flag 0x80", set1(one(HVG_UD, 0x80, good)), -HV_EINVAL);
    expect_eq("HV_TRAP_FAST on vector 3", set1(one(HVG_BP, HV_TRAP_FAST, good)), -HV_EINVAL);
    expect_eq("HV_TRAP_FAST on vector 0x81", set1(one(0x81, HV_TRAP_FAST, good)), -HV_EINVAL);
    expect_eq("HV_TRAP_FAST on vector 0x80 without a handler",
              set1(one(HV_FAST_TRAP_VECTOR, HV_TRAP_FAST, 0)), -HV_EINVAL);
    expect_eq("HV_TRAP_FAST with an upper-half handler",
              set1(one(HV_FAST_TRAP_VECTOR, HV_TRAP_FAST, HV_CORE)), -HV_EINVAL);

    /* 17 software vectors: hv keeps 16 (besides the fast gate). */
    struct hv_trap_info soft[17];
    for (unsigned i = 0; i < 17; i++)
        soft[i] = one((uint8_t)(0x90 + i), 0, good);
    expect_eq("17 software-interrupt vectors", hvg_set_trap_table(soft, 17), -HV_ENOMEM);
    expect_eq("16 software-interrupt vectors", hvg_set_trap_table(soft, 16), 0);
    for (unsigned i = 0; i < 16; i++)
        soft[i].handler = 0;
    expect_eq("removing them again", hvg_set_trap_table(soft, 16), 0);

    expect_eq("syscall handler in hv's core", hvg_set_syscall(HV_CORE, 0), -HV_EINVAL);
    expect_eq("syscall handler non-canonical", hvg_set_syscall(NONCANONICAL, 0), -HV_EINVAL);
    expect_eq("syscall flags 0x2", hvg_set_syscall(good, 2), -HV_EINVAL);
    expect_eq("syscall flags 2^63", hvg_set_syscall(good, 1ull << 63), -HV_EINVAL);
    expect_eq("kernel stack in hv's direct map", hvg_set_kernel_stack(UPPER_HALF), -HV_EINVAL);
    expect_eq("kernel stack non-canonical", hvg_set_kernel_stack(NONCANONICAL), -HV_EINVAL);
}

/* A refused table changes nothing: #UD stays with the SDK handler. */
static void check_atomic(void)
{
    struct hv_trap_info t[2] = { one(HVG_UD, 0, (uint64_t)(uintptr_t)wrong_handler),
                                 one(HVG_GP, 0, HV_CORE) };
    expect_eq("a table whose second entry is bad", hvg_set_trap_table(t, 2), -HV_EINVAL);
    ud_by_sdk = wrong_handler_ran = 0;
    __asm__ volatile("ud2" ::: "memory");
    expect_true("... left #UD with its old handler", ud_by_sdk == 1 && wrong_handler_ran == 0);

    /* Entries merge: registering #BP alone keeps #UD. */
    struct hvg_trap_spec bp = { HVG_BP, 0, on_bp };
    expect_eq("registering #BP alone", hvg_traps_install(&bp, 1), 0);
    __asm__ volatile("int3\n\tud2" ::: "memory");
    expect_true("... both #BP and #UD are handled (tables merge)", bp_seen == 1 && ud_by_sdk == 2);
}

/* A call of 256 entries goes in pieces of 32, one per entry into hv,
 * continued at its `syscall` between them (docs/abi.md): the guest sees
 * one call whose result holds every piece, or none of them. */
static volatile unsigned big_bp_ran;
extern char big_bp_handler[];
__asm__(".pushsection .text\n"
        "big_bp_handler:\n"
        "    incl big_bp_ran(%rip)\n"
        "    iretq\n"
        ".popsection\n");

static void check_pieces(void)
{
    for (unsigned i = 0; i < 256; i++)
        big_table[i] = one(0x90, 0, 0); /* removes a vector that has no entry */
    big_table[255] = one(HVG_BP, 0, (uint64_t)(uintptr_t)big_bp_handler);
    uint64_t before = pv_hv_entries(0);
    int64_t rc = hvg_set_trap_table(big_table, 256);
    uint64_t entries = pv_hv_entries(0) - before; /* nothing printed between */
    expect_eq("256 entries, #BP's in the last piece", rc, 0);
    expect_eq("... entered hv once a piece (8, and 1 to count them)", (int64_t)entries, 9);
    __asm__ volatile("int3" ::: "memory");
    expect_true("... #BP reaches the last piece's handler", big_bp_ran == 1 && bp_seen == 1);
    big_table[0] = one(HVG_UD, 0, (uint64_t)(uintptr_t)wrong_handler);
    big_table[255].reserved0 = 1;
    expect_eq("256 entries, the first piece good, the last entry bad",
              hvg_set_trap_table(big_table, 256), -HV_EINVAL);
    ud_by_sdk = wrong_handler_ran = 0;
    __asm__ volatile("ud2" ::: "memory");
    expect_true("... left #UD with its old handler", ud_by_sdk == 1 && wrong_handler_ran == 0);
    struct hvg_trap_spec bp = { HVG_BP, 0, on_bp };
    expect_eq("#BP back to its handler", hvg_traps_install(&bp, 1), 0);
}

/* --- HV_CALL_IRET with bad frames ------------------------------------------------
 * iret_try copies *fr onto the stack, fills a zero rip/rsp with "come back
 * here" values and makes the call: it returns hv's error, or the frame's
 * rax when hv took the frame. iret_at makes the call with rsp = sp. */
int64_t iret_try(const struct hv_iret_frame *fr);
int64_t iret_at(uint64_t sp);
__asm__(".pushsection .text\n"
        "iret_try:\n"
        "    push %rbx\n"
        "    mov %rsp, %rbx\n"
        "    sub $80, %rsp\n"
        "    and $-16, %rsp\n"
        "    mov %rdi, %rsi\n"
        "    mov %rsp, %rdi\n"
        "    mov $9, %ecx\n"
        "    rep movsq\n"
        "    cmpq $0, 32(%rsp)\n"
        "    jne 1f\n"
        "    lea 3f(%rip), %rax\n"
        "    mov %rax, 32(%rsp)\n"
        "1:  cmpq $0, 56(%rsp)\n"
        "    jne 2f\n"
        "    mov %rbx, 56(%rsp)\n"
        "2:  mov $10, %eax\n"
        "    syscall\n"
        "3:  mov %rbx, %rsp\n"
        "    pop %rbx\n"
        "    ret\n"
        "iret_at:\n"
        "    push %rbx\n"
        "    mov %rsp, %rbx\n"
        "    mov %rdi, %rsp\n"
        "    mov $10, %eax\n"
        "    syscall\n"
        "    mov %rbx, %rsp\n"
        "    pop %rbx\n"
        "    ret\n"
        ".popsection\n");

static struct hv_iret_frame kernel_frame(void)
{
    return (struct hv_iret_frame){ .rax = 0x7777, .cs = HV_KERNEL_CS, .rflags = 0x202,
                                   .ss = HV_DATA_SS };
}

static void check_iret(void)
{
    struct hv_iret_frame fr = kernel_frame();

    expect_eq("iret: a good kernel-to-kernel frame returns its rax", iret_try(&fr), 0x7777);
    fr.cs = 0x33;
    expect_eq("iret: cs 0x33", iret_try(&fr), -HV_EINVAL);
    fr.cs = 0x08;
    expect_eq("iret: cs 0x08 (ring 0)", iret_try(&fr), -HV_EINVAL);
    fr.cs = 0x20;
    expect_eq("iret: cs 0x20 (ring-3 code selector with RPL 0)", iret_try(&fr), -HV_EINVAL);
    fr = kernel_frame();
    fr.ss = 0x10;
    expect_eq("iret: ss 0x10", iret_try(&fr), -HV_EINVAL);
    fr = kernel_frame();
    fr.flags = 1;
    expect_eq("iret: flags 1", iret_try(&fr), -HV_EINVAL);
    fr = kernel_frame();
    fr.rip = HV_CORE;
    expect_eq("iret: rip in hv's core", iret_try(&fr), -HV_EINVAL);
    fr.rip = NONCANONICAL;
    expect_eq("iret: rip non-canonical", iret_try(&fr), -HV_EINVAL);
    fr = kernel_frame();
    fr.rsp = UPPER_HALF;
    expect_eq("iret: rsp in hv's direct map", iret_try(&fr), -HV_EINVAL);
    fr.rsp = NONCANONICAL;
    expect_eq("iret: rsp non-canonical", iret_try(&fr), -HV_EINVAL);
    fr = kernel_frame();
    fr.cs = HV_USER_CS;
    expect_eq("iret: to user mode with no user space selected", iret_try(&fr), -HV_EINVAL);
    expect_eq("iret: frame unmapped", iret_at(UNMAPPED), -HV_EFAULT);
    expect_eq("iret: frame in hv's core", iret_at(HV_CORE), -HV_EFAULT);
    expect_eq("iret: frame at rsp 0", iret_at(0), -HV_EFAULT);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    pv_name = "pv-trap-table";
    struct hvg_trap_spec ud = { HVG_UD, 0, on_ud };
    expect_eq("registering #UD", hvg_traps_install(&ud, 1), 0);
    check_rejects(si);
    check_atomic();
    check_pieces();
    check_iret();
    return pv_finish();
}
