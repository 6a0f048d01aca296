/* What the benchmark guests of `make bench` share (docs/benchmarks.md).
 * bench/run.py reads BENCH_WORK_ROUNDS from this file to give hv the same
 * workload size ([hv] bench_native_rounds), so keep it a plain number. */
#pragma once

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
