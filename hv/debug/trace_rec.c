/* The trace's ring and line format (hv/debug/trace_rec.h, docs/trace.md). */
#include "hv/debug/trace_rec.h"

#include "lib/fmt.h"
#include "lib/nospec.h"

static const char *const event_names[TR_EVENT_COUNT] = {
    [TR_RUNSTATE] = "runstate_change",   [TR_SWITCH_INFNEXT] = "switch_infnext",
    [TR_HYPERCALL] = "hypercall",        [TR_TRAP] = "trap",
    [TR_EVTCHN_DELIVER] = "evtchn_deliver",
    [TR_TIMER] = "timer_fire",           [TR_WINDOW] = "window",
    [TR_DOM_END] = "dom_end",            [TR_DOM_RESTART] = "dom_restart",
};

static const char *trace_event_name(uint16_t event)
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
        more = fmt_format(end, room, " %s", a < 4 ? runstates[array_index_nospec(a, 4)] : "?");
        break;
    case TR_HYPERCALL:
        more = fmt_format(end, room, " nr=%lu a0=%#lx", a, b);
        break;
    case TR_TRAP: /* vcpu/deliver.h: a vector, or DELIVERY_* from 0x100 */
        if (a < 0x100)
            more = fmt_format(end, room, " vec=%lu", a);
        else
            more = fmt_format(end, room, " kind=%s",
                              a - 0x100 < 3 ? kinds[array_index_nospec(a - 0x100, 3)] : "?");
        break;
    case TR_EVTCHN_DELIVER:
        more = fmt_format(end, room, " port=%lu", a);
        break;
    case TR_WINDOW:
        more = a == (unsigned long)~0ul ? fmt_format(end, room, " gap")
                                        : fmt_format(end, room, " idx=%lu", a);
        break;
    case TR_DOM_END:
        more = fmt_format(end, room, " action=%s", a < 5 ? actions[array_index_nospec(a, 5)] : "?");
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
