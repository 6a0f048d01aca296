#include "hv/mm/frame_alloc.h"

#include "tests/unit/check.h"

#define PG 4096ULL
#define MIB (1ULL << 20)
#define FAKE_BYTES (16 * MIB) /* fake physical memory [0, 16 MiB) */
#define FAKE_PAGES (FAKE_BYTES / PG)
#define PATTERN 0xa5

static unsigned char *fake_mem;

static uintptr_t offset_for_fake(void)
{
    return (uintptr_t)fake_mem; /* physical 0 is the first byte of the buffer */
}

static struct mem_range R(uint64_t base, uint64_t size, uint32_t kind)
{
    struct mem_range e = {base, size, kind};
    return e;
}

/* usable low memory, legacy hole, 7 MiB usable, 1 MiB reserved, 7 MiB usable */
static const struct mem_range std_map[] = {
    {0x0, 0x9f000, MEM_USABLE},          {0x9f000, 0x61000, MEM_RESERVED},
    {0x100000, 0x700000, MEM_USABLE},    {0x800000, 0x100000, MEM_RESERVED},
    {0x900000, 0x700000, MEM_USABLE},
};
#define STD_N (sizeof(std_map) / sizeof(std_map[0]))

static void reset_fake(void)
{
    memset(fake_mem, PATTERN, FAKE_BYTES);
}

static bool in_usable(const struct mem_range *map, size_t n, uint64_t phys)
{
    for (size_t i = 0; i < n; i++)
        if (map[i].kind == MEM_USABLE && phys >= map[i].base && phys - map[i].base < map[i].size)
            return true;
    return false;
}

static bool in_bitmap(const struct frame_alloc *fa, uint64_t phys)
{
    return phys >= fa->bitmap_phys && phys - fa->bitmap_phys < fa->bitmap_pages * PG;
}

static bool untouched(uint64_t base, uint64_t size)
{
    for (uint64_t i = base; i < base + size; i++)
        if (fake_mem[i] != PATTERN)
            return false;
    return true;
}

static bool std_init(struct frame_alloc *fa)
{
    reset_fake();
    return frame_alloc_init(fa, std_map, STD_N, offset_for_fake(), MIB);
}

static void test_init_counts_and_places_bitmap(void)
{
    struct frame_alloc fa;
    CHECK(std_init(&fa));
    /* 14 MiB usable at or above 1 MiB, minus the bitmap pages */
    CHECK(fa.bitmap_pages >= 1);
    CHECK_EQ_U64(frame_alloc_total_pages(&fa), 14 * MIB / PG - fa.bitmap_pages);
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), frame_alloc_total_pages(&fa));
    CHECK(fa.bitmap_phys >= MIB);
    CHECK(in_usable(std_map, STD_N, fa.bitmap_phys));
    CHECK(in_usable(std_map, STD_N, fa.bitmap_phys + fa.bitmap_pages * PG - 1));
    CHECK((fa.bitmap_phys & (PG - 1)) == 0);
    /* the bitmaps live where the direct map says */
    CHECK((uintptr_t)fa.used_bits == (uintptr_t)fake_mem + fa.bitmap_phys);
}

/* Exhaustive: every page comes out exactly once, and only good pages. */
static void test_alloc_all_never_twice(void)
{
    struct frame_alloc fa;
    static unsigned char seen[FAKE_PAGES];
    memset(seen, 0, sizeof(seen));
    CHECK(std_init(&fa));
    uint64_t total = frame_alloc_total_pages(&fa), count = 0, phys;
    while ((phys = frame_alloc_page(&fa)) != 0) {
        CHECK((phys & (PG - 1)) == 0);
        CHECK(phys >= MIB);
        CHECK(phys < FAKE_BYTES);
        CHECK(in_usable(std_map, STD_N, phys));
        CHECK(!in_bitmap(&fa, phys));
        if (phys < FAKE_BYTES) {
            CHECK(seen[phys / PG] == 0);
            seen[phys / PG] = 1;
        }
        if (++count > total)
            break;
    }
    CHECK_EQ_U64(count, total);
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), 0);
    CHECK_EQ_U64(frame_alloc_page(&fa), 0);
    CHECK_EQ_U64(frame_alloc_contig(&fa, 1, 1), 0);
    /* plain allocation writes nothing, so non-usable memory and low memory
     * kept their pattern */
    CHECK(untouched(0, MIB));
    CHECK(untouched(0x800000, MIB));
}

static void test_page_zero_never_handed_out(void)
{
    struct frame_alloc fa;
    struct mem_range map[1] = {R(0, 64 * PG, MEM_USABLE)};
    reset_fake();
    CHECK(frame_alloc_init(&fa, map, 1, offset_for_fake(), 0));
    CHECK_EQ_U64(frame_alloc_total_pages(&fa), 63 - fa.bitmap_pages);
    uint64_t phys, count = 0;
    while ((phys = frame_alloc_page(&fa)) != 0 && count < 100)
        count++;
    CHECK_EQ_U64(count, 63 - fa.bitmap_pages);
    CHECK(!frame_free(&fa, 0, 1));
}

static void test_lowest_allowed_unaligned_rounds_up(void)
{
    struct frame_alloc fa;
    struct mem_range map[1] = {R(0, 64 * PG, MEM_USABLE)};
    reset_fake();
    CHECK(frame_alloc_init(&fa, map, 1, offset_for_fake(), 10 * PG + 1));
    CHECK_EQ_U64(frame_alloc_total_pages(&fa), 64 - 11 - fa.bitmap_pages);
    uint64_t phys;
    while ((phys = frame_alloc_page(&fa)) != 0)
        CHECK(phys >= 11 * PG);
}

static void test_reserve_keeps_pages_out(void)
{
    struct frame_alloc fa;
    CHECK(std_init(&fa));
    uint64_t before = frame_alloc_free_pages(&fa);
    /* unaligned: every page it touches is taken */
    CHECK(frame_alloc_reserve(&fa, 0x200800, 0x2000));
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), before - 3);
    CHECK(frame_alloc_reserve(&fa, 0x200000, 0x1000)); /* already in use: no change */
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), before - 3);
    /* non-owned pages (reserved memory, low memory, bitmap) are ignored */
    CHECK(frame_alloc_reserve(&fa, 0x800000, MIB));
    CHECK(frame_alloc_reserve(&fa, 0, MIB));
    CHECK(frame_alloc_reserve(&fa, fa.bitmap_phys, PG));
    CHECK(frame_alloc_reserve(&fa, 0x100000000ULL, MIB)); /* beyond the window */
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), before - 3);
    CHECK(!frame_alloc_reserve(&fa, UINT64_MAX - PG, 2 * PG)); /* wraps */
    CHECK(frame_alloc_reserve(&fa, 0x300000, 0));
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), before - 3);

    uint64_t phys;
    while ((phys = frame_alloc_page(&fa)) != 0)
        CHECK(phys < 0x200000 || phys >= 0x203000);
    /* reserved pages can be given back later */
    CHECK(frame_free(&fa, 0x201000, 1));
    CHECK_EQ_U64(frame_alloc_page(&fa), 0x201000);
}

static void test_free_and_realloc(void)
{
    struct frame_alloc fa;
    CHECK(std_init(&fa));
    uint64_t a = frame_alloc_page(&fa), b = frame_alloc_page(&fa);
    CHECK(a != 0 && b != 0 && a != b);
    uint64_t free_before = frame_alloc_free_pages(&fa);
    CHECK(frame_free(&fa, a, 1));
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), free_before + 1);
    /* drain: a must come back exactly once, b never */
    uint64_t phys, a_seen = 0;
    while ((phys = frame_alloc_page(&fa)) != 0) {
        CHECK(phys != b);
        a_seen += phys == a;
    }
    CHECK_EQ_U64(a_seen, 1);
}

static void test_double_free_refused(void)
{
    struct frame_alloc fa;
    CHECK(std_init(&fa));
    uint64_t a = frame_alloc_page(&fa);
    CHECK(frame_free(&fa, a, 1));
    uint64_t free_now = frame_alloc_free_pages(&fa);
    CHECK(!frame_free(&fa, a, 1));
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), free_now);

    /* a run that is only partly allocated is refused as a whole */
    uint64_t run = frame_alloc_contig(&fa, 4, 4);
    CHECK(run != 0);
    CHECK(frame_free(&fa, run + 2 * PG, 1));
    free_now = frame_alloc_free_pages(&fa);
    CHECK(!frame_free(&fa, run, 4));
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), free_now);
    CHECK(frame_free(&fa, run, 2));
    CHECK(frame_free(&fa, run + 3 * PG, 1));
}

static void test_bad_frees_refused(void)
{
    struct frame_alloc fa;
    CHECK(std_init(&fa));
    uint64_t a = frame_alloc_page(&fa);
    uint64_t free_now = frame_alloc_free_pages(&fa);
    CHECK(!frame_free(&fa, a + 8, 1));                /* unaligned */
    CHECK(!frame_free(&fa, a, 0));                    /* nothing */
    CHECK(!frame_free(&fa, 0x80000, 1));              /* below lowest_allowed */
    CHECK(!frame_free(&fa, 0x800000, 1));             /* reserved memory */
    CHECK(!frame_free(&fa, fa.bitmap_phys, 1));       /* the bitmap itself */
    CHECK(!frame_free(&fa, 0x40000000, 1));           /* beyond everything */
    CHECK(!frame_free(&fa, UINT64_MAX & ~(PG - 1), 1));
    CHECK(!frame_free(&fa, a, SIZE_MAX));             /* run runs off the end */
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), free_now);
    CHECK(frame_free(&fa, a, 1));
}

static void test_contig_aligned(void)
{
    struct frame_alloc fa;
    CHECK(std_init(&fa));
    uint64_t single = frame_alloc_page(&fa);
    uint64_t big = frame_alloc_contig(&fa, 512, 512);
    CHECK(big != 0);
    CHECK((big & (2 * MIB - 1)) == 0);
    CHECK(in_usable(std_map, STD_N, big) && in_usable(std_map, STD_N, big + 2 * MIB - 1));
    CHECK(!(single >= big && single < big + 2 * MIB));
    CHECK(!in_bitmap(&fa, big) && !in_bitmap(&fa, big + 2 * MIB - 1));
    uint64_t odd = frame_alloc_contig(&fa, 3, 0);
    CHECK(odd != 0);
    CHECK(!(odd + 3 * PG > big && odd < big + 2 * MIB));
    CHECK_EQ_U64(frame_alloc_contig(&fa, 4, 3), 0);     /* not a power of two */
    CHECK_EQ_U64(frame_alloc_contig(&fa, 0, 1), 0);
    /* no usable range holds 8 MiB: the reserved hole must not be bridged */
    CHECK_EQ_U64(frame_alloc_contig(&fa, 2048, 1), 0);
    CHECK_EQ_U64(frame_alloc_contig(&fa, 1, (size_t)1 << 45), 0);
    /* nothing in a contiguous run is handed out again */
    uint64_t phys;
    while ((phys = frame_alloc_page(&fa)) != 0) {
        CHECK(!(phys >= big && phys < big + 2 * MIB));
        CHECK(!(phys >= odd && phys < odd + 3 * PG));
    }
    CHECK(frame_free(&fa, big, 512));
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), 512);
    CHECK_EQ_U64(frame_alloc_contig(&fa, 512, 512), big);
}

static void test_contig_skips_fragmented_space(void)
{
    struct frame_alloc fa;
    struct mem_range map[1] = {R(0x100000, 0x100000, MEM_USABLE)};
    reset_fake();
    CHECK(frame_alloc_init(&fa, map, 1, offset_for_fake(), 0));
    /* take everything, then free every other page and one aligned quad */
    while (frame_alloc_page(&fa) != 0)
        ;
    for (uint64_t p = 0x120000; p < 0x140000; p += 2 * PG)
        CHECK(frame_free(&fa, p, 1));
    CHECK(frame_free(&fa, 0x1f0000, 4));
    CHECK_EQ_U64(frame_alloc_contig(&fa, 2, 1), 0x1f0000);
    CHECK_EQ_U64(frame_alloc_contig(&fa, 2, 2), 0x1f2000);
    CHECK_EQ_U64(frame_alloc_contig(&fa, 2, 1), 0);
    CHECK_EQ_U64(frame_alloc_contig(&fa, 1, 1), 0x120000);
    /* a run right after a fully used bitmap word (pages 0x140..0x17f) */
    CHECK(frame_free(&fa, 0x180000, 4));
    CHECK_EQ_U64(frame_alloc_contig(&fa, 4, 1), 0x180000);
}

static void test_zeroed_page(void)
{
    struct frame_alloc fa;
    CHECK(std_init(&fa));
    uint64_t a = frame_alloc_page(&fa);
    memset(fake_mem + a, 0x77, PG);
    CHECK(frame_free(&fa, a, 1));
    /* drain until a comes back zeroed; all pages handed out must be zero */
    uint64_t phys;
    bool got_a = false;
    while ((phys = frame_alloc_page_zeroed(&fa)) != 0) {
        CHECK(fake_mem[phys] == 0 && fake_mem[phys + PG - 1] == 0);
        if (phys == a) {
            for (uint64_t i = 0; i < PG; i++)
                CHECK(fake_mem[a + i] == 0);
            got_a = true;
        }
    }
    CHECK(got_a);
    CHECK(untouched(0x800000, MIB));
}

static void test_next_fit_moves_forward(void)
{
    struct frame_alloc fa;
    CHECK(std_init(&fa));
    uint64_t prev = frame_alloc_page(&fa);
    for (int i = 0; i < 1000; i++) {
        uint64_t phys = frame_alloc_page(&fa);
        CHECK(phys > prev);
        prev = phys;
    }
    /* the hint stays on the word it last used, so a page freed there is seen */
    CHECK(frame_free(&fa, prev, 1));
    CHECK_EQ_U64(frame_alloc_page(&fa), prev);
}

static void test_init_refuses_bad_maps(void)
{
    struct frame_alloc fa;
    reset_fake();
    struct mem_range unsorted[2] = {R(0x300000, MIB, MEM_USABLE), R(0x100000, MIB, MEM_USABLE)};
    CHECK(!frame_alloc_init(&fa, unsorted, 2, offset_for_fake(), 0));
    struct mem_range overlap[2] = {R(0x100000, 2 * MIB, MEM_USABLE),
                                   R(0x200000, PG, MEM_RESERVED)};
    CHECK(!frame_alloc_init(&fa, overlap, 2, offset_for_fake(), 0));
    struct mem_range unaligned[1] = {R(0x100800, MIB, MEM_USABLE)};
    CHECK(!frame_alloc_init(&fa, unaligned, 1, offset_for_fake(), 0));
    struct mem_range empty[1] = {R(0x100000, 0, MEM_USABLE)};
    CHECK(!frame_alloc_init(&fa, empty, 1, offset_for_fake(), 0));
    struct mem_range wraps[1] = {R(UINT64_MAX - PG + 1, 2 * PG, MEM_RESERVED)};
    CHECK(!frame_alloc_init(&fa, wraps, 1, offset_for_fake(), 0));
    struct mem_range none[1] = {R(0x100000, MIB, MEM_RESERVED)};
    CHECK(!frame_alloc_init(&fa, none, 1, offset_for_fake(), 0));
    CHECK(!frame_alloc_init(&fa, NULL, 0, offset_for_fake(), 0));
    CHECK(!frame_alloc_init(&fa, NULL, 3, offset_for_fake(), 0));
    CHECK(!frame_alloc_init(NULL, std_map, STD_N, offset_for_fake(), 0));
    /* all usable memory below lowest_allowed */
    struct mem_range low[1] = {R(0x1000, 0x9e000, MEM_USABLE)};
    CHECK(!frame_alloc_init(&fa, low, 1, offset_for_fake(), MIB));
    /* a failed init leaves an allocator that hands out nothing */
    CHECK_EQ_U64(frame_alloc_page(&fa), 0);
    CHECK_EQ_U64(frame_alloc_total_pages(&fa), 0);
    CHECK(!frame_free(&fa, 0x1000, 1));
    CHECK(untouched(0, FAKE_BYTES));
}

static void test_no_room_for_bitmap(void)
{
    struct frame_alloc fa;
    reset_fake();
    /* the bitmaps would take the only page */
    struct mem_range one[1] = {R(0x100000, PG, MEM_USABLE)};
    CHECK(!frame_alloc_init(&fa, one, 1, offset_for_fake(), 0));
    /* two single pages 64 GiB apart: the bitmaps fit nowhere, and without
     * the top page the other one is all that is left */
    struct mem_range far[2] = {R(0x100000, PG, MEM_USABLE),
                               R(0x1000000000ULL, PG, MEM_USABLE)};
    CHECK(!frame_alloc_init(&fa, far, 2, offset_for_fake(), 0));
    CHECK_EQ_U64(frame_alloc_page(&fa), 0);
    CHECK(untouched(0, FAKE_BYTES));
}

/* Bitmaps bigger than the first usable range go to one that holds them. */
static void test_bitmap_in_first_range_large_enough(void)
{
    struct mem_range map[3] = {R(0x100000, PG, MEM_USABLE), R(0x200000, 4 * MIB, MEM_USABLE),
                               R(0x10000000, PG, MEM_USABLE) /* outside fake memory */};
    struct frame_alloc fa;
    reset_fake();
    CHECK(frame_alloc_init(&fa, map, 3, offset_for_fake(), 0));
    CHECK_EQ_U64(fa.bitmap_pages, 4); /* 65281 pages: 2 x 1021 words */
    CHECK_EQ_U64(fa.bitmap_phys, 0x200000);
    CHECK_EQ_U64(frame_alloc_total_pages(&fa), 1 + 1024 + 1 - 4);
    uint64_t phys, count = 0;
    bool got_low = false, got_high = false;
    while ((phys = frame_alloc_page(&fa)) != 0) {
        CHECK(phys < 0x200000 || phys >= 0x204000);
        got_low |= phys == 0x100000;
        got_high |= phys == 0x10000000;
        count++;
    }
    CHECK(got_low && got_high);
    CHECK_EQ_U64(count, 1022);
}

/* A stray usable range far above real memory would need a huge bitmap: it
 * is left out rather than failing, and memory above 2^52 is ignored. */
static void test_far_usable_range_left_out(void)
{
    struct mem_range map[4] = {R(0x100000, 4 * MIB, MEM_USABLE),
                               R(0x200000000000ULL, 16 * PG, MEM_USABLE),
                               R(0x10000000000000ULL, MIB, MEM_USABLE),
                               R(0xffffffffffe00000ULL, MIB, MEM_USABLE)};
    struct frame_alloc fa;
    reset_fake();
    CHECK(frame_alloc_init(&fa, map, 4, offset_for_fake(), MIB));
    CHECK_EQ_U64(fa.first_page, 0x100);
    CHECK_EQ_U64(fa.page_count, 4 * MIB / PG);
    CHECK_EQ_U64(frame_alloc_total_pages(&fa), 4 * MIB / PG - fa.bitmap_pages);
    uint64_t phys;
    while ((phys = frame_alloc_page(&fa)) != 0)
        CHECK(phys >= 0x100000 && phys < 0x500000);
}

/* --- reservations (guests' allowances) ------------------------------------ */

static void test_reservation_sets_pages_aside(void)
{
    struct frame_alloc fa;
    CHECK(std_init(&fa));
    uint64_t free0 = frame_alloc_free_pages(&fa);
    struct frame_reservation a, b;
    CHECK(frame_reservation_make(&fa, &a, free0 - 10));
    CHECK_EQ_U64(frame_alloc_unreserved_pages(&fa), 10);
    /* A second reservation cannot take what the first holds. */
    CHECK(!frame_reservation_make(&fa, &b, 11));
    CHECK(frame_reservation_make(&fa, &b, 10));
    CHECK_EQ_U64(frame_alloc_unreserved_pages(&fa), 0);
    /* Nothing unreserved is left: hv's own allocations fail... */
    CHECK_EQ_U64(frame_alloc_page(&fa), 0);
    CHECK_EQ_U64(frame_alloc_contig(&fa, 1, 1), 0);
    /* ...while both holders still get every page they were promised. */
    for (uint64_t i = 0; i < free0 - 10; i++)
        CHECK(frame_alloc_charged(&fa, &a, false) != 0);
    CHECK_EQ_U64(frame_alloc_charged(&fa, &a, false), 0);
    for (int i = 0; i < 10; i++)
        CHECK(frame_alloc_charged(&fa, &b, false) != 0);
    CHECK_EQ_U64(frame_alloc_charged(&fa, &b, false), 0);
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), 0);
    CHECK_EQ_U64(frame_reservation_left(&a), 0);
}

static void test_reservation_charge_and_give_back(void)
{
    struct frame_alloc fa;
    CHECK(std_init(&fa));
    uint64_t free0 = frame_alloc_free_pages(&fa);
    struct frame_reservation r;
    CHECK(frame_reservation_make(&fa, &r, 3));
    uint64_t p1 = frame_alloc_charged(&fa, &r, true);
    uint64_t p2 = frame_alloc_charged(&fa, &r, false);
    CHECK(p1 && p2 && p1 != p2);
    CHECK_EQ_U64(fake_mem[p1 + 100], 0); /* zeroed on request */
    CHECK_EQ_U64(r.used, 2);
    CHECK_EQ_U64(frame_reservation_left(&r), 1);
    CHECK_EQ_U64(frame_alloc_unreserved_pages(&fa), free0 - 3);
    /* Freed into the reservation: it may take it again, others may not. */
    CHECK(frame_free_charged(&fa, &r, p2));
    CHECK_EQ_U64(frame_reservation_left(&r), 2);
    CHECK_EQ_U64(frame_alloc_unreserved_pages(&fa), free0 - 3);
    CHECK(!frame_free_charged(&fa, &r, p2)); /* twice */
    /* Ending with a page still charged reports it and keeps it allocated. */
    CHECK_EQ_U64(frame_reservation_end(&fa, &r), 1);
    CHECK_EQ_U64(frame_alloc_unreserved_pages(&fa), free0 - 1);
    CHECK(frame_free(&fa, p1, 1));
    CHECK_EQ_U64(frame_alloc_free_pages(&fa), free0);
    CHECK_EQ_U64(frame_alloc_unreserved_pages(&fa), free0);
}

static void test_reservation_never_underflows(void)
{
    struct frame_alloc fa;
    CHECK(std_init(&fa));
    struct frame_reservation r;
    CHECK(frame_reservation_make(&fa, &r, 0));
    CHECK_EQ_U64(frame_alloc_charged(&fa, &r, false), 0);
    CHECK_EQ_U64(frame_reservation_left(&r), 0);
    CHECK(!frame_free_charged(&fa, &r, 0x200000)); /* nothing charged */
    CHECK(!frame_reservation_make(&fa, &r, UINT64_MAX));
    CHECK_EQ_U64(frame_reservation_end(&fa, &r), 0);
    CHECK_EQ_U64(frame_alloc_unreserved_pages(&fa), frame_alloc_free_pages(&fa));
}

int main(void)
{
    check_suite = "frame_alloc";
    fake_mem = aligned_alloc(PG, FAKE_BYTES);
    if (!fake_mem)
        return 1;
    RUN_TEST(test_init_counts_and_places_bitmap);
    RUN_TEST(test_alloc_all_never_twice);
    RUN_TEST(test_page_zero_never_handed_out);
    RUN_TEST(test_lowest_allowed_unaligned_rounds_up);
    RUN_TEST(test_reserve_keeps_pages_out);
    RUN_TEST(test_free_and_realloc);
    RUN_TEST(test_double_free_refused);
    RUN_TEST(test_bad_frees_refused);
    RUN_TEST(test_contig_aligned);
    RUN_TEST(test_contig_skips_fragmented_space);
    RUN_TEST(test_zeroed_page);
    RUN_TEST(test_next_fit_moves_forward);
    RUN_TEST(test_init_refuses_bad_maps);
    RUN_TEST(test_no_room_for_bitmap);
    RUN_TEST(test_bitmap_in_first_range_large_enough);
    RUN_TEST(test_far_usable_range_left_out);
    RUN_TEST(test_reservation_sets_pages_aside);
    RUN_TEST(test_reservation_charge_and_give_back);
    RUN_TEST(test_reservation_never_underflows);
    free(fake_mem);
    return check_finish();
}
