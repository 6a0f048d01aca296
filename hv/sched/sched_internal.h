/* State shared by the scheduler's files: sched.c (who runs, the switch,
 * the idle loop), wake.c (wake-ups, blocks), sched_life.c (set-up, stops)
 * and vtimer.c (vCPU timers, poll deadlines and the one-shot timer that
 * brings hv back for the next decision). Not for the rest of hv:
 * hv/sched/sched.h is the scheduler's interface. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/guest/guest.h"
#include "hv/sched/fair.h"
#include "vcpu/vcpu.h"

extern uint64_t time_limit;        /* hv.cfg's time limit (0: none) */
/* What sched_start was given to run when no guest is left (sched.c's
 * finish; set in sched_life.c). */
extern void (*sched_all_ended)(void);
/* This CPU's scheduler state (hv/sched/sched_cpu.h). Inline and one load:
 * every decision, switch and wake-up reaches it. */
static inline struct sched_cpu *sched_this(void)
{
    return &this_cpu()->sched;
}

/* Timer and poll deadlines armed on every CPU (the leak check's count). */
static inline unsigned sched_vtimers_armed(void)
{
    unsigned n = 0;
    for (uint32_t i = 0; i < percpu_count; i++)
        n += __atomic_load_n(&percpu_by_index[i]->sched.vtimers_armed, __ATOMIC_RELAXED);
    return n;
}
/* v's deadline was armed (vtimer.c): vtimer_next comes no later, and v
 * is the earliest-deadline record when it set it. */
void vtimer_armed_at(struct vcpu *v, uint64_t deadline);
/* v leaves this CPU or stops: the earliest-deadline record forgets it. */
static inline void vtimer_forget(struct sched_cpu *sc, const struct vcpu *v)
{
    if (sc->vtimer_first == v)
        sc->vtimer_first = NULL;
}
/* A partition schedule is in force (windows.c). */
extern bool sched_partitioned;
/* Another vCPU than the running one wants the CPU (or none runs, or a
 * partition plan slices): the slice's end needs the timer. Inline: every
 * switch asks. */
static inline bool sched_contended(void)
{
    struct percpu *cpu = this_cpu();
    struct vcpu *cur = cpu->current;
    return cpu->sched.fair_queue.count > 1 || sched_partitioned || !cur || cur->ent->run_head;
}

static inline bool vtimer_armed(const struct vcpu *v)
{
    return v->ev.timer_deadline || (v->ev.polling && v->ev.poll_deadline);
}

/* v on the CPU it was placed on, with its guest's entity there
 * (sched_place.c; at sched_add). */
void sched_bind_entity(struct vcpu *v);
/* v's wait is over (an event, its poll deadline): it wants the CPU again
 * (wake.c). */
void wake(struct vcpu *v, uint64_t now);
/* The send's hand-off is not taken: its vCPU's wake-up completes as the
 * general path's (wake.c). */
void sched_handoff_abandon(void);
/* Re-arms the one-shot timer for the next decision (vtimer.c). */
void rearm(uint64_t now);
/* The reaper's next step from hv's timer (vtimer.c; 0: none). */
extern uint64_t next_reap;
/* The console poll's next reading (vtimer.c; 0: none, or due at once). */
extern uint64_t next_console_poll;
/* The direct entry's run from the idle loop (sched_direct.c). */
__attribute__((noreturn, noinline)) void sched_idle_enter(struct vcpu *v, uint64_t now);
/* v (running before, or new) wants the CPU; its guest's entity on v's CPU
 * joins the fair queue with its first such vCPU. Shared by wake.c
 * (wake-ups) and sched.c (additions). */
static inline void wants_cpu(struct sched_cpu *sc, struct vcpu *v)
{
    sc->nr_wanting++;
    if (v->ent->vcpus_wanting++ == 0)
        fair_enqueue(&sc->fair_queue, &v->ent->fair);
}

/* wants_cpu with fair_enqueue inline: the send's hand-off and the idle
 * loop's direct entry (wake.c). */
static inline __attribute__((always_inline)) void wants_cpu_inline(struct sched_cpu *sc,
                                                                 struct vcpu *v)
{
    sc->nr_wanting++;
    if (v->ent->vcpus_wanting++ == 0)
        fair_enqueue_inline(&sc->fair_queue, &v->ent->fair);
}

/* Shared by wake.c (blocks) and sched_life.c (stops). */
/* v blocked or stopped; the entity leaves the fair queue with its last. */
static inline void stops_wanting_cpu(struct sched_cpu *sc, struct vcpu *v)
{
    struct sched_entity *e = v->ent;
    if (!e->vcpus_wanting)
        return;
    sc->nr_wanting--;
    if (--e->vcpus_wanting == 0)
        fair_dequeue(&sc->fair_queue, &e->fair);
}

/* v's timer and poll deadlines armed: 0, 1 or 2 (a vCPU blocked in a poll
 * with a deadline may hold a timer deadline too). */
static inline unsigned deadlines_armed(const struct vcpu *v)
{
    return (v->ev.timer_deadline != 0) + (v->ev.polling && v->ev.poll_deadline);
}

/* The one-shot timer's handler (vtimer.c). */
void timer_fired(uint64_t now);
/* One bounded step of freeing an ended guest (sched.c). */
void reap_guests(void);
/* Moves a piece of queued console output at the start of a decision;
 * true if it moved anything (and so took time). The test stays inline: it
 * is on every switch, and nearly always says there is nothing to move. */
bool sched_drain_console_piece(void);
static inline bool sched_drain_console(uint64_t now)
{
    /* The boot CPU's duty (the APs leave the console to it). */
    return log_waiting(now) && this_cpu()->index == 0 && sched_drain_console_piece();
}
/* With a partition schedule: whose window it is now (NULL: a gap, or no
 * such guest), setting this CPU's window_boundary (windows.c). */
struct guest;
struct guest *sched_window_owner(uint64_t now);
