/* The end of rs-peer's channel that is restarted (tests/guests/rs_peer.c):
 * in each life it waits for the port rs-peer set aside for that life
 * (round = restarts + 1), binds it and says hello; in its first two lives
 * it then faults, in the third it exits 0. */
#include "ev_common.h"

struct rs_link {
    uint32_t port;
    uint32_t round;
};

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    pv_name = "rs-partner";
    uint32_t life = si->restarts;
    volatile struct rs_link *link = ev_shm("rslink", sizeof(struct rs_link), true);
    uint64_t deadline = hvg_now() + EV_TIMEOUT_NS;
    while (__atomic_load_n(&link->round, __ATOMIC_ACQUIRE) != life + 1 && hvg_now() < deadline)
        hvg_yield();
    expect_eq("rs-peer set a port aside for this life", link->round, life + 1);
    int64_t port = hvg_evtchn_bind_peer("rs-peer", link->port);
    expect_true("binding it", port >= 0);
    expect_eq("hello", port >= 0 ? hvg_evtchn_send((uint64_t)port) : port, 0);
    if (life < 2) {
        hvg_printf("rs-partner: life with restarts = %u said hello, faulting\n", life);
        __asm__ volatile("ud2");
    }
    return pv_finish();
}
