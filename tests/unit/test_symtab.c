/* hv/debug/symtab.c, the function table panic reports read names from:
 * lookups against a table written by tools/symtab_enc.c (inside, between,
 * past and before functions, aliases, overlaps, zero sizes, full 64-bit
 * addresses, sizes across their low byte's edge, a 1,000-character name),
 * and tables that are truncated, cut inside a number or a
 * name, out of order, with lying sizes or counts, or random bytes: each is
 * refused by symtab_open, and no read leaves the buffer (ASan sees the
 * buffers sized exactly). */
#include "hv/debug/symtab.h"

#include "tests/unit/check.h"
#include "tools/symtab_enc.h"

#define K 0xffffffff80000000ULL

static struct symtab_entry sample[] = {
    { K + 0x100, 0x40, "second" },     /* out of order on purpose: the encoder sorts */
    { K + 0x0, 0x100, "first" },
    { K + 0x150, 0x0, "sizeless" },    /* asm label without a size */
    { K + 0x2000, 0x1234, "big" },
    { K + 0x2000, 0x1234, "big_alias" },
    { K + 0x2010, 0x10, "inner" },     /* inside big: an overlap */
    { K + 0x90000, 0x8, "far" },
};
#define NSAMPLE (sizeof(sample) / sizeof(sample[0]))

static uint8_t *encode(size_t *len)
{
    struct symtab_entry e[NSAMPLE];
    memcpy(e, sample, sizeof(e));
    uint8_t buf[512];
    *len = symtab_encode(e, NSAMPLE, buf, sizeof(buf));
    CHECK(*len > sizeof(struct symtab_header));
    uint8_t *exact = malloc(*len); /* exactly sized, so ASan sees any overread */
    memcpy(exact, buf, *len);
    return exact;
}

static void expect(const struct symtab *t, uint64_t addr, const char *name, uint64_t off)
{
    uint64_t got = 0x5a5a;
    const char *n = symtab_lookup(t, addr, &got);
    if (!name) {
        CHECK(n == NULL);
        return;
    }
    CHECK(n != NULL);
    if (n) {
        CHECK_STR_EQ(n, name);
        CHECK_EQ_U64(got, off);
    }
}

static void lookups(void)
{
    size_t len;
    uint8_t *b = encode(&len);
    struct symtab t;
    CHECK(symtab_open(&t, b, len));
    CHECK_EQ_U64(t.count, NSAMPLE);
    expect(&t, K - 1, NULL, 0);          /* below every function */
    expect(&t, K, "first", 0);
    expect(&t, K + 0xff, "first", 0xff);
    expect(&t, K + 0x100, "second", 0);
    expect(&t, K + 0x13f, "second", 0x3f);
    expect(&t, K + 0x140, NULL, 0);      /* past second's end, before sizeless */
    expect(&t, K + 0x150, "sizeless", 0);
    expect(&t, K + 0x1fff, "sizeless", 0x1eaf); /* no size: reaches on */
    expect(&t, K + 0x2000, "big", 0);    /* the first of equal starts */
    expect(&t, K + 0x2018, "inner", 8);
    /* After inner ends only big covers it, but the lookup names the highest
     * start, inner, whose size then excludes the address (as the ELF
     * reader before it did): no name rather than a guess. */
    expect(&t, K + 0x2020, NULL, 0);
    expect(&t, K + 0x90007, "far", 7);
    expect(&t, K + 0x90008, NULL, 0);
    expect(&t, UINT64_MAX, NULL, 0);
    free(b);
}

static void every_truncation_refused(void)
{
    size_t len;
    uint8_t *b = encode(&len);
    for (size_t n = 0; n < len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, b, n);
        struct symtab t;
        CHECK(!symtab_open(&t, cut, n));
        free(cut);
    }
    free(b);
}

/* Header fields that lie: each must be refused, not believed. */
static void lying_headers_refused(void)
{
    size_t len;
    uint8_t *b = encode(&len);
    struct symtab_header h;
    memcpy(&h, b, sizeof(h));
    struct symtab t;
    struct symtab_header bad[] = { h, h, h, h, h, h, h };
    bad[0].magic ^= 1;
    bad[1].count += 1;
    bad[2].count -= 1;
    bad[3].nums_size += 1;
    bad[4].names_size += 1;
    bad[5].nums_size = UINT32_MAX;
    bad[6].names_size = UINT32_MAX;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        memcpy(b, &bad[i], sizeof(h));
        CHECK(!symtab_open(&t, b, len));
    }
    memcpy(b, &h, sizeof(h));
    CHECK(symtab_open(&t, b, len));
    free(b);
}

/* No NUL in the names, a number that never ends, an entry before the
 * previous one: all refused. */
static void bad_bodies_refused(void)
{
    size_t len;
    uint8_t *b = encode(&len);
    struct symtab_header h;
    memcpy(&h, b, sizeof(h));
    struct symtab t;

    uint8_t *c = malloc(len);
    memcpy(c, b, len);
    c[len - 1] = 'x'; /* the last name loses its NUL */
    CHECK(!symtab_open(&t, c, len));

    memcpy(c, b, len);
    memset(c + sizeof(h), 0xff, h.nums_size); /* continuation bits throughout */
    CHECK(!symtab_open(&t, c, len));

    free(c);
    free(b);

    /* Two entries, the second starting before the first: "a" at base, 16
     * bytes; "b" at a gap of zigzag 0x41 = -33, 17 bytes below "a". The
     * gaps come first (0, 0x41), then the sizes' low bytes (0x10, 0), then
     * their high parts (0, 0). */
    struct {
        struct symtab_header h;
        uint8_t body[10];
    } __attribute__((packed)) order = {
        { SYMTAB_MAGIC, 2, K, 6, 4 }, { 0x00, 0x41, 0x10, 0x00, 0x00, 0x00, 'a', 0, 'b', 0 }
    };
    CHECK(!symtab_open(&t, &order, sizeof(order)));

    /* The gaps' run cut short of the low bytes' count: nums_size 3 holds
     * the two gaps and one low byte only. */
    struct symtab_header short_lows = { SYMTAB_MAGIC, 2, K, 3, 0 };
    uint8_t *sl = malloc(sizeof(short_lows) + 3);
    memcpy(sl, &short_lows, sizeof(short_lows));
    memcpy(sl + sizeof(short_lows), (uint8_t[]){ 0, 0, 1 }, 3);
    CHECK(!symtab_open(&t, sl, sizeof(short_lows) + 3));
    free(sl);

    /* A number whose last byte still says "more", at the very end of the
     * buffer (no names follow): the reader must stop at the buffer's end. */
    uint8_t *open_end = malloc(sizeof(struct symtab_header) + 1);
    struct symtab_header oh = { SYMTAB_MAGIC, 1, K, 1, 0 };
    memcpy(open_end, &oh, sizeof(oh));
    open_end[sizeof(oh)] = 0x80;
    CHECK(!symtab_open(&t, open_end, sizeof(oh) + 1));
    free(open_end);

    order.body[1] = 0x40; /* +32: in order, accepted */
    CHECK(symtab_open(&t, &order, sizeof(order)));
    expect(&t, K + 48, "b", 0);
}

/* A table symtab_open has not accepted is never read: the zeroed one finds
 * nothing; and random bytes with a valid magic are refused or, if they
 * happen to decode, looked up without leaving the buffer. */
static void random_tables(void)
{
    struct symtab empty = { 0 };
    uint64_t off;
    CHECK(symtab_lookup(&empty, K, &off) == NULL);
    uint32_t seed = 12345;
    for (int round = 0; round < 2000; round++) {
        size_t n = sizeof(struct symtab_header) + (round % 64);
        uint8_t *r = malloc(n);
        for (size_t i = 0; i < n; i++) {
            seed = seed * 1103515245u + 12345u;
            r[i] = (uint8_t)(seed >> 16);
        }
        struct symtab_header h = { .magic = SYMTAB_MAGIC, .count = r[4] % 8, .base = K,
                                   .nums_size = r[16] % 40, .names_size = r[20] % 40 };
        memcpy(r, &h, sizeof(h));
        struct symtab t;
        if (symtab_open(&t, r, n)) {
            for (uint64_t a = K; a < K + 512; a += 7)
                (void)symtab_lookup(&t, a, &off);
        }
        free(r);
    }
}

/* Sizes across the low byte's edge and far above it (high parts of one
 * to four ULEB128 bytes), and a name longer than any of hv's, read back
 * whole; the table cut anywhere is refused. */
static void sizes_and_long_names(void)
{
    static char long_name[1001];
    memset(long_name, 'n', sizeof(long_name) - 1);
    struct symtab_entry e[] = {
        { K, 0xff, "ff" },
        { K + 0xff, 0x100, "one_hundred" },
        { K + 0x1ff, 0x7fff, "seven_fff" },
        { K + 0x81fe, 0x12345678, long_name },
        { K + 0x1234d876, 0x100, "last" },
    };
    size_t n = sizeof(e) / sizeof(e[0]);
    uint8_t buf[2048];
    size_t len = symtab_encode(e, n, buf, sizeof(buf));
    CHECK(len > 0);
    uint8_t *exact = malloc(len);
    memcpy(exact, buf, len);
    struct symtab t;
    CHECK(symtab_open(&t, exact, len));
    expect(&t, K + 0xfe, "ff", 0xfe);
    expect(&t, K + 0xff, "one_hundred", 0);
    expect(&t, K + 0x1fe, "one_hundred", 0xff);
    expect(&t, K + 0x81fd, "seven_fff", 0x7ffe);
    expect(&t, K + 0x81fe, long_name, 0);
    expect(&t, K + 0x1234d875, long_name, 0x12345677);
    expect(&t, K + 0x1234d975, "last", 0xff);
    expect(&t, K + 0x1234d976, NULL, 0);
    for (size_t cut = 0; cut < len; cut++)
        CHECK(!symtab_open(&t, exact, cut));
    free(exact);
}

static void empty_and_full_buffer(void)
{
    struct symtab_entry none[1];
    uint8_t small[sizeof(struct symtab_header)];
    size_t len = symtab_encode(none, 0, small, sizeof(small));
    CHECK_EQ_U64(len, sizeof(small));
    struct symtab t;
    CHECK(symtab_open(&t, small, len));
    uint64_t off;
    CHECK(symtab_lookup(&t, K, &off) == NULL);
    struct symtab_entry e[NSAMPLE];
    memcpy(e, sample, sizeof(e));
    uint8_t tiny[40];
    CHECK_EQ_U64(symtab_encode(e, NSAMPLE, tiny, sizeof(tiny)), 0);
}

int main(void)
{
    check_suite = "symtab";
    RUN_TEST(lookups);
    RUN_TEST(every_truncation_refused);
    RUN_TEST(lying_headers_refused);
    RUN_TEST(bad_bodies_refused);
    RUN_TEST(random_tables);
    RUN_TEST(sizes_and_long_names);
    RUN_TEST(empty_and_full_buffer);
    return check_finish();
}
