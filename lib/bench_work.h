/* The CPU-bound workload behind the cpu_overhead_pct benchmark: the same
 * C, compiled with the same code-generation flags, runs natively in hv
 * before any guest starts and inside a benchmark guest, so the difference
 * in instructions is what running under hv costs. Integer only. */
#pragma once

#include <stdint.h>

/* A CRC-32 (reflected, polynomial 0xedb88320) over a generated buffer,
 * `rounds` times; returns the last CRC so the work cannot be optimised out. */
uint32_t bench_workload(uint32_t rounds);
