/* The scheduler's cross-CPU part (hv/sched/cross_cpu.c): wake-ups, stops
 * and additions of a vCPU placed on another CPU, the reschedule IPI, the
 * APs' scheduler start and parking, and the reaper's grace period. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpu/percpu.h"

struct guest;
struct vcpu;

#define VEC_RESCHEDULE 0xf3

/* What another CPU asks of a vCPU (its remote_req bits): an event may
 * wake it, its guest ended, it becomes runnable there (the loader, a
 * restart), it moves there (load balancing, balance.c). */
enum { VCPU_REQ_WAKE = 1, VCPU_REQ_STOP = 2, VCPU_REQ_ADD = 4, VCPU_REQ_MOVE = 8 };

void sched_cross_cpu_init(void);
/* Sends CPU `cpu` (an index) the reschedule IPI; interrupts off. */
void sched_send_reschedule(uint32_t cpu);
/* An event was raised for v, placed on another CPU: its CPU looks at
 * whether that wakes it. */
void sched_remote_wake(struct vcpu *v);
/* v (bound to its entity) becomes runnable on its CPU, another one. */
void sched_remote_add(struct vcpu *v);
/* Pushes v, whose `queued` the caller took, on its CPU's wake list and
 * sends that CPU the IPI. */
void sched_push_queued(struct vcpu *v);
/* Load balancing (balance.c): at a slice's end, and at a decision with
 * vCPUs waiting at most every BALANCE_EVERY_NS, hands waiting ones to CPUs
 * of their affinity with at least 2 fewer vCPUs running or runnable; on
 * that CPU, v arrives (from its wake list). */
void sched_balance(uint64_t now);
void sched_move_in(struct vcpu *v);
/* What other CPUs asked of this CPU's vCPUs; the test stays inline (every
 * decision makes it). */
void sched_drain_wake_list_slow(void);
static inline void sched_drain_wake_list(void)
{
    if (__atomic_load_n(&this_cpu()->sched.wake_list, __ATOMIC_RELAXED))
        sched_drain_wake_list_slow();
}
/* On the owner CPU: v becomes runnable here (sched.c); v stops here
 * (its guest ended), its CPU time added to its guest's (sched_life.c). */
void sched_add_here(struct vcpu *v);
void sched_stop_here(struct vcpu *v);
/* The reaper's grace period (boot CPU, hv/guest/guest_end.c): begun, it
 * is over once every other CPU running guests has passed a quiet point
 * since (each is sent the IPI so that it passes one at once). One at a
 * time. And whether no CPU runs one of ended guest g's vCPUs or has one on
 * its wake list. Bounded: a look at each CPU, at g's vCPUs. */
void sched_grace_begin(void);
bool sched_grace_over(void);
bool sched_vcpus_let_go(const struct guest *g);
/* An end counted to reap on another CPU than the boot CPU: the boot CPU,
 * which reaps (and restarts), is sent the IPI, whose return there arms the
 * reaper's timer: one running a vCPU alone has no timer armed, and its
 * reaper waited for its next interrupt (the restart of a guest that ended
 * on an AP waited for the time limit). Interrupts off. */
void sched_reaper_kick(void);
/* An AP: its scheduler state, then wait (interrupts on) for sched_start. */
void sched_ap_wait_for_start(void);
/* The boot CPU starts the APs' schedulers / parks them for the end. */
void sched_aps_go(void);
void sched_park_aps(void);
/* An AP's idle loop: halts for good if the boot CPU asked it to. */
void sched_ap_park_if_asked(void);
/* hv.cfg debug_ap_park: the last AP, asked to park, first spins 500 ms
 * counting nothing, as a virtual CPU its host starves looks (1, late), or
 * never parks (2, never); 0: neither. */
extern uint8_t sched_debug_park;
/* Counted at each of this CPU's quiet points: no hypercall in flight. */
static inline void sched_quiet_point(void)
{
    struct sched_cpu *sc = &this_cpu()->sched;
    __atomic_store_n(&sc->quiet_count, sc->quiet_count + 1, __ATOMIC_RELEASE);
}
