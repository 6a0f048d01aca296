#include "hv/console/console_text.h"

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static char sanitize(unsigned char c)
{
    if (c >= 0x20 && c < 0x7f)
        return (char)c;
    return c == '\t' ? ' ' : '?';
}

/* The bytes of w that are not printable ASCII (0x20..0x7e), as the top
 * bit of each; exact for the lowest byte so marked, which is all
 * console_text_copy_line uses. For a byte b with no borrow or carry from
 * below: b - 0x20 has its top bit set exactly when b < 0x20 or b >= 0xa0,
 * b + 1 exactly when b is 0x7f..0xfe, and b itself when b >= 0x80; the
 * three together mark b < 0x20 and b >= 0x7f. A borrow (from a byte under
 * 0x20) or a carry (from 0xff) runs upwards and only ever leaves a byte
 * that marks itself, so a wrong mark is never the lowest. Five operations
 * a word: a 64-byte line is eight. */
static uint64_t unprintable(uint64_t w)
{
    return ((w - ONES * 0x20) | (w + ONES) | w) & HIGHS;
}

size_t console_text_copy_line(char *dst, const char *src, size_t k)
{
    size_t j = 0;
    while (j + 8 <= k) {
        uint64_t w;
        __builtin_memcpy(&w, src + j, 8);
        __builtin_memcpy(dst + j, &w, 8);
        uint64_t bad = unprintable(w);
        if (__builtin_expect(!bad, 1)) {
            j += 8;
            continue;
        }
        j += (size_t)__builtin_ctzll(bad) >> 3;
        unsigned char c = (unsigned char)src[j];
        if (c == '\n')
            return j;
        dst[j++] = sanitize(c);
    }
    /* The last few bytes: as one word ending at k (it overlaps bytes
     * already copied) when all eight are printable, the usual end of a
     * line; they then equal what is already there. */
    if (j < k && k >= 8) {
        uint64_t w;
        __builtin_memcpy(&w, src + k - 8, 8);
        if (!unprintable(w)) {
            __builtin_memcpy(dst + k - 8, &w, 8);
            return k;
        }
    }
    for (; j < k; j++) {
        unsigned char c = (unsigned char)src[j];
        if (c == '\n')
            break;
        dst[j] = sanitize(c);
    }
    return j;
}

size_t console_text_take(struct console_text *t, const char *in, size_t n, uint64_t *budget,
                         uint32_t line_cost, uint32_t max_lines, console_text_commit commit,
                         void *arg)
{
    size_t i = 0;
    uint64_t left = *budget;
    uint32_t lines = 0;
    while (i < n) {
        if (in[i] == '\n' || t->len == CONSOLE_TEXT_MAX) {
            if (lines == max_lines)
                break; /* this byte would end one more line: the next call's */
        }
        if (in[i] == '\n') {
            if (t->len == 0) {
                if (left < line_cost)
                    break;
                left -= line_cost;
            }
            commit(arg, t->text, t->len);
            lines++;
            t->len = 0;
            i++;
            continue;
        }
        if (t->len == CONSOLE_TEXT_MAX) {
            commit(arg, t->text, t->len); /* an over-long line continues on the next */
            lines++;
            t->len = 0;
        }
        if (t->len == 0) {
            if (left < (uint64_t)line_cost + 1)
                break;
            left -= line_cost;
        }
        size_t k = n - i;
        if (k > CONSOLE_TEXT_MAX - t->len)
            k = CONSOLE_TEXT_MAX - t->len;
        if (k > left)
            k = (size_t)left;
        if (k == 0)
            break;
        size_t j = console_text_copy_line(t->text + t->len, in + i, k);
        t->len += (uint32_t)j;
        left -= j;
        i += j;
    }
    *budget = left;
    return i;
}
