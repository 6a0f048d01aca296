/* Two vCPUs of one guest on two CPUs (hv.cfg `[guest mm-race] cpus = 0-1`
 * at SMP 2): memory changes must reach the other CPU before the hypercall
 * that made them returns (TLB shootdown, hv/cpu/tlb_shootdown.h), and
 * MEM_* calls made at once must leave the tables and the allowance
 * consistent (the guest's mm_lock).
 *
 *   1. unmap: vCPU 1 reads a page in a loop; vCPU 0 unmaps it and then
 *      raises a flag. Every read vCPU 1 makes after it saw the flag must
 *      fault (reach its #PF handler): a read that succeeds went through a
 *      stale translation to the old frame.
 *   2. read-only: the same with writes, and MEM_PROTECT to read-only.
 *   3. both vCPUs map, unmap and protect pages of one 16-page range at
 *      once, many times; every answer must be one the ABI allows for some
 *      order of the calls, and once both are done and the range is
 *      unmapped, the memory charged (HV_CALL_GUEST_INFO) is what it was
 *      before.
 * Prints "mm-race: unmap: R rounds, F faults, 0 stale" (and read-only),
 * "mm-race: MEM_* race: ... charged as before" and exits 0 when all held. */
#include "hvg.h"
#include "hvg_cpu.h"
#include "pv_common.h"

HV_GUEST_NOTE("mm-race", HVG_MIB(4), 2, 0);

#define RW (HV_PROT_READ | HV_PROT_WRITE)
#define RO (HV_PROT_READ)
#define PAGE_VA 0x0000500000000000ull
#define RANGE_VA 0x0000510000000000ull
#define RANGE_PAGES 16
#define ROUNDS 64
#define RACE_CALLS 400
#define WARM_READS 2000     /* accesses before the change: the TLB holds the page */
#define MAX_SPINS 200000000 /* a bound on every wait (hv's time limit ends it first) */

enum mode { MODE_READ, MODE_WRITE };

static volatile uint64_t go_round, ack_round; /* vCPU 0 -> 1, vCPU 1 -> 0 */
static volatile int changed;                 /* vCPU 0: the hypercall has returned */
static volatile uint64_t accesses, faults, stale, unexpected;
static volatile int race_ready, race_done;
static volatile enum mode mode;

static void on_pf(struct hvg_trap_frame *f)
{
    if (f->rip == pv_fault_rip) {
        faults++;
        f->rip = pv_resume_rip;
        return;
    }
    unexpected++;
    hvg_printf("mm-race: FAILED: unexpected #PF at rip 0x%llx, address 0x%llx\n",
               (unsigned long long)f->rip, (unsigned long long)hvg_fault_address(1));
    hvg_exit(1);
}

static void install_pf(void)
{
    struct hvg_trap_spec pf = {HVG_PF, 0, on_pf};
    if (hvg_traps_install(&pf, 1) != 0) {
        hvg_printf("mm-race: FAILED: cannot register #PF\n");
        hvg_exit(1);
    }
}

/* One access; true when it faulted. The flag is read before the access
 * (x86 keeps a load before a later load or store). */
static bool access_once(enum mode m)
{
    uint64_t before = faults, v;
    if (m == MODE_READ)
        __asm__ volatile(PV_ARM "8: mov (%[p]), %[v]\n9:"
                         : PV_ARM_OUT, [v] "=r"(v) : [p] "r"(PAGE_VA) : "rax", "memory");
    else
        __asm__ volatile(PV_ARM "8: movq $1, (%[p])\n9:"
                         : PV_ARM_OUT : [p] "r"(PAGE_VA) : "rax", "memory");
    (void)v;
    return faults != before;
}

/* vCPU 1's side of a round: access until a fault. */
static void victim_round(void)
{
    for (;;) {
        int after = __atomic_load_n(&changed, __ATOMIC_ACQUIRE);
        if (access_once(mode))
            return;
        if (after) {
            stale++; /* the change had returned, and the access still went through */
            return;
        }
        accesses++;
    }
}

static bool wait_until(volatile uint64_t *what, uint64_t value)
{
    for (long i = 0; i < MAX_SPINS; i++) {
        if (__atomic_load_n(what, __ATOMIC_ACQUIRE) >= value)
            return true;
        if (i % 4096 == 4095)
            hvg_yield(); /* on one CPU the other vCPU needs it */
    }
    return false;
}

static void vcpu1(void)
{
    install_pf();
    for (uint64_t round = 1; round <= 2 * ROUNDS; round++) {
        if (!wait_until(&go_round, round))
            break;
        victim_round();
        __atomic_store_n(&ack_round, round, __ATOMIC_RELEASE);
    }
}

static int change_rounds(enum mode m, uint64_t first_round)
{
    uint64_t stale_before = stale, faults_before = faults;
    mode = m;
    for (uint64_t i = 0; i < ROUNDS; i++) {
        uint64_t round = first_round + i;
        if (hvg_mem_map(HV_SPACE_KERNEL, PAGE_VA, 1, 0, RW) != 0) {
            hvg_printf("mm-race: FAILED: map of the page\n");
            return 1;
        }
        *(volatile uint64_t *)PAGE_VA = 0x5a5a5a5a5a5a5a5aull;
        __atomic_store_n(&changed, 0, __ATOMIC_RELEASE);
        uint64_t start = accesses;
        __atomic_store_n(&go_round, round, __ATOMIC_RELEASE);
        /* Let the victim warm its TLB (bounded: on one CPU it may not run). */
        for (long s = 0; s < MAX_SPINS && accesses - start < WARM_READS; s++)
            if (s % 4096 == 4095)
                hvg_yield();
        int64_t rc = m == MODE_READ ? hvg_mem_unmap(HV_SPACE_KERNEL, PAGE_VA, 1)
                                    : hvg_mem_protect(HV_SPACE_KERNEL, PAGE_VA, 1, RO);
        __atomic_store_n(&changed, 1, __ATOMIC_RELEASE);
        if (rc != 0) {
            hvg_printf("mm-race: FAILED: %s -> %lld\n", m == MODE_READ ? "unmap" : "protect",
                       (long long)rc);
            return 1;
        }
        if (!wait_until(&ack_round, round)) {
            hvg_printf("mm-race: FAILED: vCPU 1 did not finish round %llu\n",
                       (unsigned long long)round);
            return 1;
        }
        if (m == MODE_WRITE && hvg_mem_unmap(HV_SPACE_KERNEL, PAGE_VA, 1) != 0) {
            hvg_printf("mm-race: FAILED: unmap after protect\n");
            return 1;
        }
    }
    hvg_printf("mm-race: %s: %d rounds, %llu faults, %llu stale\n",
               m == MODE_READ ? "unmap while reading" : "read-only while writing", ROUNDS,
               (unsigned long long)(faults - faults_before),
               (unsigned long long)(stale - stale_before));
    return stale != stale_before || faults - faults_before != ROUNDS;
}

static uint64_t charged(void)
{
    struct hv_guest_info info;
    return hvg_guest_info(&info) == 0 ? info.memory_used_bytes : UINT64_MAX;
}

/* A small generator per vCPU (no shared state). */
static uint64_t next_random(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* One raw call (no SDK loop), so every answer is seen. The answers any
 * order of the two vCPUs' calls allows: a count of pages handled, or
 * EEXIST (map over a mapped page), ENOENT (protect of an unmapped one). */
static uint64_t race_bad;

static void race_calls(unsigned vcpu)
{
    uint64_t seed = 0x9e3779b97f4a7c15ull * (vcpu + 1);
    for (int i = 0; i < RACE_CALLS; i++) {
        uint64_t r = next_random(&seed);
        uint64_t first = r % RANGE_PAGES, n = 1 + (r >> 8) % (RANGE_PAGES - first);
        uint64_t va = RANGE_VA + first * PAGE;
        int64_t rc;
        switch ((r >> 16) % 3) {
        case 0:
            rc = hvg_hypercall6(HV_CALL_MEM_MAP, HV_SPACE_KERNEL, va, n, 0, RW, 0);
            if (rc != -HV_EEXIST && (rc < 1 || (uint64_t)rc > n))
                race_bad++;
            break;
        case 1:
            rc = hvg_hypercall6(HV_CALL_MEM_UNMAP, HV_SPACE_KERNEL, va, n, 0, 0, 0);
            if (rc < 1 || (uint64_t)rc > n)
                race_bad++;
            break;
        default:
            rc = hvg_hypercall6(HV_CALL_MEM_PROTECT, HV_SPACE_KERNEL, va, n, (r >> 20) & 1 ? RO : RW, 0, 0);
            if (rc != -HV_ENOENT && (rc < 1 || (uint64_t)rc > n))
                race_bad++;
            break;
        }
        if (race_bad) {
            hvg_printf("mm-race: FAILED: vCPU %u: call %d answered %lld\n", vcpu, i, (long long)rc);
            return;
        }
    }
}

static int mem_race(void)
{
    uint64_t before = charged();
    __atomic_store_n(&race_ready, 1, __ATOMIC_RELEASE);
    race_calls(0);
    for (long s = 0; s < MAX_SPINS && !__atomic_load_n(&race_done, __ATOMIC_ACQUIRE); s++)
        if (s % 4096 == 4095)
            hvg_yield();
    if (!race_done) {
        hvg_printf("mm-race: FAILED: vCPU 1 did not finish its MEM_* calls\n");
        return 1;
    }
    int64_t rc = hvg_mem_unmap(HV_SPACE_KERNEL, RANGE_VA, RANGE_PAGES);
    uint64_t after = charged();
    /* Mapping the whole range works once it is empty: nothing half-mapped stayed. */
    int64_t whole = hvg_mem_map(HV_SPACE_KERNEL, RANGE_VA, RANGE_PAGES, 0, RW);
    int64_t again = hvg_mem_unmap(HV_SPACE_KERNEL, RANGE_VA, RANGE_PAGES);
    hvg_printf("mm-race: MEM_* race: %d calls per vCPU, unmap %lld, charged %llu bytes "
               "before and %llu after, remap %lld/%lld%s\n",
               RACE_CALLS, (long long)rc, (unsigned long long)before, (unsigned long long)after,
               (long long)whole, (long long)again,
               rc == 0 && after == before && whole == 0 && again == 0 && !race_bad
                   ? ", charged as before"
                   : ": FAILED");
    return !(rc == 0 && after == before && whole == 0 && again == 0 && !race_bad);
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    if (vcpu == 1) {
        vcpu1();
        for (long s = 0; s < MAX_SPINS && !race_ready; s++)
            if (s % 4096 == 4095)
                hvg_yield();
        race_calls(1);
        __atomic_store_n(&race_done, 1, __ATOMIC_RELEASE);
        return 0;
    }
    if (si->vcpu_count != 2) {
        hvg_printf("mm-race: FAILED: %u vCPUs\n", si->vcpu_count);
        return 1;
    }
    install_pf();
    int bad = change_rounds(MODE_READ, 1);
    bad |= change_rounds(MODE_WRITE, ROUNDS + 1);
    bad |= mem_race();
    if (!bad && !unexpected)
        hvg_printf("mm-race: all checks passed\n");
    return bad || unexpected;
}
