/* bench-smp: the cross-CPU figures of make bench (docs/benchmarks.md), at
 * SMP 5 under -icount (QEMU runs the CPUs round robin on one thread, moving
 * on at each `pause` or `hlt`: the TSC is one clock for all, counting every
 * CPU's instructions). bench/run.py names it bench-main (so bench-event
 * binds to it) with its 4 vCPUs on CPUs 0-3, and bench-event on CPU 4.
 *
 * ipi_event_cross_cpu: vCPU 0 sends on a channel to bench-event, blocked
 * on CPU 4 (its CPU idle): the sender's rdtsc before the send to the
 * receiver's rdtsc, the first instruction of its upcall (hv: the raise, the
 * push on CPU 4's wake list, the reschedule IPI, CPU 4 leaving hlt, the
 * drain and wake-up, the switch, the upcall's delivery). The sender waits
 * in a `pause` loop, which hands QEMU's thread to the other CPUs.
 *
 * tlb_shootdown: vCPUs 1-3 spin in the guest (its tables loaded on CPUs
 * 1-3); vCPU 0 maps a page (beside one that stays mapped, so its page
 * tables stay), writes it, and times HV_CALL_MEM_UNMAP of it:
 * hv flushes its own CPU and shoots down the other three (their IPIs, the
 * flushes, the acknowledgements) before the call returns.
 *
 * vCPUs 1-3 sleep (a poll with a 5 ms deadline, on a port never raised)
 * through the first figure, so the CPUs beside the pair are idle. */
#include "hvg.h"
#include "hvg_cpu.h"
#include "hvg_event.h"

#include "bench/guests/bench.h"

HV_GUEST_NOTE("bench-smp", HVG_MIB(4), 4, 0);

#define WARMUP 10
#define SAMPLES 101
#define PAGE_VA 0x0000500000000000ull
#define SETTLE_NS 50000ull
#define GIVE_UP_NS HVG_MS(20000)

static volatile unsigned phase; /* 0: helpers sleep, 1: helpers spin, 2: helpers end */
static unsigned spinning;
static uint64_t samples[SAMPLES];

static inline __attribute__((always_inline)) uint64_t tsc(void)
{
    uint64_t t;
    __asm__ volatile("rdtsc\n\tshl $32, %%rdx\n\tor %%rdx, %%rax" : "=a"(t) : : "rdx");
    return t;
}

/* `pause` until hvg_now() passes `until`: the other CPUs run meanwhile. */
static void wait_ns(uint64_t ns)
{
    uint64_t until = hvg_now() + ns;
    while (hvg_now() < until)
        __builtin_ia32_pause();
}

static void report(const char *name, unsigned target)
{
    for (unsigned i = 1; i < SAMPLES; i++) /* insertion sort: 101 samples */
        for (unsigned j = i; j > 0 && samples[j - 1] > samples[j]; j--) {
            uint64_t t = samples[j];
            samples[j] = samples[j - 1];
            samples[j - 1] = t;
        }
    hvg_printf("bench: name=%s unit=instructions tsc_median=%llu tsc_min=%llu tsc_max=%llu "
               "iterations=%u warmup=%u events=1 target=%u\n",
               name, (unsigned long long)samples[SAMPLES / 2], (unsigned long long)samples[0],
               (unsigned long long)samples[SAMPLES - 1], SAMPLES, WARMUP, target);
}

static int fail(const char *name, const char *why, int64_t result)
{
    hvg_printf("bench: error name=%s reason=\"%s\" result=%lld\n", name, why, (long long)result);
    phase = 2;
    return 1;
}

static int ipi_event_cross_cpu(void)
{
    const char *n = "ipi_event_cross_cpu";
    const struct hv_shm_info *shm = hvg_shm(BENCH_EVENT_SHM);
    if (!shm || !shm->writable || shm->bytes < sizeof(struct bench_event_shm))
        return fail(n, "no [shm " BENCH_EVENT_SHM "]", 0);
    volatile struct bench_event_shm *s = (volatile struct bench_event_shm *)(uintptr_t)shm->va;
    uint64_t give_up = hvg_now() + GIVE_UP_NS;
    while (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) != BENCH_EVENT_READY)
        if (hvg_now() > give_up)
            return fail(n, "bench-event is not waiting", 0);
        else
            __builtin_ia32_pause();
    int64_t port = hvg_evtchn_bind_peer(BENCH_EVENT_GUEST, s->port);
    if (port < 0 || port >= HV_EVTCHN_PORTS)
        return fail(n, "HV_CALL_EVTCHN_BIND_PEER(bench-event) failed", port);
    for (unsigned i = 0; i < WARMUP + SAMPLES; i++) {
        wait_ns(SETTLE_NS); /* bench-event back in its block, CPU 4 in hlt */
        uint64_t seen = s->upcalls;
        uint64_t t0 = tsc();
        int64_t r = hvg_evtchn_send((uint64_t)port);
        while (__atomic_load_n(&s->upcalls, __ATOMIC_ACQUIRE) == seen && r == 0)
            __builtin_ia32_pause();
        uint64_t t1 = s->stamp;
        if (r != 0 || t1 < t0)
            return fail(n, "HV_CALL_EVTCHN_SEND failed or no upcall", r);
        if (i >= WARMUP)
            samples[i - WARMUP] = t1 - t0;
    }
    report(n, 1677);
    __atomic_store_n(&s->quit, 1, __ATOMIC_RELEASE); /* bench-event ends after one more */
    hvg_evtchn_send((uint64_t)port);
    return 0;
}

static int tlb_shootdown(void)
{
    const char *n = "tlb_shootdown";
    phase = 1;
    uint64_t give_up = hvg_now() + GIVE_UP_NS;
    while (__atomic_load_n(&spinning, __ATOMIC_ACQUIRE) < 3)
        if (hvg_now() > give_up)
            return fail(n, "vCPUs 1-3 did not start spinning", 0);
        else
            __builtin_ia32_pause();
    /* A neighbour stays mapped: its page tables stay, so each unmap is of
     * one page, not a teardown of tables (which flushes everything). */
    int64_t kept = hvg_mem_map(HV_SPACE_KERNEL, PAGE_VA + 4096, 1, 0, HV_PROT_READ | HV_PROT_WRITE);
    if (kept != 0)
        return fail(n, "HV_CALL_MEM_MAP of the neighbour failed", kept);
    for (unsigned i = 0; i < WARMUP + SAMPLES; i++) {
        int64_t r = hvg_mem_map(HV_SPACE_KERNEL, PAGE_VA, 1, 0, HV_PROT_READ | HV_PROT_WRITE);
        if (r != 0)
            return fail(n, "HV_CALL_MEM_MAP failed", r);
        *(volatile uint64_t *)PAGE_VA = i;
        uint64_t t0 = tsc();
        r = hvg_mem_unmap(HV_SPACE_KERNEL, PAGE_VA, 1);
        uint64_t t1 = tsc();
        if (r != 0)
            return fail(n, "HV_CALL_MEM_UNMAP failed", r);
        if (i >= WARMUP)
            samples[i - WARMUP] = t1 - t0;
    }
    report(n, 3000);
    phase = 2;
    return 0;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    if (si->vcpu_count != 4)
        return 1;
    if (vcpu != 0) {
        uint32_t never = HV_EVTCHN_PORTS - 1;
        while (phase == 0)
            hvg_poll(&never, 1, hvg_now() + HVG_MS(5));
        __atomic_fetch_add(&spinning, 1, __ATOMIC_ACQ_REL);
        while (phase == 1)
            __builtin_ia32_pause();
        return 0;
    }
    int bad = ipi_event_cross_cpu();
    bad |= tlb_shootdown();
    return bad;
}
