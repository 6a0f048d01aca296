/* The unmask storm (issue 13, review finding 4; tests/system/
 * smpreview_cases.py): two vCPUs on two CPUs. vCPU 1 sleeps in HV_CALL_POLL
 * on its port A; vCPU 0 loops HV_CALL_EVTCHN_UNMASK on port B, pending and
 * bound to vCPU 1 but not polled, STORM times, then sends on A. Every
 * unmask of a pending port tells vCPU 1 (selector, upcall flag), and used
 * to send vCPU 1's CPU a wake request and an IPI each time, though none
 * could wake it: the judge counts hv's reschedule IPIs (its summary).
 * Here: vCPU 1's poll ends by A's send (0, well before its deadline), and
 * B's event is not lost: its callback runs on vCPU 1 once the poll ends. */
#include "ev_common.h"

#define STORM 3000
#define PACE_NS 20000 /* between unmasks: the other CPU has time to answer each */
#define POLL_DEADLINE_MS 5000

HV_GUEST_NOTE("sched-unmask-storm", 0, 2, 0);

static volatile int64_t port_a = -1, port_b = -1;
static volatile uint64_t got_a, got_b;
static volatile unsigned polling;  /* vCPU 1 is about to poll */
static volatile unsigned poll_done;

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = "sched-unmask-storm";
    EV_MUST(hvg_events_init(vcpu));
    if (vcpu == 1) {
        uint64_t give_up = hvg_now() + EV_TIMEOUT_NS;
        while (__atomic_load_n(&port_b, __ATOMIC_ACQUIRE) < 0 && hvg_now() < give_up)
            hvg_sleep_until(1, hvg_now() + HVG_MS(1));
        uint32_t list[1] = { (uint32_t)port_a };
        __atomic_store_n(&polling, 1, __ATOMIC_RELEASE);
        uint64_t t0 = hvg_now();
        int64_t r = hvg_poll(list, 1, t0 + HVG_MS(POLL_DEADLINE_MS));
        uint64_t took = hvg_now() - t0;
        hvg_printf("sched-unmask-storm: vCPU 1's poll: %lld after %llu us\n", (long long)r,
                   (unsigned long long)(took / 1000));
        expect_eq("vCPU 1's poll of port A", r, 0);
        expect_true("... ended by A's send, long before its deadline",
                    took < HVG_MS(POLL_DEADLINE_MS / 2));
        /* B's event (pending, unmasked) is delivered on the way out. */
        ev_wait_count(1, &got_b, 1, HVG_MS(100));
        expect_true("port B's event reached vCPU 1", got_b >= 1);
        __atomic_store_n(&poll_done, 1, __ATOMIC_RELEASE);
        return 0;
    }
    if (si->vcpu_count != 2) {
        hvg_printf("sched-unmask-storm: FAILED: %u vCPUs, the note asked for 2\n", si->vcpu_count);
        return 1;
    }
    int64_t a = hvg_evtchn_bind_ipi(1), b = hvg_evtchn_bind_ipi(1);
    expect_true("bind_ipi(1) twice -> two ports", a >= 0 && b >= 0 && a != b);
    if (a < 0 || b < 0)
        return pv_finish();
    EV_MUST(hvg_event_handler((unsigned)a, ev_count, (void *)&got_a));
    EV_MUST(hvg_event_handler((unsigned)b, ev_count, (void *)&got_b));
    /* B pending and masked: each unmask below finds it pending. */
    hvg_evtchn_mask((unsigned)b);
    expect_eq("send on B (masked)", hvg_evtchn_send((uint64_t)b), 0);
    port_a = a;
    __atomic_store_n(&port_b, b, __ATOMIC_RELEASE);

    uint64_t give_up = hvg_now() + EV_TIMEOUT_NS;
    while (!__atomic_load_n(&polling, __ATOMIC_ACQUIRE) && hvg_now() < give_up)
        hvg_yield();
    ev_spin_until(hvg_now() + HVG_MS(5)); /* vCPU 1 settles into its poll */
    int64_t bad = 0;
    for (unsigned i = 0; i < STORM; i++) {
        bad += hvg_evtchn_unmask((uint64_t)b) != 0;
        ev_spin_until(hvg_now() + PACE_NS);
    }
    hvg_printf("sched-unmask-storm: %u unmasks of port B while vCPU 1 polled port A\n", STORM);
    expect_eq("unmasks refused", bad, 0);
    expect_eq("send on A", hvg_evtchn_send((uint64_t)a), 0);
    while (!__atomic_load_n(&poll_done, __ATOMIC_ACQUIRE) && hvg_now() < give_up)
        hvg_sleep_until(0, hvg_now() + HVG_MS(1));
    expect_true("vCPU 1 finished", poll_done);
    return pv_finish();
}
