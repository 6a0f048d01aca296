/* hv/sched/fair.c: the rules of fair.h one by one, then table-driven
 * scenarios simulated in virtual time (spinners of 1 and 16 vCPUs, weights
 * 1:2:4, spin-and-poll, timer storms, yield storms), driving fair.c the way
 * hv/sched/sched.c does and checking every guest's share of every second. */
#include <stddef.h>

#include "check.h"
#include "hv/sched/fair.h"

#define MS 1000000ull
#define US 1000ull
/* A run length as fair_run_ns gives it: whole grains. */
#define GRAINS(ns) ((ns) & ~(FAIR_RUN_GRAIN_NS - 1))

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

/* --- scenarios simulated in virtual time ---------------------------------------- */

enum behaviour {
    SPIN,        /* never leaves the CPU by itself */
    SPIN_POLL,   /* `work` of CPU, then sleeps `sleep` (a poll deadline just ahead) */
    YIELDER,     /* `work` of CPU, then yields */
    COMPANION,   /* 200 us steps, a yield every 50 */
};

struct guest_spec {
    uint32_t weight;
    unsigned vcpus;
    enum behaviour does;
    uint64_t work, sleep;
    bool wants_all; /* judged on its share (false: it gives CPU away by itself) */
};

#define SIM_MAX_GUESTS 6
#define SIM_MAX_VCPUS 16
#define SIM_SECONDS 4
#define HV_COST_NS 2000ull /* hv's time per switch, charged to the vCPU entering */

struct sim_vcpu {
    struct sim_guest *g;
    bool blocked;
    uint64_t wake_at, work_left;
    struct sim_vcpu *next; /* its guest's queue */
};

struct sim_guest {
    struct guest_spec spec;
    struct fair_entity fe;
    struct sim_vcpu v[SIM_MAX_VCPUS];
    struct sim_vcpu *head, *tail;
    unsigned runnable;
    uint64_t cpu[SIM_SECONDS];
};

struct sim {
    struct fair_queue q;
    struct sim_guest g[SIM_MAX_GUESTS];
    unsigned n;
    uint64_t now;
    struct sim_vcpu *cur;
    uint64_t since, run_end;
    uint64_t switches;
};

static void push(struct sim_guest *g, struct sim_vcpu *v, bool front)
{
    v->next = NULL;
    if (front) {
        v->next = g->head;
        g->head = v;
        if (!g->tail)
            g->tail = v;
    } else {
        if (g->tail)
            g->tail->next = v;
        else
            g->head = v;
        g->tail = v;
    }
}

static struct sim_vcpu *pop(struct sim_guest *g)
{
    struct sim_vcpu *v = g->head;
    g->head = v->next;
    if (!g->head)
        g->tail = NULL;
    return v;
}

static uint64_t next_work(const struct guest_spec *s)
{
    switch (s->does) {
    case SPIN:
        return UINT64_MAX;
    case COMPANION:
        return 50 * 200 * US;
    default:
        return s->work;
    }
}

/* CPU used in [since, until) counted into whole seconds. */
static void account(struct sim_guest *g, uint64_t since, uint64_t until)
{
    while (since < until) {
        uint64_t sec = since / (1000 * MS);
        if (sec >= SIM_SECONDS)
            return;
        uint64_t end = (sec + 1) * 1000 * MS;
        uint64_t stop = until < end ? until : end;
        g->cpu[sec] += stop - since;
        since = stop;
    }
}

/* As sched.c's reschedule: charge, requeue, pick (the woken guest that
 * preempted, if any), run. */
static void reschedule_to(struct sim *s, bool yielding, struct sim_guest *woken)
{
    struct sim_vcpu *cur = s->cur;
    struct sim_guest *prev = cur ? cur->g : NULL;
    if (cur) {
        fair_charge_run(&prev->fe, s->now - s->since);
        if (!cur->blocked)
            push(prev, cur, false);
        else if (--prev->runnable == 0)
            fair_dequeue(&s->q, &prev->fe);
    }
    uint64_t run;
    struct fair_entity *e;
    if (woken) {
        e = &woken->fe;
        run = fair_run_ns(&s->q, e, 0);
    } else {
        e = fair_pick(&s->q, yielding && prev ? &prev->fe : NULL, &run);
        if (e)
            CHECK_EQ_U64(run, fair_run_ns(&s->q, e, 0)); /* one pass gives what two would */
    }
    s->cur = NULL;
    if (!e)
        return;
    struct sim_guest *next = (struct sim_guest *)((char *)e - offsetof(struct sim_guest, fe));
    if (yielding && prev && next != prev)
        fair_yielded(&prev->fe, e);
    s->cur = pop(next);
    s->since = s->now;
    s->run_end = s->now + run;
    if (s->cur != cur)
        s->switches++;
    /* hv's work for the switch is the entering guest's time. */
    if (s->cur->work_left != UINT64_MAX)
        s->cur->work_left += HV_COST_NS;
}

static void reschedule(struct sim *s, bool yielding)
{
    reschedule_to(s, yielding, NULL);
}

static void wake(struct sim *s, struct sim_vcpu *v)
{
    struct sim_guest *g = v->g;
    v->blocked = false;
    v->work_left = next_work(&g->spec);
    if (g->runnable++ == 0)
        fair_enqueue(&s->q, &g->fe);
    push(g, v, true);
    if (!s->cur)
        reschedule(s, false);
    else if (s->cur->g != g && fair_should_preempt(&g->fe, &s->cur->g->fe, s->now - s->since))
        reschedule_to(s, false, g);
    else { /* the run was decided without it: cut it to fit */
        uint64_t left = fair_run_ns(&s->q, &s->cur->g->fe, s->now - s->since);
        if (s->now + left < s->run_end)
            s->run_end = s->now + left;
    }
}

static void simulate(struct sim *s, const struct guest_spec *specs, unsigned n)
{
    memset(s, 0, sizeof(*s));
    fair_queue_init(&s->q);
    s->n = n;
    for (unsigned i = 0; i < n; i++) {
        struct sim_guest *g = &s->g[i];
        g->spec = specs[i];
        fair_entity_init(&g->fe, specs[i].weight);
        for (unsigned k = 0; k < specs[i].vcpus; k++) {
            g->v[k].g = g;
            g->v[k].work_left = next_work(&g->spec);
            push(g, &g->v[k], false);
        }
        g->runnable = specs[i].vcpus;
        fair_enqueue(&s->q, &g->fe);
    }
    reschedule(s, false);
    const uint64_t end = SIM_SECONDS * 1000 * MS;
    while (s->now < end) {
        /* The next event: a wake-up, the running vCPU's own action, the run's end. */
        struct sim_vcpu *waking = NULL;
        for (unsigned i = 0; i < n; i++)
            for (unsigned k = 0; k < s->g[i].spec.vcpus; k++) {
                struct sim_vcpu *v = &s->g[i].v[k];
                if (v->blocked && (!waking || v->wake_at < waking->wake_at))
                    waking = v;
            }
        uint64_t t = end;
        if (waking && waking->wake_at < t)
            t = waking->wake_at;
        if (s->cur) {
            if (s->run_end < t)
                t = s->run_end;
            if (s->cur->work_left != UINT64_MAX && s->now + s->cur->work_left < t)
                t = s->now + s->cur->work_left;
        }
        if (s->cur) {
            account(s->cur->g, s->now, t);
            if (s->cur->work_left != UINT64_MAX)
                s->cur->work_left -= t - s->now;
        }
        s->now = t;
        if (waking && waking->wake_at <= t) {
            wake(s, waking);
            continue;
        }
        if (!s->cur)
            continue;
        if (s->cur->work_left == 0) {
            const struct guest_spec *sp = &s->cur->g->spec;
            if (sp->does == SPIN_POLL) {
                s->cur->blocked = true;
                s->cur->wake_at = s->now + sp->sleep;
                reschedule(s, false);
            } else {
                s->cur->work_left = next_work(sp);
                reschedule(s, true);
            }
            continue;
        }
        if (s->now >= s->run_end)
            reschedule(s, false);
    }
}

/* Every guest that wants the CPU got its weight's share of every second,
 * within 2 % of the CPU. Beside a guest that gives the CPU away by itself
 * (wants_all false), the others must get at least their share. */
static double judge(const struct sim *s, const char *name)
{
    double total_weight = 0, worst = 0, worst_rel = 0;
    bool all_want = true;
    for (unsigned i = 0; i < s->n; i++) {
        total_weight += s->g[i].spec.weight;
        all_want &= s->g[i].spec.wants_all;
    }
    for (unsigned sec = 0; sec < SIM_SECONDS; sec++)
        for (unsigned i = 0; i < s->n; i++) {
            const struct sim_guest *g = &s->g[i];
            if (!g->spec.wants_all)
                continue;
            double want = g->spec.weight / total_weight;
            double got = (double)g->cpu[sec] / (1000.0 * MS);
            double err = all_want ? (got > want ? got - want : want - got) : want - got;
            if (err > worst)
                worst = err;
            if (err / want > worst_rel)
                worst_rel = err / want;
            if (err > 0.02) {
                printf("  %s: second %u: guest %u (weight %u) got %.2f %% of the CPU, "
                       "its share is %.2f %%\n",
                       name, sec, i, (unsigned)g->spec.weight, 100 * got, 100 * want);
                CHECK(err <= 0.02);
            }
        }
    printf("  %s: worst deviation %.3f %% of the CPU (%.2f %% of the share), %llu switches\n",
           name, 100 * worst, 100 * worst_rel, (unsigned long long)s->switches);
    return worst;
}

struct scenario {
    const char *name;
    unsigned n;
    struct guest_spec g[SIM_MAX_GUESTS];
};

static const struct guest_spec companion = {256, 1, COMPANION, 0, 0, true};
static const struct guest_spec spinner = {256, 1, SPIN, 0, 0, true};
static const struct guest_spec spinner16 = {256, 16, SPIN, 0, 0, true};
static const struct guest_spec spin_poll = {256, 1, SPIN_POLL, 9900 * US, 5 * US, true};

static const struct scenario scenarios[] = {
    {"two spinners", 2, {spinner, spinner}},
    {"companion beside a spinner", 2, {companion, spinner}},
    {"companion beside a 16-vCPU spinner", 2, {companion, spinner16}},
    {"companion beside spin-and-poll", 2, {companion, spin_poll}},
    {"companion beside a timer storm", 2, {companion, {256, 1, SPIN_POLL, 50 * US, 3 * US, true}}},
    {"companion beside a 16-vCPU timer storm", 2,
     {companion, {256, 16, SPIN_POLL, 30 * US, 2 * US, true}}},
    {"companion beside a yield storm", 2, {companion, {256, 1, YIELDER, 1 * US, 0, false}}},
    {"companion beside a 16-vCPU yield storm", 2,
     {companion, {256, 16, YIELDER, 1 * US, 0, false}}},
    {"a guest yielding every 200 us wants its share", 2,
     {{256, 1, YIELDER, 200 * US, 0, true}, spinner}},
    {"four spinners, one of 16 vCPUs, and the companion", 5,
     {companion, spinner, spinner, spinner, spinner16}},
    {"weights 1:2:4 and spin-and-poll", 4,
     {{256, 1, SPIN, 0, 0, true}, {512, 1, SPIN, 0, 0, true}, {1024, 1, SPIN, 0, 0, true},
      spin_poll}},
    {"weights 1:2:4 of 16, 1, 4 vCPUs and a 16-vCPU spin-and-poll", 4,
     {{256, 16, SPIN, 0, 0, true}, {512, 1, SPIN, 0, 0, true}, {1024, 4, SPIN, 0, 0, true},
      {256, 16, SPIN_POLL, 9900 * US, 5 * US, true}}},
    /* Sleepers that try to bank credit: each sleep is long enough for the
     * floor to pass them, so every wake-up lands at the most lag allowed. */
    {"a spinner beside run 2 ms / sleep 2 ms", 2,
     {spinner, {256, 1, SPIN_POLL, 2 * MS, 2 * MS, false}}},
    {"a spinner beside run 1 ms / sleep 5 ms", 2,
     {spinner, {256, 1, SPIN_POLL, 1 * MS, 5 * MS, false}}},
    {"a spinner beside 16 vCPUs of run 5 ms / sleep 1 ms", 2,
     {spinner, {256, 16, SPIN_POLL, 5 * MS, 1 * MS, false}}},
    {"weights 1:100 (the light guest still gets its share)", 2,
     {{100, 1, SPIN, 0, 0, true}, {10000, 1, SPIN_POLL, 9900 * US, 5 * US, true}}},
};

static void shares_within_two_percent(void)
{
    static struct sim s;
    for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
        simulate(&s, scenarios[i].g, scenarios[i].n);
        judge(&s, scenarios[i].name);
    }
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
    RUN_TEST(shares_within_two_percent);
    return check_finish();
}
