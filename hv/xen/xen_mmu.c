/* A Xen guest's page tables (hv/xen/xen_mmu.h). The guest believes it owns
 * page tables in its RAM; hv keeps its own real ones (g->space) and the
 * guest's tables are a view that only hv writes, after checks, so hv's
 * safety never depends on what the view says.
 *
 * Every frame of its RAM has a record (4 bytes, in frames charged to it):
 * the table level it is typed at (0: an ordinary page), whether it is
 * linked into the tree of its root (and then the virtual address its
 * entries start at), whether it is pinned. A typed frame holds one
 * pseudo-mapping counted as executable in hv's per-frame W^X counters
 * (hv/mm/guest_frames.h), so typing fails while the frame is mapped
 * writable anywhere, and no writable mapping of it can be made (or
 * flipped to) while it is a table: Xen's rule that page tables are mapped
 * read-only, kept by the counter that keeps W^X.
 *
 * Xen's semantics, restricted where a general tree would cost unbounded
 * work per call or a reverse map (docs/xen-personality.md, "What
 * differs"): a table is linked at one place at most; tables of levels 2-4
 * enter the tree empty and leave it empty; an L1 may enter or leave with
 * its entries (up to 512 leaves made or removed, which ends the entry's
 * piece of a batch). Upper-level entries' flags are the guest's view
 * only: hv's real leaves follow the L1 entries. */
#include "hv/xen/xen_mmu.h"

#include "hv/guest/guest.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "hv/xen/xen.h"
#include "hv/xen/xen_mem.h"
#include "lib/nospec.h"

#define PAGE 4096ULL
#define ENTRIES 512u
#define INFO_PER_FRAME (PAGE / 4)
#define INFO_LEVEL 7u
#define INFO_LINKED 8u
#define INFO_PINNED 16u
#define INFO_BASE_SHIFT 5 /* the linked table's first va >> 21, above the flags */
#define NONE (~0ULL)

_Static_assert((XEN_MEM_VA_END >> 21) < (1ULL << (32 - INFO_BASE_SHIFT)), "a base fits the record");
/* The directory frame: the record frames, then the grant-table frames. */
#define DIR_RECORDS (XEN_MAX_PAGES / INFO_PER_FRAME)
_Static_assert(DIR_RECORDS + XEN_GRANT_FRAMES <= ENTRIES, "one directory frame");

static int64_t xerr(int e)
{
    return -(int64_t)e;
}

static uint32_t *info_slot(const struct xen_guest *x, uint64_t pfn)
{
    pfn = array_index_nospec(pfn, x->nr_pages);
    uint64_t frame = ((uint64_t *)phys_to_virt(x->pt_info_dir))[pfn / INFO_PER_FRAME];
    return (uint32_t *)phys_to_virt(frame) + pfn % INFO_PER_FRAME;
}

uint64_t *xen_grant_slot(const struct xen_guest *x, unsigned i)
{
    return (uint64_t *)phys_to_virt(x->pt_info_dir) + DIR_RECORDS +
           array_index_nospec(i, (unsigned)XEN_GRANT_FRAMES);
}

uint64_t xen_grant_pa(const struct xen_guest *x, uint64_t mfn)
{
    if (mfn < XEN_MFN_GRANT || mfn - XEN_MFN_GRANT >= XEN_GRANT_FRAMES || !x->pt_info_dir)
        return 0;
    return *xen_grant_slot(x, (unsigned)(mfn - XEN_MFN_GRANT));
}

static uint64_t *table(const struct xen_guest *x, uint64_t pfn)
{
    return phys_to_virt(*xen_p2m_slot(x, pfn));
}

static unsigned level_of(uint32_t info)
{
    return info & INFO_LEVEL;
}

static uint64_t base_of(uint32_t info)
{
    return (uint64_t)(info >> INFO_BASE_SHIFT) << 21;
}

/* Bytes one entry of a table of `level` covers. */
static uint64_t entry_span(unsigned level)
{
    return 1ULL << (12 + 9 * (level - 1));
}

static bool type_frame(struct xen_guest *x, uint64_t pfn, uint32_t info)
{
    const struct xen_layout *l = &x->layout;
    if (pfn == (l->console - l->virt_base) / PAGE)
        return false; /* hv writes its console ring directly: never a table */
    if (guest_frame_add_mapping(*xen_p2m_slot(x, pfn), PTE_SW_EXEC) != 0)
        return false; /* mapped writable somewhere: not a table yet */
    *info_slot(x, pfn) = info;
    return true;
}

static void untype_frame(struct xen_guest *x, uint64_t pfn)
{
    guest_frame_drop_mapping(*xen_p2m_slot(x, pfn), PTE_SW_EXEC);
    *info_slot(x, pfn) = 0;
}

static bool table_empty(const struct xen_guest *x, uint64_t pfn)
{
    const uint64_t *t = table(x, pfn);
    for (unsigned i = 0; i < ENTRIES; i++)
        if (t[i] & PTE_P)
            return false;
    return true;
}

bool xen_mmu_init(struct guest *g)
{
    struct xen_guest *x = g->xen;
    const struct xen_layout *l = &x->layout;
    if (!(x->pt_info_dir = frame_get_charged(&g->mem)))
        return false;
    uint64_t *dir = phys_to_virt(x->pt_info_dir);
    for (uint64_t i = 0; i * INFO_PER_FRAME < x->nr_pages; i++)
        if (!(dir[i] = frame_get_charged(&g->mem)))
            return false;
    /* The initial tables (hv/xen/xen_layout.h): each linked where the
     * layout put it, and read-only already (the builder's leaves). */
    for (unsigned level = 1; level <= 4; level++) {
        uint64_t span = entry_span(level) * ENTRIES;
        for (uint64_t va = l->virt_base & ~(span - 1); va < l->v_end; va += span) {
            uint64_t pfn = (xen_layout_table_va(l, (int)level, va) - l->virt_base) / PAGE;
            uint32_t base = level == 4 ? 0 : (uint32_t)(va >> 21) << INFO_BASE_SHIFT;
            if (!type_frame(x, pfn, level | INFO_LINKED | base))
                return false;
            if (level == 4)
                break;
        }
    }
    return true;
}

void xen_mmu_forget_pfn(struct guest *g, uint64_t pfn)
{
    struct xen_guest *x = g->xen;
    uint64_t *dir = x->pt_info_dir ? phys_to_virt(x->pt_info_dir) : NULL;
    if (dir && dir[pfn / INFO_PER_FRAME] && level_of(*info_slot(x, pfn)))
        untype_frame(x, pfn);
}

void xen_mmu_free(struct guest *g)
{
    struct xen_guest *x = g->xen;
    if (!x->pt_info_dir)
        return;
    uint64_t *dir = phys_to_virt(x->pt_info_dir);
    for (unsigned i = 0; i < XEN_GRANT_FRAMES; i++)
        if (*xen_grant_slot(x, i))
            guest_frame_release(*xen_grant_slot(x, i), &g->mem); /* hv's reference */
    for (unsigned i = 0; i < DIR_RECORDS; i++)
        if (dir[i])
            frame_put_charged(&g->mem, dir[i]);
    frame_put_charged(&g->mem, x->pt_info_dir);
    x->pt_info_dir = 0;
}

/* An L1 entry the guest may write into a table that is not linked: what
 * xen_mem_set_leaf would take (it checks again when the table is linked:
 * a frame may have become a table meanwhile). */
static bool leaf_value_ok(const struct xen_guest *x, uint64_t val)
{
    if (!(val & PTE_P))
        return true;
    uint64_t mfn = (val & PTE_ADDR_MASK) >> 12;
    if (val & PTE_PS)
        return false;
    if (mfn < x->nr_pages)
        return !(val & PTE_W) || !level_of(*info_slot(x, mfn));
    return mfn == XEN_MFN_SHARED_INFO || xen_grant_pa(x, mfn);
}

/* Removes the real leaves of entries [0, n) of the linked L1 at pfn. */
static void l1_unmap(struct guest *g, uint64_t pfn, unsigned n)
{
    struct xen_guest *x = g->xen;
    const uint64_t *t = table(x, pfn);
    uint64_t base = base_of(*info_slot(x, pfn));
    for (unsigned i = 0; i < n; i++)
        if (t[i] & PTE_P)
            xen_mem_set_leaf(g, base + i * PAGE, 0); /* removing cannot fail */
}

/* Links table `child` (level clevel) where its entries start at base.
 * *heavy when it made leaves. Nothing changes on an error. */
static int64_t attach(struct guest *g, uint64_t child, unsigned clevel, uint64_t base, bool *heavy)
{
    struct xen_guest *x = g->xen;
    uint32_t info = *info_slot(x, child);
    if ((info & INFO_LINKED) || (level_of(info) && level_of(info) != clevel))
        return xerr(XEN_EINVAL); /* linked elsewhere (the root too), or another level */
    if (clevel >= 2 && !table_empty(x, child))
        return xerr(XEN_EINVAL); /* upper tables enter the tree empty */
    uint32_t linked = clevel | INFO_LINKED | (info & INFO_PINNED) |
                      (uint32_t)(base >> 21) << INFO_BASE_SHIFT;
    if (level_of(info))
        *info_slot(x, child) = linked;
    else if (!type_frame(x, child, linked))
        return xerr(XEN_EINVAL);
    if (clevel != 1)
        return 0;
    const uint64_t *t = table(x, child);
    for (unsigned i = 0; i < ENTRIES; i++) {
        if (!(t[i] & PTE_P))
            continue;
        *heavy = true;
        int64_t rc = xen_mem_set_leaf(g, base + i * PAGE, t[i]);
        if (rc) {
            l1_unmap(g, child, i);
            if (level_of(info))
                *info_slot(x, child) = info;
            else
                untype_frame(x, child);
            return rc == xerr(XEN_ENOMEM) ? rc : xerr(XEN_EINVAL);
        }
    }
    return 0;
}

/* Unlinks table `child` (level clevel): an upper one must be empty, an
 * L1's leaves go. hv's records are the judge: an entry naming a frame
 * that is not linked there (the view can only say so if hv wrote it
 * wrong) is cleared without touching any record or count. */
static int64_t detach(struct guest *g, uint64_t child, unsigned clevel, bool *heavy)
{
    struct xen_guest *x = g->xen;
    uint32_t info = *info_slot(x, child);
    if (level_of(info) != clevel || !(info & INFO_LINKED))
        return 0;
    if (level_of(info) >= 2 && !table_empty(x, child))
        return xerr(XEN_EBUSY); /* its entries first: bounded work per call */
    if (level_of(info) == 1) {
        *heavy = true;
        l1_unmap(g, child, ENTRIES);
    }
    if (info & INFO_PINNED)
        *info_slot(x, child) = (info & (INFO_LEVEL | INFO_PINNED));
    else
        untype_frame(x, child);
    return 0;
}

/* MMU_NORMAL_PT_UPDATE: the entry at machine address ptr (a table of the
 * guest's) becomes val. */
int64_t xen_mmu_pt_update(struct guest *g, uint64_t ptr, uint64_t val, bool *heavy)
{
    struct xen_guest *x = g->xen;
    uint64_t pfn = ptr >> 12;
    if (pfn >= x->nr_pages || (ptr & 7))
        return xerr(XEN_EINVAL);
    uint32_t info = *info_slot(x, pfn);
    unsigned level = level_of(info), idx = (ptr & (PAGE - 1)) / 8;
    if (!level)
        return xerr(XEN_EINVAL); /* not a page table */
    uint64_t *slot = table(x, pfn) + idx;
    bool linked = info & INFO_LINKED;
    uint64_t va = base_of(info) + idx * entry_span(level);
    if (level == 1) {
        if (!linked) {
            if (!leaf_value_ok(x, val))
                return xerr(XEN_EINVAL);
            *slot = val;
            return 0;
        }
        int64_t rc = xen_mem_set_leaf(g, va, val);
        if (rc == 0 || rc == xerr(XEN_ENOMEM))
            *slot = rc ? 0 : val; /* the view says what is real */
        return rc;
    }
    if (!linked || va >= XEN_MEM_VA_END)
        return xerr(XEN_EINVAL); /* tables are built in the live tree, in its part of the half */
    if ((val & PTE_P) && ((val & PTE_PS) || ((val & PTE_ADDR_MASK) >> 12) >= x->nr_pages))
        return xerr(XEN_EINVAL);
    uint64_t old = *slot;
    uint64_t was = (old & PTE_P) ? (old & PTE_ADDR_MASK) >> 12 : NONE;
    uint64_t now = (val & PTE_P) ? (val & PTE_ADDR_MASK) >> 12 : NONE;
    if (was != now) {
        if (now != NONE) { /* checked before the old one goes */
            uint32_t ci = *info_slot(x, now);
            if ((ci & INFO_LINKED) || (level_of(ci) && level_of(ci) != level - 1) ||
                (level >= 3 && !table_empty(x, now)))
                return xerr(XEN_EINVAL);
        }
        if (was != NONE) {
            int64_t rc = detach(g, was, level - 1, heavy);
            if (rc)
                return rc;
            *slot = 0;
        }
        if (now != NONE) {
            int64_t rc = attach(g, now, level - 1, va, heavy);
            if (rc)
                return rc;
        }
    }
    *slot = val;
    return 0;
}

/* MMUEXT_PIN_Ln_TABLE: the frame typed at that level and pinned (it
 * stays a table while unlinked): an L1's entries must be ones
 * xen_mem_set_leaf would take, an upper table must be empty. */
int64_t xen_mmu_pin(struct guest *g, unsigned level, uint64_t mfn)
{
    struct xen_guest *x = g->xen;
    if (mfn >= x->nr_pages)
        return xerr(XEN_EINVAL);
    uint32_t info = *info_slot(x, mfn);
    if (info & INFO_PINNED)
        return xerr(XEN_EINVAL); /* Xen: already pinned */
    if (level_of(info))
        return level_of(info) == level ? (*info_slot(x, mfn) = info | INFO_PINNED, 0)
                                       : xerr(XEN_EINVAL);
    const uint64_t *t = table(x, mfn);
    for (unsigned i = 0; i < ENTRIES; i++)
        if (level == 1 ? !leaf_value_ok(x, t[i]) : (t[i] & PTE_P) != 0)
            return xerr(XEN_EINVAL);
    return type_frame(x, mfn, level | INFO_PINNED) ? 0 : xerr(XEN_EINVAL);
}

int64_t xen_mmu_unpin(struct guest *g, uint64_t mfn)
{
    struct xen_guest *x = g->xen;
    if (mfn >= x->nr_pages || !(*info_slot(x, mfn) & INFO_PINNED))
        return xerr(XEN_EINVAL);
    if (*info_slot(x, mfn) & INFO_LINKED)
        *info_slot(x, mfn) &= ~INFO_PINNED; /* a table while it is linked */
    else
        untype_frame(x, mfn);
    return 0;
}

/* update_va_mapping: the L1 entry that maps va in the guest's tree (its
 * tables walked from the root: hv's records, not the guest's word). */
int64_t xen_update_va_mapping(struct guest *g, uint64_t va, uint64_t val)
{
    struct xen_guest *x = g->xen;
    va &= ~(PAGE - 1);
    if (va >= XEN_MEM_VA_END)
        return xerr(XEN_EINVAL);
    uint64_t pfn = xen_mem_root_mfn(g);
    for (unsigned level = 4; level > 1; level--) {
        uint64_t e = table(x, pfn)[(va >> (12 + 9 * (level - 1))) & 511];
        pfn = (e & PTE_ADDR_MASK) >> 12;
        if (!(e & PTE_P) || pfn >= x->nr_pages)
            return xerr(XEN_EINVAL); /* no L1 table of the guest's maps it */
        uint32_t info = *info_slot(x, pfn);
        if (level_of(info) != level - 1 || !(info & INFO_LINKED))
            return xerr(XEN_EINVAL);
    }
    int64_t rc = xen_mem_set_leaf(g, va, val);
    if (rc == 0 || rc == xerr(XEN_ENOMEM))
        table(x, pfn)[(va >> 12) & 511] = rc ? 0 : val;
    return rc;
}
