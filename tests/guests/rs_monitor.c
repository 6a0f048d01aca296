/* A monitoring guest (hv.cfg monitor = yes): finds rs-fault by name in
 * the health monitor's log (HV_CALL_HEALTH_READ over guest ids 0, 1, ..
 * until -HV_ESRCH), waits for its three entries (max_restarts = 2: two
 * restarts, then the stop at the limit), checks them and the call's bounds,
 * and reports them. (tests/system/restart_cases.py) */
#include "ev_common.h"

#define WANT 3

static struct hv_health_entry log_copy[HV_HEALTH_LOG_ENTRIES + 4];

static bool contains(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s; s++)
        if (strncmp(s, word, n) == 0)
            return true;
    return false;
}

/* rs-fault's guest id, or -1. */
static int64_t find_rs_fault(void)
{
    for (uint64_t id = 0; id < 64; id++) {
        int64_t n = hvg_health_read(id, 0, log_copy, 1);
        if (n == -HV_ESRCH)
            return -1;
        if (n == 1 && strcmp(log_copy[0].name, "rs-fault") == 0)
            return (int64_t)id;
    }
    return -1;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    pv_name = "rs-monitor";
    int64_t id = -1, n = 0;
    uint64_t deadline = hvg_now() + EV_TIMEOUT_NS;
    while (hvg_now() < deadline) {
        if (id < 0)
            id = find_rs_fault();
        if (id >= 0 && (n = hvg_health_read((uint64_t)id, 0, log_copy, HV_HEALTH_LOG_ENTRIES)) >= WANT)
            break;
        hvg_yield();
    }
    expect_true("rs-fault found in the health log", id >= 0);
    expect_eq("its entries", n, WANT);
    static const uint32_t actions[WANT] = {HV_HEALTH_RESTART, HV_HEALTH_RESTART,
                                           HV_HEALTH_LIMIT_STOP};
    for (int64_t i = 0; i < n && i < WANT; i++) {
        const struct hv_health_entry *e = &log_copy[i];
        hvg_printf("rs-monitor: rs-fault entry %u: %llu ns, event %u, action %u, restarts %u, "
                   "'%s'\n", e->index, (unsigned long long)e->time_ns, e->event, e->action,
                   e->restarts, e->reason);
        expect_eq("entry index", e->index, i);
        expect_eq("its guest id", e->guest_id, id);
        expect_eq("a fault", e->event, HV_HEALTH_FAULT);
        expect_eq("the action", e->action, actions[i]);
        expect_eq("the restart count after it", e->restarts, i < 2 ? i + 1 : 2);
        expect_true("the reason names the #UD", contains(e->reason, "#UD"));
        expect_true("in time order", i == 0 || e->time_ns > log_copy[i - 1].time_ns);
    }
    /* The bounds of the call. */
    expect_eq("n = 1 copies one", hvg_health_read((uint64_t)id, 1, log_copy, 1), 1);
    expect_eq("from entry 1", log_copy[0].index, 1);
    expect_eq("n = 1000 copies what there is", hvg_health_read((uint64_t)id, 0, log_copy, 1000),
              WANT);
    expect_eq("first past the end copies none", hvg_health_read((uint64_t)id, WANT, log_copy, 4),
              0);
    expect_eq("an id hv never gave", hvg_health_read(1000000, 0, log_copy, 1), -HV_ESRCH);
    expect_eq("a buffer in hv's memory", hvg_health_read((uint64_t)id, 0,
              (struct hv_health_entry *)0xffffffff80000000ull, 1), -HV_EFAULT);
    expect_eq("a buffer that is not mapped", hvg_health_read((uint64_t)id, 0,
              (struct hv_health_entry *)0x1000ull, 1), -HV_EFAULT);
    return pv_finish();
}
