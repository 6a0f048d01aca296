#include "hv/event/evtchn.h"

#include "hv/console/input.h"
#include "hv/cpu/spinlock.h"
#include "hv/cpu/lock_order.h"
#include "hv/debug/trace.h"
#include "hv/debug/stats.h"
#include "hv/event/bitmap.h"
#include "hv/guest/guest.h"
#include "hv/mm/mm.h"
#include "hv/sched/sched.h"
#include "lib/nospec.h"
#include "vcpu/vcpu.h"

#define TABLE_BYTES (HV_EVTCHN_PORTS * sizeof(struct evtchn))

/* Locking (docs/design.md, "Locking"): a guest's table is made, bound and
 * closed under its evtchn_lock; a change that touches two guests' tables
 * (a connection's bind, its close, an end) holds both, the lower guest id
 * first. Raising an event, SEND's lookup, UNMASK and the pending test take
 * none: they read an entry's fields once each (a closed entry reads as
 * zeroes: port 0 of vCPU 0, which is in range) and change only the shared
 * page's bits, atomically. */
/* Out of line: the bind and close paths are not timed, and each inline
 * lock costs ~30 bytes of hv.efi (hv_image_bytes). */
static __attribute__((noinline)) void lock_pair(struct guest *a, struct guest *b, uint64_t *irq)
{
    *irq = spin_irq_save();
    if (!b || b == a) {
        spin_lock_at(&a->evtchn_lock, LOCK_EVTCHN);
        return;
    }
    struct guest *first = a->id < b->id ? a : b;
    spin_lock_at(&first->evtchn_lock, LOCK_EVTCHN);
    spin_lock_at(&(first == a ? b : a)->evtchn_lock, LOCK_EVTCHN_SECOND);
}

static __attribute__((noinline)) void unlock_pair(struct guest *a, struct guest *b, uint64_t irq)
{
    if (b && b != a) {
        struct guest *second = a->id < b->id ? b : a;
        spin_unlock_at(&second->evtchn_lock, LOCK_EVTCHN_SECOND);
        spin_unlock_at(&(second == a ? b : a)->evtchn_lock, LOCK_EVTCHN);
    } else {
        spin_unlock_at(&a->evtchn_lock, LOCK_EVTCHN);
    }
    spin_irq_restore(irq);
}

/* Under g's lock. Published with a release store: a raiser that finds the
 * pointer finds a zeroed table. */
struct evtchn *evtchn_table(struct guest *g)
{
    if (!g->evtchn) {
        struct evtchn *t = kmalloc(TABLE_BYTES);
        __atomic_store_n(&g->evtchn, t, __ATOMIC_RELEASE);
    }
    return g->evtchn;
}

/* At the reaping: nothing of the guest binds any more (it ended), but a
 * raiser on another CPU may still hold the old pointer for the rest of its
 * hypercall: the reaper frees the table only after every CPU passed a
 * point where it holds none (docs/design.md, "Locking"). */
void evtchn_free_table(struct guest *g)
{
    uint64_t irq;
    lock_pair(g, NULL, &irq);
    struct evtchn *t = g->evtchn;
    __atomic_store_n(&g->evtchn, NULL, __ATOMIC_RELEASE);
    unlock_pair(g, NULL, irq);
    kfree(t, TABLE_BYTES);
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
static void notify(struct guest *g, const struct evtchn *ch, unsigned port)
{
    struct vcpu *v = g->vcpus[ch->vcpu];
    struct hv_vcpu_shared *vs = &g->shared->vcpu[ch->vcpu];
    word_test_and_set(&vs->pending_sel, port / 64);
    vs->upcall_pending = 1;
    sched_event_arrived(v, port, true);
}

/* The rest of a raise once its bts set port's pending bit: the vCPU the
 * entry names now is told (read after the bts: the entry may have been
 * closed and bound anew before it, and the bit is the new binding's). */
static inline __attribute__((always_inline)) void raised(struct guest *g,
                                                         const struct evtchn *t, unsigned port)
{
    struct hv_shared_info *sh = g->shared;
    unsigned id = __atomic_load_n(&t[port].vcpu, __ATOMIC_RELAXED);
    struct vcpu *v = g->vcpus[id];
    TRACE_VCPU(TR_EVTCHN_DELIVER, v, port, 0);
    stats_event_pending();
    /* Masked: no upcall, but a vCPU polling this very port wakes. */
    bool notified = !bitmap_test(&sh->evtchn_mask, port);
    if (notified) {
        struct hv_vcpu_shared *vs = &sh->vcpu[id];
        word_test_and_set(&vs->pending_sel, port / 64);
        vs->upcall_pending = 1;
    }
    sched_event_arrived(v, port, notified);
}

/* Marked as evtchn_send's send_self marks (bts and bt on the bitmaps): a
 * connection's send (the peer's port) comes here on every
 * event_cross_guest sample (make bench). */
bool evtchn_raise(struct guest *g, unsigned port)
{
    /* The table read once: the reaper may take it away (evtchn_free_table). */
    struct evtchn *t = __atomic_load_n(&g->evtchn, __ATOMIC_ACQUIRE);
    if (g->end != GUEST_ALIVE || !t || port >= HV_EVTCHN_PORTS)
        return false;
    port = (unsigned)array_index_nospec(port, HV_EVTCHN_PORTS);
    /* A free entry takes no event (a zeroed entry is free, its vCPU 0). */
    if (__atomic_load_n(&t[port].state, __ATOMIC_RELAXED) == HV_EVTCHN_FREE)
        return false;
    /* Already pending: the vCPU was told then (or is masked and will be
     * told on unmask). */
    if (bitmap_test_and_set(&g->shared->evtchn_pending, port))
        return true;
    raised(g, t, port);
    return true;
}

void evtchn_pended(struct guest *g, unsigned port)
{
    const struct evtchn *t = __atomic_load_n(&g->evtchn, __ATOMIC_ACQUIRE);
    if (t && port < HV_EVTCHN_PORTS)
        raised(g, t, (unsigned)array_index_nospec(port, HV_EVTCHN_PORTS));
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

/* Under g's lock. */
static int64_t alloc_port(struct guest *g)
{
    if (g->end != GUEST_ALIVE)
        return -HV_ESRCH; /* ended (its vCPUs may not have stopped yet): nothing new */
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
    struct evtchn *t = __atomic_load_n(&v->guest->evtchn, __ATOMIC_ACQUIRE);
    if (!t || *port >= HV_EVTCHN_PORTS)
        return NULL;
    *port = array_index_nospec(*port, HV_EVTCHN_PORTS);
    if (t[*port].state == HV_EVTCHN_FREE)
        return NULL;
    return &t[*port];
}

__attribute__((cold)) int64_t evtchn_bind_virq(struct vcpu *v, uint64_t virq)
{
    if (virq >= HV_VIRQ_COUNT)
        return -HV_EINVAL;
    virq = array_index_nospec(virq, HV_VIRQ_COUNT);
    struct guest *g = v->guest;
    uint64_t irq;
    lock_pair(g, NULL, &irq);
    int64_t p = -HV_EEXIST;
    if (v->ev.virq_port[virq] == NO_PORT)
        p = alloc_port(g);
    if (p >= 0) {
        g->evtchn[p] = (struct evtchn){.state = HV_EVTCHN_VIRQ, .virq = (uint8_t)virq,
                                       .vcpu = (uint8_t)v->id};
        v->ev.virq_port[virq] = (uint16_t)p;
        if (virq == HV_VIRQ_CONSOLE)
            __atomic_add_fetch(&console_listeners, 1, __ATOMIC_RELAXED); /* hv-wide */
    }
    unlock_pair(g, NULL, irq);
    return p;
}

__attribute__((cold)) int64_t evtchn_alloc_unbound(struct vcpu *v, struct guest *peer)
{
    struct guest *g = v->guest;
    uint64_t irq;
    lock_pair(g, NULL, &irq);
    int64_t p = alloc_port(g);
    if (p >= 0)
        g->evtchn[p] = (struct evtchn){.state = HV_EVTCHN_UNBOUND, .vcpu = (uint8_t)v->id,
                                       .peer = peer};
    unlock_pair(g, NULL, irq);
    return p;
}

/* Under both guests' locks. */
static int64_t bind_peer_locked(struct vcpu *v, struct guest *peer, uint64_t peer_port)
{
    struct guest *g = v->guest;
    if (!peer->evtchn || peer->end != GUEST_ALIVE)
        return -HV_EINVAL;
    struct evtchn *remote = &peer->evtchn[peer_port];
    /* Only a port the peer set aside for this very guest. */
    if (remote->state != HV_EVTCHN_UNBOUND || remote->peer != g)
        return -HV_EINVAL;
    int64_t p = alloc_port(g);
    if (p < 0)
        return p;
    g->evtchn[p] = (struct evtchn){.state = HV_EVTCHN_INTERGUEST, .vcpu = (uint8_t)v->id,
                                   .peer = peer, .peer_port = (uint16_t)peer_port};
    remote->peer_port = (uint16_t)p;
    __atomic_store_n(&remote->state, HV_EVTCHN_INTERGUEST, __ATOMIC_RELEASE);
    return p;
}

__attribute__((cold)) int64_t evtchn_bind_peer(struct vcpu *v, struct guest *peer, uint64_t peer_port)
{
    if (peer_port >= HV_EVTCHN_PORTS)
        return -HV_EINVAL;
    peer_port = array_index_nospec(peer_port, HV_EVTCHN_PORTS);
    uint64_t irq;
    lock_pair(v->guest, peer, &irq);
    int64_t p = bind_peer_locked(v, peer, peer_port);
    unlock_pair(v->guest, peer, irq);
    return p;
}

__attribute__((cold)) int64_t evtchn_bind_ipi(struct vcpu *v, uint64_t target)
{
    struct guest *g = v->guest;
    if (target >= g->vcpu_count)
        return -HV_EINVAL;
    /* Stored, then indexes vcpus[] and the shared vcpu[] on every event. */
    target = array_index_nospec(target, g->vcpu_count);
    uint64_t irq;
    lock_pair(g, NULL, &irq);
    int64_t p = alloc_port(g);
    if (p >= 0)
        g->evtchn[p] = (struct evtchn){.state = HV_EVTCHN_IPI, .vcpu = (uint8_t)target};
    unlock_pair(g, NULL, irq);
    return p;
}

/* Under both guests' locks. */
static void disconnect_peer(struct evtchn *ch)
{
    if (ch->state != HV_EVTCHN_INTERGUEST || !ch->peer->evtchn)
        return;
    struct evtchn *remote = &ch->peer->evtchn[ch->peer_port];
    if (remote->state == HV_EVTCHN_INTERGUEST)
        remote->state = HV_EVTCHN_CLOSED_PEER;
}

/* Under g's lock (and its peer's, for a connection). */
static void close_locked(struct guest *g, struct evtchn *ch, uint64_t port)
{
    disconnect_peer(ch);
    if (ch->state == HV_EVTCHN_VIRQ) {
        g->vcpus[ch->vcpu]->ev.virq_port[ch->virq] = NO_PORT;
        if (ch->virq == HV_VIRQ_CONSOLE)
            __atomic_sub_fetch(&console_listeners, 1, __ATOMIC_RELAXED);
    }
    *ch = (struct evtchn){0};
    __atomic_and_fetch(&g->shared->evtchn_pending[port / 64], ~bit((unsigned)port),
                       __ATOMIC_SEQ_CST);
}

/* Tries a few times to hold the port's guest and its peer: the peer is
 * read before the locks (their order depends on it) and checked again
 * under them. Only the guest's own vCPUs change the entry meanwhile. */
#define CLOSE_TRIES 4

__attribute__((cold)) int64_t evtchn_close(struct vcpu *v, uint64_t port)
{
    struct guest *g = v->guest;
    struct evtchn *ch = port_of(v, &port);
    if (!ch)
        return -HV_EINVAL;
    for (int i = 0; i < CLOSE_TRIES; i++) {
        struct guest *peer = __atomic_load_n(&ch->peer, __ATOMIC_RELAXED);
        uint64_t irq;
        lock_pair(g, peer, &irq);
        int64_t rc = -HV_EAGAIN;
        if (ch->peer == peer) {
            rc = -HV_EINVAL;
            if (ch->state != HV_EVTCHN_FREE && g->end == GUEST_ALIVE) {
                close_locked(g, ch, port);
                rc = 0;
            }
        }
        unlock_pair(g, peer, irq);
        if (rc != -HV_EAGAIN)
            return rc;
    }
    return -HV_EAGAIN; /* its other vCPUs rebind the port as fast as it closes it */
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
        notify(g, ch, (unsigned)port);
    return 0;
}

__attribute__((cold)) int64_t evtchn_status(struct vcpu *v, uint64_t port, struct hv_evtchn_status *out)
{
    struct guest *g = v->guest;
    if (port >= HV_EVTCHN_PORTS)
        return -HV_EINVAL;
    port = array_index_nospec(port, HV_EVTCHN_PORTS);
    *out = (struct hv_evtchn_status){0};
    uint64_t irq;
    lock_pair(g, NULL, &irq);
    if (g->evtchn) {
        struct evtchn *ch = &g->evtchn[port];
        out->state = ch->state;
        out->vcpu = ch->vcpu;
        out->virq = ch->virq;
        out->remote_port = ch->peer_port;
        if (ch->peer) /* names never change */
            for (int i = 0; i < 31 && ch->peer->name[i]; i++)
                out->remote_name[i] = ch->peer->name[i];
    }
    unlock_pair(g, NULL, irq);
    return 0;
}

/* One port of an ended guest, under both locks: the vCPU of the peer to
 * tell, or NULL. */
static struct vcpu *ended_port_locked(struct evtchn *ch, struct guest *peer)
{
    if (ch->state != HV_EVTCHN_INTERGUEST || ch->peer != peer || peer->end != GUEST_ALIVE ||
        !peer->evtchn)
        return NULL; /* a port set aside for it stays as it is */
    disconnect_peer(ch);
    /* The peer learns through its notice VIRQ, on the vCPU that owned the
     * connection. */
    return peer->vcpus[peer->evtchn[ch->peer_port].vcpu];
}

__attribute__((cold)) void evtchn_guest_ended(struct guest *g)
{
    /* Its end is set: no bind or close of its own comes after this. */
    uint64_t irq;
    lock_pair(g, NULL, &irq);
    for (uint32_t i = 0; i < g->vcpu_count; i++)
        if (g->vcpus[i]->ev.virq_port[HV_VIRQ_CONSOLE] != NO_PORT)
            __atomic_sub_fetch(&console_listeners, 1, __ATOMIC_RELAXED);
    struct evtchn *t = g->evtchn; /* stays until its reaping, which comes after this */
    unlock_pair(g, NULL, irq);
    if (!t)
        return;
    /* Port by port, each with its peer's lock too (bounded: one table). */
    for (unsigned p = 0; p < HV_EVTCHN_PORTS; p++) {
        struct evtchn *ch = &t[p];
        struct guest *peer = __atomic_load_n(&ch->peer, __ATOMIC_RELAXED);
        if (!peer || peer == g)
            continue;
        lock_pair(g, peer, &irq);
        struct vcpu *tell = ended_port_locked(ch, peer);
        unlock_pair(g, peer, irq);
        if (tell)
            evtchn_raise_virq(tell, HV_VIRQ_NOTICE);
    }
}

__attribute__((cold)) void evtchn_guest_restarted(struct guest *g)
{
    /* Its peers: guests with a port set aside for it, or connected to it
     * when it ended (closed since). Each learns once, on the vCPU owning
     * the first such port. At most guests x HV_EVTCHN_PORTS entries read,
     * once per restart, under each peer's lock in turn. */
    for (struct guest *o = guest_list(); o; o = o->next) {
        if (o == g || o->end != GUEST_ALIVE)
            continue;
        struct vcpu *tell = NULL;
        uint64_t irq;
        lock_pair(o, NULL, &irq);
        for (unsigned p = 0; o->evtchn && p < HV_EVTCHN_PORTS && !tell; p++) {
            struct evtchn *ch = &o->evtchn[p];
            if (ch->peer == g && (ch->state == HV_EVTCHN_UNBOUND ||
                                  ch->state == HV_EVTCHN_CLOSED_PEER))
                tell = o->vcpus[ch->vcpu];
        }
        unlock_pair(o, NULL, irq);
        if (tell)
            evtchn_raise_virq(tell, HV_VIRQ_PEER_RESTARTED);
    }
}
