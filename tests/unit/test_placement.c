/* hv/sched/placement.c: affinity lists, placement on the CPU with the
 * fewest vCPUs, the per-CPU weight split, and (simulated with fair.c, one
 * fair queue per CPU as hv/sched/sched.c keeps them) that the split keeps
 * a guest's weight its share of the whole machine. */
#include <stddef.h>

#include "check.h"
#include "hv/sched/fair.h"
#include "hv/sched/placement.h"

#define MS 1000000ull

static void lists_parse(void)
{
    uint64_t s = 0;
    CHECK(cpu_list_parse("2", &s) && s == 0x4);
    CHECK(cpu_list_parse("2-3", &s) && s == 0xc);
    CHECK(cpu_list_parse("0,2,5", &s) && s == 0x25);
    CHECK(cpu_list_parse(" 0 - 1 , 4 ", &s) && s == 0x13);
    CHECK(cpu_list_parse("63", &s) && s == 1ull << 63);
    CHECK(cpu_list_parse("0-63", &s) && s == ~0ull);
    CHECK(cpu_list_parse("3,3,2-3", &s) && s == 0xc);
    s = 0x77;
    const char *bad[] = {"", " ", "64", "1-64", "3-2", "a", "1,", ",1", "1-", "-1", "1 2",
                         "007", "1;2", "0x1", "1--2", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(!cpu_list_parse(bad[i], &s));
    CHECK_EQ_U64(s, 0x77); /* untouched by a refusal */
    CHECK(!cpu_list_parse(NULL, &s));
}

static void lists_format(void)
{
    char b[40];
    cpu_list_format(0, b, sizeof(b));
    CHECK_STR_EQ(b, "none");
    cpu_list_format(0x13, b, sizeof(b));
    CHECK_STR_EQ(b, "0-1,4");
    cpu_list_format(0x25, b, sizeof(b));
    CHECK_STR_EQ(b, "0,2,5");
    cpu_list_format(~0ull, b, sizeof(b));
    CHECK_STR_EQ(b, "0-63");
    cpu_list_format(1ull << 63 | 1, b, sizeof(b));
    CHECK_STR_EQ(b, "0,63");
    cpu_list_format(0x5555, b, 6); /* cut, still terminated */
    CHECK_STR_EQ(b, "0,2,4");
    uint64_t back = 0;
    cpu_list_format(0xf0f1, b, sizeof(b));
    CHECK(cpu_list_parse(b, &back) && back == 0xf0f1);
}

static void places_on_the_least_loaded_allowed_cpu(void)
{
    uint32_t placed[4] = {0, 0, 0, 0};
    /* Four vCPUs of a guest without affinity: one per CPU. */
    for (int i = 0; i < 4; i++) {
        int c = sched_place(cpu_set_of_count(4), placed, 4);
        CHECK_EQ_U64(c, i);
        placed[c]++;
    }
    /* A guest pinned to 2-3 lands there, on the emptier one. */
    placed[2] = 3;
    CHECK_EQ_U64(sched_place(0xc, placed, 4), 3);
    /* A tie goes to the lowest index. */
    placed[2] = 1;
    CHECK_EQ_U64(sched_place(0xc, placed, 4), 2);
    /* Never a CPU hv does not use, never outside the set. */
    CHECK_EQ_U64(sched_place(0x30, placed, 4), (uint64_t)-1);
    CHECK_EQ_U64(sched_place(0, placed, 4), (uint64_t)-1);
    CHECK_EQ_U64(cpu_set_of_count(1), 1);
    CHECK_EQ_U64(cpu_set_of_count(64), ~0ull);
    CHECK_EQ_U64(cpu_set_of_count(65), ~0ull);
}

static void weight_splits_by_vcpus_placed(void)
{
    CHECK_EQ_U64(sched_weight_on_cpu(256, 1, 1), 256);
    CHECK_EQ_U64(sched_weight_on_cpu(256, 2, 2), 256);
    CHECK_EQ_U64(sched_weight_on_cpu(256, 1, 4), 64);
    CHECK_EQ_U64(sched_weight_on_cpu(256, 3, 4), 192);
    CHECK_EQ_U64(sched_weight_on_cpu(100, 1, 3), 33);
    CHECK_EQ_U64(sched_weight_on_cpu(1, 1, 16), 1); /* never 0 */
    CHECK_EQ_U64(sched_weight_on_cpu(65535, 1, 2), 32768);
    CHECK_EQ_U64(sched_weight_on_cpu(0, 1, 2), 1);
    CHECK_EQ_U64(sched_weight_on_cpu(70000, 2, 2), 65535);
    CHECK_EQ_U64(sched_weight_on_cpu(256, 0, 0), 256);
}

/* --- whole-machine shares, simulated ------------------------------------------ */

#define SIM_CPUS 4
#define SIM_GUESTS 6

/* A guest: its weight and how many of its (always runnable) vCPUs sit on
 * each CPU. */
struct sim_guest {
    uint32_t weight;
    uint32_t on[SIM_CPUS];
    uint64_t ran;
};

/* Each CPU picks among its entities, one per (guest, CPU) with the split
 * weight, the way sched.c's decisions drive fair.c, for `span` of time. */
static void simulate(struct sim_guest *g, int n, uint64_t span)
{
    static struct fair_entity e[SIM_GUESTS][SIM_CPUS];
    for (int c = 0; c < SIM_CPUS; c++) {
        struct fair_queue q;
        fair_queue_init(&q);
        for (int i = 0; i < n; i++) {
            uint32_t total = 0;
            for (int k = 0; k < SIM_CPUS; k++)
                total += g[i].on[k];
            if (!g[i].on[c])
                continue;
            fair_entity_init(&e[i][c], sched_weight_on_cpu(g[i].weight, g[i].on[c], total));
            fair_enqueue(&q, &e[i][c]);
        }
        for (uint64_t t = 0; t < span && q.count;) {
            uint64_t run = 0;
            struct fair_entity *p = fair_pick(&q, NULL, &run);
            fair_charge_run(p, run);
            t += run;
            for (int i = 0; i < n; i++)
                if (p == &e[i][c])
                    g[i].ran += run;
        }
    }
}

/* Guest i's share of the machine, in tenths of a percent. */
static uint64_t permille(const struct sim_guest *g, uint64_t span)
{
    return (g->ran * 1000 + span * SIM_CPUS / 2) / (span * SIM_CPUS);
}

static void weights_are_shares_of_the_whole_machine(void)
{
    uint64_t span = 2000 * MS;
    /* Two guests on every CPU, weights 1:2: a third and two thirds of the
     * machine, whatever their vCPU counts (4 and 8 vCPUs). */
    struct sim_guest a[2] = {{256, {1, 1, 1, 1}, 0}, {512, {2, 2, 2, 2}, 0}};
    simulate(a, 2, span);
    CHECK(permille(&a[0], span) >= 328 && permille(&a[0], span) <= 338);
    CHECK(permille(&a[1], span) >= 662 && permille(&a[1], span) <= 672);

    /* One guest of weight 256 with a vCPU on each CPU, against four of
     * weight 64 with one vCPU each, one per CPU: the big one has half the
     * machine, as its weight is half the total. */
    struct sim_guest b[5] = {{256, {1, 1, 1, 1}, 0}, {64, {1, 0, 0, 0}, 0},
                             {64, {0, 1, 0, 0}, 0},  {64, {0, 0, 1, 0}, 0},
                             {64, {0, 0, 0, 1}, 0}};
    simulate(b, 5, span);
    CHECK(permille(&b[0], span) >= 495 && permille(&b[0], span) <= 505);
    for (int i = 1; i < 5; i++)
        CHECK(permille(&b[i], span) >= 120 && permille(&b[i], span) <= 130);

    /* More vCPUs on one CPU do not get a guest more of that CPU: 3 vCPUs
     * against 1, equal weights, half of CPU 0 each. */
    struct sim_guest c[2] = {{256, {3, 0, 0, 0}, 0}, {256, {1, 0, 0, 0}, 0}};
    simulate(c, 2, span);
    CHECK(permille(&c[0], span) >= 120 && permille(&c[0], span) <= 130);
    CHECK(permille(&c[1], span) >= 120 && permille(&c[1], span) <= 130);
}

/* Load balancing's target: the lowest CPU both idle and allowed. */
static void balance_sends_to_lowest_idle_allowed_cpu(void)
{
    CHECK_EQ_U64(balance_pick_cpu(0, ~0ull), (uint64_t)-1);
    CHECK_EQ_U64(balance_pick_cpu(0xe, 0), (uint64_t)-1);
    CHECK_EQ_U64(balance_pick_cpu(0xe, ~0ull), 1);
    /* Affinity 2-3: CPU 1 idle is not for it. */
    CHECK_EQ_U64(balance_pick_cpu(0xe, 0xc), 2);
    CHECK_EQ_U64(balance_pick_cpu(0x2, 0xc), (uint64_t)-1);
    CHECK_EQ_U64(balance_pick_cpu(1ull << 63, ~0ull), 63);
}

/* Balancing between busy CPUs: the least loaded open, allowed CPU, only
 * if it has at least 2 fewer vCPUs running or runnable than this one. */
static void balance_evens_busy_cpus_by_two_or_more(void)
{
    uint32_t load[4] = {3, 1, 2, 0};
    /* 3 beside 1: one goes (3 -> 2, 1 -> 2). */
    CHECK_EQ_U64(balance_pick_target(0x2, ~0ull, load, 4, 3), 1);
    /* 2 beside 1: a move would only swap them. */
    CHECK_EQ_U64(balance_pick_target(0x2, ~0ull, load, 4, 2), (uint64_t)-1);
    /* The least loaded of the open ones, idle first; affinity. */
    CHECK_EQ_U64(balance_pick_target(0xe, ~0ull, load, 4, 3), 3);
    CHECK_EQ_U64(balance_pick_target(0xe, 0x6, load, 4, 3), 1);
    CHECK_EQ_U64(balance_pick_target(0xe, 0x4, load, 4, 3), (uint64_t)-1); /* 2 + 2 > 3 */
    CHECK_EQ_U64(balance_pick_target(0xe, 0x4, load, 4, 4), 2);
    /* A tie: the lowest index. */
    uint32_t tie[4] = {5, 1, 1, 1};
    CHECK_EQ_U64(balance_pick_target(0xe, ~0ull, tie, 4, 5), 1);
    /* One waiting vCPU (2 running or runnable) goes to an idle CPU. */
    uint32_t idle[2] = {2, 0};
    CHECK_EQ_U64(balance_pick_target(0x2, ~0ull, idle, 2, 2), 1);
    /* Nothing open, a CPU beyond ncpus, a load that could wrap. */
    CHECK_EQ_U64(balance_pick_target(0, ~0ull, load, 4, 9), (uint64_t)-1);
    CHECK_EQ_U64(balance_pick_target(0x10, ~0ull, load, 4, 9), (uint64_t)-1);
    uint32_t big[2] = {0, 0xffffffffu};
    CHECK_EQ_U64(balance_pick_target(0x2, ~0ull, big, 2, 1), (uint64_t)-1);
    CHECK_EQ_U64(balance_pick_target(0x2, ~0ull, big, 2, 0xffffffffu), (uint64_t)-1);
}

/* A vCPU moved from CPU 0 to CPU 1 moves its share of its guest's weight:
 * a guest of weight 256 with 2 vCPUs, both on CPU 0 (one entity of 256)
 * and then one on each (two of 128; fair_set_weight on the one left, a new
 * entity on CPU 1), beside a guest of weight 256 with one vCPU on each CPU
 * (128 each): simulated after the move, the two guests share the machine
 * equally, as before it. */
static void moved_vcpu_takes_its_weight_share(void)
{
    struct fair_entity stay;
    fair_entity_init(&stay, sched_weight_on_cpu(256, 2, 2));
    fair_charge(&stay, 3 * MS);
    uint64_t vt = stay.vtime;
    fair_set_weight(&stay, sched_weight_on_cpu(256, 1, 2));
    CHECK_EQ_U64(stay.weight, 128);
    CHECK_EQ_U64(stay.vtime, vt); /* its place in the queue stays */
    CHECK_EQ_U64(stay.lag, fair_scale(&stay, FAIR_QUANTUM_NS));
    CHECK_EQ_U64(stay.lag, 2 * FAIR_QUANTUM_NS);
    fair_set_weight(&stay, 0);
    CHECK_EQ_U64(stay.weight, 1);
    fair_set_weight(&stay, 1u << 20);
    CHECK_EQ_U64(stay.weight, 65535);

    uint64_t span = 2000 * MS;
    struct sim_guest a[2] = {{256, {1, 1, 0, 0}, 0}, {256, {1, 1, 0, 0}, 0}};
    simulate(a, 2, span);
    /* Two CPUs of the four busy: each guest a quarter of the machine. */
    CHECK(permille(&a[0], span) >= 245 && permille(&a[0], span) <= 255);
    CHECK(permille(&a[1], span) >= 245 && permille(&a[1], span) <= 255);
}

int main(void)
{
    check_suite = "placement";
    RUN_TEST(balance_sends_to_lowest_idle_allowed_cpu);
    RUN_TEST(balance_evens_busy_cpus_by_two_or_more);
    RUN_TEST(moved_vcpu_takes_its_weight_share);
    RUN_TEST(lists_parse);
    RUN_TEST(lists_format);
    RUN_TEST(places_on_the_least_loaded_allowed_cpu);
    RUN_TEST(weight_splits_by_vcpus_placed);
    RUN_TEST(weights_are_shares_of_the_whole_machine);
    return check_finish();
}
