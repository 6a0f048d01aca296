/* hv/console/linebuf: whole lines in, whole lines out, in order, across the
 * ring's wrap; a line that does not fit is refused whole and changes
 * nothing; the free count is exact. A model queue checks a long random run. */
#include "hv/console/linebuf.h"

#include "tests/unit/check.h"

static struct linebuf put1(struct linebuf *b, uint32_t seq, const char *s, bool *ok)
{
    struct linebuf_part p = {s, strlen(s)};
    *ok = linebuf_put(b, seq, 1, &p, 1);
    return *b;
}

static void empty_queue(void)
{
    char store[64];
    struct linebuf b;
    linebuf_init(&b, store, sizeof(store));
    char out[LINEBUF_LINE_MAX];
    uint8_t level;
    uint32_t seq;
    CHECK(!linebuf_head_seq(&b, &seq));
    CHECK_EQ_U64(linebuf_pop(&b, out, &level), 0);
    CHECK_EQ_U64(linebuf_free_bytes(&b), 64);
}

static void parts_make_one_line(void)
{
    char store[128];
    struct linebuf b;
    linebuf_init(&b, store, sizeof(store));
    struct linebuf_part parts[3] = {{"[g] ", 4}, {"hello", 5}, {"\n", 1}};
    CHECK(linebuf_put(&b, 7, 2, parts, 3));
    CHECK_EQ_U64(linebuf_free_bytes(&b), 128 - LINEBUF_HEADER - 10);
    uint32_t seq = 0;
    CHECK(linebuf_head_seq(&b, &seq));
    CHECK_EQ_U64(seq, 7);
    char out[LINEBUF_LINE_MAX];
    uint8_t level = 0;
    size_t n = linebuf_pop(&b, out, &level);
    CHECK_EQ_U64(n, 10);
    CHECK(memcmp(out, "[g] hello\n", 10) == 0);
    CHECK_EQ_U64(level, 2);
    CHECK_EQ_U64(linebuf_free_bytes(&b), 128);
}

static void full_queue_refuses_whole_line(void)
{
    char store[40];
    struct linebuf b;
    linebuf_init(&b, store, sizeof(store));
    bool ok;
    put1(&b, 1, "0123456789\n", &ok); /* 8 + 11 = 19 */
    CHECK(ok);
    put1(&b, 2, "abcdefghij\n", &ok); /* 38 */
    CHECK(ok);
    struct linebuf before = b;
    put1(&b, 3, "x\n", &ok); /* needs 10, 2 free */
    CHECK(!ok);
    CHECK(memcmp(&before, &b, sizeof(b)) == 0);
    CHECK_EQ_U64(linebuf_free_bytes(&b), 2);
}

static void refuses_empty_and_overlong(void)
{
    char store[1024];
    struct linebuf b;
    linebuf_init(&b, store, sizeof(store));
    struct linebuf_part empty = {"", 0};
    CHECK(!linebuf_put(&b, 1, 0, &empty, 1));
    char big[LINEBUF_LINE_MAX + 1];
    memset(big, 'a', sizeof(big));
    struct linebuf_part p = {big, sizeof(big)};
    CHECK(!linebuf_put(&b, 1, 0, &p, 1));
    struct linebuf_part two[2] = {{big, 200}, {big, 57}};
    CHECK(!linebuf_put(&b, 1, 0, two, 2));
    two[1].len = 56;
    CHECK(linebuf_put(&b, 1, 0, two, 2));
    struct linebuf nostore;
    linebuf_init(&nostore, NULL, 4096);
    struct linebuf_part x = {"x", 1};
    CHECK(!linebuf_put(&nostore, 1, 0, &x, 1));
}

static void sequence_compare_wraps(void)
{
    CHECK(seq_before(1, 2));
    CHECK(!seq_before(2, 1));
    CHECK(!seq_before(5, 5));
    CHECK(seq_before(0xfffffff0u, 3));
    CHECK(!seq_before(3, 0xfffffff0u));
}

/* A random mix of puts and pops against a FIFO model, in a ring small
 * enough that lines wrap around its end all the time. */
static void random_against_model(void)
{
    enum { CAP = 301, MODEL = 4096 };
    char store[CAP];
    struct linebuf b;
    linebuf_init(&b, store, CAP);
    static char model[MODEL][64];
    static size_t model_len[MODEL];
    static uint32_t model_seq[MODEL];
    size_t mhead = 0, mcount = 0, mused = 0;
    uint32_t seq = 0xfffffff0u;
    unsigned seed = 12345;
    for (int step = 0; step < 200000; step++) {
        seed = seed * 1103515245u + 12345u;
        unsigned r = seed >> 16;
        if (r % 3) {
            char line[64];
            size_t n = 1 + r % 63;
            for (size_t i = 0; i < n; i++)
                line[i] = (char)('a' + (r + i * 7) % 26);
            struct linebuf_part p = {line, n};
            bool fits = mused + LINEBUF_HEADER + n <= CAP;
            bool ok = linebuf_put(&b, seq, (uint8_t)(n & 3), &p, 1);
            CHECK(ok == fits);
            if (ok) {
                size_t slot = (mhead + mcount) % MODEL;
                memcpy(model[slot], line, n);
                model_len[slot] = n;
                model_seq[slot] = seq;
                mcount++;
                mused += LINEBUF_HEADER + n;
            }
            seq++;
        } else {
            char out[LINEBUF_LINE_MAX];
            uint8_t level = 9;
            uint32_t hs;
            CHECK(linebuf_head_seq(&b, &hs) == (mcount > 0));
            size_t n = linebuf_pop(&b, out, &level);
            if (mcount == 0) {
                CHECK_EQ_U64(n, 0);
                continue;
            }
            CHECK_EQ_U64(hs, model_seq[mhead]);
            CHECK_EQ_U64(n, model_len[mhead]);
            CHECK(memcmp(out, model[mhead], n) == 0);
            CHECK_EQ_U64(level, n & 3);
            mused -= LINEBUF_HEADER + n;
            mhead = (mhead + 1) % MODEL;
            mcount--;
        }
        CHECK_EQ_U64(linebuf_free_bytes(&b), CAP - mused);
        if (check_case_failed)
            return;
    }
}

/* A line written in place: room only at the end of the queue, never
 * across the ring's wrap (linebuf_put handles that) and never more than is
 * free; what is committed pops exactly like a put line, in order. */
static void reserve_in_place(void)
{
    char store[64];
    struct linebuf b;
    linebuf_init(&b, store, sizeof(store));
    CHECK(linebuf_reserve(&b, 0) == NULL);
    CHECK(linebuf_reserve(&b, LINEBUF_LINE_MAX + 1) == NULL);
    CHECK(linebuf_reserve(&b, 64 - LINEBUF_HEADER + 1) == NULL); /* more than fits */
    char *room = linebuf_reserve(&b, 20);
    CHECK(room == store + LINEBUF_HEADER);
    memcpy(room, "[g] in place\nJUNK", 17);
    linebuf_commit(&b, 5, 3, 13); /* only what was meant: not the junk */
    CHECK_EQ_U64(linebuf_free_bytes(&b), 64 - LINEBUF_HEADER - 13);
    bool ok;
    put1(&b, 6, "second\n", &ok); /* 21 .. 36 */
    CHECK(ok);
    char out[LINEBUF_LINE_MAX];
    uint8_t level = 0;
    uint32_t seq = 0;
    CHECK(linebuf_head_seq(&b, &seq));
    CHECK_EQ_U64(seq, 5);
    CHECK_EQ_U64(linebuf_pop(&b, out, &level), 13);
    CHECK(memcmp(out, "[g] in place\n", 13) == 0);
    CHECK_EQ_U64(level, 3);
    /* head 21, used 15: the end is at 36, 28 bytes to the ring's end. */
    CHECK(linebuf_reserve(&b, 20) == store + 36 + LINEBUF_HEADER);
    CHECK(linebuf_reserve(&b, 21) == NULL); /* would wrap, though 49 bytes are free */
    CHECK_EQ_U64(linebuf_free_bytes(&b), 49);
    room = linebuf_reserve(&b, 20);
    memcpy(room, "third\n", 6);
    linebuf_commit(&b, 7, 1, 6);
    CHECK_EQ_U64(linebuf_pop(&b, out, &level), 7);
    CHECK(memcmp(out, "second\n", 7) == 0);
    CHECK_EQ_U64(linebuf_pop(&b, out, &level), 6);
    CHECK(memcmp(out, "third\n", 6) == 0);
    CHECK_EQ_U64(linebuf_free_bytes(&b), 64);
}

int main(void)
{
    check_suite = "linebuf";
    RUN_TEST(empty_queue);
    RUN_TEST(parts_make_one_line);
    RUN_TEST(full_queue_refuses_whole_line);
    RUN_TEST(refuses_empty_and_overlong);
    RUN_TEST(sequence_compare_wraps);
    RUN_TEST(random_against_model);
    RUN_TEST(reserve_in_place);
    return check_finish();
}
