/* The stable side of a channel whose other end, rs-partner, faults and is
 * restarted twice (hv.cfg on_fault = restart). Three rounds: rs-peer sets a
 * port aside for rs-partner and publishes it in [shm rslink]; the partner
 * binds it and says hello. In the first two rounds the partner then faults:
 * rs-peer gets HV_VIRQ_NOTICE (its port becomes HV_EVTCHN_CLOSED_PEER, the
 * status naming rs-partner), then HV_VIRQ_PEER_RESTARTED once the partner
 * runs again, closes the dead port and sets a new one aside: the channel
 * re-established by the guests, as the ABI documents.
 * (tests/system/restart_cases.py) */
#include "ev_common.h"

#define ROUNDS 3

struct rs_link {
    uint32_t port;
    uint32_t round; /* 1..ROUNDS once port is set aside for that round */
};

static volatile uint64_t notices, restarts_seen, hellos;

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    pv_name = "rs-peer";
    volatile struct rs_link *link = ev_shm("rslink", sizeof(struct rs_link), true);
    EV_MUST(hvg_events_init(vcpu));
    int64_t notice = hvg_evtchn_bind_virq(HV_VIRQ_NOTICE);
    int64_t restarted = hvg_evtchn_bind_virq(HV_VIRQ_PEER_RESTARTED);
    expect_true("bind HV_VIRQ_NOTICE and HV_VIRQ_PEER_RESTARTED", notice >= 0 && restarted >= 0);
    EV_MUST(notice);
    EV_MUST(restarted);
    EV_MUST(hvg_event_handler((unsigned)notice, ev_count, (void *)&notices));
    EV_MUST(hvg_event_handler((unsigned)restarted, ev_count, (void *)&restarts_seen));

    for (uint32_t round = 1; round <= ROUNDS; round++) {
        int64_t port = hvg_evtchn_alloc_unbound("rs-partner");
        expect_true("a port set aside for rs-partner", port >= 0);
        EV_MUST(port);
        EV_MUST(hvg_event_handler((unsigned)port, ev_count, (void *)&hellos));
        link->port = (uint32_t)port;
        __atomic_store_n(&link->round, round, __ATOMIC_RELEASE);
        expect_eq("rs-partner binds it and says hello", ev_wait_count(vcpu, &hellos, round,
                                                                      EV_TIMEOUT_NS), 0);
        hvg_printf("rs-peer: round %u: rs-partner said hello on port %lld\n", round,
                   (long long)port);
        if (round == ROUNDS)
            break;
        expect_eq("a notice when rs-partner faults", ev_wait_count(vcpu, &notices, round,
                                                                   EV_TIMEOUT_NS), 0);
        struct hv_evtchn_status st;
        memset(&st, 0, sizeof(st));
        expect_eq("status of the dead port", hvg_evtchn_status((uint64_t)port, &st), 0);
        expect_eq("it is HV_EVTCHN_CLOSED_PEER", st.state, HV_EVTCHN_CLOSED_PEER);
        expect_true("naming rs-partner", strcmp(st.remote_name, "rs-partner") == 0);
        expect_eq("HV_VIRQ_PEER_RESTARTED once rs-partner runs again",
                  ev_wait_count(vcpu, &restarts_seen, round, EV_TIMEOUT_NS), 0);
        expect_eq("the restart VIRQ came once for this restart", (int64_t)restarts_seen, round);
        expect_eq("closing the dead port", hvg_evtchn_close((uint64_t)port), 0);
    }
    return pv_finish();
}
