/* Per-guest fair shares: virtual-time accounting, the clamp on wake and
 * yield, and picking (see fair.h for the rules). */
#include "hv/sched/fair.h"

#include <stddef.h>

void fair_queue_init(struct fair_queue *q)
{
    q->head = q->tail = NULL;
    q->floor = 0;
    q->count = 0;
}

void fair_set_weight(struct fair_entity *e, uint32_t weight)
{
    if (weight == 0)
        weight = 1;
    if (weight > 65535)
        weight = 65535;
    e->weight = weight;
    e->lag = fair_scale(e, FAIR_QUANTUM_NS);
}

void fair_entity_init(struct fair_entity *e, uint32_t weight)
{
    e->vtime = 0;
    fair_set_weight(e, weight);
    e->queued = false;
    e->prev = e->next = NULL;
}

void fair_enqueue(struct fair_queue *q, struct fair_entity *e)
{
    fair_enqueue_inline(q, e);
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

uint64_t fair_run_ns(const struct fair_queue *q, const struct fair_entity *e, uint64_t ran_ns)
{
    const struct fair_entity *next = NULL;
    if (q->count == 2 && (q->head == e || q->tail == e)) {
        next = q->head == e ? q->tail : q->head; /* the common case, no loop */
    } else {
        for (const struct fair_entity *o = q->head; o; o = o->next)
            if (o != e && (!next || fair_before(o->vtime, next->vtime)))
                next = o;
    }
    return fair_run_before(e, next, ran_ns);
}

bool fair_should_preempt(const struct fair_entity *woken, const struct fair_entity *cur,
                         uint64_t ran_ns)
{
    return fair_should_preempt_inline(woken, cur, ran_ns);
}
