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
    /* The log of a guest that may be ending on another CPU right now: read
     * without a lock (a seqlock, hv/guest/health_monitor.h), each entry
     * copied whole to hv's stack before it goes to the guest. */
    const struct health_log *l = health_log_of(g);
    uint32_t count = l ? health_log_count(l) : 0;
    uint32_t oldest = count > HV_HEALTH_LOG_ENTRIES ? count - HV_HEALTH_LOG_ENTRIES : 0;
    if (first < oldest)
        first = oldest;
    uint64_t copied = 0;
    for (; copied < n && first + copied < count; copied++) {
        struct hv_health_entry e;
        int got = health_log_copy(l, (uint32_t)(first + copied), &e);
        if (got < 0)
            return copied ? (int64_t)copied : -HV_EAGAIN;
        if (got == 0)
            break; /* overwritten since the count was read: the caller asks again */
        if (copy_to_guest(v->guest, buf + copied * sizeof(e), &e, sizeof(e)) != 0)
            return -HV_EFAULT;
    }
    return (int64_t)copied;
}
