#include "tools/symtab_enc.h"

#include <stdlib.h>
#include <string.h>

#include "hv/debug/symtab.h"

static int by_start(const void *a, const void *b)
{
    const struct symtab_entry *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return strcmp(x->name, y->name);
}

static size_t put_uleb(uint8_t *out, size_t at, size_t cap, uint64_t v)
{
    do {
        if (at >= cap)
            return 0;
        uint8_t b = v & 0x7f;
        v >>= 7;
        out[at++] = b | (v ? 0x80 : 0);
    } while (v);
    return at;
}

size_t symtab_encode(struct symtab_entry *e, size_t n, uint8_t *out, size_t cap)
{
    struct symtab_header h = { .magic = SYMTAB_MAGIC, .count = (uint32_t)n };
    if (n > UINT32_MAX || cap < sizeof(h))
        return 0;
    qsort(e, n, sizeof(*e), by_start);
    h.base = n ? e[0].start : 0;
    /* Numbers first, straight after the header: the gaps, then the sizes'
     * low bytes and their high parts; names go to a last pass. */
    size_t at = sizeof(h);
    uint64_t end = h.base;
    for (size_t i = 0; i < n; i++) {
        uint64_t gap = e[i].start - end; /* wraps for an overlap */
        uint64_t zz = (int64_t)gap < 0 ? ((0 - gap) << 1) - 1 : gap << 1;
        if (!(at = put_uleb(out, at, cap, zz)))
            return 0;
        end = e[i].start + e[i].size;
    }
    if (n > cap - at)
        return 0;
    for (size_t i = 0; i < n; i++)
        out[at++] = (uint8_t)e[i].size;
    for (size_t i = 0; i < n; i++)
        if (!(at = put_uleb(out, at, cap, e[i].size >> 8)))
            return 0;
    h.nums_size = (uint32_t)(at - sizeof(h));
    size_t names_from = at;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(e[i].name) + 1;
        if (len > cap - at)
            return 0;
        memcpy(out + at, e[i].name, len);
        at += len;
    }
    if (at - sizeof(h) > UINT32_MAX)
        return 0;
    h.names_size = (uint32_t)(at - names_from);
    memcpy(out, &h, sizeof(h));
    return at;
}
