/* 4-level page tables. Every operation that can fail checks first and
 * changes afterwards, or only makes changes that keep the translation as it
 * was (splitting a large leaf into equal smaller ones), so a failure never
 * leaves a half-done range behind. */
#include "hv/mm/pagetable.h"

#define ENTRIES 512
#define PAGE_SIZE_4K 4096ULL
#define PHYS_LIMIT (1ULL << 52)
#define INTERMEDIATE (PTE_P | PTE_W)
/* Leaf bits a caller may choose: everything but PS and the address. */
#define LEAF_FLAGS_ALLOWED                                                                    \
    (PTE_P | PTE_W | PTE_U | PTE_PWT | PTE_PCD | PTE_A | PTE_D | PTE_G | (7ULL << 9) |        \
     (0x7ffULL << 52) | PTE_NX)

static uint64_t level_span(int level)
{
    return 1ULL << (12 + 9 * (level - 1));
}

static unsigned level_index(uint64_t va, int level)
{
    return (unsigned)(va >> (12 + 9 * (level - 1))) & (ENTRIES - 1);
}

static bool is_leaf(uint64_t entry, int level)
{
    return level == 1 || ((level == 2 || level == 3) && (entry & PTE_PS));
}

static uint64_t *table_at(const struct pt_space *s, uint64_t phys)
{
    return (uint64_t *)(uintptr_t)(phys + s->direct_map_offset);
}

static bool is_canonical(uint64_t va)
{
    uint64_t top = va >> 47;
    return top == 0 || top == 0x1ffff;
}

static int check_range(const struct pt_space *s, uint64_t va, uint64_t size)
{
    if (!s || !s->root_phys || size == 0 || ((va | size) & (PAGE_SIZE_4K - 1)))
        return PT_EINVAL;
    if (size - 1 > UINT64_MAX - va)
        return PT_EINVAL;
    uint64_t last = va + (size - 1);
    if (!is_canonical(va) || !is_canonical(last) || ((va ^ last) >> 63))
        return PT_EINVAL; /* the second test catches a range across the hole */
    return PT_OK;
}

static bool flags_ok(uint64_t flags)
{
    return (flags & ~LEAF_FLAGS_ALLOWED) == 0;
}

/* Copies the root entries covering [va, va + size) of the lower half into
 * the isolated root, if any: after every operation that may have added,
 * changed (a U bit) or removed one. The range is checked and non-empty. */
static void mirror_lower_half(const struct pt_space *s, uint64_t va, uint64_t size)
{
    if (!s->isolated_root_phys || (va >> 63) || size == 0)
        return;
    unsigned first = level_index(va, 4), last = level_index(va + (size - 1), 4);
    if (last >= ENTRIES / 2 || last < first)
        last = ENTRIES / 2 - 1; /* never hv's half, whatever the range */
    const uint64_t *from = table_at(s, s->root_phys);
    uint64_t *to = table_at(s, s->isolated_root_phys);
    for (unsigned i = first; i <= last; i++)
        to[i] = from[i];
}

/* Walks to the leaf for va, or to the first non-present entry on the way;
 * *level says where it stopped. With set_user, intermediates passed through
 * get U. */
static uint64_t *walk(const struct pt_space *s, uint64_t va, bool set_user, int *level)
{
    uint64_t table = s->root_phys;
    for (int l = 4;; l--) {
        uint64_t *e = table_at(s, table) + level_index(va, l);
        if (!(*e & PTE_P) || is_leaf(*e, l)) {
            *level = l;
            return e;
        }
        if (set_user)
            *e |= PTE_U;
        table = *e & PTE_ADDR_MASK;
    }
}

/* Bytes from va to the end of the entry at `level` covering it, capped. */
static uint64_t step_size(uint64_t va, int level, uint64_t remaining)
{
    uint64_t span = level_span(level);
    uint64_t step = span - (va & (span - 1));
    return step < remaining ? step : remaining;
}

static uint64_t new_table(struct pt_space *s)
{
    uint64_t t = s->alloc_table(s->alloc_arg);
    /* a page we cannot point an entry at is as good as none */
    return (t & ~PTE_ADDR_MASK) ? 0 : t;
}

/* Finds (creating tables on the way) the entry at `target` level for va. */
static int descend(struct pt_space *s, uint64_t va, int target, bool user, uint64_t **out)
{
    uint64_t table = s->root_phys;
    for (int l = 4; l > target; l--) {
        uint64_t *e = table_at(s, table) + level_index(va, l);
        if (!(*e & PTE_P)) {
            uint64_t t = new_table(s);
            if (!t)
                return PT_ENOMEM;
            *e = t | INTERMEDIATE | (user ? PTE_U : 0);
        } else if (is_leaf(*e, l)) {
            return PT_EEXIST;
        } else if (user) {
            *e |= PTE_U;
        }
        table = *e & PTE_ADDR_MASK;
    }
    *out = table_at(s, table) + level_index(va, target);
    return PT_OK;
}

/* Replaces large leaf *e at `level` by a table of equal smaller leaves. */
static int split_leaf(struct pt_space *s, uint64_t *e, int level)
{
    uint64_t t = new_table(s);
    if (!t)
        return PT_ENOMEM;
    uint64_t leaf = *e, child_span = level_span(level - 1);
    uint64_t base = leaf & PTE_ADDR_MASK & ~(level_span(level) - 1);
    uint64_t child_flags = leaf & ~PTE_ADDR_MASK;
    if (level - 1 == 1)
        child_flags &= ~PTE_PS; /* bit 7 means PAT in a 4 KiB leaf */
    uint64_t *child = table_at(s, t);
    for (unsigned i = 0; i < ENTRIES; i++)
        child[i] = (base + i * child_span) | child_flags;
    /* the new table must be complete before an entry points at it */
    __asm__ volatile("" ::: "memory");
    *e = t | INTERMEDIATE | (leaf & PTE_U);
    return PT_OK;
}

/* Splits until no large leaf covers both sides of boundary address b. */
static int split_at(struct pt_space *s, uint64_t b)
{
    if (!is_canonical(b))
        return PT_OK; /* the end of a half: nothing straddles it */
    for (;;) {
        int level;
        uint64_t *e = walk(s, b, false, &level);
        if (!(*e & PTE_P) || level == 1 || (b & (level_span(level) - 1)) == 0)
            return PT_OK;
        int rc = split_leaf(s, e, level);
        if (rc != PT_OK)
            return rc;
    }
}

static int split_range_ends(struct pt_space *s, uint64_t va, uint64_t size)
{
    int rc = split_at(s, va);
    if (rc == PT_OK && va + size != 0)
        rc = split_at(s, va + size);
    return rc;
}

/* Clears every leaf in the range; leaves must not stick out of it. */
static void clear_leaves(struct pt_space *s, uint64_t va, uint64_t size)
{
    for (uint64_t done = 0; done < size;) {
        int level;
        uint64_t *e = walk(s, va + done, false, &level);
        if (*e & PTE_P)
            *e = 0;
        done += step_size(va + done, level, size - done);
    }
}

/* Whether every page of the range is mapped (want_mapped) or none is. */
static bool range_is(const struct pt_space *s, uint64_t va, uint64_t size, bool want_mapped)
{
    for (uint64_t done = 0; done < size;) {
        int level;
        uint64_t *e = walk(s, va + done, false, &level);
        if (((*e & PTE_P) != 0) != want_mapped)
            return false;
        done += step_size(va + done, level, size - done);
    }
    return true;
}

int pt_init(struct pt_space *s, uintptr_t direct_map_offset, uint64_t (*alloc_table)(void *),
            void *arg)
{
    if (!s || !alloc_table)
        return PT_EINVAL;
    s->direct_map_offset = direct_map_offset;
    s->alloc_table = alloc_table;
    s->alloc_arg = arg;
    s->isolated_root_phys = 0;
    s->root_phys = new_table(s);
    return s->root_phys ? PT_OK : PT_ENOMEM;
}

/* Maps one leaf at va, as large as allowed and possible; *step = its size. */
static int map_one(struct pt_space *s, uint64_t va, uint64_t pa, uint64_t remaining,
                   uint64_t flags, unsigned opts, uint64_t *step)
{
    bool user = flags & PTE_U;
    for (int level = 3; level >= 1; level--) {
        uint64_t span = level_span(level);
        if (level == 3 && !(opts & PT_ALLOW_1G))
            continue;
        if (level == 2 && !(opts & PT_ALLOW_2M))
            continue;
        if (level > 1 && (((va | pa) & (span - 1)) || remaining < span))
            continue;
        uint64_t *e;
        int rc = descend(s, va, level, user, &e);
        if (rc != PT_OK)
            return rc;
        if (*e & PTE_P) {
            if (level == 1)
                return PT_EEXIST;
            continue; /* a table already lives here: use smaller leaves */
        }
        *e = pa | flags | PTE_P | (level > 1 ? PTE_PS : 0);
        *step = span;
        return PT_OK;
    }
    return PT_EINVAL; /* not reached: level 1 always decides */
}

int pt_map(struct pt_space *s, uint64_t va, uint64_t pa, uint64_t size, uint64_t flags,
           unsigned map_opts)
{
    int rc = check_range(s, va, size);
    if (rc != PT_OK)
        return rc;
    if ((pa & (PAGE_SIZE_4K - 1)) || pa >= PHYS_LIMIT || size > PHYS_LIMIT - pa ||
        !flags_ok(flags))
        return PT_EINVAL;
    if (!range_is(s, va, size, false))
        return PT_EEXIST;
    for (uint64_t done = 0; done < size;) {
        uint64_t step = 0;
        rc = map_one(s, va + done, pa + done, size - done, flags, map_opts, &step);
        if (rc != PT_OK) {
            clear_leaves(s, va, done); /* all ours, none sticks out */
            mirror_lower_half(s, va, size);
            return rc;
        }
        done += step;
    }
    mirror_lower_half(s, va, size);
    return PT_OK;
}

int pt_unmap(struct pt_space *s, uint64_t va, uint64_t size)
{
    int rc = check_range(s, va, size);
    if (rc == PT_OK)
        rc = split_range_ends(s, va, size);
    if (rc == PT_OK)
        clear_leaves(s, va, size);
    return rc;
}

int pt_protect(struct pt_space *s, uint64_t va, uint64_t size, uint64_t flags)
{
    int rc = check_range(s, va, size);
    if (rc != PT_OK)
        return rc;
    if (!flags_ok(flags))
        return PT_EINVAL;
    if (!range_is(s, va, size, true))
        return PT_ENOENT;
    rc = split_range_ends(s, va, size);
    if (rc != PT_OK)
        return rc;
    bool user = flags & PTE_U;
    for (uint64_t done = 0; done < size;) {
        int level;
        uint64_t *e = walk(s, va + done, user, &level);
        uint64_t addr = *e & PTE_ADDR_MASK & ~(level_span(level) - 1);
        *e = addr | flags | PTE_P | (level > 1 ? PTE_PS : 0);
        done += step_size(va + done, level, size - done);
    }
    mirror_lower_half(s, va, size); /* a U bit on the way */
    return PT_OK;
}

bool pt_lookup(const struct pt_space *s, uint64_t va, uint64_t *pa, uint64_t *flags)
{
    if (!s || !s->root_phys || !is_canonical(va))
        return false;
    uint64_t table = s->root_phys, all = PTE_W | PTE_U, any = 0;
    for (int l = 4;; l--) {
        uint64_t e = table_at(s, table)[level_index(va, l)];
        if (!(e & PTE_P))
            return false;
        all &= e;
        any |= e & PTE_NX;
        if (is_leaf(e, l)) {
            uint64_t span = level_span(l);
            if (pa)
                *pa = (e & PTE_ADDR_MASK & ~(span - 1)) | (va & (span - 1));
            if (flags)
                *flags = (e & ~PTE_ADDR_MASK & ~(PTE_W | PTE_U | PTE_NX)) | all | any;
            return true;
        }
        table = e & PTE_ADDR_MASK;
    }
}

/* Depth is bounded by the four levels. */
static void visit(const struct pt_space *s, uint64_t table, int level, uint64_t base,
                  uint64_t lo, uint64_t hi, pt_visit_fn fn, void *arg)
{
    if (level > 1) {
        const uint64_t *t = table_at(s, table);
        uint64_t span = level_span(level);
        for (unsigned i = 0; i < ENTRIES; i++) {
            uint64_t e = t[i];
            if (!(e & PTE_P) || is_leaf(e, level))
                continue;
            uint64_t first = base + i * span;
            if (level == 4 && i >= ENTRIES / 2)
                first |= 0xffff000000000000ULL; /* upper half, sign-extended */
            if (first > hi || first + (span - 1) < lo)
                continue;
            visit(s, e & PTE_ADDR_MASK, level - 1, first, lo, hi, fn, arg);
        }
    }
    fn(arg, table, level);
}

void pt_for_each_table(const struct pt_space *s, uint64_t va_lo, uint64_t va_hi, pt_visit_fn fn,
                       void *arg)
{
    if (!s || !s->root_phys || !fn)
        return;
    visit(s, s->root_phys, 4, 0, va_lo, va_hi, fn, arg);
}

int pt_set_leaf_flags(struct pt_space *s, uint64_t va, uint64_t flags)
{
    if (!s || !s->root_phys || !is_canonical(va) || (va & (PAGE_SIZE_4K - 1)) || !flags_ok(flags))
        return PT_EINVAL;
    int level;
    uint64_t *e = walk(s, va, flags & PTE_U, &level);
    mirror_lower_half(s, va, PAGE_SIZE_4K); /* the walk may have set a U bit */
    if (!(*e & PTE_P) || level != 1)
        return PT_ENOENT;
    *e = (*e & PTE_ADDR_MASK) | flags | PTE_P;
    return PT_OK;
}

int pt_missing_tables(const struct pt_space *s, uint64_t va)
{
    if (!s || !s->root_phys || !is_canonical(va))
        return 0;
    int level;
    uint64_t *e = walk(s, va, false, &level);
    return (*e & PTE_P) ? 0 : level - 1;
}

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
    /* The range never crosses the hole (check_range), so at the root hi
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
    int rc = check_range(s, va, size);
    if (rc != PT_OK)
        return rc;
    if (!step || !step->free_table || step->budget < PT_UNMAP_MIN_BUDGET)
        return PT_EINVAL;
    rc = split_range_ends(s, va, size);
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
    mirror_lower_half(s, va, *done); /* tables freed lie in what was done */
    return PT_OK;
}
