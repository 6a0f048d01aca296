/* hv/mm/tlb_batch.c and hv/cpu/cpu_mask.h: the bookkeeping of a TLB
 * shootdown with a deferred free (which pages to flush, whether to flush
 * everything, which frames wait for the flush, when the unmapping walk must
 * stop) and the CPU sets it is sent to. */
#include "hv/cpu/cpu_mask.h"
#include "hv/mm/tlb_batch.h"

#include "tests/unit/check.h"

#define PAGE 4096ULL

static void test_empty_batch_flushes_nothing(void)
{
    struct tlb_batch b;
    tlb_batch_init(&b);
    CHECK(tlb_batch_empty(&b));
    CHECK(!tlb_batch_full_flush(&b));
    CHECK_EQ_U64(b.pages, 0);
    tlb_batch_add_range(&b, 0x5000, 0); /* nothing */
    CHECK(tlb_batch_empty(&b));
}

static void test_ranges_merge_into_one_span(void)
{
    struct tlb_batch b;
    tlb_batch_init(&b);
    tlb_batch_add_range(&b, 0x10000, 1);
    tlb_batch_add_range(&b, 0x12000, 2); /* leaves a hole at 0x11000: spanned too */
    CHECK_EQ_U64(b.va, 0x10000);
    CHECK_EQ_U64(b.pages, 4);
    tlb_batch_add_range(&b, 0xe000, 1); /* below */
    CHECK_EQ_U64(b.va, 0xe000);
    CHECK_EQ_U64(b.pages, 6);
    tlb_batch_add_range(&b, 0x10000, 1); /* inside: no change */
    CHECK_EQ_U64(b.pages, 6);
    tlb_batch_add_range(&b, 0x10123, 1); /* an unaligned address counts from its page */
    CHECK_EQ_U64(b.va, 0xe000);
    CHECK(!tlb_batch_full_flush(&b));
}

static void test_many_pages_or_freed_tables_flush_everything(void)
{
    struct tlb_batch b;
    tlb_batch_init(&b);
    tlb_batch_add_range(&b, 0, TLB_BATCH_FLUSH_ALL_ABOVE);
    CHECK(!tlb_batch_full_flush(&b));
    tlb_batch_add_range(&b, TLB_BATCH_FLUSH_ALL_ABOVE * PAGE, 1);
    CHECK(tlb_batch_full_flush(&b));

    tlb_batch_init(&b);
    tlb_batch_add_range(&b, 0x1000, 1);
    CHECK(tlb_batch_defer(&b, 0x200000, 0, TLB_DEFER_TABLE));
    CHECK(tlb_batch_full_flush(&b)); /* paging-structure caches hold the table */
}

static void test_top_of_the_lower_half_does_not_wrap(void)
{
    struct tlb_batch b;
    tlb_batch_init(&b);
    uint64_t top = 0x00007ffffffff000ULL;
    tlb_batch_add_range(&b, top, 1);
    tlb_batch_add_range(&b, 0, 1);
    CHECK_EQ_U64(b.va, 0);
    CHECK_EQ_U64(b.pages, top / PAGE + 1);
    CHECK(tlb_batch_full_flush(&b));
}

static void test_deferred_items_keep_order_and_flags(void)
{
    struct tlb_batch b;
    tlb_batch_init(&b);
    CHECK(tlb_batch_defer(&b, 0x3000, 0x7, TLB_DEFER_FRAME));
    CHECK(tlb_batch_defer(&b, 0x4000, 0x5, TLB_DEFER_FRAME));
    CHECK(!b.tables_freed); /* frames alone: invlpg is enough */
    CHECK(!tlb_batch_empty(&b));
    CHECK_EQ_U64(b.count, 2);
    CHECK_EQ_U64(b.items[0].pa, 0x3000);
    CHECK_EQ_U64(b.items[0].flags, 0x7);
    CHECK_EQ_U64(b.items[1].pa, 0x4000);
    CHECK_EQ_U64(b.items[1].kind, TLB_DEFER_FRAME);
}

/* The walk is told to stop with TLB_BATCH_SLACK slots left, which is
 * more than it can add after being told (a leaf and a table per level);
 * a full list refuses rather than overflows. */
static void test_bounded_list_warns_before_it_is_full(void)
{
    struct tlb_batch b;
    tlb_batch_init(&b);
    uint32_t added = 0;
    while (!tlb_batch_nearly_full(&b)) {
        CHECK(tlb_batch_defer(&b, (uint64_t)(added + 1) * PAGE, 0, TLB_DEFER_FRAME));
        added++;
    }
    CHECK_EQ_U64(added, TLB_BATCH_MAX - TLB_BATCH_SLACK);
    CHECK(TLB_BATCH_SLACK >= 5); /* one leaf + four levels of tables */
    while (b.count < TLB_BATCH_MAX)
        CHECK(tlb_batch_defer(&b, 0x1000, 0, TLB_DEFER_TABLE));
    CHECK(!tlb_batch_defer(&b, 0x1000, 0, TLB_DEFER_FRAME));
    CHECK_EQ_U64(b.count, TLB_BATCH_MAX);
}

static void test_cpu_masks(void)
{
    cpu_mask_t loaded = cpu_mask_of(0) | cpu_mask_of(2) | cpu_mask_of(63);
    CHECK_EQ_U64(cpu_mask_count(loaded), 3);
    cpu_mask_t others = cpu_mask_others(loaded, 2);
    CHECK_EQ_U64(others, cpu_mask_of(0) | cpu_mask_of(63));
    CHECK_EQ_U64(cpu_mask_others(loaded, 5), loaded); /* not in it: everyone */
    CHECK_EQ_U64(cpu_mask_of(64), 0);                 /* beyond the set: nobody */
    CHECK_EQ_U64(cpu_mask_others(cpu_mask_of(7), 7), 0);
    CHECK_EQ_U64(cpu_mask_pop(&others), 0);
    CHECK_EQ_U64(cpu_mask_pop(&others), 63);
    CHECK_EQ_U64(others, 0);
}

int main(void)
{
    check_suite = "tlb_batch";
    RUN_TEST(test_empty_batch_flushes_nothing);
    RUN_TEST(test_ranges_merge_into_one_span);
    RUN_TEST(test_many_pages_or_freed_tables_flush_everything);
    RUN_TEST(test_top_of_the_lower_half_does_not_wrap);
    RUN_TEST(test_deferred_items_keep_order_and_flags);
    RUN_TEST(test_bounded_list_warns_before_it_is_full);
    RUN_TEST(test_cpu_masks);
    return check_finish();
}
