/* The in-guest hypercall fuzzer (issue 10): calls every hypercall number,
 * and numbers out of range, with arguments from a seeded PRNG mixed with
 * hostile values -- huge and boundary numbers, pointers into hv's halves,
 * non-canonical and unmapped addresses, the read-only start-info page, the
 * shared page, ranges crossing from mapped into unmapped memory, the last
 * lower-half page, other vCPUs' ids, ports out of range -- and checks that
 * every answer is >= 0 or one of the negated HV_E* codes of
 * include/hv/abi.h (-HV_ENOSYS exactly for numbers out of range). Counts
 * in several hypercalls are "pages handled" or "bytes taken" (partial
 * counts), so any value >= 0 is success.
 *
 * Its parameters come from its name (the file name or hv.cfg's name):
 *     -n<calls>   how many calls (default 30000)
 *     -s<seed>    the PRNG seed (default: from the TSC); always printed,
 *                 so a run is reproduced by booting it named ...-s<seed>
 *     -m<pages>   memory calls name at most this many pages (default: any
 *                 count; a cap keeps a run short on an hv whose memory calls
 *                 are not bounded, issue 10 attack 1)
 *     -v          print each call before making it
 *     -end        sacrificial mode: also makes the calls that end or stall
 *                 a vCPU (HV_CALL_EXIT, VCPU_EXIT, BLOCK, IRET with a
 *                 random frame); hv must end it with a named report
 *
 * Normal mode avoids only what would legitimately end or stall it: those
 * four calls; HV_CALL_POLL without a near deadline; memory operations in
 * its own kernel space below its arena (they could unmap its own code);
 * output pointers into its own data. vCPU 1 only blocks (an id the
 * calls can name). It also checks that hv never wrote what it must not:
 * the start-info page, and bytes just before an unmapped page that a
 * refused, page-crossing output would have reached (checks before effects).
 *
 *     hcall-fuzz: seed S, N calls, mode normal|end
 *     hcall-fuzz: nr 0 (console_write): C calls, K >= 0, E errors (...)
 *     hcall-fuzz: all N checks passed (N calls) */
#include "hvg.h"
#include "hvg_cpu.h"
#include "hvg_event.h"

#include "lib/string.h"

HV_GUEST_NOTE("", HVG_MIB(8), 2, 0);

#define LOWER_HALF_END 0x0000800000000000ull
#define HV_DIRECT_MAP 0xffff800000000000ull
#define HV_CORE 0xffffffff80000000ull
#define PAGE 4096ull
/* Where its own memory operations in space 0 go: above its image, heap and
 * shared-memory slots, below HV_GUEST_MAP_LIMIT, so no range starting here
 * can reach its code, data or stacks. */
#define ARENA 0x00007ffe00000000ull
#define ARENA_PAGES 64
#define EXTRA_NUMBERS 8   /* out-of-range hypercall numbers among the choices */

static const char *my_name;
static uint64_t rng;
static uint64_t calls_wanted = 30000;
static bool end_mode;
static bool verbose;        /* -v: each call printed before it is made */
static uint64_t page_cap;    /* -m<pages>: 0, or the most pages a memory call names */
static uint64_t slowest_ns[HV_CALL_COUNT + 1], slow_calls;
#define SLOW_NS HVG_MS(50)

static uint64_t calls_done, failures, checks;
static uint64_t per_call[HV_CALL_COUNT + 1], per_ok[HV_CALL_COUNT + 1], per_err[HV_CALL_COUNT + 1];
static uint64_t err_count[128];

static struct hv_start_info si_copy;
static uint64_t si_va, shared_va, heap_start, heap_end;

static const char *const call_names[HV_CALL_COUNT] = {
    "console_write", "exit", "yield", "guest_info", "vcpu_info", "vcpu_exit", "nop",
    "set_trap_table", "set_syscall", "set_kernel_stack", "iret", "user_space_create",
    "user_space_destroy", "set_user_space", "mem_map", "mem_unmap", "mem_protect",
    "set_upcall", "evtchn_bind_virq", "evtchn_alloc_unbound", "evtchn_bind_peer",
    "evtchn_bind_ipi", "evtchn_send", "evtchn_close", "evtchn_unmask", "evtchn_status",
    "block", "poll", "set_timer", "console_read",
};

/* The negated codes include/hv/abi.h documents. */
static bool documented_error(int64_t r)
{
    switch (-r) {
    case HV_EPERM: case HV_ENOENT: case HV_ESRCH: case HV_EAGAIN: case HV_ENOMEM:
    case HV_EFAULT: case HV_EBUSY: case HV_EEXIST: case HV_EINVAL: case HV_ENOSYS:
    case HV_ETIMEDOUT:
        return true;
    }
    return false;
}

/* splitmix64: tiny, and every seed (0 included) gives a good stream. */
static uint64_t next(void)
{
    uint64_t z = (rng += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t below(uint64_t n)
{
    return n ? next() % n : 0;
}

static void fail(const char *fmt, ...) HVG_PRINTF(1, 2);
static void fail(const char *fmt, ...)
{
    failures++;
    if (failures > 20)
        return;     /* the first ones say it; the count says the rest */
    va_list ap;
    va_start(ap, fmt);
    hvg_printf("%s: FAILED: ", my_name);
    hvg_vprintf(fmt, ap);
    va_end(ap);
}

/* --- values ------------------------------------------------------------------------ */

static const uint64_t boundary_numbers[] = {
    0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 255, 256, 257, 511, 512, 513, 1023, 1024,
    4095, 4096, 4097, 0x7fffffffull, 0x80000000ull, 0xffffffffull, 0x100000000ull,
    0x100000001ull, 1ull << 35, (1ull << 35) + 1, 0x7fff00000ull, 1ull << 52,
    0x7fffffffffffffffull, 0x8000000000000000ull, 0xfffffffffffffffeull, UINT64_MAX,
};

/* A pointer hv may read or write through: never the fuzzer's own data. */
static uint64_t hostile_pointer(void)
{
    switch (below(22)) {
    case 0: return heap_start + below(2 * PAGE);                  /* its scratch: valid */
    case 1: return heap_end - 1 - below(8);                       /* crossing into unmapped */
    case 2: return si_va + below(PAGE);                            /* read-only start info */
    case 3: return si_va + PAGE - 8;                               /* start info -> shared page */
    case 4: return shared_va + 256 + below(200);                   /* unused vCPU slots */
    case 5: return shared_va + PAGE - 1 - below(8);                /* shared page -> unmapped */
    case 6: return (uint64_t)(uintptr_t)&next;                     /* its own code */
    case 7: return below(0x10000);                                 /* below the image: NULL page */
    case 8: return LOWER_HALF_END - PAGE + below(PAGE);            /* the last lower-half page */
    case 9: return LOWER_HALF_END - 1 - below(8);                  /* crossing into non-canonical */
    case 10: return LOWER_HALF_END + below(1ull << 40) * 8;        /* non-canonical */
    case 11: return HV_DIRECT_MAP + below(1ull << 30) * 8;         /* hv's direct map */
    case 12: return HV_CORE + below(1ull << 24) * 8;               /* hv's core */
    case 13: return UINT64_MAX - below(64);
    case 14: return 1ull << 63;
    case 15: return ARENA + below(ARENA_PAGES * PAGE);             /* maybe mapped by the fuzz */
    case 16: return HV_GUEST_MAP_LIMIT - 8 + below(16);
    case 17: return HV_GUEST_IMAGE_MAX - 8 + below(16);
    case 18: return 0x10000000ull + below(1ull << 30);             /* unmapped, lower half */
    case 19: return (uint64_t)(uintptr_t)"companion";              /* a peer's name */
    case 20: return (uint64_t)(uintptr_t)"no-such-guest";
    default: return next();
    }
}

static uint64_t hostile_number(void)
{
    switch (below(8)) {
    case 0: case 1: return boundary_numbers[below(sizeof(boundary_numbers) / sizeof(uint64_t))];
    case 2: return below(20);                                      /* small: ids, ports, spaces */
    case 3: return HV_EVTCHN_PORTS - 2 + below(4);                 /* ports at the edge */
    case 4: return (uint64_t)-(int64_t)(1 + below(16));
    case 5: return hostile_pointer();
    case 6: return next() >> below(64);
    default: return next();
    }
}

static uint64_t arg(void)
{
    return below(3) == 0 ? hostile_pointer() : hostile_number();
}

/* A hypercall number: mostly in range, sometimes far outside. */
static uint64_t pick_number(void)
{
    uint64_t k = below(HV_CALL_COUNT + EXTRA_NUMBERS);
    if (k < HV_CALL_COUNT)
        return k;
    static const uint64_t outside[] = { HV_CALL_COUNT, HV_CALL_COUNT + 1, 0xff, 0x100,
                                        0x100000000ull + HV_CALL_EXIT, 0x8000000000000000ull,
                                        UINT64_MAX };
    if (k == HV_CALL_COUNT)
        return next();
    return outside[below(sizeof(outside) / sizeof(outside[0]))];
}

/* --- plausible arguments -----------------------------------------------------------
 * Arguments that are all hostile stop at the first check; these get each
 * call deep into its work, and then one or two of them are made hostile. */

static uint64_t scratch(void)
{
    return heap_start + below(PAGE / 64) * 64;
}

static uint64_t some_source(void)
{
    switch (below(6)) {
    case 0: return 0;                                          /* fresh pages */
    case 1: return heap_start + below(4) * PAGE;
    case 2: return (uint64_t)(uintptr_t)&next & ~(PAGE - 1);   /* its code */
    case 3: return si_va;                                      /* read-only */
    case 4: return shared_va;
    default: return ARENA + below(ARENA_PAGES) * PAGE;
    }
}

static const char *some_name(void)
{
    switch (below(4)) {
    case 0: return "companion";
    case 1: return my_name;
    case 2: return "no-such-guest";
    default: return "";
    }
}

static void plausible(uint64_t nr, uint64_t a[6])
{
    uint64_t code = (uint64_t)(uintptr_t)&next;
    uint64_t *buf = (uint64_t *)(uintptr_t)heap_start;
    switch (nr) {
    case HV_CALL_GUEST_INFO: a[0] = scratch(); break;
    case HV_CALL_VCPU_INFO: a[0] = below(4); a[1] = scratch(); break;
    case HV_CALL_SET_TRAP_TABLE:
        for (unsigned i = 0; i < 8; i++) {
            buf[2 * i] = below(256) | below(8) << 8;
            buf[2 * i + 1] = below(2) ? code : hostile_pointer();
        }
        a[0] = heap_start;
        a[1] = below(9);
        break;
    case HV_CALL_SET_SYSCALL: a[0] = code; a[1] = below(2); break;
    case HV_CALL_SET_KERNEL_STACK: a[0] = heap_start + below(4) * PAGE; break;
    case HV_CALL_USER_SPACE_DESTROY:
    case HV_CALL_SET_USER_SPACE: a[0] = below(HV_MAX_USER_SPACES + 2); break;
    case HV_CALL_MEM_MAP:
    case HV_CALL_MEM_UNMAP:
    case HV_CALL_MEM_PROTECT:
        a[0] = below(HV_MAX_USER_SPACES + 2);
        a[1] = (below(2) ? ARENA : 0x400000ull) + below(ARENA_PAGES) * PAGE;
        a[2] = 1 + below(8);
        if (nr == HV_CALL_MEM_MAP) {
            a[3] = some_source();
            a[4] = below(8);
        } else {
            a[3] = below(8);
        }
        break;
    case HV_CALL_SET_UPCALL: a[0] = code; break;
    case HV_CALL_EVTCHN_BIND_VIRQ: a[0] = below(4); break;
    case HV_CALL_EVTCHN_ALLOC_UNBOUND: a[0] = (uint64_t)(uintptr_t)some_name(); break;
    case HV_CALL_EVTCHN_BIND_PEER:
        a[0] = (uint64_t)(uintptr_t)some_name();
        a[1] = below(HV_EVTCHN_PORTS + 4);
        break;
    case HV_CALL_EVTCHN_BIND_IPI: a[0] = below(4); break;
    case HV_CALL_EVTCHN_SEND:
    case HV_CALL_EVTCHN_CLOSE:
    case HV_CALL_EVTCHN_UNMASK: a[0] = below(HV_EVTCHN_PORTS + 4); break;
    case HV_CALL_EVTCHN_STATUS: a[0] = below(HV_EVTCHN_PORTS + 4); a[1] = scratch(); break;
    case HV_CALL_POLL:
        for (unsigned i = 0; i < 9; i++)
            ((uint32_t *)buf)[i] = (uint32_t)below(HV_EVTCHN_PORTS + 4);
        a[0] = heap_start;
        a[1] = below(18);
        break;
    case HV_CALL_SET_TIMER: a[0] = below(2) ? 0 : hvg_now() + below(HVG_MS(1)); break;
    case HV_CALL_CONSOLE_READ: a[0] = scratch(); a[1] = below(300); break;
    }
}

/* --- the call --------------------------------------------------------------------- */

static bool stops_or_stalls(uint64_t nr)
{
    return nr == HV_CALL_EXIT || nr == HV_CALL_VCPU_EXIT || nr == HV_CALL_BLOCK ||
           nr == HV_CALL_IRET;
}

/* Keeps a normal-mode call from ending or stalling the fuzzer itself. */
static void tame(uint64_t nr, uint64_t a[6])
{
    switch (nr) {
    case HV_CALL_POLL:
        /* no deadline (0) or a far one would sleep as long as it likes */
        a[2] = below(2) ? 1 : hvg_now() + below(HVG_US(100)) + 1;
        break;
    case HV_CALL_MEM_MAP:
    case HV_CALL_MEM_UNMAP:
    case HV_CALL_MEM_PROTECT:
        /* in its own kernel space only at or above the arena */
        if (a[0] == HV_SPACE_KERNEL && a[1] < ARENA)
            a[1] = below(2) ? ARENA + below(ARENA_PAGES) * PAGE : hostile_pointer() | ARENA;
        break;
    case HV_CALL_CONSOLE_WRITE:
        /* Any length from where nothing can be read; a few bytes of text
         * from where something can (binary would only fill the log). */
        if (below(2)) {
            a[0] = (uint64_t)(uintptr_t)"~~~~~~~~" + below(4);
            a[1] = below(5);
        } else {
            a[0] = below(2) ? LOWER_HALF_END + below(1ull << 40) : HV_CORE + below(1ull << 20);
        }
        break;
    }
    if (page_cap && (nr == HV_CALL_MEM_MAP || nr == HV_CALL_MEM_UNMAP ||
                     nr == HV_CALL_MEM_PROTECT))
        a[2] %= page_cap + 1;
}

/* HV_CALL_IRET with rsp at frame; comes back to iret_back when hv refuses
 * the frame, or when it takes a frame whose rip is iret_back. */
int64_t iret_with_frame(uint64_t frame);
extern char iret_back[];
__asm__(".pushsection .text\n"
        "iret_with_frame:\n"
        "    push %rbx\n"
        "    mov %rsp, %rbx\n"
        "    mov %rdi, %rsp\n"
        "    mov $10, %eax\n"
        "    syscall\n"
        "iret_back:\n"
        "    mov %rbx, %rsp\n"
        "    pop %rbx\n"
        "    ret\n"
        ".popsection\n");

#define IRET_TAKEN 0x1ee7

static struct hv_iret_frame iret_frame;

static uint64_t pick(const uint64_t *v, unsigned n)
{
    return below(4) ? v[below(n)] : hostile_number();
}

/* A random frame, each field mostly one of a few telling values. */
static int64_t random_iret(void)
{
    static const uint64_t cs[] = { HV_KERNEL_CS, HV_USER_CS, 0x08, 0x10, 0x18, 0x20, 0,
                                   HV_KERNEL_CS & ~3ull, HV_USER_CS & ~3ull };
    static const uint64_t ss[] = { HV_DATA_SS, 0, 0x10, HV_DATA_SS & ~3ull, 0x2b };
    static const uint64_t flags[] = { 0x202, 0x3202, 0x20202, 0x4202, 0x10202, 0x40202,
                                      0x200202, UINT64_MAX, 0 };
    uint64_t sp;
    __asm__ volatile("mov %%rsp, %0" : "=r"(sp));
    iret_frame = (struct hv_iret_frame){
        .rax = IRET_TAKEN,
        .flags = below(4) ? 0 : hostile_number(),
        .rip = below(2) ? (uint64_t)(uintptr_t)iret_back : hostile_pointer(),
        .cs = pick(cs, sizeof(cs) / 8),
        .rflags = pick(flags, sizeof(flags) / 8),
        .rsp = below(2) ? sp - 256 : hostile_pointer(),
        .ss = pick(ss, sizeof(ss) / 8),
    };
    uint64_t at = below(4) ? hostile_pointer() : (uint64_t)(uintptr_t)&iret_frame;
    return iret_with_frame(at);
}

static int64_t raw_call(uint64_t nr, const uint64_t a[6])
{
    if (nr == HV_CALL_IRET)
        return random_iret();
    return hvg_hypercall6(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

static void judge(uint64_t nr, const uint64_t a[6], int64_t r)
{
    unsigned slot = nr < HV_CALL_COUNT ? (unsigned)nr : HV_CALL_COUNT;
    per_call[slot]++;
    if (r >= 0) {
        per_ok[slot]++;
    } else {
        per_err[slot]++;
        if (-r < 128)
            err_count[-r]++;
    }
    checks++;
    bool ok = nr >= HV_CALL_COUNT ? r == -HV_ENOSYS : (r >= 0 || documented_error(r));
    if (nr == HV_CALL_IRET)     /* it returns only on an error, or to iret_back */
        ok = r == IRET_TAKEN || r == -HV_EINVAL || r == -HV_EFAULT;
    if (!ok)
        fail("call %llu: nr 0x%llx (0x%llx, 0x%llx, 0x%llx, 0x%llx, 0x%llx, 0x%llx) "
             "returned %lld\n", (unsigned long long)calls_done, (unsigned long long)nr,
             (unsigned long long)a[0], (unsigned long long)a[1], (unsigned long long)a[2],
             (unsigned long long)a[3], (unsigned long long)a[4], (unsigned long long)a[5],
             (long long)r);
}

/* How long each number's calls took (system time, so a switch to another
 * guest on the way out counts too: reported, not judged here). */
static void note_time(uint64_t nr, const uint64_t a[6], uint64_t took)
{
    unsigned slot = nr < HV_CALL_COUNT ? (unsigned)nr : HV_CALL_COUNT;
    if (took > slowest_ns[slot])
        slowest_ns[slot] = took;
    if (took < SLOW_NS || nr == HV_CALL_YIELD || nr == HV_CALL_POLL || nr == HV_CALL_BLOCK)
        return;
    if (++slow_calls <= 20)
        hvg_printf("%s: slow: call %llu: nr %llu (0x%llx, 0x%llx, 0x%llx, 0x%llx) took %llu ms\n",
                   my_name, (unsigned long long)calls_done, (unsigned long long)nr,
                   (unsigned long long)a[0], (unsigned long long)a[1], (unsigned long long)a[2],
                   (unsigned long long)a[3], (unsigned long long)(took / 1000000));
}

/* After a call: put back what the fuzzer itself relies on. */
static void restore(uint64_t nr)
{
    if (nr == HV_CALL_SET_UPCALL)
        hvg_set_upcall(hvg_upcall_stub(0));
    hvg_vcpu_shared(0)->upcall_mask = 1;
}

/* hv must never have written these (read-only, or a refused output). */
static void check_untouched(void)
{
    checks++;
    if (memcmp((const void *)(uintptr_t)si_va, &si_copy, sizeof(si_copy)) != 0)
        fail("the read-only start-info page changed\n");
    static const uint8_t zero[8];
    checks++;
    if (memcmp((const void *)(uintptr_t)(heap_end - 8), zero, 8) != 0)
        fail("the last 8 bytes of the heap were written (a page-crossing output was refused "
             "after a partial write?)\n");
    checks++;
    if (memcmp((const void *)(uintptr_t)(shared_va + PAGE - 8), zero, 8) != 0)
        fail("the last 8 bytes of the shared page were written\n");
}

/* --- parameters from the name ------------------------------------------------------ */

static bool parse_number(const char *p, uint64_t *out)
{
    uint64_t v = 0;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++)
        v = v * 10 + (uint64_t)(*p - '0');
    *out = v;
    return *p == '\0' || *p == '-';
}

static void parse_name(const char *name, bool *have_seed)
{
    for (const char *p = name; *p; p++) {
        if (*p != '-')
            continue;
        if (p[1] == 'n')
            parse_number(p + 2, &calls_wanted);
        else if (p[1] == 's')
            *have_seed = parse_number(p + 2, &rng);
        else if (p[1] == 'm')
            parse_number(p + 2, &page_cap);
        else if (p[1] == 'v' && (p[2] == '\0' || p[2] == '-'))
            verbose = true;
        else if (p[1] == 'e' && p[2] == 'n' && p[3] == 'd' && (p[4] == '\0' || p[4] == '-'))
            end_mode = true;
    }
}

/* --- the two vCPUs ---------------------------------------------------------------- */

static void report(void)
{
    for (unsigned i = 0; i <= HV_CALL_COUNT; i++) {
        if (!per_call[i])
            continue;
        hvg_printf("%s: nr %u (%s): %llu calls, %llu >= 0, %llu errors, slowest %llu us\n",
                   my_name, i, i < HV_CALL_COUNT ? call_names[i] : "out of range",
                   (unsigned long long)per_call[i], (unsigned long long)per_ok[i],
                   (unsigned long long)per_err[i], (unsigned long long)(slowest_ns[i] / 1000));
    }
    hvg_printf("%s: errors:", my_name);
    for (unsigned e = 1; e < 128; e++)
        if (err_count[e])
            hvg_printf(" -%u x %llu", e, (unsigned long long)err_count[e]);
    hvg_printf("\n");
}

static int fuzz(void)
{
    hvg_printf("%s: seed %llu, %llu calls, mode %s\n", my_name, (unsigned long long)rng,
               (unsigned long long)calls_wanted, end_mode ? "end" : "normal");
    if (page_cap)
        hvg_printf("%s: memory calls name at most %llu pages\n", my_name,
                   (unsigned long long)page_cap);
    uint64_t step = calls_wanted / 10 ? calls_wanted / 10 : 1;
    while (calls_done < calls_wanted) {
        uint64_t nr = pick_number();
        if (!end_mode && stops_or_stalls(nr))
            continue;
        uint64_t a[6];
        for (unsigned i = 0; i < 6; i++)
            a[i] = arg();
        if (below(2)) {
            plausible(nr, a);
            for (unsigned k = below(3); k > 0; k--)
                a[below(6)] = arg();
        }
        if (end_mode && stops_or_stalls(nr) && nr != HV_CALL_IRET && below(4))
            continue;   /* the sacrificial guest still makes most calls before it ends */
        tame(nr, a);
        if (verbose)
            hvg_printf("%s: call %llu: nr 0x%llx (0x%llx, 0x%llx, 0x%llx, 0x%llx, 0x%llx, 0x%llx)\n",
                       my_name, (unsigned long long)calls_done, (unsigned long long)nr,
                       (unsigned long long)a[0], (unsigned long long)a[1],
                       (unsigned long long)a[2], (unsigned long long)a[3],
                       (unsigned long long)a[4], (unsigned long long)a[5]);
        uint64_t t0 = hvg_now();
        int64_t r = raw_call(nr, a);
        uint64_t took = hvg_now() - t0;
        calls_done++;
        judge(nr, a, r);
        note_time(nr, a, took);
        restore(nr);
        if ((calls_done & 1023) == 0)
            check_untouched();
        if (calls_done % step == 0)
            hvg_printf("%s: %llu calls\n", my_name, (unsigned long long)calls_done);
    }
    check_untouched();
    report();
    if (failures) {
        hvg_printf("%s: %llu of %llu checks FAILED (%llu calls)\n", my_name,
                   (unsigned long long)failures, (unsigned long long)checks,
                   (unsigned long long)calls_done);
        return 1;
    }
    hvg_printf("%s: all %llu checks passed (%llu calls)\n", my_name, (unsigned long long)checks,
               (unsigned long long)calls_done);
    return 0;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    if (vcpu != 0) {
        /* An id the calls can name (VCPU_INFO, BIND_IPI): it only waits. */
        hvg_events_init(vcpu);
        for (;;)
            hvg_block();
    }
    my_name = si->name;
    memcpy(&si_copy, si, sizeof(si_copy));
    si_va = (uint64_t)(uintptr_t)si;
    shared_va = si->shared_va;
    heap_start = si->heap_start;
    heap_end = si->heap_start + si->heap_bytes;
    if (heap_start == 0 || si->heap_bytes < 4 * PAGE) {
        hvg_printf("%s: FAILED: needs a heap of at least 16 KiB\n", my_name);
        return 1;
    }
    bool have_seed = false;
    parse_name(si->name, &have_seed);
    if (!have_seed)
        rng = hvg_rdtsc() ^ ((uint64_t)si->guest_id << 48);
    int64_t r = hvg_events_init(0);
    if (r != 0) {
        hvg_printf("%s: FAILED: hvg_events_init: %lld\n", my_name, (long long)r);
        return 1;
    }
    hvg_vcpu_shared(0)->upcall_mask = 1;
    return fuzz();
}
