/* mmu_update and mmuext_op as hypercalls (hv/xen/xen_mmu.h): the guest's
 * request lists taken a bounded piece per entry into hv and continued
 * Xen's way, each request decoded and handed to the page-table model of
 * hv/xen/xen_mmu.c; and the mmuext commands that are not about tables
 * (base pointers, flushes, clearing and copying a page). */
#include "hv/xen/xen_mmu.h"

#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "hv/xen/xen.h"
#include "hv/xen/xen_mem.h"
#include "lib/string.h"
#include "vcpu/vcpu.h"

#define PAGE 4096ULL
/* xen.h: mmu_update's command in the request's ptr bits 0-1 */
#define XEN_MMU_NORMAL_PT_UPDATE 0
#define XEN_MMU_MACHPHYS_UPDATE 1
#define XEN_MMU_PT_UPDATE_PRESERVE_AD 2

static int64_t xerr(int e)
{
    return -(int64_t)e;
}

/* MMU_MACHPHYS_UPDATE: the M2P is hv's (the identity, read-only); an
 * update that keeps it is taken, any other refused. */
static int64_t machphys_update(const struct xen_guest *x, uint64_t ptr, uint64_t val)
{
    uint64_t mfn = ptr >> 12;
    return mfn < x->nr_pages && val == mfn ? 0 : xerr(XEN_EINVAL);
}

/* A batch of `size`-byte requests (mmu_update, mmuext_op): a piece of
 * PIECE per entry into hv, fewer when one made or removed many leaves;
 * the rest continued with Xen's preempted bit in count; pdone summed. */
#define PIECE 16
#define PREEMPTED (1u << 31)
typedef int64_t (*batch_op)(struct guest *g, const void *req, bool *heavy);

static bool range_ok(uint64_t va, uint64_t n)
{
    return va < HV_GUEST_LOWER_HALF_END && n <= HV_GUEST_LOWER_HALF_END - va;
}

static int64_t batch(struct vcpu *v, struct trap_frame *f, bool *again, uint64_t size, batch_op op)
{
    uint64_t reqs = f->rdi, count = (uint32_t)f->rsi & ~PREEMPTED;
    bool continued = f->rsi & PREEMPTED;
    if ((f->r10 & 0xffff) != XEN_DOMID_SELF)
        return xerr(XEN_ESRCH);
    if (f->rsi >> 32)
        return xerr(XEN_EINVAL);
    uint64_t n = count < PIECE ? count : PIECE, i = 0;
    int64_t rc = 0;
    bool heavy = false;
    while (i < n && !heavy) {
        uint64_t req[3];
        if (!range_ok(reqs + i * size, size) ||
            copy_from_guest(v->guest, req, reqs + i * size, size) != 0) {
            rc = xerr(XEN_EFAULT);
            break;
        }
        if ((rc = op(v->guest, req, &heavy)) != 0)
            break;
        i++;
    }
    if (f->rdx) { /* pdone: the requests done, over all the pieces */
        uint32_t done = 0;
        if (!range_ok(f->rdx, 4) || (continued && copy_from_guest(v->guest, &done, f->rdx, 4)) ||
            !xen_mem_writable(v->guest, f->rdx, 4))
            return xerr(XEN_EFAULT);
        done += (uint32_t)i;
        if (copy_to_guest(v->guest, f->rdx, &done, 4) != 0)
            return xerr(XEN_EFAULT);
    }
    if (rc == 0 && i < count) {
        f->rdi = reqs + i * size;
        f->rsi = (count - i) | PREEMPTED;
        *again = true;
    }
    return rc;
}

static int64_t mmu_op(struct guest *g, const void *p, bool *heavy)
{
    const struct xen_mmu_update *u = p;
    switch (u->ptr & 3) {
    case XEN_MMU_NORMAL_PT_UPDATE:
    case XEN_MMU_PT_UPDATE_PRESERVE_AD:
        return xen_mmu_pt_update(g, u->ptr & ~3ULL, u->val, heavy);
    case XEN_MMU_MACHPHYS_UPDATE:
        return machphys_update(g->xen, u->ptr & ~3ULL, u->val);
    default:
        return xerr(XEN_ENOSYS); /* MMU_PT_UPDATE_NO_TRANSLATE */
    }
}

int64_t xen_mmu_update(struct vcpu *v, struct trap_frame *f, bool *again)
{
    return batch(v, f, again, sizeof(struct xen_mmu_update), mmu_op);
}

/* MMUEXT_CLEAR_PAGE / COPY_PAGE: hv writes a frame of its RAM as the
 * guest could through a writable mapping, so only a frame that may have
 * one: a writable mapping counted for the copy's length refuses a page
 * table (its pseudo-mapping) and a frame executable anywhere (W^X). */
static int64_t clear_or_copy(struct guest *g, uint64_t dst, const uint64_t *src)
{
    struct xen_guest *x = g->xen;
    if (dst >= x->nr_pages || (src && *src >= x->nr_pages))
        return xerr(XEN_EINVAL);
    uint64_t pa = *xen_p2m_slot(x, dst);
    if (guest_frame_add_mapping(pa, PTE_W) != 0)
        return xerr(XEN_EINVAL);
    if (src)
        memcpy(phys_to_virt(pa), phys_to_virt(*xen_p2m_slot(x, *src)), PAGE);
    else
        memset(phys_to_virt(pa), 0, PAGE);
    guest_frame_drop_mapping(pa, PTE_W);
    return 0;
}

/* MMUEXT_SET_LDT: Xen's argument checks (a page-aligned address, at most
 * 8192 entries: -EINVAL), then no LDT (0 entries) is what every CPU holds
 * (hv/cpu/gdt.c loads a null LDT): 0; an LDT of entries is not offered
 * (docs/xen-personality.md): -EOPNOTSUPP, and LDT selectors stay
 * #GP(selector). */
static int64_t set_ldt(uint64_t linear_addr, uint64_t nr_ents)
{
    if ((linear_addr & (PAGE - 1)) || nr_ents > 8192)
        return xerr(XEN_EINVAL);
    return nr_ents == 0 ? 0 : xerr(XEN_EOPNOTSUPP);
}

static int64_t mmuext_one(struct guest *g, const void *p, bool *heavy)
{
    const struct xen_mmuext_op *op = p;
    (void)heavy;
    switch (op->cmd) {
    case 0: case 1: case 2: case 3: /* PIN_L1..L4_TABLE */
        return xen_mmu_pin(g, op->cmd + 1, op->arg1);
    case 4: /* UNPIN_TABLE */
        return xen_mmu_unpin(g, op->arg1);
    case 5: /* NEW_BASEPTR: one root (its initial L4) */
        return op->arg1 == xen_mem_root_mfn(g) ? 0 : xerr(XEN_EINVAL);
    case 15: /* NEW_USER_BASEPTR: the kernel's root (XTF's shared space), or 0: none */
        if (op->arg1 != 0 && op->arg1 != xen_mem_root_mfn(g))
            return xerr(XEN_EINVAL);
        g->xen->user_root = op->arg1 != 0;
        return 0;
    case 6: case 7: case 8: case 9: case 10: case 11:
        return 0; /* TLB flushes: hv flushed what it changed */
    case 13: /* SET_LDT: arg1 linear_addr, arg2 nr_ents */
        return set_ldt(op->arg1, op->arg2);
    case 16: /* CLEAR_PAGE */
        return clear_or_copy(g, op->arg1, NULL);
    case 17: /* COPY_PAGE: arg2 the source */
        return clear_or_copy(g, op->arg1, &op->arg2);
    default:
        return xerr(XEN_ENOSYS);
    }
}

int64_t xen_mmuext_op(struct vcpu *v, struct trap_frame *f, bool *again)
{
    return batch(v, f, again, sizeof(struct xen_mmuext_op), mmuext_one);
}
