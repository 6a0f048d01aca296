/* Xen-ABI test guest: guest user mode as a Xen PV kernel uses it (what
 * XTF's exec_user and a PV kernel's processes need), checked from inside:
 * HYPERVISOR_iret to CS 0xe033 with a user root (MMUEXT_NEW_USER_BASEPTR
 * of its one root), user mode on Xen's selectors, `syscall` from user mode
 * to the syscall callback (frame, DF cleared, HYPERVISOR_iret back with
 * VGCF_in_syscall), `int $0x20` through a DPL-3 trap entry back to kernel
 * mode on the stack_switch stack, `int` through a DPL-0 entry from user
 * mode a #GP with Xen's error code, a #PF from user mode with the U bit
 * and from kernel mode without it, `mov %cr3` refused in user mode, a
 * hypercall stub called from user mode reaching the syscall callback and
 * not hv, no syscall callback: #UD at the `syscall`; after a hypercall the
 * kernel runs on 0xe033/0xe02b (not hv's 0x23/0x1b); the grant table's
 * setup_table, query_size and its frame mapped; event-channel ports
 * (alloc_unbound to -ENOSPC, close, reuse, refusals, init_control);
 * multicall (results, pieces, an entry continued inside, nested, iret);
 * sgdt/sidt emulated under UMIP in four addressing forms; the
 * failsafe callback for
 * an iret with other selectors. Last, an iret to user mode with no user
 * root, which ends the guest ("no user root"). */
#include "tests/guests/xen/xen_guest.h"

#include "lib/string.h"

#define NOWHERE 0x00007f0000000000ULL
#define RESULT 0x5ca1ab1eULL

extern char to_kernel[], syscall_cb[], failsafe_cb[], user_main[], user_syscall_insn[],
    user_int21[], user_cr3[], user_pf[], user_hcall[], user_nocb_insn[], user_nocb[];
void enter_user(uint64_t rip, uint64_t rsp);
void iret_bad_cs(void);

/* Written by the user-mode code and the handlers below (all in one space:
 * the user root is the kernel's, as XTF runs it). */
volatile uint64_t user_cs, user_ss, user_result, user_cs_after, user_cr3_vector, user_pf_ec,
    user_gp_ec, user_gp_cs, user_hcall_result;
volatile uint64_t sys_frame[2][8], sys_rax[2], sys_rflags[2], sys_n, back_frame[7], back_rsp, fs_frame[11];
/* What %gs:0 read in user mode, in the syscall callback, back in the kernel. */
volatile uint64_t user_gs, sys_gs, back_gs;
static const uint64_t kernel_pda = 0x4b45524e454c4753ULL, user_pda = 0x5553455247534753ULL,
                      selector_pda = 0x53454c4543544f52ULL;
uint64_t kernel_resume_rsp;
static uint8_t user_stack[8192] __attribute__((aligned(16)));
static uint8_t kernel_stack[8192] __attribute__((aligned(16)));
static uint8_t grant_page[4096] __attribute__((aligned(4096)));

__asm__(
    /* enter_user(rip, rsp): HYPERVISOR_iret to user mode; to_kernel comes
     * back here, on the saved stack. */
    ".globl enter_user\n"
    "enter_user:\n"
    "  push %rbp; push %rbx; push %r12; push %r13; push %r14; push %r15\n"
    "  mov %rsp, kernel_resume_rsp(%rip)\n"
    "  push $0xe02b\n"          /* ss */
    "  push %rsi\n"             /* rsp */
    "  push $0x202\n"           /* rflags: IF (events unmasked) */
    "  push $0xe033\n"          /* cs: RPL 3, user mode */
    "  push %rdi\n"             /* rip */
    "  push $0\n"               /* flags */
    "  jmp hypercall_page + 23 * 32\n"
    /* int $0x20 (a DPL-3 entry) from user mode: Xen's frame on the
     * stack_switch stack, kept; then back into enter_user's caller. */
    ".globl to_kernel\n"
    "to_kernel:\n"
    "  mov %gs:0, %rax; mov %rax, back_gs(%rip)\n"
    "  mov %rsp, back_rsp(%rip)\n"
    "  xor %ecx, %ecx\n"
    "1: mov (%rsp, %rcx, 8), %rax; lea back_frame(%rip), %rdx; mov %rax, (%rdx, %rcx, 8)\n"
    "  inc %ecx; cmp $7, %ecx; jne 1b\n"
    "  mov kernel_resume_rsp(%rip), %rsp\n"
    "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbx; pop %rbp\n"
    "  ret\n"
    /* The syscall callback: its frame kept, the user's rax and rflags as
     * the handler sees them; back with rax = RESULT, VGCF_in_syscall. */
    ".globl syscall_cb\n"
    "syscall_cb:\n"
    "  push %rax; mov %gs:0, %rax; mov %rax, sys_gs(%rip); pop %rax\n"
    "  mov sys_n(%rip), %rdx\n"          /* record 0, then 1 for all later calls */
    "  lea sys_rax(%rip), %rcx; mov %rax, (%rcx, %rdx, 8)\n"
    "  pushfq; lea sys_rflags(%rip), %rcx; popq (%rcx, %rdx, 8)\n"
    "  shl $6, %rdx; lea sys_frame(%rip), %rcx; add %rcx, %rdx\n"
    "  xor %ecx, %ecx\n"
    "1: mov (%rsp, %rcx, 8), %rax; mov %rax, (%rdx, %rcx, 8)\n"
    "  inc %ecx; cmp $7, %ecx; jne 1b\n"
    "  movq $1, sys_n(%rip)\n"
    "  pop %rcx; pop %r11\n"
    "  mov $0x5ca1ab1e, %eax\n"
    "  push $0x100\n"           /* VGCF_in_syscall */
    "  jmp hypercall_page + 23 * 32\n"
    /* The failsafe callback: its 11 words kept, back to the kernel. */
    ".globl failsafe_cb\n"
    "failsafe_cb:\n"
    "  xor %ecx, %ecx\n"
    "1: mov (%rsp, %rcx, 8), %rax; lea fs_frame(%rip), %rdx; mov %rax, (%rdx, %rcx, 8)\n"
    "  inc %ecx; cmp $11, %ecx; jne 1b\n"
    "  mov kernel_resume_rsp(%rip), %rsp\n"
    "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbx; pop %rbp\n"
    "  ret\n"
    /* HYPERVISOR_iret with CS 0x0033 (hv's idea of nothing Xen has). */
    ".globl iret_bad_cs\n"
    "iret_bad_cs:\n"
    "  push %rbp; push %rbx; push %r12; push %r13; push %r14; push %r15\n"
    "  mov %rsp, kernel_resume_rsp(%rip)\n"
    "  lea 1f(%rip), %rax\n"
    "  push $0xe02b; push %rsp; push $0x2; push $0x0030; push %rax; push $0\n"
    "  jmp hypercall_page + 23 * 32\n"
    "1: ud2\n"
    /* User mode: its selectors, a syscall round trip, the selectors
     * after it, int through a DPL-0 entry, mov %cr3, a #PF, a hypercall
     * stub, back to kernel mode with int $0x20. */
    ".globl user_main, user_syscall_insn, user_int21, user_cr3, user_pf, user_hcall\n"
    "user_main:\n"
    "  mov %gs:0, %rax; mov %rax, user_gs(%rip)\n"
    "  mov %cs, %rax; mov %rax, user_cs(%rip)\n"
    "  mov %ss, %rax; mov %rax, user_ss(%rip)\n"
    "  std\n"                   /* the callback must see DF clear */
    "  mov $0x77, %eax\n"
    "user_syscall_insn:\n"
    "  syscall\n"
    "  cld\n"
    "  mov %rax, user_result(%rip)\n"
    "  mov %cs, %rax; mov %rax, user_cs_after(%rip)\n"
    "  lea 1f(%rip), %rax; mov %rax, trap_resume(%rip)\n"
    "user_int21:\n"
    "  int $0x21\n"
    "1: mov trap_seen + 16(%rip), %rax; mov %rax, user_gp_ec(%rip)\n"
    "  mov trap_seen + 32(%rip), %rax; mov %rax, user_gp_cs(%rip)\n"
    "  lea 1f(%rip), %rax; mov %rax, trap_resume(%rip)\n"
    "user_cr3:\n"
    "  mov %cr3, %rax\n"
    "1: mov trap_vector(%rip), %rax; mov %rax, user_cr3_vector(%rip)\n"
    "  lea 1f(%rip), %rax; mov %rax, trap_resume(%rip)\n"
    "  movabs $0x00007f0000000000, %rax\n"
    "user_pf:\n"
    "  mov (%rax), %rax\n"
    "1: mov trap_seen + 16(%rip), %rax; mov %rax, user_pf_ec(%rip)\n"
    /* A hypercall stub (sched_op shutdown) from user mode: the syscall
     * callback's, never hv's. */
    "  mov $29, %eax\n"
    "  lea hypercall_page + 29 * 32(%rip), %rax\n"
    "  mov $2, %edi\n"          /* SCHEDOP_shutdown */
    "  xor %esi, %esi\n"
    "user_hcall:\n"
    "  call *%rax\n"
    "  mov %rax, user_hcall_result(%rip)\n"
    "  int $0x20\n"
    /* With no syscall callback: #UD at the syscall. */
    ".globl user_nocb, user_nocb_insn\n"
    "user_nocb:\n"
    "  lea 1f(%rip), %rax; mov %rax, trap_resume(%rip)\n"
    "user_nocb_insn:\n"
    "  syscall\n"
    "1: int $0x20\n");

static long user_root(uint64_t mfn)
{
    struct xen_mmuext_op op;
    memset(&op, 0, sizeof(op));
    op.cmd = 15; /* NEW_USER_BASEPTR */
    op.arg1 = mfn;
    return hcall4(XEN_HC_mmuext_op, (uint64_t)&op, 1, 0, XEN_DOMID_SELF);
}

static long callback(unsigned type, uint64_t address, uint16_t flags)
{
    struct xen_callback_register cb = {type, flags, 0, address};
    return hcall(XEN_HC_callback_op, address ? XEN_CALLBACKOP_register : XEN_CALLBACKOP_unregister,
                 (uint64_t)&cb, 0);
}

static uint64_t user_top(void)
{
    return (uint64_t)user_stack + sizeof(user_stack);
}

static void user_mode(const struct xen_start_info *si)
{
    static struct xen_trap_info table[] = {
        TRAP_UD_GP_PF, TRAP_ENTRY(0x20, 3, to_kernel), TRAP_ENTRY(0x21, 0, to_kernel), TRAP_END,
    };
    check(hcall(XEN_HC_set_trap_table, (uint64_t)table, 0, 0) == 0, "set_trap_table", "refused");
    uint64_t kstack = (uint64_t)kernel_stack + sizeof(kernel_stack);
    check(hcall(XEN_HC_stack_switch, 0xe02b, kstack, 0) == 0, "stack_switch", "refused");
    check(callback(XEN_CALLBACKTYPE_syscall, (uint64_t)syscall_cb, XEN_CALLBACKF_mask_events) == 0,
          "callback_op: the syscall callback", "refused");
    check(user_root(si->pt_base >> 12) == 0, "mmuext_op: NEW_USER_BASEPTR of its root", "refused");

    /* Xen's two GS bases: GS_BASE the kernel's, SHADOW_GS_BASE user mode's,
     * swapped at every mode change. */
    __asm__ volatile("wrmsr" : : "c"(0xc0000101), "a"((uint32_t)(uint64_t)&kernel_pda),
                     "d"((uint32_t)((uint64_t)&kernel_pda >> 32)));
    __asm__ volatile("wrmsr" : : "c"(0xc0000102), "a"((uint32_t)(uint64_t)&user_pda),
                     "d"((uint32_t)((uint64_t)&user_pda >> 32)));
    enter_user((uint64_t)user_main, user_top());
    check(user_gs == user_pda && sys_gs == kernel_pda && back_gs == kernel_pda,
          "GS base: the user's in user mode, the kernel's in the callback and back",
          "user 0x%lx callback 0x%lx back 0x%lx", (unsigned long)user_gs, (unsigned long)sys_gs,
          (unsigned long)back_gs);
    check(user_cs == 0xe033 && user_ss == 0xe02b, "user mode runs on 0xe033/0xe02b",
          "cs 0x%lx ss 0x%lx", (unsigned long)user_cs, (unsigned long)user_ss);
    check(sys_rax[0] == 0x77 && user_result == RESULT, "syscall from user mode: the callback, and back",
          "rax in the callback 0x%lx, result 0x%lx", (unsigned long)sys_rax[0],
          (unsigned long)user_result);
    uint64_t after = (uint64_t)user_syscall_insn + 2;
    check(sys_frame[0][0] == after && sys_frame[0][2] == after && (uint16_t)sys_frame[0][3] == 0xe033 &&
              sys_frame[0][6] == 0xe02b && sys_frame[0][5] <= user_top() && sys_frame[0][5] > user_top() - 64,
          "syscall callback frame: rcx = rip after the syscall, cs 0xe033, the user rsp, ss",
          "rcx 0x%lx rip 0x%lx cs 0x%lx rsp 0x%lx ss 0x%lx", (unsigned long)sys_frame[0][0],
          (unsigned long)sys_frame[0][2], (unsigned long)sys_frame[0][3], (unsigned long)sys_frame[0][5],
          (unsigned long)sys_frame[0][6]);
    check((sys_frame[0][4] & (1u << 10)) && !(sys_rflags[0] & (1u << 10)),
          "the frame keeps the user's DF; the callback runs with DF clear", "frame 0x%lx now 0x%lx",
          (unsigned long)sys_frame[0][4], (unsigned long)sys_rflags[0]);
    check(sys_frame[0][3] >> 32 == 0 && (sys_frame[0][4] & (1u << 9)),
          "syscall callback frame: events were unmasked (mask 0 in the cs slot, IF set)",
          "cs slot 0x%lx rflags 0x%lx", (unsigned long)sys_frame[0][3], (unsigned long)sys_frame[0][4]);
    check(user_cs_after == 0xe033, "back in user mode after the callback's iret", "cs 0x%lx",
          (unsigned long)user_cs_after);
    check(user_gp_ec == ((0x21 << 3) | 2) && (uint16_t)user_gp_cs == 0xe033,
          "int through a DPL-0 entry from user mode: #GP, error code 0x10a, cs 0xe033",
          "ec 0x%lx cs 0x%lx", (unsigned long)user_gp_ec, (unsigned long)user_gp_cs);
    check(user_cr3_vector == 13, "mov %cr3 in user mode: #GP, not emulated", "vector %lu",
          (unsigned long)user_cr3_vector);
    check(user_pf_ec == 4 + 0, "#PF from user mode: the U bit (error code 4)", "ec 0x%lx",
          (unsigned long)user_pf_ec);
    check(user_hcall_result == RESULT && sys_rax[1] == 29,
          "a hypercall stub from user mode reaches the syscall callback, not hv", "0x%lx rax %lu",
          (unsigned long)user_hcall_result, (unsigned long)sys_rax[1]);
    check((uint16_t)back_frame[3] == 0xe033 && back_frame[5] <= user_top() &&
              back_frame[5] > user_top() - 64,
          "int $0x20 (DPL 3) from user mode: frame cs 0xe033 and the user rsp", "cs 0x%lx rsp 0x%lx",
          (unsigned long)back_frame[3], (unsigned long)back_frame[5]);
    check(back_rsp < kstack && back_rsp >= kstack - 64,
          "int $0x20: the frame on the stack_switch stack", "rsp 0x%lx, stack top 0x%lx",
          (unsigned long)back_rsp, (unsigned long)kstack);

    /* Kernel mode again: a #PF has no U bit; after a hypercall, Xen's
     * selectors (a sysret through hv's STAR would give 0x23/0x1b). */
    int before = (int)trap_count;
    __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, trap_resume\n\t"
                     "mov (%0), %%rax\n1:" : : "r"(NOWHERE) : "rax", "memory");
    check((int)trap_count == before + 1 && trap_seen[2] == 0,
          "#PF from kernel mode: no U bit (error code 0)", "ec 0x%lx", (unsigned long)trap_seen[2]);
    uint64_t cs, ss;
    hcall(XEN_HC_xen_version, XEN_XENVER_version, 0, 0);
    __asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
    check(cs == 0xe033 && ss == 0xe02b, "after a hypercall: cs 0xe033, ss 0xe02b", "cs 0x%lx ss 0x%lx",
          (unsigned long)cs, (unsigned long)ss);

    check(callback(XEN_CALLBACKTYPE_syscall, 0, 0) == 0, "callback_op: unregister syscall", "refused");
    /* A GS base loaded through a selector of its own GDT entry (the
     * descriptor's base, below 4 GiB): the kernel's across user mode (the
     * #UD and the int back are mode changes too), as Xen's swapgs keeps
     * it, not the base hv last set. */
    static uint64_t gdt[512] __attribute__((aligned(4096)));
    uint64_t b = (uint64_t)&selector_pda, frame = (uint64_t)gdt >> 12;
    gdt[10] = 0x00cff2000000ffffULL | (b & 0xffffff) << 16 | (b >> 24) << 56; /* DPL-3 data */
    check(hcall(XEN_HC_set_gdt, (uint64_t)&frame, 16, 0) == 0, "set_gdt with a based entry", "refused");
    uint64_t gs0 = 0;
    __asm__ volatile("mov %w1, %%gs; mov %%gs:0, %0" : "=r"(gs0) : "r"(0x53) : "memory");
    enter_user((uint64_t)user_nocb, user_top());
    check(trap_vector == 6 && trap_seen[2] == (uint64_t)user_nocb_insn,
          "syscall with no callback: #UD at the syscall", "vector %lu rip 0x%lx",
          (unsigned long)trap_vector, (unsigned long)trap_seen[2]);
    check(gs0 == selector_pda && back_gs == selector_pda,
          "GS base from its own selector: the kernel's again after user mode", "0x%lx, back 0x%lx",
          (unsigned long)gs0, (unsigned long)back_gs);
}

static void grants(void)
{
    struct { uint16_t dom; uint32_t nr; int16_t status; uint64_t list; } s = {XEN_DOMID_SELF, 1, 7, 0};
    uint64_t frame = 0;
    s.list = (uint64_t)&frame;
    check(hcall(XEN_HC_grant_table_op, 2, (uint64_t)&s, 1) == 0 && s.status == 0 &&
              frame == 0x80000001,
          "grant setup_table: one frame, a special mfn", "status %d frame 0x%lx", s.status,
          (unsigned long)frame);
    uint64_t va = (uint64_t)grant_page;
    check(hcall(XEN_HC_update_va_mapping, va, (frame << 12) | 0x63, 2) == 0,
          "update_va_mapping: the grant frame", "refused");
    volatile uint64_t *g = (volatile uint64_t *)grant_page;
    g[0] = 0x1234;
    check(g[0] == 0x1234 && g[1] == 0, "the grant frame: zeroed, writable", "0x%lx",
          (unsigned long)g[1]);
    struct { uint16_t dom; uint32_t nr, max; int16_t status; } q = {XEN_DOMID_SELF, 9, 9, 7};
    check(hcall(XEN_HC_grant_table_op, 6, (uint64_t)&q, 1) == 0 && q.nr == 1 && q.max == 4 &&
              q.status == 0, "grant query_size: 1 of 4", "nr %u max %u status %d", q.nr, q.max,
          q.status);
    s.nr = 5;
    check(hcall(XEN_HC_grant_table_op, 2, (uint64_t)&s, 1) == 0 && s.status == -1,
          "grant setup_table of 5 frames: GNTST_general_error", "status %d", s.status);
    s.nr = 1;
    s.dom = 1;
    check(hcall(XEN_HC_grant_table_op, 2, (uint64_t)&s, 1) == 0 && s.status == -8,
          "grant setup_table of another domain: GNTST_permission_denied", "status %d", s.status);
    check(hcall(XEN_HC_grant_table_op, 2, (uint64_t)&s, 2) == -XEN_EINVAL,
          "grant setup_table: count 2 -EINVAL", "other");
    check(hcall(XEN_HC_grant_table_op, 8, (uint64_t)&s, 1) == -XEN_ENOSYS,
          "grant set_version -ENOSYS (v1 only)", "other");
    s.dom = XEN_DOMID_SELF;
    s.list = 0xffff888000000000ULL;
    check(hcall(XEN_HC_grant_table_op, 2, (uint64_t)&s, 1) == 0 && s.status == -1,
          "grant setup_table: a frame list in hv, refused", "status %d", s.status);
    check(hcall(XEN_HC_grant_table_op, 2, 0xffff888000000000ULL, 1) == -XEN_EFAULT,
          "grant setup_table: the argument in hv -EFAULT", "other");
}

/* event_channel_op's ports: alloc_unbound from 2 up until -ENOSPC, close
 * and reuse, the refusals; init_control (FIFO) refused Xen's way. */
static void ports(void)
{
    struct { uint16_t dom, remote; uint32_t port; } a = {XEN_DOMID_SELF, 0, 0};
    uint32_t first = 0, last = 0, n = 0;
    long rc;
    while ((rc = hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_alloc_unbound, (uint64_t)&a, 0)) == 0 &&
           n < 1000) {
        if (n++ == 0)
            first = a.port;
        else if (a.port != last + 1)
            break;
        last = a.port;
    }
    check(rc == -XEN_ENOSPC && n == 254 && first == 2 && last == 255,
          "alloc_unbound: ports 2..255, then -ENOSPC", "rc %ld, %u ports %u..%u", rc, n, first, last);
    uint32_t port = 77;
    check(hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_send, (uint64_t)&port, 0) == 0,
          "send on an unbound port: dropped, 0", "other");
    check(hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_close, (uint64_t)&port, 0) == 0 &&
              hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_close, (uint64_t)&port, 0) == -XEN_EINVAL,
          "close, and close again -EINVAL", "other");
    check(hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_alloc_unbound, (uint64_t)&a, 0) == 0 &&
              a.port == 77, "alloc_unbound reuses the closed port", "port %u", a.port);
    uint32_t bad[] = {0, 1, 256, 0xffffffffu};
    int refused = 1;
    for (unsigned i = 0; i < 4; i++)
        refused &= hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_close, (uint64_t)&bad[i], 0) ==
                   -XEN_EINVAL;
    check(refused, "close of port 0, the console's, 256, 2^32-1: -EINVAL", "other");
    a.dom = 1;
    check(hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_alloc_unbound, (uint64_t)&a, 0) == -XEN_EPERM,
          "alloc_unbound for another domain -EPERM", "other");
    a.dom = XEN_DOMID_SELF;
    a.remote = 5;
    check(hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_alloc_unbound, (uint64_t)&a, 0) == -XEN_ESRCH,
          "alloc_unbound with a remote domain that does not exist -ESRCH", "other");
    check(hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_alloc_unbound, 0xffff888000000000ULL, 0) ==
              -XEN_EFAULT, "alloc_unbound: its argument in hv -EFAULT", "other");
    uint64_t init[2] = {(uint64_t)-2, 0};
    check(hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_init_control, (uint64_t)init, 0) == -XEN_EINVAL,
          "init_control with a gfn outside its RAM -EINVAL", "other");
    init[0] = 5;
    check(hcall(XEN_HC_event_channel_op, XEN_EVTCHNOP_init_control, (uint64_t)init, 0) == -XEN_ENOSYS,
          "init_control: FIFO not offered, -ENOSYS", "other");
}

/* multicall: results in order, continued over pieces, an entry that
 * continues itself, a nested multicall -EINVAL, an iret ending it. */
extern char after_multi_iret[];
long multi_iret(struct xen_multicall_entry *list, uint64_t n);
__asm__(".globl multi_iret, after_multi_iret\n"
        "multi_iret:\n"
        "  push %rbp; mov %rsp, %rbp\n"
        "  lea after_multi_iret(%rip), %rax\n"
        "  push $0xe02b; push %rbp; push $0x202; push $0xe030; push %rax\n"
        "  push $0; push $0; push $0; push $0x1dea\n" /* flags, rcx, r11, rax */
        "  mov $13, %eax\n"
        "  syscall\n"
        "  ud2\n"                                     /* the multicall returned */
        "after_multi_iret:\n"
        "  mov %rbp, %rsp; pop %rbp\n"
        "  ret\n");

static void multicalls(void)
{
    static struct xen_multicall_entry m[24];
    static struct xen_mmuext_op ops[40];
    static uint32_t done;
    memset(m, 0, sizeof(m));
    m[0].op = XEN_HC_xen_version, m[0].args[0] = XEN_XENVER_version;
    m[1].op = XEN_HC_xen_version, m[1].args[0] = XEN_XENVER_pagesize;
    m[2].op = 99;
    m[3].op = XEN_HC_multicall, m[3].args[0] = (uint64_t)m, m[3].args[1] = 1;
    for (int i = 0; i < 40; i++)
        ops[i].cmd = 6; /* TLB_FLUSH_LOCAL */
    m[4].op = XEN_HC_mmuext_op, m[4].args[0] = (uint64_t)ops, m[4].args[1] = 40;
    m[4].args[2] = (uint64_t)&done, m[4].args[3] = XEN_DOMID_SELF;
    for (int i = 5; i < 24; i++)
        m[i].op = XEN_HC_xen_version, m[i].result = 7;
    long rc = hcall(XEN_HC_multicall, (uint64_t)m, 24, 0);
    int later = 1;
    for (int i = 5; i < 24; i++)
        later &= m[i].result == ((4u << 16) | 17);
    check(rc == 0 && m[0].result == ((4u << 16) | 17) && m[1].result == 4096 &&
              m[2].result == (uint64_t)-XEN_ENOSYS && m[3].result == (uint64_t)-XEN_EINVAL,
          "multicall: results in order, unknown -ENOSYS, nested -EINVAL",
          "rc %ld: 0x%lx 0x%lx 0x%lx 0x%lx", rc, (unsigned long)m[0].result,
          (unsigned long)m[1].result, (unsigned long)m[2].result, (unsigned long)m[3].result);
    check(m[4].result == 0 && done == 40, "multicall: an mmuext_op of 40 continued inside it",
          "result 0x%lx done %u", (unsigned long)m[4].result, done);
    check(later, "multicall: 24 entries over pieces of 8, all run", "other");
    memset(m, 0, 2 * sizeof(m[0]));
    m[0].op = XEN_HC_iret;
    m[1].op = XEN_HC_xen_version, m[1].result = 0x5555;
    rc = multi_iret(m, 2);
    check(rc == 0x1dea && m[1].result == 0x5555,
          "multicall: an iret ends it and takes effect, nothing after runs", "rc 0x%lx next 0x%lx",
          (unsigned long)rc, (unsigned long)m[1].result);
    check(hcall(XEN_HC_multicall, 0xffff888000000000ULL, 1, 0) == -XEN_EFAULT &&
              hcall(XEN_HC_multicall, NOWHERE, 1ULL << 40, 0) == -XEN_EFAULT,
          "multicall: a list in hv or unmapped -EFAULT", "other");
}

/* sgdt/sidt, which UMIP refuses at ring 3: emulated with fixed answers,
 * whatever the addressing form; refused (#GP) where the write cannot go. */
static struct __attribute__((packed)) { uint16_t limit; uint64_t base; } dt_seen[4];

static void descriptor_tables(const struct xen_start_info *si)
{
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } on_stack = {0, 0};
    uint64_t base9 = (uint64_t)&dt_seen[2], idx = 3;
    __asm__ volatile("sidt %0" : "=m"(on_stack));                    /* (%rsp)-based, disp */
    __asm__ volatile("sgdt dt_seen(%%rip)" ::: "memory");            /* RIP-relative */
    __asm__ volatile("mov %0, %%r9; sidt (%%r9)" : : "r"(base9) : "r9", "memory"); /* REX.B */
    __asm__ volatile("sidt -10(%0,%1,4)" : : "r"((uint64_t)&dt_seen[1] + 10 - 12), "r"(idx)
                     : "memory");                                      /* SIB, disp8 */
    check(on_stack.limit == 0xfff && on_stack.base >> 47 == 0x1ffff,
          "sidt (UMIP): emulated, Xen's range", "limit 0x%x base 0x%lx", on_stack.limit,
          (unsigned long)on_stack.base);
    check(dt_seen[0].limit == 0xe037 && dt_seen[0].base >> 47 == 0x1ffff,
          "sgdt rip-relative: emulated, limit 0xe037", "limit 0x%x base 0x%lx", dt_seen[0].limit,
          (unsigned long)dt_seen[0].base);
    check(dt_seen[2].limit == 0xfff && dt_seen[1].limit == 0xfff,
          "sidt (%r9) and sidt -10(base,index,4): emulated", "0x%x 0x%x", dt_seen[2].limit,
          dt_seen[1].limit);
    uint64_t before = trap_count;
    __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, trap_resume\n\t"
                     "sidt (%0)\n1:" : : "r"(0xffff888000000000ULL) : "rax", "memory");
    __asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, trap_resume\n\t"
                     "sidt (%0)\n1:" : : "r"(si->pt_base) : "rax", "memory");
    check(trap_count - before == 2 && trap_vector == 13,
          "sidt into hv or its read-only page tables: #GP, nothing written", "%lu traps",
          (unsigned long)(trap_count - before));
}

static void failsafe(void)
{
    check(callback(XEN_CALLBACKTYPE_failsafe, (uint64_t)failsafe_cb, 0) == 0,
          "callback_op: the failsafe callback", "refused");
    iret_bad_cs();
    check((uint16_t)fs_frame[7] == 0xe030 && fs_frame[10] == 0xe02b && fs_frame[6] != 0,
          "iret with CS 0x0030: the failsafe callback, Xen's 11-word frame",
          "cs 0x%lx ss 0x%lx rip 0x%lx", (unsigned long)fs_frame[7], (unsigned long)fs_frame[10],
          (unsigned long)fs_frame[6]);
}

/* The selectors from the first instruction on, and after switches: every
 * return to a Xen guest is on Xen's, also when hv switched it in again. */
static void selectors(uint64_t cs0, uint64_t ss0)
{
    check(cs0 == 0xe033 && ss0 == 0xe02b, "at entry: cs 0xe033, ss 0xe02b", "cs 0x%lx ss 0x%lx",
          (unsigned long)cs0, (unsigned long)ss0);
    uint64_t cs = 0, ss = 0, bad = 0;
    for (int i = 0; i < 50; i++) {
        hcall(XEN_HC_sched_op, XEN_SCHEDOP_yield, 0, 0);
        __asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
        bad += cs != 0xe033 || ss != 0xe02b;
    }
    check(bad == 0, "after 50 yields (switched out and in): cs 0xe033, ss 0xe02b",
          "%lu bad, last cs 0x%lx ss 0x%lx", (unsigned long)bad, (unsigned long)cs,
          (unsigned long)ss);
}

void xen_main(const struct xen_start_info *si);
void xen_main(const struct xen_start_info *si)
{
    uint64_t cs0, ss0;
    __asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs0), "=r"(ss0));
    selectors(cs0, ss0);
    user_mode(si);
    grants();
    ports();
    multicalls();
    descriptor_tables(si);
    failsafe();
    if (checks_failed == 0)
        xprint("xen-user: all %u checks passed\n", checks_run);
    else
        xprint("xen-user: %u of %u checks failed\n", checks_failed, checks_run);
    /* The user root gone, an iret to user mode ends the guest. */
    check(user_root(0) == 0, "mmuext_op: NEW_USER_BASEPTR 0 (none)", "refused");
    enter_user((uint64_t)user_main, user_top());
    xprint("xen-user: still running\n");
    shutdown(XEN_SHUTDOWN_poweroff);
}
