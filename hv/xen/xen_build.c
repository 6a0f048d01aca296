/* The domain builder of a Xen PV guest (hv/xen/xen.h): Xen's start of day
 * (public xen.h, "Start-of-day memory layout"; hv/xen/xen_layout.h) built
 * in guest memory, with hv's own page tables beside the guest's view.
 *
 * The guest's RAM is its start-of-day region, pfn = va >> 12 (virt_base 0):
 * every pfn below nr_pages exists and is mapped at its own address, as
 * Xen's builder maps the bootstrap region. The page tables the guest sees
 * (at pt_base) are Xen-format entries naming those pfns; they are data in
 * the guest's memory, mapped read-only, and hv never takes its real
 * mappings from them. The real leaves keep hv's rules: a frame is never
 * writable and executable at once. The guest's view says RWX (Xen's
 * builder maps everything writable, and images are often one RWX
 * segment), so a page starts executable if an executable segment covers
 * it and writable otherwise, and flips the other way on the fault the
 * first other use takes (hv/xen/xen_trap.c). */
#include "hv/xen/xen.h"

#include "hv/cpu/features.h"
#include "hv/guest/guest.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "hv/time/time.h"
#include "hv/xen/xen_abi.h"
#include "hv/xen/xen_hcpage.h"
#include "hv/xen/xen_mmu.h"
#include "lib/elf64.h"
#include "lib/fmt.h"
#include "lib/nospec.h"
#include "lib/string.h"
#include "vcpu/vcpu.h"

#define PAGE 4096ULL

static bool refuse(char *why, size_t why_len, const char *what)
{
    fmt_format(why, why_len, "%s", what);
    return false;
}

static uint8_t *page_of(struct guest *g, uint64_t va)
{
    return guest_page_ptr(g, va);
}

static bool write_bytes(struct guest *g, uint64_t va, const void *src, uint64_t n)
{
    const uint8_t *s = src;
    while (n) {
        uint64_t chunk = PAGE - (va & (PAGE - 1));
        if (chunk > n)
            chunk = n;
        uint8_t *dst = page_of(g, va);
        if (!dst)
            return false;
        memcpy(dst, s, chunk);
        va += chunk;
        s += chunk;
        n -= chunk;
    }
    return true;
}

static bool write_u64(struct guest *g, uint64_t va, uint64_t value)
{
    return write_bytes(g, va, &value, 8);
}

/* The initial page tables as the guest sees them (hv/xen/xen_layout.h). */
static bool write_guest_tables(struct guest *g, const struct xen_layout *l)
{
    for (uint64_t va = l->virt_base; va < l->v_end; va += PAGE)
        for (int level = 1; level <= 4; level++) {
            unsigned shift = 12 + 9 * (level - 1);
            uint64_t slot = xen_layout_table_va(l, level, va) + ((va >> shift) & 511) * 8;
            if (!write_u64(g, slot, xen_layout_entry(l, level, va)))
                return false;
        }
    return true;
}

/* The real leaf of one page of the region, as the guest starts. */
static uint64_t initial_flags(const struct xen_image *img, const struct xen_layout *l, uint64_t va)
{
    uint64_t nx = cpu_nx_mask();
    if (va >= l->pt_base && va < l->pt_base + l->nr_pt_frames * PAGE)
        return PTE_P | PTE_U | nx; /* the guest's view of its tables: read-only for good */
    if (img->has_hypercall_page && va == img->hypercall_page)
        return PTE_P | PTE_U | PTE_SW_EXEC | PTE_SW_MAX;
    for (size_t i = 0; i < img->segment_count; i++) {
        const struct xen_image_segment *s = &img->segments[i];
        if ((s->flags & PF_X) && va + PAGE > s->vaddr && va < s->vaddr + s->memsz)
            return PTE_P | PTE_U | PTE_SW_EXEC | PTE_SW_MAX;
    }
    return PTE_P | PTE_U | PTE_W | nx | PTE_SW_MAX;
}

static bool set_flags(struct guest *g, uint64_t va, uint64_t flags)
{
    uint64_t pa, old;
    if (!pt_lookup(&g->space, va, &pa, &old))
        return false;
    if (old == flags)
        return true;
    guest_frame_drop_mapping(pa, old);
    if (guest_frame_add_mapping(pa, flags) != 0) {
        guest_frame_add_mapping(pa, old);
        return false;
    }
    return pt_protect(&g->space, va, PAGE, flags) == PT_OK;
}

static bool write_start_info(struct guest *g, const struct xen_guest *x)
{
    const struct xen_layout *l = &x->layout;
    struct xen_start_info si;
    memset(&si, 0, sizeof(si));
    memcpy(si.magic, XEN_START_INFO_MAGIC, sizeof(XEN_START_INFO_MAGIC));
    si.nr_pages = x->nr_pages;
    si.shared_info = XEN_MFN_SHARED_INFO << 12;
    si.flags = 0; /* neither privileged nor the initial domain */
    si.store_mfn = (l->store - l->virt_base) / PAGE;
    si.store_evtchn = 0; /* no xenstore */
    si.console_mfn = (l->console - l->virt_base) / PAGE;
    si.console_evtchn = XEN_CONSOLE_PORT;
    si.pt_base = l->pt_base;
    si.nr_pt_frames = l->nr_pt_frames;
    si.mfn_list = l->p2m;
    return write_bytes(g, l->start_info, &si, sizeof(si));
}

/* hv's own frames beside the guest's RAM: the Xen shared-info page (not
 * mapped until the guest maps it) and, for hv's core, the native shared
 * page its event and scheduler code write (kept private: a Xen guest
 * never sees hv's layout). Each held by hv's reference. */
static bool make_shared_pages(struct guest *g, struct xen_guest *x)
{
    x->shared_info_pa = guest_frame_new(&g->mem);
    uint64_t native = x->shared_info_pa ? guest_frame_new(&g->mem) : 0;
    if (!native)
        return false;
    struct xen_shared_info *si = phys_to_virt(x->shared_info_pa);
    for (unsigned i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
        si->vcpu_info[i].evtchn_upcall_mask = 1; /* events masked until the guest says */
    g->shared_pa = native;
    g->shared = phys_to_virt(native);
    time_fill_info(&g->shared->time);
    xen_time_refresh(g); /* vcpu_info[0].time and the wall clock in Xen's layout */
    return true;
}

/* hv's p2m array: the real frame of each pfn, each held by a reference
 * of hv's own, so a guest unmapping a pfn everywhere does not free it (it
 * is still its RAM, and may be mapped again). */
uint64_t *xen_p2m_slot(const struct xen_guest *x, uint64_t pfn)
{
    pfn = array_index_nospec(pfn, x->nr_pages);
    return (uint64_t *)phys_to_virt(x->p2m_dir[pfn / XEN_P2M_PER_FRAME]) + pfn % XEN_P2M_PER_FRAME;
}

static bool make_p2m(struct guest *g, struct xen_guest *x)
{
    for (uint64_t i = 0; i * XEN_P2M_PER_FRAME < x->nr_pages; i++)
        if (!(x->p2m_dir[i] = frame_get_charged(&g->mem)))
            return false;
    uint64_t region = (x->layout.v_end - x->layout.virt_base) / PAGE;
    for (uint64_t pfn = 0; pfn < x->nr_pages; pfn++) {
        uint64_t pa, flags;
        if (pfn >= region) { /* RAM past the region: unmapped until the guest maps it */
            if (!(*xen_p2m_slot(x, pfn) = guest_frame_new(&g->mem)))
                return false;
            continue;
        }
        if (!pt_lookup(&g->space, x->layout.virt_base + pfn * PAGE, &pa, &flags) ||
            !guest_frame_share(pa))
            return false;
        *xen_p2m_slot(x, pfn) = pa;
    }
    return true;
}

/* The machine-to-physical table Xen guests read at MACH2PHYS_VIRT_START
 * (xen-x86_64.h; PML4 slot 256, which hv keeps empty for it): m2p[mfn] =
 * pfn, the identity, for every frame of its RAM, ~0 after. Read-only,
 * never executable, in every root the guest runs on (the isolated one
 * too). Its tables and frames are charged to the guest. */
static bool make_m2p(struct guest *g, struct xen_guest *x)
{
    uint64_t pages = (x->nr_pages * 8 + PAGE - 1) / PAGE; /* <= 32: one L1 */
    uint64_t nx = cpu_nx_mask();
    x->m2p_l3 = frame_get_charged(&g->mem);
    x->m2p_l2 = x->m2p_l3 ? frame_get_charged(&g->mem) : 0;
    x->m2p_l1 = x->m2p_l2 ? frame_get_charged(&g->mem) : 0;
    if (!x->m2p_l1)
        return false;
    uint64_t *l1 = phys_to_virt(x->m2p_l1);
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t frame = frame_get_charged(&g->mem);
        if (!frame)
            return false;
        uint64_t *m2p = phys_to_virt(frame);
        for (uint64_t j = 0; j < PAGE / 8; j++) {
            uint64_t mfn = i * (PAGE / 8) + j;
            m2p[j] = mfn < x->nr_pages ? mfn : ~0ULL;
        }
        l1[i] = frame | PTE_P | PTE_U | nx;
    }
    ((uint64_t *)phys_to_virt(x->m2p_l2))[0] = x->m2p_l1 | PTE_P | PTE_U;
    ((uint64_t *)phys_to_virt(x->m2p_l3))[0] = x->m2p_l2 | PTE_P | PTE_U;
    unsigned slot = (XEN_MACH2PHYS_VIRT_START >> 39) & 511;
    ((uint64_t *)phys_to_virt(g->space.root_phys))[slot] = x->m2p_l3 | PTE_P | PTE_U;
    if (g->space.isolated_root_phys)
        ((uint64_t *)phys_to_virt(g->space.isolated_root_phys))[slot] = x->m2p_l3 | PTE_P | PTE_U;
    return true;
}

/* RAM past the start-of-day region (hv/xen/xen_layout.h,
 * xen_layout_ram_pages); the layout recomputed for it, as a bigger P2M
 * list may move the region's end: if the new count cannot hold that, the
 * region alone stays. */
static void grow_ram(struct guest *g, const struct xen_image *img, struct xen_guest *x)
{
    uint64_t n = xen_layout_ram_pages(x->nr_pages, g->memory_bytes / PAGE, XEN_MAX_PAGES);
    struct xen_layout grown;
    char why[8];
    if (n > x->nr_pages && xen_layout_compute(img->virt_base, img->kstart, img->kend, n,
                                              HV_GUEST_IMAGE_MAX, &grown, why, sizeof(why)) == 0) {
        x->nr_pages = n;
        x->layout = grown;
    }
}

bool xen_build(struct guest *g, const struct xen_image *img, const uint8_t *file, char *why,
               size_t why_len)
{
    uint64_t frame = frame_get_charged(&g->mem); /* zeroed */
    if (!frame)
        return refuse(why, why_len, "no memory for the Xen guest's bookkeeping");
    struct xen_guest *x = phys_to_virt(frame);
    g->xen = x;
    x->ports[0] = 1u << 0 | 1u << XEN_CONSOLE_PORT; /* never a port; the console's */
    xen_cpu_init(x);
    x->nr_pages = xen_layout_settle(img->virt_base, img->kstart, img->kend, HV_GUEST_IMAGE_MAX,
                                    &x->layout, why, why_len);
    if (!x->nr_pages)
        return false;
    grow_ram(g, img, x);
    if (x->nr_pages > XEN_MAX_PAGES) {
        fmt_format(why, why_len, "its start-of-day region needs %lu pages, hv builds at most %u",
                   (unsigned long)x->nr_pages, XEN_MAX_PAGES);
        x->nr_pages = 0;
        return false;
    }
    const struct xen_layout *l = &x->layout;
    if (l->virt_base != 0)
        return refuse(why, why_len, "XEN_ELFNOTE_VIRT_BASE is not 0: not supported");
    /* Its start-of-day region, zeroed, writable while hv fills it (the
     * RAM past it is made with the p2m, unmapped, as Xen's builder leaves it). */
    if (guest_map_zeroed(g, l->virt_base, l->v_end - l->virt_base,
                         PTE_W | cpu_nx_mask() | PTE_SW_MAX) != 0) {
        fmt_format(why, why_len, "its %lu KiB allowance cannot hold the %lu KiB start-of-day "
                   "region and tables", (unsigned long)(g->memory_bytes >> 10),
                   (unsigned long)(x->nr_pages * PAGE >> 10));
        return false;
    }
    for (size_t i = 0; i < img->segment_count; i++) {
        const struct xen_image_segment *s = &img->segments[i];
        if (!write_bytes(g, s->vaddr, file + s->offset, s->filesz))
            return refuse(why, why_len, "a segment could not be copied");
    }
    for (uint64_t pfn = 0; pfn < x->nr_pages; pfn++)
        if (!write_u64(g, l->p2m + pfn * 8, pfn)) /* P2M list: the identity */
            return refuse(why, why_len, "the P2M list could not be written");
    if (!write_start_info(g, x) || !write_guest_tables(g, l))
        return refuse(why, why_len, "start_info or the page tables could not be written");
    if (img->has_hypercall_page) {
        xen_hypercall_page_fill(page_of(g, img->hypercall_page));
        x->hypercall_page = img->hypercall_page;
    }
    for (uint64_t va = l->virt_base; va < l->v_end; va += PAGE)
        if (!set_flags(g, va, initial_flags(img, l, va)))
            return refuse(why, why_len, "the region's permissions could not be set");
    if (!make_shared_pages(g, x))
        return refuse(why, why_len, "no memory left for the shared-info page");
    if (!make_p2m(g, x) || !make_m2p(g, x) || !xen_mmu_init(g))
        return refuse(why, why_len, "no memory left for its P2M, M2P or page-table records");

    /* Registers as Xen's builder leaves them: rip the entry, rsp the boot
     * stack's top, rsi start_info, the rest 0; events masked. */
    struct vcpu *v = vcpu_create(g, 0, img->entry, l->rsp, 0);
    if (!v)
        return refuse(why, why_len, "no memory for its vCPU");
    v->arch.regs.rsp = l->rsp;
    v->arch.regs.rdi = 0;
    v->arch.regs.rsi = l->start_info;
    v->arch.xen = true;
    /* Not an address: "hv's core passes the upcalls of this vCPU on"
     * (sched_upcall_due asks for one); vcpu/deliver.c hands them to
     * xen_upcall, which enters Xen's event callback. */
    v->ev.upcall = 1;
    /* Xen's selectors from the first instruction, in both modes, whenever
     * it is switched in (vcpu_load) */
    v->arch.regs.cs = v->arch.mode_cs[0] = v->arch.mode_cs[1] = XEN_FLAT_RING3_CS64;
    v->arch.regs.ss = v->arch.mode_ss = XEN_FLAT_RING3_SS64;
    g->vcpus[0] = v;
    g->vcpu_count = 1;
    g->start_info_va = l->start_info;
    return true;
}

/* p2m references given back per reaping step: each can free a frame, so
 * a step stays a short interrupts-off stretch like the rest of reaping. */
#define FREE_STEP_PAGES 64

bool xen_guest_free(struct guest *g)
{
    struct xen_guest *x = g->xen;
    if (!x)
        return true;
    uint64_t end = x->free_next + FREE_STEP_PAGES;
    for (; x->free_next < x->nr_pages && x->free_next < end; x->free_next++)
        if (x->p2m_dir[x->free_next / XEN_P2M_PER_FRAME] && *xen_p2m_slot(x, x->free_next)) {
            xen_mmu_forget_pfn(g, x->free_next); /* a table's pseudo-mapping first */
            guest_frame_release(*xen_p2m_slot(x, x->free_next), &g->mem);
        }
    if (x->free_next < x->nr_pages)
        return false;
    xen_mmu_free(g);
    for (unsigned i = 0; i < XEN_MAX_PAGES / XEN_P2M_PER_FRAME; i++)
        if (x->p2m_dir[i])
            frame_put_charged(&g->mem, x->p2m_dir[i]);
    if (x->shared_info_pa)
        guest_frame_release(x->shared_info_pa, &g->mem); /* hv's own reference */
    if (x->m2p_l1) {
        uint64_t *l1 = phys_to_virt(x->m2p_l1);
        for (unsigned i = 0; i < PAGE / 8; i++)
            if (l1[i] & PTE_P)
                frame_put_charged(&g->mem, l1[i] & PTE_ADDR_MASK);
        frame_put_charged(&g->mem, x->m2p_l1);
    }
    if (x->m2p_l2)
        frame_put_charged(&g->mem, x->m2p_l2);
    if (x->m2p_l3)
        frame_put_charged(&g->mem, x->m2p_l3);
    g->xen = NULL;
    frame_put_charged(&g->mem, virt_to_phys(x));
    return true;
}
