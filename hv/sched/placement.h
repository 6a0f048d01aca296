/* Where a guest's vCPUs run: its affinity (hv.cfg `[guest NAME] cpus =`),
 * the CPU each new vCPU is placed on, and the share of the guest's weight
 * each CPU's fair queue gives it. Pure code (no hardware, no allocation),
 * unit-tested on the host (tests/unit/test_placement.c).
 *
 * A CPU set is a 64-bit mask of CPU indices (0: the boot CPU, then the APs
 * in the order they came up: hv's own numbering, not APIC IDs): guests
 * run on CPUs 0..63 at most (hv may bring up a 65th, SMP_MAX_CPUS APs
 * beside the boot CPU; no vCPU is placed there). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPU_SET_MAX 64 /* CPUs a set can name: 0..63 */

/* The set {0, .., n - 1} (n > 64: the 64 a set can name). */
static inline uint64_t cpu_set_of_count(uint32_t n)
{
    return n >= CPU_SET_MAX ? ~0ull : (1ull << n) - 1;
}

/* Parses a CPU list: comma-separated CPU numbers and ranges, such as "2",
 * "2-3", "0,2,5" or "0-1, 4"; spaces around the numbers are allowed.
 * Numbers are decimal, 0..63, a range's first no greater than its last.
 * False (and *set untouched) for anything else, the empty list included. */
bool cpu_list_parse(const char *text, uint64_t *set);
/* Writes set as a list ("0-1,4"; "none" when empty) into buf, NUL-terminated,
 * cut to cap bytes. */
void cpu_list_format(uint64_t set, char *buf, size_t cap);

/* The CPU a new vCPU goes on: of the CPUs in `allowed` below ncpus, the
 * one with the fewest vCPUs placed (placed[i]), the lowest index on a tie;
 * -1 when allowed holds none of them. */
int sched_place(uint64_t allowed, const uint32_t *placed, uint32_t ncpus);

/* A guest's weight in one CPU's fair queue, where `here` of its `total`
 * vCPUs are placed: its weight times here / total, rounded to nearest, at
 * least 1, at most 65535. One fair entity per (guest, CPU): a guest's
 * vCPUs on one CPU share one entity (more vCPUs there do not get it more
 * of that CPU), and its weight is split across the CPUs it is on, so its
 * share of the whole machine is its weight's, not its weight's times the
 * CPUs it spans (docs/design.md, "Scheduling on several CPUs"). */
uint32_t sched_weight_on_cpu(uint32_t weight, uint32_t here, uint32_t total);

/* Where load balancing sends a waiting vCPU: the lowest CPU that is both
 * idle (idle_cpus) and in its guest's affinity (allowed); -1 if none. */
int balance_pick_cpu(uint64_t idle_cpus, uint64_t allowed);

/* Where a CPU with `my_load` vCPUs running or runnable sends one of its
 * waiting ones: of the CPUs in `open` (may take one now) and `allowed`
 * (its guest's affinity) below ncpus, the one with the fewest (load[i]),
 * the lowest index on a tie, if that leaves it at least 2 fewer than this
 * CPU: a move that only swaps which CPU is the busier would go back and
 * forth. An idle CPU has load 0, so one waiting vCPU (my_load 2) goes to
 * it. -1: none. */
int balance_pick_target(uint64_t open, uint64_t allowed, const uint32_t *load, uint32_t ncpus,
                        uint32_t my_load);
