/* event_channel_op of a Xen PV guest (hv/xen/xen.h): its ports, 1 to
 * XEN_PORTS - 1 (port 0 is never a port, as in Xen; port 1 is the
 * console's, whose backend is hv). So far a port is only allocated and
 * closed: alloc_unbound gives one nobody will bind (no other domain
 * exists), so nothing is ever delivered on it; send on the console port
 * drains the console ring. The FIFO ABI is not offered: init_control
 * refuses a control frame outside its RAM as Xen does (-EINVAL) and any
 * other with -ENOSYS, which makes guests keep the 2-level ABI. */
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/xen/xen.h"
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

/* EVTCHNOP_alloc_unbound {dom u16, remote_dom u16, port u32 out}: the
 * lowest free port, or -ENOSPC with all taken. */
static int64_t alloc_unbound(struct vcpu *v, uint64_t arg)
{
    struct xen_guest *x = v->guest->xen;
    struct { uint16_t dom, remote_dom; uint32_t port; } a;
    if (!arg_in(v, &a, arg, sizeof(a)))
        return -XEN_EFAULT;
    if (a.dom != XEN_DOMID_SELF)
        return -XEN_EPERM;
    if (a.remote_dom != XEN_DOMID_SELF && a.remote_dom != 0)
        return -XEN_ESRCH; /* hv has no other domains */
    for (uint32_t w = 0; w < XEN_PORTS / 64; w++) {
        if (x->ports[w] == ~0ULL)
            continue;
        uint32_t bit = (uint32_t)__builtin_ctzll(~x->ports[w]);
        a.port = w * 64 + bit;
        if (!xen_mem_writable(v->guest, arg, sizeof(a)) ||
            copy_to_guest(v->guest, arg, &a, sizeof(a)) != 0)
            return -XEN_EFAULT;
        x->ports[w] |= 1ULL << bit;
        return 0;
    }
    return -XEN_ENOSPC;
}

int64_t xen_event_channel_op(struct vcpu *v, struct trap_frame *f)
{
    struct xen_guest *x = v->guest->xen;
    uint32_t port;
    uint64_t gfn;
    switch (f->rdi) {
    case XEN_EVTCHNOP_alloc_unbound:
        return alloc_unbound(v, f->rsi);
    case XEN_EVTCHNOP_close:
    case XEN_EVTCHNOP_send:
        if (!arg_in(v, &port, f->rsi, 4))
            return -XEN_EFAULT;
        if (port == XEN_CONSOLE_PORT && f->rdi == XEN_EVTCHNOP_send) {
            xen_console_drain(v->guest);
            return 0;
        }
        if (port <= XEN_CONSOLE_PORT || !port_used(x, port))
            return -XEN_EINVAL; /* 0 and the console's stay; a free port is not one */
        if (f->rdi == XEN_EVTCHNOP_send)
            return 0; /* unbound: nobody to notify, as Xen */
        port = array_index_nospec(port, XEN_PORTS);
        x->ports[port / 64] &= ~(1ULL << (port % 64));
        return 0;
    case XEN_EVTCHNOP_init_control: /* {control_gfn u64, offset u32, vcpu u32, ...} */
        if (!arg_in(v, &gfn, f->rsi, 8))
            return -XEN_EFAULT;
        return gfn >= x->nr_pages ? -XEN_EINVAL : -XEN_ENOSYS;
    default:
        return -XEN_ENOSYS;
    }
}
