/* Load balancing (docs/design.md, "Scheduling on several CPUs"): a CPU
 * with vCPUs waiting for it hands waiting ones to CPUs of their guests'
 * affinity with at least 2 fewer vCPUs running or runnable (an idle CPU,
 * or a busy one: 3 beside 1 becomes 2 and 2). Each CPU's run queue stays
 * its own to write: this CPU takes the vCPU off its own queue (its guest's
 * entity here loses its weight share with it), and pushes it on the other
 * CPU's wake list with VCPU_REQ_MOVE; that CPU binds it to its guest's
 * entity there (or its own), with that entity's weight share, and runs it
 * when its fair queue says.
 *
 * When: at a slice's end (a waiting vCPU has waited a slice, and a CPU
 * with vCPUs waiting always has its slice's end armed), and at any
 * decision with vCPUs waiting at most every BALANCE_EVERY_NS (a CPU whose
 * decisions all come from blocks and yields has no slice end). The work
 * is bounded: one look at each CPU's state and at most BALANCE_SCAN_MAX
 * waiting vCPUs, and only on CPUs with vCPUs waiting. A vCPU that moved
 * stays BALANCE_HOLD_NS, and a move needs a difference of 2 (it never only
 * swaps which CPU is the busier), so a vCPU is not passed back and forth.
 * Not with a partition plan: there each CPU's windows name
 * whose vCPUs run on it, and the vCPUs stay where hv.cfg placed them. */
#include "hv/cpu/percpu.h"
#include "hv/guest/guest.h"
#include "hv/sched/cross_cpu.h"
#include "hv/sched/placement.h"
#include "hv/sched/sched.h"
#include "hv/sched/sched_internal.h"
#include "vcpu/vcpu.h"

#define BALANCE_SCAN_MAX 8            /* waiting vCPUs looked at per slice end */
#define BALANCE_HOLD_NS 20000000ull   /* 20 ms (two slices): a vCPU moved stays that long */
#define BALANCE_EVERY_NS 2000000ull   /* 2 ms: a decision's look at balancing, between slice ends */

/* How many of g's vCPUs this CPU holds (placed here, not on their way
 * elsewhere, and arrived: another CPU moving one here sets its v->cpu
 * first, this one its g->vcpu_cpu when it arrives); `skip` not counted. */
static uint32_t vcpus_here(const struct guest *g, uint32_t me, const struct vcpu *skip)
{
    uint32_t n = 0;
    for (uint32_t i = 0; i < g->vcpu_count && i < GUEST_MAX_VCPUS; i++) {
        const struct vcpu *w = g->vcpus[i];
        if (w && w != skip && g->vcpu_cpu[i] == me &&
            __atomic_load_n(&w->cpu, __ATOMIC_RELAXED) == me)
            n++;
    }
    return n;
}

/* An entity of g here other than v's own: the one v joins (or NULL). */
static struct sched_entity *entity_here_besides(const struct guest *g, uint32_t me,
                                                const struct vcpu *v)
{
    for (uint32_t i = 0; i < g->vcpu_count && i < GUEST_MAX_VCPUS; i++) {
        const struct vcpu *w = g->vcpus[i];
        if (w && w != v && g->vcpu_cpu[i] == me && __atomic_load_n(&w->cpu, __ATOMIC_RELAXED) == me)
            return w->ent;
    }
    return NULL;
}

/* CPU c can take a vCPU now: it runs guests, is not parking, and no
 * other CPU claimed it for a vCPU on its way. Racy reads of another CPU's
 * state: a hint, which the claim (balance_incoming) makes safe to act on. */
static bool open_for_balance(uint32_t c)
{
    const struct sched_cpu *sc = &percpu_by_index[c]->sched;
    return __atomic_load_n(&sc->runs_guests, __ATOMIC_RELAXED) && !sc->park && !sc->parked &&
           !__atomic_load_n(&sc->balance_incoming, __ATOMIC_RELAXED);
}

/* CPU c's load as another CPU sees it: its vCPUs running or runnable, one
 * more while its wake list holds requests (a vCPU may be on its way). */
static uint32_t load_of(uint32_t c)
{
    const struct sched_cpu *sc = &percpu_by_index[c]->sched;
    return __atomic_load_n(&sc->nr_wanting, __ATOMIC_RELAXED) +
           (__atomic_load_n(&sc->wake_list, __ATOMIC_RELAXED) != NULL);
}

/* Takes v (runnable, waiting in e's round robin on this CPU) off this
 * CPU's queue; its guest's entity here keeps the weight of the vCPUs
 * left. */
static void detach(struct sched_cpu *sc, struct sched_entity *e, struct vcpu *v, uint32_t me)
{
    /* Every occurrence (the round robin holds a vCPU once; a stale second
     * entry here would have this CPU run a vCPU another CPU owns). At most
     * the guest's vCPUs on this CPU, and its stopped ones, are in it. */
    struct vcpu *prev = NULL;
    for (struct vcpu *w = e->run_head; w;) {
        struct vcpu *next = w->run_next;
        if (w == v) {
            if (prev)
                prev->run_next = next;
            else
                e->run_head = next;
            if (e->run_tail == v)
                e->run_tail = prev;
        } else {
            prev = w;
        }
        w = next;
    }
    v->run_next = NULL;
    if (e->vcpus_wanting)
        sc->nr_wanting--;
    if (e->vcpus_wanting && --e->vcpus_wanting == 0) {
        fair_dequeue(&sc->fair_queue, &e->fair);
        if (sc->woken_first == e)
            sc->woken_first = NULL;
    }
    /* Runnable: no poll deadline, at most its timer. */
    if (v->ev.timer_deadline)
        sc->vtimers_armed--;
    vtimer_forget(sc, v);
    struct guest *g = v->guest;
    if (e != &v->own_ent)
        fair_set_weight(&e->fair,
                        sched_weight_on_cpu(g->weight, vcpus_here(g, me, v), g->vcpu_count));
}

/* Whether v may leave this CPU: its guest alive, v runnable, not moved
 * within BALANCE_HOLD_NS (no vCPU goes back and forth), and not the
 * holder of an entity its guest's other vCPUs here share. */
static bool may_move(const struct vcpu *v, uint32_t me, uint64_t now)
{
    const struct guest *g = v->guest;
    if (g->end != GUEST_ALIVE || v->state != VCPU_RUNNABLE)
        return false;
    if (v->moved_ns && now - v->moved_ns < BALANCE_HOLD_NS)
        return false;
    return v->ent != &v->own_ent || vcpus_here(g, me, v) == 0;
}

void sched_balance(uint64_t now)
{
    struct percpu *cpu = this_cpu();
    struct sched_cpu *sc = &cpu->sched;
    uint32_t me = cpu->index;
    sc->balance_next_ns = now + BALANCE_EVERY_NS;
    uint32_t my_load = sc->nr_wanting;
    if (sched_partitioned || my_load < 2)
        return;
    uint64_t open = 0;
    uint32_t load[CPU_SET_MAX];
    uint32_t n = percpu_count < CPU_SET_MAX ? percpu_count : CPU_SET_MAX;
    for (uint32_t c = 0; c < n; c++) {
        load[c] = 0;
        if (c != me && open_for_balance(c)) {
            load[c] = load_of(c);
            open |= 1ull << c;
        }
    }
    unsigned looked = 0;
    for (struct fair_entity *f = sc->fair_queue.head; f && open && looked < BALANCE_SCAN_MAX;) {
        struct sched_entity *e =
            (struct sched_entity *)((char *)f - __builtin_offsetof(struct sched_entity, fair));
        f = f->next; /* e may leave the queue below */
        struct vcpu *v = e->run_head;
        while (v && open && looked++ < BALANCE_SCAN_MAX) {
            struct vcpu *next = v->run_next;
            int to = v != cpu->current && may_move(v, me, now)
                         ? balance_pick_target(open, v->guest->cpus, load, n, my_load)
                         : -1;
            if (to >= 0) {
                struct sched_cpu *dst = &percpu_by_index[to]->sched;
                /* One vCPU on its way to a CPU at a time. */
                open &= ~(1ull << to);
                /* The CPU is ours to send to, and v ours to move: a
                 * request pushed for v now finds it queued and only ors
                 * its bit in, for the new CPU to read. */
                if (!__atomic_exchange_n(&dst->balance_incoming, true, __ATOMIC_ACQ_REL)) {
                    if (!__atomic_exchange_n(&v->queued, true, __ATOMIC_SEQ_CST)) {
                        detach(sc, e, v, me);
                        my_load--;
                        load[to]++;
                        v->moved_ns = now;
                        __atomic_sub_fetch(&sc->vcpus_placed, 1, __ATOMIC_RELAXED);
                        __atomic_add_fetch(&dst->vcpus_placed, 1, __ATOMIC_RELAXED);
                        __atomic_or_fetch(&v->remote_req, VCPU_REQ_MOVE, __ATOMIC_SEQ_CST);
                        __atomic_store_n(&v->cpu, (uint32_t)to, __ATOMIC_RELEASE);
                        sched_push_queued(v);
                    } else {
                        /* On this CPU's wake list (a stop on its way):
                         * it stays. */
                        __atomic_store_n(&dst->balance_incoming, false, __ATOMIC_RELEASE);
                    }
                }
            }
            v = next;
        }
    }
}

void sched_move_in(struct vcpu *v)
{
    struct sched_cpu *sc = sched_this();
    uint32_t me = this_cpu()->index;
    struct guest *g = v->guest;
    g->vcpu_cpu[v->id] = (uint8_t)me;
    struct sched_entity *e = entity_here_besides(g, me, v);
    uint32_t weight = sched_weight_on_cpu(g->weight, vcpus_here(g, me, NULL), g->vcpu_count);
    if (e) {
        fair_set_weight(&e->fair, weight);
    } else {
        /* The first of its guest here: its own entity, free (it held
         * none elsewhere that others shared: may_move), starting level
         * with this CPU's queue. */
        e = &v->own_ent;
        fair_entity_init(&e->fair, weight);
        e->fair.vtime = sc->fair_queue.floor;
        e->run_head = e->run_tail = NULL;
        e->guest = g;
        e->vcpus_wanting = 0;
    }
    v->ent = e;
    if (v->ev.timer_deadline) {
        sc->vtimers_armed++;
        vtimer_armed_at(v, v->ev.timer_deadline);
    }
    sched_add_here(v);
    sc->idle_kick = true;
    sc->moves_in++;
    __atomic_store_n(&sc->balance_incoming, false, __ATOMIC_RELEASE);
}
