/* The trace's ring and line format (hv/debug/trace_rec.h, docs/trace.md). */
#include "hv/debug/trace_rec.h"

#include "lib/fmt.h"
#include "lib/nospec.h"

void trace_ring_init(struct trace_ring *r, struct trace_rec *storage, uint32_t cap)
{
    r->recs = storage;
    r->cap = storage ? cap : 0;
    r->head = r->count = 0;
    r->lost = r->written = 0;
}

struct trace_rec *trace_ring_put(struct trace_ring *r)
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

const struct trace_rec *trace_ring_take(struct trace_ring *r)
{
    if (!r->count)
        return 0;
    uint32_t oldest = r->head >= r->count ? r->head - r->count : r->head + r->cap - r->count;
    r->count--;
    return &r->recs[oldest];
}

static const char *const event_names[TR_EVENT_COUNT] = {
    [TR_RUNSTATE] = "runstate_change",   [TR_SWITCH_INFNEXT] = "switch_infnext",
    [TR_HYPERCALL] = "hypercall",        [TR_TRAP] = "trap",
    [TR_EVTCHN_SEND] = "evtchn_send",    [TR_EVTCHN_DELIVER] = "evtchn_deliver",
    [TR_TIMER] = "timer_fire",           [TR_WINDOW] = "window",
    [TR_DOM_END] = "dom_end",            [TR_DOM_RESTART] = "dom_restart",
};

const char *trace_event_name(uint16_t event)
{
    if (event >= TR_EVENT_COUNT)
        return "unknown";
    const char *name = event_names[array_index_nospec(event, TR_EVENT_COUNT)];
    return name ? name : "unknown";
}

/* HV_RUNSTATE_* (include/hv/abi_event.h), xenalyze's words. */
static const char *const runstates[] = {"running", "runnable", "blocked", "offline"};
/* vcpu/deliver.h's DELIVERY_INT_N, _SYSCALL, _UPCALL. */
static const char *const kinds[] = {"int_n", "syscall", "upcall"};
/* HV_HEALTH_* actions (include/hv/abi.h). */
static const char *const actions[] = {"stop", "restart", "halt", "limit_stop", "restart_failed"};

size_t trace_format(char *buf, size_t cap, unsigned cpu, const struct trace_rec *r)
{
    char who[24];
    if (r->guest == TRACE_NO_GUEST)
        fmt_format(who, sizeof(who), "-");
    else if (r->event == TR_DOM_END || r->event == TR_DOM_RESTART)
        fmt_format(who, sizeof(who), "d%u", r->guest);
    else
        fmt_format(who, sizeof(who), "d%uv%u", r->guest, r->vcpu);
    size_t n = fmt_format(buf, cap, "trace %u %lu %s %s", cpu, (unsigned long)r->ns,
                          trace_event_name(r->event), who);
    size_t room = n < cap ? cap - n : 0;
    char *end = buf + (n < cap ? n : cap);
    unsigned long a = (unsigned long)r->a, b = (unsigned long)r->b;
    size_t more = 0;
    switch (r->event) {
    case TR_RUNSTATE:
        more = a < 4 ? fmt_format(end, room, " %s", runstates[array_index_nospec(a, 4)])
                      : fmt_format(end, room, " state=%lu", a);
        break;
    case TR_HYPERCALL:
        more = fmt_format(end, room, " nr=%lu", a);
        break;
    case TR_TRAP: /* vcpu/deliver.h: a vector, or DELIVERY_* from 0x100 */
        if (a < 0x100)
            more = fmt_format(end, room, " vec=%lu", a);
        else if (a - 0x100 < 3)
            more = fmt_format(end, room, " kind=%s", kinds[array_index_nospec(a - 0x100, 3)]);
        else
            more = fmt_format(end, room, " kind=%#lx", a);
        break;
    case TR_EVTCHN_SEND:
        more = fmt_format(end, room, " port=%lu", a);
        break;
    case TR_EVTCHN_DELIVER:
        more = fmt_format(end, room, " port=%lu upcall=%lu", a, b);
        break;
    case TR_WINDOW:
        more = a == (unsigned long)~0ul ? fmt_format(end, room, " gap")
                                        : fmt_format(end, room, " idx=%lu", a);
        break;
    case TR_DOM_END:
        more = a < 5 ? fmt_format(end, room, " action=%s", actions[array_index_nospec(a, 5)])
                     : fmt_format(end, room, " action=%lu", a);
        break;
    case TR_DOM_RESTART:
        more = fmt_format(end, room, " restarts=%lu", a);
        break;
    default:
        break;
    }
    n += more;
    return n < cap ? n : (cap ? cap - 1 : 0);
}
