/* Which vCPU runs: the guest furthest behind its weight's share of the CPU
 * (hv/sched/fair.h), and among its runnable vCPUs the next in round robin,
 * preempted by the local APIC timer when its run is over, so a guest that
 * never yields still cannot keep the CPU from others, and a guest's share
 * does not grow with its vCPUs, its wake-ups or its yields. With a partition
 * schedule (hv/sched/partition.h) the window's owner runs instead, round
 * robin with slices. hv itself is never preempted: it runs with interrupts
 * off, and only ever for a bounded time per entry. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpu/trap.h"

struct vcpu;

#define SCHED_SLICE_NS 10000000ULL /* 10 ms, at the default weight */

/* A guest's slice in a partition window: proportional to its weight
 * (256 = SCHED_SLICE_NS), kept between 1 ms and 100 ms. */
uint64_t sched_slice_for_weight(uint32_t weight);
struct guest;
/* The CPUs whose schedulers run guests, by bit (index 0: the boot CPU):
 * what an affinity may name (hv.cfg `[guest X] cpus`). */
uint64_t sched_guest_cpus(void);
/* A new guest's scheduling state, from its hv.cfg weight (1..65535) and
 * affinity (CPUs by bit, 0: every CPU of sched_guest_cpus), once its vCPUs
 * exist and before they are added: each is placed on a CPU (kept across
 * restarts). */
void sched_guest_init(struct guest *g, uint32_t weight, uint64_t cpus);
/* The guest is gone for good (its memory freed, no restart): its vCPUs no
 * longer count where they were placed. */
void sched_guest_unplace(struct guest *g);
/* Whether any of its vCPUs is running or runnable (the status line). */
bool sched_guest_wants_cpu(const struct guest *g);

/* time_limit_ns: 0, or when (on the monotonic clock) to stop every guest
 * still running: a safety net for unattended runs and tests. */
void sched_init(uint64_t time_limit_ns);
/* hv.cfg debug_last_end_race = yes (tests only): the boot CPU, once it has
 * nothing to run, keeps interrupts off until no guest is alive (5 s at
 * most) before it looks at the count, so a last end on another CPU finds
 * it unable to take that end's IPI: finish's reaping must take it
 * (hv/debug/irqoff.h, irqoff_interrupt_window); and a guest's end pauses
 * 200 ms between its two counts (hv/guest/guest_end.c), so the boot CPU
 * sees the second before that CPU is done. */
extern bool sched_debug_last_end_race;
/* Its two waits: idle, the boot CPU's hold; else an end's pause. */
void sched_race_gap(bool idle);
/* v becomes runnable on the CPU it was placed on; a guest's vCPUs are
 * added in id order. */
void sched_add(struct vcpu *v);
/* Enters the first vCPU. When no guest is left (at once, if none started),
 * `all_ended` runs on hv's own page tables with every guest's memory freed;
 * it must not return. */
void sched_start(void (*all_ended)(void)) __attribute__((noreturn));
/* An AP, before it checks in ready: its scheduler state, so guests are
 * placed on it (hv/sched/cross_cpu.c). */
void sched_ap_prepare(void);
/* An AP, once ready: its scheduler loop, from sched_start on; never returns. */
void sched_ap_start(void) __attribute__((noreturn));
/* Every way back to ring 3 passes here: switch if the slice is over, the
 * current vCPU stopped or yielded; idle if nothing is runnable; finish when
 * no guest is left. Leaves `f` ready for the return to the guest. */
void sched_return_to_guest(struct trap_frame *f);
/* After an interrupt's handler, when the interrupt came in the idle loop's
 * `hlt` (hv/cpu/trap.c): a lone vCPU it woke here is entered at once, and
 * this does not return; otherwise it returns to the idle loop. */
void sched_idle_interrupted(void);
/* The APIC timer's interrupt in the idle loop's `hlt` (hv/cpu/trap.c): its
 * handler and sched_idle_interrupted, or the vCPU whose timer it was
 * entered directly (hv/sched/idle_timer.c). */
void sched_idle_timer(void);
/* The idle loop's before its `hlt`: the timer armed early for a vCPU's
 * deadline (idle_timer.c). */
void sched_idle_timer_arm(void);
/* hv.cfg's debug_timer_advance_ns: the advance fixed (tests: a long one
 * shows the spin keeps every effect after the deadline); 0: adaptive. */
extern uint32_t idle_timer_advance_fixed;
void sched_yield(void);
/* The calling vCPU sleeps (HV_CALL_BLOCK), or polls ports with an optional
 * deadline (HV_CALL_POLL, ports in v->ev): it leaves the CPU on the way out.
 * Returns the clock's reading it blocked at. */
uint64_t sched_block(struct vcpu *v, bool poll, uint64_t poll_deadline);
/* HV_CALL_BLOCK's way back (sched_handback.c): v, this CPU's vCPU,
 * blocked at now; when the return's decision would run the front of the
 * one guest left wanting the CPU, switches to it from here and does not
 * return (HV_CALL_BLOCK's 0 in v's frame); else returns. */
void sched_handback(struct vcpu *v, uint64_t now);
/* An event was raised for v on `port` (wakes it if it waits for that). */
void sched_event_arrived(struct vcpu *v, unsigned port, bool notified);
/* HV_CALL_EVTCHN_SEND notified the sending vCPU v itself (evtchn.c; vs
 * its shared vCPU area): when its upcall is the return's only work,
 * enters it and leaves to it (the send's result, 0, in its frame); else
 * returns the send's 0 and the return takes it as any other. */
struct hv_vcpu_shared;
int64_t sched_upcall_after_send(struct vcpu *v, const struct hv_vcpu_shared *vs);
/* HV_CALL_SET_TIMER: 0 cancels. */
void sched_set_vcpu_timer(struct vcpu *v, uint64_t deadline);
struct partition_plan;
/* Switches to the partition schedule (hv/sched/partition.h), its frame
 * starting now; window owners are looked up by guest name. */
void sched_set_partitions(const struct partition_plan *p);
/* The plan in force and the system time it started (NULL: no plan). */
const struct partition_plan *sched_partition_plan(uint64_t *start);
/* A guest ended: its timers stop, its peers learn. */
struct guest;
void sched_guest_ended(struct guest *g);
void sched_vcpu_stop(struct vcpu *v);
uint64_t sched_vcpu_time(const struct vcpu *v);
/* The summary's lines: how many CPUs ran guests, and per CPU its busy time
 * (all but its idle loop's sleep since its scheduler started) and the
 * vCPUs placed on it. */
void sched_report(void);
