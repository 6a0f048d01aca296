/* Page-table isolation's second root (hv/mm/xpti.h): every operation that
 * adds, changes or removes a root entry of the lower half does the same in
 * the isolated root, and never touches its upper half, which holds only
 * what hv lets guests' tables map. A guest running on the isolated root
 * must see exactly the mappings hv's view of its space has. */
#include "tests/unit/pt_fixture.h"

#define UPPER_MARK 0x5a5a000ULL /* a made-up upper-half entry of the isolated root */

static uint64_t *isolated(const struct pt_space *s)
{
    return table(s, s->isolated_root_phys);
}

/* A space with an isolated root whose upper half carries marks. */
static void fresh_isolated(struct pt_space *s)
{
    fresh(s);
    s->isolated_root_phys = pool_alloc(&pool);
    for (int i = 256; i < 512; i++)
        isolated(s)[i] = UPPER_MARK | (uint64_t)i << 12 | PTE_P;
}

static bool lower_halves_equal(const struct pt_space *s)
{
    for (int i = 0; i < 256; i++)
        if (table(s, s->root_phys)[i] != isolated(s)[i])
            return false;
    return true;
}

static bool upper_half_untouched(const struct pt_space *s)
{
    for (int i = 256; i < 512; i++)
        if (isolated(s)[i] != (UPPER_MARK | (uint64_t)i << 12 | PTE_P))
            return false;
    return true;
}

static void no_free(void *arg, uint64_t phys)
{
    (void)arg;
    (void)phys;
}

static void test_map_adds_the_root_entry_to_both(void)
{
    struct pt_space s;
    fresh_isolated(&s);
    CHECK(pt_map(&s, 0x400000, 0x100000, 4 * PG, PTE_W | PTE_U, 0) == PT_OK);
    CHECK(isolated(&s)[0] & PTE_P);
    CHECK(isolated(&s)[0] & PTE_U);
    /* A second 512 GiB slot, and a range spanning two slots. */
    CHECK(pt_map(&s, 0x0000008000000000ULL, 0x200000, PG, PTE_U, 0) == PT_OK);
    CHECK(pt_map(&s, 0x000000fffffff000ULL, 0x300000, 2 * PG, PTE_U, 0) == PT_OK);
    CHECK(isolated(&s)[1] & PTE_P);
    CHECK(isolated(&s)[2] & PTE_P);
    CHECK(lower_halves_equal(&s));
    CHECK(upper_half_untouched(&s));
}

static void test_failed_map_leaves_both_equal(void)
{
    struct pt_space s;
    fresh_isolated(&s);
    pool.limit = pool.used + 2; /* room for a PDPT and a PD, not the page table */
    CHECK(pt_map(&s, 0x0000010000000000ULL, 0x100000, PG, PTE_U, 0) == PT_ENOMEM);
    CHECK(lower_halves_equal(&s));
    CHECK(upper_half_untouched(&s));
}

static void test_protect_mirrors_a_new_user_bit(void)
{
    struct pt_space s;
    fresh_isolated(&s);
    CHECK(pt_map(&s, 0x400000, 0x100000, PG, PTE_W, 0) == PT_OK);
    CHECK(!(isolated(&s)[0] & PTE_U));
    CHECK(pt_protect(&s, 0x400000, PG, PTE_U) == PT_OK);
    CHECK(isolated(&s)[0] & PTE_U);
    CHECK(lower_halves_equal(&s));
}

static void test_set_leaf_flags_mirrors_a_new_user_bit(void)
{
    struct pt_space s;
    fresh_isolated(&s);
    CHECK(pt_map(&s, 0x400000, 0x100000, PG, PTE_W, 0) == PT_OK);
    CHECK(pt_set_leaf_flags(&s, 0x400000, PTE_U | PTE_W) == PT_OK);
    CHECK(isolated(&s)[0] & PTE_U);
    CHECK(lower_halves_equal(&s));
}

static void test_bounded_unmap_removes_freed_tables_from_both(void)
{
    struct pt_space s;
    fresh_isolated(&s);
    CHECK(pt_map(&s, 0x0000008000000000ULL, 0x100000, 2 * PG, PTE_U, 0) == PT_OK);
    CHECK(pt_map(&s, 0x400000, 0x200000, PG, PTE_U, 0) == PT_OK);
    /* Tear down the whole lower half in small steps, as reaping does. */
    uint64_t from = 0, done = 0;
    unsigned steps = 0;
    while (from < 0x0000800000000000ULL && steps < 10000) {
        struct pt_unmap_step step = {.budget = 8, .leaf_cost = 1, .free_table = no_free,
                                     .clear_below = true};
        CHECK(pt_unmap_bounded(&s, from, 0x0000800000000000ULL - from, &step, &done) == PT_OK);
        from += done;
        steps++;
        CHECK(lower_halves_equal(&s)); /* after every step, not just the last */
    }
    CHECK(from == 0x0000800000000000ULL);
    CHECK(!(isolated(&s)[0] & PTE_P));
    CHECK(!(isolated(&s)[1] & PTE_P));
    CHECK(upper_half_untouched(&s));
}

static void test_upper_half_operations_leave_it_alone(void)
{
    struct pt_space s;
    fresh_isolated(&s);
    CHECK(pt_map(&s, 0xffffffff80000000ULL, 0x100000, PG, 0, 0) == PT_OK);
    CHECK(upper_half_untouched(&s));
    CHECK(lower_halves_equal(&s));
}

static void test_without_isolated_root_nothing_is_mirrored(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK(s.isolated_root_phys == 0);
    CHECK(pt_map(&s, 0x400000, 0x100000, PG, PTE_U, 0) == PT_OK);
    CHECK(s.isolated_root_phys == 0);
}

int main(void)
{
    check_suite = "pt_isolated";
    if (!pool_setup())
        return 1;
    RUN_TEST(test_map_adds_the_root_entry_to_both);
    RUN_TEST(test_failed_map_leaves_both_equal);
    RUN_TEST(test_protect_mirrors_a_new_user_bit);
    RUN_TEST(test_set_leaf_flags_mirrors_a_new_user_bit);
    RUN_TEST(test_bounded_unmap_removes_freed_tables_from_both);
    RUN_TEST(test_upper_half_operations_leave_it_alone);
    RUN_TEST(test_without_isolated_root_nothing_is_mirrored);
    free(pool.mem);
    return check_finish();
}
