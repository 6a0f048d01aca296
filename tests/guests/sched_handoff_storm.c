/* The event ping-pong attacker of the direct hand-off (docs/design.md,
 * "The direct hand-off"; tests/system/sched_cases.py): one image booted
 * as two guests, "storm-a" and "storm-b", with hv.cfg
 *     [shm storm]
 *     size = 4K
 *     map = storm-a:rw storm-b:rw
 * storm-a allocates a port for storm-b and publishes it; storm-b binds
 * and sends once. Then, for ever, each spins SPIN_US, sends to the other,
 * blocks until the other's event comes, and yields: the send wakes the
 * other, blocked on the same CPU and entitled to it at once, so it is a
 * hand-off, which leaves the sender runnable; the yield lets that sender
 * run on to its block, so the next send, the other way, is a hand-off
 * too. The sender's run (the spin) is charged only if the hand-off
 * charges it. hv stops both at the time limit. Each prints one line as it
 * starts its loop.
 *
 * Booted as "back-a" and "back-b" (map = back-a:rw back-b:rw), the same
 * pair for the block's way back (sched_handback.c): each block after the
 * other's yield leaves the other alone wanting the CPU, so it is handed
 * straight back. back-b ends (exit 0) after QUIT_ROUNDS rounds, right
 * after its send; back-a's next send finds the connection closed, it
 * sleeps 50 ms (hv's console lines written out, a fall-back of their own)
 * and then blocks with nothing left to run (the way back's fall-back: the
 * CPU idles) until the time limit stops it. */
#include "ev_common.h"

#define SPIN_US 1000
#define QUIT_ROUNDS 40
#define PROGRESS_ROUNDS 10 /* a line then: the ping-pong went round */
#define MAGIC 0x6d726f7473666668ull /* "hffstorm" */

HV_GUEST_NOTE("", 0, 0, 0);

struct storm_shm {
    uint64_t magic;
    uint32_t port;
};

static volatile uint64_t events;

/* The back-a/back-b pair (see the top). */
static bool back;

static void storm(unsigned vcpu, uint64_t port, bool quits)
{
    hvg_printf("%s: spin %u us, send, block, for ever\n", pv_name, SPIN_US);
    for (uint64_t seen = events, rounds = 0;; seen++, rounds++) {
        ev_spin_until(hvg_now() + HVG_US(SPIN_US));
        int64_t r = hvg_evtchn_send(port);
        if (back && !quits && r == -HV_EINVAL) {
            /* hv's idle loop writes the lines out meanwhile (they are
             * paced): the block below finds no console work, a fall-back
             * of its own. */
            EV_MUST(hvg_sleep_until(vcpu, hvg_now() + HVG_MS(50)));
            struct ev_count_target never = {&events, ~0ull};
            hvg_wait(vcpu, ev_count_reached, &never, 0); /* until the time limit */
        }
        EV_MUST(r);
        if (rounds + 1 == PROGRESS_ROUNDS)
            hvg_printf("%s: %u rounds\n", pv_name, PROGRESS_ROUNDS);
        if (quits && rounds + 1 == QUIT_ROUNDS) {
            hvg_printf("%s: %u rounds, ends\n", pv_name, QUIT_ROUNDS);
            hvg_exit(0);
        }
        struct ev_count_target t = {&events, seen + 1};
        EV_MUST(hvg_wait(vcpu, ev_count_reached, &t, 0));
        /* The other one, runnable since its send handed the CPU here, now
         * runs to its block, so that this one's next send wakes it too. */
        hvg_yield();
    }
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    back = strncmp(si->name, "back-", 5) == 0;
    volatile struct storm_shm *sh =
        ev_shm(back ? "back" : "storm", sizeof(struct storm_shm), true);
    EV_MUST(hvg_events_init(vcpu));
    if (strcmp(si->name, back ? "back-a" : "storm-a") == 0) {
        int64_t port = hvg_evtchn_alloc_unbound(back ? "back-b" : "storm-b");
        EV_MUST(port);
        EV_MUST(hvg_event_handler((unsigned)port, ev_count, (void *)&events));
        sh->port = (uint32_t)port;
        __atomic_store_n(&sh->magic, MAGIC, __ATOMIC_RELEASE);
        EV_MUST(ev_wait_count(vcpu, &events, 1, EV_TIMEOUT_NS)); /* storm-b's hello */
        storm(vcpu, (uint64_t)port, false);
    }
    while (__atomic_load_n(&sh->magic, __ATOMIC_ACQUIRE) != MAGIC)
        EV_MUST(hvg_sleep_until(vcpu, hvg_now() + HVG_MS(1)));
    int64_t port = hvg_evtchn_bind_peer(back ? "back-a" : "storm-a", sh->port);
    EV_MUST(port);
    EV_MUST(hvg_event_handler((unsigned)port, ev_count, (void *)&events));
    EV_MUST(hvg_evtchn_send((uint64_t)port)); /* hello */
    struct ev_count_target t = {&events, 1};
    EV_MUST(hvg_wait(vcpu, ev_count_reached, &t, 0)); /* storm-a's first */
    storm(vcpu, (uint64_t)port, back);
    return 0;
}
