#include "hv/console/linebuf.h"

/* Header: seq (4 bytes, little endian), length (2), level (1), unused (1). */

void linebuf_init(struct linebuf *b, char *storage, uint32_t cap)
{
    b->data = storage;
    b->cap = storage ? cap : 0;
    b->head = b->used = b->lines = 0;
}

uint32_t linebuf_free_bytes(const struct linebuf *b)
{
    return b->cap - b->used;
}

/* Eight bytes a step: a guest's console write copies its line in here. */
static void copy_bytes(char *dst, const char *src, size_t n)
{
    for (; n >= 8; n -= 8, dst += 8, src += 8) {
        uint64_t w;
        __builtin_memcpy(&w, src, 8);
        __builtin_memcpy(dst, &w, 8);
    }
    while (n--)
        *dst++ = *src++;
}

/* At most two straight copies: up to the end of the ring, then from its start. */
static void put_bytes(struct linebuf *b, uint32_t at, const char *src, size_t n)
{
    uint32_t pos = at % b->cap;
    size_t first = b->cap - pos < n ? b->cap - pos : n;
    copy_bytes(b->data + pos, src, first);
    copy_bytes(b->data, src + first, n - first);
}

static void get_bytes(const struct linebuf *b, uint32_t at, char *dst, size_t n)
{
    uint32_t pos = at % b->cap;
    size_t first = b->cap - pos < n ? b->cap - pos : n;
    copy_bytes(dst, b->data + pos, first);
    copy_bytes(dst + first, b->data, n - first);
}

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
    char header[LINEBUF_HEADER] = {(char)seq, (char)(seq >> 8), (char)(seq >> 16),
                                   (char)(seq >> 24), (char)len, (char)(len >> 8), (char)level, 0};
    uint32_t at = b->head + b->used; /* < 2 * cap: no overflow, reduced mod cap */
    put_bytes(b, at, header, LINEBUF_HEADER);
    at += LINEBUF_HEADER;
    for (unsigned i = 0; i < nparts; i++) {
        put_bytes(b, at, parts[i].bytes, parts[i].len);
        at += (uint32_t)parts[i].len;
    }
    b->used += LINEBUF_HEADER + (uint32_t)len;
    b->lines++;
    return true;
}

static void read_header(const struct linebuf *b, uint32_t *seq, size_t *len, uint8_t *level)
{
    unsigned char h[LINEBUF_HEADER];
    get_bytes(b, b->head, (char *)h, LINEBUF_HEADER);
    *seq = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 | (uint32_t)h[3] << 24;
    *len = (size_t)h[4] | (size_t)h[5] << 8;
    *level = h[6];
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
    b->head = (b->head + size) % b->cap;
    b->used -= size;
    b->lines--;
    if (!b->lines)
        b->head = b->used = 0; /* empty: start over at 0, lines stay contiguous longer */
    return len;
}
