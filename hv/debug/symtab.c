#include "hv/debug/symtab.h"

/* Both functions decode with every read bounds-checked, so a bad table
 * (truncated, or written by someone else) cannot make them read outside it;
 * work is bounded by the table's size. */

static bool read_uleb(const struct symtab *t, size_t *at, uint64_t *value)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64 && *at < t->nums_size; shift += 7) {
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

/* Decodes the entry after *end (the previous entry's end). */
static bool next_entry(const struct symtab *t, size_t *num_at, size_t *name_at, uint64_t *end,
                       struct entry *e)
{
    uint64_t gap;
    if (!read_uleb(t, num_at, &gap) || !read_uleb(t, num_at, &e->size))
        return false;
    e->name = next_name(t, name_at);
    if (!e->name)
        return false;
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
    size_t num_at = 0, name_at = 0;
    uint64_t end = c.base, last_start = 0;
    for (uint32_t i = 0; i < c.count; i++) {
        struct entry e;
        if (!next_entry(&c, &num_at, &name_at, &end, &e) || (i && e.start < last_start))
            return false;
        last_start = e.start;
    }
    if (num_at != c.nums_size || name_at != c.names_size)
        return false;
    *t = c;
    return true;
}

const char *symtab_lookup(const struct symtab *t, uint64_t addr, uint64_t *offset)
{
    size_t num_at = 0, name_at = 0;
    uint64_t end = t->base;
    struct entry best = { .name = NULL };
    for (uint32_t i = 0; i < t->count; i++) {
        struct entry e;
        if (!next_entry(t, &num_at, &name_at, &end, &e) || e.start > addr)
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
