/* hv/event/evtchn.c raced by host threads standing in for CPUs: first binds
 * sharing one table, console listeners counted exactly, binds and closes
 * across two guests (tests/unit/evtchn_fixture.h: the fake guests, and the
 * lock-order check every thread runs with). */
#include "tests/unit/evtchn_fixture.h"

/* --- host threads standing in for CPUs (docs/design.md, "Locking") ---------
 * Four threads make the calls four vCPUs on four CPUs would make at once,
 * released together by a barrier, many rounds. Without the guest's
 * evtchn_lock two first binds each make a table (one leaks: ASan's leak
 * check fails the run) and two binds take one port; without atomic
 * counting console_listeners loses counts. */
#define RACE_THREADS 4
#define RACE_ROUNDS 300
#define RACE_BINDS 16

static pthread_barrier_t race_start;

struct racer {
    struct fake *f, *peer;
    unsigned vcpu;
    int64_t ports[RACE_BINDS];
};

static void *bind_ipis(void *arg)
{
    struct racer *r = arg;
    pthread_barrier_wait(&race_start);
    for (int i = 0; i < RACE_BINDS; i++)
        r->ports[i] = evtchn_bind_ipi(&r->f->v[r->vcpu % 2], 0);
    return NULL;
}

static void run_racers(void *(*fn)(void *), struct racer *r)
{
    pthread_t t[RACE_THREADS];
    for (int i = 0; i < RACE_THREADS; i++)
        pthread_create(&t[i], NULL, fn, &r[i]);
    for (int i = 0; i < RACE_THREADS; i++)
        pthread_join(t[i], NULL);
}

static void concurrent_first_binds_share_one_table_and_no_port(void)
{
    static struct fake a;
    bool ok = true;
    for (int round = 0; round < RACE_ROUNDS && ok; round++) {
        make(&a, "a");
        struct racer r[RACE_THREADS];
        for (int i = 0; i < RACE_THREADS; i++)
            r[i] = (struct racer){.f = &a, .vcpu = (unsigned)i};
        run_racers(bind_ipis, r);
        bool seen[HV_EVTCHN_PORTS] = {false};
        for (int i = 0; i < RACE_THREADS; i++)
            for (int k = 0; k < RACE_BINDS; k++) {
                int64_t p = r[i].ports[k];
                ok &= p >= 0 && p < HV_EVTCHN_PORTS && !seen[p];
                if (p >= 0 && p < HV_EVTCHN_PORTS)
                    seen[p] = true;
            }
        for (unsigned p = 0; p < RACE_THREADS * RACE_BINDS; p++) /* the first free ones */
            ok &= a.g.evtchn && a.g.evtchn[p].state == HV_EVTCHN_IPI;
        done(&a);
    }
    CHECK(ok);
}

static void *console_binds(void *arg)
{
    struct racer *r = arg;
    struct vcpu *v = &r->f->v[r->vcpu / 2];
    pthread_barrier_wait(&race_start);
    /* Two threads per vCPU: each bind is refused (-EEXIST) or made, each
     * close of the port closes it or finds it gone. */
    for (int i = 0; i < RACE_BINDS * 4; i++) {
        int64_t p = evtchn_bind_virq(v, HV_VIRQ_CONSOLE);
        evtchn_close(v, (uint64_t)(p >= 0 ? p : v->ev.virq_port[HV_VIRQ_CONSOLE]));
    }
    return NULL;
}

static void console_listeners_count_exactly(void)
{
    static struct fake a;
    bool ok = true;
    console_listeners = 0;
    for (int round = 0; round < RACE_ROUNDS / 4 && ok; round++) {
        make(&a, "a");
        struct racer r[RACE_THREADS];
        for (int i = 0; i < RACE_THREADS; i++)
            r[i] = (struct racer){.f = &a, .vcpu = (unsigned)i};
        run_racers(console_binds, r);
        /* Whatever is still bound is what the count says. */
        unsigned bound = 0;
        for (int v = 0; v < 2; v++)
            bound += a.v[v].ev.virq_port[HV_VIRQ_CONSOLE] != NO_PORT;
        ok &= console_listeners == bound;
        for (int v = 0; v < 2; v++)
            if (a.v[v].ev.virq_port[HV_VIRQ_CONSOLE] != NO_PORT)
                evtchn_close(&a.v[v], a.v[v].ev.virq_port[HV_VIRQ_CONSOLE]);
        ok &= console_listeners == 0;
        done(&a);
    }
    CHECK(ok);
    console_listeners = 0;
}

/* Two threads of guest a offer ports to b and close them, two of b bind
 * and close them: each guest's table is changed from both sides at once. */
static void *offer_and_close(void *arg)
{
    struct racer *r = arg;
    struct vcpu *v = &r->f->v[r->vcpu % 2];
    uint64_t seed = r->vcpu + 1;
    pthread_barrier_wait(&race_start);
    for (int i = 0; i < RACE_BINDS * 8; i++) {
        seed = seed * 6364136223846793005ull + 1442695040888963407ull;
        uint64_t port = (seed >> 33) % 8;
        if (r->vcpu < 2) {
            if (seed & (1ull << 62))
                evtchn_alloc_unbound(v, &r->peer->g);
            else
                evtchn_close(v, port);
        } else {
            if (seed & (1ull << 62))
                evtchn_bind_peer(v, &r->peer->g, port);
            else
                evtchn_close(v, port);
            evtchn_send(v, port);
        }
    }
    return NULL;
}

/* Every connection is whole: an inter-guest port's other end names it back
 * (or was closed: CLOSED_PEER); an unbound port of a is offered to b. */
static bool connections_whole(struct fake *x, struct fake *y)
{
    bool ok = true;
    for (unsigned p = 0; x->g.evtchn && p < HV_EVTCHN_PORTS; p++) {
        struct evtchn *ch = &x->g.evtchn[p];
        if (ch->state != HV_EVTCHN_INTERGUEST)
            continue;
        ok &= ch->peer == &y->g && y->g.evtchn;
        if (!ok)
            break;
        struct evtchn *far = &y->g.evtchn[ch->peer_port];
        ok &= (far->state == HV_EVTCHN_INTERGUEST && far->peer == &x->g && far->peer_port == p);
    }
    return ok;
}

static void binds_and_closes_across_two_guests_stay_whole(void)
{
    static struct fake a, b;
    bool ok = true;
    for (int round = 0; round < RACE_ROUNDS / 4 && ok; round++) {
        make(&a, "a");
        make(&b, "b");
        b.g.id = 1;
        struct racer r[RACE_THREADS] = {{.f = &a, .peer = &b, .vcpu = 0},
                                        {.f = &a, .peer = &b, .vcpu = 1},
                                        {.f = &b, .peer = &a, .vcpu = 2},
                                        {.f = &b, .peer = &a, .vcpu = 3}};
        run_racers(offer_and_close, r);
        ok &= connections_whole(&a, &b) && connections_whole(&b, &a);
        done(&a);
        done(&b);
    }
    CHECK(ok);
}

int main(void)
{
    check_suite = "evtchn_race";
    pthread_barrier_init(&race_start, NULL, RACE_THREADS);
    RUN_TEST(concurrent_first_binds_share_one_table_and_no_port);
    RUN_TEST(console_listeners_count_exactly);
    RUN_TEST(binds_and_closes_across_two_guests_stay_whole);
    return check_finish();
}
