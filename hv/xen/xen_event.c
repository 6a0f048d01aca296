/* event_channel_op of a Xen PV guest (hv/xen/xen.h): its ports, 1 to
 * XEN_PORTS - 1 (port 0 is never a port, as in Xen; port 1 is the
 * console's, whose backend is hv). alloc_unbound gives a port nobody will
 * bind (no other domain exists); bind_virq binds one to a VIRQ, of which
 * hv raises VIRQ_TIMER (set_timer_op; hv/xen/xen_upcall.c delivers);
 * send on the console port drains the console ring. The FIFO ABI is not offered: init_control
 * refuses a control frame outside its RAM as Xen does (-EINVAL) and any
 * other with -ENOSYS, which makes guests keep the 2-level ABI. */
#include "hv/event/evtchn.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/mm/mm.h"
#include "hv/sched/sched.h"
#include "hv/xen/xen.h"
#include "hv/xen/xen_2l.h"
#include "hv/xen/xen_console.h"
#include "hv/xen/xen_mem.h"
#include "lib/nospec.h"
#include "vcpu/vcpu.h"

static bool arg_in(struct vcpu *v, void *dst, uint64_t va, uint64_t n)
{
    return va < HV_GUEST_LOWER_HALF_END && n <= HV_GUEST_LOWER_HALF_END - va &&
           copy_from_guest(v->guest, dst, va, n) == 0;
}

static bool port_used(const struct xen_guest *x, uint32_t port)
{
    return port < XEN_PORTS &&
           (x->ports[array_index_nospec(port / 64, XEN_PORTS / 64)] >> (port % 64)) & 1;
}

/* The lowest free port, now used; -ENOSPC with all taken. */
static int64_t alloc_port(struct xen_guest *x)
{
    for (uint32_t w = 0; w < XEN_PORTS / 64; w++) {
        if (x->ports[w] == ~0ULL)
            continue;
        uint32_t bit = (uint32_t)__builtin_ctzll(~x->ports[w]);
        x->ports[w] |= 1ULL << bit;
        return w * 64 + bit;
    }
    return -XEN_ENOSPC;
}

static void free_port(struct xen_guest *x, uint32_t port)
{
    port = array_index_nospec(port, XEN_PORTS);
    x->ports[port / 64] &= ~(1ULL << (port % 64));
}

/* Writes the guest's struct a (n bytes at arg) back with `port` as its
 * u32 at offset out: 0, or -EFAULT (the port stays the guest's, as in
 * Xen: "cleaning up here would be a mess"). */
static int64_t write_port(struct vcpu *v, uint64_t arg, void *a, uint64_t n, uint64_t out,
                          uint32_t port)
{
    __builtin_memcpy((char *)a + out, &port, 4);
    if (!xen_mem_writable(v->guest, arg, n) || copy_to_guest(v->guest, arg, a, n) != 0)
        return -XEN_EFAULT;
    return 0;
}

/* EVTCHNOP_alloc_unbound {dom u16, remote_dom u16, port u32 out}. */
static int64_t alloc_unbound(struct vcpu *v, uint64_t arg)
{
    struct { uint16_t dom, remote_dom; uint32_t port; } a;
    if (!arg_in(v, &a, arg, sizeof(a)))
        return -XEN_EFAULT;
    if (a.dom != XEN_DOMID_SELF)
        return -XEN_EPERM;
    if (a.remote_dom != XEN_DOMID_SELF && a.remote_dom != 0)
        return -XEN_ESRCH; /* hv has no other domains */
    struct xen_guest *x = v->guest->xen;
    int64_t p = alloc_port(x);
    if (p < 0)
        return p;
    /* EVTCHNOP_status reports the remote domain: itself or dom0. */
    uint64_t bit = 1ULL << (p % 64);
    x->unbound_self[p / 64] = (x->unbound_self[p / 64] & ~bit) | (a.remote_dom ? bit : 0);
    return write_port(v, arg, &a, sizeof(a), 4, (uint32_t)p);
}

/* EVTCHNOP_bind_virq {virq u32, vcpu u32, port u32 out}: any of Xen's
 * VIRQs may be bound (one port each); hv raises VIRQ_TIMER (its timers,
 * hv/xen/xen_timer.c, start counting for the port). As Xen, a port whose
 * number cannot be written back stays bound (-EFAULT). */
static int64_t bind_virq(struct vcpu *v, uint64_t arg)
{
    struct xen_guest *x = v->guest->xen;
    struct { uint32_t virq, vcpu, port; } a;
    if (!arg_in(v, &a, arg, sizeof(a)))
        return -XEN_EFAULT;
    if (a.virq >= XEN_NR_VIRQS)
        return -XEN_EINVAL;
    if (a.vcpu != 0)
        return -XEN_ENOENT; /* one vCPU */
    uint32_t virq = array_index_nospec(a.virq, XEN_NR_VIRQS);
    if (x->virq_port[virq])
        return -XEN_EEXIST;
    int64_t p = alloc_port(x);
    if (p < 0)
        return p;
    x->virq_port[virq] = (uint8_t)p;
    if (virq == XEN_VIRQ_TIMER && !xen_timer_arm(v)) {
        x->virq_port[virq] = 0; /* hv's own port could not be had: nothing stays */
        free_port(x, (uint32_t)p);
        return -XEN_ENOMEM;
    }
    return write_port(v, arg, &a, sizeof(a), 8, (uint32_t)p);
}

/* EVTCHNOP_bind_ipi {vcpu u32, port u32 out}: a port its vCPU sends to
 * itself (one vCPU: vCPU 0); its number written back as bind_virq's. */
static int64_t bind_ipi(struct vcpu *v, uint64_t arg)
{
    struct xen_guest *x = v->guest->xen;
    struct { uint32_t vcpu, port; } a;
    if (!arg_in(v, &a, arg, sizeof(a)))
        return -XEN_EFAULT;
    if (a.vcpu != 0)
        return -XEN_ENOENT;
    int64_t p = alloc_port(x);
    if (p < 0)
        return p;
    x->ipi_ports[p / 64] |= 1ULL << (p % 64);
    return write_port(v, arg, &a, sizeof(a), 4, (uint32_t)p);
}

static bool is_ipi(const struct xen_guest *x, uint32_t port)
{
    return (x->ipi_ports[array_index_nospec(port / 64, XEN_PORTS / 64)] >> (port % 64)) & 1;
}

/* The VIRQ bound to port, XEN_NR_VIRQS if none. */
static unsigned virq_of(const struct xen_guest *x, uint32_t port)
{
    for (unsigned virq = 0; virq < XEN_NR_VIRQS; virq++)
        if (x->virq_port[virq] == port)
            return virq;
    return XEN_NR_VIRQS;
}

/* A closed port is free, its pending bit gone (as Xen's close), its
 * VIRQ unbound; the timer's: the Xen timers stop waking hv (a timer left
 * armed wakes a blocked vCPU no more than Xen's would, with nothing to
 * send on). */
static void close_port(struct vcpu *v, uint32_t port)
{
    struct guest *g = v->guest;
    struct xen_guest *x = g->xen;
    struct xen_shared_info *si = phys_to_virt(x->shared_info_pa);
    port = array_index_nospec(port, XEN_PORTS);
    free_port(x, port);
    x->ipi_ports[port / 64] &= ~(1ULL << (port % 64));
    __atomic_and_fetch(&si->evtchn_pending[port / 64], ~(1ULL << (port % 64)), __ATOMIC_SEQ_CST);
    unsigned virq = virq_of(x, port);
    if (virq < XEN_NR_VIRQS)
        x->virq_port[array_index_nospec(virq, XEN_NR_VIRQS)] = 0;
    if (virq == XEN_VIRQ_TIMER)
        xen_timer_arm(v); /* hv's port is bound already: cannot fail */
}

/* EVTCHNOP_status {dom u16, port u32; out: status u32, vcpu u32, u:
 * unbound.dom u16 / interdomain {dom u16, port u32} / virq u32}, Xen's
 * answers for its own ports: port 0 and free ports closed, the console's
 * interdomain with dom0 (hv is its backend; no remote port to name: 0),
 * a VIRQ's, an IPI's, an unbound one with the remote domain it was
 * allocated for; every bound port on vCPU 0. Another domain -ESRCH (hv
 * has none), a port past 255 -EINVAL. */
#define EVTCHNSTAT_closed 0
#define EVTCHNSTAT_unbound 1
#define EVTCHNSTAT_interdomain 2
#define EVTCHNSTAT_virq 4
#define EVTCHNSTAT_ipi 5
static int64_t status(struct vcpu *v, uint64_t arg)
{
    const struct xen_guest *x = v->guest->xen;
    struct { uint16_t dom; uint16_t pad; uint32_t port, status, vcpu, u0, u1; } a;
    _Static_assert(sizeof(a) == 24, "struct evtchn_status");
    if (!arg_in(v, &a, arg, sizeof(a)))
        return -XEN_EFAULT;
    if (a.dom != XEN_DOMID_SELF)
        return -XEN_ESRCH;
    if (a.port >= XEN_PORTS)
        return -XEN_EINVAL;
    uint32_t port = array_index_nospec(a.port, XEN_PORTS);
    unsigned virq = port ? virq_of(x, port) : XEN_NR_VIRQS;
    a.vcpu = 0;
    a.u0 = a.u1 = 0;
    if (port == 0 || !port_used(x, port)) {
        a.status = EVTCHNSTAT_closed;
    } else if (port == XEN_CONSOLE_PORT) {
        a.status = EVTCHNSTAT_interdomain; /* u.interdomain: dom 0, port 0 */
    } else if (virq < XEN_NR_VIRQS) {
        a.status = EVTCHNSTAT_virq;
        a.u0 = virq;
    } else if (is_ipi(x, port)) {
        a.status = EVTCHNSTAT_ipi;
    } else {
        a.status = EVTCHNSTAT_unbound;
        a.u0 = (x->unbound_self[port / 64] >> (port % 64)) & 1 ? XEN_DOMID_SELF : 0;
    }
    if (!xen_mem_writable(v->guest, arg, sizeof(a)) || copy_to_guest(v->guest, arg, &a, sizeof(a)) != 0)
        return -XEN_EFAULT;
    return 0;
}

int64_t xen_event_channel_op(struct vcpu *v, struct trap_frame *f, bool *again)
{
    struct xen_guest *x = v->guest->xen;
    struct xen_shared_info *si = phys_to_virt(x->shared_info_pa);
    uint32_t port;
    uint64_t gfn;
    switch (f->rdi) {
    case XEN_EVTCHNOP_alloc_unbound:
        return alloc_unbound(v, f->rsi);
    case XEN_EVTCHNOP_bind_virq:
        return bind_virq(v, f->rsi);
    case XEN_EVTCHNOP_bind_ipi:
        return bind_ipi(v, f->rsi);
    case XEN_EVTCHNOP_status:
        return status(v, f->rsi);
    case XEN_EVTCHNOP_unmask: /* Xen's 2-level unmask: a pending port notifies now */
        if (!arg_in(v, &port, f->rsi, 4))
            return -XEN_EFAULT;
        if (port == 0 || !port_used(x, port)) /* the console's is used */
            return -XEN_EINVAL;
        port = array_index_nospec(port, XEN_PORTS);
        __atomic_and_fetch(&si->evtchn_mask[port / 64], ~(1ULL << (port % 64)), __ATOMIC_SEQ_CST);
        xen_2l_notify(si, port);
        return 0;
    case XEN_EVTCHNOP_close:
    case XEN_EVTCHNOP_send:
        if (!arg_in(v, &port, f->rsi, 4))
            return -XEN_EFAULT;
        if (port == XEN_CONSOLE_PORT && f->rdi == XEN_EVTCHNOP_send) {
            /* Over its rate, the guest waits here until hv has taken the
             * whole ring, as console_io's writer does: a guest may spin on
             * out_cons without another hypercall (Unikraft's flush before
             * its shutdown), which only an empty ring ends. */
            if (xen_console_drain(v->guest)) {
                sched_yield();
                *again = true;
            }
            return 0;
        }
        if (port <= XEN_CONSOLE_PORT || !port_used(x, port))
            return -XEN_EINVAL; /* 0 and the console's stay; a free port is not one */
        if (f->rdi == XEN_EVTCHNOP_send && is_ipi(x, port)) {
            xen_2l_set_pending(si, port); /* to itself: entered on this call's return */
            return 0;
        }
        if (f->rdi == XEN_EVTCHNOP_send) /* unbound: dropped; a VIRQ's: -EINVAL, as Xen */
            return virq_of(x, port) < XEN_NR_VIRQS ? -XEN_EINVAL : 0;
        close_port(v, port);
        return 0;
    case XEN_EVTCHNOP_init_control: /* {control_gfn u64, offset u32, vcpu u32, ...} */
        if (!arg_in(v, &gfn, f->rsi, 8))
            return -XEN_EFAULT;
        return gfn >= x->nr_pages ? -XEN_EINVAL : -XEN_ENOSYS;
    default:
        return -XEN_ENOSYS;
    }
}
