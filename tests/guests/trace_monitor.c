/* trace-monitor: asks hv for its trace the way a monitoring guest would
 * (HV_CALL_HEALTH_READ with HV_HEALTH_TRACE_DUMP; docs/trace.md). It makes
 * some events of its own first (yields, a null hypercall burst), then
 * calls until a call gives less than a full batch, and reports what each call
 * returned: "trace-monitor: dump calls C, records R, largest L, first F"
 * (F: the first call's answer, -HV_EPERM without `monitor = yes`,
 * -HV_ENOENT with tracing off). Exits 0. (tests/system/trace_cases.py) */
#include "hvg.h"
#include "hvg_event.h"

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    for (int i = 0; i < 20; i++) {
        hvg_yield();
        hvg_hypercall0(HV_CALL_NOP);
    }
    /* Until a call gives less than a full batch: each call (and each
     * wait) adds records of its own, so "until 0" would never end. */
    int64_t first = hvg_health_read(HV_HEALTH_TRACE_DUMP, 0, 0, 1000);
    int64_t calls = 1, records = first > 0 ? first : 0, largest = first;
    for (int64_t got = first; (got == HV_TRACE_DUMP_MAX || got == -HV_EAGAIN) && calls < 1000;
         calls++) {
        if (got == -HV_EAGAIN) /* hv's log is full: let it drain */
            hvg_sleep_until(vcpu, hvg_now() + 20 * 1000 * 1000);
        got = hvg_health_read(HV_HEALTH_TRACE_DUMP, 0, 0, 1000);
        if (got > 0)
            records += got;
        if (got > largest)
            largest = got;
    }
    hvg_printf("trace-monitor: dump calls %ld, records %ld, largest %ld, first %ld\n", (long)calls,
               (long)records, (long)largest, (long)first);
    return 0;
}
