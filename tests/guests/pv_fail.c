/* Deliveries hv cannot make end the guest with a report; hv itself must
 * not fault. One image, several ways, chosen by the guest's name (the
 * system test puts copies of the image on the ESP under these names):
 *   pv-fail-stack      a #UD handler unmaps its own stack; its next push
 *                      faults, and the #PF cannot be delivered there
 *   pv-fail-handler    the #UD entry points into data (not executable)
 *   pv-fail-kstack     user mode makes a system call; the registered
 *                      kernel stack is not mapped
 *   pv-fail-nokstack   the same with no kernel stack registered at all
 *   pv-fail-nosyscall  user mode makes a system call; no entry registered
 *   pv-fail-unhandled  only #BP has an entry; ud2 ends the guest as an
 *                      unhandled #UD (as without a trap table)
 * Reaching the end prints "pv-fail: FAILED: survived" and exits 1. */
#include "pv_common.h"

HV_GUEST_NOTE("", HVG_MIB(1), 1, 0);

#define STACK_PAGE 0x0000500000000000ull
#define USER_STACK_TOP 0x0000700000000000ull

static const char *name;

static void on_ud_unmapping_its_stack(struct hvg_trap_frame *f)
{
    hvg_printf("%s: #UD handler running on 0x%llx: unmapping that stack\n", name,
               (unsigned long long)(uintptr_t)f);
    hvg_mem_unmap(HV_SPACE_KERNEL, STACK_PAGE, 1);
    f->rip += 2; /* its own frame is gone: the next stack access faults */
}

static void on_other(struct hvg_trap_frame *f)
{
    hvg_trap_dump("pv-fail: a trap that should not have been deliverable", f);
    hvg_exit(2);
}

static void register_all(hvg_trap_fn *ud)
{
    struct hvg_trap_spec specs[32];
    for (unsigned v = 0; v < 32; v++)
        specs[v] = (struct hvg_trap_spec){ v, 0, v == HVG_UD ? ud : on_other };
    if (hvg_traps_install(specs, 32) != 0)
        hvg_printf("%s: registering the trap table failed\n", name);
}

static void fail_stack(void)
{
    register_all(on_ud_unmapping_its_stack);
    if (hvg_mem_map(HV_SPACE_KERNEL, STACK_PAGE, 1, 0, HV_PROT_READ | HV_PROT_WRITE) != 0)
        hvg_printf("%s: mapping the stack page failed\n", name);
    hvg_printf("%s: ud2 on a stack of one page, whose handler unmaps it; expect the guest to "
               "end: #PF cannot be delivered\n", name);
    __asm__ volatile("mov %%rsp, %%rbx\n\t"
                     "mov %[top], %%rsp\n\t"
                     "ud2\n\t"
                     "mov %%rbx, %%rsp"
                     : : [top] "r"(STACK_PAGE + PAGE) : "rbx", "memory");
}

static uint8_t not_code[64] __attribute__((aligned(64)));

static void fail_handler(void)
{
    struct hv_trap_info e = { .vector = HVG_UD, .handler = (uint64_t)(uintptr_t)not_code };
    if (hvg_set_trap_table(&e, 1) != 0)
        hvg_printf("%s: registering failed\n", name);
    hvg_printf("%s: ud2 with the #UD handler in a data page; expect the guest to end\n", name);
    __asm__ volatile("ud2");
}

/* The user program: one system call. */
extern char u_syscall[];
__asm__(".pushsection .user.text, \"ax\", @progbits\n"
        "u_syscall:\n"
        "    mov $60, %eax\n"
        "    syscall\n"
        "    ud2\n"
        ".popsection\n");

static struct hvg_user_context context;

static void on_syscall(struct hvg_trap_frame *f)
{
    hvg_user_return(f, &context, 0);
}

static void fail_user(bool syscall_entry, uint64_t kernel_stack, const char *expect)
{
    register_all(on_other);
    if (syscall_entry && hvg_syscall_install(on_syscall, 0) != 0)
        hvg_printf("%s: registering the syscall entry failed\n", name);
    if (kernel_stack && hvg_set_kernel_stack(kernel_stack) != 0)
        hvg_printf("%s: setting the kernel stack failed\n", name);
    int64_t space = pv_make_user_space(USER_STACK_TOP, 1);
    if (space <= 0 || hvg_set_user_space((uint64_t)space) != 0)
        hvg_printf("%s: no user space\n", name);
    hvg_printf("%s: a system call from user mode; expect the guest to end: %s\n", name, expect);
    hvg_user_run(&context, (uint64_t)(uintptr_t)u_syscall, USER_STACK_TOP - 8, 0);
}

static void on_bp(struct hvg_trap_frame *f)
{
    (void)f;
}

static void fail_unhandled(void)
{
    struct hvg_trap_spec bp = { HVG_BP, 0, on_bp };
    if (hvg_traps_install(&bp, 1) != 0)
        hvg_printf("%s: registering #BP failed\n", name);
    __asm__ volatile("int3");
    hvg_printf("%s: int3 handled; now ud2, which has no entry: expect the guest to end\n", name);
    __asm__ volatile("ud2");
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    name = si->name;
    pv_name = name;
    if (strcmp(name, "pv-fail-handler") == 0)
        fail_handler();
    else if (strcmp(name, "pv-fail-kstack") == 0)
        fail_user(true, 0x10000000, "the kernel stack is not writable");
    else if (strcmp(name, "pv-fail-nokstack") == 0)
        fail_user(true, 0, "no kernel stack registered");
    else if (strcmp(name, "pv-fail-nosyscall") == 0)
        fail_user(false, pv_kernel_stack_top(), "no system-call entry");
    else if (strcmp(name, "pv-fail-unhandled") == 0)
        fail_unhandled();
    else
        fail_stack();
    hvg_printf("%s: FAILED: survived\n", name);
    return 1;
}
