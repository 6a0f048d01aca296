/* What one change of a guest's tables leaves for other CPUs: the pages
 * whose translations changed (for invlpg, or a full flush past a count or
 * when tables went), and the frames and page-table pages that came out of
 * the tables and must not be reused before every CPU that may cache them
 * has flushed (a deferred free: hv/cpu/tlb_shootdown.h sends the flushes,
 * the caller then gives these back). Pure bookkeeping, host-tested.
 *
 * Bounded: a MEM_UNMAP step clears at most HV_MEM_UNMAP_BUDGET /
 * HV_MEM_UNMAP_PAGE_COST (8) leaves and frees a few tables; the list
 * holds TLB_BATCH_MAX (room to spare since the budget was cut), and
 * tlb_batch_nearly_full tells the unmapping walk to stop early (it can
 * add at most TLB_BATCH_SLACK more once told). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define TLB_BATCH_MAX 64
#define TLB_BATCH_SLACK 8
/* Past this many pages a full flush costs less than one invlpg each. */
#define TLB_BATCH_FLUSH_ALL_ABOVE 32

enum tlb_deferred_kind { TLB_DEFER_FRAME, TLB_DEFER_TABLE };

struct tlb_deferred {
    uint64_t pa;
    uint64_t flags; /* a frame's leaf flags (its W^X counts are dropped at release) */
    enum tlb_deferred_kind kind;
};

struct tlb_batch {
    uint64_t va;          /* first page changed */
    uint64_t pages;       /* pages from va whose translation changed */
    bool tables_freed;    /* paging-structure caches must go too */
    uint32_t count;
    struct tlb_deferred items[TLB_BATCH_MAX];
};

void tlb_batch_init(struct tlb_batch *b);
/* The range [va, va + pages * 4 KiB) changed (merged into one span from
 * the lowest to the highest page). */
void tlb_batch_add_range(struct tlb_batch *b, uint64_t va, uint64_t pages);
/* Queues a frame (with its leaf flags) or a page-table page; false (and
 * nothing queued) when the list is full, which a caller that honours
 * tlb_batch_nearly_full never sees. */
bool tlb_batch_defer(struct tlb_batch *b, uint64_t pa, uint64_t flags, enum tlb_deferred_kind kind);
bool tlb_batch_nearly_full(const struct tlb_batch *b);
/* Whether the flush must drop everything (tables freed, or many pages)
 * rather than invlpg each page. */
bool tlb_batch_full_flush(const struct tlb_batch *b);
bool tlb_batch_empty(const struct tlb_batch *b);
