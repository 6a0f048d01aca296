/* hv/mm/memmap.c against a page-by-page reference: random maps, random
 * maps under a small cap, sorted disjoint firmware maps through both paths,
 * and a large map (shared checks in memmap_fixture.h). */
#include "tests/unit/memmap_fixture.h"

/* ---- randomized comparison against a page-by-page reference ---- */

#define UNIVERSE_PAGES 48

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void random_map(struct mem_range *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint64_t base = rnd() % (UNIVERSE_PAGES * PG);
        if (rnd() % 3 == 0)
            base &= ~(PG - 1);
        uint64_t size = rnd() % (12 * PG);
        if (rnd() % 3 == 0)
            size &= ~(PG - 1);
        if (rnd() % 8 == 0)
            size = 0;
        uint32_t kind = rnd() % 2 ? MEM_USABLE : (uint32_t)(1 + rnd() % 8);
        if (rnd() % 40 == 0)
            kind = (uint32_t)(rnd() % 20);
        r[i] = R(base, size, kind);
    }
}

/* Few big usable ranges riddled with small (often overlapping) holes: the
 * shape that makes the result outgrow a tight cap. */
static void random_holey_map(struct mem_range *r, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (i < 1 + n / 5) {
            uint64_t base = rnd() % (8 * PG);
            r[i] = R(base, (UNIVERSE_PAGES - 8) * PG - rnd() % (4 * PG), MEM_USABLE);
        } else {
            uint64_t base = (rnd() % UNIVERSE_PAGES) * PG + (rnd() % 4 == 0 ? rnd() % PG : 0);
            r[i] = R(base, (1 + rnd() % 3) * PG, (uint32_t)(2 + rnd() % 7));
        }
    }
    for (size_t i = n; i-- > 1;) {
        size_t j = rnd() % (i + 1);
        struct mem_range t = r[i];
        r[i] = r[j];
        r[j] = t;
    }
}

static void reference_pages(const struct mem_range *r, size_t n, uint32_t *page_kind)
{
    for (uint64_t p = 0; p < UNIVERSE_PAGES + 16; p++) {
        uint32_t best = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t lo = p * PG, hi = lo + PG, b = r[i].base, e = r[i].base + r[i].size;
            uint32_t k = r[i].kind >= 1 && r[i].kind <= 8 ? r[i].kind : MEM_RESERVED;
            bool claims = k == MEM_USABLE ? (b <= lo && hi <= e) : (b < hi && lo < e);
            if (r[i].size && claims && k > best)
                best = k;
        }
        page_kind[p] = best;
    }
}

static size_t reference_runs(const uint32_t *page_kind, bool non_usable_only)
{
    size_t runs = 0;
    uint32_t prev = 0;
    for (uint64_t p = 0; p < UNIVERSE_PAGES + 16; p++) {
        uint32_t k = page_kind[p];
        if (non_usable_only && k == MEM_USABLE)
            k = 0;
        if (k && k != prev)
            runs++;
        prev = k;
    }
    return runs;
}

static void test_random_maps_match_reference(void)
{
    for (int iter = 0; iter < 3000; iter++) {
        size_t n = 1 + rnd() % 14;
        struct mem_range in[16], r[40];
        uint32_t expect[UNIVERSE_PAGES + 16];
        random_map(in, n);
        reference_pages(in, n, expect);
        size_t runs = reference_runs(expect, false);
        memcpy(r, in, n * sizeof(in[0]));
        CHECK_EQ_U64(memmap_normalized_count(in, n), runs);
        size_t got = memmap_normalize(r, n, 2 * n);
        CHECK_EQ_U64(got, runs);
        check_shape(r, got);
        for (uint64_t p = 0; p < UNIVERSE_PAGES + 16; p++)
            CHECK_EQ_U64(kind_of_page(r, got, p), expect[p]);
        if (check_case_failed) {
            printf("  iteration %d, n=%zu\n", iter, n);
            return;
        }
    }
}

static void test_random_maps_with_small_cap(void)
{
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = 1 + rnd() % 14;
        size_t cap = n + rnd() % (n + 1);
        struct mem_range in[16], r[40];
        uint32_t expect[UNIVERSE_PAGES + 16];
        if (iter % 2)
            random_holey_map(in, n);
        else
            random_map(in, n);
        reference_pages(in, n, expect);
        size_t runs = reference_runs(expect, false);
        size_t fixed_runs = reference_runs(expect, true);
        memcpy(r, in, n * sizeof(in[0]));
        for (size_t i = n; i < 40; i++)
            r[i] = R(0x5a5a5a5a, 0x5a5a, 0x5a5a5a5a);
        size_t got = memmap_normalize(r, n, cap);
        for (size_t i = (cap > n ? cap : n); i < 40; i++)
            CHECK_EQ_U64(r[i].kind, 0x5a5a5a5a);
        if (fixed_runs > cap) {
            CHECK_EQ_U64(got, 0);
            CHECK(memcmp(in, r, n * sizeof(in[0])) == 0);
        } else {
            CHECK_EQ_U64(got, runs < cap ? runs : cap);
            check_shape(r, got);
            for (uint64_t p = 0; p < UNIVERSE_PAGES + 16; p++) {
                uint32_t k = kind_of_page(r, got, p);
                if (expect[p] == MEM_USABLE)
                    CHECK(k == MEM_USABLE || k == 0);
                else
                    CHECK_EQ_U64(k, expect[p]);
            }
        }
        if (check_case_failed) {
            printf("  iteration %d, n=%zu cap=%zu\n", iter, n, cap);
            return;
        }
    }
}

/* What UEFI firmware hands over: entries in ascending order, none
 * overlapping, edges sometimes inside a page (so the pages of neighbours
 * may still overlap: a reserved byte range grows to whole pages), touching
 * runs of one kind, empty and unknown-kind entries. memmap_normalize takes
 * its O(n) path for these when their pages do not overlap; the result must
 * be the reference's, and exactly what the general path (the same entries
 * in reverse order) gives. */
static void random_firmware_map(struct mem_range *r, size_t n)
{
    uint64_t pos = (rnd() % 4) * PG;
    for (size_t i = 0; i < n; i++) {
        if (rnd() % 3 == 0)
            pos += (rnd() % 3) * PG;
        if (rnd() % 6 == 0)
            pos += rnd() % PG;
        uint64_t size = (1 + rnd() % 4) * PG;
        if (rnd() % 6 == 0)
            size += rnd() % PG;
        if (rnd() % 12 == 0)
            size = 0;
        uint32_t kind = rnd() % 2 ? MEM_USABLE : (uint32_t)(1 + rnd() % 8);
        if (rnd() % 40 == 0)
            kind = (uint32_t)(rnd() % 20);
        r[i] = R(pos, size, kind);
        pos += size;
    }
}

static void test_sorted_disjoint_maps_match_reference_and_general_path(void)
{
    int fast = 0;
    for (int iter = 0; iter < 5000; iter++) {
        size_t n = 1 + rnd() % 14;
        struct mem_range in[16], r[40], rev[40];
        uint32_t expect[UNIVERSE_PAGES + 16];
        random_firmware_map(in, n);
        reference_pages(in, n, expect);
        size_t runs = reference_runs(expect, false);
        memcpy(r, in, n * sizeof(in[0]));
        for (size_t i = 0; i < n; i++)
            rev[i] = in[n - 1 - i];
        size_t got = memmap_normalize(r, n, n);
        size_t general = memmap_normalize(rev, n, 2 * n);
        CHECK_EQ_U64(got, runs);
        CHECK_EQ_U64(general, runs);
        check_shape(r, got);
        for (uint64_t p = 0; p < UNIVERSE_PAGES + 16; p++)
            CHECK_EQ_U64(kind_of_page(r, got, p), expect[p]);
        for (size_t i = 0; i < got && i < general; i++)
            CHECK(r[i].base == rev[i].base && r[i].size == rev[i].size &&
                  r[i].kind == rev[i].kind);
        /* Whether this one could take the O(n) path: its pages ascend. */
        uint64_t prev_end = 0;
        bool ascending = true;
        for (size_t i = 0; i < n; i++) {
            if (!in[i].size)
                continue;
            uint64_t first = in[i].base / PG, end = (in[i].base + in[i].size + PG - 1) / PG;
            if (first < prev_end)
                ascending = false;
            prev_end = end;
        }
        fast += ascending;
        if (check_case_failed) {
            printf("  iteration %d, n=%zu\n", iter, n);
            return;
        }
    }
    CHECK(fast > 1000); /* the generator does exercise the O(n) path */
}

/* A firmware-sized map: 1024 entries, mostly alternating kinds. */
static void test_large_map(void)
{
    static struct mem_range r[2048];
    for (size_t i = 0; i < 1024; i++)
        r[i] = R((uint64_t)(1023 - i) * 0x10000, 0x10000 + (i % 3 == 0 ? 0x800 : 0),
                 i % 2 ? MEM_USABLE : MEM_RESERVED);
    size_t n = memmap_normalize(r, 1024, 2048);
    CHECK(n > 0 && n < 2048);
    check_shape(r, n);
    CHECK_EQ_U64(r[0].base, 0);
}

int main(void)
{
    check_suite = "memmap_random";
    RUN_TEST(test_random_maps_match_reference);
    RUN_TEST(test_random_maps_with_small_cap);
    RUN_TEST(test_sorted_disjoint_maps_match_reference_and_general_path);
    RUN_TEST(test_large_map);
    return check_finish();
}
