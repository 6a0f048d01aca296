/* One CPU's scheduler state (hv/sched/sched.c, vtimer.c): everything that
 * decides what this CPU runs next and when hv comes back to decide again.
 * It lives in the CPU's per-CPU area (struct percpu, hv/cpu/percpu.h),
 * reached through GS like the rest of it, so the decision, the switch and
 * a same-CPU wake-up take no lock and touch no other CPU's lines.
 *
 * It sits in the entry area, which page-table isolation maps into guests'
 * tables: bookkeeping only (pointers, times, counts), never a guest's data
 * (percpu.h). The slice-cut flag the HV_CALL_IRET fast path tests is in
 * struct percpu itself, at an offset the assembly names. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/sched/fair.h"
#include "hv/sched/guest_switch.h"

struct guest;
struct vcpu;

/* A guest's vCPUs on one CPU: one fair entity per (guest, CPU), with the
 * guest's weight split by the share of its vCPUs placed there
 * (hv/sched/placement.h), and those of them waiting for the CPU in round
 * robin. Kept in the first of those vCPUs (struct vcpu's own_ent), which
 * the others point to: no allocation, and a guest on one CPU has one. */
struct sched_entity {
    struct fair_entity fair;
    struct vcpu *run_head, *run_tail; /* its runnable vCPUs waiting, round robin */
    struct guest *guest;
    uint32_t vcpus_wanting;           /* of its vCPUs running or runnable */
};

struct sched_cpu {
    struct fair_queue fair_queue;  /* entities (guests here) with a vCPU that wants this CPU */
    uint64_t slice_end;            /* 0: no vCPU holds a slice */
    uint64_t picked_run_ns;        /* how long the guest fair_pick chose may run */
    uint64_t window_boundary;      /* next window change; 0 without a plan */
    uint64_t vtimer_next;          /* no vCPU deadline is due before it; 0: none */
    struct vcpu *vtimer_first;     /* whose deadline set vtimer_next (vtimer.c); NULL: unknown */
    /* A guest woken with the right to take the CPU at once (preempt_for):
     * the next decision runs it, although it may be a little ahead in
     * virtual time. */
    struct sched_entity *woken_first;
    /* The two direct paths (sched_direct.c): the native event send in
     * progress on this CPU allows a hand-off (handoff_armed), an interrupt
     * in the idle loop's `hlt` a direct entry (idle_halted); the vCPU the
     * wake-up chose to switch to (NULL: none), woken at handoff_woke_ns,
     * its guest in the fair queue, not yet in its round robin, its run
     * state still blocked (wake.c). */
    struct vcpu *handoff;
    uint64_t handoff_woke_ns;
    unsigned vtimers_armed;        /* timer and poll deadlines armed, this CPU's vCPUs */
    bool yield_pending;            /* the current vCPU called HV_CALL_YIELD */
    /* The timer was last armed to come by slice_end (vtimer.c,
     * next_decision): false while the running vCPU is alone, whose run
     * nothing needs to end. */
    bool slice_armed;
    /* Set by anything an interrupt does that could give the idle loop
     * work: a wake-up, a timer (a window boundary, a slice). */
    volatile bool idle_kick;
    /* A vCPU woke since the scheduler last decided (set by wake, cleared
     * at each decision): the console drain gives way to it. */
    volatile bool woken_since_decision;
    union { /* wake tests both at once: direct_armed */
        struct {
            bool handoff_armed; /* see handoff above */
            /* In the idle loop's `sti; hlt` (sched.c): an interrupt there
             * may enter a vCPU directly (sched_idle_interrupted). */
            bool idle_halted;
        };
        uint16_t direct_armed;
    };
    struct guest_switch last_ran;  /* whose code the CPU ran last */
    uint32_t vcpus_placed;         /* vCPUs of guests not yet freed placed here */
    /* Switches by the idle loop's timer path (idle_timer.c; the summary),
     * where runs_guests and its padding were: nothing after moves. */
    uint32_t idle_timer_entries;
    uint64_t started_ns;           /* when it started */
    uint64_t idle_ns;              /* time asleep in its idle loop since */
    uint64_t switches;             /* vCPUs switched in (the summary's line) */
    uint64_t ipis_sent;            /* reschedule IPIs this CPU sent (the summary) */
    /* Cross-CPU (hv/sched/cross_cpu.c): vCPUs placed here that another CPU
     * woke, stopped or added, pushed by any CPU, drained by this one; the
     * count of its quiet points (besides its switches to a vCPU: a decision
     * that kept the vCPU, an idle turn, an
     * interrupt taken from a guest: no hypercall in flight), by which the
     * reaper knows no CPU still holds a pointer into an ended guest; and
     * the boot CPU's request that it park for the end of the run. */
    struct vcpu *wake_list;
    uint64_t quiet_count;
    volatile bool park;
    volatile bool parked;
    bool runs_guests; /* its scheduler has started (here: in park's padding) */
    /* Load balancing (hv/sched/balance.c): a busy CPU claimed this idle
     * one for a vCPU it is moving here (set by that CPU, cleared by this
     * one when the vCPU arrives); how many it took in (the summary). */
    bool balance_incoming;
    uint32_t moves_in;
    /* Its vCPUs running or runnable (the sum of its entities'
     * vcpus_wanting): its load, which other CPUs' balancing reads; and when
     * a decision may next look at balancing (balance.c). */
    uint32_t nr_wanting;
    /* Blocks that switched straight back (sched_handback.c; the summary):
     * in the hole before balance_next_ns, so nothing after moves. */
    uint32_t handbacks;
    uint64_t balance_next_ns;
};
