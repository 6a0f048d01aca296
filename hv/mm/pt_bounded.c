/* The bounded unmapping, split from hv/mm/pagetable.c: pt_unmap_bounded,
 * what work a guest asks for does in budgeted steps (HV_CALL_MEM_UNMAP,
 * HV_CALL_USER_SPACE_DESTROY, the reaper's teardown). pt_for_each_table's
 * walk stayed in pagetable.c: here, the layout change made the compressed
 * core 382 bytes larger (hv.efi 128,000 -> 128,512) for the same code. */
#include "hv/mm/pt_internal.h"

struct bounded_unmap {
    struct pt_space *s;
    uint64_t lo, hi; /* inclusive */
    struct pt_unmap_step *step;
    bool stopped;
    uint64_t stop_va; /* first address not dealt with, when stopped */
    /* The budget at or below which step->preempt is asked next (0: never,
     * the budget's own stop comes first; UINT64_MAX: it said yes). */
    uint64_t check_at;
};

/* Asked when the budget reaches check_at (never without step->preempt:
 * check_at is then 0, and a budget of 0 stops the step first), every
 * leaf_cost entries of work (a page cleared costs that): whether the step
 * should end at the next point that is progress. Once it said yes (an interrupt waits, and hv
 * runs with interrupts off, so it keeps waiting) the answer stays. Out of
 * line: the walk's own test is one compare. */
static __attribute__((noinline)) bool preempted(struct bounded_unmap *b)
{
    struct pt_unmap_step *st = b->step;
    if (b->check_at == UINT64_MAX)
        return true;
    if (st->preempt()) {
        b->check_at = UINT64_MAX;
        return true;
    }
    b->check_at = st->budget > st->leaf_cost ? st->budget - st->leaf_cost : 0;
    return false;
}

/* Eight entries a test: the bounded unmap's partly covered tables pay
 * this scan with interrupts off (~850 instructions for an empty table
 * rather than ~2 600 entry by entry: timer_late_under_attack). */
static bool table_empty(const struct pt_space *s, uint64_t table)
{
    const uint64_t *t = table_at(s, table);
    for (unsigned i = 0; i < ENTRIES; i += 8) {
        uint64_t any = 0;
#pragma GCC unroll 8
        for (unsigned j = 0; j < 8; j++)
            any |= t[i + j];
        if (any & PTE_P)
            return false;
    }
    return true;
}

/* How many of the entries after entry i (its first address `first`) the
 * walk may pass as a run of absent ones, checking only that they are
 * absent: none past the table or hi, or up
 * to where the budget stops the step or asks step->preempt. Each still
 * costs the budget one; at ~5 instructions rather than the ~25 of the
 * walk's own loop (a sparse MEM_UNMAP or a teardown step passes up to
 * 128 of them: timer_late_under_attack). */
static __attribute__((noinline)) unsigned absent_run(const struct bounded_unmap *b, const uint64_t *t, unsigned i, int level,
                           uint64_t first)
{
    uint64_t budget = b->step->budget;
    uint64_t most = budget > b->check_at ? budget - b->check_at : 0;
    /* The range never crosses the hole (pt_check_range), so at the root hi
     * keeps a lower-half run out of the upper half. */
    uint64_t to_hi = (b->hi - first) >> (12 + 9 * (level - 1));
    if (to_hi < most)
        most = to_hi;
    if (ENTRIES - 1 - i < most)
        most = ENTRIES - 1 - i;
    unsigned n = 0;
    while (n < most && !(t[i + 1 + n] & PTE_P))
        n++;
    return n;
}

/* Unmaps what of [lo, hi] lies in the table at `level` covering from
 * `base`; returns whether it cleared any entry of this table or below.
 * Depth is bounded by the four levels. */
static bool unmap_in(struct bounded_unmap *b, uint64_t table, int level, uint64_t base)
{
    uint64_t *t = table_at(b->s, table);
    uint64_t span = level_span(level);
    bool cleared = false;
    unsigned start = b->lo > base ? level_index(b->lo, level) : 0;
    for (unsigned i = start; i < ENTRIES; i++) {
        uint64_t first = base + i * span;
        if (level == 4 && i >= ENTRIES / 2)
            first |= 0xffff000000000000ULL; /* upper half, sign-extended */
        uint64_t last = first + (span - 1);
        if (first > b->hi)
            break;
        /* Out of budget, or an interrupt waits and the step did something
         * (first > lo: everything from lo to first is dealt with). */
        if (b->step->budget == 0 ||
            (b->step->budget <= b->check_at && first > b->lo && preempted(b))) {
            b->stopped = true;
            b->stop_va = first < b->lo ? b->lo : first;
            return cleared;
        }
        b->step->budget--;
        uint64_t e = t[i];
        if (!(e & PTE_P)) {
            unsigned n = absent_run(b, t, i, level, first);
            b->step->budget -= n;
            i += n;
            continue;
        }
        if (is_leaf(e, level)) {
            b->step->budget -= b->step->budget < b->step->leaf_cost ? b->step->budget
                                                                     : b->step->leaf_cost;
            if (b->step->leaf)
                b->step->leaf(b->step->arg, first, e & PTE_ADDR_MASK & ~(span - 1), span,
                              e & ~PTE_ADDR_MASK);
            t[i] = 0;
            cleared = true;
            continue;
        }
        uint64_t child = e & PTE_ADDR_MASK;
        bool child_cleared = unmap_in(b, child, level - 1, first);
        cleared |= child_cleared;
        if (b->stopped)
            return cleared;
        bool covered = (first >= b->lo || b->step->clear_below) && last <= b->hi; /* then it is empty now */
        bool empty = covered;
        /* Partly covered: it may be empty now if this step cleared some of
         * it, finished its part, or began inside it (a step before may have
         * cleared the part below lo, and stopped on its budget just as the
         * table's last page went: nothing is left for this step to clear).
         * At most the tables on the paths to lo and hi. */
        if (!covered && (child_cleared || last <= b->hi || first < b->lo)) {
            /* Without the budget for the check, or with an interrupt
             * waiting, the step stops at the last page of its part of
             * this table when that is progress: the
             * next step begins inside the table and checks it first. The
             * last MEM_UNMAP of a range that emptied a page table and its
             * directory made both checks after 8 pages (~6 650
             * instructions; timer_late_under_attack's worst). */
            uint64_t stop = (last < b->hi ? last : b->hi) & ~(PAGE_SIZE_4K - 1);
            if ((b->step->budget < PT_EMPTY_CHECK_COST ||
                 (b->step->budget <= b->check_at && preempted(b))) &&
                stop > b->lo && stop > first) {
                b->stopped = true;
                b->stop_va = stop;
                return cleared;
            }
            b->step->budget -= b->step->budget < PT_EMPTY_CHECK_COST ? b->step->budget
                                                                      : PT_EMPTY_CHECK_COST;
            empty = table_empty(b->s, child);
        }
        if (empty) {
            t[i] = 0;
            b->step->free_table(b->step->arg, child);
            b->step->tables_freed++;
            cleared = true;
        }
    }
    return cleared;
}

int pt_unmap_bounded(struct pt_space *s, uint64_t va, uint64_t size, struct pt_unmap_step *step,
                     uint64_t *done)
{
    int rc = pt_check_range(s, va, size);
    if (rc != PT_OK)
        return rc;
    if (!step || !step->free_table || step->budget < PT_UNMAP_MIN_BUDGET)
        return PT_EINVAL;
    rc = pt_split_range_ends(s, va, size);
    if (rc != PT_OK)
        return rc;
    struct bounded_unmap b = {.s = s,
                              .lo = va,
                              .hi = va + (size - 1),
                              .step = step,
                              .check_at = step->preempt && step->budget > step->leaf_cost
                                              ? step->budget - step->leaf_cost
                                              : 0};
    unmap_in(&b, s->root_phys, 4, 0);
    *done = b.stopped ? b.stop_va - va : size;
    pt_mirror_lower_half(s, va, *done); /* tables freed lie in what was done */
    return PT_OK;
}
