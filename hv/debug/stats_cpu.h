/* The statistics line's counters, one set per CPU (in struct percpu), so
 * no two CPUs write the same word: each CPU bumps its own (one `incq
 * %gs:...` for an event, as cheap as the hv-wide counter it replaces), and
 * the line (hv/debug/stats.c, on the boot CPU) sums them. Pure: host unit
 * tests run the sum. */
#pragma once

#include <stdint.h>

struct cpu_stats {
    uint64_t events;      /* ports made pending by this CPU */
    uint64_t late_max_ns; /* worst vCPU timer lateness since the last line */
};

/* The line's figures from n CPUs' counters: events summed, the worst
 * lateness taken and each CPU's set back to 0 (an exchange: a CPU raising
 * its own figure at that moment keeps it for the next line or loses only
 * that one comparison, never corrupts a count). */
void stats_cpu_sum(struct cpu_stats *const *cpus, uint32_t n, uint64_t *events,
                   uint64_t *late_max_ns);
