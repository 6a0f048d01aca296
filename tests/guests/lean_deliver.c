/* Deliveries whose handler stops being executable after it was registered
 * and first used, and the flags of an upcall entered on the way out of
 * HV_CALL_IRET. hv does not walk the guest's tables to check a handler
 * before each delivery: the guest's own fetch of the handler's first
 * instruction faults, and hv must turn exactly that #PF into the
 * delivery's failure (docs/abi.md, "How a handler is entered"), never
 * deliver it as an ordinary #PF (to a handler that may not run either, a
 * loop that only a full stack would end) and never fault itself. One image,
 * the mode chosen by the guest's name:
 *   lean-nx-ud        the #UD handler runs once; then its page is made
 *                     read-only (not executable) and ud2 again: the guest
 *                     ends, "fault while delivering #UD: the handler is not
 *                     mapped executable at <the handler>"
 *   lean-nx-ud-pf     the same with the #PF handler on that page too: still
 *                     the #UD delivery's report, not a #PF loop
 *   lean-unmapped-upcall  the upcall entry runs once; then its page is
 *                     unmapped and an event sent to self: the guest ends,
 *                     "fault while delivering an event upcall: the handler
 *                     is not mapped executable at <the entry>"
 *   lean-upcall-flags an event waits while events are masked; HV_CALL_IRET
 *                     with IF (unmasks), IOPL 3 and NT in its frame: the
 *                     upcall is entered on that return, and its frame's
 *                     rflags must already be what the guest may have (IOPL
 *                     0, NT clear, IF set as the virtual IF); then a #UD
 *                     onto stack words of all ones: every word of its
 *                     frame whole (ss and cs 8 bytes, not 4); prints "all N
 *                     checks passed" and exits 0
 * A guest that survives what should have ended it prints "FAILED: survived"
 * and exits 1. */
#include "pv_common.h"
#include "hvg_event.h"

HV_GUEST_NOTE("", HVG_MIB(1), 1, 0);

#define FL_IF (1ull << 9)
#define FL_IOPL (3ull << 12)
#define FL_NT (1ull << 14)

static const char *name;

/* A page of its own holding nothing but the handlers below, so that making
 * it non-executable takes away nothing else. Each returns with
 * HV_CALL_IRET (10), as a handler would: flags, r11, rcx, rax pushed on the
 * native frame. */
extern char lean_page[], lean_ud_handler[], lean_pf_handler[], lean_upcall[];
volatile uint64_t lean_ud_count, lean_pf_count, lean_upcall_count;
volatile uint8_t *lean_upcall_pending; /* this vCPU's upcall_pending */
__asm__(".pushsection .text.lean_page, \"ax\", @progbits\n"
        ".balign 4096\n"
        "lean_page:\n"
        "lean_ud_handler:\n"
        "    addq $2, (%rsp)\n"                 /* past the ud2 */
        "    incq lean_ud_count(%rip)\n"
        "    jmp 1f\n"
        "lean_pf_handler:\n"
        "    incq lean_pf_count(%rip)\n"
        "    hlt\n"                             /* never resumes the fault: #GP ends it */
        "lean_upcall:\n"
        "    incq lean_upcall_count(%rip)\n"
        "    push %rax\n"
        "    mov lean_upcall_pending(%rip), %rax\n"
        "    movb $0, (%rax)\n"
        "    pop %rax\n"
        "1:\n" PV_IRET_TAIL_ASM
        ".balign 4096\n"
        ".popsection\n");

static void set_handlers(bool with_pf)
{
    struct hv_trap_info e[2] = {
        { .vector = HVG_UD, .handler = (uint64_t)(uintptr_t)lean_ud_handler },
        { .vector = HVG_PF, .handler = (uint64_t)(uintptr_t)lean_pf_handler },
    };
    if (hvg_set_trap_table(e, with_pf ? 2 : 1) != 0)
        hvg_printf("%s: registering the trap table failed\n", name);
}

static void nx_ud(bool with_pf)
{
    set_handlers(with_pf);
    __asm__ volatile("ud2" ::: "memory");
    hvg_printf("%s: #UD delivered %llu time(s); making the handler's page 0x%llx read-only\n",
               name, (unsigned long long)lean_ud_count, (unsigned long long)(uintptr_t)lean_page);
    int64_t r = hvg_mem_protect(HV_SPACE_KERNEL, (uint64_t)(uintptr_t)lean_page, 1, HV_PROT_READ);
    if (r != 1)
        hvg_printf("%s: HV_CALL_MEM_PROTECT -> %lld\n", name, (long long)r);
    hvg_printf("%s: ud2 again; expect the guest to end: the handler 0x%llx is not executable\n",
               name, (unsigned long long)(uintptr_t)lean_ud_handler);
    __asm__ volatile("ud2" ::: "memory");
}

static void self_event(void)
{
    volatile struct hv_vcpu_shared *vs = &hvg_shared()->vcpu[0];
    lean_upcall_pending = &vs->upcall_pending;
    if (hvg_set_upcall((uint64_t)(uintptr_t)lean_upcall) != 0)
        hvg_printf("%s: registering the upcall failed\n", name);
    int64_t port = hvg_evtchn_bind_ipi(0);
    if (port < 0)
        hvg_printf("%s: binding an IPI port failed: %lld\n", name, (long long)port);
    vs->upcall_mask = 0;
    hvg_evtchn_send((uint64_t)port);
    hvg_evtchn_clear((unsigned)port); /* so the next send notifies again */
    vs->pending_sel = 0;
    hvg_printf("%s: upcall entered %llu time(s); unmapping its page 0x%llx\n", name,
               (unsigned long long)lean_upcall_count, (unsigned long long)(uintptr_t)lean_page);
    int64_t r = hvg_mem_unmap(HV_SPACE_KERNEL, (uint64_t)(uintptr_t)lean_page, 1);
    if (r != 1)
        hvg_printf("%s: HV_CALL_MEM_UNMAP -> %lld\n", name, (long long)r);
    hvg_printf("%s: sending again; expect the guest to end: the entry 0x%llx is not mapped\n",
               name, (unsigned long long)(uintptr_t)lean_upcall);
    hvg_evtchn_send((uint64_t)port);
}

/* --- lean-upcall-flags ------------------------------------------------------------------ */

volatile uint64_t flags_upcall_rflags, flags_upcall_count;

/* The upcall entry of lean-upcall-flags: keeps its frame's rflags. */
extern char flags_upcall[];
__asm__(".pushsection .text\n"
        "flags_upcall:\n"
        "    push %rax\n"
        "    mov 24(%rsp), %rax\n"              /* rflags: rip, cs above our push */
        "    mov %rax, flags_upcall_rflags(%rip)\n"
        "    incq flags_upcall_count(%rip)\n"
        "    mov lean_upcall_pending(%rip), %rax\n"
        "    movb $0, (%rax)\n"
        "    pop %rax\n"
        PV_IRET_TAIL_ASM
        ".popsection\n");

/* iret_with_flags(rflags): HV_CALL_IRET in kernel mode to the instruction
 * after the call, on this stack, with rflags as given. Returns 0 once back
 * (DF and AC cleared again), or hv's error. */
int64_t iret_with_flags(uint64_t rflags);
__asm__(".pushsection .text\n"
        "iret_with_flags:\n"
        "    push %rbx\n"
        "    mov %rsp, %rbx\n"
        "    sub $96, %rsp\n"
        "    and $-16, %rsp\n"
        "    movq $0, 0(%rsp)\n"                /* rax */
        "    movq $0, 8(%rsp)\n"                /* rcx */
        "    movq $0, 16(%rsp)\n"               /* r11 */
        "    movq $0, 24(%rsp)\n"               /* flags */
        "    lea 1f(%rip), %rax\n"
        "    mov %rax, 32(%rsp)\n"              /* rip */
        "    movq $0x23, 40(%rsp)\n"            /* cs: HV_KERNEL_CS */
        "    mov %rdi, 48(%rsp)\n"              /* rflags */
        "    mov %rbx, 56(%rsp)\n"              /* rsp */
        "    movq $0x1b, 64(%rsp)\n"            /* ss: HV_DATA_SS */
        "    mov $10, %eax\n"
        "    syscall\n"
        "    jmp 2f\n"                          /* refused: rax is the error */
        "1:  cld\n"
        "    xor %eax, %eax\n"
        "2:  mov %rbx, %rsp\n"
        "    pop %rbx\n"
        "    ret\n"
        ".popsection\n");

/* --- lean-upcall-flags, second part: the frame's words -------------------------------- */

/* frame_probe(): ud2 with rsp 16-byte aligned and the 64 bytes below it
 * all ones; the #UD handler keeps the native frame's five words, moves rip
 * past the ud2 and returns. Returns the rsp the ud2 ran with. Each word
 * must be whole: a selector stored as 4 bytes would leave ones above it
 * (the lean delivery's first version stored ss so, and HV_CALL_IRET then
 * refused the frame whenever the stack held something there before). */
volatile uint64_t frame_seen[5];
extern char frame_ud_handler[], frame_probe_ud[];
uint64_t frame_probe(void);
__asm__(".pushsection .text\n"
        "frame_ud_handler:\n"
        "    push %rax\n"
        "    mov 8(%rsp), %rax\n"
        "    mov %rax, frame_seen(%rip)\n"       /* rip */
        "    mov 16(%rsp), %rax\n"
        "    mov %rax, frame_seen+8(%rip)\n"     /* cs */
        "    mov 24(%rsp), %rax\n"
        "    mov %rax, frame_seen+16(%rip)\n"    /* rflags */
        "    mov 32(%rsp), %rax\n"
        "    mov %rax, frame_seen+24(%rip)\n"    /* rsp */
        "    mov 40(%rsp), %rax\n"
        "    mov %rax, frame_seen+32(%rip)\n"    /* ss */
        "    pop %rax\n"
        "    addq $2, (%rsp)\n"
        PV_IRET_TAIL_ASM
        "frame_probe:\n"
        "    push %rbx\n"
        "    mov %rsp, %rbx\n"
        "    and $-16, %rsp\n"
        "    sub $128, %rsp\n"
        "    mov $-1, %rax\n"
        "    mov %rax, -8(%rsp)\n"
        "    mov %rax, -16(%rsp)\n"
        "    mov %rax, -24(%rsp)\n"
        "    mov %rax, -32(%rsp)\n"
        "    mov %rax, -40(%rsp)\n"
        "    mov %rax, -48(%rsp)\n"
        "    mov %rax, -56(%rsp)\n"
        "    mov %rax, -64(%rsp)\n"
        "frame_probe_ud:\n"
        "    ud2\n"
        "    mov %rsp, %rax\n"
        "    mov %rbx, %rsp\n"
        "    pop %rbx\n"
        "    ret\n"
        ".popsection\n");

static void frame_words(void)
{
    struct hv_trap_info e = { .vector = HVG_UD, .handler = (uint64_t)(uintptr_t)frame_ud_handler };
    expect_eq("a #UD handler for the frame probe", hvg_set_trap_table(&e, 1), 0);
    uint64_t sp = frame_probe();
    hvg_printf("%s: #UD frame on a stack of ones: rip 0x%llx cs 0x%llx rflags 0x%llx rsp 0x%llx "
               "ss 0x%llx\n", name, (unsigned long long)frame_seen[0],
               (unsigned long long)frame_seen[1], (unsigned long long)frame_seen[2],
               (unsigned long long)frame_seen[3], (unsigned long long)frame_seen[4]);
    expect_eq("frame rip: the ud2", (int64_t)frame_seen[0], (int64_t)(uintptr_t)frame_probe_ud);
    expect_eq("frame cs: HV_KERNEL_CS, the whole word", (int64_t)frame_seen[1], HV_KERNEL_CS);
    expect_eq("frame rflags: no bit above 31", (int64_t)(frame_seen[2] >> 32), 0);
    expect_eq("frame rsp: the ud2's", (int64_t)frame_seen[3], (int64_t)sp);
    expect_eq("frame ss: HV_DATA_SS, the whole word", (int64_t)frame_seen[4], HV_DATA_SS);
}

static int upcall_flags(void)
{
    volatile struct hv_vcpu_shared *vs = &hvg_shared()->vcpu[0];
    lean_upcall_pending = &vs->upcall_pending;
    expect_eq("set the upcall entry", hvg_set_upcall((uint64_t)(uintptr_t)flags_upcall), 0);
    int64_t port = hvg_evtchn_bind_ipi(0);
    expect_true("an IPI port to self", port >= 0);
    vs->upcall_mask = 1;
    expect_eq("send with events masked", hvg_evtchn_send((uint64_t)port), 0);
    expect_eq("no upcall while masked", (int64_t)flags_upcall_count, 0);
    expect_eq("upcall_pending set", vs->upcall_pending, 1);
    uint64_t asked = FL_IF | FL_IOPL | FL_NT | 2;
    expect_eq("HV_CALL_IRET with IF, IOPL 3 and NT taken", iret_with_flags(asked), 0);
    expect_eq("the upcall entered once, on that return", (int64_t)flags_upcall_count, 1);
    uint64_t seen = flags_upcall_rflags;
    hvg_printf("%s: iret asked for rflags 0x%llx; the upcall's frame shows 0x%llx\n", name,
               (unsigned long long)asked, (unsigned long long)seen);
    expect_eq("frame rflags: IOPL 0", (int64_t)(seen & FL_IOPL), 0);
    expect_eq("frame rflags: NT clear", (int64_t)(seen & FL_NT), 0);
    expect_eq("frame rflags: IF set (events were unmasked)", (int64_t)(seen & FL_IF),
              (int64_t)FL_IF);
    expect_eq("events unmasked after the upcall's return", vs->upcall_mask, 0);
    hvg_evtchn_close((uint64_t)port);
    hvg_set_upcall(0);
    frame_words();
    return pv_finish();
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    name = si->name;
    pv_name = name;
    if (strcmp(name, "lean-upcall-flags") == 0)
        return upcall_flags();
    if (strcmp(name, "lean-nx-ud") == 0)
        nx_ud(false);
    else if (strcmp(name, "lean-nx-ud-pf") == 0)
        nx_ud(true);
    else
        self_event();
    hvg_printf("%s: FAILED: survived\n", name);
    return 1;
}
