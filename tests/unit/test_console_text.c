/* hv/console/console_text: what a guest's bytes become and what they cost.
 * A byte-at-a-time model of the documented rules checks random input cut
 * into random writes under random budgets; named cases pin the rules the
 * ABI states (label charged per line, newline floods cost the most). */
#include "hv/console/console_text.h"

#include <stdbool.h>

#include "tests/unit/check.h"

struct out {
    char text[1 << 16];
    size_t len;
    unsigned lines;
};

static void commit(void *arg, const char *text, size_t len)
{
    struct out *o = arg;
    CHECK(len <= CONSOLE_TEXT_MAX);
    memcpy(o->text + o->len, text, len);
    o->len += len;
    o->text[o->len++] = '\n';
    o->lines++;
}

/* The rules, one byte at a time. */
struct model {
    size_t len; /* characters in the open line */
};

static size_t model_take(struct model *m, const char *in, size_t n, uint64_t *budget,
                         uint32_t cost, struct out *o)
{
    size_t i;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '\n') {
            if (m->len == 0) {
                if (*budget < cost)
                    break;
                *budget -= cost;
            }
            o->text[o->len++] = '\n';
            o->lines++;
            m->len = 0;
            continue;
        }
        uint64_t need = 1;
        bool wrap = m->len == CONSOLE_TEXT_MAX;
        if (wrap) {
            o->text[o->len++] = '\n';
            o->lines++;
            m->len = 0;
        }
        if (m->len == 0)
            need += cost;
        if (*budget < need)
            break;
        *budget -= need;
        o->text[o->len++] = c == '\t' ? ' ' : (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
        m->len++;
    }
    return i;
}

static struct out got, want;

static void newline_flood_pays_label(void)
{
    struct console_text t = {.len = 0};
    char nl[256];
    memset(nl, '\n', sizeof(nl));
    uint64_t budget = 2048;
    got.len = got.lines = 0;
    size_t taken = console_text_take(&t, nl, sizeof(nl), &budget, 20, UINT32_MAX, commit, &got);
    CHECK_EQ_U64(taken, 2048 / 20); /* 102 empty lines of 20 bytes each */
    CHECK_EQ_U64(budget, 2048 % 20);
    CHECK_EQ_U64(got.lines, 102);

    struct console_text u = {.len = 0};
    char letters[256];
    memset(letters, 'a', sizeof(letters));
    budget = 2048;
    taken = console_text_take(&u, letters, sizeof(letters), &budget, 20, UINT32_MAX, commit, &got);
    CHECK_EQ_U64(taken, 256); /* 160 + 20, then 96 + 20: 296 */
    CHECK_EQ_U64(budget, 2048 - 296);
}

static void sanitizes(void)
{
    struct console_text t = {.len = 0};
    const char in[] = "a\tb\x1b[2J\x7f\x80\xff" "cdefghijklmnop\r\n";
    uint64_t budget = 1000;
    got.len = got.lines = 0;
    size_t taken = console_text_take(&t, in, sizeof(in) - 1, &budget, 10, UINT32_MAX, commit, &got);
    CHECK_EQ_U64(taken, sizeof(in) - 1);
    got.text[got.len] = 0;
    CHECK_STR_EQ(got.text, "a b?[2J???cdefghijklmnop?\n");
    CHECK_EQ_U64(budget, 1000 - 10 - 25);
}

static void long_line_wraps_and_charges_again(void)
{
    struct console_text t = {.len = 0};
    char in[400];
    memset(in, 'x', sizeof(in));
    uint64_t budget = 100000;
    got.len = got.lines = 0;
    CHECK_EQ_U64(console_text_take(&t, in, sizeof(in), &budget, 7, UINT32_MAX, commit, &got), 400);
    CHECK_EQ_U64(got.lines, 2);      /* 160 + 160 committed, 80 still open */
    CHECK_EQ_U64(t.len, 80);
    CHECK_EQ_U64(budget, 100000 - 3 * 7 - 400);
    CHECK_EQ_U64(console_text_take(&t, "\n", 1, &budget, 7, UINT32_MAX, commit, &got), 1);
    CHECK_EQ_U64(budget, 100000 - 3 * 7 - 400); /* the open line was paid for */
    CHECK_EQ_U64(got.lines, 3);
}

static void no_budget_takes_nothing(void)
{
    struct console_text t = {.len = 0};
    uint64_t budget = 5;
    got.len = got.lines = 0;
    CHECK_EQ_U64(console_text_take(&t, "hello\n", 6, &budget, 5, UINT32_MAX, commit, &got), 0);
    CHECK_EQ_U64(budget, 5);
    CHECK_EQ_U64(t.len, 0);
    budget = 6; /* exactly the first character and its line */
    CHECK_EQ_U64(console_text_take(&t, "hello\n", 6, &budget, 5, UINT32_MAX, commit, &got), 1);
    CHECK_EQ_U64(budget, 0);
    CHECK_EQ_U64(console_text_take(&t, "ello\n", 5, &budget, 5, UINT32_MAX, commit, &got), 0);
    budget = 4; /* the rest of the open line costs its characters only */
    CHECK_EQ_U64(console_text_take(&t, "ello\n", 5, &budget, 5, UINT32_MAX, commit, &got), 5);
    got.text[got.len] = 0;
    CHECK_STR_EQ(got.text, "hello\n");
}

static void random_against_model(void)
{
    unsigned seed = 777;
    struct console_text t = {.len = 0};
    struct model m = {0};
    got.len = got.lines = want.len = want.lines = 0;
    static const char alphabet[] = "ab\n\n\t\x01\x7f\x80 ~xyz0123456789";
    for (int round = 0; round < 3000 && got.len < sizeof(got.text) - 2048; round++) {
        char in[300];
        seed = seed * 1103515245u + 12345u;
        size_t n = (seed >> 8) % sizeof(in);
        bool plain = (seed >> 20) & 1; /* long printable runs exercise the 8-byte path */
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            in[i] = plain && (seed >> 24) % 40 ? (char)('A' + (seed >> 16) % 26)
                                              : alphabet[(seed >> 16) % (sizeof(alphabet) - 1)];
        }
        seed = seed * 1103515245u + 12345u;
        uint64_t budget = (seed >> 10) % 400, mbudget = budget;
        uint32_t cost = 3 + (seed >> 4) % 30;
        size_t a = console_text_take(&t, in, n, &budget, cost, UINT32_MAX, commit, &got);
        size_t b = model_take(&m, in, n, &mbudget, cost, &want);
        CHECK_EQ_U64(a, b);
        CHECK_EQ_U64(budget, mbudget);
        CHECK_EQ_U64(t.len, m.len);
        CHECK_EQ_U64(got.lines, want.lines);
        /* The model writes the open line's characters at once; hv holds
         * them until the line ends. */
        CHECK(got.len == want.len - m.len && memcmp(got.text, want.text, got.len) == 0);
        if (check_case_failed) {
            size_t k = 0;
            while (k < got.len && k < want.len && got.text[k] == want.text[k])
                k++;
            printf("  round %d: differs at %zu of %zu/%zu: got %.20s want %.20s\n", round, k,
                   got.len, want.len, got.text + k, want.text + k);
            return;
        }
    }
}

/* At most max_lines lines end per call: the byte that would end one more
 * is left for the next call, whether it is a newline or a character
 * arriving at a full line. */
static void lines_per_call_bounded(void)
{
    struct console_text t = {.len = 0};
    char nl[256];
    memset(nl, '\n', sizeof(nl));
    uint64_t budget = 1 << 20;
    got.len = got.lines = 0;
    CHECK_EQ_U64(console_text_take(&t, nl, sizeof(nl), &budget, 20, 16, commit, &got), 16);
    CHECK_EQ_U64(got.lines, 16);
    CHECK_EQ_U64(budget, (1 << 20) - 16 * 20);

    struct console_text u = {.len = 0};
    got.len = got.lines = 0;
    budget = 1 << 20;
    CHECK_EQ_U64(console_text_take(&u, "abc\ndef\n", 8, &budget, 5, 1, commit, &got), 7);
    CHECK_EQ_U64(got.lines, 1);
    CHECK_EQ_U64(u.len, 3); /* "def" waits for its newline */
    CHECK_EQ_U64(console_text_take(&u, "\n", 1, &budget, 5, 1, commit, &got), 1);
    CHECK_EQ_U64(got.lines, 2);

    struct console_text w = {.len = 0};
    char letters[CONSOLE_TEXT_MAX + 10];
    memset(letters, 'x', sizeof(letters));
    got.len = got.lines = 0;
    CHECK_EQ_U64(console_text_take(&w, letters, sizeof(letters), &budget, 5, 0, commit, &got),
                 CONSOLE_TEXT_MAX); /* the next character would end the full line */
    CHECK_EQ_U64(got.lines, 0);
}

/* The in-place copy of a whole line (hv/guest/console.c) sanitizes exactly
 * as the model does, word-wise or byte-wise, and stops at the first
 * newline wherever it falls, every length and position tried; it writes
 * nothing beyond k. */
static void copy_line_against_model(void)
{
    unsigned seed = 4242;
    static const char bytes[] = "Az09 ~\x1f\x20\x7e\x7f\x80\xff\t\r\x1b\x00\n";
    for (int round = 0; round < 20000; round++) {
        char src[200], dst[208], want[200];
        seed = seed * 1103515245u + 12345u;
        size_t k = (seed >> 8) % 180;
        int odd = (seed >> 20) % 4; /* 0: one odd byte among letters; else any mix */
        for (size_t i = 0; i < k; i++) {
            seed = seed * 1103515245u + 12345u;
            src[i] = odd == 0 ? 'a' + (char)((seed >> 16) % 26)
                              : bytes[(seed >> 16) % (sizeof(bytes) - 1)];
        }
        if (odd == 0 && k) {
            seed = seed * 1103515245u + 12345u;
            src[(seed >> 8) % k] = bytes[(seed >> 16) % (sizeof(bytes) - 1)];
        }
        size_t stop = 0;
        while (stop < k && src[stop] != '\n') {
            unsigned char c = (unsigned char)src[stop];
            want[stop] = c == '\t' ? ' ' : (c < 0x20 || c >= 0x7f) ? '?' : (char)c;
            stop++;
        }
        memset(dst, 0x55, sizeof(dst));
        size_t j = console_text_copy_line(dst, src, k);
        CHECK_EQ_U64(j, stop);
        CHECK(memcmp(dst, want, stop) == 0);
        for (size_t i = k; i < sizeof(dst); i++)
            CHECK(dst[i] == 0x55);
        if (check_case_failed) {
            printf("  round %d: k %zu\n", round, k);
            return;
        }
    }
}

int main(void)
{
    check_suite = "console_text";
    RUN_TEST(newline_flood_pays_label);
    RUN_TEST(sanitizes);
    RUN_TEST(long_line_wraps_and_charges_again);
    RUN_TEST(no_budget_takes_nothing);
    RUN_TEST(random_against_model);
    RUN_TEST(lines_per_call_bounded);
    RUN_TEST(copy_line_against_model);
    return check_finish();
}
