/* multicall of a Xen PV guest (hv/xen/xen.h): entries {op, result,
 * args[6]} run in order through the one dispatch, a piece of
 * MULTICALL_PIECE per hv entry and then continued Xen's way (the list and
 * count registers advanced). An entry that wants continuing itself gets
 * its rewritten arguments stored back in the entry and the multicall
 * continues at it, as Xen does. A multicall in a multicall is -EINVAL (no
 * recursion); an iret ends the multicall there and takes effect (Xen's
 * answer to XSA-213: nothing after it runs in the context it left). */
#include "hv/cpu/trap.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/xen/xen.h"
#include "hv/xen/xen_mem.h"
#include "vcpu/vcpu.h"

#define MULTICALL_PIECE 8

int64_t xen_multicall(struct vcpu *v, struct trap_frame *f, bool *again)
{
    struct guest *g = v->guest;
    uint64_t list = f->rdi, n = f->rsi;
    for (unsigned i = 0; n && i < MULTICALL_PIECE; i++, list += sizeof(struct xen_multicall_entry), n--) {
        struct xen_multicall_entry e;
        if (list >= HV_GUEST_LOWER_HALF_END - sizeof(e) || copy_from_guest(g, &e, list, sizeof(e)) != 0)
            return -XEN_EFAULT;
        if (e.op == XEN_HC_iret) {
            xen_iret(v, f);
            return 0;
        }
        struct trap_frame sub = *f;
        sub.rax = e.op, sub.rdi = e.args[0], sub.rsi = e.args[1], sub.rdx = e.args[2];
        sub.r10 = e.args[3], sub.r8 = e.args[4];
        bool more = false;
        int64_t rc = e.op == XEN_HC_multicall ? -XEN_EINVAL : xen_dispatch(v, &sub, &more);
        if (g->end != GUEST_ALIVE)
            return 0; /* it shut down or crashed: nothing after runs */
        uint64_t args[5] = {sub.rdi, sub.rsi, sub.rdx, sub.r10, sub.r8};
        if (!xen_mem_writable(g, list + 8, 8 + sizeof(args)) ||
            (more ? copy_to_guest(g, list + 16, args, sizeof(args))
                  : copy_to_guest(g, list + 8, &rc, 8)) != 0)
            return -XEN_EFAULT;
        if (more)
            break; /* this entry again, from where it stopped */
    }
    if (n) {
        f->rdi = list;
        f->rsi = n;
        *again = true;
    }
    return 0;
}
