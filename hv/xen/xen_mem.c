/* A Xen guest's real mappings (hv/xen/xen_mem.h). Xen's builder maps a
 * guest's memory read-write-execute; hv never gives a frame both, so each
 * page holds one of the two at a time within the maximum protections its
 * leaf records (PTE_SW_MAY_*, hv/mm/guest_frames.h), and changes kind on
 * the fault the other use takes. The per-frame W^X counts stay the judge:
 * a frame mapped elsewhere with the other kind is not flipped. */
#include "hv/xen/xen_mem.h"

#include "hv/cpu/features.h"
#include "hv/cpu/x86.h"
#include "hv/guest/guest.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/xpti.h"
#include "include/hv/abi.h"
#include "hv/mm/mm.h"
#include "hv/xen/xen.h"
#include "hv/xen/xen_mmu.h"
#include "lib/nospec.h"
#include "vcpu/vcpu.h"

#define PAGE 4096ULL
#define PF_PRESENT (1u << 0)
#define PF_WRITE (1u << 1)
#define PF_FETCH (1u << 4)

static bool reflag(struct pt_space *s, uint64_t va, uint64_t pa, uint64_t old, uint64_t flags)
{
    guest_frame_drop_mapping(pa, old);
    if (guest_frame_add_mapping(pa, flags) != 0) {
        guest_frame_add_mapping(pa, old);
        return false;
    }
    if (pt_protect(s, va, PAGE, flags) != PT_OK) {
        guest_frame_drop_mapping(pa, flags);
        guest_frame_add_mapping(pa, old);
        return false;
    }
    if (space_loaded(s)) {
        space_tlb_changed();
        invlpg(va);
    }
    return true;
}

static bool make_writable(struct pt_space *s, uint64_t va)
{
    uint64_t pa, flags;
    if (!pt_lookup(s, va, &pa, &flags) || !(flags & PTE_U))
        return false;
    if (flags & PTE_W)
        return true;
    if (!(flags & PTE_SW_MAY_WRITE))
        return false;
    return reflag(s, va, pa, flags,
                  PTE_P | PTE_U | PTE_W | cpu_nx_mask() | (flags & PTE_SW_MAX));
}

bool xen_mem_flip_on_fault(struct vcpu *v, uint64_t error_code, uint64_t cr2)
{
    uint64_t va = cr2 & ~(PAGE - 1);
    if (!(error_code & PF_PRESENT) || va >= HV_GUEST_LOWER_HALF_END)
        return false;
    struct pt_space *s = &v->guest->space;
    if (error_code & PF_WRITE)
        return make_writable(s, va);
    uint64_t pa, flags;
    if (!(error_code & PF_FETCH) || !pt_lookup(s, va, &pa, &flags) || !(flags & PTE_U) ||
        !(flags & PTE_NX) || !(flags & PTE_SW_MAY_EXEC))
        return false;
    return reflag(s, va, pa, flags, PTE_P | PTE_U | PTE_SW_EXEC | (flags & PTE_SW_MAX));
}

bool xen_mem_writable(struct guest *g, uint64_t va, uint64_t n)
{
    if (n == 0)
        return true;
    for (uint64_t p = va & ~(PAGE - 1); p < va + n; p += PAGE)
        if (!make_writable(&g->space, p))
            return false;
    return true;
}

static uint64_t root_mfn(const struct xen_guest *x)
{
    return (x->layout.pt_base - x->layout.virt_base) / PAGE;
}

uint64_t xen_mem_root_mfn(const struct guest *g)
{
    return root_mfn(g->xen);
}

int64_t xen_mem_set_leaf(struct guest *g, uint64_t va, uint64_t val)
{
    struct xen_guest *x = g->xen;
    va &= ~(PAGE - 1);
    if (va >= XEN_MEM_VA_END)
        return -XEN_EINVAL;
    uint64_t nx = cpu_nx_mask(), pa = 0, leaf = 0;
    if (val & PTE_P) {
        uint64_t mfn = (val & PTE_ADDR_MASK) >> 12;
        bool writable = val & PTE_W, exec = !(val & PTE_NX);
        if (val & PTE_PS)
            return -XEN_EINVAL;
        if (mfn < x->nr_pages) {
            /* A page-table frame holds a counted executable pseudo-mapping
             * (hv/xen/xen_mmu.c), so W^X below refuses it writable. */
            pa = *xen_p2m_slot(x, mfn);
        } else if (mfn == XEN_MFN_SHARED_INFO || xen_grant_pa(x, mfn)) {
            pa = mfn == XEN_MFN_SHARED_INFO ? x->shared_info_pa : xen_grant_pa(x, mfn);
            exec = false;
        } else {
            return -XEN_EINVAL; /* not its frame: hv never names another */
        }
        uint64_t max = (writable ? PTE_SW_MAY_WRITE : 0) | (exec ? PTE_SW_MAY_EXEC : 0);
        leaf = PTE_P | PTE_U | nx | max | (writable ? PTE_W : 0);
    }
    struct pt_space *s = &g->space;
    uint64_t old_pa, old = 0;
    bool had = pt_lookup(s, va, &old_pa, &old) && (old & PTE_U);
    if (had)
        guest_frame_drop_mapping(old_pa, old);
    if (leaf && guest_frame_add_mapping(pa, leaf) != 0) {
        if (had)
            guest_frame_add_mapping(old_pa, old);
        return -XEN_EINVAL; /* executable elsewhere, or a page table: W^X */
    }
    if (leaf && !guest_frame_share(pa)) { /* its reference count is full */
        guest_frame_drop_mapping(pa, leaf); /* else teardown finds a mapping counted */
        if (had)
            guest_frame_add_mapping(old_pa, old);
        return -XEN_EINVAL;
    }
    if (had) {
        pt_unmap(s, va, PAGE);
        guest_frame_release(old_pa, &g->mem); /* never the last: hv's p2m holds one */
    }
    int64_t rc = 0;
    if (leaf && pt_map(s, va, pa, PAGE, leaf, 0) != PT_OK) {
        guest_frame_drop_mapping(pa, leaf);
        guest_frame_release(pa, &g->mem);
        rc = -XEN_ENOMEM; /* nothing mapped there now */
    }
    if (space_loaded(s)) {
        space_tlb_changed();
        invlpg(va);
    }
    x->flip_page = 1; /* no page: the last flip's record is of mappings now gone */
    return rc;
}
