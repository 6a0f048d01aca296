#include "hv/event/evtchn.h"

#include "hv/console/input.h"
#include "hv/debug/trace.h"
#include "hv/debug/stats.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
#include "hv/sched/sched.h"
#include "lib/nospec.h"
#include "vcpu/vcpu.h"

#define TABLE_BYTES (HV_EVTCHN_PORTS * sizeof(struct evtchn))

struct evtchn *evtchn_table(struct guest *g)
{
    if (!g->evtchn)
        g->evtchn = kmalloc(TABLE_BYTES);
    return g->evtchn;
}

void evtchn_free_table(struct guest *g)
{
    kfree(g->evtchn, TABLE_BYTES);
    g->evtchn = NULL;
}

static uint64_t bit(unsigned port)
{
    return 1ull << (port % 64);
}

/* Every port below comes from a guest (an argument, a POLL list) or was
 * checked once when bound; each bounds check is followed by
 * array_index_nospec, and the clamped port is the one used (Spectre v1,
 * docs/design.md). */

bool evtchn_pending(struct guest *g, unsigned port)
{
    if (port >= HV_EVTCHN_PORTS)
        return false;
    port = (unsigned)array_index_nospec(port, HV_EVTCHN_PORTS);
    return g->shared->evtchn_pending[port / 64] & bit(port);
}

/* Tells the vCPU an unmasked port has an event: its selector bit, the
 * upcall flag, and a wake-up if it sleeps. */
static void notify(struct guest *g, unsigned port)
{
    struct evtchn *ch = &g->evtchn[port];
    struct vcpu *v = g->vcpus[ch->vcpu];
    struct hv_vcpu_shared *vs = &g->shared->vcpu[ch->vcpu];
    __atomic_or_fetch(&vs->pending_sel, 1ull << (port / 64), __ATOMIC_SEQ_CST);
    vs->upcall_pending = 1;
    sched_event_arrived(v, port, true);
}

bool evtchn_raise(struct guest *g, unsigned port)
{
    if (g->end != GUEST_ALIVE || !g->evtchn || port >= HV_EVTCHN_PORTS)
        return false;
    port = (unsigned)array_index_nospec(port, HV_EVTCHN_PORTS);
    if (g->evtchn[port].state == HV_EVTCHN_FREE)
        return false;
    uint64_t was = __atomic_fetch_or(&g->shared->evtchn_pending[port / 64], bit(port),
                                     __ATOMIC_SEQ_CST);
    /* Already pending: the vCPU was told then (or is masked and will be
     * told on unmask). */
    if (was & bit(port))
        return true;
    TRACE_VCPU(TR_EVTCHN_DELIVER, g->vcpus[g->evtchn[port].vcpu], port, 0);
    stats_event_pending();
    if (!(g->shared->evtchn_mask[port / 64] & bit(port)))
        notify(g, port);
    else /* masked: no upcall, but a vCPU polling this very port wakes */
        sched_event_arrived(g->vcpus[g->evtchn[port].vcpu], port, false);
    return true;
}

void evtchn_raise_virq(struct vcpu *v, unsigned virq)
{
    /* hv's own VIRQ numbers today; clamped all the same, as a guard for
     * any caller to come. */
    if (virq >= HV_VIRQ_COUNT)
        return;
    virq = (unsigned)array_index_nospec(virq, HV_VIRQ_COUNT);
    if (v->ev.virq_port[virq] != NO_PORT)
        evtchn_raise(v->guest, v->ev.virq_port[virq]);
}

static int64_t alloc_port(struct guest *g)
{
    struct evtchn *t = evtchn_table(g);
    if (!t)
        return -HV_ENOMEM;
    for (unsigned p = 0; p < HV_EVTCHN_PORTS; p++)
        if (t[p].state == HV_EVTCHN_FREE) {
            /* A reused port starts clean: nothing pending from its past. */
            __atomic_and_fetch(&g->shared->evtchn_pending[p / 64], ~bit(p), __ATOMIC_SEQ_CST);
            t[p] = (struct evtchn){0};
            return p;
        }
    return -HV_ENOMEM;
}

/* The bound port the guest names, or NULL; *port is clamped in place, so
 * the caller's later uses of it (the pending and mask bits) are too. */
static struct evtchn *port_of(struct vcpu *v, uint64_t *port)
{
    struct guest *g = v->guest;
    if (!g->evtchn || *port >= HV_EVTCHN_PORTS)
        return NULL;
    *port = array_index_nospec(*port, HV_EVTCHN_PORTS);
    if (g->evtchn[*port].state == HV_EVTCHN_FREE)
        return NULL;
    return &g->evtchn[*port];
}

int64_t evtchn_bind_virq(struct vcpu *v, uint64_t virq)
{
    if (virq >= HV_VIRQ_COUNT)
        return -HV_EINVAL;
    virq = array_index_nospec(virq, HV_VIRQ_COUNT);
    if (v->ev.virq_port[virq] != NO_PORT)
        return -HV_EEXIST;
    int64_t p = alloc_port(v->guest);
    if (p < 0)
        return p;
    v->guest->evtchn[p] = (struct evtchn){.state = HV_EVTCHN_VIRQ, .virq = (uint8_t)virq,
                                          .vcpu = (uint8_t)v->id};
    v->ev.virq_port[virq] = (uint16_t)p;
    if (virq == HV_VIRQ_CONSOLE)
        console_listeners++;
    return p;
}

int64_t evtchn_alloc_unbound(struct vcpu *v, struct guest *peer)
{
    int64_t p = alloc_port(v->guest);
    if (p < 0)
        return p;
    v->guest->evtchn[p] = (struct evtchn){.state = HV_EVTCHN_UNBOUND, .vcpu = (uint8_t)v->id,
                                          .peer = peer};
    return p;
}

int64_t evtchn_bind_peer(struct vcpu *v, struct guest *peer, uint64_t peer_port)
{
    struct guest *g = v->guest;
    if (!peer->evtchn || peer_port >= HV_EVTCHN_PORTS)
        return -HV_EINVAL;
    peer_port = array_index_nospec(peer_port, HV_EVTCHN_PORTS);
    struct evtchn *remote = &peer->evtchn[peer_port];
    /* Only a port the peer set aside for this very guest. */
    if (remote->state != HV_EVTCHN_UNBOUND || remote->peer != g)
        return -HV_EINVAL;
    int64_t p = alloc_port(g);
    if (p < 0)
        return p;
    g->evtchn[p] = (struct evtchn){.state = HV_EVTCHN_INTERGUEST, .vcpu = (uint8_t)v->id,
                                   .peer = peer, .peer_port = (uint16_t)peer_port};
    remote->state = HV_EVTCHN_INTERGUEST;
    remote->peer_port = (uint16_t)p;
    return p;
}

int64_t evtchn_bind_ipi(struct vcpu *v, uint64_t target)
{
    if (target >= v->guest->vcpu_count)
        return -HV_EINVAL;
    /* Stored, then indexes vcpus[] and the shared vcpu[] on every event. */
    target = array_index_nospec(target, v->guest->vcpu_count);
    int64_t p = alloc_port(v->guest);
    if (p < 0)
        return p;
    v->guest->evtchn[p] = (struct evtchn){.state = HV_EVTCHN_IPI, .vcpu = (uint8_t)target};
    return p;
}

int64_t evtchn_send(struct vcpu *v, uint64_t port)
{
    struct evtchn *ch = port_of(v, &port);
    if (!ch)
        return -HV_EINVAL;
    switch (ch->state) {
    case HV_EVTCHN_INTERGUEST:
        evtchn_raise(ch->peer, ch->peer_port);
        return 0;
    case HV_EVTCHN_IPI:
        evtchn_raise(v->guest, (unsigned)port);
        return 0;
    default:
        return -HV_EINVAL; /* not connected (yet, or any more), or a VIRQ */
    }
}

static void disconnect_peer(struct evtchn *ch)
{
    if (ch->state != HV_EVTCHN_INTERGUEST || !ch->peer->evtchn)
        return;
    struct evtchn *remote = &ch->peer->evtchn[ch->peer_port];
    if (remote->state == HV_EVTCHN_INTERGUEST)
        remote->state = HV_EVTCHN_CLOSED_PEER;
}

int64_t evtchn_close(struct vcpu *v, uint64_t port)
{
    struct evtchn *ch = port_of(v, &port);
    if (!ch)
        return -HV_EINVAL;
    struct guest *g = v->guest;
    disconnect_peer(ch);
    if (ch->state == HV_EVTCHN_VIRQ) {
        g->vcpus[ch->vcpu]->ev.virq_port[ch->virq] = NO_PORT;
        if (ch->virq == HV_VIRQ_CONSOLE)
            console_listeners--;
    }
    *ch = (struct evtchn){0};
    __atomic_and_fetch(&g->shared->evtchn_pending[port / 64], ~bit((unsigned)port),
                       __ATOMIC_SEQ_CST);
    return 0;
}

int64_t evtchn_unmask(struct vcpu *v, uint64_t port)
{
    struct evtchn *ch = port_of(v, &port);
    if (!ch)
        return -HV_EINVAL;
    struct guest *g = v->guest;
    __atomic_and_fetch(&g->shared->evtchn_mask[port / 64], ~bit((unsigned)port), __ATOMIC_SEQ_CST);
    /* Whatever is pending is delivered now: what arrived while masked, or
     * an event the guest left pending (unmask is how it asks again). */
    if (evtchn_pending(g, (unsigned)port))
        notify(g, (unsigned)port);
    return 0;
}

int64_t evtchn_status(struct vcpu *v, uint64_t port, struct hv_evtchn_status *out)
{
    struct guest *g = v->guest;
    if (port >= HV_EVTCHN_PORTS)
        return -HV_EINVAL;
    port = array_index_nospec(port, HV_EVTCHN_PORTS);
    *out = (struct hv_evtchn_status){0};
    if (!g->evtchn)
        return 0;
    struct evtchn *ch = &g->evtchn[port];
    out->state = ch->state;
    out->vcpu = ch->vcpu;
    out->virq = ch->virq;
    out->remote_port = ch->peer_port;
    if (ch->peer)
        for (int i = 0; i < 31 && ch->peer->name[i]; i++)
            out->remote_name[i] = ch->peer->name[i];
    return 0;
}

void evtchn_guest_ended(struct guest *g)
{
    for (uint32_t i = 0; i < g->vcpu_count; i++)
        if (g->vcpus[i]->ev.virq_port[HV_VIRQ_CONSOLE] != NO_PORT)
            console_listeners--;
    if (!g->evtchn)
        return;
    for (unsigned p = 0; p < HV_EVTCHN_PORTS; p++) {
        struct evtchn *ch = &g->evtchn[p];
        if ((ch->state != HV_EVTCHN_INTERGUEST && ch->state != HV_EVTCHN_UNBOUND) ||
            ch->peer->end != GUEST_ALIVE)
            continue;
        struct guest *peer = ch->peer;
        if (ch->state == HV_EVTCHN_INTERGUEST) {
            disconnect_peer(ch);
            /* The peer learns through its notice VIRQ, on the vCPU that
             * owned the connection. */
            struct vcpu *pv = peer->vcpus[peer->evtchn[ch->peer_port].vcpu];
            evtchn_raise_virq(pv, HV_VIRQ_NOTICE);
        }
    }
}

void evtchn_guest_restarted(struct guest *g)
{
    /* Its peers: guests with a port set aside for it, or connected to it
     * when it ended (closed since). Each learns once, on the vCPU owning
     * the first such port. At most guests x HV_EVTCHN_PORTS entries read,
     * once per restart. */
    for (struct guest *o = guest_list(); o; o = o->next) {
        if (o == g || o->end != GUEST_ALIVE || !o->evtchn)
            continue;
        for (unsigned p = 0; p < HV_EVTCHN_PORTS; p++) {
            struct evtchn *ch = &o->evtchn[p];
            if (ch->peer == g && (ch->state == HV_EVTCHN_UNBOUND ||
                                  ch->state == HV_EVTCHN_CLOSED_PEER)) {
                evtchn_raise_virq(o->vcpus[ch->vcpu], HV_VIRQ_PEER_RESTARTED);
                break;
            }
        }
    }
}
