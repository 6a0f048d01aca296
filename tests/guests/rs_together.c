/* Ends at the same moment as its copies: COPIES guests named
 * rs-together-N share [shm together]; in life R each counts itself in
 * (arrived[R]), the last to arrive sets a mark of system time (the same
 * clock for every guest) MARK_AHEAD_MS ahead, and each sleeps until that
 * mark on its timer, so all wake at it together on their CPUs; then it
 * faults (#UD) in lives 0 and 1 and exits 0 in life 2. The region outlives
 * the restarts. With on_fault = restart and max_restarts = 2
 * (tests/system/restart_cases.py, restart_ends_of_a_moment_share_grace_periods)
 * hv's reaper sees COPIES guests end at once, three times, however long
 * the boot and the restarts took. */
#include "ev_common.h"

#define COPIES 8
#define LIVES 3
#define MARK_AHEAD_MS 20
#define POLL_MS 1

struct together {
    uint64_t arrived[LIVES];
    uint64_t mark[LIVES];
};

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    EV_MUST(hvg_events_init(vcpu));
    volatile struct together *t = ev_shm("together", sizeof(struct together), true);
    unsigned life = si->restarts;
    if (life >= LIVES) {
        hvg_printf("%s: life %u: FAILED (at most %u)\n", si->name, life, LIVES);
        return 1;
    }
    if (__atomic_add_fetch(&t->arrived[life], 1, __ATOMIC_SEQ_CST) == COPIES)
        __atomic_store_n(&t->mark[life], hvg_now() + HVG_MS(MARK_AHEAD_MS), __ATOMIC_RELEASE);
    uint64_t deadline = hvg_now() + EV_TIMEOUT_NS, mark;
    while (!(mark = __atomic_load_n(&t->mark[life], __ATOMIC_ACQUIRE))) {
        if (hvg_now() > deadline) {
            hvg_printf("%s: life %u: %lu of %u copies arrived: FAILED\n", si->name, life,
                       (unsigned long)t->arrived[life], COPIES);
            return 1;
        }
        EV_MUST(hvg_sleep_until(vcpu, hvg_now() + HVG_MS(POLL_MS)));
    }
    EV_MUST(hvg_sleep_until(vcpu, mark));
    hvg_printf("%s: life %u ends at %lu ms\n", si->name, life, (unsigned long)(mark / HVG_MS(1)));
    if (life < LIVES - 1)
        __asm__ volatile("ud2");
    return 0;
}
