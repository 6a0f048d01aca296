/* Inter-processor events between the two vCPUs of one guest
 * (HV_CALL_EVTCHN_BIND_IPI). vCPU 0 binds a port to each vCPU; the vCPUs
 * play ping-pong ROUNDS times, each blocking (HV_CALL_BLOCK, through
 * hvg_wait) until the other's event arrives. Checks every callback ran on
 * the vCPU its port names -- the SDK's upcall entry is different per vCPU,
 * so this shows hv entered the right vCPU -- and the ports' status. Then
 * vCPU 0 polls (HV_CALL_POLL) its port, unmasked and masked, and vCPU 1's
 * send must end the poll. */
#include "ev_common.h"

#define ROUNDS 500
#define POLL_PHASES 2
#define POLL_DEADLINE_MS 2000

HV_GUEST_NOTE("ev-ipi", 0, 2, 0);

static volatile uint64_t got[2];       /* events on the port to vCPU v */
static volatile uint64_t wrong_vcpu;   /* callbacks on another vCPU */
static volatile int64_t port_to[2] = { -1, -1 };
static volatile unsigned ready;        /* vCPUs that called hvg_events_init */
static volatile unsigned go;           /* HV_CALL_POLL phase vCPU 1 is asked to serve */

static void on_ipi(unsigned port, unsigned vcpu, void *arg)
{
    unsigned target = (unsigned)(uintptr_t)arg;
    (void)port;
    if (vcpu != target)
        __atomic_fetch_add(&wrong_vcpu, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&got[target], 1, __ATOMIC_RELEASE);
}

/* Waits for the other vCPU, which may be on another CPU: yields alone (on
 * one CPU the other vCPU needs it). With nothing else to run on its CPU,
 * hv pauses in the yield (hv/sched/sched.c): QEMU 7.2's round-robin TCG
 * under -icount runs the CPUs in order, each until the next timer deadline,
 * and moves on early only at a pause or hlt; before hv paused, this wait
 * took every turn and the later CPUs never ran (SMP 2 and 4: vCPU 1's CPU
 * never started it before vCPU 0 gave up, 20 s later; the guest paused
 * itself then). */
static void wait_a_little(void)
{
    hvg_yield();
}

static bool all_ready(void *arg)
{
    (void)arg;
    return __atomic_load_n(&ready, __ATOMIC_ACQUIRE) == 2 && port_to[1] >= 0;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = "ev-ipi";
    EV_MUST(hvg_events_init(vcpu));
    __atomic_fetch_add(&ready, 1, __ATOMIC_RELEASE);

    if (vcpu == 1) {
        uint64_t give_up = hvg_now() + EV_TIMEOUT_NS;
        while (!all_ready(NULL) && hvg_now() < give_up)
            wait_a_little();
        for (uint64_t i = 1; i <= ROUNDS; i++) {
            if (ev_wait_count(1, &got[1], i, EV_TIMEOUT_NS) < 0)
                break;
            hvg_evtchn_send((uint64_t)port_to[0]);
        }
        /* The HV_CALL_POLL phases: wait to be asked, let vCPU 0 settle into
         * its poll, then send to it. */
        for (unsigned phase = 1; phase <= POLL_PHASES; phase++) {
            while (__atomic_load_n(&go, __ATOMIC_ACQUIRE) < phase && hvg_now() < give_up)
                hvg_sleep_until(1, hvg_now() + HVG_MS(1));
            hvg_sleep_until(1, hvg_now() + HVG_MS(5));
            hvg_evtchn_send((uint64_t)port_to[0]);
        }
        return 0; /* vCPU 0 judges */
    }

    if (si->vcpu_count != 2) {
        hvg_printf("ev-ipi: FAILED: %u vCPUs, the note asked for 2\n", si->vcpu_count);
        return 1;
    }
    for (unsigned v = 0; v < 2; v++) {
        int64_t p = hvg_evtchn_bind_ipi(v);
        expect_true(v ? "bind_ipi(1) -> a port" : "bind_ipi(0) -> a port",
                    p >= 0 && p < HV_EVTCHN_PORTS);
        if (p < 0)
            return pv_finish();
        EV_MUST(hvg_event_handler((unsigned)p, on_ipi, (void *)(uintptr_t)v));
        struct hv_evtchn_status st;
        memset(&st, 0, sizeof(st));
        hvg_evtchn_status((uint64_t)p, &st);
        expect_true(v ? "status: HV_EVTCHN_IPI to vCPU 1" : "status: HV_EVTCHN_IPI to vCPU 0",
                    st.state == HV_EVTCHN_IPI && st.vcpu == v);
        __atomic_store_n(&port_to[v], p, __ATOMIC_RELEASE);
    }
    uint64_t give_up = hvg_now() + EV_TIMEOUT_NS;
    while (!all_ready(NULL) && hvg_now() < give_up)
        wait_a_little();
    expect_true("vCPU 1 is ready", all_ready(NULL));

    uint64_t start = hvg_now(), timeouts = 0;
    for (uint64_t i = 1; i <= ROUNDS; i++) {
        hvg_evtchn_send((uint64_t)port_to[1]);
        if (ev_wait_count(0, &got[0], i, EV_TIMEOUT_NS) < 0) {
            timeouts++;
            break;
        }
    }
    uint64_t took = hvg_now() - start;
    hvg_printf("ev-ipi: %d IPI round trips in %llu us (%llu ns each)\n", ROUNDS,
               (unsigned long long)(took / 1000), (unsigned long long)(took / ROUNDS));
    expect_eq("round trips that timed out", (int64_t)timeouts, 0);
    expect_eq("events on vCPU 1's port", (int64_t)got[1], ROUNDS);
    expect_eq("events on vCPU 0's port", (int64_t)got[0], ROUNDS);
    expect_eq("callbacks on the wrong vCPU", (int64_t)wrong_vcpu, 0);

    /* HV_CALL_POLL woken by the other vCPU's send: unmasked, then masked
     * (the port pending but no upcall: the usual reason to poll). */
    uint32_t list[1] = { (uint32_t)port_to[0] };
    for (unsigned phase = 1; phase <= POLL_PHASES; phase++) {
        bool masked = phase == 2;
        uint64_t before = got[0];
        if (masked)
            hvg_evtchn_mask((unsigned)port_to[0]);
        __atomic_store_n(&go, phase, __ATOMIC_RELEASE);
        uint64_t t0 = hvg_now();
        int64_t r = hvg_poll(list, 1, t0 + HVG_MS(POLL_DEADLINE_MS));
        uint64_t took = hvg_now() - t0;
        hvg_printf("ev-ipi: poll on %s port: %lld after %llu us\n", masked ? "a masked" : "an unmasked",
                   (long long)r, (unsigned long long)(took / 1000));
        expect_eq(masked ? "poll(masked port), vCPU 1 sends" : "poll(unmasked port), vCPU 1 sends",
                  r, 0);
        expect_true("... woken by the send, long before the deadline",
                    took < HVG_MS(POLL_DEADLINE_MS / 2));
        if (masked) {
            expect_true("... the port is pending", hvg_evtchn_is_pending((unsigned)port_to[0]));
            expect_eq("... no upcall while masked", (int64_t)(got[0] - before), 0);
            expect_eq("unmask", hvg_evtchn_unmask((uint64_t)port_to[0]), 0);
        }
        expect_eq("... the event is delivered", (int64_t)(got[0] - before), 1);
    }
    return pv_finish();
}
