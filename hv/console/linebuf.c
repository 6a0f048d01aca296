#include "hv/console/linebuf.h"

void linebuf_init(struct linebuf *b, char *storage, uint32_t cap)
{
    b->data = storage;
    b->cap = storage ? cap : 0;
    b->head = b->used = b->lines = 0;
}


static void copy8(char *dst, const char *src)
{
    uint64_t w;
    __builtin_memcpy(&w, src, 8);
    __builtin_memcpy(dst, &w, 8);
}

/* Eight bytes a step, the last step overlapping the one before (no byte
 * loop for the tail): a guest's console write copies its line in here. */
static void copy_bytes(char *dst, const char *src, size_t n)
{
    if (n >= 8) {
        size_t i = 0;
        for (; i + 8 <= n; i += 8)
            copy8(dst + i, src + i);
        if (i < n)
            copy8(dst + n - 8, src + n - 8);
        return;
    }
    if (n >= 4) {
        uint32_t a, z;
        __builtin_memcpy(&a, src, 4);
        __builtin_memcpy(&z, src + n - 4, 4);
        __builtin_memcpy(dst, &a, 4);
        __builtin_memcpy(dst + n - 4, &z, 4);
        return;
    }
    while (n--)
        *dst++ = *src++;
}


/* At most two straight copies: up to the end of the ring, then from its start. */
static void put_bytes(struct linebuf *b, uint32_t at, const char *src, size_t n)
{
    uint32_t pos = linebuf_wrap(b, at);
    size_t first = b->cap - pos < n ? b->cap - pos : n;
    copy_bytes(b->data + pos, src, first);
    copy_bytes(b->data, src + first, n - first);
}

static void get_bytes(const struct linebuf *b, uint32_t at, char *dst, size_t n)
{
    uint32_t pos = linebuf_wrap(b, at);
    size_t first = b->cap - pos < n ? b->cap - pos : n;
    copy_bytes(dst, b->data + pos, first);
    copy_bytes(dst + first, b->data, n - first);
}

/* Header: seq (bits 0-31), length (32-47), level (48-55), little endian. */

bool linebuf_put(struct linebuf *b, uint32_t seq, uint8_t level, const struct linebuf_part *parts,
                 unsigned nparts)
{
    size_t len = 0;
    for (unsigned i = 0; i < nparts; i++) {
        if (parts[i].len > LINEBUF_LINE_MAX)
            return false;
        len += parts[i].len;
    }
    if (len == 0 || len > LINEBUF_LINE_MAX || LINEBUF_HEADER + len > linebuf_free_bytes(b))
        return false;
    uint64_t header = linebuf_header(seq, level, len);
    uint32_t at = linebuf_wrap(b, b->head + b->used);
    if (at + LINEBUF_HEADER + len <= b->cap) {
        /* The usual case: the record does not wrap; straight stores. */
        char *p = b->data + at;
        __builtin_memcpy(p, &header, LINEBUF_HEADER);
        p += LINEBUF_HEADER;
        for (unsigned i = 0; i < nparts; i++) {
            copy_bytes(p, parts[i].bytes, parts[i].len);
            p += parts[i].len;
        }
    } else {
        char h[LINEBUF_HEADER];
        __builtin_memcpy(h, &header, LINEBUF_HEADER);
        put_bytes(b, at, h, LINEBUF_HEADER);
        at = linebuf_wrap(b, at + LINEBUF_HEADER);
        for (unsigned i = 0; i < nparts; i++) {
            put_bytes(b, at, parts[i].bytes, parts[i].len);
            at = linebuf_wrap(b, at + (uint32_t)parts[i].len);
        }
    }
    b->used += LINEBUF_HEADER + (uint32_t)len;
    b->lines++;
    return true;
}

static void read_header(const struct linebuf *b, uint32_t *seq, size_t *len, uint8_t *level)
{
    char h[LINEBUF_HEADER];
    get_bytes(b, b->head, h, LINEBUF_HEADER);
    uint64_t header;
    __builtin_memcpy(&header, h, LINEBUF_HEADER);
    *seq = (uint32_t)header;
    *len = (size_t)(header >> 32 & 0xffff);
    *level = (uint8_t)(header >> 48);
}

bool linebuf_head_seq(const struct linebuf *b, uint32_t *seq)
{
    if (!b->lines)
        return false;
    size_t len;
    uint8_t level;
    read_header(b, seq, &len, &level);
    return true;
}

size_t linebuf_pop(struct linebuf *b, char *out, uint8_t *level)
{
    if (!b->lines)
        return 0;
    uint32_t seq;
    size_t len;
    read_header(b, &seq, &len, level);
    get_bytes(b, b->head + LINEBUF_HEADER, out, len);
    uint32_t size = LINEBUF_HEADER + (uint32_t)len;
    b->head = linebuf_wrap(b, b->head + size);
    b->used -= size;
    b->lines--;
    if (!b->lines)
        b->head = b->used = 0; /* empty: start over at 0, lines stay contiguous longer */
    return len;
}
