/* bench-main's figures of the paravirtual CPU: the #UD and #PF round trips,
 * the fast gate (int $0x80) and the system call bounced from user mode. */
#include "bench/guests/main/figures.h"

/* --- the paravirtual CPU (include/hv/abi_cpu.h) ------------------------------
 * The handlers are the least a guest kernel's handler can be, in asm: move
 * the return past the instruction where needed, then return. Returning
 * through HV_CALL_IRET (what a real handler does: it restores the event mask
 * and can change mode) pushes struct hv_iret_frame's flags, r11, rcx and rax
 * on top of the native frame and makes the hypercall, which comes back only
 * with an error. The SDK's C-handler stubs (guest/lib/trap_entry.S) would add
 * their register saving and C dispatch to every figure. */
_Static_assert(HV_FAST_TRAP_VECTOR == 0x80, "sample_syscall_fast raises int $0x80");

void bench_ud_iret(void), bench_ud_iretq(void), bench_pf_iret(void), bench_fast_iretq(void),
    bench_syscall_iret(void);
void bench_iret_failed(int64_t error);
/* The #PF handler reads cr2 from the shared page (bench_cr2_slot) and
 * leaves it in bench_pf_cr2 for the sample to check. */
volatile uint64_t *bench_cr2_slot;
volatile uint64_t bench_pf_cr2;

__asm__(".pushsection .text\n"
        /* #UD: past the 2-byte ud2, back through HV_CALL_IRET or iretq. */
        "bench_ud_iret:\n\taddq $2, (%rsp)\n\t" IRET_FRAME IRET_CALL
        "bench_ud_iretq:\n\taddq $2, (%rsp)\n\tiretq\n"
        /* #PF: drop the error code, skip the 2-byte load, note cr2. */
        "bench_pf_iret:\n\tadd $8, %rsp\n\taddq $2, (%rsp)\n\t" IRET_FRAME
        "mov bench_cr2_slot(%rip), %rax\n\tmov (%rax), %rax\n\tmov %rax, bench_pf_cr2(%rip)\n\t"
        IRET_CALL
        /* The fast gate: the CPU's own frame, the CPU's own return. */
        "bench_fast_iretq:\n\tiretq\n"
        /* `syscall` from user mode: rcx and r11 hold the return rip and
         * rflags; give them and rax back unchanged, to user mode. */
        "bench_syscall_iret:\n\t" IRET_FRAME IRET_CALL
        ".popsection\n");

void bench_iret_failed(int64_t error)
{
    hvg_printf("bench: error name=HV_CALL_IRET reason=\"a handler's return failed\" "
               "result=%lld\n", (long long)error);
    hvg_exit(1);
}

static const char *set_trap(unsigned vector, uint8_t flags, void (*handler)(void))
{
    struct hv_trap_info t = { .vector = (uint8_t)vector, .flags = flags,
                              .handler = (uint64_t)(uintptr_t)handler };

    last_result = hvg_set_trap_table(&t, 1);
    return last_result == 0 ? NULL : "HV_CALL_SET_TRAP_TABLE failed";
}

/* --- trap_ud_roundtrip(_iretq): ud2 -> hv -> the #UD handler -> past it ---- */

const char *ud_iret_before(void)
{
    return set_trap(HVG_UD, HV_TRAP_MASK_EVENTS, bench_ud_iret);
}

const char *ud_iretq_before(void)
{
    /* iretq cannot unmask events, so the handler runs with them unmasked. */
    return set_trap(HVG_UD, 0, bench_ud_iretq);
}

static const char *trap_after(unsigned vector)
{
    if (hvg_shared()->vcpu[0].upcall_mask)
        return "events stayed masked after the handlers returned";
    return set_trap(vector, 0, NULL);
}

const char *ud_after(void)
{
    return trap_after(HVG_UD);
}

uint64_t __attribute__((noinline)) sample_trap_ud(void)
{
    uint64_t t0 = bench_tsc();
    __asm__ volatile("ud2" : : : "memory");
    uint64_t t1 = bench_tsc();

    return t1 - t0;
}

/* --- trap_pf_roundtrip: a load from an unmapped page -> hv -> the #PF
 * handler (cr2 from the shared page) -> past the load ---------------------- */

#define UNMAPPED_VA 0x1000 /* below HV_GUEST_IMAGE_MIN: never mapped */

const char *pf_before(void)
{
    bench_cr2_slot = &hvg_shared()->vcpu[0].cr2;
    return set_trap(HVG_PF, HV_TRAP_MASK_EVENTS, bench_pf_iret);
}

const char *pf_after(void)
{
    return trap_after(HVG_PF);
}

uint64_t __attribute__((noinline)) sample_trap_pf(void)
{
    uint64_t va = UNMAPPED_VA;
    uint32_t value;

    bench_pf_cr2 = 0;
    __asm__ volatile("" : "+S"(va)); /* the address in place before the first rdtsc */
    uint64_t t0 = bench_tsc();
    /* Always the 2 bytes 8b 06, which the handler skips. */
    __asm__ volatile("movl (%%rsi), %%eax" : "=a"(value) : "S"(va) : "memory");
    uint64_t t1 = bench_tsc();

    (void)value;
    last_result = (int64_t)bench_pf_cr2;
    return bench_pf_cr2 == UNMAPPED_VA ? t1 - t0 : SAMPLE_FAILED;
}

/* --- syscall_fast: int $0x80 through the vCPU's DPL-3 gate -> iretq --------
 * No hv on the path, which the vCPU's hv_entries shows: read before the
 * first and after the last call, less the reading hypercall itself. Only in
 * boot d: under QEMU with SMAP, hv completes both halves (vcpu/smap_quirk.c). */

static uint64_t fast_entries_start;
uint64_t fast_hv_entries;

static uint64_t hv_entries(void)
{
    struct hv_vcpu_info info = { 0 };

    last_result = hvg_vcpu_info(0, &info);
    return info.hv_entries;
}

const char *fast_before(void)
{
    const char *why = set_trap(HV_FAST_TRAP_VECTOR, HV_TRAP_FAST, bench_fast_iretq);

    fast_entries_start = hv_entries();
    return why ? why : last_result ? "HV_CALL_VCPU_INFO failed" : NULL;
}

const char *fast_after(void)
{
    fast_hv_entries = hv_entries() - fast_entries_start - 1;
    if (last_result)
        return "HV_CALL_VCPU_INFO failed";
    return set_trap(HV_FAST_TRAP_VECTOR, 0, NULL);
}

uint64_t __attribute__((noinline)) sample_syscall_fast(void)
{
    uint64_t t0 = bench_tsc();
    __asm__ volatile("int $0x80" : : : "memory");
    uint64_t t1 = bench_tsc();

    return t1 - t0;
}

/* --- syscall_bounce: `syscall` in guest user mode -> hv -> the guest kernel's
 * handler -> HV_CALL_IRET back to user mode ----------------------------------
 * The whole loop runs in user mode, once, in the figure's `before`: a user
 * space that maps this image's .user.text and .user.data at their own
 * addresses (aliases of the kernel's pages), a kernel stack and a system-call
 * handler, then in through HV_CALL_IRET (hvg_user_run) and back out with
 * int3, whose SDK handler returns to hvg_user_run's caller. The samples stay
 * in .user.data, which the kernel reads: the sample function hands them to
 * the harness in the order they were taken. */

#define BOUNCE_SAMPLES (BENCH_WARMUP + BENCH_ITERATIONS)
#define BOUNCE_NR 0x42 /* any number: the handler gives rax back unchanged */

static uint64_t HVG_USER_DATA bounce_samples[BOUNCE_SAMPLES];
static uint8_t HVG_USER_DATA __attribute__((aligned(16))) user_stack[4096];
static uint8_t __attribute__((aligned(16))) kernel_stack[16384]; /* entries from user mode */
static struct hvg_user_context user_context;
static unsigned bounce_next;

static void HVG_USER_TEXT __attribute__((noreturn)) user_syscall_loop(uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t nr = BOUNCE_NR;
        uint64_t t0 = bench_tsc();
        __asm__ volatile("syscall" : "+a"(nr) : : "rcx", "r11", "memory");
        uint64_t t1 = bench_tsc();
        bounce_samples[i] = nr == BOUNCE_NR ? t1 - t0 : SAMPLE_FAILED;
    }
    __asm__ volatile("int3"); /* to user_loop_done */
    __builtin_unreachable();
}

static void user_loop_done(struct hvg_trap_frame *f)
{
    hvg_user_return(f, &user_context, 0);
}

static int64_t alias_into(int64_t space, const char *start, const char *end, uint64_t prot)
{
    uint64_t va = (uint64_t)(uintptr_t)start;
    return hvg_mem_map((uint64_t)space, va, (uint64_t)(end - start) / 4096, va, prot);
}

const char *bounce_before(void)
{
    const struct hvg_trap_spec done = { HVG_BP, 0, user_loop_done };
    int64_t space = hvg_user_space_create();

    if ((last_result = space) < 0)
        return "HV_CALL_USER_SPACE_CREATE failed";
    if ((last_result = alias_into(space, hvg_user_text_start, hvg_user_text_end,
                                  HV_PROT_READ | HV_PROT_EXEC)) != 0 ||
        (last_result = alias_into(space, hvg_user_data_start, hvg_user_data_end,
                                  HV_PROT_READ | HV_PROT_WRITE)) != 0)
        return "HV_CALL_MEM_MAP failed";
    if ((last_result = hvg_set_user_space((uint64_t)space)) != 0 ||
        (last_result = hvg_set_kernel_stack((uint64_t)(uintptr_t)(kernel_stack +
                                                                  sizeof(kernel_stack)))) != 0 ||
        (last_result = hvg_set_syscall((uint64_t)(uintptr_t)bench_syscall_iret, 0)) != 0 ||
        (last_result = hvg_traps_install(&done, 1)) != 0)
        return "registering the entries from user mode failed";
    /* rsp as after a call, as the C ABI expects at a function's entry. */
    last_result = hvg_user_run(&user_context, (uint64_t)(uintptr_t)user_syscall_loop,
                               (uint64_t)(uintptr_t)(user_stack + sizeof(user_stack)) - 8,
                               BOUNCE_SAMPLES);
    bounce_next = 0;
    return last_result == 0 ? NULL : "the user-mode loop did not come back";
}

uint64_t __attribute__((noinline)) sample_syscall_bounce(void)
{
    return bounce_next < BOUNCE_SAMPLES ? bounce_samples[bounce_next++] : SAMPLE_FAILED;
}
