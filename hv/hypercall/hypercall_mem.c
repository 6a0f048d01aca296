/* Memory operations: a guest changes its own address spaces, mapping only
 * memory that is its own (fresh pages from its allowance, or pages already
 * mapped in its kernel space), never hv's, never writable and executable,
 * never above a mapping's maximum protections.
 *
 * Every call does a bounded amount of work (hv runs them with interrupts
 * off): MEM_MAP and MEM_PROTECT handle one batch of pages, all or none,
 * after checking every limit for that batch; MEM_UNMAP visits a bounded
 * number of page-table entries. Each returns how many pages it dealt with,
 * and the guest calls again for the rest (the SDK does). */
#include "hv/hypercall/hypercall_table.h"

#include "hv/cpu/features.h"
#include "hv/cpu/spinlock.h"
#include "hv/cpu/x86.h"
#include "hv/debug/panic.h"
#include "hv/guest/guest.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "hv/mm/xpti.h"
#include "vcpu/vcpu.h"

#define PAGE 4096ULL
#define TABLE_SPAN (512 * PAGE) /* what one last-level page table maps */
#define FLUSH_ALL_ABOVE 32      /* pages: past this a CR3 reload is cheaper */

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

/* Whether leaf flags stay within a mapping's maximum protections. */
static bool within_max(uint64_t flags, uint64_t max)
{
    return (!(flags & PTE_W) || (max & PTE_SW_MAY_WRITE)) &&
           (!(flags & PTE_SW_EXEC) || (max & PTE_SW_MAY_EXEC));
}

/* The pages one call handles from va: at most `limit`, and none past the
 * end of the last-level table covering va, so the batch needs at most the
 * tables on one path (pt_missing_tables). */
static uint64_t batch_of(uint64_t va, uint64_t pages, uint64_t limit)
{
    uint64_t to_table_end = (TABLE_SPAN - (va & (TABLE_SPAN - 1))) / PAGE;
    uint64_t n = pages < limit ? pages : limit;
    return n < to_table_end ? n : to_table_end;
}

static void flush(const struct pt_space *s, uint64_t va, uint64_t pages, bool tables_freed)
{
    if (!space_loaded(s))
        return; /* loading it later flushes (hv/mm/xpti.c space_load) */
    space_tlb_changed(); /* the guest's view, when isolation keeps one */
    if (tables_freed || pages > FLUSH_ALL_ABOVE) {
        write_cr3(read_cr3()); /* paging-structure caches too */
        return;
    }
    for (uint64_t i = 0; i < pages; i++)
        invlpg(va + i * PAGE);
}

static bool mapped_flags(const struct pt_space *s, uint64_t va, uint64_t *pa, uint64_t *flags)
{
    return pt_lookup(s, va, pa, flags) && (*flags & PTE_U);
}

static bool mapped(const struct pt_space *s, uint64_t va)
{
    uint64_t pa, flags;
    return mapped_flags(s, va, &pa, &flags);
}

/* Each call runs under the guest's mm_lock (two of its vCPUs on two CPUs
 * may call at once): from the handle's lookup to the last table change,
 * so a check and its effect see the same tables, counts and allowance. */

static int64_t mem_map(struct guest *g, struct trap_frame *f)
{
    struct pt_space *s = guest_space(g, f->rdi);
    uint64_t va = f->rsi, pages = f->rdx, src = f->r10, flags;
    if (!s || !range_ok(va, pages) || !prot_flags(f->r8, &flags))
        return -HV_EINVAL;
    if (src && (src % PAGE || src >= HV_GUEST_LOWER_HALF_END ||
                pages > (HV_GUEST_LOWER_HALF_END - src) / PAGE))
        return -HV_EINVAL;
    uint64_t left = guest_memory_left(g);
    if (!src && pages > left)
        return -HV_ENOMEM; /* can never succeed: refused without a walk */

    /* Check everything for this batch before changing anything. */
    uint64_t n = batch_of(va, pages, src ? HV_MEM_BATCH_PAGES : HV_MEM_FRESH_BATCH_PAGES);
    uint64_t pa[HV_MEM_BATCH_PAGES], leaf[HV_MEM_BATCH_PAGES];
    for (uint64_t i = 0; i < n; i++) {
        if (src) {
            uint64_t src_flags;
            if (!mapped_flags(&g->space, src + i * PAGE, &pa[i], &src_flags))
                return -HV_EFAULT;
            /* An alias keeps its source's maximum: it can lower, never raise. */
            if (!within_max(flags, src_flags))
                return -HV_EPERM;
            leaf[i] = flags | (src_flags & PTE_SW_MAX);
        } else {
            leaf[i] = flags | PTE_SW_MAX; /* fresh: the W^X frame rule decides */
        }
        if (mapped(s, va + i * PAGE))
            return -HV_EEXIST;
    }
    uint64_t need = (uint64_t)pt_missing_tables(s, va) + (src ? 0 : n);
    if (need > left)
        return -HV_ENOMEM;
    /* W^X and reference counts, one page at a time, so a frame that comes
     * twice in the batch is counted twice; undone on a refusal. */
    if (src) {
        for (uint64_t i = 0; i < n; i++) {
            int rc = guest_frame_add_mapping(pa[i], flags);
            if (rc == 0 && !guest_frame_share(pa[i])) {
                guest_frame_drop_mapping(pa[i], flags);
                rc = -HV_ENOMEM;
            }
            if (rc != 0) {
                while (i--) {
                    guest_frame_release(pa[i], &g->mem); /* never the last reference */
                    guest_frame_drop_mapping(pa[i], flags);
                }
                return rc;
            }
        }
    }

    /* Nothing below can fail: the allowance holds the frames and tables. */
    for (uint64_t i = 0; i < n; i++) {
        if (!src) {
            pa[i] = guest_frame_new(&g->mem);
            if (!pa[i] || guest_frame_add_mapping(pa[i], flags) != 0)
                panic("MEM_MAP: a checked fresh page could not be had");
        }
        if (pt_map(s, va + i * PAGE, pa[i], PAGE, leaf[i], 0) != PT_OK)
            panic("MEM_MAP: a checked mapping at 0x%lx failed", (unsigned long)(va + i * PAGE));
    }
    return (int64_t)n;
}

/* (space, va, pages, src_va, prot) -> pages handled */
int64_t hc_mem_map(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    uint64_t irq = spin_lock_irqsave(&g->mm_lock);
    int64_t rc = mem_map(g, f);
    spin_unlock_irqrestore(&g->mm_lock, irq);
    return rc;
}

static int64_t mem_unmap(struct guest *g, struct trap_frame *f)
{
    struct pt_space *s = guest_space(g, f->rdi);
    uint64_t va = f->rsi, pages = f->rdx, done = 0;
    if (!s || !range_ok(va, pages))
        return -HV_EINVAL;
    struct pt_unmap_step step = {.budget = HV_MEM_UNMAP_BUDGET,
                                 .leaf_cost = HV_MEM_UNMAP_PAGE_COST,
                                 .leaf = guest_unmap_leaf,
                                 .free_table = guest_free_table,
                                 .arg = g};
    if (pt_unmap_bounded(s, va, pages * PAGE, &step, &done) != PT_OK)
        return -HV_ENOMEM; /* a large page to split: guests have none */
    flush(s, va, done / PAGE, step.tables_freed != 0);
    return (int64_t)(done / PAGE);
}

/* (space, va, pages) -> pages of the range dealt with (mapped or not) */
int64_t hc_mem_unmap(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    uint64_t irq = spin_lock_irqsave(&g->mm_lock);
    int64_t rc = mem_unmap(g, f);
    spin_unlock_irqrestore(&g->mm_lock, irq);
    return rc;
}

static int64_t mem_protect(struct guest *g, struct trap_frame *f)
{
    struct pt_space *s = guest_space(g, f->rdi);
    uint64_t va = f->rsi, pages = f->rdx, flags;
    if (!s || !range_ok(va, pages) || !prot_flags(f->r10, &flags))
        return -HV_EINVAL;
    uint64_t n = batch_of(va, pages, HV_MEM_BATCH_PAGES);
    uint64_t pa[HV_MEM_BATCH_PAGES], old[HV_MEM_BATCH_PAGES];
    for (uint64_t i = 0; i < n; i++) {
        if (!mapped_flags(s, va + i * PAGE, &pa[i], &old[i]))
            return -HV_ENOENT;
        if (!within_max(flags, old[i]))
            return -HV_EPERM; /* above what this mapping may ever be */
    }
    /* Move each page's W^X count from its old permissions to the new ones;
     * on a refusal, put back what was moved, newest first (each step back
     * restores a state that held, so it cannot be refused). */
    for (uint64_t i = 0; i < n; i++) {
        guest_frame_drop_mapping(pa[i], old[i]);
        int rc = guest_frame_add_mapping(pa[i], flags);
        if (rc != 0) {
            guest_frame_add_mapping(pa[i], old[i]);
            while (i--) {
                guest_frame_drop_mapping(pa[i], flags);
                guest_frame_add_mapping(pa[i], old[i]);
            }
            return rc;
        }
    }
    for (uint64_t i = 0; i < n; i++)
        if (pt_set_leaf_flags(s, va + i * PAGE, flags | (old[i] & PTE_SW_MAX)) != PT_OK)
            panic("MEM_PROTECT: a checked page at 0x%lx failed", (unsigned long)(va + i * PAGE));
    flush(s, va, n, false);
    return (int64_t)n;
}

/* (space, va, pages, prot) -> pages handled */
int64_t hc_mem_protect(struct vcpu *v, struct trap_frame *f)
{
    struct guest *g = v->guest;
    uint64_t irq = spin_lock_irqsave(&g->mm_lock);
    int64_t rc = mem_protect(g, f);
    spin_unlock_irqrestore(&g->mm_lock, irq);
    return rc;
}
