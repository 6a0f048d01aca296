/* HV_CALL_SET_TRAP_TABLE, HV_CALL_MEM_UNMAP and HV_CALL_USER_SPACE_DESTROY
 * storms beside a timer (tests/system/attack_cases.py,
 * test_trap_table_storm_keeps_a_timer_on_time,
 * test_unmap_storm_keeps_a_timer_on_time,
 * test_destroy_storm_keeps_a_timer_on_time,
 * test_storms_from_four_vcpus_end_cleanly_beside_a_timer). One image, six
 * names:
 *
 *   trap-storm  calls HV_CALL_SET_TRAP_TABLE with 256 entries back to back
 *               until it is the only guest left: 255 valid ones (vectors
 *               0-31 get a handler, int3's a wrong one; 32-254 are removed)
 *               and a bad one last (a reserved field set), so every call
 *               checks all 256 and must return -HV_EINVAL having changed
 *               nothing; then an int3 must reach the handler installed
 *               before the storm. Prints
 *                   trap-storm: C calls, all -HV_EINVAL, table unchanged
 *   trap-unmap  maps 8 read-only aliases (a page a call) and unmaps them with raw
 *               HV_CALL_MEM_UNMAPs, round after round, until it is the
 *               only guest left; prints
 *                   trap-unmap: R rounds, C unmap calls, S cut short
 *   trap-destroy maps the same 8 aliases in a user space of their own
 *               and destroys it with raw HV_CALL_USER_SPACE_DESTROYs, round
 *               after round, until it is the only guest left; prints
 *                   trap-destroy: R rounds, C destroy calls, S cut short
 *               (S: rounds that took more calls than the fewest any took)
 *   trap-late   takes TIMER_SAMPLES one-shot timers 100 us + 0..63 us ahead
 *               (as bench-timer) and prints the lateness of each upcall:
 *                   trap-late: max X ns median M ns over N samples
 *               (trap-late-long: as many as fit in LONG_NS, the median
 *               of the last TIMER_SAMPLES)
 *   trap-hammer both storms at once from four vCPUs of one guest (hv.cfg
 *               `vcpus = 4`, tests/system/attack_cases.py
 *               test_storms_from_four_vcpus_end_cleanly_beside_a_timer): vCPUs 0
 *               and 1 map their own 8 pages of one 16-page range (even
 *               pages vCPU 0's, odd ones vCPU 1's) and unmap the whole
 *               range, so each unmaps pages the other just mapped and the
 *               page tables are emptied and freed under the other's calls;
 *               vCPUs 2 and 3 run trap-storm's calls on the one table (vCPU
 *               2 setting and removing one valid entry of it between its
 *               calls, under vCPU 3's calls in pieces), and
 *               vCPU 3's timer fires every ~20 us of its run, its callback
 *               calling HV_CALL_SET_TRAP_TABLE on a second bad table in the
 *               middle of the interrupted call, which drops the call's
 *               stage (it starts over). vCPU 0 prints
 *                   trap-hammer: R rounds, C unmap calls, S cut short; T
 *                   table calls (E from events), all -HV_EINVAL, tables
 *                   unchanged
 *               (one line) once all four have stopped.
 *
 * hv runs a hypercall with interrupts off: a call of 256 entries in one
 * piece (~9,000 instructions) made the timer wait for all of it. */
#include "hvg.h"
#include "hvg_cpu.h"
#include "hvg_event.h"

HV_GUEST_NOTE("", HVG_MIB(4), 1, 0);

#define TIMER_SAMPLES 400
#define TIMER_BASE_NS 100000
#define LONG_NS HVG_MS(1200) /* trap-late-long: past hv's statistics line at 1 s */

static bool others_running(void)
{
    struct hv_guest_info info;
    return hvg_guest_info(&info) == 0 && info.guests_running > 1;
}

/* --- trap-storm ------------------------------------------------------------ */

static volatile unsigned int3_seen;

static void on_int3(struct hvg_trap_frame *f)
{
    (void)f;
    int3_seen++;
}

/* Where the storm's table would send int3: reaching it means a failed call
 * changed the table. */
static void wrong_int3(void)
{
    hvg_printf("trap-storm: FAIL: int3 reached the handler of a call that failed\n");
    hvg_exit(3);
}

static struct hv_trap_info table[256];

/* 255 valid entries and a bad one at `bad`. */
static void build_table(struct hv_trap_info *t, unsigned bad)
{
    for (unsigned v = 0; v < 256; v++) {
        t[v].vector = (uint8_t)v;
        t[v].handler = v >= 32 ? 0 : v == 3 ? (uint64_t)(uintptr_t)wrong_int3 : hvg_trap_stub(v);
    }
    t[bad].reserved0 = 1;
}

static int storm(void)
{
    static const struct hvg_trap_spec before[] = {{3, 0, on_int3}};
    if (hvg_traps_install(before, 1) != 0) {
        hvg_printf("trap-storm: FAIL: installing int3's handler\n");
        return 1;
    }
    build_table(table, 255);
    uint64_t calls = 0;
    while (others_running()) {
        int64_t r = hvg_set_trap_table(table, 256);
        calls++;
        if (r != -HV_EINVAL) {
            hvg_printf("trap-storm: FAIL: call %llu returned %lld, not -HV_EINVAL\n",
                       (unsigned long long)calls, (long long)r);
            return 1;
        }
    }
    __asm__ volatile("int3" ::: "memory");
    if (int3_seen != 1) {
        hvg_printf("trap-storm: FAIL: int3 reached its handler %u times\n", int3_seen);
        return 1;
    }
    hvg_printf("trap-storm: %llu calls, all -HV_EINVAL, table unchanged\n",
               (unsigned long long)calls);
    return 0;
}

/* --- trap-unmap ------------------------------------------------------------- */

#define UNMAP_PAGES 8
#define UNMAP_VA 0x40000000ull /* 1 GiB, tables of its own */
static uint8_t unmap_src[(UNMAP_PAGES + 1) * 4096] __attribute__((aligned(4096)));

/* Maps UNMAP_PAGES read-only aliases of its own pages, one a call, and
 * unmaps them with raw HV_CALL_MEM_UNMAPs (a budget's worth, ~4,500
 * instructions a call), round after round; a ninth alias stays, so no call
 * frees the table. */
static int unmap_storm(void)
{
    uint64_t rounds = 0, calls = 0, cut = 0;
    uint64_t src = (uint64_t)(uintptr_t)unmap_src;
    if (hvg_mem_map(0, UNMAP_VA + UNMAP_PAGES * 4096, 1, src + UNMAP_PAGES * 4096,
                    HV_PROT_READ) != 0) {
        hvg_printf("trap-unmap: FAIL: the ninth alias\n");
        return 1;
    }
    while (others_running()) {
        for (uint64_t i = 0; i < UNMAP_PAGES; i++) /* a page a call: short calls */
            if (hvg_mem_map(0, UNMAP_VA + i * 4096, 1, src + i * 4096, HV_PROT_READ) != 0) {
                hvg_printf("trap-unmap: FAIL: mapping round %llu\n", (unsigned long long)rounds);
                return 1;
            }
        for (uint64_t done = 0; done < UNMAP_PAGES;) {
            int64_t r = hvg_hypercall6(HV_CALL_MEM_UNMAP, 0, UNMAP_VA + done * 4096,
                                       UNMAP_PAGES - done, 0, 0, 0);
            if (r < 1 || (uint64_t)r > UNMAP_PAGES - done) {
                hvg_printf("trap-unmap: FAIL: MEM_UNMAP returned %lld\n", (long long)r);
                return 1;
            }
            calls++;
            cut += (uint64_t)r < 7 && (uint64_t)r < UNMAP_PAGES - done; /* 7: a budget's */
            done += (uint64_t)r;
        }
        rounds++;
    }
    hvg_printf("trap-unmap: %llu rounds, %llu unmap calls, %llu cut short\n",
               (unsigned long long)rounds, (unsigned long long)calls, (unsigned long long)cut);
    return 0;
}

/* --- trap-hammer ------------------------------------------------------------- */

#define HAMMER_VCPUS 4
#define HAMMER_PAGES 16
#define HAMMER_VA 0x80000000ull /* 2 GiB, tables of their own */
#define TICK_NS HVG_US(20)
static uint8_t hammer_src[HAMMER_PAGES * 4096] __attribute__((aligned(4096)));
static struct hv_trap_info table_b[256];
static unsigned hammer_stopped;
static volatile unsigned hammer_failed, ticking;
static uint64_t h_rounds[2], h_calls[2], h_cut[2], h_table_calls[2];
static volatile uint64_t h_event_calls;

static void hammer_fail(unsigned vcpu, const char *what, int64_t r)
{
    hvg_printf("trap-hammer: FAIL: vCPU %u: %s (%lld)\n", vcpu, what, (long long)r);
    hammer_failed = 1;
}

/* vCPU k (0 or 1): its own pages k, k + 2, ... mapped one a call, then the
 * whole range unmapped with raw calls, the other's pages too. */
static void hammer_unmap(unsigned k)
{
    uint64_t src = (uint64_t)(uintptr_t)hammer_src;
    while (!hammer_failed && others_running()) {
        for (uint64_t i = k; i < HAMMER_PAGES; i += 2) {
            int64_t r = hvg_mem_map(0, HAMMER_VA + i * 4096, 1, src + i * 4096, HV_PROT_READ);
            if (r != 0)
                return hammer_fail(k, "MEM_MAP", r);
        }
        for (uint64_t done = 0; done < HAMMER_PAGES;) {
            int64_t r = hvg_hypercall6(HV_CALL_MEM_UNMAP, 0, HAMMER_VA + done * 4096,
                                       HAMMER_PAGES - done, 0, 0, 0);
            if (r < 1 || (uint64_t)r > HAMMER_PAGES - done)
                return hammer_fail(k, "MEM_UNMAP", r);
            h_calls[k]++;
            h_cut[k] += (uint64_t)r < 7 && (uint64_t)r < HAMMER_PAGES - done;
            done += (uint64_t)r;
        }
        h_rounds[k]++;
    }
}

/* vCPU 3's timer: a call on another table in the middle of the one the
 * timer interrupted (its stage dropped), and the next tick. */
static void hammer_tick(unsigned port, unsigned vcpu, void *arg)
{
    (void)port;
    (void)arg;
    int64_t r = hvg_set_trap_table(table_b, 256);
    h_event_calls++;
    if (r != -HV_EINVAL)
        hammer_fail(vcpu, "SET_TRAP_TABLE from the timer's callback", r);
    if (ticking)
        hvg_set_timer(hvg_now() + TICK_NS);
}

/* A software-interrupt vector of the storm's table that vCPU 2 sets and
 * removes in turn (either is a valid entry: the bad last one still wins). */
#define HAMMER_FLIP 100

static void hammer_table(unsigned vcpu)
{
    static const struct hvg_trap_spec before[] = {{3, 0, on_int3}};
    int64_t r = hvg_traps_install(before, 1);
    if (r != 0)
        return hammer_fail(vcpu, "installing int3's handler", r);
    if (vcpu == 3) {
        int64_t port = hvg_events_init(vcpu) == 0 ? hvg_timer_port(vcpu) : -1;
        if (port < 0 || hvg_event_handler((unsigned)port, hammer_tick, NULL) != 0)
            return hammer_fail(vcpu, "binding the timer", port);
        ticking = 1;
        hvg_set_timer(hvg_now() + TICK_NS);
        hvg_events_unmask(vcpu);
    }
    while (!hammer_failed && others_running()) {
        /* vCPU 2 changes one valid entry of the buffer between its calls,
         * so it changes under vCPU 3's calls, between their pieces. */
        if (vcpu == 2)
            __atomic_store_n(&table[HAMMER_FLIP].handler,
                             table[HAMMER_FLIP].handler ? 0 : hvg_trap_stub(HAMMER_FLIP),
                             __ATOMIC_RELAXED);
        r = hvg_set_trap_table(table, 256);
        h_table_calls[vcpu - 2]++;
        if (r != -HV_EINVAL)
            return hammer_fail(vcpu, "SET_TRAP_TABLE", r);
    }
    if (vcpu == 3) {
        hvg_events_mask(vcpu);
        ticking = 0;
        hvg_set_timer(0);
    }
    __asm__ volatile("int3" ::: "memory");
}

static int hammer(const struct hv_start_info *si, unsigned vcpu)
{
    if (si->vcpu_count != HAMMER_VCPUS || vcpu >= HAMMER_VCPUS) {
        hvg_printf("trap-hammer: FAIL: %u vCPUs, %u expected\n", si->vcpu_count, HAMMER_VCPUS);
        return 1;
    }
    if (vcpu == 0) { /* before the others start their calls: they yield until then */
        build_table(table, 255);
        build_table(table_b, 0);
        __atomic_store_n(&hammer_stopped, 0x100, __ATOMIC_RELEASE);
    }
    while (__atomic_load_n(&hammer_stopped, __ATOMIC_ACQUIRE) < 0x100)
        hvg_yield();
    if (vcpu < 2)
        hammer_unmap(vcpu);
    else
        hammer_table(vcpu);
    __atomic_fetch_add(&hammer_stopped, 1, __ATOMIC_ACQ_REL);
    if (vcpu != 0)
        return 0; /* ends this vCPU only */
    while (__atomic_load_n(&hammer_stopped, __ATOMIC_ACQUIRE) < 0x100 + HAMMER_VCPUS)
        hvg_yield();
    if (hammer_failed)
        return 1;
    if (int3_seen != 2) {
        hvg_printf("trap-hammer: FAIL: int3 reached its handler %u times, not 2\n", int3_seen);
        return 1;
    }
    hvg_printf("trap-hammer: %llu rounds, %llu unmap calls, %llu cut short; %llu table calls "
               "(%llu from events), all -HV_EINVAL, tables unchanged\n",
               (unsigned long long)(h_rounds[0] + h_rounds[1]),
               (unsigned long long)(h_calls[0] + h_calls[1]),
               (unsigned long long)(h_cut[0] + h_cut[1]),
               (unsigned long long)(h_table_calls[0] + h_table_calls[1] + h_event_calls),
               (unsigned long long)h_event_calls);
    return 0;
}

/* --- trap-destroy ------------------------------------------------------------ */

/* A user space with the UNMAP_PAGES aliases mapped (a page a call), torn
 * down with raw HV_CALL_USER_SPACE_DESTROYs: each call a step of a
 * budget's worth (HV_CONTINUE until the last), which ends after its
 * current page when an interrupt waits. The calls a round took; 0 for a
 * failure. */
static uint64_t space_round(uint64_t src)
{
    int64_t space = hvg_user_space_create();
    if (space <= 0)
        return 0;
    for (uint64_t i = 0; i < UNMAP_PAGES; i++)
        if (hvg_mem_map((uint64_t)space, UNMAP_VA + i * 4096, 1, src + i * 4096, HV_PROT_READ))
            return 0;
    uint64_t calls = 1;
    int64_t r;
    while ((r = hvg_hypercall1(HV_CALL_USER_SPACE_DESTROY, (uint64_t)space)) == HV_CONTINUE)
        if (++calls > 8 * UNMAP_PAGES) /* a page a step at least, and the last */
            return 0;
    return r == 0 ? calls : 0;
}

/* Rounds of space_round until it is the only guest left. A round that
 * took more calls than the fewest any took had a step cut short. */
static int destroy_storm(void)
{
    enum { MAX_ROUNDS = 4096 };
    static uint8_t took[MAX_ROUNDS];
    uint64_t rounds = 0, calls = 0, fewest = UINT64_MAX;
    uint64_t src = (uint64_t)(uintptr_t)unmap_src;
    while (others_running() && rounds < MAX_ROUNDS) {
        uint64_t c = space_round(src);
        if (!c) {
            hvg_printf("trap-destroy: FAIL: round %llu\n", (unsigned long long)rounds);
            return 1;
        }
        took[rounds++] = (uint8_t)c;
        calls += c;
        fewest = c < fewest ? c : fewest;
    }
    uint64_t cut = 0;
    for (uint64_t i = 0; i < rounds; i++)
        cut += took[i] > fewest;
    hvg_printf("trap-destroy: %llu rounds, %llu destroy calls, %llu cut short\n",
               (unsigned long long)rounds, (unsigned long long)calls, (unsigned long long)cut);
    return 0;
}

/* --- trap-late --------------------------------------------------------------- */

static volatile uint64_t upcalls, stamp;
static uint64_t samples[TIMER_SAMPLES];

static void on_timer(unsigned port, unsigned vcpu, void *arg)
{
    (void)port;
    (void)vcpu;
    (void)arg;
    stamp = hvg_now();
    upcalls++;
}

static int late(bool long_run)
{
    int64_t port = hvg_events_init(0) == 0 ? hvg_timer_port(0) : -1;
    if (port < 0 || hvg_event_handler((unsigned)port, on_timer, NULL) != 0) {
        hvg_printf("trap-late: FAIL: binding the timer\n");
        return 1;
    }
    uint64_t start = hvg_now(), max = 0;
    unsigned i = 0;
    for (; long_run ? hvg_now() - start < LONG_NS : i < TIMER_SAMPLES; i++) {
        uint64_t seen = upcalls;
        uint64_t deadline = hvg_now() + TIMER_BASE_NS + HVG_US((i * 7919u) % 64);
        if (hvg_sleep_until(0, deadline) != 0 || upcalls != seen + 1 || stamp < deadline) {
            hvg_printf("trap-late: FAIL: the timer's event (%llu after %llu)\n",
                       (unsigned long long)upcalls, (unsigned long long)seen);
            return 1;
        }
        samples[i % TIMER_SAMPLES] = stamp - deadline;
        max = stamp - deadline > max ? stamp - deadline : max;
    }
    unsigned kept = i < TIMER_SAMPLES ? i : TIMER_SAMPLES;
    for (unsigned gap = kept / 2; gap; gap /= 2) /* shell sort for the median */
        for (unsigned k = gap; k < kept; k++)
            for (unsigned j = k; j >= gap && samples[j - gap] > samples[j]; j -= gap) {
                uint64_t t = samples[j];
                samples[j] = samples[j - gap];
                samples[j - gap] = t;
            }
    hvg_printf("trap-late: max %llu ns median %llu ns over %u samples\n",
               (unsigned long long)max, (unsigned long long)samples[kept / 2], i);
    return 0;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    /* "trap-late" / "trap-late-long" / "trap-unmap" / "trap-hammer" / "trap-destroy" /
     * "trap-storm" */
    switch (si->name[5]) {
    case 'l':
        return late(si->name[9] == '-');
    case 'u':
        return unmap_storm();
    case 'h':
        return hammer(si, vcpu);
    case 'd':
        return destroy_storm();
    default:
        return storm();
    }
}
