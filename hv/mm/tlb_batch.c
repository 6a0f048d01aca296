#include "hv/mm/tlb_batch.h"

#define PAGE 4096ULL

void tlb_batch_init(struct tlb_batch *b)
{
    b->va = 0;
    b->pages = 0;
    b->tables_freed = false;
    b->count = 0;
}

void tlb_batch_add_range(struct tlb_batch *b, uint64_t va, uint64_t pages)
{
    if (pages == 0)
        return;
    va &= ~(PAGE - 1);
    if (b->pages == 0) {
        b->va = va;
        b->pages = pages;
        return;
    }
    /* One span over both; page counts, so no end address can wrap. */
    uint64_t first = va < b->va ? va : b->va;
    uint64_t end_a = b->va / PAGE + b->pages, end_b = va / PAGE + pages;
    uint64_t end = end_a > end_b ? end_a : end_b;
    b->va = first;
    b->pages = end - first / PAGE;
}

bool tlb_batch_defer(struct tlb_batch *b, uint64_t pa, uint64_t flags, enum tlb_deferred_kind kind)
{
    if (b->count == TLB_BATCH_MAX)
        return false;
    b->items[b->count++] = (struct tlb_deferred){.pa = pa, .flags = flags, .kind = kind};
    if (kind == TLB_DEFER_TABLE)
        b->tables_freed = true;
    return true;
}

bool tlb_batch_nearly_full(const struct tlb_batch *b)
{
    return b->count >= TLB_BATCH_MAX - TLB_BATCH_SLACK;
}

bool tlb_batch_full_flush(const struct tlb_batch *b)
{
    return b->tables_freed || b->pages > TLB_BATCH_FLUSH_ALL_ABOVE;
}

bool tlb_batch_empty(const struct tlb_batch *b)
{
    return b->pages == 0 && b->count == 0;
}
