/* hvlz (lib/lz.h, tools/lz_pack.c): round trips through the packer and the
 * stub's decoder on inputs of every shape (empty, one byte, runs, text,
 * random, the limits of each field), hand-made streams that pin the format
 * down byte for byte, and damaged streams, which must be refused without a
 * read or write outside the buffers (ASan watches the portable build). */
#include "lib/lz.h"
#include "tools/lz_pack.h"

#include "tests/unit/check.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint8_t next_byte(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint8_t)rng;
}

/* Packs, checks the decoder gives the input back, returns the packed size. */
static size_t round_trip(const uint8_t *in, size_t n)
{
    uint8_t *packed = malloc(lz_pack_bound(n));
    uint8_t *out = malloc(n + 1);
    size_t size = lz_pack(in, n, packed);
    CHECK(size >= LZ_HEADER_BYTES && size <= lz_pack_bound(n));
    CHECK_EQ_U64(lz_unpacked_size(packed, size), n);
    CHECK_EQ_U64(lz_unpack(packed, size, out, n), 0);
    CHECK(n == 0 || memcmp(in, out, n) == 0);
    free(packed);
    free(out);
    return size;
}

static void empty_and_tiny(void)
{
    CHECK_EQ_U64(round_trip((const uint8_t *)"", 0), LZ_HEADER_BYTES);
    CHECK_EQ_U64(round_trip((const uint8_t *)"a", 1), LZ_HEADER_BYTES + 2);
    round_trip((const uint8_t *)"ab", 2);
    round_trip((const uint8_t *)"aaa", 3);
    round_trip((const uint8_t *)"aaaa", 4);
}

static void runs_shrink_to_a_few_bytes(void)
{
    static uint8_t zeros[100000];
    /* One literal, then one overlapping match of 99,999 (392 extension bytes). */
    size_t size = round_trip(zeros, sizeof(zeros));
    CHECK(size < LZ_HEADER_BYTES + 400);
    uint8_t pattern[5000];
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)"abcdefg"[i % 7];
    CHECK(round_trip(pattern, sizeof(pattern)) < 60);
}

static void random_data_grows_by_little(void)
{
    for (size_t n = 1; n < 3000; n += 37) {
        uint8_t *buf = malloc(n);
        for (size_t i = 0; i < n; i++)
            buf[i] = next_byte();
        size_t size = round_trip(buf, n);
        CHECK(size <= lz_pack_bound(n));
        free(buf);
    }
}

/* Random bytes with a mix of repeats at every distance, some beyond the
 * window; and the window's edge: a repeat at 65,536 is found, one at
 * 65,537 cannot be. */
static void mixed_far_and_near(void)
{
    size_t n = 300000;
    uint8_t *buf = malloc(n);
    for (size_t i = 0; i < n; i++) {
        uint8_t r = next_byte();
        if (i > 70000 && r < 40)
            buf[i] = buf[i - 70000];
        else if (i > 65536 && r < 80)
            buf[i] = buf[i - 65536];
        else if (i > 300 && r < 200)
            buf[i] = buf[i - 257 - (r & 3)];
        else
            buf[i] = (uint8_t)("hypervisor "[r % 11]);
    }
    round_trip(buf, n);

    for (size_t distance = LZ_MAX_DISTANCE; distance <= LZ_MAX_DISTANCE + 1; distance++) {
        size_t total = distance + 1000;
        for (size_t i = 0; i < distance; i++)
            buf[i] = next_byte();
        memcpy(buf + distance, buf, 1000);
        size_t size = round_trip(buf, total);
        if (distance == LZ_MAX_DISTANCE)
            CHECK(size < distance + 700); /* literals, their extensions, a few stray matches */
        else
            CHECK(size > total);
    }
    free(buf);
}

/* Short sequences at short distances, overlapping or not: the decoder's
 * fast path, sequence after sequence (checked: a fast path that moved
 * words for distances of 4 to 7 fails here). */
static void short_sequences_at_every_distance(void)
{
    size_t n = 200000, i = 0;
    uint8_t *buf = malloc(n);
    while (i < n) {
        size_t literals = next_byte() % 7, length = 3 + next_byte() % 15;
        size_t distance = 1 + next_byte() % 40;
        for (size_t k = 0; k < literals && i < n; k++)
            buf[i++] = next_byte();
        for (size_t k = 0; k < length && i < n; k++, i++)
            buf[i] = i >= distance ? buf[i - distance] : 0;
    }
    CHECK(round_trip(buf, n) < n * 3 / 4);
    free(buf);
}

/* Literal runs and match lengths at each field's edges: 6/7 (extension),
 * 7 + 254 / 7 + 255 (a second extension byte), and so on. */
static void field_limits(void)
{
    size_t lengths[] = {6, 7, 8, 261, 262, 263, 516, 517, 518};
    for (size_t a = 0; a < sizeof(lengths) / sizeof(lengths[0]); a++) {
        size_t n = lengths[a] * 3 + 20;
        uint8_t *buf = malloc(n);
        for (size_t i = 0; i < lengths[a]; i++)
            buf[i] = next_byte();                        /* literals */
        for (size_t i = lengths[a]; i < n; i++)
            buf[i] = buf[i - lengths[a]];                /* then repeats */
        round_trip(buf, n);
        free(buf);
    }
}

/* The format byte for byte: "abcabcabcX" is three literals, a match of six
 * at distance three, one literal. */
static void hand_made_stream(void)
{
    const uint8_t stream[] = {'h', 'v', 'l', 'z', 10, 0, 0, 0,
                              3 << 5 | 0 | (6 - 3), 'a', 'b', 'c', 3 - 1,
                              1 << 5, 'X'};
    uint8_t out[10];
    CHECK_EQ_U64(lz_unpack(stream, sizeof(stream), out, sizeof(out)), 0);
    CHECK(memcmp(out, "abcabcabcX", 10) == 0);
    uint8_t packed[64];
    CHECK_EQ_U64(lz_pack((const uint8_t *)"abcabcabcX", 10, packed), sizeof(stream));
    CHECK(memcmp(packed, stream, sizeof(stream)) == 0);
    /* A two-byte offset: 300 literals, then a match of 4 at distance 300. */
    uint8_t buf[304];
    for (size_t i = 0; i < 300; i++)
        buf[i] = next_byte();
    memcpy(buf + 300, buf, 4);
    uint8_t big[400];
    size_t size = lz_pack(buf, sizeof(buf), big);
    CHECK_EQ_U64(big[8], 7 << 5 | LZ_KIND_FAR << LZ_KIND_SHIFT | (4 - 3));
    CHECK_EQ_U64(big[9], 255);
    CHECK_EQ_U64(big[10], 300 - 7 - 255);
    CHECK_EQ_U64(big[11 + 300], (300 - 1) & 0xff);
    CHECK_EQ_U64(big[12 + 300], (300 - 1) >> 8);
    CHECK_EQ_U64(size, 13 + 300);
}

/* The repeats by hand, what each kind copies. Step by step: literals
 * "abcde" and 3 at distance 5 ("abc"); "Q" and 3 at distance 2 ("cQc");
 * "Z" and a second repeat of 3 (distance 5, the match before last: "QcQ"),
 * which swaps the two distances; a repeat of 3 (distance 5 again: "cZQ"). */
static void hand_made_repeats(void)
{
    const uint8_t stream[] = {'h', 'v', 'l', 'z', 19, 0, 0, 0,
                              5 << 5 | LZ_KIND_NEAR << LZ_KIND_SHIFT | 0, 'a', 'b', 'c', 'd', 'e', 5 - 1,
                              1 << 5 | LZ_KIND_NEAR << LZ_KIND_SHIFT | 0, 'Q', 2 - 1,
                              1 << 5 | LZ_KIND_REPEAT2 << LZ_KIND_SHIFT | 0, 'Z',
                              0 << 5 | LZ_KIND_REPEAT << LZ_KIND_SHIFT | 0};
    uint8_t out[19];
    CHECK_EQ_U64(lz_unpack(stream, sizeof(stream), out, sizeof(out)), 0);
    CHECK(memcmp(out, "abcdeabcQcQcZQcQcZQ", 19) == 0);

    /* A repeat before any match, a second repeat before two: no distance. */
    const uint8_t no_last[] = {'h', 'v', 'l', 'z', 4, 0, 0, 0,
                               1 << 5 | LZ_KIND_REPEAT << LZ_KIND_SHIFT | 0, 'a'};
    CHECK_EQ_U64(lz_unpack(no_last, sizeof(no_last), out, 4), (uint64_t)-1);
    const uint8_t no_last2[] = {'h', 'v', 'l', 'z', 8, 0, 0, 0,
                                1 << 5 | LZ_KIND_NEAR << LZ_KIND_SHIFT | 0, 'a', 0,
                                1 << 5 | LZ_KIND_REPEAT2 << LZ_KIND_SHIFT | 0, 'b'};
    CHECK_EQ_U64(lz_unpack(no_last2, sizeof(no_last2), out, 8), (uint64_t)-1);
    const uint8_t twice[] = {'h', 'v', 'l', 'z', 8, 0, 0, 0,
                             1 << 5 | LZ_KIND_NEAR << LZ_KIND_SHIFT | 0, 'a', 0,
                             1 << 5 | LZ_KIND_REPEAT << LZ_KIND_SHIFT | 0, 'b'};
    CHECK_EQ_U64(lz_unpack(twice, sizeof(twice), out, 8), 0);
    CHECK(memcmp(out, "aaaabbbb", 8) == 0);
    /* The same in the fast path (far from both ends): a repeat first. */
    uint8_t fast[64] = {'h', 'v', 'l', 'z', 40, 0, 0, 0,
                        0 << 5 | LZ_KIND_REPEAT << LZ_KIND_SHIFT | 0};
    uint8_t big_out[40];
    CHECK_EQ_U64(lz_unpack(fast, sizeof(fast), big_out, sizeof(big_out)), (uint64_t)-1);

    /* A long match in the fast path: 6 literals and 10 + 30 at distance 1
     * fill 46 bytes; announced as 40, the same stream is refused there. */
    uint8_t long_match[] = {'h', 'v', 'l', 'z', 46, 0, 0, 0,
                            6 << 5 | LZ_KIND_NEAR << LZ_KIND_SHIFT | LZ_LENGTH_MORE,
                            'a', 'b', 'c', 'd', 'e', 'f', 1 - 1, 30};
    uint8_t long_out[46];
    CHECK_EQ_U64(lz_unpack(long_match, sizeof(long_match), long_out, 46), 0);
    CHECK(memcmp(long_out, "abcdef", 6) == 0);
    for (size_t i = 6; i < 46; i++)
        CHECK_EQ_U64(long_out[i], 'f');
    long_match[4] = 40;
    CHECK_EQ_U64(lz_unpack(long_match, sizeof(long_match), long_out, 40), (uint64_t)-1);
}

/* What the repeats are for: blocks copied from far back with one byte in
 * eight changed (code with a changed displacement), and two sources
 * interleaved. Each piece is a literal and a 7-byte match: 4 bytes with a
 * two-byte offset, 2 with a repeat; without the repeat the first bound
 * fails, without the second repeat the second (both checked). */
static void repeats_pack_copies_with_changes(void)
{
    size_t n = 64000, from = 8000;
    uint8_t *buf = malloc(n);
    for (size_t i = 0; i < from; i++)
        buf[i] = next_byte();
    for (size_t i = from; i < 36000; i++)
        buf[i] = i % 8 == 0 ? next_byte() : buf[i - 1001];
    for (size_t i = 36000; i < n; i++) {
        size_t distance = (i / 8) % 2 ? 3001 : 7003;
        buf[i] = i % 8 == 0 ? next_byte() : buf[i - distance];
    }
    size_t whole = round_trip(buf, n);
    size_t head = round_trip(buf, 36000);
    size_t head_only_random = round_trip(buf, from);
    CHECK(head - head_only_random < (36000 - from) * 3 / 10);
    CHECK(whole - head < (n - 36000) * 3 / 10);
    free(buf);
}

/* Real x86-64 code (this test's own executable): the kind of input the
 * core is, round trip. The build's lzpack checks the core itself the same
 * way before it writes hv-core.lz. */
static void real_code_round_trips(void)
{
    FILE *f = fopen("/proc/self/exe", "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    size_t cap = 1 << 23;
    uint8_t *buf = malloc(cap);
    size_t n = fread(buf, 1, cap, f);
    fclose(f);
    CHECK(n > 16384);
    size_t size = round_trip(buf, n);
    CHECK(size < n * 3 / 4);
    free(buf);
}

static void damaged_streams_refused(void)
{
    uint8_t out[16];
    /* A match reaching before the start. */
    const uint8_t before_start[] = {'h', 'v', 'l', 'z', 4, 0, 0, 0, 0 << 5 | 1, 0};
    CHECK_EQ_U64(lz_unpack(before_start, sizeof(before_start), out, 4), (uint64_t)-1);
    /* Literals past the announced size. */
    const uint8_t too_long[] = {'h', 'v', 'l', 'z', 2, 0, 0, 0, 3 << 5, 'a', 'b', 'c'};
    CHECK_EQ_U64(lz_unpack(too_long, sizeof(too_long), out, 2), (uint64_t)-1);
    /* A match past the announced size. */
    const uint8_t match_long[] = {'h', 'v', 'l', 'z', 4, 0, 0, 0, 1 << 5 | 2, 'a', 0};
    CHECK_EQ_U64(lz_unpack(match_long, sizeof(match_long), out, 4), (uint64_t)-1);
    /* The size buffer differing from the header's; a wrong magic. */
    const uint8_t ok[] = {'h', 'v', 'l', 'z', 1, 0, 0, 0, 1 << 5, 'a'};
    CHECK_EQ_U64(lz_unpack(ok, sizeof(ok), out, 1), 0);
    CHECK_EQ_U64(lz_unpack(ok, sizeof(ok), out, 2), (uint64_t)-1);
    const uint8_t magic[] = {'h', 'v', 'l', 'Z', 1, 0, 0, 0, 1 << 5, 'a'};
    CHECK_EQ_U64(lz_unpack(magic, sizeof(magic), out, 1), (uint64_t)-1);
    CHECK_EQ_U64(lz_unpacked_size(magic, sizeof(magic)), (uint64_t)-1);
    CHECK_EQ_U64(lz_unpacked_size(ok, 7), (uint64_t)-1);
    /* Bytes left over after the last sequence. */
    const uint8_t extra[] = {'h', 'v', 'l', 'z', 1, 0, 0, 0, 1 << 5, 'a', 0};
    CHECK_EQ_U64(lz_unpack(extra, sizeof(extra), out, 1), (uint64_t)-1);

    /* Every truncation and every single-byte change of a real stream:
     * refused or unpacked, never a touch outside the buffers. */
    uint8_t text[2000];
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = (uint8_t)("a hypervisor packs its core; "[i % 29] ^ (i % 97 == 0 ? next_byte() : 0));
    uint8_t packed[2600];
    size_t size = lz_pack(text, sizeof(text), packed);
    uint8_t *copy_out = malloc(sizeof(text));
    for (size_t cut = 0; cut < size; cut++) {
        uint8_t *cut_copy = malloc(cut ? cut : 1);
        memcpy(cut_copy, packed, cut);
        CHECK_EQ_U64(lz_unpack(cut_copy, cut, copy_out, sizeof(text)), (uint64_t)-1);
        free(cut_copy);
    }
    uint8_t *mutated = malloc(size);
    for (size_t at = LZ_HEADER_BYTES; at < size; at++) {
        for (int v = 0; v < 256; v += 51) {
            memcpy(mutated, packed, size);
            mutated[at] ^= (uint8_t)(v | 1);
            (void)lz_unpack(mutated, size, copy_out, sizeof(text));
        }
    }
    free(mutated);
    free(copy_out);
}

int main(void)
{
    check_suite = "lz";
    RUN_TEST(empty_and_tiny);
    RUN_TEST(runs_shrink_to_a_few_bytes);
    RUN_TEST(random_data_grows_by_little);
    RUN_TEST(mixed_far_and_near);
    RUN_TEST(short_sequences_at_every_distance);
    RUN_TEST(field_limits);
    RUN_TEST(hand_made_stream);
    RUN_TEST(hand_made_repeats);
    RUN_TEST(repeats_pack_copies_with_changes);
    RUN_TEST(real_code_round_trips);
    RUN_TEST(damaged_streams_refused);
    return check_finish();
}
