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
 * bit of each. `below` marks bytes under 0x20: it can also mark a byte
 * above such a byte (a borrow runs upwards), never one below, so the lowest
 * mark is exact, which is all copy_run uses. Adding 1 to the low seven bits
 * carries into the top bit exactly for 0x7f; bytes with the top bit set
 * mark themselves. */
static uint64_t unprintable(uint64_t w)
{
    uint64_t below = (w - ONES * 0x20) & ~w & HIGHS;
    uint64_t del = ((w & ~HIGHS) + ONES) & HIGHS;
    return below | del | (w & HIGHS);
}

/* Copies up to k bytes, sanitized, stopping before a newline; returns how
 * many. Eight at a time: a word is stored whole (dst has room for k bytes)
 * and its first unprintable byte, if any, then handled on its own. */
static size_t copy_run(char *dst, const char *src, size_t k)
{
    size_t j = 0;
    while (j + 8 <= k) {
        uint64_t w;
        __builtin_memcpy(&w, src + j, 8);
        uint64_t bad = unprintable(w);
        __builtin_memcpy(dst + j, &w, 8);
        if (!bad) {
            j += 8;
            continue;
        }
        j += (size_t)__builtin_ctzll(bad) >> 3;
        unsigned char c = (unsigned char)src[j];
        if (c == '\n')
            return j;
        dst[j++] = sanitize(c);
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
        size_t j = copy_run(t->text + t->len, in + i, k);
        t->len += (uint32_t)j;
        left -= j;
        i += j;
    }
    *budget = left;
    return i;
}
