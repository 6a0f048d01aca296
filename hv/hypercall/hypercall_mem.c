/* Memory operations: a guest changes its own address spaces, mapping only
 * memory that is its own (fresh pages from its allowance, or pages already
 * mapped in its kernel space), never hv's, never writable and executable. */
#include "hv/hypercall/hypercall_table.h"

#include "hv/cpu/features.h"
#include "hv/cpu/x86.h"
#include "hv/guest/guest.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "vcpu/vcpu.h"

#define PAGE 4096ULL
#define FLUSH_ALL_ABOVE 32 /* pages: past this a CR3 reload is cheaper */

static bool range_ok(uint64_t va, uint64_t pages)
{
    return va % PAGE == 0 && pages >= 1 && va < HV_GUEST_MAP_LIMIT &&
           pages <= (HV_GUEST_MAP_LIMIT - va) / PAGE;
}

static bool prot_flags(uint64_t prot, uint64_t *flags)
{
    if ((prot & ~(uint64_t)(HV_PROT_READ | HV_PROT_WRITE | HV_PROT_EXEC)) ||
        !(prot & HV_PROT_READ) || ((prot & HV_PROT_WRITE) && (prot & HV_PROT_EXEC)))
        return false;
    *flags = PTE_P | PTE_U | ((prot & HV_PROT_WRITE) ? PTE_W : 0) |
             ((prot & HV_PROT_EXEC) ? PTE_SW_EXEC : cpu_nx_mask());
    return true;
}

static void flush(const struct pt_space *s, uint64_t va, uint64_t pages)
{
    if (s->root_phys != read_cr3())
        return; /* loading it later flushes: hv uses no PCIDs */
    if (pages > FLUSH_ALL_ABOVE) {
        write_cr3(read_cr3());
        return;
    }
    for (uint64_t i = 0; i < pages; i++)
        invlpg(va + i * PAGE);
}

static bool mapped_flags(const struct pt_space *s, uint64_t va, uint64_t *pa, uint64_t *flags)
{
    return pt_lookup(s, va, pa, flags) && (*flags & PTE_U);
}

static bool mapped(const struct pt_space *s, uint64_t va, uint64_t *pa)
{
    uint64_t flags, dummy;
    return mapped_flags(s, va, pa ? pa : &dummy, &flags);
}

/* Drops the mappings of [va, va + pages) that exist, letting go of frames. */
static void unmap_pages(struct guest *g, struct pt_space *s, uint64_t va, uint64_t pages)
{
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t pa, flags;
        if (!mapped_flags(s, va + i * PAGE, &pa, &flags))
            continue;
        pt_unmap(s, va + i * PAGE, PAGE);
        guest_frame_count_mapping(pa, flags, -1);
        if (guest_frame_release(pa))
            g->pages_mapped--;
    }
    flush(s, va, pages);
}

/* (space, va, pages, src_va, prot) */
int64_t hc_mem_map(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    struct pt_space *s = guest_space(g, f->rdi);
    uint64_t va = f->rsi, pages = f->rdx, src = f->r10, flags;
    if (!s || !range_ok(va, pages) || !prot_flags(f->r8, &flags))
        return -HV_EINVAL;
    if (src && (src % PAGE || src >= HV_GUEST_LOWER_HALF_END ||
                pages > (HV_GUEST_LOWER_HALF_END - src) / PAGE))
        return -HV_EINVAL;
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t pa;
        if (src && !mapped(&g->space, src + i * PAGE, &pa))
            return -HV_EFAULT;
        /* W^X per frame: no writable alias of code, no executable alias of
         * data (hv/mm/guest_frames.h). */
        if (src && !guest_frame_may_map(pa, flags))
            return -HV_EPERM;
        if (mapped(s, va + i * PAGE, NULL))
            return -HV_EEXIST;
    }
    if (!src && pages > g->memory_bytes / PAGE - g->pages_mapped)
        return -HV_ENOMEM;

    for (uint64_t i = 0; i < pages; i++) {
        uint64_t pa = 0;
        bool ok;
        if (src)
            ok = mapped(&g->space, src + i * PAGE, &pa) && guest_frame_share(pa);
        else
            ok = (pa = guest_frame_new()) != 0;
        if (ok && pt_map(s, va + i * PAGE, pa, PAGE, flags, 0) != PT_OK) {
            guest_frame_release(pa);
            ok = false;
        }
        if (!ok) {
            unmap_pages(g, s, va, i);
            return -HV_ENOMEM;
        }
        guest_frame_count_mapping(pa, flags, +1);
        if (!src)
            g->pages_mapped++;
    }
    return 0;
}

/* (space, va, pages) */
int64_t hc_mem_unmap(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    struct pt_space *s = guest_space(g, f->rdi);
    if (!s || !range_ok(f->rsi, f->rdx))
        return -HV_EINVAL;
    unmap_pages(g, s, f->rsi, f->rdx);
    return 0;
}

/* (space, va, pages, prot) */
int64_t hc_mem_protect(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    struct pt_space *s = guest_space(g, f->rdi);
    uint64_t va = f->rsi, pages = f->rdx, flags;
    if (!s || !range_ok(va, pages) || !prot_flags(f->r10, &flags))
        return -HV_EINVAL;
    for (uint64_t i = 0; i < pages; i++)
        if (!mapped(s, va + i * PAGE, NULL))
            return -HV_ENOENT;
    /* Move each page's W^X count from its old permissions to the new ones;
     * on a refusal, put back what was moved. */
    for (uint64_t i = 0; i < pages; i++) {
        uint64_t pa, old;
        mapped_flags(s, va + i * PAGE, &pa, &old);
        guest_frame_count_mapping(pa, old, -1);
        if (!guest_frame_may_map(pa, flags)) {
            guest_frame_count_mapping(pa, old, +1);
            for (uint64_t j = 0; j < i; j++) {
                mapped_flags(s, va + j * PAGE, &pa, &old);
                guest_frame_count_mapping(pa, flags, -1);
                guest_frame_count_mapping(pa, old, +1);
            }
            return -HV_EPERM;
        }
        guest_frame_count_mapping(pa, flags, +1);
    }
    if (pt_protect(s, va, pages * PAGE, flags) != PT_OK)
        return -HV_ENOMEM; /* only a large page to split could fail; guests have none */
    flush(s, va, pages);
    return 0;
}
