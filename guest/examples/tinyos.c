/* tinyos: a guest operating system in one file, on hv's paravirtual CPU
 * (include/hv/abi_cpu.h; docs/writing-guests.md, "Writing a guest OS").
 *
 * The kernel (everything outside .user.*) runs in guest kernel mode. It
 *   - registers a trap table with a C handler for every exception vector,
 *     the bounced system-call entry (`syscall` from user mode) and the fast
 *     gate (`int $0x80`, entered by the CPU without hv: a "vsyscall");
 *   - demand-zeroes its own memory: it uses a region it never mapped, and
 *     its #PF handler maps a fresh page there and resumes the instruction;
 *   - runs three applications, one after the other, each in a user address
 *     space of its own: it copies the user program (the .user.* sections)
 *     into fresh pages of its own space and maps those into the process's
 *     space with HV_CALL_MEM_MAP src_va (code read+exec, rodata read-only,
 *     data read+write, private per process), plus a fresh stack, then enters
 *     user mode with HV_CALL_IRET (hvg_user_run);
 *   - serves write, getpid and exit through `syscall`, and getpid through
 *     the fast gate, whose handler runs in the application's own space and
 *     reads the pid from the process's private copy of the user data;
 *   - ends an application that faults (the third one reads kernel memory,
 *     which its space does not have) and goes on.
 * It exits 0 when hello and counter exited 0, crasher was ended by the
 * expected page fault and demand paging worked. */
#include "hvg.h"

#include "lib/string.h"

HV_GUEST_NOTE("tinyos", HVG_MIB(8), 1, HVG_KIB(64));

#define PAGE 4096ull
#define SYS_WRITE 1
#define SYS_GETPID 39
#define SYS_EXIT 60
#define ENOSYS 38
#define EFAULT 14

/* Kernel-space layout (all of it below HV_GUEST_MAP_LIMIT, away from the
 * image, heap, stacks and start info hv placed). */
#define DEMAND_BASE 0x0000500000000000ull /* demand-zero memory */
#define DEMAND_BYTES (64 * PAGE)
#define WINDOW_BASE 0x0000600000000000ull /* per-process copies of the user program */
#define WINDOW_STRIDE 0x0000000001000000ull
/* User-space layout: the program at its link addresses, the stack here. */
#define USER_STACK_TOP 0x0000700000000000ull
#define USER_STACK_PAGES 4

/* ============================ the user program ============================
 * Everything an application runs or reads sits in .user.*; it calls nothing
 * outside (no SDK function: those are kernel code) and makes system calls
 * with `syscall`, or `int $0x80` for the fast getpid. */

/* The process's own pid: each process has a private copy of .user.data, in
 * which the kernel wrote it before starting the process. */
static volatile uint64_t HVG_USER_DATA user_pid;
static char HVG_USER_DATA user_line[96];

static inline __attribute__((always_inline)) int64_t sys_call3(uint64_t nr, uint64_t a0,
                                                               uint64_t a1, uint64_t a2)
{
    int64_t ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a0), "S"(a1), "d"(a2)
                     : "rcx", "r11", "memory");
    return ret;
}

/* The fast path: the CPU enters tinyos_fast_entry through the IDT. */
static inline __attribute__((always_inline)) int64_t fast_call(uint64_t nr)
{
    int64_t ret;
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr) : "memory");
    return ret;
}

/* "<text>\n", or "<text><number>\n" with number >= 0, through write(). volatile stores: GCC must not turn
 * the copy loop into a call to memcpy, which user mode cannot reach. */
static void HVG_USER_TEXT user_print(const char *text, uint64_t len, int64_t number)
{
    volatile char *out = user_line;
    char digits[20];
    uint64_t n = 0, d = 0;

    while (n < len && n < sizeof(user_line) - 22) {
        out[n] = text[n];
        n++;
    }
    while (number >= 0) {
        digits[d++] = (char)('0' + number % 10);
        number /= 10;
        if (number == 0)
            break;
    }
    while (d > 0)
        out[n++] = digits[--d];
    out[n++] = '\n';
    sys_call3(SYS_WRITE, (uint64_t)(uintptr_t)user_line, n, 0);
}

static void HVG_USER_TEXT __attribute__((noreturn)) user_exit(uint64_t status)
{
    for (;;)
        sys_call3(SYS_EXIT, status, 0, 0);
}

#define USER_STRING(name, text) static const char HVG_USER_RODATA name[] = text

USER_STRING(hello_greeting, "hello: hello from user mode, getpid() by syscall = ");
USER_STRING(counter_fast, "counter: getpid() by int $0x80 (the fast gate) = ");
USER_STRING(counter_slow, "counter: getpid() by syscall (bounced through hv) = ");
USER_STRING(counter_sum, "counter: 1 + 2 + ... + 1000 = ");
USER_STRING(crasher_hello, "crasher: pid ");
USER_STRING(crasher_about, "crasher: now reading the kernel's memory, which my space does not map");

/* Application 1: system calls with `syscall` only. */
static void HVG_USER_TEXT __attribute__((noreturn)) app_hello(uint64_t arg)
{
    (void)arg;
    user_print(hello_greeting, sizeof(hello_greeting) - 1,
               sys_call3(SYS_GETPID, 0, 0, 0));
    user_exit(0);
}

/* Application 2: getpid both ways; they must agree. */
static void HVG_USER_TEXT __attribute__((noreturn)) app_counter(uint64_t arg)
{
    uint64_t sum = 0;
    int64_t fast = fast_call(SYS_GETPID);
    int64_t slow = sys_call3(SYS_GETPID, 0, 0, 0);

    user_print(counter_fast, sizeof(counter_fast) - 1, fast);
    user_print(counter_slow, sizeof(counter_slow) - 1, slow);
    for (uint64_t i = 1; i <= arg; i++)
        sum += i;
    user_print(counter_sum, sizeof(counter_sum) - 1, (int64_t)sum);
    user_exit(fast == slow && fast == (int64_t)user_pid ? 0 : 1);
}

/* Application 3: reads the kernel's memory, which its space does not map. */
static void HVG_USER_TEXT __attribute__((noreturn)) app_crasher(uint64_t kernel_address)
{
    user_print(crasher_hello, sizeof(crasher_hello) - 1, fast_call(SYS_GETPID));
    user_print(crasher_about, sizeof(crasher_about) - 1, -1);
    (void)*(volatile uint64_t *)(uintptr_t)kernel_address;
    user_exit(0); /* never reached: the read faults */
}

/* The fast gate's handler: runs in the application's space and mode, on
 * its stack. Only getpid is served this way. */
static void HVG_USER_TEXT fast_syscall(struct hvg_trap_frame *f)
{
    f->rax = f->rax == SYS_GETPID ? user_pid : (uint64_t)-ENOSYS;
}
HVG_FAST_ENTRY(tinyos_fast_entry, fast_syscall);

/* ================================ the kernel ================================ */

struct region {
    uint64_t user_va, kernel_va, bytes;
};

struct process {
    unsigned pid;
    const char *name;
    void (*entry)(uint64_t);
    uint64_t arg;
    int64_t space;
    struct region text, rodata, data;
    bool faulted;
    uint64_t fault_vector, fault_address;
    int64_t status;
};

static struct process *current;
static struct hvg_user_context user_context;
static uint8_t kernel_stack[16384] __attribute__((aligned(16)));
static uint64_t demand_faults;
/* What crasher reads; never mapped in any user space. */
static volatile uint64_t kernel_secret = 0x5ec2e7;

static HVG_NORETURN void kernel_panic(const char *why, const struct hvg_trap_frame *f)
{
    hvg_printf("tinyos: PANIC: %s\n", why);
    if (f)
        hvg_trap_dump("tinyos", f);
    hvg_exit(1);
}

/* A user buffer as the kernel sees it: through the kernel-side copy of the
 * region holding it, or NULL. The stack was mapped fresh into the user
 * space only, so buffers must be in the program's data or rodata. */
static const char *user_buffer(const struct process *p, uint64_t va, uint64_t len)
{
    const struct region *regions[] = { &p->rodata, &p->data };

    for (size_t i = 0; i < sizeof(regions) / sizeof(regions[0]); i++) {
        const struct region *r = regions[i];
        if (va >= r->user_va && va - r->user_va <= r->bytes && len <= r->bytes - (va - r->user_va))
            return (const char *)(uintptr_t)(r->kernel_va + (va - r->user_va));
    }
    return NULL;
}

/* `syscall` from user mode, bounced by hv to here: kernel mode, kernel
 * space, kernel stack. rax = number, rdi, rsi, rdx = arguments. */
static void bounced_syscall(struct hvg_trap_frame *f)
{
    struct process *p = current;

    if (!p || !hvg_frame_from_user(f))
        kernel_panic("system call without a current process", f);
    switch (f->rax) {
    case SYS_WRITE: {
        uint64_t len = f->rsi > HV_CONSOLE_WRITE_MAX ? HV_CONSOLE_WRITE_MAX : f->rsi;
        const char *buffer = user_buffer(p, f->rdi, len);
        if (!buffer) {
            f->rax = (uint64_t)-EFAULT;
            return;
        }
        hvg_write(buffer, len);
        f->rax = len;
        return;
    }
    case SYS_GETPID:
        f->rax = p->pid;
        return;
    case SYS_EXIT:
        p->status = (int64_t)f->rdi;
        hvg_user_return(f, &user_context, 0);
        return;
    default:
        f->rax = (uint64_t)-ENOSYS;
        return;
    }
}

static const char *const vector_names[32] = {
    "#DE", "#DB", "NMI", "#BP", "#OF", "#BR", "#UD", "#NM", "#DF", "vector 9", "#TS", "#NP",
    "#SS", "#GP", "#PF", "vector 15", "#MF", "#AC", "#MC", "#XM", "#VE", "#CP",
};

static const char *vector_name(uint64_t vector)
{
    return vector < 32 && vector_names[vector] ? vector_names[vector] : "an exception";
}

/* Every exception vector lands here. */
static void kernel_trap(struct hvg_trap_frame *f)
{
    if (hvg_frame_from_user(f)) {
        struct process *p = current;
        if (!p)
            kernel_panic("user-mode exception without a current process", f);
        p->faulted = true;
        p->fault_vector = f->vector;
        p->fault_address = f->vector == HVG_PF ? hvg_fault_address(0) : 0;
        if (f->vector == HVG_PF)
            hvg_printf("tinyos: %s (pid %u) ended: #PF %s 0x%llx (%s), rip 0x%llx\n", p->name,
                       p->pid, (f->error_code & HVG_PF_WRITE) ? "writing" : "reading",
                       (unsigned long long)p->fault_address,
                       (f->error_code & HVG_PF_PRESENT) ? "protection" : "not mapped in its space",
                       (unsigned long long)f->rip);
        else
            hvg_printf("tinyos: %s (pid %u) ended: %s, error code 0x%llx, rip 0x%llx\n",
                       p->name, p->pid, vector_name(f->vector),
                       (unsigned long long)f->error_code, (unsigned long long)f->rip);
        hvg_user_return(f, &user_context, 0);
        return;
    }
    if (f->vector == HVG_PF) {
        uint64_t address = hvg_fault_address(0);
        if (address >= DEMAND_BASE && address - DEMAND_BASE < DEMAND_BYTES &&
            !(f->error_code & HVG_PF_PRESENT)) {
            uint64_t page = address & ~(PAGE - 1);
            int64_t r = hvg_mem_map(HV_SPACE_KERNEL, page, 1, 0, HV_PROT_READ | HV_PROT_WRITE);
            if (r < 0) {
                hvg_printf("tinyos: mapping a zero page at 0x%llx: error %lld\n",
                           (unsigned long long)page, (long long)r);
                kernel_panic("demand paging failed", f);
            }
            demand_faults++;
            return; /* the instruction runs again, now with its page */
        }
    }
    hvg_printf("tinyos: kernel exception %s\n", vector_name(f->vector));
    kernel_panic("unexpected exception in the kernel", f);
}

static bool check(const char *what, int64_t r)
{
    if (r < 0)
        hvg_printf("tinyos: %s failed: error %lld\n", what, (long long)r);
    return r >= 0;
}

/* Copies [start, end) of the image into fresh pages of the kernel's own
 * space at kernel_va, then maps those pages at start in the process's
 * space with prot. Code and rodata copies are sealed read-only in the
 * kernel's space first: no page is ever writable in one space and
 * executable in another. */
static bool load_region(struct process *p, struct region *r, const char *start,
                        const char *end, uint64_t kernel_va, uint64_t prot)
{
    uint64_t bytes = (uint64_t)(end - start);
    uint64_t pages = bytes / PAGE;

    *r = (struct region){ (uint64_t)(uintptr_t)start, kernel_va, bytes };
    if (pages == 0)
        return true;
    if (!check("mapping fresh kernel pages",
               hvg_mem_map(HV_SPACE_KERNEL, kernel_va, pages, 0, HV_PROT_READ | HV_PROT_WRITE)))
        return false;
    memcpy((void *)(uintptr_t)kernel_va, start, bytes);
    if (!(prot & HV_PROT_WRITE) &&
        !check("sealing the copy", hvg_mem_protect(HV_SPACE_KERNEL, kernel_va, pages,
                                                    HV_PROT_READ)))
        return false;
    return check("mapping the copy into the user space",
                 hvg_mem_map((uint64_t)p->space, r->user_va, pages, kernel_va, prot));
}

static bool load_process(struct process *p)
{
    uint64_t window = WINDOW_BASE + p->pid * WINDOW_STRIDE;

    p->space = hvg_user_space_create();
    if (!check("creating a user space", p->space))
        return false;
    if (!load_region(p, &p->text, hvg_user_text_start, hvg_user_text_end, window,
                     HV_PROT_READ | HV_PROT_EXEC) ||
        !load_region(p, &p->rodata, hvg_user_rodata_start, hvg_user_rodata_end,
                     window + 0x400000, HV_PROT_READ) ||
        !load_region(p, &p->data, hvg_user_data_start, hvg_user_data_end, window + 0x800000,
                     HV_PROT_READ | HV_PROT_WRITE))
        return false;
    /* The process's pid, in its private copy of the user data. */
    uint64_t pid_offset = (uint64_t)((const char *)&user_pid - hvg_user_data_start);
    *(volatile uint64_t *)(uintptr_t)(p->data.kernel_va + pid_offset) = p->pid;
    if (!check("mapping a stack", hvg_mem_map((uint64_t)p->space,
                                              USER_STACK_TOP - USER_STACK_PAGES * PAGE,
                                              USER_STACK_PAGES, 0,
                                              HV_PROT_READ | HV_PROT_WRITE)))
        return false;
    hvg_printf("tinyos: loaded %s as pid %u in user space %lld: code %llu, rodata %llu, data "
               "%llu page(s) at their link addresses, stack below 0x%llx\n",
               p->name, p->pid, (long long)p->space, (unsigned long long)(p->text.bytes / PAGE),
               (unsigned long long)(p->rodata.bytes / PAGE),
               (unsigned long long)(p->data.bytes / PAGE), (unsigned long long)USER_STACK_TOP);
    return true;
}

static void unload_process(struct process *p)
{
    const struct region *regions[] = { &p->text, &p->rodata, &p->data };

    for (size_t i = 0; i < 3; i++)
        if (regions[i]->bytes)
            check("unmapping a kernel copy", hvg_mem_unmap(HV_SPACE_KERNEL, regions[i]->kernel_va,
                                                          regions[i]->bytes / PAGE));
    int64_t r = hvg_user_space_destroy((uint64_t)p->space);
    if (r == 0)
        hvg_printf("tinyos: user space %lld of %s destroyed\n", (long long)p->space, p->name);
    else
        check("destroying a user space", r);
}

/* Loads and runs one process until it exits or faults. */
static bool run_process(struct process *p)
{
    if (!load_process(p) || !check("selecting the user space", hvg_set_user_space((uint64_t)p->space)))
        return false;
    hvg_printf("tinyos: starting %s (pid %u) in user mode\n", p->name, p->pid);
    current = p;
    hvg_user_run(&user_context, (uint64_t)(uintptr_t)p->entry, USER_STACK_TOP - 8, p->arg);
    current = NULL;
    if (p->faulted)
        hvg_printf("tinyos: %s (pid %u) was ended by %s\n", p->name, p->pid,
                   vector_name(p->fault_vector));
    else
        hvg_printf("tinyos: %s (pid %u) exited with status %lld\n", p->name, p->pid,
                   (long long)p->status);
    return true;
}

static bool set_up_cpu(void)
{
    struct hvg_trap_spec specs[32];

    for (unsigned v = 0; v < 32; v++)
        specs[v] = (struct hvg_trap_spec){ v, 0, kernel_trap };
    if (!check("registering the trap table", hvg_traps_install(specs, 32)))
        return false;
    /* The fast gate: the CPU enters the handler directly, hv stays out. */
    struct hv_trap_info fast = { .vector = HV_FAST_TRAP_VECTOR, .flags = HV_TRAP_FAST,
                                 .handler = (uint64_t)(uintptr_t)tinyos_fast_entry };
    if (!check("registering the fast gate", hvg_set_trap_table(&fast, 1)))
        return false;
    if (!check("registering the system-call entry", hvg_syscall_install(bounced_syscall, 0)))
        return false;
    if (!check("setting the kernel stack",
               hvg_set_kernel_stack((uint64_t)(uintptr_t)(kernel_stack + sizeof(kernel_stack)))))
        return false;
    hvg_printf("tinyos: trap table (32 exception vectors), int $0x80 fast gate, syscall "
               "entry and kernel stack registered\n");
    return true;
}

/* The kernel uses memory it never mapped; the #PF handler supplies it. */
static bool demand_paging(void)
{
    volatile uint64_t *region = (volatile uint64_t *)(uintptr_t)DEMAND_BASE;
    const uint64_t words_per_page = PAGE / sizeof(uint64_t);
    const unsigned touched[] = { 0, 7, 63 };
    bool ok = true;

    for (size_t i = 0; i < 3; i++)
        region[touched[i] * words_per_page + 5] = 0xfeed0000u + touched[i];
    for (size_t i = 0; i < 3; i++) {
        ok &= region[touched[i] * words_per_page + 5] == 0xfeed0000u + touched[i];
        ok &= region[touched[i] * words_per_page + 6] == 0; /* the rest of a fresh page is zero */
    }
    hvg_printf("tinyos: demand paging: touched 3 pages at 0x%llx.., %llu page fault(s) "
               "mapped them, contents %s\n",
               (unsigned long long)DEMAND_BASE, (unsigned long long)demand_faults,
               ok ? "right" : "WRONG");
    return ok && demand_faults == 3;
}

static struct process processes[] = {
    { .pid = 1, .name = "hello", .entry = app_hello },
    { .pid = 2, .name = "counter", .entry = app_counter, .arg = 1000 },
    { .pid = 3, .name = "crasher", .entry = app_crasher },
};

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    hvg_printf("tinyos: booting on \"%s\", shared page at 0x%llx\n", si->name,
               (unsigned long long)si->shared_va);
    if (!set_up_cpu())
        return 1;
    bool paging_ok = demand_paging();

    processes[2].arg = (uint64_t)(uintptr_t)&kernel_secret;
    hvg_printf("tinyos: (crasher will read 0x%llx)\n", (unsigned long long)processes[2].arg);
    struct process *previous = NULL;
    for (size_t i = 0; i < sizeof(processes) / sizeof(processes[0]); i++) {
        if (!run_process(&processes[i]))
            return 1;
        /* The space just selected for the next process frees the previous
         * one: the selected space is in use (HV_EBUSY). */
        if (previous)
            unload_process(previous);
        previous = &processes[i];
    }

    bool hello_ok = !processes[0].faulted && processes[0].status == 0;
    bool counter_ok = !processes[1].faulted && processes[1].status == 0;
    bool crasher_ok = processes[2].faulted && processes[2].fault_vector == HVG_PF &&
                      processes[2].fault_address == processes[2].arg;
    bool ok = paging_ok && hello_ok && counter_ok && crasher_ok && kernel_secret == 0x5ec2e7;
    hvg_printf("tinyos: hello %s, counter %s, crasher %s, demand paging %s: %s\n",
               hello_ok ? "ok" : "FAILED", counter_ok ? "ok" : "FAILED",
               crasher_ok ? "ended by its #PF as expected" : "NOT ENDED AS EXPECTED",
               paging_ok ? "ok" : "FAILED", ok ? "all done" : "something went wrong");
    return ok ? 0 : 1;
}
