/* What the benchmark guests of `make bench` share (docs/benchmarks.md).
 * bench/run.py reads BENCH_WORK_ROUNDS from this file to give hv the same
 * workload size ([hv] bench_native_rounds), and BENCH_EVENT_SHM to declare
 * the shared region of event_cross_guest, so keep both plain literals. */
#pragma once

#include <stdint.h>

/* Default sampling of a figure: samples thrown away first, then samples kept.
 * The issue asks for at least 1000 kept samples per figure. */
#define BENCH_WARMUP 100
#define BENCH_ITERATIONS 1000

/* vcpu_switch: bench-main and bench-peer yield to each other in lockstep.
 * The peer makes exactly this many yields, one per sample of bench-main
 * (warm-up included), then one more that bench-main's last yield releases,
 * and exits. */
#define VCPU_SWITCH_WARMUP BENCH_WARMUP
#define VCPU_SWITCH_ITERATIONS BENCH_ITERATIONS
#define VCPU_SWITCH_PEER_YIELDS (VCPU_SWITCH_WARMUP + VCPU_SWITCH_ITERATIONS)

/* cpu_overhead_pct: rounds of lib/bench_work.c's bench_workload, about
 * 294,000 instructions each (40 rounds: ~11.8 M instructions, ~94 ms of
 * guest time under -icount shift=3, so ~9 scheduler ticks land in a run). */
#define BENCH_WORK_ROUNDS 40

/* event_cross_guest: bench-main sends on a channel to bench-event, whose
 * upcall handler stamps the TSC as its first instruction into this struct,
 * at the start of the shared region [shm BENCH_EVENT_SHM] that bench/run.py
 * declares in boot a's hv.cfg (map = bench-main:rw bench-event:rw; run.py
 * reads the name from here). bench-event fills in `port` and then `state`
 * before bench-main ever runs (its ESP file sorts first); bench-main binds
 * to the port, sends, reads `stamp` and `upcalls`, and sets `quit` (and
 * sends once more) to let bench-event end. */
#define BENCH_EVENT_SHM "bench-ev"
#define BENCH_EVENT_GUEST "bench-event"
#define BENCH_EVENT_READY 0x7964616572747665ull /* "evtready" */
#define BENCH_EVENT_FAILED 0x6c69616674747665ull /* "evtfail" */

struct bench_event_shm {
    uint64_t state;   /* 0, then BENCH_EVENT_READY or BENCH_EVENT_FAILED */
    uint32_t port;    /* bench-event's port, allocated for bench-main */
    uint32_t quit;    /* set by bench-main: bench-event ends after the next event */
    uint64_t stamp;   /* TSC at the first instruction of the last upcall (offset 16) */
    uint64_t upcalls; /* upcalls entered (offset 24) */
};

/* HV_CALL_BLOCK for guests whose upcall handler (minimal inline asm) runs
 * right after the `syscall` and leaves rdx changed. */
static inline int64_t bench_block(void)
{
    int64_t r;

    __asm__ volatile("syscall"
                     : "=a"(r)
                     : "a"((uint64_t)HV_CALL_BLOCK)
                     : "rcx", "rdx", "r11", "memory");
    return r;
}

/* timer_late_under_attack (bench-timer beside bench-attack): after its
 * warm-up, bench-timer takes samples for this long of system time (up to
 * TIMER_ATTACK_SAMPLES_MAX), so they cover several rounds of the attacker's
 * loop whether its calls are long (today's) or bounded and many. */
#define TIMER_ATTACK_WARMUP 20
#define TIMER_ATTACK_NS 1000000000ull
#define TIMER_ATTACK_SAMPLES_MAX 16384
