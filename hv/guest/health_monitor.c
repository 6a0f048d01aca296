#include "hv/guest/health_monitor.h"

#include "hv/console/log.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
#include "lib/nospec.h"
#include "lib/string.h"

void health_log_add(struct guest *g, uint64_t now_ns, uint32_t event, int64_t status,
                    const char *reason, uint32_t action)
{
    if (!g->health) /* zeroed, then published: a reader finds it whole */
        __atomic_store_n(&g->health, kmalloc(sizeof(*g->health)), __ATOMIC_RELEASE);
    struct health_log *l = g->health;
    if (!l) {
        log_warn("guest %s: no memory for its health log; end not logged", g->name);
        return;
    }
    __atomic_store_n(&l->seq, l->seq + 1, __ATOMIC_RELAXED); /* odd: being written */
    __atomic_thread_fence(__ATOMIC_RELEASE);
    struct hv_health_entry *e = &l->entry[l->count % HV_HEALTH_LOG_ENTRIES];
    memset(e, 0, sizeof(*e));
    e->time_ns = now_ns;
    e->guest_id = g->id;
    e->index = l->count;
    e->event = event;
    e->action = action;
    e->exit_status = status;
    e->restarts = g->restarts;
    for (size_t i = 0; g->name[i] && i + 1 < sizeof(e->name); i++)
        e->name[i] = g->name[i];
    size_t n = 0;
    for (; reason[n] && n + 1 < sizeof(e->reason); n++)
        e->reason[n] = reason[n];
    __atomic_store_n(&l->count, l->count + 1, __ATOMIC_RELAXED);
    __atomic_store_n(&l->seq, l->seq + 1, __ATOMIC_RELEASE); /* even: whole again */
}

const struct health_log *health_log_of(const struct guest *g)
{
    return __atomic_load_n(&g->health, __ATOMIC_ACQUIRE);
}

uint32_t health_log_count(const struct health_log *l)
{
    return __atomic_load_n(&l->count, __ATOMIC_ACQUIRE);
}

#define COPY_TRIES 4

int health_log_copy(const struct health_log *l, uint32_t index, struct hv_health_entry *out)
{
    for (int i = 0; i < COPY_TRIES; i++) {
        uint32_t seq = __atomic_load_n(&l->seq, __ATOMIC_ACQUIRE);
        if (seq & 1)
            continue;
        uint32_t count = __atomic_load_n(&l->count, __ATOMIC_RELAXED);
        if (index >= count || count - index > HV_HEALTH_LOG_ENTRIES)
            return 0;
        /* index is a guest's (HV_CALL_HEALTH_READ's `first`): clamped. */
        const volatile struct hv_health_entry *e =
            &l->entry[array_index_nospec(index % HV_HEALTH_LOG_ENTRIES, HV_HEALTH_LOG_ENTRIES)];
        *out = *(const struct hv_health_entry *)e;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&l->seq, __ATOMIC_RELAXED) == seq)
            return 1;
    }
    return -1;
}

const struct hv_health_entry *health_log_entry(const struct health_log *l, uint32_t index)
{
    if (index >= l->count || l->count - index > HV_HEALTH_LOG_ENTRIES)
        return NULL;
    /* index is a guest's (HV_CALL_HEALTH_READ's `first`): clamped. */
    return &l->entry[array_index_nospec(index % HV_HEALTH_LOG_ENTRIES, HV_HEALTH_LOG_ENTRIES)];
}

const char *health_action_words(uint32_t action)
{
    switch (action) {
    case HV_HEALTH_STOP:
        return "stop";
    case HV_HEALTH_RESTART:
        return "restart";
    case HV_HEALTH_HALT:
        return "halt: every guest stopped";
    case HV_HEALTH_LIMIT_STOP:
        return "stop: max_restarts reached";
    case HV_HEALTH_RESTART_FAILED:
        return "stop: the restart failed";
    default:
        return "?";
    }
}

static const char *event_words(uint32_t event)
{
    return event == HV_HEALTH_EXIT ? "exit" : event == HV_HEALTH_FAULT ? "fault" : "stopped";
}

/* Worth lines in the summary: a guest whose policy does more than stop,
 * or whose end led to more than a stop. */
static bool worth_printing(const struct guest *g)
{
    if (g->policy.on_exit != GUEST_ACTION_STOP || g->policy.on_fault != GUEST_ACTION_STOP)
        return true;
    for (uint32_t i = 0; i < g->health->count && i < HV_HEALTH_LOG_ENTRIES; i++)
        if (g->health->entry[i].action != HV_HEALTH_STOP)
            return true;
    return false;
}

void health_log_print(const struct guest *g)
{
    const struct health_log *l = g->health;
    if (!l || !worth_printing(g))
        return;
    uint32_t first = l->count > HV_HEALTH_LOG_ENTRIES ? l->count - HV_HEALTH_LOG_ENTRIES : 0;
    if (first)
        log_info("    health: %u older entr%s not kept", first, first == 1 ? "y" : "ies");
    for (uint32_t i = first; i < l->count; i++) {
        const struct hv_health_entry *e = health_log_entry(l, i);
        uint64_t us = e->time_ns / 1000;
        log_info("    health %u: %lu.%06lu s %s (%s) -> %s, restarts %u", e->index,
                 (unsigned long)(us / 1000000), (unsigned long)(us % 1000000),
                 event_words(e->event), e->reason, health_action_words(e->action), e->restarts);
    }
}
