/* Exceptions in guest kernel mode reach the guest's own handlers
 * (include/hv/abi_cpu.h, "How a handler is entered"): every exception a
 * ring-3 guest can raise, each with its vector, error code, the faulting
 * (or, for traps, the next) rip, cs = HV_KERNEL_CS, ss = HV_DATA_SS, the
 * interrupted rsp, a 16-byte aligned frame, the virtual IF in rflags and,
 * for #PF, the address in the shared page's cr2. The handler skips the
 * instruction, or fixes the cause and resumes it (#PF: a fresh page is
 * mapped and the read runs again). Also: int n of vectors the table gives,
 * single-stepping with TF, nested exceptions in both orders of event
 * masking, and a raw handler returning with plain iretq.
 *
 * What the CPU (or QEMU) decides, said where it happens:
 *   #OF   `into` does not exist in 64-bit mode (it raises #UD); vector 4
 *         is raised with `int $4`.
 *   #BR   `bound` does not exist in 64-bit mode (0x62 is the EVEX prefix);
 *         vector 5 is raised with `int $5`.
 *   #NM   hv never sets CR0.TS or CR0.EM: the FPU is always there, so no
 *         instruction raises it; not tested.
 *   #DB   by icebp (0xf1): hardware raises #DB (a trap), QEMU TCG 7.2 #UD
 *         (a fault); either is accepted, the log says which.
 *   #SS   a non-canonical address through rbp: hardware raises #SS(0),
 *         QEMU TCG #GP(0); either is accepted.
 *   #AC   needs CR0.AM, which hv does not set: with rflags.AC set a
 *         misaligned access simply works. If #AC does arrive it is checked.
 *   #XM   QEMU TCG 7.2 raises no #XM for an unmasked SSE exception (it only
 *         sets the MXCSR flag); hardware does. Either is accepted; #UD (no
 *         CR4.OSXMMEXCPT) is not.
 * Prints one line per check, then "pv-exceptions: all N checks passed"
 * (exit 0) or "... N of M checks FAILED" (exit 1). */
#include "pv_common.h"
#include "pv_exc_record.h"

HV_GUEST_NOTE("pv-exceptions", HVG_MIB(4), 1, 0);

#define UNMAPPED_VA 0x0000400000000123ull
#define NONCANONICAL 0x0000800000000000ull

/* A handler in assembly that returns with plain iretq (same mode, no
 * hypercall), as abi_cpu.h allows. */
static volatile uint64_t raw_count;
extern char raw_iret_handler[];
__asm__(".pushsection .text\n"
        "raw_iret_handler:\n"
        "    incq raw_count(%rip)\n"
        "    iretq\n"
        ".popsection\n");

static void test_de(void)
{
    uint64_t rsp;
    arm();
    __asm__ volatile(PV_ARM "xor %%edx, %%edx\n\tmov $1, %%eax\n\txor %%ecx, %%ecx\n\t"
                     "mov %%rsp, %[rsp]\n8: divl %%ecx\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "rcx", "rdx", "memory", "cc");
    expect_delivery("#DE (div by 0)", HVG_DE, 0, pv_fault_rip, rsp);
}

static void test_bp(void)
{
    uint64_t rsp;
    arm();
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: int3\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "memory");
    expect_delivery("#BP (int3, a trap: rip after it)", HVG_BP, 0, pv_resume_rip, rsp);
    expect_eq("#BP handler ran with events masked (HV_TRAP_MASK_EVENTS)", last.mask, 1);
    expect_eq("events unmasked again after HV_CALL_IRET", hvg_shared()->vcpu[0].upcall_mask, 0);
    arm();
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: int $3\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "memory");
    expect_delivery("#BP (int $3)", HVG_BP, 0, pv_resume_rip, rsp);
}

static uint64_t step_rips[8];
static volatile unsigned steps;
static volatile bool step_tf_in_handler;

static void step_hook(struct hvg_trap_frame *f)
{
    uint64_t flags;

    __asm__ volatile("pushfq\n\tpopq %0" : "=r"(flags));
    if (flags & HVG_RFLAGS_TF)
        step_tf_in_handler = true;
    record(f);
    if (f->vector != HVG_DB || !(f->rflags & HVG_RFLAGS_TF) || steps >= 8) {
        hvg_trap_dump("pv-exceptions: unexpected trap while stepping", f);
        hvg_exit(3);
    }
    step_rips[steps++] = f->rip;
    if (f->rip == pv_resume_rip)
        f->rflags &= ~HVG_RFLAGS_TF; /* done: stop stepping */
}

static void test_single_step(void)
{
    arm();
    steps = 0;
    step_tf_in_handler = false;
    hook = step_hook;
    /* TF takes effect after popfq: each nop then traps, rip after it. */
    __asm__ volatile(PV_ARM "pushfq\n\torq $0x100, (%%rsp)\n\tpopfq\n"
                     "8: nop\n\tnop\n\tnop\n9: nop"
                     : PV_ARM_OUT : : "rax", "memory", "cc");
    hook = NULL;
    expect_eq("#DB single-step: one trap per instruction", steps, 3);
    expect_true("#DB single-step: rips are the instructions after each nop",
                steps == 3 && step_rips[0] == pv_fault_rip + 1 &&
                    step_rips[1] == pv_fault_rip + 2 && step_rips[2] == pv_resume_rip);
    expect_true("#DB single-step: vector 1, kernel cs, TF set in the frame only",
                last.vector == HVG_DB && last.cs == HV_KERNEL_CS && !step_tf_in_handler);
}

static void test_icebp(void)
{
    uint64_t rsp;
    arm();
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: .byte 0xf1\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "memory");
    if (deliveries == 1 && last.vector == HVG_UD) {
        hvg_printf("pv-exceptions: icebp raised #UD (QEMU TCG 7.2 does; hardware raises #DB)\n");
        expect_delivery("icebp as #UD (a fault)", HVG_UD, 0, pv_fault_rip, rsp);
    } else {
        expect_delivery("icebp (#DB, a trap)", HVG_DB, 0, pv_resume_rip, rsp);
    }
}

static void test_int_n(void)
{
    uint64_t rsp;

    arm();
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: .byte 0xce\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "memory");
    expect_delivery("into (#OF does not exist in 64-bit mode: #UD)", HVG_UD, 0, pv_fault_rip,
                    rsp);
    arm();
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: int $4\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "memory");
    expect_delivery("#OF by int $4", HVG_OF, 0, pv_resume_rip, rsp);
    arm();
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: int $5\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "memory");
    expect_delivery("#BR by int $5 (bound does not exist in 64-bit mode)", HVG_BR, 0,
                    pv_resume_rip, rsp);
    arm();
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: int $0x82\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "memory");
    expect_delivery("int $0x82 (a table entry, kernel mode)", 0x82, 0, pv_resume_rip, rsp);
    arm();
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: int $0x41\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "memory");
    /* The error code names the gate: IDT flag (2) and the vector as the
     * index, vector * 8 on hardware; QEMU TCG 7.2 gives vector * 16. */
    if (last.error_code == 0x41 * 16 + 2)
        hvg_printf("pv-exceptions: #GP error code for int $0x41 is 0x412 (QEMU TCG: vector * "
                   "16 + 2; hardware gives vector * 8 + 2 = 0x20a)\n");
    expect_delivery("int $0x41 (no entry): #GP naming the IDT vector", HVG_GP,
                    last.error_code == 0x41 * 16 + 2 ? 0x41 * 16 + 2 : 0x41 * 8 + 2, pv_fault_rip,
                    rsp);
    arm();
    raw_count = 0;
    __asm__ volatile(PV_ARM "8: int $0x81\n9:" : PV_ARM_OUT : : "rax", "memory");
    expect_true("int $0x81 reached an assembly handler that returns with plain iretq",
                raw_count == 1 && deliveries == 0);
}

static void test_ud_gp(void)
{
    uint64_t rsp;

    arm();
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: ud2\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "memory");
    expect_delivery("#UD (ud2)", HVG_UD, 0, pv_fault_rip, rsp);
    expect_eq("#UD handler ran with events unmasked (no HV_TRAP_MASK_EVENTS)", last.mask, 0);
    arm();
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: cli\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "memory");
    expect_delivery("#GP (cli)", HVG_GP, 0, pv_fault_rip, rsp);
    arm();
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: mov %%cr3, %%rcx\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "rcx", "memory");
    expect_delivery("#GP (mov from cr3)", HVG_GP, 0, pv_fault_rip, rsp);
    arm();
    __asm__ volatile(PV_ARM "movabs $0x0000800000000000, %%rcx\n\tmov %%rsp, %[rsp]\n"
                     "8: mov (%%rcx), %%rcx\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp) : : "rax", "rcx", "memory");
    expect_delivery("#GP (non-canonical read)", HVG_GP, 0, pv_fault_rip, rsp);
}

static void test_ss(void)
{
    uint64_t rsp;
    arm();
    /* rsp moves with the push: take it in a register, not an rsp-based slot. */
    __asm__ volatile(PV_ARM "push %%rbp\n\tmovabs $0x0000800000000000, %%rbp\n\t"
                     "mov %%rsp, %[rsp]\n8: mov (%%rbp), %%rcx\n9: pop %%rbp"
                     : PV_ARM_OUT, [rsp] "=&d"(rsp) : : "rax", "rcx", "memory");
    if (deliveries == 1 && last.vector == HVG_GP) {
        hvg_printf("pv-exceptions: a non-canonical stack access raised #GP (QEMU TCG does; "
                   "hardware raises #SS)\n");
        expect_delivery("non-canonical (%rbp) as #GP", HVG_GP, 0, pv_fault_rip, rsp);
    } else {
        expect_delivery("#SS (non-canonical (%rbp))", HVG_SS, 0, pv_fault_rip, rsp);
    }
}

static const uint32_t read_only_word = 0x1234;
static uint8_t data_ret[16] = { 0xc3 }; /* `ret` in an NX data page */

/* #PF: map a fresh page where the fault was and resume the instruction. */
static void demand_hook(struct hvg_trap_frame *f)
{
    record(f);
    if (f->vector != HVG_PF || f->rip != pv_fault_rip) {
        hvg_trap_dump("pv-exceptions: unexpected trap (demand)", f);
        hvg_exit(3);
    }
    int64_t r = hvg_mem_map(HV_SPACE_KERNEL, hvg_fault_address(0) & ~(PAGE - 1), 1, 0,
                            HV_PROT_READ | HV_PROT_WRITE);
    if (r < 0) {
        hvg_printf("pv-exceptions: demand map failed: %lld\n", (long long)r);
        hvg_exit(3);
    }
}

/* #PF on an instruction fetch after a call: return for the callee. */
static void ret_hook(struct hvg_trap_frame *f)
{
    record(f);
    f->rip = *(uint64_t *)(uintptr_t)f->rsp;
    f->rsp += 8;
}

static void test_pf(void)
{
    uint64_t rsp, value = 1;

    arm();
    hook = demand_hook;
    __asm__ volatile(PV_ARM "movabs $0x0000400000000123, %%rcx\n\tmov %%rsp, %[rsp]\n"
                     "8: mov (%%rcx), %[value]\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp), [value] "=r"(value) : : "rax", "rcx", "memory");
    hook = NULL;
    expect_delivery("#PF reading an unmapped page", HVG_PF, HVG_PF_USER, pv_fault_rip, rsp);
    expect_eq("#PF: cr2 in the shared page", (int64_t)last.cr2, (int64_t)UNMAPPED_VA);
    expect_eq("#PF fixed by mapping a fresh page: the read ran again and got 0", (int64_t)value, 0);
    expect_eq("unmapping the demand page", hvg_mem_unmap(HV_SPACE_KERNEL, UNMAPPED_VA & ~(PAGE - 1), 1), 0);

    arm();
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: movl $0, (%[p])\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp)
                     : [p] "r"(&read_only_word) : "rax", "memory");
    expect_delivery("#PF writing its own rodata", HVG_PF,
                    HVG_PF_PRESENT | HVG_PF_WRITE | HVG_PF_USER, pv_fault_rip, rsp);
    expect_eq("#PF: cr2 (rodata)", (int64_t)last.cr2, (int64_t)(uintptr_t)&read_only_word);

    arm();
    hook = ret_hook;
    __asm__ volatile(PV_ARM "mov %%rsp, %[rsp]\n8: call *%[p]\n9:"
                     : PV_ARM_OUT, [rsp] "=m"(rsp)
                     : [p] "r"(data_ret) : "rax", "memory");
    hook = NULL;
    /* The fault is on the fetch at data_ret, after the call pushed. */
    expect_delivery("#PF executing a data page (NX)", HVG_PF,
                    HVG_PF_PRESENT | HVG_PF_USER | HVG_PF_FETCH, (uint64_t)(uintptr_t)data_ret,
                    rsp - 8);
    expect_eq("#PF: cr2 (fetch)", (int64_t)last.cr2, (int64_t)(uintptr_t)data_ret);
}

static uint8_t misaligned[16] __attribute__((aligned(16)));

static void test_ac(void)
{
    uint64_t rsp;
    arm();
    __asm__ volatile(PV_ARM "pushfq\n\torq $0x40000, (%%rsp)\n\tpopfq\n\t"
                     "mov %%rsp, %[rsp]\n8: movl (%[p]), %%ecx\n9:\n\t"
                     "pushfq\n\tandq $~0x40000, (%%rsp)\n\tpopfq"
                     : PV_ARM_OUT, [rsp] "=m"(rsp)
                     : [p] "r"(misaligned + 1) : "rax", "rcx", "memory", "cc");
    if (deliveries == 0) {
        hvg_printf("pv-exceptions: rflags.AC + misaligned access: no #AC (hv leaves CR0.AM "
                   "clear, so alignment is never checked)\n");
        expect_true("no #AC without CR0.AM, and the access completed", true);
    } else {
        expect_delivery("#AC (misaligned with rflags.AC, CR0.AM set)", HVG_AC, 0, pv_fault_rip, rsp);
    }
}

static void fpu_clear_hook(struct hvg_trap_frame *f)
{
    record(f);
    __asm__ volatile("fnclex");
    f->rip = pv_resume_rip;
}

static const double zero_double = 0.0;

static void test_mf(void)
{
    uint64_t rsp;
    uint16_t unmasked = 0x37f & ~0x4; /* the divide-by-zero exception unmasked */
    uint16_t standard = 0x37f;

    arm();
    hook = fpu_clear_hook;
    __asm__ volatile("fninit\n\tfldcw %[cw]\n\tfld1\n\tfdivl %[zero]\n\t" PV_ARM
                     "mov %%rsp, %[rsp]\n8: fwait\n9:\n\tfninit\n\tfldcw %[std]"
                     : PV_ARM_OUT, [rsp] "=m"(rsp)
                     : [cw] "m"(unmasked), [zero] "m"(zero_double), [std] "m"(standard)
                     : "rax", "memory", "st");
    hook = NULL;
    expect_delivery("#MF (x87 1/0 unmasked, then fwait)", HVG_MF, 0, pv_fault_rip, rsp);
}

static void test_xm(void)
{
    uint64_t rsp;
    uint32_t unmasked = 0x1f80 & ~(1u << 9), standard = 0x1f80, after = 0;
    float x = 1.0f, zero = 0.0f;

    arm();
    __asm__ volatile("ldmxcsr %[cw]\n\t" PV_ARM "mov %%rsp, %[rsp]\n8: divss %[zero], %[x]\n9:\n\t"
                     "stmxcsr %[after]\n\tldmxcsr %[std]"
                     : PV_ARM_OUT, [rsp] "=m"(rsp), [x] "+x"(x), [after] "=m"(after)
                     : [cw] "m"(unmasked), [zero] "x"(zero), [std] "m"(standard)
                     : "rax", "memory");
    if (deliveries == 0) {
        hvg_printf("pv-exceptions: unmasked SSE 1/0 raised no #XM (QEMU TCG 7.2 does not; "
                   "hardware does); MXCSR 0x%x\n", after);
        expect_true("no #XM: MXCSR.ZE records the divide by zero", after & (1u << 2));
    } else {
        expect_delivery("#XM (SSE 1/0 unmasked)", HVG_XM, 0, pv_fault_rip, rsp);
    }
}

/* --- nested exceptions -------------------------------------------------------- */
static volatile uint64_t inner_fault_rip, inner_resume_rip;
static struct seen outer_seen, inner_seen;
static volatile unsigned depth, max_depth, inner_count;
static uint8_t mask_after_inner;

static void inner_hook(struct hvg_trap_frame *f)
{
    depth++;
    if (depth > max_depth)
        max_depth = depth;
    record(f);
    inner_seen = last;
    inner_count++;
    if (f->rip != inner_fault_rip && f->rip != inner_resume_rip) {
        hvg_trap_dump("pv-exceptions: unexpected inner trap", f);
        hvg_exit(3);
    }
    f->rip = inner_resume_rip;
    depth--;
}

/* The outer handler faults itself (int3 or ud2 as `insn`), which must come
 * back to it through the inner delivery. */
static void outer_hook(struct hvg_trap_frame *f)
{
    depth++;
    max_depth = depth;
    record(f);
    outer_seen = last;
    hook = inner_hook;
    if (f->vector == HVG_UD)
        __asm__ volatile("lea 8f(%%rip), %%rax\n\tmov %%rax, %[fault]\n\t"
                         "lea 9f(%%rip), %%rax\n\tmov %%rax, %[resume]\n8: int3\n9:"
                         : [fault] "=m"(inner_fault_rip), [resume] "=m"(inner_resume_rip)
                         : : "rax", "memory");
    else
        __asm__ volatile("lea 8f(%%rip), %%rax\n\tmov %%rax, %[fault]\n\t"
                         "lea 9f(%%rip), %%rax\n\tmov %%rax, %[resume]\n8: ud2\n9:"
                         : [fault] "=m"(inner_fault_rip), [resume] "=m"(inner_resume_rip)
                         : : "rax", "memory");
    mask_after_inner = hvg_shared()->vcpu[0].upcall_mask;
    hook = outer_hook;
    f->rip = pv_resume_rip;
    depth--;
}

static void test_nested(void)
{
    arm();
    depth = max_depth = inner_count = 0;
    hook = outer_hook;
    __asm__ volatile(PV_ARM "8: ud2\n9:" : PV_ARM_OUT : : "rax", "memory");
    hook = NULL;
    expect_true("nested: #UD handler hit int3, #BP handler ran inside it, both returned",
                max_depth == 2 && inner_count == 1 && depth == 0 && outer_seen.vector == HVG_UD &&
                    inner_seen.vector == HVG_BP);
    expect_true("nested: inner frame below the outer one, rip after the handler's int3",
                inner_seen.frame < outer_seen.frame && inner_seen.rip == inner_resume_rip &&
                    inner_seen.cs == HV_KERNEL_CS);
    expect_true("nested: #BP masked events, #UD did not; the inner iret restored the outer's",
                inner_seen.mask == 1 && outer_seen.mask == 0 && mask_after_inner == 0 &&
                    (inner_seen.rflags & HVG_RFLAGS_IF));

    arm();
    depth = max_depth = inner_count = 0;
    hook = outer_hook;
    __asm__ volatile(PV_ARM "8: int3\n9:" : PV_ARM_OUT : : "rax", "memory");
    hook = NULL;
    expect_true("nested: #BP handler hit ud2, #UD handler ran inside it, both returned",
                max_depth == 2 && inner_count == 1 && depth == 0 && outer_seen.vector == HVG_BP &&
                    inner_seen.vector == HVG_UD && inner_seen.rip == inner_fault_rip);
    expect_true("nested: events masked by #BP show as IF=0 in the #UD frame and stay masked",
                !(inner_seen.rflags & HVG_RFLAGS_IF) && inner_seen.mask == 1 &&
                    mask_after_inner == 1);
    expect_eq("nested: events unmasked after both returned", hvg_shared()->vcpu[0].upcall_mask, 0);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    struct hvg_trap_spec specs[36];
    size_t n = 0;

    (void)si;
    (void)vcpu;
    pv_name = "pv-exceptions";
    for (unsigned v = 0; v < 32; v++)
        specs[n++] = (struct hvg_trap_spec){ v, v == HVG_BP ? HV_TRAP_MASK_EVENTS : 0, on_trap };
    specs[n++] = (struct hvg_trap_spec){ 0x82, 0, on_trap };
    expect_eq("registering handlers for all 32 exception vectors and 0x82",
              hvg_traps_install(specs, n), 0);
    struct hv_trap_info raw = { .vector = 0x81, .handler = (uint64_t)(uintptr_t)raw_iret_handler };
    expect_eq("registering an assembly handler for 0x81", hvg_set_trap_table(&raw, 1), 0);

    test_de();
    test_bp();
    test_single_step();
    test_icebp();
    test_int_n();
    test_ud_gp();
    test_ss();
    test_pf();
    test_ac();
    test_mf();
    test_xm();
    test_nested();
    return pv_finish();
}
