/* Xen-ABI hostile guest against M2's calls: 3000 user-mode round trips
 * (iret to user mode, `syscall` to its callback, back with
 * VGCF_in_syscall, `int $0x20` home), grant setup_table 3000 times (one
 * frame, once), 3000 alloc_unbound/close pairs, 3000 failsafe entries,
 * user-mode `int` on vectors its table does not allow, a multicall of
 * 512 multicalls of itself, a multicall over its page tables; then its
 * stack_switch stack pointed at its own read-only page tables and a
 * `syscall` from user mode, which hv cannot deliver: the guest ends ("no
 * kernel stack"), alone, and its frames all come back. */
#include "tests/guests/xen/xen_guest.h"

#define ROUNDS 3000

extern char trap_gp[], to_kernel[], syscall_cb[], failsafe_cb[], user_loop[], user_ints[];
void enter_user(uint64_t rip, uint64_t rsp);
void iret_bad_cs(void);

uint64_t kernel_resume_rsp;
volatile uint64_t syscalls_seen;
static uint8_t user_stack[8192] __attribute__((aligned(16)));
static uint8_t kernel_stack[8192] __attribute__((aligned(16)));

__asm__(".globl enter_user\n"
        "enter_user:\n"
        "  push %rbp; push %rbx; push %r12; push %r13; push %r14; push %r15\n"
        "  mov %rsp, kernel_resume_rsp(%rip)\n"
        "  push $0xe02b; push %rsi; push $0x202; push $0xe033; push %rdi; push $0\n"
        "  jmp hypercall_page + 23 * 32\n"
        ".globl to_kernel, failsafe_cb\n"
        "to_kernel:\n"
        "failsafe_cb:\n"
        "  mov kernel_resume_rsp(%rip), %rsp\n"
        "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbx; pop %rbp\n"
        "  ret\n"
        ".globl syscall_cb\n"
        "syscall_cb:\n"
        "  incq syscalls_seen(%rip)\n"
        "  pop %rcx; pop %r11\n"
        "  push $0x100\n"
        "  jmp hypercall_page + 23 * 32\n"
        ".globl iret_bad_cs\n"
        "iret_bad_cs:\n"
        "  push %rbp; push %rbx; push %r12; push %r13; push %r14; push %r15\n"
        "  mov %rsp, kernel_resume_rsp(%rip)\n"
        "  lea 1f(%rip), %rax\n"
        "  push $0x1b; push %rsp; push $0x2; push $0x23; push %rax; push $0\n"
        "  jmp hypercall_page + 23 * 32\n"
        "1: ud2\n"
        /* user mode: one syscall, home */
        ".globl user_loop\n"
        "user_loop:\n"
        "  syscall\n"
        "  int $0x20\n"
        /* user mode: int n on 13 vectors its table gives no DPL-3 entry
         * (0x80's is DPL 1), each a #GP (the handler resumes at the next
         * one), then home. */
        ".globl user_ints\n"
        "user_ints:\n"
        "  .irp n, 0x21,0x22,0x30,0x40,0x80,0x81,0x82,0xf0,0xfe,0xff,0x0d,0x0e,0x06\n"
        "  lea 1f(%rip), %rax; mov %rax, trap_resume(%rip)\n"
        "  int $\\n\n"
        "1:\n"
        "  .endr\n"
        "  int $0x20\n");

static uint64_t user_top(void)
{
    return (uint64_t)user_stack + sizeof(user_stack);
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    static struct xen_trap_info table[] = {
        TRAP_ENTRY(13, 0, trap_gp),
        TRAP_ENTRY(0x20, 3, to_kernel),
        TRAP_ENTRY(0x80, 1, to_kernel), /* DPL 1: kernel mode only */
        TRAP_END,
    };
    check(hcall(XEN_HC_set_trap_table, (uint64_t)table, 0, 0) == 0, "set_trap_table", "refused");
    uint64_t kstack = (uint64_t)kernel_stack + sizeof(kernel_stack);
    check(hcall(XEN_HC_stack_switch, 0xe02b, kstack, 0) == 0, "stack_switch", "refused");
    struct xen_callback_register cb = {XEN_CALLBACKTYPE_syscall, 0, 0, (uint64_t)syscall_cb};
    check(hcall(XEN_HC_callback_op, XEN_CALLBACKOP_register, (uint64_t)&cb, 0) == 0,
          "the syscall callback", "refused");
    struct xen_callback_register fs = {XEN_CALLBACKTYPE_failsafe, 0, 0, (uint64_t)failsafe_cb};
    check(hcall(XEN_HC_callback_op, XEN_CALLBACKOP_register, (uint64_t)&fs, 0) == 0,
          "the failsafe callback", "refused");
    struct xen_mmuext_op op = {.cmd = 15 /* NEW_USER_BASEPTR */, .arg1 = si->pt_base >> 12};
    check(hcall4(XEN_HC_mmuext_op, (uint64_t)&op, 1, 0, XEN_DOMID_SELF) == 0, "the user root",
          "refused");

    for (int i = 0; i < ROUNDS; i++)
        enter_user((uint64_t)user_loop, user_top());
    check(syscalls_seen == ROUNDS, "3000 user-mode round trips with a syscall each", "%lu",
          (unsigned long)syscalls_seen);

    uint64_t before = trap_count;
    enter_user((uint64_t)user_ints, user_top());
    check(trap_count - before == 13 && trap_vector == 13,
          "int on vectors its table does not allow from user mode (DPL-1 0x80 too): each a #GP",
          "%lu traps", (unsigned long)(trap_count - before));

    struct { uint16_t dom; uint32_t nr; int16_t status; uint64_t list; } s = {XEN_DOMID_SELF, 1, 0, 0};
    uint64_t frame = 0, same = 1;
    s.list = (uint64_t)&frame;
    for (int i = 0; i < ROUNDS; i++) {
        s.status = 7;
        same &= hcall(XEN_HC_grant_table_op, 2, (uint64_t)&s, 1) == 0 && s.status == 0 &&
                frame == 0x80000001;
    }
    check(same, "grant setup_table 3000 times: the same frame each time", "frame 0x%lx",
          (unsigned long)frame);

    struct { uint16_t dom, remote; uint32_t port; } a = {XEN_DOMID_SELF, XEN_DOMID_SELF, 0};
    int pairs = 0;
    for (int i = 0; i < ROUNDS; i++)
        pairs += hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_alloc_unbound, (uint64_t)&a, 0) == 0 &&
                 a.port == 2 &&
                 hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_close, (uint64_t)&a.port, 0) == 0;
    check(pairs == ROUNDS, "3000 alloc_unbound/close pairs, port 2 each time", "%d", pairs);

    static struct xen_multicall_entry self[512];
    for (int i = 0; i < 512; i++)
        self[i] = (struct xen_multicall_entry){XEN_HC_multicall, 0, {(uint64_t)self, 512}};
    int nested = hcall(XEN_HC_multicall, (uint64_t)self, 512, 0) == 0;
    for (int i = 0; i < 512; i++)
        nested &= self[i].result == (uint64_t)-XEN_EINVAL;
    check(nested, "a multicall of 512 multicalls of itself: each -EINVAL, no recursion", "other");
    check(hcall(XEN_HC_multicall, si->pt_base, 4, 0) == -XEN_EFAULT,
          "a multicall whose results would land in its page tables -EFAULT", "other");

    for (int i = 0; i < ROUNDS; i++)
        iret_bad_cs(); /* hv's own selectors 0x23/0x1b are not Xen's: the failsafe each time */
    check(1, "3000 irets with hv's selectors 0x23/0x1b: the failsafe callback each time", "-");

    if (checks_failed == 0)
        xprint("xen-user-hostile: all %u checks passed\n", checks_run);
    else
        xprint("xen-user-hostile: %u of %u checks failed\n", checks_failed, checks_run);
    /* Its kernel stack in its own read-only page tables: a syscall from
     * user mode cannot be delivered. */
    check(hcall(XEN_HC_stack_switch, 0xe02b, si->pt_base + 4096, 0) == 0,
          "stack_switch into its page tables (accepted, as Xen does)", "refused");
    enter_user((uint64_t)user_loop, user_top());
    xprint("xen-user-hostile: still running\n");
    shutdown(XEN_SHUTDOWN_poweroff);
}
