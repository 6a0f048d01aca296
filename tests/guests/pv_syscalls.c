/* System calls both ways (include/hv/abi_cpu.h): the fast gate (int $0x80
 * with HV_TRAP_FAST, a DPL-3 trap gate the CPU enters without hv) and the
 * bounced `syscall` from guest user mode. Two vCPUs.
 *
 * vCPU 0:
 *   - in kernel mode, N fast calls give the same results as calling the
 *     function directly, and vcpu_info's hv_entries moves by at most the
 *     hypercalls made to read it; N hypercalls move it by at least N (so
 *     the counter counts);
 *   - in user mode, a program makes each call both ways and compares; the
 *     fast handler sees cs = HV_USER_CS in its frame, runs with IF set (a
 *     trap gate, not an interrupt gate) and on the program's own stack;
 *     between two marker system calls, N fast calls leave hv_entries where
 *     the markers alone put it;
 *   - after removing the fast entry, int $0x80 raises #GP again.
 * vCPU 1 never registers the fast gate: while vCPU 0 has it, int $0x80 on
 * vCPU 1 raises #GP (the gate is vCPU 0's only, swapped in while it runs).
 *
 * hv_entries is judged strictly only when the CPU has no SMAP: under QEMU
 * TCG with SMAP, the CPU's own pushes for a same-privilege gate and a
 * ring-3 iretq fault, and hv completes them (vcpu/smap_quirk.c), so each
 * fast call enters hv twice there. The system test boots once with
 * `-cpu max,-smap` for the strict check.
 * Prints one line per check; "pv-syscalls: all N checks passed", exit 0. */
#include "pv_common.h"

HV_GUEST_NOTE("pv-syscalls", HVG_MIB(4), 2, 0);

#define USER_STACK_TOP 0x0000700000000000ull
#define CALLS 500
#define SYS_MARK 600
#define SYS_EXIT 60
#define SYS_GETPID 39
#define OP_MIX 1
#define OP_PROBE 0xdead

/* --- the user program, and the handler both paths share -------------------------- */
uint64_t HVG_USER_DATA u_mismatches, u_calls, u_fast_cs, u_fast_if_clear, u_fast_off_stack;
uint64_t HVG_USER_DATA u_probe_runs;

static uint64_t HVG_USER_TEXT compute(uint64_t op, uint64_t a, uint64_t b)
{
    if (op == OP_MIX)
        return a * 3 + (b ^ 0x55);
    if (op == SYS_GETPID)
        return 42;
    return (uint64_t)-38;
}

/* The fast gate's handler: the CPU enters it, in the caller's mode and
 * space, on the caller's stack. */
static void HVG_USER_TEXT fast_handler(struct hvg_trap_frame *f)
{
    uint64_t flags, rsp;

    __asm__ volatile("pushfq\n\tpopq %0\n\tmov %%rsp, %1" : "=r"(flags), "=r"(rsp));
    if (!(flags & HVG_RFLAGS_IF))
        u_fast_if_clear++;
    /* Same stack: the frame sits right below the caller's rsp. */
    if (f->rsp - (uint64_t)(uintptr_t)f > 4096 || rsp > (uint64_t)(uintptr_t)f)
        u_fast_off_stack++;
    u_fast_cs = f->cs;
    if (f->rax == OP_PROBE)
        u_probe_runs++;
    f->rax = compute(f->rax, f->rdi, f->rsi);
}
HVG_FAST_ENTRY(fast_entry, fast_handler);

static inline __attribute__((always_inline)) uint64_t fast_call(uint64_t op, uint64_t a, uint64_t b)
{
    __asm__ volatile("int $0x80" : "+a"(op) : "D"(a), "S"(b) : "memory");
    return op;
}

static inline __attribute__((always_inline)) uint64_t slow_call(uint64_t op, uint64_t a, uint64_t b)
{
    __asm__ volatile("syscall" : "+a"(op) : "D"(a), "S"(b) : "rcx", "r11", "memory");
    return op;
}

static void HVG_USER_TEXT __attribute__((noreturn)) user_program(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t fast = fast_call(OP_MIX, i, 7 * i);
        uint64_t slow = slow_call(OP_MIX, i, 7 * i);
        if (fast != slow || fast != compute(OP_MIX, i, 7 * i))
            u_mismatches++;
        u_calls++;
    }
    if (fast_call(SYS_GETPID, 0, 0) != slow_call(SYS_GETPID, 0, 0))
        u_mismatches++;
    slow_call(SYS_MARK, 0, 0);
    for (uint64_t i = 0; i < n; i++)
        fast_call(OP_MIX, i, i);
    slow_call(SYS_MARK, 0, 0);
    for (;;)
        slow_call(SYS_EXIT, 0, 0);
}

/* --- the kernel ---------------------------------------------------------------------- */
static struct hvg_user_context context;
static uint64_t marks[2];
static unsigned mark_count;
static volatile uint64_t gp_vector_seen[2], gp_error_seen[2];
static volatile int fast_gate_open, vcpu1_done;

static void k_syscall(struct hvg_trap_frame *f)
{
    if (f->rax == SYS_EXIT) {
        hvg_user_return(f, &context, 0);
        return;
    }
    if (f->rax == SYS_MARK) {
        if (mark_count < 2)
            marks[mark_count++] = pv_hv_entries(0);
        f->rax = 0;
        return;
    }
    f->rax = compute(f->rax, f->rdi, f->rsi);
}

/* #GP from int $0x80 where no gate is open: skip the 2-byte instruction. */
static void k_gp(struct hvg_trap_frame *f)
{
    unsigned slot = f->rax == OP_PROBE ? 1 : 0;
    gp_vector_seen[slot] = f->vector;
    gp_error_seen[slot] = f->error_code;
    f->rip += 2;
}

static bool cpu_has_smap(void)
{
    uint32_t a = 7, b, c = 0, d;
    __asm__ volatile("cpuid" : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
    return (b >> 20) & 1;
}

static bool gp_names_0x80(uint64_t error)
{
    /* IDT flag and the vector as the index: vector * 8 on hardware,
     * vector * 16 under QEMU TCG 7.2. */
    return error == 0x80 * 8 + 2 || error == 0x80 * 16 + 2;
}

static void vcpu1_main(void)
{
    struct hvg_trap_spec gp = { HVG_GP, 0, k_gp };

    if (hvg_traps_install(&gp, 1) != 0)
        hvg_printf("pv-syscalls: vCPU 1 could not register #GP\n");
    while (!__atomic_load_n(&fast_gate_open, __ATOMIC_ACQUIRE))
        hvg_yield();
    /* vCPU 0 ran last with its gate open; this vCPU must not inherit it. */
    uint64_t before = u_probe_runs;
    uint64_t r = fast_call(OP_PROBE, 0, 0);
    (void)r;
    if (u_probe_runs != before)
        hvg_printf("pv-syscalls: vCPU 1 entered vCPU 0's fast handler\n");
    __atomic_store_n(&vcpu1_done, 1, __ATOMIC_RELEASE);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    pv_name = "pv-syscalls";
    if (vcpu == 1) {
        vcpu1_main();
        return 0;
    }
    bool smap = cpu_has_smap();
    hvg_printf("pv-syscalls: CPU %s SMAP: hv_entries judged %s\n", smap ? "has" : "has no",
               smap ? "loosely (QEMU TCG makes hv complete gate and iretq accesses)" : "strictly");

    struct hvg_trap_spec gp = { HVG_GP, 0, k_gp };
    expect_eq("registering #GP", hvg_traps_install(&gp, 1), 0);
    struct hv_trap_info fast = { .vector = HV_FAST_TRAP_VECTOR, .flags = HV_TRAP_FAST,
                                 .handler = (uint64_t)(uintptr_t)fast_entry };
    expect_eq("registering the fast gate", hvg_set_trap_table(&fast, 1), 0);
    expect_eq("registering the syscall entry", hvg_syscall_install(k_syscall, 0), 0);
    expect_eq("registering the kernel stack", hvg_set_kernel_stack(pv_kernel_stack_top()), 0);

    /* Kernel mode: the fast gate works here too. */
    uint64_t wrong = 0, e0 = pv_hv_entries(0);
    for (uint64_t i = 0; i < CALLS; i++)
        if (fast_call(OP_MIX, i, i + 1) != compute(OP_MIX, i, i + 1))
            wrong++;
    uint64_t e1 = pv_hv_entries(0);
    expect_eq("kernel mode: fast calls give the function's results", (int64_t)wrong, 0);
    expect_eq("kernel mode: the fast handler saw cs = HV_KERNEL_CS", (int64_t)u_fast_cs, HV_KERNEL_CS);
    hvg_printf("pv-syscalls: kernel mode: %d fast calls moved hv_entries by %llu\n", CALLS,
               (unsigned long long)(e1 - e0));
    if (!smap)
        expect_true("kernel mode: fast calls did not enter hv (hv_entries moved <= 1: the read)",
                    e1 - e0 <= 1);
    else
        expect_true("kernel mode: hv_entries moved at most 2 per fast call (SMAP quirk)",
                    e1 - e0 <= 2 * CALLS + 1);
    e0 = pv_hv_entries(0);
    for (unsigned i = 0; i < CALLS; i++)
        hvg_hypercall0(HV_CALL_NOP);
    e1 = pv_hv_entries(0);
    expect_true("kernel mode: N hypercalls moved hv_entries by at least N", e1 - e0 >= CALLS);

    /* User mode. */
    int64_t space = pv_make_user_space(USER_STACK_TOP, 4);
    expect_true("a user space", space > 0);
    if (space <= 0)
        return pv_finish();
    expect_eq("selecting it", hvg_set_user_space((uint64_t)space), 0);
    __atomic_store_n(&fast_gate_open, 1, __ATOMIC_RELEASE);
    int64_t r = hvg_user_run(&context, (uint64_t)(uintptr_t)user_program, USER_STACK_TOP - 8,
                             CALLS);
    expect_eq("the user program ran to its exit", r, 0);
    expect_eq("user mode: all calls made", (int64_t)u_calls, CALLS);
    expect_eq("user mode: fast and bounced calls gave the same results", (int64_t)u_mismatches, 0);
    expect_eq("user mode: the fast handler saw cs = HV_USER_CS", (int64_t)u_fast_cs, HV_USER_CS);
    expect_eq("fast handler always ran with IF set (a trap gate)", (int64_t)u_fast_if_clear, 0);
    expect_eq("fast handler always ran on the caller's stack", (int64_t)u_fast_off_stack, 0);
    expect_eq("two marks taken", mark_count, 2);
    hvg_printf("pv-syscalls: user mode: %d fast calls between the marks moved hv_entries by %llu\n",
               CALLS, (unsigned long long)(marks[1] - marks[0]));
    /* Between the marks: the second mark's bounce and its vcpu_info read,
     * the first mark's HV_CALL_IRET back to user mode. */
    if (!smap)
        expect_true("user mode: fast calls did not enter hv (<= 3 entries: the markers)",
                    marks[1] - marks[0] <= 3);
    else
        expect_true("user mode: hv_entries moved at most 2 per fast call (SMAP quirk)",
                    marks[1] - marks[0] <= 2 * CALLS + 3);

    /* vCPU 1 has no fast gate. */
    while (!__atomic_load_n(&vcpu1_done, __ATOMIC_ACQUIRE))
        hvg_yield();
    expect_true("vCPU 1 (no fast entry): int $0x80 raised #GP naming vector 0x80",
                gp_vector_seen[1] == HVG_GP && gp_names_0x80(gp_error_seen[1]));
    expect_eq("vCPU 1 never ran vCPU 0's fast handler", (int64_t)u_probe_runs, 0);

    /* Taking the entry away closes the gate. */
    struct hv_trap_info remove = { .vector = HV_FAST_TRAP_VECTOR, .flags = 0, .handler = 0 };
    expect_eq("removing the fast entry", hvg_set_trap_table(&remove, 1), 0);
    gp_vector_seen[0] = 0;
    fast_call(OP_MIX, 1, 2);
    expect_true("int $0x80 after removal raised #GP", gp_vector_seen[0] == HVG_GP &&
                                                          gp_names_0x80(gp_error_seen[0]));
    return pv_finish();
}
