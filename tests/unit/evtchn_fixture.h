/* What the event-channel tests share (tests/unit/test_evtchn*.c, one binary
 * each): hv/event/evtchn.c against fake guests, whose scheduler, allocator,
 * statistics, trace and lock-order check are stubs that record what
 * happens. Each test file includes it once (the stubs are the definitions
 * evtchn.c links against). */
#pragma once

#include <pthread.h>

#include "check.h"
#include "hv/cpu/lock_order.h"
#include "hv/debug/stats_cpu.h"
#include "hv/event/evtchn.h"
#include "hv/guest/guest.h"
#include "vcpu/vcpu.h"

/* Not every test file uses every helper. */
#define FIXTURE static __attribute__((unused))

unsigned console_listeners;
/* The statistics line's counters (hv/debug/stats.h): per CPU in hv, one
 * set here (evtchn.mk builds with STATS_HOST_COUNTERS). */
struct cpu_stats stats_host;

/* The lock-order check (hv/cpu/lock_order.h): each thread's mask; a
 * violation fails the test at once. */
__thread uint32_t lock_order_held_host;
void lock_order_violation(unsigned level, unsigned held_level)
{
    fprintf(stderr, "lock order: %s taken while holding %s\n", lock_level_name(level),
            lock_level_name(held_level));
    abort();
}

/* Stubs of what evtchn.c calls outside itself. The hand-off
 * (hv/sched/handoff.h): whether it is armed, each thread its own (a CPU's
 * in hv), and how many wake-ups came while it was; the sends that armed
 * it, and those that ended without disarming it (none may). */
static __thread bool handoff_armed;
static unsigned handoff_arms, handoff_wakes, handoff_left_armed;
void sched_handoff_arm(void)
{
    if (handoff_armed)
        handoff_left_armed++;
    handoff_armed = true;
    __atomic_fetch_add(&handoff_arms, 1, __ATOMIC_RELAXED);
}
void sched_handoff_done(void)
{
    handoff_armed = false;
}
static unsigned woken_port, wakes, masked_wakes;
void sched_event_arrived(struct vcpu *v, unsigned port, bool notified)
{
    (void)v;
    woken_port = port;
    if (handoff_armed)
        __atomic_fetch_add(&handoff_wakes, 1, __ATOMIC_RELAXED);
    if (notified)
        wakes++;
    else
        masked_wakes++;
}
/* The send's own upcall (hv/sched/sched.c): hv may enter it and never
 * return; here it is counted, and the send returns as when hv does not. */
static unsigned self_upcalls;
static struct vcpu *self_upcall_vcpu;
static const struct hv_vcpu_shared *self_upcall_vs;
int64_t sched_upcall_after_send(struct vcpu *v, const struct hv_vcpu_shared *vs)
{
    self_upcall_vs = vs;
    self_upcalls++;
    self_upcall_vcpu = v;
    return 0;
}
/* The trace's recorder (hv/debug/trace.h): its trace point in evtchn.c is
 * an unpatched NOP here, never taken. */
void trace_record(uint64_t how, const void *subject, uint64_t a, uint64_t b)
{
    (void)how, (void)subject, (void)a, (void)b;
}
/* The guests evtchn_guest_restarted walks. */
static struct guest *guest_list_head;
struct guest *guest_list(void)
{
    return guest_list_head;
}
void *kmalloc(size_t size)
{
    return calloc(1, size);
}
void kfree(void *p, size_t size)
{
    (void)size;
    free(p);
}

struct fake {
    struct guest g;
    struct hv_shared_info shared;
    struct vcpu v[2];
    struct vcpu *vp[2];
};

FIXTURE void make(struct fake *f, const char *name)
{
    memset(f, 0, sizeof(*f));
    strcpy(f->g.name, name);
    f->g.end = GUEST_ALIVE;
    f->g.shared = &f->shared;
    f->g.vcpu_count = 2;
    for (int i = 0; i < 2; i++) {
        f->v[i].id = (uint32_t)i;
        f->v[i].guest = &f->g;
        for (int q = 0; q < HV_VIRQ_COUNT; q++)
            f->v[i].ev.virq_port[q] = NO_PORT;
        f->g.vcpus[i] = &f->v[i];
    }
    wakes = masked_wakes = self_upcalls = 0;
}

FIXTURE void done(struct fake *f)
{
    evtchn_free_table(&f->g);
}

FIXTURE bool pending(struct fake *f, unsigned port)
{
    return f->shared.evtchn_pending[port / 64] >> (port % 64) & 1;
}
