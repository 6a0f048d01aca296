/* hv/debug/stats_cpu.c: the statistics line's per-CPU counters summed. */
#include "check.h"
#include "hv/debug/stats_cpu.h"

static void events_sum_and_lateness_is_the_worst(void)
{
    struct cpu_stats a = {.events = 5, .late_max_ns = 700}, b = {.events = 0, .late_max_ns = 0},
                     c = {.events = UINT32_MAX + 3ull, .late_max_ns = 9000};
    struct cpu_stats *cpus[] = {&a, &b, &c};
    uint64_t events, late;
    stats_cpu_sum(cpus, 3, &events, &late);
    CHECK_EQ_U64(events, 5ull + UINT32_MAX + 3);
    CHECK_EQ_U64(late, 9000);
}

/* Events are a count since the start (never reset); lateness is "since the
 * last line": each CPU's is taken and set back to 0. */
static void lateness_starts_again_events_do_not(void)
{
    struct cpu_stats a = {.events = 2, .late_max_ns = 50}, b = {.events = 3, .late_max_ns = 80};
    struct cpu_stats *cpus[] = {&a, &b};
    uint64_t events, late;
    stats_cpu_sum(cpus, 2, &events, &late);
    CHECK_EQ_U64(late, 80);
    CHECK_EQ_U64(a.late_max_ns, 0);
    CHECK_EQ_U64(b.late_max_ns, 0);
    a.events++;
    a.late_max_ns = 10;
    stats_cpu_sum(cpus, 2, &events, &late);
    CHECK_EQ_U64(events, 6);
    CHECK_EQ_U64(late, 10);
}

/* A CPU not registered yet (a hole in the table) counts nothing; no CPU
 * at all gives zeroes. */
static void missing_cpus_count_nothing(void)
{
    struct cpu_stats a = {.events = 7, .late_max_ns = 1};
    struct cpu_stats *cpus[] = {NULL, &a, NULL};
    uint64_t events = 99, late = 99;
    stats_cpu_sum(cpus, 3, &events, &late);
    CHECK_EQ_U64(events, 7);
    CHECK_EQ_U64(late, 1);
    stats_cpu_sum(cpus, 0, &events, &late);
    CHECK_EQ_U64(events, 0);
    CHECK_EQ_U64(late, 0);
}

int main(void)
{
    check_suite = "stats_cpu";
    RUN_TEST(events_sum_and_lateness_is_the_worst);
    RUN_TEST(lateness_starts_again_events_do_not);
    RUN_TEST(missing_cpus_count_nothing);
    return check_finish();
}
