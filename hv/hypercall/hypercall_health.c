/* HV_CALL_HEALTH_READ: a monitoring guest reads the health monitor's log
 * (include/hv/abi.h, docs/abi.md). */
#include "hv/hypercall/hypercall_table.h"

#include "hv/guest/guest.h"
#include "hv/guest/health_monitor.h"
#include "hv/guest/uaccess.h"
#include "hv/debug/trace.h"
#include "vcpu/vcpu.h"

int64_t hc_health_read(struct vcpu *v, struct trap_frame *f)
{
    uint64_t id = f->rdi, first = f->rsi, buf = f->rdx, n = f->r10;
    /* The privilege is the machine owner's (hv.cfg `monitor = yes`): the
     * log names every guest and how it ended. */
    if (!v->guest->policy.monitor)
        return -HV_EPERM;
    if (id == HV_HEALTH_TRACE_DUMP) { /* the trace, to serial (docs/trace.md) */
        int64_t done = trace_dump_some(n < HV_TRACE_DUMP_MAX ? (uint32_t)n : HV_TRACE_DUMP_MAX);
        return done == TRACE_DUMP_OFF ? -HV_ENOENT : done == TRACE_DUMP_LATER ? -HV_EAGAIN : done;
    }
    struct guest *g = guest_list();
    while (g && g->id != id)
        g = g->next;
    if (!g)
        return -HV_ESRCH;
    if (n > HV_HEALTH_LOG_ENTRIES)
        n = HV_HEALTH_LOG_ENTRIES; /* bounded: one call copies at most HV_HEALTH_LOG_ENTRIES */
    static const struct health_log none;
    const struct health_log *l = g->health ? g->health : &none;
    uint32_t oldest = l->count > HV_HEALTH_LOG_ENTRIES ? l->count - HV_HEALTH_LOG_ENTRIES : 0;
    if (first < oldest)
        first = oldest;
    uint64_t copied = 0;
    for (; copied < n && first + copied < l->count; copied++) {
        const struct hv_health_entry *e = health_log_entry(l, (uint32_t)(first + copied));
        if (copy_to_guest(v->guest, buf + copied * sizeof(*e), e, sizeof(*e)) != 0)
            return -HV_EFAULT;
    }
    return (int64_t)copied;
}
