#include "hv/debug/symtab.h"

/* Both functions decode with every read bounds-checked, so a bad table
 * (truncated, or written by someone else) cannot make them read outside it;
 * work is bounded by the table's size. */

/* One ULEB128 number at *at, below `limit` (the end of its stream). */
static bool read_uleb(const struct symtab *t, size_t *at, size_t limit, uint64_t *value)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *at < limit; shift += 7) {
        uint8_t b = t->nums[(*at)++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *value = v;
            return true;
        }
    }
    return false;
}

/* The name at *at and *at moved past its NUL; NULL if no NUL is left. */
static const char *next_name(const struct symtab *t, size_t *at)
{
    for (size_t i = *at; i < t->names_size; i++) {
        if (t->names[i] == '\0') {
            const char *name = t->names + *at;
            *at = i + 1;
            return name;
        }
    }
    return NULL;
}

struct entry {
    uint64_t start, size;
    const char *name;
};

/* Where the next entry's numbers and name are, and the previous entry's
 * end. */
struct cursor {
    size_t gap_at, low_at, high_at, name_at;
    uint64_t end;
};

static struct cursor first_entry(const struct symtab *t)
{
    return (struct cursor){ .low_at = t->low_at, .high_at = t->high_at, .end = t->base };
}

/* Decodes the entry at c and moves c past it. */
static bool next_entry(const struct symtab *t, struct cursor *c, struct entry *e)
{
    uint64_t gap, high;
    if (c->low_at >= t->high_at || !read_uleb(t, &c->gap_at, t->low_at, &gap) ||
        !read_uleb(t, &c->high_at, t->nums_size, &high))
        return false;
    e->size = high << 8 | t->nums[c->low_at++];
    e->name = next_name(t, &c->name_at);
    if (!e->name)
        return false;
    uint64_t *end = &c->end;
    /* Zigzag: even values are gaps >= 0, odd ones overlaps (an alias, or
     * a function inside another's range). Unsigned arithmetic wraps, as
     * intended for an overlap. */
    e->start = *end + ((gap >> 1) ^ (0 - (gap & 1)));
    *end = e->start + e->size;
    return true;
}

bool symtab_open(struct symtab *t, const void *blob, size_t size)
{
    struct symtab_header h;
    if (size < sizeof(h))
        return false;
    __builtin_memcpy(&h, blob, sizeof(h));
    if (h.magic != SYMTAB_MAGIC || h.nums_size > size - sizeof(h) ||
        h.names_size > size - sizeof(h) - h.nums_size)
        return false;
    struct symtab c = {
        .nums = (const uint8_t *)blob + sizeof(h),
        .names = (const char *)blob + sizeof(h) + h.nums_size,
        .nums_size = h.nums_size,
        .names_size = h.names_size,
        .count = h.count,
        .base = h.base,
    };
    /* The sizes' low bytes follow the gaps: skip count numbers to find
     * them; their high parts follow count bytes later. */
    for (uint32_t i = 0; i < c.count; i++) {
        uint64_t skipped;
        if (!read_uleb(&c, &c.low_at, c.nums_size, &skipped))
            return false;
    }
    if (c.count > c.nums_size - c.low_at)
        return false;
    c.high_at = c.low_at + c.count;
    struct cursor at = first_entry(&c);
    uint64_t last_start = 0;
    for (uint32_t i = 0; i < c.count; i++) {
        struct entry e;
        if (!next_entry(&c, &at, &e) || (i && e.start < last_start))
            return false;
        last_start = e.start;
    }
    if (at.gap_at != c.low_at || at.high_at != c.nums_size || at.name_at != c.names_size)
        return false;
    *t = c;
    return true;
}

const char *symtab_lookup(const struct symtab *t, uint64_t addr, uint64_t *offset)
{
    struct cursor at = first_entry(t);
    struct entry best = { .name = NULL };
    for (uint32_t i = 0; i < t->count; i++) {
        struct entry e;
        if (!next_entry(t, &at, &e) || e.start > addr)
            break;
        /* Sorted by start: the first of equal starts wins, as in nm. */
        if (!best.name || e.start > best.start)
            best = e;
    }
    if (!best.name || (best.size && addr - best.start >= best.size))
        return NULL;
    *offset = addr - best.start;
    return best.name;
}
