/* 4-level page tables. Every operation that can fail checks first and
 * changes afterwards, or only makes changes that keep the translation as it
 * was (splitting a large leaf into equal smaller ones), so a failure never
 * leaves a half-done range behind. */
#include "hv/mm/pagetable.h"

#include "hv/mm/pt_internal.h"

int pt_check_range(const struct pt_space *s, uint64_t va, uint64_t size)
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
void pt_mirror_lower_half(const struct pt_space *s, uint64_t va, uint64_t size)
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

int pt_split_range_ends(struct pt_space *s, uint64_t va, uint64_t size)
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
    int rc = pt_check_range(s, va, size);
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
            pt_mirror_lower_half(s, va, size);
            return rc;
        }
        done += step;
    }
    pt_mirror_lower_half(s, va, size);
    return PT_OK;
}

int pt_unmap(struct pt_space *s, uint64_t va, uint64_t size)
{
    int rc = pt_check_range(s, va, size);
    if (rc == PT_OK)
        rc = pt_split_range_ends(s, va, size);
    if (rc == PT_OK)
        clear_leaves(s, va, size);
    return rc;
}

int pt_protect(struct pt_space *s, uint64_t va, uint64_t size, uint64_t flags)
{
    int rc = pt_check_range(s, va, size);
    if (rc != PT_OK)
        return rc;
    if (!flags_ok(flags))
        return PT_EINVAL;
    if (!range_is(s, va, size, true))
        return PT_ENOENT;
    rc = pt_split_range_ends(s, va, size);
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
    pt_mirror_lower_half(s, va, size); /* a U bit on the way */
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
    pt_mirror_lower_half(s, va, PAGE_SIZE_4K); /* the walk may have set a U bit */
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
