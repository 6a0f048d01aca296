/* Two guests playing ping-pong through an event channel and a shared
 * region. One image, booted under two names (tests/system/ev_cases.py):
 * "ev-ping" and "ev-pong", with hv.cfg
 *     [shm pp]
 *     size = 64K
 *     map = ev-ping:rw ev-pong:rw
 *
 * ev-ping allocates a port for ev-pong and publishes it in the region;
 * ev-pong binds to it and says hello. Then ROUNDS times: ping writes a
 * request (sequence number, data derived from it, checksum), notifies; pong
 * checks it, writes the reply (a different function of the same data) and
 * notifies back; ping checks the reply. Then pong exits, and ping checks
 * what hv says about a channel whose peer ended: an HV_VIRQ_NOTICE event,
 * the port HV_EVTCHN_CLOSED_PEER; closing it works, and a closed port is
 * refused. Every check prints one line; both exit 0 when all passed. */
#include "ev_common.h"

#define ROUNDS 2000
#define WORDS 30
#define MAGIC 0x676e6f70676e6970ull /* "pingpong" */

struct pp_msg {
    uint64_t seq;
    uint64_t data[WORDS];
    uint64_t sum;
};

struct pp_shm {
    uint64_t magic;
    uint32_t ping_port;
    uint32_t reserved;
    struct pp_msg request, reply;
};

static volatile uint64_t events, notices;

static uint64_t request_word(uint64_t seq, unsigned i)
{
    uint64_t x = (seq << 8 | i) * 0x9e3779b97f4a7c15ull;
    return x ^ (x >> 29);
}

static uint64_t reply_word(uint64_t seq, unsigned i)
{
    return ~request_word(seq, i) + seq * 3;
}

static uint64_t msg_sum(const volatile struct pp_msg *m)
{
    uint64_t s = m->seq;
    for (unsigned i = 0; i < WORDS; i++)
        s = (s ^ m->data[i]) * 0x100000001b3ull;
    return s;
}

/* Whether *m carries seq with the words f gives and a right sum. */
static bool msg_ok(const volatile struct pp_msg *m, uint64_t seq,
                   uint64_t (*f)(uint64_t, unsigned))
{
    if (m->seq != seq || m->sum != msg_sum(m))
        return false;
    for (unsigned i = 0; i < WORDS; i++)
        if (m->data[i] != f(seq, i))
            return false;
    return true;
}

static void msg_write(volatile struct pp_msg *m, uint64_t seq, uint64_t (*f)(uint64_t, unsigned))
{
    m->seq = seq;
    for (unsigned i = 0; i < WORDS; i++)
        m->data[i] = f(seq, i);
    m->sum = msg_sum(m);
}

static int ping(unsigned vcpu, volatile struct pp_shm *pp)
{
    int64_t notice_port = hvg_evtchn_bind_virq(HV_VIRQ_NOTICE);
    expect_true("bind HV_VIRQ_NOTICE -> a port", notice_port >= 0 && notice_port < HV_EVTCHN_PORTS);
    if (notice_port >= 0)
        EV_MUST(hvg_event_handler((unsigned)notice_port, ev_count, (void *)&notices));

    int64_t port = hvg_evtchn_alloc_unbound("ev-pong");
    expect_true("alloc_unbound(\"ev-pong\") -> a port", port >= 0 && port < HV_EVTCHN_PORTS);
    if (port < 0)
        return pv_finish();
    struct hv_evtchn_status st;
    memset(&st, 0, sizeof(st));
    expect_eq("status of the unbound port", hvg_evtchn_status((uint64_t)port, &st), 0);
    expect_eq("its state is HV_EVTCHN_UNBOUND", st.state, HV_EVTCHN_UNBOUND);
    expect_true("its remote_name is ev-pong", strcmp(st.remote_name, "ev-pong") == 0);
    EV_MUST(hvg_event_handler((unsigned)port, ev_count, (void *)&events));

    pp->ping_port = (uint32_t)port;
    __atomic_store_n(&pp->magic, MAGIC, __ATOMIC_RELEASE);
    expect_eq("pong binds and says hello", ev_wait_count(vcpu, &events, 1, EV_TIMEOUT_NS), 0);
    memset(&st, 0, sizeof(st));
    hvg_evtchn_status((uint64_t)port, &st);
    expect_eq("the port is now HV_EVTCHN_INTERGUEST", st.state, HV_EVTCHN_INTERGUEST);

    uint64_t start = hvg_now(), bad = 0, timeouts = 0;
    for (uint64_t seq = 1; seq <= ROUNDS; seq++) {
        msg_write(&pp->request, seq, request_word);
        if (hvg_evtchn_send((uint64_t)port) < 0 ||
            ev_wait_count(vcpu, &events, 1 + seq, EV_TIMEOUT_NS) < 0) {
            timeouts++;
            break;
        }
        if (!msg_ok(&pp->reply, seq, reply_word) && bad++ < 3)
            hvg_printf("ev-ping: round %llu: reply seq %llu is wrong\n", (unsigned long long)seq,
                       (unsigned long long)pp->reply.seq);
    }
    uint64_t took = hvg_now() - start;
    expect_eq("round trips that timed out", (int64_t)timeouts, 0);
    expect_eq("replies with wrong data", (int64_t)bad, 0);
    hvg_printf("ev-ping: %d round trips in %llu us (%llu ns each)\n", ROUNDS,
               (unsigned long long)(took / 1000), (unsigned long long)(took / ROUNDS));

    /* Pong exits after the last round: hv's notice must follow. */
    expect_eq("a notice arrives when ev-pong ends",
              ev_wait_count(vcpu, &notices, 1, EV_TIMEOUT_NS), 0);
    memset(&st, 0, sizeof(st));
    expect_eq("status of the port after the peer ended", hvg_evtchn_status((uint64_t)port, &st), 0);
    expect_eq("its state is HV_EVTCHN_CLOSED_PEER", st.state, HV_EVTCHN_CLOSED_PEER);
    expect_true("its remote_name is still ev-pong", strcmp(st.remote_name, "ev-pong") == 0);
    hvg_printf("ev-ping: info: send on a port whose peer ended -> %lld\n",
               (long long)hvg_evtchn_send((uint64_t)port));
    expect_eq("close the port", hvg_evtchn_close((uint64_t)port), 0);
    memset(&st, 0, sizeof(st));
    expect_eq("status of the closed port", hvg_evtchn_status((uint64_t)port, &st), 0);
    expect_eq("its state is HV_EVTCHN_FREE", st.state, HV_EVTCHN_FREE);
    expect_eq("send on the closed port", hvg_evtchn_send((uint64_t)port), -HV_EINVAL);
    expect_eq("close it again", hvg_evtchn_close((uint64_t)port), -HV_EINVAL);
    return pv_finish();
}

static int pong(unsigned vcpu, volatile struct pp_shm *pp)
{
    uint64_t deadline = hvg_now() + EV_TIMEOUT_NS;
    while (__atomic_load_n(&pp->magic, __ATOMIC_ACQUIRE) != MAGIC) {
        if (hvg_now() >= deadline) {
            expect_true("ev-ping publishes its port", false);
            return pv_finish();
        }
        hvg_sleep_until(vcpu, hvg_now() + HVG_MS(1));
    }
    uint32_t ping_port = pp->ping_port;
    expect_error("bind to a port of ev-ping not allocated for us",
                 hvg_evtchn_bind_peer("ev-ping", ping_port == 0 ? 1 : ping_port - 1));
    int64_t port = hvg_evtchn_bind_peer("ev-ping", ping_port);
    expect_true("bind_peer(\"ev-ping\", its port) -> a port", port >= 0 && port < HV_EVTCHN_PORTS);
    if (port < 0)
        return pv_finish();
    expect_error("bind to the same port twice", hvg_evtchn_bind_peer("ev-ping", ping_port));
    struct hv_evtchn_status st;
    memset(&st, 0, sizeof(st));
    expect_eq("status of the bound port", hvg_evtchn_status((uint64_t)port, &st), 0);
    expect_eq("its state is HV_EVTCHN_INTERGUEST", st.state, HV_EVTCHN_INTERGUEST);
    expect_eq("its remote_port is ev-ping's", st.remote_port, ping_port);
    expect_true("its remote_name is ev-ping", strcmp(st.remote_name, "ev-ping") == 0);
    EV_MUST(hvg_event_handler((unsigned)port, ev_count, (void *)&events));
    EV_MUST(hvg_evtchn_send((uint64_t)port));

    uint64_t bad = 0, timeouts = 0;
    for (uint64_t seq = 1; seq <= ROUNDS; seq++) {
        if (ev_wait_count(vcpu, &events, seq, EV_TIMEOUT_NS) < 0) {
            timeouts++;
            break;
        }
        if (!msg_ok(&pp->request, seq, request_word) && bad++ < 3)
            hvg_printf("ev-pong: round %llu: request seq %llu is wrong\n",
                       (unsigned long long)seq, (unsigned long long)pp->request.seq);
        msg_write(&pp->reply, seq, reply_word);
        if (hvg_evtchn_send((uint64_t)port) < 0) {
            timeouts++;
            break;
        }
    }
    expect_eq("rounds that timed out", (int64_t)timeouts, 0);
    expect_eq("requests with wrong data", (int64_t)bad, 0);
    hvg_printf("ev-pong: answered %d requests\n", ROUNDS);
    return pv_finish();
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    pv_name = si->name;
    volatile struct pp_shm *pp = ev_shm("pp", sizeof(struct pp_shm), true);
    EV_MUST(hvg_events_init(vcpu));
    if (strcmp(si->name, "ev-ping") == 0)
        return ping(vcpu, pp);
    if (strcmp(si->name, "ev-pong") == 0)
        return pong(vcpu, pp);
    hvg_printf("%s: boot me as ev-ping or ev-pong\n", si->name);
    return 2;
}
