/* Per-guest fair shares: the scheduler's pure decisions (unit-tested on the
 * host, tests/unit/test_fair.c).
 *
 * Each guest is one entity with a virtual time: the CPU time its vCPUs used,
 * scaled by FAIR_WEIGHT_UNIT / weight, so a guest of twice the weight ages
 * half as fast. The runnable entity with the smallest virtual time runs
 * next, whatever its number of vCPUs; it runs until it is a quantum of its
 * own time past the next one (never longer than a slice). Rules that make
 * this hold against a guest that blocks, polls, yields or sets timers:
 *
 *  - Time is charged exactly as used (fair_charge), hv's time on the
 *    guest's behalf included; nothing is charged in advance. A run is
 *    charged at most a slice and a quantum (fair_charge_run): beyond that
 *    the guest did not have the CPU (the host held it) or nobody waited.
 *  - An entity that becomes runnable again (fair_enqueue) is no further
 *    behind the runnable ones than one quantum of its own time: sleeping
 *    never banks credit, and waking never jumps the queue beyond that.
 *  - A yield hands the CPU to another entity if one is runnable, keeping
 *    the yielder's virtual time, but again no more than a quantum behind
 *    the one it yields to (fair_yielded), so yielding neither loses the
 *    share a guest wants nor banks credit for later.
 *
 * Work per decision is one pass over the runnable entities (guests). Virtual
 * times are compared as signed differences, so they may wrap. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FAIR_WEIGHT_UNIT 256u            /* the default weight: virtual time = CPU time */
#define FAIR_QUANTUM_NS 2000000ull       /* lead over the next entity, and the most lag kept */
#define FAIR_MIN_RUN_NS 100000ull        /* the least a picked entity runs (no thrashing) */
#define FAIR_SLICE_NS 10000000ull        /* the most it runs at once while others wait */
#define FAIR_RUN_GRAIN_NS (1ull << 16)   /* runs are whole grains (65.5 us): see fair_run_ns */
#define FAIR_MAX_CHARGE_NS (1ull << 40)  /* one charge is cut here, so scaling cannot wrap */

struct fair_entity {
    uint64_t vtime;
    uint64_t lag;                    /* a quantum of its CPU time, as virtual time */
    uint32_t weight;                 /* 1..65535 */
    bool queued;                     /* in the runnable set */
    struct fair_entity *prev, *next; /* the runnable set */
};

struct fair_queue {
    struct fair_entity *head, *tail; /* in the order they became runnable */
    uint64_t floor;                  /* the smallest virtual time last seen runnable */
    unsigned count;
};

void fair_queue_init(struct fair_queue *q);
/* weight 0 is taken as 1, weights above 65535 as 65535. */
void fair_entity_init(struct fair_entity *e, uint32_t weight);
/* e's weight becomes `weight` (clamped as fair_entity_init does) and its
 * lag a quantum of its new weight's time; its virtual time stays (a vCPU
 * moved between CPUs changes its guest's share on both: load balancing). */
void fair_set_weight(struct fair_entity *e, uint32_t weight);
/* e has a runnable vCPU again (or for the first time): its virtual time is
 * clamped to no less than the floor minus one quantum of its own time.
 * fair_enqueue_inline below is the same, for the send's hand-off and the
 * idle loop's direct entry (a call each there, make bench). */
void fair_enqueue(struct fair_queue *q, struct fair_entity *e);
/* e has no runnable vCPU left (all blocked, stopped, or the guest ended). */
void fair_dequeue(struct fair_queue *q, struct fair_entity *e);
/* ns of CPU as virtual time of e (inline: every switch charges). */
static inline uint64_t fair_scale(const struct fair_entity *e, uint64_t ns)
{
    if (ns > FAIR_MAX_CHARGE_NS)
        ns = FAIR_MAX_CHARGE_NS;
    return ns * FAIR_WEIGHT_UNIT / e->weight; /* at most 2^40 x 2^8: no wrap */
}

/* e used ns of CPU. */
static inline void fair_charge(struct fair_entity *e, uint64_t ns)
{
    e->vtime += fair_scale(e, ns);
}

/* The most one run is charged. While another entity waits, a run ends at
 * its slice (the timer), so more than a slice and a quantum is time the
 * guest was not given: the host holding the CPU (an emulator's thread
 * descheduled on a loaded host: 0.4-0.8 s seen, with the run's guest
 * making no hypercall), or a run alone, which nobody waited for. Charged
 * in full, such a stretch put the guest that happened to be on the CPU
 * that far ahead, and it then waited until every runnable guest had
 * caught up: a 0.5 s stretch cost a ping-pong guest 5-7 s beside a dozen
 * others, 20 s in the soak's hour (tests/guests/soak.c). */
#define FAIR_MAX_RUN_CHARGE_NS (FAIR_SLICE_NS + FAIR_QUANTUM_NS)

/* e's vCPU ran ns since it was picked: charged, at most
 * FAIR_MAX_RUN_CHARGE_NS (sched.c, every decision). */
static inline void fair_charge_run(struct fair_entity *e, uint64_t ns)
{
    fair_charge(e, ns < FAIR_MAX_RUN_CHARGE_NS ? ns : FAIR_MAX_RUN_CHARGE_NS);
}
/* The runnable entity with the smallest virtual time, other than `skip`
 * when another is runnable (a yield); NULL when none is runnable. Ties go
 * to the one runnable longest (so guests start in load order). Raises the
 * floor to the smallest runnable virtual time. With run_ns, also how long
 * the pick may run (fair_run_ns with ran_ns = 0), from the same pass. */
static inline struct fair_entity *fair_pick(struct fair_queue *q,
                                            const struct fair_entity *skip, uint64_t *run_ns);
/* How much longer e may run before the next decision, having run `ran_ns`
 * (not charged yet) since it was picked: until it is one quantum of its own
 * time past the next entity, rounded down to whole FAIR_RUN_GRAIN_NS (the
 * timer converts a run length it saw last for free, and charging stays
 * exact), at least FAIR_MIN_RUN_NS from the pick, at most FAIR_SLICE_NS from
 * the pick. Asked again when another entity becomes runnable, so a run
 * decided while e was alone is cut to fit. */
uint64_t fair_run_ns(const struct fair_queue *q, const struct fair_entity *e, uint64_t ran_ns);
/* `yielder` gave the CPU to `to`: it keeps its place, but never more than a
 * quantum of its own time behind `to` (inline: every yield does it). */
static inline void fair_yielded(struct fair_entity *yielder, const struct fair_entity *to)
{
    uint64_t lowest = to->vtime - yielder->lag;
    if ((int64_t)(yielder->vtime - lowest) < 0)
        yielder->vtime = lowest;
}
/* Whether `woken` should take the CPU from `cur`, which has run `ran_ns`
 * since it was last charged: when woken is behind it in virtual time, or
 * less than a slice (of the heavier one's time) ahead. */
bool fair_should_preempt(const struct fair_entity *woken, const struct fair_entity *cur,
                         uint64_t ran_ns);

/* --- inline: the send's hand-off and the idle loop's direct entry ------------- */

/* fair_enqueue's body (fair.c's is this). */
static inline __attribute__((always_inline)) void fair_enqueue_inline(struct fair_queue *q,
                                                                   struct fair_entity *e)
{
    if (e->queued)
        return;
    uint64_t lowest = q->floor - e->lag; /* the most it may be behind: a quantum of its time */
    if ((int64_t)(e->vtime - lowest) < 0)
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

/* fair_should_preempt's body (fair.c's is this). */
static inline __attribute__((always_inline)) bool
fair_should_preempt_inline(const struct fair_entity *woken, const struct fair_entity *cur,
                           uint64_t ran_ns)
{
    if (woken == cur)
        return false;
    /* Up to a slice (of the heavier one's time) ahead still preempts: an
     * occasional waker answers its events at once although it used a bit
     * more than the running guest lately; a frequent one soon runs out of
     * that lead, and every run is charged, so the shares hold. */
    const struct fair_entity *heavier = woken->weight > cur->weight ? woken : cur;
    return (int64_t)(woken->vtime - (cur->vtime + fair_scale(cur, ran_ns) +
                                     fair_scale(heavier, FAIR_SLICE_NS))) < 0;
}

/* --- inline: each scheduling decision runs these ------------------------------ */

/* a < b on virtual times that may wrap. */
static inline bool fair_before(uint64_t a, uint64_t b)
{
    return (int64_t)(a - b) < 0;
}

/* Virtual time of e as ns of its CPU time. */
static inline uint64_t fair_unscale(const struct fair_entity *e, uint64_t vns)
{
    /* Callers want at most a slice; beyond 2^40 the answer is "long". */
    if (vns > FAIR_MAX_CHARGE_NS)
        vns = FAIR_MAX_CHARGE_NS;
    /* At most 2^40 x 2^16: no wrap. */
    return vns * e->weight / FAIR_WEIGHT_UNIT;
}

/* How much longer e may run having run ran_ns, when `next` (NULL: none)
 * is the runnable entity with the smallest virtual time after e's. */
static inline uint64_t fair_run_before(const struct fair_entity *e, const struct fair_entity *next,
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
    uint64_t run = fair_before(now_vtime, until) ? fair_unscale(e, until - now_vtime) : 0;
    run &= ~(FAIR_RUN_GRAIN_NS - 1);
    if (ran_ns + run < FAIR_MIN_RUN_NS)
        run = FAIR_MIN_RUN_NS - ran_ns;
    if (ran_ns + run > FAIR_SLICE_NS)
        run = FAIR_SLICE_NS - ran_ns;
    return run;
}

static inline struct fair_entity *fair_pick(struct fair_queue *q,
                                            const struct fair_entity *skip, uint64_t *run_ns)
{
    /* The smallest and the second smallest virtual time; one or two
     * runnable guests (the common case) without the loop. */
    struct fair_entity *best = q->head, *second = NULL;
    if (!best)
        return NULL;
    if (q->count == 2) {
        second = q->tail;
        if (fair_before(second->vtime, best->vtime)) {
            best = second;
            second = q->head;
        }
    } else if (q->count > 2) {
        for (struct fair_entity *e = best->next; e; e = e->next) {
            if (fair_before(e->vtime, best->vtime)) {
                second = best;
                best = e;
            } else if (!second || fair_before(e->vtime, second->vtime)) {
                second = e;
            }
        }
    }
    /* The floor only moves forward: an entity that was behind it and left
     * cannot pull it back by returning. */
    if (fair_before(q->floor, best->vtime))
        q->floor = best->vtime;
    struct fair_entity *pick = best, *next = second;
    if (skip == best && second) { /* a yield: the next smallest runs, best waits */
        pick = second;
        next = best;
    }
    if (run_ns)
        *run_ns = fair_run_before(pick, next, 0);
    return pick;
}
