/* Which vCPU runs: round robin over runnable vCPUs, preempted by the local
 * APIC timer at the end of a time slice, so a guest that never yields still
 * cannot keep the CPU from others. hv itself is never preempted: it runs
 * with interrupts off, and only ever for a bounded time per entry. */
#pragma once

#include <stdint.h>

#include "hv/cpu/trap.h"

struct vcpu;

#define SCHED_SLICE_NS 10000000ULL /* 10 ms */

/* time_limit_ns: 0, or when (on the monotonic clock) to stop every guest
 * still running: a safety net for unattended runs and tests. */
void sched_init(uint64_t time_limit_ns);
void sched_add(struct vcpu *v);
/* Enters the first vCPU. When no guest is left (at once, if none started),
 * `all_ended` runs on hv's own page tables with every guest's memory freed;
 * it must not return. */
void sched_start(void (*all_ended)(void)) __attribute__((noreturn));
/* Every way back to ring 3 passes here: switch if the slice is over, the
 * current vCPU stopped or yielded; idle if nothing is runnable; finish when
 * no guest is left. Leaves `f` ready for the return to the guest. */
void sched_return_to_guest(struct trap_frame *f);
void sched_yield(void);
void sched_vcpu_stop(struct vcpu *v);
uint64_t sched_vcpu_time(const struct vcpu *v);
