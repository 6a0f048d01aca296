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
#include "hcall_fuzz_args.h"

HV_GUEST_NOTE("", HVG_MIB(8), 2, 0);

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
