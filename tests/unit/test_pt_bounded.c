/* Page-table operations made for bounded hypercalls: pt_unmap_bounded (the
 * walk every hypercall-sized unmap, user-space teardown and reaping step
 * goes through: budget, absent subtrees skipped, emptied tables freed) and
 * pt_missing_tables / pt_set_leaf_flags (checks before effects). */
#include "tests/unit/pt_fixture.h"

struct unmap_log {
    unsigned leaves, freed;
    uint64_t last_va;
    bool in_order;
};

static void log_leaf(void *arg, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags)
{
    (void)pa;
    (void)size;
    (void)flags;
    struct unmap_log *l = arg;
    if (l->leaves && va <= l->last_va)
        l->in_order = false;
    l->last_va = va;
    l->leaves++;
}

static void log_free(void *arg, uint64_t table_phys)
{
    (void)table_phys;
    ((struct unmap_log *)arg)->freed++;
}

static struct pt_unmap_step step_of(struct unmap_log *l, uint64_t budget, uint64_t leaf_cost)
{
    return (struct pt_unmap_step){.budget = budget, .leaf_cost = leaf_cost, .leaf = log_leaf,
                                  .free_table = log_free, .arg = l};
}

#define LOWER_END 0x0000800000000000ULL

static void test_bounded_unmap_of_a_huge_sparse_range_is_quick(void)
{
    struct pt_space s;
    fresh(&s);
    /* One page in each of 63 places 2 TiB apart. */
    for (uint64_t k = 0; k < 63; k++)
        CHECK(pt_map(&s, k * (2048ULL << 30) + PG, 0x10000000, PG, PTE_U, 0) == PT_OK);
    struct unmap_log l = {.in_order = true};
    uint64_t done = 0, calls = 0;
    while (done < LOWER_END - 0x100000000ULL) {
        struct pt_unmap_step st = step_of(&l, 512, 16);
        uint64_t d = 0;
        CHECK(pt_unmap_bounded(&s, done, LOWER_END - 0x100000000ULL - done, &st, &d) == PT_OK);
        CHECK(d >= PG);
        if (d < PG)
            break;
        done += d;
        calls++;
    }
    CHECK_EQ_U64(l.leaves, 63);
    CHECK(l.in_order);
    /* Each page had three tables beneath the root on its path, all freed. */
    CHECK_EQ_U64(l.freed, 63 * 3);
    /* Absent subtrees cost one entry each: a few hundred visits per page. */
    CHECK(calls < 63 * 8);
    for (uint64_t k = 0; k < 63; k++)
        CHECK(!pt_lookup(&s, k * (2048ULL << 30) + PG, NULL, NULL));
    /* The root is left empty in its lower half. */
    for (int i = 0; i < 256; i++)
        CHECK_EQ_U64(table(&s, s.root_phys)[i], 0);
}

/* A teardown (clear_below: nothing mapped below where each step starts)
 * in small steps frees every table, as without the flag, but never pays
 * for an empty check: the budget spent is the entries visited and the
 * leaves, so the steps are fewer than with the checks. */
static void test_teardown_steps_skip_empty_checks(void)
{
    uint64_t steps[2] = {0, 0};
    for (int with = 0; with < 2; with++) {
        struct pt_space s;
        fresh(&s);
        /* 3 x 600 pages: each run crosses a page-table boundary. */
        for (uint64_t k = 0; k < 3; k++)
            CHECK(pt_map(&s, (k << 30) + 0x200000 - 100 * PG, 0x10000000, 600 * PG, PTE_U, 0) ==
                  PT_OK);
        struct unmap_log l = {.in_order = true};
        uint64_t done = 0;
        while (done < LOWER_END) {
            struct pt_unmap_step st = step_of(&l, 128, 16);
            st.clear_below = with;
            uint64_t d = 0;
            CHECK(pt_unmap_bounded(&s, done, LOWER_END - done, &st, &d) == PT_OK);
            if (d < PG)
                break;
            done += d;
            steps[with]++;
        }
        CHECK_EQ_U64(done, LOWER_END);
        CHECK_EQ_U64(l.leaves, 3 * 600);
        CHECK(l.in_order);
        /* Per run: 2 page tables, 1 directory; 1 pointer table for all. */
        CHECK_EQ_U64(l.freed, 3 * 3 + 1);
        for (int i = 0; i < 256; i++)
            CHECK_EQ_U64(table(&s, s.root_phys)[i], 0);
    }
    CHECK(steps[1] < steps[0]);
}

static void test_bounded_unmap_stops_on_budget_and_resumes(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK(pt_map(&s, 0x400000, 0x10000000, 512 * PG, PTE_U, 0) == PT_OK);
    struct unmap_log l = {.in_order = true};
    struct pt_unmap_step st = step_of(&l, 512, 16);
    uint64_t d = 0;
    CHECK(pt_unmap_bounded(&s, 0x400000, 512 * PG, &st, &d) == PT_OK);
    /* 3 entries down, then 17 a leaf: 29 leaves in 512. */
    CHECK(d > 0 && d < 512 * PG);
    CHECK_EQ_U64(d / PG, l.leaves);
    CHECK(l.leaves <= 512 / 16);
    CHECK(!pt_lookup(&s, 0x400000 + d - PG, NULL, NULL));
    CHECK(pt_lookup(&s, 0x400000 + d, NULL, NULL));
    CHECK_EQ_U64(l.freed, 0);
    uint64_t done = d;
    while (done < 512 * PG) {
        st = step_of(&l, 512, 16);
        CHECK(pt_unmap_bounded(&s, 0x400000 + done, 512 * PG - done, &st, &d) == PT_OK);
        done += d;
    }
    CHECK_EQ_U64(l.leaves, 512);
    /* The last step emptied the page table and the ones above it. */
    CHECK_EQ_U64(l.freed, 3);
    CHECK_EQ_U64(raw_entry(&s, 0x400000, 4), 0);
}

static void test_bounded_unmap_keeps_what_is_outside(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK(pt_map(&s, 0x400000, 0x10000000, 4 * PG, PTE_U, 0) == PT_OK);
    struct unmap_log l = {.in_order = true};
    struct pt_unmap_step st = step_of(&l, 512, 16);
    uint64_t d = 0;
    CHECK(pt_unmap_bounded(&s, 0x401000, 2 * PG, &st, &d) == PT_OK);
    CHECK_EQ_U64(d, 2 * PG);
    CHECK_EQ_U64(l.leaves, 2);
    CHECK_EQ_U64(l.freed, 0); /* the table still maps two pages */
    CHECK(pt_lookup(&s, 0x400000, NULL, NULL));
    CHECK(pt_lookup(&s, 0x403000, NULL, NULL));
    /* Unmapping the last two, one call each: the table goes with the last. */
    st = step_of(&l, 512, 16);
    CHECK(pt_unmap_bounded(&s, 0x400000, PG, &st, &d) == PT_OK);
    CHECK_EQ_U64(l.freed, 0);
    st = step_of(&l, 512, 16);
    CHECK(pt_unmap_bounded(&s, 0x403000, PG, &st, &d) == PT_OK);
    CHECK_EQ_U64(l.freed, 3);
}

/* A step that stopped on its budget right after the last mapped page of a
 * table left that table empty; the next step, which begins inside the
 * table and finds nothing to clear, still frees it (and those above it). */
static void test_bounded_unmap_frees_a_table_emptied_by_the_step_before(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK(pt_map(&s, 0x400000, 0x10000000, 30 * PG, PTE_U, 0) == PT_OK);
    struct unmap_log l = {.in_order = true};
    /* 3 entries down, then 17 a leaf: exactly the 30 pages. */
    struct pt_unmap_step st = step_of(&l, 3 + 30 * 17, 16);
    uint64_t d = 0;
    CHECK(pt_unmap_bounded(&s, 0x400000, 64 * PG, &st, &d) == PT_OK);
    CHECK_EQ_U64(l.leaves, 30);
    CHECK(d < 64 * PG);
    CHECK_EQ_U64(l.freed, 0);
    uint64_t done = d;
    while (done < 64 * PG) {
        st = step_of(&l, 512, 16);
        CHECK(pt_unmap_bounded(&s, 0x400000 + done, 64 * PG - done, &st, &d) == PT_OK);
        CHECK(d > 0);
        if (!d)
            break;
        done += d;
    }
    CHECK_EQ_U64(l.freed, 3);
    CHECK_EQ_U64(raw_entry(&s, 0x400000, 4), 0);
}

/* The preemption check (MEM_UNMAP's: an interrupt waits): asked every
 * leaf_cost entries of work; from the ask numbered preempt_from on it says
 * yes, and the step ends at its next point of progress. */
static unsigned preempt_asks, preempt_from;

static bool preempt_answer(void)
{
    return ++preempt_asks >= preempt_from;
}

static struct pt_unmap_step preemptible_step(struct unmap_log *l, unsigned from)
{
    struct pt_unmap_step st = step_of(l, 128, 16);
    st.preempt = preempt_answer;
    preempt_asks = 0;
    preempt_from = from;
    return st;
}

/* An interrupt that waits from the start: every step ends after its first
 * page (never before: a step always makes progress), the range is still
 * done in full, and its tables freed. */
static void test_bounded_unmap_ends_after_a_page_when_preempted(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK(pt_map(&s, 0x400000, 0x10000000, 30 * PG, PTE_U, 0) == PT_OK);
    struct unmap_log l = {.in_order = true};
    struct pt_unmap_step st = preemptible_step(&l, 1);
    uint64_t d = 0;
    CHECK(pt_unmap_bounded(&s, 0x400000, 30 * PG, &st, &d) == PT_OK);
    CHECK_EQ_U64(d, PG);
    CHECK_EQ_U64(l.leaves, 1);
    CHECK_EQ_U64(preempt_asks, 1);
    CHECK(!pt_lookup(&s, 0x400000, NULL, NULL));
    CHECK(pt_lookup(&s, 0x401000, NULL, NULL));
    /* The same without the check: the budget's 8 pages. */
    struct unmap_log plain = {.in_order = true};
    st = step_of(&plain, 128, 16);
    CHECK(pt_unmap_bounded(&s, 0x401000, 29 * PG, &st, &d) == PT_OK);
    CHECK_EQ_U64(plain.leaves, 8);
    uint64_t done = PG + d, steps = 0;
    while (done < 30 * PG && steps++ < 64) {
        st = preemptible_step(&l, 1);
        CHECK(pt_unmap_bounded(&s, 0x400000 + done, 30 * PG - done, &st, &d) == PT_OK);
        CHECK(d >= PG);
        done += d;
    }
    CHECK_EQ_U64(done, 30 * PG);
    CHECK_EQ_U64(l.leaves + plain.leaves, 30);
    CHECK(l.in_order);
    CHECK_EQ_U64(l.freed, 3);
    CHECK_EQ_U64(raw_entry(&s, 0x400000, 4), 0);
}

/* A sparse range (nothing mapped): the check comes every 16 entries
 * visited, and the step ends where it got to. */
static void test_bounded_unmap_preempted_in_a_sparse_range(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK(pt_map(&s, 0x400000, 0x10000000, PG, PTE_U, 0) == PT_OK);
    CHECK(pt_map(&s, 0x400000 + 200 * PG, 0x10000000, PG, PTE_U, 0) == PT_OK);
    struct unmap_log l = {.in_order = true};
    /* One leaf (the first ask, no), then 15 empty entries (the second, yes). */
    struct pt_unmap_step st = preemptible_step(&l, 2);
    uint64_t d = 0;
    CHECK(pt_unmap_bounded(&s, 0x400000, 256 * PG, &st, &d) == PT_OK);
    CHECK_EQ_U64(preempt_asks, 2);
    CHECK_EQ_U64(l.leaves, 1);
    CHECK_EQ_U64(d, 17 * PG);
    CHECK(pt_lookup(&s, 0x400000 + 200 * PG, NULL, NULL));
}

/* Preempted just as the last page of its part of a table went: the step
 * stops before the table's emptiness check (PT_EMPTY_CHECK_COST), at that
 * last page; the next step finds the table empty and frees it. */
static void test_bounded_unmap_preempted_before_an_emptiness_check(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK(pt_map(&s, 0x5fe000, 0x10000000, 2 * PG, PTE_U, 0) == PT_OK);
    struct unmap_log l = {.in_order = true};
    /* Leaf 1 (budget 108), the ask at the next entry says no; leaf 2
     * (budget 91), the table ends: the ask before its check says yes. */
    struct pt_unmap_step st = preemptible_step(&l, 2);
    uint64_t d = 0;
    CHECK(pt_unmap_bounded(&s, 0x5fe000, 2 * PG + M2, &st, &d) == PT_OK);
    CHECK_EQ_U64(preempt_asks, 2);
    CHECK_EQ_U64(l.leaves, 2);
    CHECK_EQ_U64(d, PG);
    CHECK_EQ_U64(l.freed, 0);
    CHECK(raw_entry(&s, 0x5fe000, 2) & PTE_P); /* the table, not checked yet */
    uint64_t done = d;
    for (int steps = 0; done < 2 * PG + M2 && steps < 16; steps++) {
        st = step_of(&l, 128, 16);
        CHECK(pt_unmap_bounded(&s, 0x5fe000 + done, 2 * PG + M2 - done, &st, &d) == PT_OK);
        done += d;
    }
    CHECK_EQ_U64(done, 2 * PG + M2);
    CHECK_EQ_U64(l.freed, 3);
    CHECK_EQ_U64(raw_entry(&s, 0x5fe000, 4), 0);
}

static void test_bounded_unmap_refuses_bad_input(void)
{
    struct pt_space s;
    fresh(&s);
    struct unmap_log l = {0};
    struct pt_unmap_step st = step_of(&l, PT_UNMAP_MIN_BUDGET - 1, 0);
    uint64_t d = 0;
    CHECK(pt_unmap_bounded(&s, 0, PG, &st, &d) == PT_EINVAL);
    st = step_of(&l, 512, 0);
    CHECK(pt_unmap_bounded(&s, 1, PG, &st, &d) == PT_EINVAL);
    CHECK(pt_unmap_bounded(&s, 0, 0, &st, &d) == PT_EINVAL);
    CHECK(pt_unmap_bounded(&s, 0x00007ffffffff000ULL, 2 * PG, &st, &d) == PT_EINVAL);
    st.free_table = NULL;
    CHECK(pt_unmap_bounded(&s, 0, PG, &st, &d) == PT_EINVAL);
}

static void test_missing_tables_and_leaf_flags(void)
{
    struct pt_space s;
    fresh(&s);
    CHECK_EQ_U64(pt_missing_tables(&s, 0x400000), 3);
    CHECK(pt_map(&s, 0x400000, 0x10000000, PG, PTE_U, 0) == PT_OK);
    CHECK_EQ_U64(pt_missing_tables(&s, 0x401000), 0);
    CHECK_EQ_U64(pt_missing_tables(&s, 0x600000), 1);
    CHECK_EQ_U64(pt_missing_tables(&s, 0x40000000), 2);
    CHECK(pt_set_leaf_flags(&s, 0x400000, PTE_U | PTE_W | (1ULL << 10)) == PT_OK);
    uint64_t pa, flags;
    CHECK(pt_lookup(&s, 0x400000, &pa, &flags));
    CHECK_EQ_U64(pa, 0x10000000);
    CHECK(flags & PTE_W);
    CHECK(flags & (1ULL << 10));
    CHECK(pt_set_leaf_flags(&s, 0x401000, PTE_U) == PT_ENOENT);
    CHECK(pt_set_leaf_flags(&s, 0x400000, PTE_PS) == PT_EINVAL);
}

int main(void)
{
    check_suite = "pt_bounded";
    if (!pool_setup())
        return 1;
    RUN_TEST(test_bounded_unmap_of_a_huge_sparse_range_is_quick);
    RUN_TEST(test_bounded_unmap_stops_on_budget_and_resumes);
    RUN_TEST(test_bounded_unmap_keeps_what_is_outside);
    RUN_TEST(test_bounded_unmap_frees_a_table_emptied_by_the_step_before);
    RUN_TEST(test_bounded_unmap_ends_after_a_page_when_preempted);
    RUN_TEST(test_bounded_unmap_preempted_in_a_sparse_range);
    RUN_TEST(test_bounded_unmap_preempted_before_an_emptiness_check);
    RUN_TEST(test_bounded_unmap_refuses_bad_input);
    RUN_TEST(test_teardown_steps_skip_empty_checks);
    RUN_TEST(test_missing_tables_and_leaf_flags);
    free(pool.mem);
    return check_finish();
}
