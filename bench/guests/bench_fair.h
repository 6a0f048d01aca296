/* fairness_error_pct (docs/benchmarks.md): what bench-fair (the three
 * spinning guests, weights 1:2:4) and bench-spinpoll (the attacker) share.
 *
 * All four measure their run-state running time over one window of system
 * time, [start_ns, end_ns), agreed through the [shm BENCH_FAIR_SHM] region
 * bench/run.py declares: each guest counts itself in `arrived`, and the one
 * that completes the count sets the window BENCH_FAIR_SETTLE_NS after that
 * moment, so every guest has run before it opens.
 *
 * A guest's running time at a moment T of the window, read while it runs
 * (its run-state record says RUNNING since state_entry_ns, time_ns[RUNNING]
 * before that): time_ns[RUNNING] + (T - state_entry_ns) if it has been
 * running since before T, else time_ns[RUNNING] -- it was off the CPU from T
 * until it resumed, except for at most one iteration of its loop between its
 * last look at the clock before T and being stopped (bench_fair_burn and a
 * clock reading: about 850 instructions, 7 us, which the result may
 * overstate by). */
#pragma once

#include "hvg.h"
#include "hvg_event.h"

#define BENCH_FAIR_SHM "bench-fair"
#define BENCH_FAIR_GUESTS 4
#define BENCH_FAIR_SETTLE_NS 50000000ull   /* 50 ms: every guest has run once */
#define BENCH_FAIR_WINDOW_NS 1000000000ull /* 1 s */

struct bench_fair_shm {
    uint32_t arrived;  /* guests that have started */
    uint32_t pad;
    uint64_t start_ns; /* the window, set by the last to arrive; 0 until then */
    uint64_t end_ns;
};

struct bench_fair_window {
    volatile struct bench_fair_shm *shm;
    uint64_t start_ns, end_ns;
    uint64_t running_at_start; /* valid once have_start */
    uint64_t running_ns;       /* in the window, once it has closed */
    bool have_start;
};

/* Joins the others and waits (spinning) until the window is set. Exits the
 * guest with status 1, after an error line, without the shared region. */
static inline void bench_fair_join(struct bench_fair_window *w)
{
    const struct hv_shm_info *info = hvg_shm(BENCH_FAIR_SHM);
    if (!info || !info->writable || info->bytes < sizeof(struct bench_fair_shm)) {
        hvg_printf("bench: error name=fairness_error_pct reason=\"no writable [shm "
                   BENCH_FAIR_SHM "]\" result=0\n");
        hvg_exit(1);
    }
    w->shm = (volatile struct bench_fair_shm *)(uintptr_t)info->va;
    w->have_start = false;
    w->running_at_start = w->running_ns = 0;
    if (__atomic_add_fetch(&w->shm->arrived, 1, __ATOMIC_SEQ_CST) == BENCH_FAIR_GUESTS) {
        uint64_t start = hvg_now() + BENCH_FAIR_SETTLE_NS;
        w->shm->end_ns = start + BENCH_FAIR_WINDOW_NS;
        __atomic_store_n(&w->shm->start_ns, start, __ATOMIC_RELEASE);
    }
    while (!__atomic_load_n(&w->shm->start_ns, __ATOMIC_ACQUIRE))
        hvg_cpu_relax();
    w->start_ns = w->shm->start_ns;
    w->end_ns = w->shm->end_ns;
}

/* This vCPU's running time at moment t <= now (see the top of the file). */
static inline uint64_t bench_fair_running_at(uint64_t t)
{
    struct hv_runstate rs = hvg_runstate(0);
    uint64_t ran = rs.time_ns[HV_RUNSTATE_RUNNING];
    if (rs.state == HV_RUNSTATE_RUNNING && t >= rs.state_entry_ns)
        ran += t - rs.state_entry_ns;
    return ran;
}

/* Work between two looks at the clock: about 800 instructions. Reading the
 * TSC is slow under QEMU's -icount (it ends a translation block), so a loop
 * made only of clock readings would make the boot take several times longer;
 * 800 instructions are 6.4 us, a few millionths of the window. */
static inline void bench_fair_burn(void)
{
    for (unsigned i = 0; i < 256; i++)
        __asm__ volatile("" ::: "memory");
}

/* Looks at the clock once, after bench_fair_burn(); true when the window has closed (then
 * w->running_ns is the running time within it). */
static inline bool bench_fair_step(struct bench_fair_window *w)
{
    bench_fair_burn();
    uint64_t now = hvg_now();
    if (!w->have_start && now >= w->start_ns) {
        w->running_at_start = bench_fair_running_at(w->start_ns);
        w->have_start = true;
    }
    if (now < w->end_ns)
        return false;
    w->running_ns = bench_fair_running_at(w->end_ns) - w->running_at_start;
    return true;
}

/* The guest's line for bench/run.py; `extra` is appended as it is. */
static inline void bench_fair_report(const struct bench_fair_window *w, const char *extra)
{
    hvg_printf("bench: name=fair_share guest=%s running_ns=%llu window_ns=%llu start_ns=%llu%s\n",
               hvg_start_info()->name, (unsigned long long)w->running_ns,
               (unsigned long long)(w->end_ns - w->start_ns), (unsigned long long)w->start_ns,
               extra);
}
