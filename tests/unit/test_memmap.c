/* hv/mm/memmap.c: hand-written firmware maps and what normalizing them
 * must give (the randomized comparison against a page-by-page reference is
 * test_memmap_random.c; shared checks in memmap_fixture.h). */
#include "tests/unit/memmap_fixture.h"

static void test_kind_names(void)
{
    CHECK_STR_EQ(mem_kind_name(MEM_USABLE), "usable");
    CHECK_STR_EQ(mem_kind_name(MEM_RESERVED), "reserved");
    CHECK_STR_EQ(mem_kind_name(MEM_UNUSABLE), "unusable");
    CHECK_STR_EQ(mem_kind_name(MEM_ACPI_NVS), "acpi-nvs");
    CHECK_STR_EQ(mem_kind_name(0), "unknown");
    CHECK_STR_EQ(mem_kind_name(999), "unknown");
}

static void test_degenerate_arguments(void)
{
    struct mem_range r[2] = {R(0x1000, 0x1000, MEM_USABLE), R(0x5000, 0x1000, MEM_RESERVED)};
    CHECK_EQ_U64(memmap_normalize(NULL, 3, 8), 0);
    CHECK_EQ_U64(memmap_normalize(r, 0, 2), 0);
    /* cap below n is a caller bug: refused, r untouched */
    CHECK_EQ_U64(memmap_normalize(r, 2, 1), 0);
    CHECK_EQ_U64(r[0].base, 0x1000);
    CHECK_EQ_U64(r[1].kind, MEM_RESERVED);
    CHECK_EQ_U64(memmap_normalized_count(NULL, 4), 0);
}

static void test_sorted_input_is_kept(void)
{
    struct mem_range r[3] = {R(0x1000, 0x9f000, MEM_USABLE), R(0xa0000, 0x60000, MEM_RESERVED),
                             R(0x100000, 0x7ff00000, MEM_USABLE)};
    size_t n = memmap_normalize(r, 3, 3);
    CHECK_EQ_U64(n, 3);
    check_shape(r, n);
    CHECK_EQ_U64(r[0].base, 0x1000);
    CHECK_EQ_U64(r[0].size, 0x9f000);
    CHECK_EQ_U64(r[2].base, 0x100000);
    CHECK_EQ_U64(r[2].size, 0x7ff00000);
}

static void test_unsorted_input_is_sorted(void)
{
    struct mem_range r[4] = {R(0x300000, 0x1000, MEM_ACPI_NVS), R(0x100000, 0x1000, MEM_USABLE),
                             R(0x200000, 0x1000, MEM_MMIO), R(0x0, 0x1000, MEM_RESERVED)};
    size_t n = memmap_normalize(r, 4, 4);
    CHECK_EQ_U64(n, 4);
    check_shape(r, n);
    CHECK_EQ_U64(r[0].base, 0);
    CHECK_EQ_U64(r[1].base, 0x100000);
    CHECK_EQ_U64(r[2].base, 0x200000);
    CHECK_EQ_U64(r[2].kind, MEM_MMIO);
    CHECK_EQ_U64(r[3].base, 0x300000);
}

static void test_reserved_punches_hole_in_usable(void)
{
    struct mem_range r[4] = {R(0, 0x10000, MEM_USABLE), R(0x4000, 0x2000, MEM_RESERVED)};
    size_t n = memmap_normalize(r, 2, 4);
    CHECK_EQ_U64(n, 3);
    check_shape(r, n);
    CHECK_EQ_U64(r[0].base, 0);
    CHECK_EQ_U64(r[0].size, 0x4000);
    CHECK_EQ_U64(r[0].kind, MEM_USABLE);
    CHECK_EQ_U64(r[1].base, 0x4000);
    CHECK_EQ_U64(r[1].size, 0x2000);
    CHECK_EQ_U64(r[1].kind, MEM_RESERVED);
    CHECK_EQ_U64(r[2].base, 0x6000);
    CHECK_EQ_U64(r[2].size, 0xa000);
    CHECK_EQ_U64(r[2].kind, MEM_USABLE);
}

static void test_usable_listed_after_reserved_still_loses(void)
{
    struct mem_range r[2] = {R(0x4000, 0x2000, MEM_RESERVED), R(0x0, 0x8000, MEM_USABLE)};
    size_t n = memmap_normalize(r, 2, 2);
    /* The exact result needs 3 entries but only 2 fit: the smaller usable
     * piece goes, the reserved one never does. */
    CHECK_EQ_U64(n, 2);
    check_shape(r, n);
    CHECK_EQ_U64(kind_of_page(r, n, 4), MEM_RESERVED);
    CHECK_EQ_U64(kind_of_page(r, n, 5), MEM_RESERVED);
    CHECK_EQ_U64(kind_of_page(r, n, 6), 0);
    CHECK_EQ_U64(kind_of_page(r, n, 0), MEM_USABLE);
    CHECK_EQ_U64(kind_of_page(r, n, 3), MEM_USABLE);
}

static void test_unaligned_usable_shrinks_reserved_grows(void)
{
    struct mem_range r[3] = {R(0x1800, 0x3000, MEM_USABLE),    /* whole pages: only 0x2000..0x4000 */
                             R(0x10800, 0x100, MEM_RESERVED),  /* grows to 0x10000..0x11000 */
                             R(0x20001, 0x0ffe, MEM_USABLE)};  /* no whole page: dropped */
    size_t n = memmap_normalize(r, 3, 3);
    CHECK_EQ_U64(n, 2);
    check_shape(r, n);
    CHECK_EQ_U64(r[0].base, 0x2000);
    CHECK_EQ_U64(r[0].size, 0x2000);
    CHECK_EQ_U64(r[0].kind, MEM_USABLE);
    CHECK_EQ_U64(r[1].base, 0x10000);
    CHECK_EQ_U64(r[1].size, 0x1000);
    CHECK_EQ_U64(r[1].kind, MEM_RESERVED);
}

static void test_partly_reserved_page_is_not_usable(void)
{
    /* usable ends mid-page where an ACPI table starts: the shared page is ACPI */
    struct mem_range r[3] = {R(0x0, 0x5800, MEM_USABLE), R(0x5800, 0x1000, MEM_ACPI_RECLAIM)};
    size_t n = memmap_normalize(r, 2, 3);
    CHECK_EQ_U64(n, 2);
    check_shape(r, n);
    CHECK_EQ_U64(r[0].size, 0x5000);
    CHECK_EQ_U64(r[1].base, 0x5000);
    CHECK_EQ_U64(r[1].size, 0x2000);
    CHECK_EQ_U64(r[1].kind, MEM_ACPI_RECLAIM);
}

static void test_zero_size_entries_dropped(void)
{
    struct mem_range r[4] = {R(0x1000, 0, MEM_RESERVED), R(0x2000, 0x1000, MEM_USABLE),
                             R(0, 0, MEM_UNUSABLE), R(UINT64_MAX, 0, MEM_MMIO)};
    size_t n = memmap_normalize(r, 4, 4);
    CHECK_EQ_U64(n, 1);
    check_shape(r, n);
    CHECK_EQ_U64(r[0].base, 0x2000);
    CHECK_EQ_U64(r[0].kind, MEM_USABLE);
}

static void test_adjacent_same_kind_merged(void)
{
    struct mem_range r[5] = {R(0x3000, 0x1000, MEM_USABLE), R(0x1000, 0x1000, MEM_USABLE),
                             R(0x2000, 0x1000, MEM_USABLE), R(0x4000, 0x1000, MEM_RESERVED),
                             R(0x2800, 0x800, MEM_USABLE) /* inside another usable */};
    size_t n = memmap_normalize(r, 5, 5);
    CHECK_EQ_U64(n, 2);
    check_shape(r, n);
    CHECK_EQ_U64(r[0].base, 0x1000);
    CHECK_EQ_U64(r[0].size, 0x3000);
    CHECK_EQ_U64(r[1].kind, MEM_RESERVED);
}

static void test_unaligned_usable_pieces_that_touch_do_not_merge_into_a_page(void)
{
    /* Two usable halves of one page: neither claims the whole page alone. */
    struct mem_range r[2] = {R(0x1000, 0x800, MEM_USABLE), R(0x1800, 0x800, MEM_USABLE)};
    CHECK_EQ_U64(memmap_normalize(r, 2, 2), 0);
}

static void test_higher_non_usable_kind_wins(void)
{
    struct mem_range r[4] = {R(0x0, 0x10000, MEM_ACPI_NVS), R(0x2000, 0x2000, MEM_UNUSABLE),
                             R(0x3000, 0x4000, MEM_MMIO)};
    size_t n = memmap_normalize(r, 3, 4);
    CHECK_EQ_U64(n, 4);
    check_shape(r, n);
    CHECK_EQ_U64(kind_of_page(r, n, 1), MEM_ACPI_NVS);
    CHECK_EQ_U64(kind_of_page(r, n, 2), MEM_UNUSABLE);
    CHECK_EQ_U64(kind_of_page(r, n, 3), MEM_UNUSABLE);
    CHECK_EQ_U64(kind_of_page(r, n, 4), MEM_MMIO);
    CHECK_EQ_U64(kind_of_page(r, n, 6), MEM_MMIO);
    CHECK_EQ_U64(kind_of_page(r, n, 7), MEM_ACPI_NVS);
}

static void test_unknown_kind_is_reserved(void)
{
    struct mem_range r[3] = {R(0x0, 0x4000, MEM_USABLE), R(0x1000, 0x1000, 0),
                             R(0x2000, 0x1000, 77)};
    size_t n = memmap_normalize(r, 3, 3);
    CHECK_EQ_U64(n, 3);
    check_shape(r, n);
    CHECK_EQ_U64(r[1].base, 0x1000);
    CHECK_EQ_U64(r[1].size, 0x2000);
    CHECK_EQ_U64(r[1].kind, MEM_RESERVED);
}

static void test_wrapping_ranges_clipped_below_top_page(void)
{
    struct mem_range r[3] = {R(0xfffffffffff00000ULL, 0x200000, MEM_USABLE),
                             R(0xffffffff00000800ULL, UINT64_MAX, MEM_MMIO)};
    size_t n = memmap_normalize(r, 2, 3);
    /* MMIO covers everything up to the top page, hiding the usable range */
    CHECK_EQ_U64(n, 1);
    check_shape(r, n);
    CHECK_EQ_U64(r[0].base, 0xffffffff00000000ULL);
    CHECK_EQ_U64(r[0].kind, MEM_MMIO);
    CHECK_EQ_U64(r[0].base + r[0].size, TOP_PAGE_BASE);

    struct mem_range u[1] = {R(0xfffffffffff00800ULL, 0x200000, MEM_USABLE)};
    n = memmap_normalize(u, 1, 1);
    CHECK_EQ_U64(n, 1);
    check_shape(u, n);
    CHECK_EQ_U64(u[0].base, 0xfffffffffff01000ULL);
    CHECK_EQ_U64(u[0].base + u[0].size, TOP_PAGE_BASE);
}

static void test_whole_address_space(void)
{
    struct mem_range r[2] = {R(0, UINT64_MAX, MEM_RESERVED), R(0x100000, 0x100000, MEM_USABLE)};
    size_t n = memmap_normalize(r, 2, 2);
    CHECK_EQ_U64(n, 1);
    check_shape(r, n);
    CHECK_EQ_U64(r[0].base, 0);
    CHECK_EQ_U64(r[0].size, TOP_PAGE_BASE);
}

static void test_top_page_only_entries_vanish(void)
{
    struct mem_range r[3] = {R(TOP_PAGE_BASE, PG, MEM_RESERVED), R(UINT64_MAX, 1, MEM_MMIO),
                             R(TOP_PAGE_BASE - PG, 3 * PG, MEM_USABLE)};
    size_t n = memmap_normalize(r, 3, 3);
    CHECK_EQ_U64(n, 1);
    check_shape(r, n);
    CHECK_EQ_U64(r[0].base, TOP_PAGE_BASE - PG);
    CHECK_EQ_U64(r[0].size, PG);
}

static void test_usable_wrapping_from_zero_size_max(void)
{
    struct mem_range r[1] = {R(0x1, UINT64_MAX, MEM_USABLE)};
    size_t n = memmap_normalize(r, 1, 1);
    CHECK_EQ_U64(n, 1);
    check_shape(r, n);
    CHECK_EQ_U64(r[0].base, PG);
    CHECK_EQ_U64(r[0].size, TOP_PAGE_BASE - PG);
}

static void test_normalized_map_is_a_fixed_point(void)
{
    struct mem_range r[8] = {R(0x0, 0x100000, MEM_USABLE), R(0x9f000, 0x61000, MEM_RESERVED),
                             R(0xe0000, 0x2000, MEM_UNUSABLE), R(0x100000, 0x1000000, MEM_USABLE)};
    size_t n = memmap_normalize(r, 4, 8);
    CHECK_EQ_U64(n, 5);
    struct mem_range copy[8];
    memcpy(copy, r, sizeof(copy));
    size_t n2 = memmap_normalize(r, n, 8);
    CHECK_EQ_U64(n2, n);
    CHECK(memcmp(copy, r, n * sizeof(r[0])) == 0);
}

static void test_usable_bytes(void)
{
    struct mem_range r[3] = {R(0, 0x3000, MEM_USABLE), R(0x3000, 0x1000, MEM_RESERVED),
                             R(0x10000, 0x5000, MEM_USABLE)};
    CHECK_EQ_U64(memmap_usable_bytes(r, 3), 0x8000);
    CHECK_EQ_U64(memmap_usable_bytes(r, 0), 0);
    CHECK_EQ_U64(memmap_usable_bytes(NULL, 3), 0);
    struct mem_range big[2] = {R(0, UINT64_MAX, MEM_USABLE), R(0, 5, MEM_USABLE)};
    CHECK_EQ_U64(memmap_usable_bytes(big, 2), UINT64_MAX);
}

/* Reserved holes in one usable range, cap too small: only usable pieces go,
 * the smallest end piece each time, and nothing beyond cap is written. */
static void test_cap_exhaustion_drops_smallest_usable(void)
{
    struct mem_range r[12];
    for (size_t i = 0; i < 12; i++)
        r[i] = R(0xdead000, 0xbeef, 0xabad1dea);
    r[0] = R(0, 0x100000, MEM_USABLE);           /* pages 0..255 */
    r[1] = R(0xfa000, 0x1000, MEM_MMIO);         /* page 250 */
    r[2] = R(0x64000, 0x1000, MEM_RESERVED);     /* page 100 */
    r[3] = R(0x1000, 0x1000, MEM_RESERVED);      /* page 1 */
    /* exact: U[0] R[1] U[2,100) R[100] U[101,250) M[250] U[251,256) */
    CHECK_EQ_U64(memmap_normalized_count(r, 4), 7);
    size_t n = memmap_normalize(r, 4, 5);
    CHECK_EQ_U64(n, 5);
    check_shape(r, n);
    CHECK_EQ_U64(r[5].kind, 0xabad1dea);
    CHECK_EQ_U64(r[5].base, 0xdead000);
    CHECK_EQ_U64(kind_of_page(r, n, 1), MEM_RESERVED);
    CHECK_EQ_U64(kind_of_page(r, n, 100), MEM_RESERVED);
    CHECK_EQ_U64(kind_of_page(r, n, 250), MEM_MMIO);
    CHECK_EQ_U64(kind_of_page(r, n, 0), 0);   /* 1-page piece dropped */
    CHECK_EQ_U64(kind_of_page(r, n, 251), 0); /* then the 5-page one */
    CHECK_EQ_U64(kind_of_page(r, n, 255), 0);
    CHECK_EQ_U64(kind_of_page(r, n, 2), MEM_USABLE);
    CHECK_EQ_U64(kind_of_page(r, n, 99), MEM_USABLE);
    CHECK_EQ_U64(kind_of_page(r, n, 101), MEM_USABLE);
    CHECK_EQ_U64(kind_of_page(r, n, 249), MEM_USABLE);
    CHECK_EQ_U64(memmap_usable_bytes(r, n), (98 + 149) * PG);

    /* one slot more: only the 1-page piece goes */
    struct mem_range s[6] = {R(0, 0x100000, MEM_USABLE), R(0xfa000, 0x1000, MEM_MMIO),
                             R(0x64000, 0x1000, MEM_RESERVED), R(0x1000, 0x1000, MEM_RESERVED)};
    n = memmap_normalize(s, 4, 6);
    CHECK_EQ_U64(n, 6);
    check_shape(s, n);
    CHECK_EQ_U64(kind_of_page(s, n, 0), 0);
    CHECK_EQ_U64(kind_of_page(s, n, 251), MEM_USABLE);
}

/* Trimming the front of a usable range moves its base past other entries:
 * the next piece to drop must still be found correctly. */
static void test_cap_exhaustion_trimmed_range_moves(void)
{
    struct mem_range r[5] = {R(0x0, 0x40000, MEM_USABLE), R(0x1000, 0x4000, MEM_RESERVED),
                             R(0x3000, 0x4000, MEM_MMIO), R(0x30000, 0x1000, MEM_RESERVED)};
    /* exact: U[0] R[1,5) M[5,7) U[7,48) R[48] U[49,64) */
    CHECK_EQ_U64(memmap_normalized_count(r, 4), 6);
    size_t n = memmap_normalize(r, 4, 5);
    CHECK_EQ_U64(n, 5);
    check_shape(r, n);
    CHECK_EQ_U64(kind_of_page(r, n, 0), 0);
    CHECK_EQ_U64(kind_of_page(r, n, 1), MEM_RESERVED);
    CHECK_EQ_U64(kind_of_page(r, n, 4), MEM_RESERVED);
    CHECK_EQ_U64(kind_of_page(r, n, 5), MEM_MMIO);
    CHECK_EQ_U64(kind_of_page(r, n, 7), MEM_USABLE);
    CHECK_EQ_U64(kind_of_page(r, n, 47), MEM_USABLE);
    CHECK_EQ_U64(kind_of_page(r, n, 48), MEM_RESERVED);
    CHECK_EQ_U64(kind_of_page(r, n, 49), MEM_USABLE);
    CHECK_EQ_U64(kind_of_page(r, n, 63), MEM_USABLE);
}

static void test_cap_too_small_for_reserved_fails_untouched(void)
{
    /* An ACPI range with three separate MMIO holes: 7 non-usable runs. */
    struct mem_range r[6] = {R(0, 0x100000, MEM_ACPI_NVS), R(0x10000, 0x1000, MEM_MMIO),
                             R(0x20000, 0x1000, MEM_MMIO), R(0x30000, 0x1000, MEM_MMIO),
                             R(0x40000, 0x1000, MEM_USABLE), R(0x50000, 0x1000, MEM_USABLE)};
    struct mem_range copy[6];
    memcpy(copy, r, sizeof(r));
    CHECK_EQ_U64(memmap_normalized_count(r, 6), 7);
    CHECK_EQ_U64(memmap_normalize(r, 6, 6), 0);
    CHECK(memcmp(copy, r, sizeof(r)) == 0);
}

int main(void)
{
    check_suite = "memmap";
    RUN_TEST(test_kind_names);
    RUN_TEST(test_degenerate_arguments);
    RUN_TEST(test_sorted_input_is_kept);
    RUN_TEST(test_unsorted_input_is_sorted);
    RUN_TEST(test_reserved_punches_hole_in_usable);
    RUN_TEST(test_usable_listed_after_reserved_still_loses);
    RUN_TEST(test_unaligned_usable_shrinks_reserved_grows);
    RUN_TEST(test_partly_reserved_page_is_not_usable);
    RUN_TEST(test_zero_size_entries_dropped);
    RUN_TEST(test_adjacent_same_kind_merged);
    RUN_TEST(test_unaligned_usable_pieces_that_touch_do_not_merge_into_a_page);
    RUN_TEST(test_higher_non_usable_kind_wins);
    RUN_TEST(test_unknown_kind_is_reserved);
    RUN_TEST(test_wrapping_ranges_clipped_below_top_page);
    RUN_TEST(test_whole_address_space);
    RUN_TEST(test_top_page_only_entries_vanish);
    RUN_TEST(test_usable_wrapping_from_zero_size_max);
    RUN_TEST(test_normalized_map_is_a_fixed_point);
    RUN_TEST(test_usable_bytes);
    RUN_TEST(test_cap_exhaustion_drops_smallest_usable);
    RUN_TEST(test_cap_exhaustion_trimmed_range_moves);
    RUN_TEST(test_cap_too_small_for_reserved_fails_untouched);
    return check_finish();
}
