#include "hv/debug/stats_cpu.h"

void stats_cpu_sum(struct cpu_stats *const *cpus, uint32_t n, uint64_t *events,
                   uint64_t *late_max_ns)
{
    uint64_t sum = 0, late = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (!cpus[i])
            continue;
        sum += __atomic_load_n(&cpus[i]->events, __ATOMIC_RELAXED);
        uint64_t l = __atomic_exchange_n(&cpus[i]->late_max_ns, 0, __ATOMIC_RELAXED);
        if (l > late)
            late = l;
    }
    *events = sum;
    *late_max_ns = late;
}
