/* The soak's guests (make soak, tests/system/soak.py): one image booted
 * under many names; the name says the role and its pair:
 *
 *   soak-compute-N   a checked computation for ever (CRC-like rounds whose
 *                    result is known from the first round)
 *   soak-ping-N      event ping-pong with soak-pong-N through an event
 *   soak-pong-N      channel and the pair's [shm] region: ping sets a port
 *                    aside, pong binds it; each round ping writes a request
 *                    and notifies, pong checks it, replies and notifies back
 *   soak-prod-N      a producer and consumer over a ring in the pair's
 *   soak-cons-N      [shm] region (no events: they poll and yield); every
 *                    value is checked in order
 *   soak-fault-N     computes, then faults (ud2) at a random moment, 1-12 s
 *                    into each life (hv.cfg on_fault = restart)
 *   soak-exit-N      the same, but exits 0 (on_exit = restart)
 *
 * Every role prints "NAME: beat B: W" every BEAT_S seconds of system time,
 * W its work done so far (rounds, messages), which the soak's judge
 * requires to grow; a restarted role prints "NAME: life L" first. A check
 * that fails prints a line with FAILED and ends the guest (status 1). */
#include "ev_common.h"

HV_GUEST_NOTE("", 0, 1, 0);

#define BEAT_S 10
#define RING 256
#define PP_MAGIC 0x70696e67706f6e67ull
#define PC_MAGIC 0x70726f64636f6e73ull

static const char *name;
static char pair_index[8];
static uint64_t next_beat, beats;

static void fail(const char *what, uint64_t got, uint64_t want)
{
    hvg_printf("%s: %s: got %llu, want %llu: FAILED\n", name, what, (unsigned long long)got,
               (unsigned long long)want);
    hvg_exit(1);
}

static void beat(uint64_t work)
{
    uint64_t now = hvg_now();
    if (now < next_beat)
        return;
    next_beat = now + BEAT_S * HVG_NS_PER_SEC;
    hvg_printf("%s: beat %llu: %llu\n", name, (unsigned long long)beats++,
               (unsigned long long)work);
}

static uint64_t mix(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9e3779b97f4a7c15ull;
    return x ^ (x >> 29);
}

/* Read from memory each round, so the compiler cannot compute the round
 * once and compare a constant with itself. */
static volatile uint64_t compute_seed = 0x6a09e667f3bcc908ull;

/* One round of the computation: a few thousand instructions. */
static uint64_t compute_round(void)
{
    uint64_t h = compute_seed;
    for (unsigned i = 0; i < 1000; i++)
        h = mix(h + i);
    return h;
}

static HVG_NORETURN void compute(uint64_t until_ns, bool fault)
{
    uint64_t want = compute_round();
    for (uint64_t rounds = 0;; rounds++) {
        uint64_t got = compute_round();
        if (got != want)
            fail("compute round", got, want);
        beat(rounds);
        if (until_ns && hvg_now() >= until_ns) {
            hvg_printf("%s: %s after %llu rounds\n", name, fault ? "faulting" : "exiting",
                       (unsigned long long)rounds);
            if (fault)
                __asm__ volatile("ud2");
            hvg_exit(0);
        }
    }
}

/* --- ping-pong over an event channel ---------------------------------------------- */

struct pp_shm {
    uint64_t magic;
    uint32_t ping_port;
    uint32_t pong_bound; /* pong bound the port: ping may send */
    volatile uint64_t request, reply;
};

static volatile uint64_t pp_events;

static bool reply_is(void *arg)
{
    volatile struct pp_shm *pp = arg;
    return pp->reply == pp->request;
}

static bool request_waits(void *arg)
{
    volatile struct pp_shm *pp = arg;
    return pp->request != pp->reply;
}

/* A ping-pong wait far longer than a round ever takes on a loaded host
 * (rounds take microseconds; the host has held QEMU for 0.2 s): where the
 * vCPU spent it tells a lost wake-up (blocked throughout) from a vCPU
 * woken but not run (runnable throughout). */
#define SLOW_WAIT_NS (2 * HVG_NS_PER_SEC)

struct wait_start {
    uint64_t at, blocked, runnable, events, ticks;
};

static struct wait_start wait_begins(unsigned vcpu)
{
    uint64_t now = hvg_now();
    struct hv_runstate rs = hvg_runstate(vcpu);
    return (struct wait_start){now, hvg_runstate_ns(&rs, HV_RUNSTATE_BLOCKED, now),
                               hvg_runstate_ns(&rs, HV_RUNSTATE_RUNNABLE, now), pp_events,
                               hvg_timer_events(vcpu)};
}

/* One line (no FAILED: the timeouts judge) when the wait was slow. */
static void wait_ended(unsigned vcpu, const struct wait_start *w, const char *what, uint64_t seq,
                       unsigned port)
{
    uint64_t now = hvg_now();
    if (now - w->at < SLOW_WAIT_NS)
        return;
    struct hv_runstate rs = hvg_runstate(vcpu);
    volatile struct hv_vcpu_shared *vs = hvg_vcpu_shared(vcpu);
    hvg_printf("%s: slow %s %llu: %llu ms, of which blocked %llu ms, runnable %llu ms; "
               "port events %llu, timer events %llu; port pending %d, upcall pending %d, "
               "mask %d\n", name, what, (unsigned long long)seq,
               (unsigned long long)((now - w->at) / 1000000),
               (unsigned long long)((hvg_runstate_ns(&rs, HV_RUNSTATE_BLOCKED, now) - w->blocked) /
                                    1000000),
               (unsigned long long)((hvg_runstate_ns(&rs, HV_RUNSTATE_RUNNABLE, now) -
                                     w->runnable) / 1000000),
               (unsigned long long)(pp_events - w->events),
               (unsigned long long)(hvg_timer_events(vcpu) - w->ticks),
               (int)hvg_evtchn_is_pending(port), (int)vs->upcall_pending, (int)vs->upcall_mask);
}

static volatile void *pair_shm(uint64_t bytes)
{
    char shm_name[16];
    fmt_format(shm_name, sizeof(shm_name), "soak%s", pair_index);
    return ev_shm(shm_name, bytes, true);
}

static HVG_NORETURN void ping(unsigned vcpu)
{
    volatile struct pp_shm *pp = pair_shm(sizeof(*pp));
    char peer[32];
    fmt_format(peer, sizeof(peer), "soak-pong-%s", pair_index);
    EV_MUST(hvg_events_init(vcpu));
    int64_t port = hvg_evtchn_alloc_unbound(peer);
    EV_MUST(port);
    EV_MUST(hvg_event_handler((unsigned)port, ev_count, (void *)&pp_events));
    pp->ping_port = (uint32_t)port;
    __atomic_store_n(&pp->magic, PP_MAGIC, __ATOMIC_RELEASE);
    /* A port set aside is not connected until the peer binds it. */
    uint64_t deadline = hvg_now() + EV_TIMEOUT_NS;
    while (!__atomic_load_n(&pp->pong_bound, __ATOMIC_ACQUIRE) && hvg_now() < deadline)
        hvg_yield();
    if (!pp->pong_bound)
        fail("pong bound the port within 20 s", 0, 1);
    for (uint64_t seq = 1;; seq++) {
        struct wait_start w = wait_begins(vcpu);
        pp->request = seq;
        EV_MUST(hvg_evtchn_send((uint64_t)port));
        int64_t r = hvg_wait(vcpu, reply_is, (void *)pp, hvg_now() + EV_TIMEOUT_NS);
        wait_ended(vcpu, &w, "reply", seq, (unsigned)port);
        if (r != 0)
            fail("a reply within 20 s", pp->reply, seq);
        if (pp->reply != seq)
            fail("reply", pp->reply, seq);
        beat(seq);
    }
}

static HVG_NORETURN void pong(unsigned vcpu)
{
    volatile struct pp_shm *pp = pair_shm(sizeof(*pp));
    char peer[32];
    fmt_format(peer, sizeof(peer), "soak-ping-%s", pair_index);
    uint64_t deadline = hvg_now() + EV_TIMEOUT_NS;
    while (__atomic_load_n(&pp->magic, __ATOMIC_ACQUIRE) != PP_MAGIC && hvg_now() < deadline)
        hvg_yield();
    if (pp->magic != PP_MAGIC)
        fail("ping's port within 20 s", 0, 1);
    EV_MUST(hvg_events_init(vcpu));
    int64_t port = hvg_evtchn_bind_peer(peer, pp->ping_port);
    EV_MUST(port);
    EV_MUST(hvg_event_handler((unsigned)port, ev_count, (void *)&pp_events));
    __atomic_store_n(&pp->pong_bound, 1, __ATOMIC_RELEASE);
    for (uint64_t seq = 1;; seq++) {
        struct wait_start w = wait_begins(vcpu);
        int64_t r = hvg_wait(vcpu, request_waits, (void *)pp, hvg_now() + EV_TIMEOUT_NS);
        wait_ended(vcpu, &w, "request", seq, (unsigned)port);
        if (r != 0)
            fail("a request within 20 s", pp->request, seq);
        if (pp->request != seq)
            fail("request", pp->request, seq);
        pp->reply = seq;
        EV_MUST(hvg_evtchn_send((uint64_t)port));
        beat(seq);
    }
}

/* --- producer and consumer over a ring in shared memory --------------------------- */

struct pc_shm {
    uint64_t magic;
    volatile uint64_t head, tail; /* values produced, consumed */
    volatile uint64_t ring[RING];
};

static HVG_NORETURN void produce(void)
{
    volatile struct pc_shm *pc = pair_shm(sizeof(*pc));
    __atomic_store_n(&pc->magic, PC_MAGIC, __ATOMIC_RELEASE);
    for (uint64_t n = 0;; n++) {
        while (__atomic_load_n(&pc->head, __ATOMIC_ACQUIRE) - pc->tail >= RING) {
            beat(n);
            hvg_yield();
        }
        pc->ring[n % RING] = mix(n);
        __atomic_store_n(&pc->head, n + 1, __ATOMIC_RELEASE);
        beat(n);
    }
}

static HVG_NORETURN void consume(void)
{
    volatile struct pc_shm *pc = pair_shm(sizeof(*pc));
    uint64_t deadline = hvg_now() + EV_TIMEOUT_NS;
    while (__atomic_load_n(&pc->magic, __ATOMIC_ACQUIRE) != PC_MAGIC && hvg_now() < deadline)
        hvg_yield();
    if (pc->magic != PC_MAGIC)
        fail("the producer within 20 s", 0, 1);
    for (uint64_t n = 0;; n++) {
        while (__atomic_load_n(&pc->head, __ATOMIC_ACQUIRE) == n) {
            beat(n);
            hvg_yield();
        }
        uint64_t v = pc->ring[n % RING];
        if (v != mix(n))
            fail("ring value", v, mix(n));
        __atomic_store_n(&pc->tail, n + 1, __ATOMIC_RELEASE);
        beat(n);
    }
}

static bool role(const char *prefix)
{
    size_t n = strlen(prefix);
    if (strncmp(name, prefix, n) != 0)
        return false;
    fmt_format(pair_index, sizeof(pair_index), "%s", name + n);
    return true;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    name = pv_name = si->name;
    next_beat = hvg_now() + BEAT_S * HVG_NS_PER_SEC;
    if (si->restarts)
        hvg_printf("%s: life %u\n", name, si->restarts);
    if (role("soak-compute-"))
        compute(0, false);
    if (role("soak-ping-"))
        ping(vcpu);
    if (role("soak-pong-"))
        pong(vcpu);
    if (role("soak-prod-"))
        produce();
    if (role("soak-cons-"))
        consume();
    bool fault = role("soak-fault-");
    if (fault || role("soak-exit-")) {
        /* 1-12 s from the TSC: a random moment in each life. */
        uint64_t ms = 1000 + mix(hvg_rdtsc()) % 11000;
        compute(hvg_now() + ms * 1000000ull, fault);
    }
    hvg_printf("%s: no role of that name: FAILED\n", name);
    return 1;
}
