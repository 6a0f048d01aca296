/* Per-guest fair shares: virtual-time accounting, the clamp on wake and
 * yield, and picking (see fair.h for the rules). */
#include "hv/sched/fair.h"

#include <stddef.h>

/* a < b on virtual times that may wrap. */
static bool before(uint64_t a, uint64_t b)
{
    return (int64_t)(a - b) < 0;
}

void fair_queue_init(struct fair_queue *q)
{
    q->head = q->tail = NULL;
    q->floor = 0;
    q->count = 0;
}

void fair_entity_init(struct fair_entity *e, uint32_t weight)
{
    if (weight == 0)
        weight = 1;
    if (weight > 65535)
        weight = 65535;
    e->vtime = 0;
    e->weight = weight;
    e->lag = fair_scale(e, FAIR_QUANTUM_NS);
    e->queued = false;
    e->prev = e->next = NULL;
}

uint64_t fair_unscale(const struct fair_entity *e, uint64_t vns)
{
    /* Callers want at most a slice; beyond 2^40 the answer is "long". */
    if (vns > FAIR_MAX_CHARGE_NS)
        vns = FAIR_MAX_CHARGE_NS;
    /* At most 2^40 x 2^16: no wrap. */
    return vns * e->weight / FAIR_WEIGHT_UNIT;
}

/* The most virtual time e may be behind: one quantum of its own time. */
static uint64_t lag_allowed(const struct fair_entity *e)
{
    return e->lag;
}

void fair_enqueue(struct fair_queue *q, struct fair_entity *e)
{
    if (e->queued)
        return;
    uint64_t lowest = q->floor - lag_allowed(e);
    if (before(e->vtime, lowest))
        e->vtime = lowest;
    e->next = NULL;
    e->prev = q->tail;
    if (q->tail)
        q->tail->next = e;
    else
        q->head = e;
    q->tail = e;
    e->queued = true;
    q->count++;
}

void fair_dequeue(struct fair_queue *q, struct fair_entity *e)
{
    if (!e->queued)
        return;
    if (e->prev)
        e->prev->next = e->next;
    else
        q->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        q->tail = e->prev;
    e->prev = e->next = NULL;
    e->queued = false;
    q->count--;
}

/* How much longer e may run having run ran_ns, when `next` (NULL: none)
 * is the runnable entity with the smallest virtual time after e's. */
static inline uint64_t run_before(const struct fair_entity *e, const struct fair_entity *next,
                           uint64_t ran_ns)
{
    if (ran_ns >= FAIR_SLICE_NS)
        return 0;
    if (!next)
        return FAIR_SLICE_NS - ran_ns; /* alone: nobody waits for it */
    /* Until e's virtual time is past next's by a quantum of the heavier
     * one's time: every guest's lead or lag stays within a quantum of its
     * own CPU time, however unequal the weights. */
    uint64_t now_vtime = ran_ns ? e->vtime + fair_scale(e, ran_ns) : e->vtime;
    uint64_t lead = e->lag < next->lag ? e->lag : next->lag; /* the heavier one's */
    uint64_t until = next->vtime + lead;
    uint64_t run = before(now_vtime, until) ? fair_unscale(e, until - now_vtime) : 0;
    run &= ~(FAIR_RUN_GRAIN_NS - 1);
    if (ran_ns + run < FAIR_MIN_RUN_NS)
        run = FAIR_MIN_RUN_NS - ran_ns;
    if (ran_ns + run > FAIR_SLICE_NS)
        run = FAIR_SLICE_NS - ran_ns;
    return run;
}

struct fair_entity *fair_pick(struct fair_queue *q, const struct fair_entity *skip,
                              uint64_t *run_ns)
{
    /* The smallest and the second smallest virtual time; one or two
     * runnable guests (the common case) without the loop. */
    struct fair_entity *best = q->head, *second = NULL;
    if (!best)
        return NULL;
    if (q->count == 2) {
        second = q->tail;
        if (before(second->vtime, best->vtime)) {
            best = second;
            second = q->head;
        }
    } else if (q->count > 2) {
        for (struct fair_entity *e = best->next; e; e = e->next) {
            if (before(e->vtime, best->vtime)) {
                second = best;
                best = e;
            } else if (!second || before(e->vtime, second->vtime)) {
                second = e;
            }
        }
    }
    /* The floor only moves forward: an entity that was behind it and left
     * cannot pull it back by returning. */
    if (before(q->floor, best->vtime))
        q->floor = best->vtime;
    struct fair_entity *pick = best, *next = second;
    if (skip == best && second) { /* a yield: the next smallest runs, best waits */
        pick = second;
        next = best;
    }
    if (run_ns)
        *run_ns = run_before(pick, next, 0);
    return pick;
}

uint64_t fair_run_ns(const struct fair_queue *q, const struct fair_entity *e, uint64_t ran_ns)
{
    const struct fair_entity *next = NULL;
    for (const struct fair_entity *o = q->head; o; o = o->next)
        if (o != e && (!next || before(o->vtime, next->vtime)))
            next = o;
    return run_before(e, next, ran_ns);
}

bool fair_should_preempt(const struct fair_entity *woken, const struct fair_entity *cur,
                         uint64_t ran_ns)
{
    if (woken == cur)
        return false;
    /* Up to a slice (of the heavier one's time) ahead still preempts: an
     * occasional waker answers its events at once although it used a bit
     * more than the running guest lately; a frequent one soon runs out of
     * that lead, and every run is charged, so the shares hold. */
    const struct fair_entity *heavier = woken->weight > cur->weight ? woken : cur;
    return before(woken->vtime,
                  cur->vtime + fair_scale(cur, ran_ns) + fair_scale(heavier, FAIR_SLICE_NS));
}
