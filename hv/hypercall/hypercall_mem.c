/* Memory operations: a guest changes its own address spaces, mapping only
 * memory that is its own (fresh pages from its allowance, or pages already
 * mapped in its kernel space), never hv's, never writable and executable,
 * never above a mapping's maximum protections.
 *
 * Every call does a bounded amount of work (hv runs them with interrupts
 * off): MEM_MAP and MEM_PROTECT handle one batch of pages, all or none,
 * after checking every limit for that batch; MEM_UNMAP visits a bounded
 * number of page-table entries and ends after the page it is on when an
 * interrupt waits (docs/abi.md). Each returns how many pages it dealt with,
 * and the guest calls again for the rest (the SDK does). */
#include "hv/hypercall/hypercall_table.h"

#include "hv/cpu/features.h"
#include "hv/cpu/spinlock.h"
#include "hv/cpu/lock_order.h"
#include "hv/cpu/tlb_shootdown.h"
#include "hv/cpu/x86.h"
#include "hv/debug/panic.h"
#include "hv/guest/guest.h"
#include "hv/mm/guest_frames.h"
#include "hv/mm/mm.h"
#include "hv/mm/tlb_batch.h"
#include "hv/mm/xpti.h"
#include "hv/time/lapic.h"
#include "vcpu/vcpu.h"

#define PAGE 4096ULL
#define TABLE_SPAN (512 * PAGE) /* what one last-level page table maps */

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

/* This CPU's flush of a change to s, under the guest's lock. */
static void flush(const struct pt_space *s, const struct tlb_batch *b)
{
    if (!space_loaded(s))
        return; /* loading it later flushes (hv/mm/xpti.c space_load) */
    space_tlb_changed(); /* the guest's view, when isolation keeps one */
    if (tlb_batch_full_flush(b)) {
        write_cr3(read_cr3()); /* paging-structure caches too */
        return;
    }
    for (uint64_t i = 0; i < b->pages; i++)
        invlpg(b->va + i * PAGE);
}

/* The other CPUs' side of a change (two vCPUs of one guest may run on two
 * CPUs): read under the guest's lock, after the tables changed, and acted
 * on once the lock is given back (hv/cpu/tlb_shootdown.h). */
struct remote_flush {
    cpu_mask_t targets;
    uint64_t root;
};

static void note_remote(struct remote_flush *r, const struct pt_space *s)
{
    r->targets = tlb_targets(s);
    r->root = s->root_phys;
}

/* Every CPU has flushed: what came out of the tables may be reused now.
 * A frame's W^X counts stay until then too, so no other mapping of it can
 * become executable while a stale writable translation may remain. */
static void release_deferred(struct guest *g, const struct tlb_batch *b)
{
    for (uint32_t i = 0; i < b->count; i++) {
        const struct tlb_deferred *d = &b->items[i];
        if (d->kind == TLB_DEFER_TABLE) {
            guest_free_table(g, d->pa);
        } else {
            guest_frame_drop_mapping(d->pa, d->flags);
            guest_frame_release(d->pa, &g->mem);
        }
    }
}

static void finish_remote(struct guest *g, const struct remote_flush *r, const struct tlb_batch *b)
{
    tlb_shootdown(r->targets, r->root, b->va, b->pages, tlb_batch_full_flush(b));
    release_deferred(g, b);
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
    uint64_t irq = spin_lock_irqsave_at(&g->mm_lock, LOCK_MM);
    int64_t rc = mem_map(g, f);
    spin_unlock_irqrestore_at(&g->mm_lock, LOCK_MM, irq);
    return rc;
}

/* The unmapping walk's callbacks: what it clears goes to the batch, not
 * back to the allocator; the walk stops early if the batch fills up. */
struct unmap_ctx {
    struct tlb_batch *b;
    struct pt_unmap_step *step;
};

static void defer(struct unmap_ctx *c, uint64_t pa, uint64_t flags, enum tlb_deferred_kind kind)
{
    if (!tlb_batch_defer(c->b, pa, flags, kind))
        panic("MEM_UNMAP: the deferred-free batch overflowed");
    if (tlb_batch_nearly_full(c->b))
        c->step->budget = 0; /* the walk stops at its next entry */
}

static void defer_leaf(void *arg, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags)
{
    struct unmap_ctx *c = arg;
    tlb_batch_add_range(c->b, va, size / PAGE);
    for (uint64_t off = 0; off < size; off += PAGE)
        defer(c, pa + off, flags, TLB_DEFER_FRAME);
}

static void defer_table(void *arg, uint64_t table_phys)
{
    defer(arg, table_phys, 0, TLB_DEFER_TABLE);
}

static int64_t mem_unmap(struct guest *g, struct trap_frame *f, struct tlb_batch *b,
                         struct remote_flush *remote)
{
    struct pt_space *s = guest_space(g, f->rdi);
    uint64_t va = f->rsi, pages = f->rdx, done = 0;
    if (!s || !range_ok(va, pages))
        return -HV_EINVAL;
    struct pt_unmap_step step = {.budget = HV_MEM_UNMAP_BUDGET,
                                 .leaf_cost = HV_MEM_UNMAP_PAGE_COST,
                                 .leaf = defer_leaf,
                                 .free_table = defer_table,
                                 .preempt = lapic_interrupt_waiting};
    struct unmap_ctx ctx = {.b = b, .step = &step};
    step.arg = &ctx;
    if (pt_unmap_bounded(s, va, pages * PAGE, &step, &done) != PT_OK)
        return -HV_ENOMEM; /* a large page to split: guests have none */
    flush(s, b);
    if (!tlb_batch_empty(b))
        note_remote(remote, s);
    return (int64_t)(done / PAGE);
}

/* A change of the guest's tables that other CPUs may hold translations
 * of (MEM_UNMAP, MEM_PROTECT): made and flushed on this CPU under the
 * guest's lock, then, with the lock given back, flushed on the other CPUs
 * and what came out of the tables freed (finish_remote). */
typedef int64_t (*mem_change_fn)(struct guest *g, struct trap_frame *f, struct tlb_batch *b,
                                 struct remote_flush *remote);

static int64_t mem_change_and_flush(struct vcpu *v, struct trap_frame *f, mem_change_fn change)
{
    struct guest *g = v->guest;
    struct tlb_batch b;
    struct remote_flush remote = {0};
    tlb_batch_init(&b);
    uint64_t irq = spin_lock_irqsave_at(&g->mm_lock, LOCK_MM);
    int64_t rc = change(g, f, &b, &remote);
    spin_unlock_irqrestore_at(&g->mm_lock, LOCK_MM, irq);
    finish_remote(g, &remote, &b);
    return rc;
}

/* (space, va, pages) -> pages of the range dealt with (mapped or not) */
int64_t hc_mem_unmap(struct vcpu *v, struct trap_frame *f)
{
    return mem_change_and_flush(v, f, mem_unmap);
}

static int64_t mem_protect(struct guest *g, struct trap_frame *f, struct tlb_batch *b,
                           struct remote_flush *remote)
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
    /* Every change is flushed everywhere, a raise too: a CPU keeping the
     * old, lower translation would bounce a fault the guest never caused. */
    tlb_batch_add_range(b, va, n);
    flush(s, b);
    note_remote(remote, s);
    return (int64_t)n;
}

/* (space, va, pages, prot) -> pages handled */
int64_t hc_mem_protect(struct vcpu *v, struct trap_frame *f)
{
    return mem_change_and_flush(v, f, mem_protect);
}
