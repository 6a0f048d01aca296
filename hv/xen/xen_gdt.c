/* A Xen guest's own GDT entries: set_gdt and update_descriptor, and
 * putting them in front of the CPU (docs/xen-personality.md).
 *
 * Every descriptor is checked (hv/xen/xen_desc.h) before a CPU can see
 * it, and what the CPU sees is hv's copy, never the guest's frame: the
 * guest's entries XEN_GDT_OWN_FIRST..XEN_GDT_OWN_END-1 (selectors
 * 0x40-0x7b) are copied, checked, into struct xen_guest, and from there
 * into page 0 of the GDT window of the CPU its vCPU is loaded on (the
 * page is per CPU, hv's own eight entries below them). Entries 0-7 are
 * hv's selectors and 16 and up are not installed (checked, recorded, a
 * selector there faults: not present).
 *
 * Each change takes a fresh version from one counter; a CPU records the
 * version its page holds, and vcpu_load copies only when the vCPU's
 * differs (hv's own vCPUs, and Xen vCPUs that never called set_gdt or
 * update_descriptor, have version 0, so a CPU that ran a Xen guest's
 * descriptors clears them before an hv guest runs, once). FS and GS
 * bases are vcpu_load's and vcpu_save's (vcpu/vcpu.c). */
#include "hv/xen/xen.h"

#include "hv/cpu/gdt.h"
#include "hv/guest/guest.h"
#include "hv/guest/uaccess.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "hv/xen/xen_desc.h"
#include "lib/nospec.h"
#include "lib/string.h"
#include "vcpu/vcpu.h"

#define PAGE 4096ULL
#define DESCS_PER_FRAME 512

_Static_assert(XEN_GDT_OWN_FIRST == GDT_ENTRIES && XEN_GDT_OWN_FIRST == XEN_DESC_FIRST_OWN,
               "a guest's installed entries start right above hv's");
_Static_assert(XEN_GDT_OWN_END * 8 <= 4096, "they are in the CPU's own page of its window");

static uint64_t versions; /* the last version handed out; 0 is "none" */

static int64_t xerr(int e)
{
    return -(int64_t)e;
}

static const volatile uint64_t *frame_descs(const struct xen_guest *x, uint64_t pfn)
{
    return phys_to_virt(*xen_p2m_slot(x, pfn));
}

/* A new version of the guest's installed entries, and this CPU given it
 * now (the hypercall returns to the guest without a vcpu_load). Never 0,
 * even with every entry empty: its saved selectors may still name one
 * (vcpu_load nulls them only for a vCPU with a version). */
/* A descriptor's 32-bit base (bits 16-39 and 56-63). */
static uint64_t desc_base(uint64_t d)
{
    return (d >> 16 & 0xffffff) | (d >> 56) << 24;
}

static void publish(struct vcpu *v)
{
    struct xen_guest *x = v->guest->xen;
    for (unsigned i = 0; i < XEN_GDT_OWN_COUNT; i++)
        if (desc_base(x->gdt_own[i]))
            x->selector_bases = true; /* for good: a base loaded before stays */
    v->arch.gdt_version = __atomic_add_fetch(&versions, 1, __ATOMIC_RELAXED);
    vcpu_load_descriptors(v);
}

/* set_gdt(frames, entries): Xen's limits (7168 entries, frames of its
 * RAM), every entry checked (a refused one -EINVAL, nothing changed);
 * the entries hv installs are copied as checked, from the same read. */
int64_t xen_set_gdt(struct vcpu *v, uint64_t list_va, uint64_t entries)
{
    struct xen_guest *x = v->guest->xen;
    if (entries > XEN_FIRST_RESERVED_GDT_PAGE * DESCS_PER_FRAME)
        return xerr(XEN_EINVAL);
    uint64_t frames = (entries + DESCS_PER_FRAME - 1) / DESCS_PER_FRAME;
    uint64_t list[XEN_FIRST_RESERVED_GDT_PAGE];
    if (frames && (list_va >= HV_GUEST_LOWER_HALF_END ||
                   frames * 8 > HV_GUEST_LOWER_HALF_END - list_va ||
                   copy_from_guest(v->guest, list, list_va, frames * 8) != 0))
        return xerr(XEN_EFAULT);
    for (uint64_t i = 0; i < frames; i++)
        if (list[i] >= x->nr_pages)
            return xerr(XEN_EINVAL);
    uint64_t own[XEN_GDT_OWN_COUNT] = {0};
    for (uint64_t i = 0; i < frames; i++) {
        const volatile uint64_t *descs = frame_descs(x, list[i]);
        uint64_t n = entries - i * DESCS_PER_FRAME;
        if (n > DESCS_PER_FRAME)
            n = DESCS_PER_FRAME;
        for (uint64_t j = 0; j < n; j++) {
            uint64_t d = descs[j]; /* read once: the guest may be changing it */
            if (!xen_desc_check(&d))
                return xerr(XEN_EINVAL);
            if (i == 0 && j >= XEN_GDT_OWN_FIRST && j < XEN_GDT_OWN_END)
                own[j - XEN_GDT_OWN_FIRST] = d;
        }
    }
    memcpy(x->gdt_frames, list, frames * 8);
    x->gdt_entries = (uint32_t)entries;
    memcpy(x->gdt_own, own, sizeof(own));
    publish(v);
    return 0;
}

/* update_descriptor(maddr, desc): one descriptor of a frame of its RAM,
 * checked, written there as the guest could through a writable mapping
 * (so never into a page table or a frame executable anywhere: -EINVAL,
 * as Xen refuses a frame that cannot take the writable type unless it is
 * a descriptor page); and installed if it is one of the entries hv
 * installs of its current table. */
int64_t xen_update_descriptor(struct vcpu *v, uint64_t maddr, uint64_t desc)
{
    struct xen_guest *x = v->guest->xen;
    uint64_t pfn = maddr >> 12;
    if ((maddr & 7) || pfn >= x->nr_pages || !xen_desc_check(&desc))
        return xerr(XEN_EINVAL);
    uint64_t pa = *xen_p2m_slot(x, pfn);
    if (guest_frame_add_mapping(pa, PTE_W) != 0)
        return xerr(XEN_EINVAL);
    uint64_t index = (maddr & (PAGE - 1)) / 8;
    ((volatile uint64_t *)phys_to_virt(pa))[index] = desc;
    guest_frame_drop_mapping(pa, PTE_W);
    if (x->gdt_entries && x->gdt_frames[0] == pfn && index < x->gdt_entries &&
        index >= XEN_GDT_OWN_FIRST && index < XEN_GDT_OWN_END) {
        x->gdt_own[array_index_nospec(index - XEN_GDT_OWN_FIRST, XEN_GDT_OWN_COUNT)] = desc;
        publish(v);
    }
    return 0;
}

/* vcpu_load's cold part: page 0 of this CPU's GDT window given v's
 * entries (or cleared for a vCPU without any), and v's saved data
 * selectors made loadable: one naming an entry that is not (changed since
 * it was loaded, or never installed) becomes null, as Xen's reload in its
 * context switch nulls one that faults. */
void xen_gdt_load(struct vcpu *v, uint64_t *gdt, uint64_t *cpu_version)
{
    const struct xen_guest *x = v->arch.gdt_version ? v->guest->xen : NULL;
    if (*cpu_version != v->arch.gdt_version) {
        for (unsigned i = 0; i < XEN_GDT_OWN_COUNT; i++)
            gdt[XEN_GDT_OWN_FIRST + i] = x ? x->gdt_own[i] : 0;
        *cpu_version = v->arch.gdt_version;
    }
    if (!x)
        return;
    uint16_t *sel[4] = {&v->arch.ds, &v->arch.es, &v->arch.fs, &v->arch.gs};
    for (unsigned i = 0; i < 4; i++) {
        unsigned index = *sel[i] >> 3;
        if (index < XEN_GDT_OWN_FIRST && !(*sel[i] & 4))
            continue; /* null or hv's own: always loadable (vcpu/vcpu.c) */
        if (index >= XEN_DESC_FIRST_RESERVED && !(*sel[i] & 4))
            continue; /* Xen's flat ones: present for good */
        bool ok = !(*sel[i] & 4) && index < XEN_GDT_OWN_END &&
                  xen_desc_loadable(
                      x->gdt_own[array_index_nospec(index - XEN_GDT_OWN_FIRST, XEN_GDT_OWN_COUNT)]);
        if (!ok)
            *sel[i] = 0;
    }
}

/* A far return at ring 3 to cs (vcpu/smap_quirk.c completes lretq for
 * QEMU's TCG): one of the guest's installed entries, 64-bit code, RPL 3.
 * v runs here, so this CPU's page holds its entries. */
bool xen_gdt_own_code(const struct vcpu *v, uint64_t cs)
{
    unsigned index = (unsigned)(cs >> 3);
    if (!v->arch.xen || !v->arch.gdt_version || cs > 0xffff || (cs & 7) != 3 ||
        index < XEN_GDT_OWN_FIRST || index >= XEN_GDT_OWN_END)
        return false;
    const struct xen_guest *x = v->guest->xen;
    return xen_desc_code64(x->gdt_own[array_index_nospec(index - XEN_GDT_OWN_FIRST, XEN_GDT_OWN_COUNT)]);
}
