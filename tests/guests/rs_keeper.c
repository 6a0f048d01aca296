/* Shares [shm rsmem] with rs-fresh (tests/guests/rs_fresh.c) and waits
 * until all three lives of rs-fresh have written it: the region a restarted
 * guest gets back is the one the others still share. */
#include "ev_common.h"

struct rs_shared {
    uint64_t lives;
    uint64_t pattern;
};

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    pv_name = "rs-keeper";
    volatile struct rs_shared *shm = ev_shm("rsmem", sizeof(struct rs_shared), false);
    uint64_t deadline = hvg_now() + EV_TIMEOUT_NS;
    while (__atomic_load_n(&shm->lives, __ATOMIC_ACQUIRE) < 3 && hvg_now() < deadline)
        hvg_yield();
    (void)vcpu;
    expect_eq("rs-fresh's lives seen through the region", (int64_t)shm->lives, 3);
    expect_eq("the third life's pattern", (int64_t)shm->pattern, (int64_t)0xa5a5000000000002ull);
    return pv_finish();
}
