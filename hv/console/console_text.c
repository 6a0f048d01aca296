#include "hv/console/console_text.h"

#include <stdbool.h>

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

static char sanitize(unsigned char c)
{
    if (c >= 0x20 && c < 0x7f)
        return (char)c;
    return c == '\t' ? ' ' : '?';
}

/* True if all eight bytes of w are printable ASCII (0x20..0x7e). SWAR:
 * `below` is non-zero iff some byte is under 0x20 (a borrow only starts at
 * such a byte); adding 1 to the low seven bits of each byte carries into
 * its top bit iff the byte is 0x7f; bytes with the top bit set are caught
 * by `w & HIGHS` directly. */
static bool all_printable(uint64_t w)
{
    uint64_t below = (w - ONES * 0x20) & ~w & HIGHS;
    uint64_t del = ((w & ~HIGHS) + ONES) & HIGHS;
    return !(below | del | (w & HIGHS));
}

/* Copies k bytes, sanitized, stopping before a newline; returns how many. */
static size_t copy_run(char *dst, const char *src, size_t k)
{
    size_t j = 0;
    for (; j + 8 <= k; j += 8) {
        uint64_t w;
        __builtin_memcpy(&w, src + j, 8);
        if (!all_printable(w))
            break;
        __builtin_memcpy(dst + j, &w, 8);
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
                         uint32_t line_cost, console_text_commit commit, void *arg)
{
    size_t i = 0;
    uint64_t left = *budget;
    while (i < n) {
        if (in[i] == '\n') {
            if (t->len == 0) {
                if (left < line_cost)
                    break;
                left -= line_cost;
            }
            commit(arg, t->text, t->len);
            t->len = 0;
            i++;
            continue;
        }
        if (t->len == CONSOLE_TEXT_MAX) {
            commit(arg, t->text, t->len); /* an over-long line continues on the next */
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
