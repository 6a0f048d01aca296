/* hv/sched/fair.c: the rules of fair.h one by one (the scenarios simulated
 * in virtual time are test_fair_sim.c). */
#include "tests/unit/fair_fixture.h"

/* --- the rules ------------------------------------------------------------------ */

static void charge_scales_by_weight(void)
{
    struct fair_entity a, b, c;
    fair_entity_init(&a, 256);
    fair_entity_init(&b, 512);
    fair_entity_init(&c, 0);
    fair_charge(&a, 10 * MS);
    fair_charge(&b, 10 * MS);
    fair_charge(&c, 1);
    CHECK_EQ_U64(a.vtime, 10 * MS);
    CHECK_EQ_U64(b.vtime, 5 * MS);
    CHECK_EQ_U64(c.weight, 1);
    CHECK_EQ_U64(c.vtime, 256);
    /* A huge charge is cut, never wraps. */
    fair_entity_init(&c, 1);
    fair_charge(&c, UINT64_MAX);
    CHECK_EQ_U64(c.vtime, FAIR_MAX_CHARGE_NS * 256);
    CHECK_EQ_U64(fair_unscale(&b, fair_scale(&b, 3 * MS)), 3 * MS);
}

static void picks_smallest_virtual_time(void)
{
    struct fair_queue q;
    struct fair_entity a, b, c;
    fair_queue_init(&q);
    fair_entity_init(&a, 256);
    fair_entity_init(&b, 256);
    fair_entity_init(&c, 256);
    CHECK(fair_pick(&q, NULL, NULL) == NULL);
    fair_enqueue(&q, &a);
    fair_enqueue(&q, &b);
    fair_enqueue(&q, &c);
    fair_charge(&a, 3 * MS);
    fair_charge(&b, 1 * MS);
    fair_charge(&c, 2 * MS);
    CHECK(fair_pick(&q, NULL, NULL) == &b);
    CHECK_EQ_U64(q.floor, 1 * MS);
    /* A yield skips the yielder while another is runnable... */
    CHECK(fair_pick(&q, &b, NULL) == &c);
    fair_dequeue(&q, &a);
    fair_dequeue(&q, &c);
    CHECK_EQ_U64(q.count, 1);
    /* ...and gets the yielder back when it is alone. */
    CHECK(fair_pick(&q, &b, NULL) == &b);
}

static void ties_go_in_order_of_becoming_runnable(void)
{
    struct fair_queue q;
    struct fair_entity a, b, c;
    fair_queue_init(&q);
    fair_entity_init(&a, 256);
    fair_entity_init(&b, 512);
    fair_entity_init(&c, 256);
    fair_enqueue(&q, &a);
    fair_enqueue(&q, &b);
    fair_enqueue(&q, &c);
    CHECK(fair_pick(&q, NULL, NULL) == &a); /* all at 0: load order */
    CHECK(fair_pick(&q, &a, NULL) == &b);
    fair_dequeue(&q, &a);
    fair_enqueue(&q, &a);             /* back, now last */
    CHECK(fair_pick(&q, NULL, NULL) == &b);
    fair_dequeue(&q, &b);
    fair_dequeue(&q, &a);
    CHECK(q.head == &c && q.tail == &c);
    fair_dequeue(&q, &c);
    CHECK(q.head == NULL && q.tail == NULL && q.count == 0);
}

static void waking_never_banks_credit(void)
{
    struct fair_queue q;
    struct fair_entity spinner, sleeper;
    fair_queue_init(&q);
    fair_entity_init(&spinner, 256);
    fair_entity_init(&sleeper, 256);
    fair_enqueue(&q, &spinner);
    fair_charge(&spinner, 1000 * MS); /* ran a second while the other slept */
    CHECK(fair_pick(&q, NULL, NULL) == &spinner);
    fair_enqueue(&q, &sleeper);
    CHECK_EQ_U64(sleeper.vtime, 1000 * MS - FAIR_QUANTUM_NS);
    /* It runs first, and only until a quantum past the spinner. */
    CHECK(fair_pick(&q, NULL, NULL) == &sleeper);
    CHECK_EQ_U64(fair_run_ns(&q, &sleeper, 0), GRAINS(2 * FAIR_QUANTUM_NS));
    /* A guest ahead of the floor keeps its own (higher) time on waking. */
    fair_dequeue(&q, &sleeper);
    sleeper.vtime = 1200 * MS;
    fair_enqueue(&q, &sleeper);
    CHECK_EQ_U64(sleeper.vtime, 1200 * MS);
    /* The lag kept is a quantum of the guest's own time: weight 1024 ages
     * 4 times slower, so its lag is a quarter in virtual time. */
    struct fair_entity heavy;
    fair_entity_init(&heavy, 1024);
    fair_enqueue(&q, &heavy);
    CHECK_EQ_U64(heavy.vtime, 1000 * MS - FAIR_QUANTUM_NS / 4);
}

static void run_length_bounds(void)
{
    struct fair_queue q;
    struct fair_entity a, b;
    fair_queue_init(&q);
    fair_entity_init(&a, 256);
    fair_entity_init(&b, 256);
    fair_enqueue(&q, &a);
    CHECK_EQ_U64(fair_run_ns(&q, &a, 0), FAIR_SLICE_NS); /* alone */
    fair_enqueue(&q, &b);
    fair_charge(&b, 500 * MS);
    CHECK_EQ_U64(fair_run_ns(&q, &a, 0), FAIR_SLICE_NS); /* far behind: one slice at a time */
    fair_charge(&a, 500 * MS + 5 * FAIR_QUANTUM_NS);
    CHECK_EQ_U64(fair_run_ns(&q, &a, 0), FAIR_MIN_RUN_NS); /* ahead (after a yield) */
    a.vtime = b.vtime - FAIR_QUANTUM_NS / 2;
    CHECK_EQ_U64(fair_run_ns(&q, &a, 0), GRAINS(FAIR_QUANTUM_NS * 3 / 2));
}

static void yield_keeps_at_most_a_quantum(void)
{
    struct fair_entity y, to;
    fair_entity_init(&y, 256);
    fair_entity_init(&to, 256);
    y.vtime = 100 * MS;
    to.vtime = 101 * MS;
    fair_yielded(&y, &to);
    CHECK_EQ_U64(y.vtime, 100 * MS); /* less than a quantum behind: kept */
    to.vtime = 200 * MS;
    fair_yielded(&y, &to);
    CHECK_EQ_U64(y.vtime, 200 * MS - FAIR_QUANTUM_NS);
}

static void preempts_only_from_behind(void)
{
    struct fair_entity cur, w;
    fair_entity_init(&cur, 256);
    fair_entity_init(&w, 256);
    cur.vtime = 10 * MS;
    w.vtime = 9 * MS;
    CHECK(fair_should_preempt(&w, &cur, 0));      /* behind */
    w.vtime = 11 * MS;
    CHECK(fair_should_preempt(&w, &cur, 0));      /* ahead, by less than a slice */
    w.vtime = 10 * MS + FAIR_SLICE_NS + 1;
    CHECK(!fair_should_preempt(&w, &cur, 0));     /* a slice ahead: waits its turn */
    CHECK(fair_should_preempt(&w, &cur, 2 * MS)); /* cur ran past it meanwhile */
    CHECK(!fair_should_preempt(&cur, &cur, 5 * MS));
}

/* Twelve always-runnable guests take turns; one turn of guest 0 lasts
 * 500 ms (the host held the CPU). Charged in full it would wait until the
 * eleven others had caught up, 5.5 s; charged at most a slice and a
 * quantum it runs again within a round or two. */
#define STRETCH_GUESTS 12
static void a_long_stretch_does_not_starve(void)
{
    struct fair_queue q;
    struct fair_entity g[STRETCH_GUESTS];
    fair_queue_init(&q);
    for (unsigned i = 0; i < STRETCH_GUESTS; i++) {
        fair_entity_init(&g[i], 256);
        fair_enqueue(&q, &g[i]);
    }
    uint64_t run, now = 0;
    /* Settle into turns, then guest 0's next turn is the long one. */
    for (unsigned n = 0; n < 10 * STRETCH_GUESTS; n++) {
        struct fair_entity *e = fair_pick(&q, NULL, &run);
        fair_charge_run(e, run);
        now += run;
    }
    struct fair_entity *e;
    while ((e = fair_pick(&q, NULL, &run)) != &g[0]) {
        fair_charge_run(e, run);
        now += run;
    }
    fair_charge_run(&g[0], 500 * MS);
    now += 500 * MS;
    uint64_t stretch_end = now;
    unsigned picks = 0;
    while ((e = fair_pick(&q, NULL, &run)) != &g[0] && picks < 100000) {
        fair_charge_run(e, run);
        now += run;
        picks++;
    }
    CHECK(picks < 100000);
    /* The others each catch up a slice and a quantum: ~0.13 s, not 5.5 s. */
    CHECK(now - stretch_end < STRETCH_GUESTS * 2 * FAIR_MAX_RUN_CHARGE_NS);
}

static void virtual_time_may_wrap(void)
{
    struct fair_queue q;
    struct fair_entity a, b;
    fair_queue_init(&q);
    fair_entity_init(&a, 256);
    fair_entity_init(&b, 256);
    a.vtime = UINT64_MAX - MS;
    b.vtime = UINT64_MAX - MS;
    fair_enqueue(&q, &a);
    fair_enqueue(&q, &b);
    fair_charge(&a, 3 * MS); /* wraps past zero */
    CHECK(a.vtime < 3 * MS);
    CHECK(fair_pick(&q, NULL, NULL) == &b);
    CHECK_EQ_U64(fair_run_ns(&q, &b, 0), GRAINS(3 * MS + FAIR_QUANTUM_NS));
    CHECK(fair_should_preempt(&b, &a, 0));
}

int main(void)
{
    check_suite = "fair";
    RUN_TEST(charge_scales_by_weight);
    RUN_TEST(picks_smallest_virtual_time);
    RUN_TEST(ties_go_in_order_of_becoming_runnable);
    RUN_TEST(waking_never_banks_credit);
    RUN_TEST(run_length_bounds);
    RUN_TEST(yield_keeps_at_most_a_quantum);
    RUN_TEST(preempts_only_from_behind);
    RUN_TEST(virtual_time_may_wrap);
    RUN_TEST(a_long_stretch_does_not_starve);
    return check_finish();
}
