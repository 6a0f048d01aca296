/* hv/sched/fair.c in table-driven scenarios simulated in virtual time
 * (spinners of 1 and 16 vCPUs, weights 1:2:4, spin-and-poll, timer storms,
 * yield storms), driving fair.c the way hv/sched/sched.c does and checking
 * every guest's share of every second. */
#include "tests/unit/fair_fixture.h"

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
    check_suite = "fair_sim";
    RUN_TEST(shares_within_two_percent);
    return check_finish();
}
