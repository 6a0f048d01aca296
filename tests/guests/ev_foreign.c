/* Event ports not the caller's own (issue 10). One image, three roles by
 * name, booted beside the companion:
 *
 *   ev-owner    sets a port aside for ev-grantee, publishes its number in the
 *               region `grant` (owner rw, grantee ro), waits for the
 *               grantee's event and answers it;
 *   ev-grantee  binds that port, sends, and waits for the answer;
 *   ev-thief    (any other name) tries to take or touch what is not its:
 *               binds every port of ev-owner, ev-grantee and the companion
 *               (none was set aside for it: -HV_EINVAL, or -HV_ESRCH once
 *               that guest has ended), binds peers that do
 *               not exist or differ only in case (-HV_ESRCH), names that are
 *               not NUL-terminated in guest memory (-HV_EFAULT) or too long
 *               (-HV_EINVAL); sends, closes, unmasks, asks the status of and
 *               polls every port number of its own empty table and numbers
 *               out of range; exhausts its own ports (-HV_ENOMEM). All the
 *               while the owner and grantee must complete their exchange.
 *
 * Each prints one line per check and "NAME: all N checks passed". */
#include "pv_common.h"
#include "hvg_event.h"

#define ROUNDS 20

static const char *me;

static bool named(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static volatile unsigned events_seen;

static void on_event(unsigned port, unsigned vcpu, void *arg)
{
    (void)port, (void)vcpu, (void)arg;
    events_seen++;
}

static bool got_event(void *arg)
{
    (void)arg;
    return events_seen > 0;
}

static int owner(void)
{
    const struct hv_shm_info *grant = hvg_shm("grant");
    expect_true("the region grant is mapped read-write", grant && grant->writable);
    if (!grant)
        return pv_finish();
    expect_eq("events init", hvg_events_init(0), 0);
    int64_t port = hvg_evtchn_alloc_unbound("ev-grantee");
    expect_true("a port set aside for ev-grantee", port >= 0 && port < HV_EVTCHN_PORTS);
    if (port < 0)
        return pv_finish();
    expect_eq("its callback", hvg_event_handler((unsigned)port, on_event, NULL), 0);
    *(volatile uint64_t *)grant->va = (uint64_t)port + 1;
    int64_t r = hvg_wait(0, got_event, NULL, hvg_now() + HVG_MS(20000));
    expect_eq("the grantee's event came", r, 0);
    struct hv_evtchn_status st;
    expect_eq("status", hvg_evtchn_status((uint64_t)port, &st), 0);
    expect_true("... bound to ev-grantee, not to anyone else",
                st.state == HV_EVTCHN_INTERGUEST && named(st.remote_name, "ev-grantee"));
    expect_eq("answer", hvg_evtchn_send((uint64_t)port), 0);
    return pv_finish();
}

static int grantee(void)
{
    const struct hv_shm_info *grant = hvg_shm("grant");
    expect_true("the region grant is mapped read-only", grant && !grant->writable);
    if (!grant)
        return pv_finish();
    expect_eq("events init", hvg_events_init(0), 0);
    uint64_t published;
    uint64_t deadline = hvg_now() + HVG_MS(20000);
    while ((published = *(volatile uint64_t *)grant->va) == 0 && hvg_now() < deadline)
        hvg_yield();
    expect_true("the owner published its port", published != 0);
    if (!published)
        return pv_finish();
    int64_t port = hvg_evtchn_bind_peer("ev-owner", published - 1);
    expect_true("binding the port set aside for us (the thief did not take it)", port >= 0);
    if (port < 0)
        return pv_finish();
    expect_eq("its callback", hvg_event_handler((unsigned)port, on_event, NULL), 0);
    expect_eq("send", hvg_evtchn_send((uint64_t)port), 0);
    expect_eq("the owner's answer came", hvg_wait(0, got_event, NULL, hvg_now() + HVG_MS(20000)), 0);
    return pv_finish();
}

/* A port of a peer that was not set aside for the caller: -HV_EINVAL, or
 * -HV_ESRCH once that peer has ended. */
static bool refused_peer(int64_t r)
{
    return r == -HV_EINVAL || r == -HV_ESRCH;
}

/* Binds every port of peer: each must be refused. */
static void bind_all(const char *peer)
{
    char what[96];
    unsigned wrong = 0;
    int64_t first_wrong = 0;
    for (uint64_t p = 0; p < HV_EVTCHN_PORTS + 2; p++) {
        uint64_t t0 = hvg_now();
        int64_t r = hvg_evtchn_bind_peer(peer, p);
        uint64_t took = hvg_now() - t0;
        if (took > HVG_MS(20))
            hvg_printf("%s: info: bind_peer(%s, %llu) took %llu us\n", me, peer,
                       (unsigned long long)p, (unsigned long long)(took / 1000));
        if (!refused_peer(r) && wrong++ == 0)
            first_wrong = r;
    }
    fmt_format(what, sizeof(what), "binding each of %s's ports: refused (%u not, first %lld)",
               peer, wrong, (long long)first_wrong);
    expect_true(what, wrong == 0);
}

static void own_empty_table(void)
{
    static const uint64_t outside[] = { HV_EVTCHN_PORTS, HV_EVTCHN_PORTS + 1, 0xffffffffull,
                                        0x100000000ull, 1ull << 63, UINT64_MAX };
    unsigned wrong = 0;
    struct hv_evtchn_status st;
    for (uint64_t p = 0; p < HV_EVTCHN_PORTS; p++) {
        wrong += hvg_evtchn_send(p) != -HV_EINVAL;
        wrong += hvg_evtchn_close(p) != -HV_EINVAL;
        wrong += hvg_evtchn_unmask(p) != -HV_EINVAL;
        wrong += hvg_evtchn_status(p, &st) != 0 || st.state != HV_EVTCHN_FREE;
        uint32_t list[1] = { (uint32_t)p };
        wrong += hvg_poll(list, 1, 1) != -HV_ETIMEDOUT;
    }
    expect_eq("send, close, unmask, status, poll on each free port: wrong answers", wrong, 0);
    wrong = 0;
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        wrong += hvg_evtchn_send(outside[i]) != -HV_EINVAL;
        wrong += hvg_evtchn_close(outside[i]) != -HV_EINVAL;
        wrong += hvg_evtchn_unmask(outside[i]) != -HV_EINVAL;
        wrong += hvg_evtchn_status(outside[i], &st) != -HV_EINVAL;
    }
    expect_eq("the same on ports out of range: wrong answers", wrong, 0);
    uint32_t list[2] = { 0, HV_EVTCHN_PORTS };
    expect_eq("poll naming a port out of range", hvg_poll(list, 2, 1), -HV_EINVAL);
}

static void names(const struct hv_start_info *si)
{
    expect_eq("bind_peer(\"no-such-guest\")", hvg_evtchn_bind_peer("no-such-guest", 0), -HV_ESRCH);
    expect_eq("alloc_unbound(\"no-such-guest\")", hvg_evtchn_alloc_unbound("no-such-guest"),
              -HV_ESRCH);
    /* Names match ignoring case (docs/abi.md, "Names and identity"): this
     * is ev-owner, who set nothing aside for the thief (or has ended). */
    int64_t r = hvg_evtchn_bind_peer("EV-OWNER", 0);
    expect_true("bind_peer(\"EV-OWNER\"): ev-owner's port 0 is not the thief's",
                r == -HV_EINVAL || r == -HV_ESRCH);
    expect_eq("bind_peer(\"ev-owner \")", hvg_evtchn_bind_peer("ev-owner ", 0), -HV_ESRCH);
    expect_eq("bind_peer(\"ev-own\")", hvg_evtchn_bind_peer("ev-own", 0), -HV_ESRCH);
    /* The note name of ev-foreign is empty; under its own name it is no one else. */
    expect_true("the thief's own name is not a victim's",
                !named(si->name, "ev-owner") && !named(si->name, "ev-grantee"));
    /* A name running into an unmapped page: the heap's last bytes. */
    uint64_t end = si->heap_start + si->heap_bytes;
    memcpy((void *)(uintptr_t)(end - 8), "ev-owner", 8);    /* no NUL before the page ends */
    expect_eq("a peer name not NUL-terminated before unmapped memory",
              hvg_evtchn_bind_peer((const char *)(uintptr_t)(end - 8), 0), -HV_EFAULT);
    memset((void *)(uintptr_t)(end - 8), 0, 8);
    char longname[40];
    memset(longname, 'a', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    expect_eq("a 39-character peer name", hvg_evtchn_bind_peer(longname, 0), -HV_EINVAL);
    expect_eq("a peer name in hv's core",
              hvg_evtchn_bind_peer((const char *)0xffffffff80000000ull, 0), -HV_EFAULT);
    expect_eq("a peer name at a non-canonical address",
              hvg_evtchn_alloc_unbound((const char *)0x0000800000000000ull), -HV_EFAULT);
}

static void exhaust(void)
{
    int64_t ports = 0, last = 0;
    for (unsigned i = 0; i < HV_EVTCHN_PORTS + 8; i++) {
        last = hvg_evtchn_alloc_unbound(me);
        if (last < 0)
            break;
        ports++;
    }
    expect_eq("ports it could set aside (its own table only)", ports, HV_EVTCHN_PORTS);
    expect_eq("... then -HV_ENOMEM", last, -HV_ENOMEM);
    expect_true("binding ev-owner's port with a full table: refused",
                refused_peer(hvg_evtchn_bind_peer("ev-owner", 0)));
    unsigned closed = 0;
    for (uint64_t p = 0; p < HV_EVTCHN_PORTS; p++)
        closed += hvg_evtchn_close(p) == 0;
    expect_eq("closing them all", closed, HV_EVTCHN_PORTS);
}

static int thief(const struct hv_start_info *si)
{
    names(si);
    own_empty_table();
    for (unsigned round = 0; round < ROUNDS; round++) {
        bind_all("ev-owner");
        bind_all("ev-grantee");
        bind_all("companion");
        hvg_yield();
    }
    exhaust();
    own_empty_table();
    return pv_finish();
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    me = si->name;
    pv_name = me;
    if (named(me, "ev-owner"))
        return owner();
    if (named(me, "ev-grantee"))
        return grantee();
    return thief(si);
}
