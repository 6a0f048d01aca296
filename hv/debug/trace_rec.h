/* The trace's records, the per-CPU ring that holds them and the line each
 * becomes on the serial line (docs/trace.md). Pure: no hv state, so the
 * encoding, the wrap and the dump format are unit-tested on the host
 * (tests/unit/test_trace.c); hv/debug/trace.c is the rest. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Event names follow xentrace/xenalyze where one fits (docs/trace.md). */
enum trace_event {
    TR_RUNSTATE = 1,    /* runstate_change: a = new HV_RUNSTATE_* */
    TR_SWITCH_INFNEXT,  /* switch_infnext: the vCPU the CPU switches to */
    TR_HYPERCALL,       /* hypercall: a = number (rax as the guest gave it), b = its rdi
                         * (HV_CALL_EVTCHN_SEND's port: the event sends) */
    TR_TRAP,            /* trap: a bounce to the guest kernel, a = vector or DELIVERY_* */
    TR_EVTCHN_DELIVER,  /* evtchn_deliver: an event newly pending, a = the receiver's port */
    TR_TIMER,           /* timer_fire: hv's one-shot fired */
    TR_WINDOW,          /* window: a partition window began, a = index (~0: a gap) */
    TR_DOM_END,         /* dom_end: the guest ended, a = HV_HEALTH_* action taken */
    TR_DOM_RESTART,     /* dom_restart: the guest runs again, a = its restart count */
    TR_EVENT_COUNT
};

#define TRACE_NO_GUEST 0xffffu

/* 32 bytes; the CPU is the ring's. */
struct trace_rec {
    uint64_t ns;     /* hv's clock (time_now_ns), as the scheduler reads it */
    uint16_t event;  /* enum trace_event */
    uint16_t guest;  /* guest id, TRACE_NO_GUEST for none */
    uint16_t vcpu;   /* vCPU id within the guest */
    uint16_t pad;
    uint64_t a, b;
};

/* A fixed ring that wraps: once full, each new record overwrites the
 * oldest, which is counted as lost. A dump takes (consumes) what is held,
 * oldest first. */
struct trace_ring {
    struct trace_rec *recs;
    uint32_t cap;     /* records */
    uint32_t head;    /* where the next record goes */
    uint32_t count;   /* held, <= cap */
    uint64_t lost;    /* overwritten before a dump took them */
    uint64_t written; /* ever put */
};

/* The slot for one more record (the oldest's when full: counted lost);
 * trace_ring_take: the oldest held record, taken out; NULL when empty. */
static inline void trace_ring_init(struct trace_ring *r, struct trace_rec *storage, uint32_t cap)
{
    r->recs = storage;
    r->cap = storage ? cap : 0;
    r->head = r->count = 0;
    r->lost = r->written = 0;
}

static inline struct trace_rec *trace_ring_put(struct trace_ring *r)
{
    if (!r->cap) {
        r->lost++;
        return 0;
    }
    struct trace_rec *slot = &r->recs[r->head];
    r->head = r->head + 1 == r->cap ? 0 : r->head + 1;
    if (r->count == r->cap)
        r->lost++; /* the oldest goes */
    else
        r->count++;
    r->written++;
    return slot;
}

static inline const struct trace_rec *trace_ring_take(struct trace_ring *r)
{
    if (!r->count)
        return 0;
    uint32_t oldest = r->head >= r->count ? r->head - r->count : r->head + r->cap - r->count;
    r->count--;
    return &r->recs[oldest];
}

/* The record's line without a newline, at most cap - 1 bytes and a NUL;
 * returns its length (docs/trace.md, "Lines"). */
size_t trace_format(char *buf, size_t cap, unsigned cpu, const struct trace_rec *r);
