/* Guest user mode (include/hv/abi_cpu.h): a user program in its own
 * address space (the image's .user.* pages aliased in, the shared page
 * read-only so it can see in_user_mode, a fresh stack), entered with
 * HV_CALL_IRET, whose `syscall` and exceptions reach the guest kernel's
 * handlers, never hv's hypercalls:
 *   - a system call arrives with every register as the program left it,
 *     rcx/r11 = return rip/rflags, cs = HV_USER_CS, on the kernel stack,
 *     events masked (HV_SYSCALL_MASK_EVENTS); what the handler changes
 *     (rax, rbx) is what the program gets back, the rest is preserved, and
 *     the program is back in user mode with events unmasked;
 *   - hypercall numbers from user mode (HV_CALL_EXIT, HV_CALL_MEM_MAP) are
 *     system calls for the kernel: hv does not act on them;
 *   - exceptions in user mode go to the kernel's handlers with cs =
 *     HV_USER_CS and the user rip/rsp: #UD, #BP (int3), #DE, #GP, #PF for
 *     kernel memory (not mapped in the user space: error code "user, not
 *     present", cr2 = the address), for hv memory and for a write to its own
 *     code, int n with and without HV_TRAP_USER_INT, TF single-stepping,
 *     icebp; the kernel resumes the program after each one.
 * Prints one line per check; "pv-user: all N checks passed", exit 0. */
#include "pv_common.h"

HV_GUEST_NOTE("pv-user", HVG_MIB(4), 1, 0);

#define USER_STACK_TOP 0x0000700000000000ull
#define SYS_CHECK 500
#define SYS_EXIT 60
#define HV_CORE 0xffffffff80000000ull
/* Where the user space sees the shared page (hv's own address for it is
 * above HV_GUEST_MAP_LIMIT, so it cannot be mapped there). */
#define USER_SHARED_VA 0x0000600000000000ull

/* Shared with the user program (aliased read-write into its space). */
uint64_t HVG_USER_DATA u_fault, u_resume, u_shared;
uint64_t HVG_USER_DATA u_after[24];
/* Never mapped in the user space. */
uint64_t kernel_secret = 0x5ec2e7;

extern char u_regs[], u_regs_after_syscall[], u_exceptions[], u_step_start[], u_step_end[];

/* The user program. UARM stores where its instruction is and where to go
 * on after it (local labels 91, 92) in u_fault / u_resume. */
__asm__(
    ".pushsection .user.text, \"ax\", @progbits\n"
    ".macro UARM insn:vararg\n"
    "    lea 91f(%rip), %rax\n"
    "    mov %rax, u_fault(%rip)\n"
    "    lea 92f(%rip), %rax\n"
    "    mov %rax, u_resume(%rip)\n"
    "91: \\insn\n"
    "92:\n"
    ".endm\n"
    /* u_regs: known values in every register, one system call, all stored. */
    ".globl u_regs\n"
    "u_regs:\n"
    "    movabs $0x1111111111111111, %rbx\n"
    "    movabs $0x2222222222222222, %rbp\n"
    "    movabs $0x3333333333333333, %rdi\n"
    "    movabs $0x4444444444444444, %rsi\n"
    "    movabs $0x5555555555555555, %rdx\n"
    "    movabs $0x8888888888888888, %r8\n"
    "    movabs $0x9999999999999999, %r9\n"
    "    movabs $0xaaaaaaaaaaaaaaaa, %r10\n"
    "    movabs $0xcccccccccccccccc, %r12\n"
    "    movabs $0xdddddddddddddddd, %r13\n"
    "    movabs $0xeeeeeeeeeeeeeeee, %r14\n"
    "    movabs $0xffffffffffffffff, %r15\n"
    "    mov %rsp, u_after+128(%rip)\n"
    "    mov $500, %eax\n"
    "    syscall\n"
    ".globl u_regs_after_syscall\n"
    "u_regs_after_syscall:\n"
    "    mov %rax, u_after+0(%rip)\n"
    "    mov %rbx, u_after+8(%rip)\n"
    "    mov %rbp, u_after+16(%rip)\n"
    "    mov %rdi, u_after+24(%rip)\n"
    "    mov %rsi, u_after+32(%rip)\n"
    "    mov %rdx, u_after+40(%rip)\n"
    "    mov %r8, u_after+48(%rip)\n"
    "    mov %r9, u_after+56(%rip)\n"
    "    mov %r10, u_after+64(%rip)\n"
    "    mov %r12, u_after+72(%rip)\n"
    "    mov %r13, u_after+80(%rip)\n"
    "    mov %r14, u_after+88(%rip)\n"
    "    mov %r15, u_after+96(%rip)\n"
    "    mov %rsp, u_after+104(%rip)\n"
    "    mov u_shared(%rip), %rcx\n"
    "    movzbl 2(%rcx), %eax\n" /* in_user_mode */
    "    mov %rax, u_after+112(%rip)\n"
    "    movzbl 1(%rcx), %eax\n" /* upcall_mask */
    "    mov %rax, u_after+120(%rip)\n"
    /* Hypercall numbers are system calls here: */
    "    mov $1, %eax\n" /* HV_CALL_EXIT */
    "    mov $77, %edi\n"
    "    syscall\n"
    "    mov %rax, u_after+136(%rip)\n"
    "    mov $14, %eax\n" /* HV_CALL_MEM_MAP (0, va, 1, kernel page, RW) */
    "    xor %edi, %edi\n"
    "    mov $0x10000000, %esi\n"
    "    mov $1, %edx\n"
    "    lea kernel_secret(%rip), %r10\n"
    "    and $-4096, %r10\n"
    "    mov $3, %r8d\n"
    "    syscall\n"
    "    mov %rax, u_after+144(%rip)\n"
    "    mov $60, %eax\n"
    "    xor %edi, %edi\n"
    "    syscall\n"
    "    ud2\n"
    /* u_exceptions: one exception after another; the kernel resumes each. */
    ".globl u_exceptions\n"
    "u_exceptions:\n"
    "    UARM ud2\n"
    "    UARM int3\n"
    "    pushq $0\n"
    "    UARM divl (%rsp)\n"
    "    add $8, %rsp\n"
    "    UARM cli\n"
    "    movabs $kernel_secret, %rcx\n"
    "    UARM mov (%rcx), %rcx\n"
    "    movabs $0xffffffff80000000, %rcx\n"
    "    UARM mov (%rcx), %rcx\n"
    "    lea u_exceptions(%rip), %rcx\n"
    "    UARM movb $0, (%rcx)\n"
    "    UARM int $0x81\n"
    "    UARM int $0x83\n"
    "    UARM .byte 0xf1\n"
    "    lea u_step_start(%rip), %rax\n"
    "    mov %rax, u_fault(%rip)\n"
    "    lea u_step_end(%rip), %rax\n"
    "    mov %rax, u_resume(%rip)\n"
    "    pushfq\n"
    "    orq $0x100, (%rsp)\n"
    "    popfq\n"
    ".globl u_step_start\n"
    "u_step_start:\n"
    "    nop\n"
    "    nop\n"
    ".globl u_step_end\n"
    "u_step_end:\n"
    "    mov $60, %eax\n"
    "    mov $5, %edi\n"
    "    syscall\n"
    "    ud2\n"
    ".popsection\n");

struct entry {
    uint64_t vector, error_code, rip, cs, ss, rsp, rflags, cr2, fault, resume;
    uint8_t mask, in_user;
};

static struct entry trap_log[32];
static unsigned log_count;
static struct hvg_user_context context;
static struct hvg_trap_frame check_frame;
static uint8_t check_mask, check_in_user;
static uint64_t check_frame_address;
static uint64_t syscalls_seen[4][2];
static unsigned syscall_count;

static void log_entry(const struct hvg_trap_frame *f)
{
    volatile struct hv_vcpu_shared *sh = &hvg_shared()->vcpu[0];

    if (log_count < 32)
        trap_log[log_count++] = (struct entry){
            .vector = f->vector, .error_code = f->error_code, .rip = f->rip, .cs = f->cs,
            .ss = f->ss, .rsp = f->rsp, .rflags = f->rflags,
            .cr2 = f->vector == HVG_PF ? hvg_fault_address(0) : 0, .fault = u_fault,
            .resume = u_resume, .mask = sh->upcall_mask, .in_user = sh->in_user_mode,
        };
}

static void k_trap(struct hvg_trap_frame *f)
{
    if (!hvg_frame_from_user(f)) {
        hvg_trap_dump("pv-user: exception in the kernel", f);
        hvg_exit(3);
    }
    log_entry(f);
    /* An exception the program did not plan (no resume address, or far too
     * many) ends it rather than looping. */
    if (u_resume == 0 || log_count >= 32) {
        hvg_trap_dump("pv-user: unplanned exception in user mode", f);
        hvg_user_return(f, &context, -1);
        return;
    }
    if (f->vector == HVG_DB && (f->rflags & HVG_RFLAGS_TF)) {
        if (f->rip == u_resume)
            f->rflags &= ~HVG_RFLAGS_TF;
        return; /* a trap: rip is already past the instruction */
    }
    f->rip = u_resume;
    u_resume = 0;
}

static void k_syscall(struct hvg_trap_frame *f)
{
    volatile struct hv_vcpu_shared *sh = &hvg_shared()->vcpu[0];

    if (f->rax == SYS_EXIT) {
        hvg_user_return(f, &context, (int64_t)f->rdi);
        return;
    }
    if (f->rax == SYS_CHECK) {
        check_frame = *f;
        check_frame_address = (uint64_t)(uintptr_t)f;
        check_mask = sh->upcall_mask;
        check_in_user = sh->in_user_mode;
        f->rax = 0x5678;
        f->rbx = 0xb0b0;
        return;
    }
    if (syscall_count < 4) {
        syscalls_seen[syscall_count][0] = f->rax;
        syscalls_seen[syscall_count][1] = f->rdi;
        syscall_count++;
    }
    f->rax = (uint64_t)-38;
}

static void check_regs(void)
{
    const struct hvg_trap_frame *f = &check_frame;

    expect_true("syscall frame: vector, error code, cs = HV_USER_CS, ss",
                f->vector == HVG_VECTOR_SYSCALL && f->error_code == 0 && f->cs == HV_USER_CS &&
                    f->ss == HV_DATA_SS);
    expect_eq("syscall frame: rip after the syscall", (int64_t)f->rip,
              (int64_t)(uintptr_t)u_regs_after_syscall);
    expect_eq("syscall frame: the program's rsp", (int64_t)f->rsp, (int64_t)u_after[16]);
    expect_true("syscall frame: rcx = return rip, r11 = rflags, IF set",
                f->rcx == f->rip && f->r11 == f->rflags && (f->rflags & HVG_RFLAGS_IF));
    expect_true("syscall frame: rax, rdi, rsi, rdx, r10, r8, r9 as the program left them",
                f->rax == SYS_CHECK && f->rdi == 0x3333333333333333ull &&
                    f->rsi == 0x4444444444444444ull && f->rdx == 0x5555555555555555ull &&
                    f->r10 == 0xaaaaaaaaaaaaaaaaull && f->r8 == 0x8888888888888888ull &&
                    f->r9 == 0x9999999999999999ull);
    expect_true("syscall frame: rbx, rbp, r12-r15 as the program left them",
                f->rbx == 0x1111111111111111ull && f->rbp == 0x2222222222222222ull &&
                    f->r12 == 0xccccccccccccccccull && f->r13 == 0xddddddddddddddddull &&
                    f->r14 == 0xeeeeeeeeeeeeeeeeull && f->r15 == 0xffffffffffffffffull);
    expect_true("syscall handler: on the kernel stack",
                check_frame_address >= (uint64_t)(uintptr_t)pv_kernel_stack &&
                    check_frame_address < pv_kernel_stack_top() &&
                    check_frame_address % 16 == 0);
    expect_eq("syscall handler: events masked (HV_SYSCALL_MASK_EVENTS)", check_mask, 1);
    expect_eq("syscall handler: in kernel mode (shared in_user_mode)", check_in_user, 0);
    expect_eq("after the syscall: rax is the handler's result", (int64_t)u_after[0], 0x5678);
    expect_eq("after the syscall: rbx as the handler changed it", (int64_t)u_after[1], 0xb0b0);
    expect_true("after the syscall: the other registers and rsp preserved",
                u_after[2] == 0x2222222222222222ull && u_after[3] == 0x3333333333333333ull &&
                    u_after[4] == 0x4444444444444444ull && u_after[5] == 0x5555555555555555ull &&
                    u_after[6] == 0x8888888888888888ull && u_after[7] == 0x9999999999999999ull &&
                    u_after[8] == 0xaaaaaaaaaaaaaaaaull && u_after[9] == 0xccccccccccccccccull &&
                    u_after[10] == 0xddddddddddddddddull &&
                    u_after[11] == 0xeeeeeeeeeeeeeeeeull &&
                    u_after[12] == 0xffffffffffffffffull && u_after[13] == u_after[16]);
    expect_eq("back in user mode: the shared page says in_user_mode", (int64_t)u_after[14], 1);
    expect_eq("back in user mode: events unmasked again", (int64_t)u_after[15], 0);
    expect_true("HV_CALL_EXIT from user mode is a system call for the kernel, not an exit",
                syscall_count >= 1 && syscalls_seen[0][0] == HV_CALL_EXIT &&
                    syscalls_seen[0][1] == 77 && (int64_t)u_after[17] == -38);
    expect_true("HV_CALL_MEM_MAP from user mode is a system call for the kernel",
                syscall_count >= 2 && syscalls_seen[1][0] == HV_CALL_MEM_MAP &&
                    (int64_t)u_after[18] == -38);
}

static void expect_user_entry(unsigned i, const char *what, uint64_t vector, uint64_t error,
                              bool at_fault)
{
    char label[112];
    const struct entry *e = &trap_log[i];

    if (i >= log_count) {
        fmt_format(label, sizeof(label), "%s: delivered", what);
        expect_true(label, false);
        return;
    }
    fmt_format(label, sizeof(label), "%s: vector", what);
    expect_eq(label, (int64_t)e->vector, (int64_t)vector);
    fmt_format(label, sizeof(label), "%s: error code", what);
    expect_eq(label, (int64_t)e->error_code, (int64_t)error);
    fmt_format(label, sizeof(label), "%s: user rip, cs = HV_USER_CS, ss, user stack", what);
    expect_true(label, e->rip == (at_fault ? e->fault : e->resume) && e->cs == HV_USER_CS &&
                           e->ss == HV_DATA_SS && e->rsp < USER_STACK_TOP &&
                           e->rsp > USER_STACK_TOP - 4 * PAGE && e->in_user == 0);
}

static void check_exceptions(void)
{
    unsigned i = 0;

    expect_user_entry(i++, "user #UD", HVG_UD, 0, true);
    expect_user_entry(i++, "user #BP (int3)", HVG_BP, 0, false);
    expect_user_entry(i++, "user #DE", HVG_DE, 0, true);
    expect_user_entry(i++, "user #GP (cli)", HVG_GP, 0, true);
    expect_user_entry(i, "user reads kernel memory: #PF, user, not present", HVG_PF,
                      HVG_PF_USER, true);
    expect_eq("user reads kernel memory: cr2", (int64_t)trap_log[i++].cr2,
              (int64_t)(uintptr_t)&kernel_secret);
    /* Present in the guest's tables, supervisor-only; with page-table
     * isolation hv's core is not in them at all (hv/mm/xpti.h). */
    uint64_t hv_pf = i < log_count && trap_log[i].error_code == HVG_PF_USER
                         ? HVG_PF_USER
                         : HVG_PF_USER | HVG_PF_PRESENT;
    expect_user_entry(i, "user reads hv memory: #PF, user, (present without isolation)", HVG_PF,
                      hv_pf, true);
    expect_eq("user reads hv memory: cr2", (int64_t)trap_log[i++].cr2, (int64_t)HV_CORE);
    expect_user_entry(i, "user writes its code: #PF, protection", HVG_PF,
                      HVG_PF_USER | HVG_PF_PRESENT | HVG_PF_WRITE, true);
    expect_eq("user writes its code: cr2", (int64_t)trap_log[i++].cr2, (int64_t)(uintptr_t)u_exceptions);
    expect_user_entry(i++, "user int $0x81 (HV_TRAP_USER_INT)", 0x81, 0, false);
    uint64_t gp = i < log_count && trap_log[i].error_code == 0x83 * 16 + 2 ? 0x83 * 16 + 2 : 0x83 * 8 + 2;
    expect_user_entry(i++, "user int $0x83 (no HV_TRAP_USER_INT): #GP", HVG_GP, gp, true);
    if (i < log_count && trap_log[i].vector == HVG_UD) {
        hvg_printf("pv-user: icebp raised #UD (QEMU TCG 7.2; hardware raises #DB)\n");
        expect_user_entry(i++, "user icebp (#UD under TCG)", HVG_UD, 0, true);
    } else {
        expect_user_entry(i++, "user icebp (#DB)", HVG_DB, 0, false);
    }
    expect_true("user TF: two single-step traps, after each nop, cs = HV_USER_CS",
                log_count == i + 2 && trap_log[i].vector == HVG_DB &&
                    trap_log[i].rip == (uint64_t)(uintptr_t)u_step_start + 1 &&
                    trap_log[i + 1].rip == (uint64_t)(uintptr_t)u_step_end &&
                    trap_log[i].cs == HV_USER_CS && trap_log[i + 1].cs == HV_USER_CS);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    struct hvg_trap_spec specs[35];
    size_t n = 0;

    (void)vcpu;
    pv_name = "pv-user";
    for (unsigned v = 0; v < 32; v++)
        specs[n++] = (struct hvg_trap_spec){ v, 0, k_trap };
    specs[n++] = (struct hvg_trap_spec){ 0x81, HV_TRAP_USER_INT, k_trap };
    specs[n++] = (struct hvg_trap_spec){ 0x83, 0, k_trap };
    expect_eq("registering the trap table", hvg_traps_install(specs, n), 0);
    expect_eq("registering the syscall entry (events masked)",
              hvg_syscall_install(k_syscall, HV_SYSCALL_MASK_EVENTS), 0);
    expect_eq("registering the kernel stack", hvg_set_kernel_stack(pv_kernel_stack_top()), 0);
    int64_t space = pv_make_user_space(USER_STACK_TOP, 4);
    expect_true("a user space with the program, its data and a stack", space > 0);
    if (space <= 0)
        return pv_finish();
    expect_eq("mapping the shared page read-only into it",
              hvg_mem_map((uint64_t)space, USER_SHARED_VA, 1, si->shared_va, HV_PROT_READ), 0);
    u_shared = USER_SHARED_VA;
    expect_eq("selecting it", hvg_set_user_space((uint64_t)space), 0);

    int64_t r = hvg_user_run(&context, (uint64_t)(uintptr_t)u_regs, USER_STACK_TOP - 8, 0);
    expect_eq("u_regs ran to its exit", r, 0);
    expect_eq("back in kernel mode after the program's exit", hvg_shared()->vcpu[0].in_user_mode, 0);
    check_regs();

    r = hvg_user_run(&context, (uint64_t)(uintptr_t)u_exceptions, USER_STACK_TOP - 8, 0);
    expect_eq("u_exceptions ran to its exit after every exception", r, 5);
    check_exceptions();
    return pv_finish();
}
