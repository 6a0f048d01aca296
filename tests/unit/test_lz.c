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
    CHECK_EQ_U64(round_trip((const uint8_t *)"", 0), LZ_PREFIX_BYTES);
    /* The literal, and the lone token's one-bit code in a byte. */
    CHECK_EQ_U64(round_trip((const uint8_t *)"a", 1), LZ_PREFIX_BYTES + 2);
    round_trip((const uint8_t *)"ab", 2);
    round_trip((const uint8_t *)"aaa", 3);
    round_trip((const uint8_t *)"aaaa", 4);
}

static void runs_shrink_to_a_few_bytes(void)
{
    static uint8_t zeros[100000];
    /* One literal, then one overlapping match of 99,999 (392 extension bytes). */
    size_t size = round_trip(zeros, sizeof(zeros));
    CHECK(size < LZ_PREFIX_BYTES + 400);
    uint8_t pattern[5000];
    for (size_t i = 0; i < sizeof(pattern); i++)
        pattern[i] = (uint8_t)"abcdefg"[i % 7];
    CHECK(round_trip(pattern, sizeof(pattern)) < LZ_PREFIX_BYTES + 60);
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
 * window; and the window's edge: a repeat at LZ_MAX_DISTANCE (130,816,
 * through the high byte's escape) is found, one a byte further cannot be. */
static void mixed_far_and_near(void)
{
    size_t n = 300000;
    uint8_t *buf = malloc(n);
    for (size_t i = 0; i < n; i++) {
        uint8_t r = next_byte();
        if (i > 100000 && r < 20)
            buf[i] = buf[i - 100000];
        else if (i > 70000 && r < 40)
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

/* A stream by hand: the header, flat codes (every symbol 8 bits long, so
 * that a symbol's code is the symbol itself and the bit stream is the
 * symbols' bytes), the raw stream, the symbols. Returns its size. */
static size_t hand(uint8_t *out, uint32_t size, const uint8_t *raw, size_t raw_n,
                   const uint8_t *symbols, size_t symbols_n)
{
    memcpy(out, "hvlz", 4);
    for (int i = 0; i < 4; i++) {
        out[4 + i] = (uint8_t)(size >> 8 * i);
        out[8 + i] = (uint8_t)(raw_n >> 8 * i);
    }
    memset(out + 12, 0x88, LZ_CODES * LZ_CODE_TABLE_BYTES);
    memcpy(out + LZ_PREFIX_BYTES, raw, raw_n);
    memcpy(out + LZ_PREFIX_BYTES + raw_n, symbols, symbols_n);
    return LZ_PREFIX_BYTES + raw_n + symbols_n;
}

#define HAND(buf, size, raw, symbols) \
    hand(buf, size, (const uint8_t *)(raw), sizeof(raw) - 1, symbols, sizeof(symbols))

/* The format byte for byte: "abcabcabcX" is three literals, a match of six
 * at distance three, one literal. */
static void hand_made_stream(void)
{
    uint8_t stream[512], out[10];
    const uint8_t symbols[] = {3 << 5 | 0 | (6 - 3), 1 << 5};
    size_t size = HAND(stream, 10, "abc\002X", symbols);
    CHECK_EQ_U64(lz_unpack(stream, size, out, sizeof(out)), 0);
    CHECK(memcmp(out, "abcabcabcX", 10) == 0);
    /* The packer's: the same two tokens with a code of one bit each (in
     * symbol order: 0x20 is 0, 0x63 is 1), the same raw stream. */
    uint8_t packed[1024];
    CHECK_EQ_U64(lz_pack((const uint8_t *)"abcabcabcX", 10, packed), LZ_PREFIX_BYTES + 5 + 1);
    CHECK(memcmp(packed + LZ_PREFIX_BYTES, "abc\002X", 5) == 0);
    CHECK_EQ_U64(packed[12 + (1 << 5) / 2] & 15, 1);
    CHECK_EQ_U64(packed[12 + (3 << 5 | 3) / 2] >> 4, 1);
    CHECK_EQ_U64(packed[LZ_PREFIX_BYTES + 5], 0x80); /* 1 then 0, padded */
    /* A two-byte offset: 300 literals, then a match of 4 at distance 300;
     * its low byte in the raw stream after the literals. */
    uint8_t buf[304];
    for (size_t i = 0; i < 300; i++)
        buf[i] = next_byte();
    memcpy(buf + 300, buf, 4);
    uint8_t big[2048];
    size = lz_pack(buf, sizeof(buf), big);
    CHECK_EQ_U64(big[8] | big[9] << 8, 301);
    CHECK(memcmp(big + LZ_PREFIX_BYTES, buf, 300) == 0);
    CHECK_EQ_U64(big[LZ_PREFIX_BYTES + 300], (300 - 1) & 0xff);
    uint8_t back[304];
    CHECK_EQ_U64(lz_unpack(big, size, back, sizeof(back)), 0);
    CHECK(memcmp(back, buf, sizeof(buf)) == 0);
    /* By hand: token, the extension 293 - 255 as 255 and 38, the high byte. */
    uint8_t far_stream[1024], raw[301];
    memcpy(raw, buf, 300);
    raw[300] = (300 - 1) & 0xff;
    const uint8_t far_symbols[] = {7 << 5 | LZ_KIND_FAR << LZ_KIND_SHIFT | (4 - 3), 255,
                                   300 - 7 - 255, (300 - 1) >> 8};
    size = hand(far_stream, 304, raw, sizeof(raw), far_symbols, sizeof(far_symbols));
    CHECK_EQ_U64(lz_unpack(far_stream, size, back, sizeof(back)), 0);
    CHECK(memcmp(back, buf, sizeof(buf)) == 0);
}

/* The high byte's escape by hand: 70,000 literals, then a match of 5 at
 * distance 70,000 (70,000 - 1 = 273 << 8 | 111: the high byte's symbol
 * LZ_FAR_ESCAPE, the raw byte 273 - 255 = 18 after the low byte), through
 * the checked path (the literals' extension); a second such match after
 * one literal, and 24 repeats of 2 after one literal each, through the
 * fast one. Without its raw byte the escape is refused. And the packer
 * takes such a match. */
static void hand_made_escape(void)
{
    const size_t n = 70000, d = 70000;
    size_t total = n + 5 + 1 + 5 + 24 * 3;
    uint8_t *want = malloc(total), *out = malloc(n + 200);
    uint8_t *raw = malloc(n + 64), *stream = malloc(LZ_PREFIX_BYTES + n + 1024);
    uint8_t *packed = malloc(lz_pack_bound(n + 200));
    uint8_t symbols[600];
    size_t raw_n = 0, sym_n = 0, p = 0;
    for (; p < n; p++)
        want[p] = raw[raw_n++] = next_byte();
    symbols[sym_n++] = 7 << 5 | LZ_KIND_FAR << LZ_KIND_SHIFT | (5 - 3);
    for (size_t v = n - 7;; v -= 255) { /* the extension: 255s, then the rest */
        symbols[sym_n++] = (uint8_t)(v >= 255 ? 255 : v);
        if (v < 255)
            break;
    }
    raw[raw_n++] = (d - 1) & 255;
    symbols[sym_n++] = LZ_FAR_ESCAPE;
    raw[raw_n++] = (d - 1) / 256 - LZ_FAR_ESCAPE;
    size_t first_raw = raw_n, first_sym = sym_n;
    for (size_t i = 0; i < 5; i++, p++)
        want[p] = want[p - d];
    want[p++] = raw[raw_n++] = 0x5a;
    symbols[sym_n++] = 1 << 5 | LZ_KIND_FAR << LZ_KIND_SHIFT | (5 - 3);
    raw[raw_n++] = (d - 1) & 255;
    symbols[sym_n++] = LZ_FAR_ESCAPE;
    raw[raw_n++] = (d - 1) / 256 - LZ_FAR_ESCAPE;
    for (size_t i = 0; i < 5; i++, p++)
        want[p] = want[p - d];
    for (unsigned r = 0; r < 24; r++) {
        want[p++] = raw[raw_n++] = (uint8_t)r;
        symbols[sym_n++] = 1 << 5 | LZ_KIND_REPEAT << LZ_KIND_SHIFT | 0;
        for (size_t i = 0; i < 2; i++, p++)
            want[p] = want[p - d];
    }
    CHECK_EQ_U64(p, total);
    size_t size = hand(stream, (uint32_t)total, raw, raw_n, symbols, sym_n);
    CHECK_EQ_U64(lz_unpack(stream, size, out, total), 0);
    CHECK(memcmp(out, want, total) == 0);
    size = hand(stream, (uint32_t)(n + 5), raw, first_raw, symbols, first_sym);
    CHECK_EQ_U64(lz_unpack(stream, size, out, n + 5), 0);
    size = hand(stream, (uint32_t)(n + 5), raw, first_raw - 1, symbols, first_sym);
    CHECK_EQ_U64(lz_unpack(stream, size, out, n + 5), (uint64_t)-1);

    /* The packer: 200 bytes copied from 70,000 back cost a few bytes. */
    uint8_t *copy = malloc(n + 200);
    memcpy(copy, want, n);
    memcpy(copy + n, copy + n - d, 200);
    size = lz_pack(copy, n + 200, packed);
    CHECK(size > 0 && size < LZ_PREFIX_BYTES + n + 64);
    CHECK_EQ_U64(lz_unpack(packed, size, out, n + 200), 0);
    CHECK(memcmp(out, copy, n + 200) == 0);
    free(copy);
    free(want);
    free(out);
    free(raw);
    free(stream);
    free(packed);
}

/* The repeats by hand, what each kind copies (their length field is M - 2,
 * a new distance's M - 3). Step by step: literals "abcde" and 3 at
 * distance 5 ("abc"); "Q" and 3 at distance 2 ("cQc"); "Z" and a second
 * repeat of 3 (distance 5, the match before last: "QcQ"), which swaps the
 * two distances; a repeat of 3 (distance 5 again: "cZQ"). */
static void hand_made_repeats(void)
{
    uint8_t stream[512];
    const uint8_t symbols[] = {5 << 5 | LZ_KIND_NEAR << LZ_KIND_SHIFT | 0,
                               1 << 5 | LZ_KIND_NEAR << LZ_KIND_SHIFT | 0,
                               1 << 5 | LZ_KIND_REPEAT2 << LZ_KIND_SHIFT | 1,
                               0 << 5 | LZ_KIND_REPEAT << LZ_KIND_SHIFT | 1};
    size_t size = HAND(stream, 19, "abcde\004Q\001Z", symbols);
    uint8_t out[19];
    CHECK_EQ_U64(lz_unpack(stream, size, out, sizeof(out)), 0);
    CHECK(memcmp(out, "abcdeabcQcQcZQcQcZQ", 19) == 0);

    /* A repeat before any match, a second repeat before two: no distance. */
    const uint8_t no_last[] = {1 << 5 | LZ_KIND_REPEAT << LZ_KIND_SHIFT | 1};
    size = HAND(stream, 4, "a", no_last);
    CHECK_EQ_U64(lz_unpack(stream, size, out, 4), (uint64_t)-1);
    const uint8_t no_last2[] = {1 << 5 | LZ_KIND_NEAR << LZ_KIND_SHIFT | 0,
                                1 << 5 | LZ_KIND_REPEAT2 << LZ_KIND_SHIFT | 1};
    size = HAND(stream, 8, "a\000b", no_last2);
    CHECK_EQ_U64(lz_unpack(stream, size, out, 8), (uint64_t)-1);
    const uint8_t twice[] = {1 << 5 | LZ_KIND_NEAR << LZ_KIND_SHIFT | 0,
                             1 << 5 | LZ_KIND_REPEAT << LZ_KIND_SHIFT | 1};
    size = HAND(stream, 8, "a\000b", twice);
    CHECK_EQ_U64(lz_unpack(stream, size, out, 8), 0);
    CHECK(memcmp(out, "aaaabbbb", 8) == 0);
    /* The shortest repeat, 2 bytes (field 0), through the checked path and
     * through the fast one (200 of them: a bit stream long enough for its
     * budget). */
    const uint8_t short_repeat[] = {1 << 5 | LZ_KIND_NEAR << LZ_KIND_SHIFT | 0,
                                    1 << 5 | LZ_KIND_REPEAT << LZ_KIND_SHIFT | 0};
    size = HAND(stream, 7, "a\000b", short_repeat);
    CHECK_EQ_U64(lz_unpack(stream, size, out, 7), 0);
    CHECK(memcmp(out, "aaaabbb", 7) == 0);
    uint8_t many[4 + 200 * 3], many_raw[2 + 200];
    uint8_t many_symbols[1 + 200];
    size_t raw_n = 0, want_n = 0, sym_n = 0;
    many_raw[raw_n++] = 'x';
    many_raw[raw_n++] = 0; /* "x" and 3 at distance 1 */
    many_symbols[sym_n++] = 1 << 5 | LZ_KIND_NEAR << LZ_KIND_SHIFT | 0;
    memcpy(many, "xxxx", 4);
    want_n = 4;
    for (unsigned i = 0; i < 200; i++) { /* "y" and a repeat of 2: "yy" */
        many_raw[raw_n++] = 'y';
        many_symbols[sym_n++] = 1 << 5 | LZ_KIND_REPEAT << LZ_KIND_SHIFT | 0;
        memcpy(many + want_n, "yyy", 3);
        want_n += 3;
    }
    uint8_t many_out[sizeof(many)], many_stream[1024];
    size = hand(many_stream, (uint32_t)want_n, many_raw, raw_n, many_symbols, sym_n);
    CHECK_EQ_U64(lz_unpack(many_stream, size, many_out, want_n), 0);
    CHECK(memcmp(many_out, many, want_n) == 0);

    /* A long match: 6 literals and 10 + 30 at distance 1 fill 46 bytes;
     * announced as 40, the same stream is refused there. */
    const uint8_t long_match[] = {6 << 5 | LZ_KIND_NEAR << LZ_KIND_SHIFT | LZ_LENGTH_MORE, 30};
    size = HAND(stream, 46, "abcdef\000", long_match);
    uint8_t long_out[46];
    CHECK_EQ_U64(lz_unpack(stream, size, long_out, 46), 0);
    CHECK(memcmp(long_out, "abcdef", 6) == 0);
    for (size_t i = 6; i < 46; i++)
        CHECK_EQ_U64(long_out[i], 'f');
    stream[4] = 40;
    CHECK_EQ_U64(lz_unpack(stream, size, long_out, 40), (uint64_t)-1);
}

/* Codes that do not make a prefix code are refused before any symbol:
 * three symbols of one bit; a length past LZ_CODE_MAX. A symbol whose
 * bits start no code is refused where it is read. */
static void bad_codes_refused(void)
{
    uint8_t stream[512], out[4];
    const uint8_t symbols[] = {1 << 5};
    size_t size = HAND(stream, 1, "a", symbols);
    CHECK_EQ_U64(lz_unpack(stream, size, out, 1), 0);
    memset(stream + 12, 0, LZ_CODE_TABLE_BYTES);
    stream[12] = 0x11;
    stream[13] = 0x01;
    CHECK_EQ_U64(lz_unpack(stream, size, out, 1), (uint64_t)-1);
    stream[12] = 0x01;
    stream[13] = 0;
    stream[12 + (1 << 5) / 2] = 0x0d; /* 13 bits */
    CHECK_EQ_U64(lz_unpack(stream, size, out, 1), (uint64_t)-1);
    /* Token 0x20 coded as the one-bit 1 beside the token 0 as 0. */
    stream[12 + (1 << 5) / 2] = 0x01;
    stream[LZ_PREFIX_BYTES + 1] = 0x80;
    CHECK_EQ_U64(lz_unpack(stream, size, out, 1), 0);
    /* Without the token 0, 0x20 is the lone code, 0: a 1 starts none. */
    stream[12] = 0x00;
    CHECK_EQ_U64(lz_unpack(stream, size, out, 1), (uint64_t)-1);
    stream[LZ_PREFIX_BYTES + 1] = 0x00;
    CHECK_EQ_U64(lz_unpack(stream, size, out, 1), 0);
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

/* Real x86-64 code (this test's own executable, its first 128 KiB: the
 * packer's parse under the sanitizers takes ~40 s for the whole 400 KiB):
 * the kind of input the core is, round trip. The build's lzpack checks
 * the core itself the same way before it writes hv-core.lz. */
static void real_code_round_trips(void)
{
    FILE *f = fopen("/proc/self/exe", "rb");
    CHECK(f != NULL);
    if (!f)
        return;
    size_t cap = 1 << 17;
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
    uint8_t out[16], stream[512];
    /* A match reaching before the start. */
    const uint8_t before_start[] = {0 << 5 | 1};
    size_t size = HAND(stream, 4, "\000", before_start);
    CHECK_EQ_U64(lz_unpack(stream, size, out, 4), (uint64_t)-1);
    /* Literals past the announced size. */
    const uint8_t too_long[] = {3 << 5};
    size = HAND(stream, 2, "abc", too_long);
    CHECK_EQ_U64(lz_unpack(stream, size, out, 2), (uint64_t)-1);
    /* A match past the announced size. */
    const uint8_t match_long[] = {1 << 5 | 2};
    size = HAND(stream, 4, "a\000", match_long);
    CHECK_EQ_U64(lz_unpack(stream, size, out, 4), (uint64_t)-1);
    /* The size buffer differing from the header's; a wrong magic. */
    const uint8_t one[] = {1 << 5};
    size = HAND(stream, 1, "a", one);
    CHECK_EQ_U64(lz_unpack(stream, size, out, 1), 0);
    CHECK_EQ_U64(lz_unpack(stream, size, out, 2), (uint64_t)-1);
    CHECK_EQ_U64(lz_unpacked_size(stream, 7), (uint64_t)-1);
    /* Bytes left over after the last sequence, in either stream. */
    CHECK_EQ_U64(lz_unpack(stream, size + 1, out, 1), (uint64_t)-1);
    const uint8_t one_and_more[] = {1 << 5, 0};
    size = HAND(stream, 1, "a", one_and_more);
    CHECK_EQ_U64(lz_unpack(stream, size, out, 1), (uint64_t)-1);
    size = HAND(stream, 1, "ab", one);
    CHECK_EQ_U64(lz_unpack(stream, size, out, 1), (uint64_t)-1);
    /* A raw stream longer than the buffer; a buffer shorter than the codes. */
    size = HAND(stream, 1, "a", one);
    stream[8] = 3;
    CHECK_EQ_U64(lz_unpack(stream, size, out, 1), (uint64_t)-1);
    stream[8] = 1;
    CHECK_EQ_U64(lz_unpack(stream, LZ_PREFIX_BYTES - 1, out, 1), (uint64_t)-1);
    stream[3] = 'Z';
    CHECK_EQ_U64(lz_unpack(stream, size, out, 1), (uint64_t)-1);
    CHECK_EQ_U64(lz_unpacked_size(stream, size), (uint64_t)-1);
    /* An extension that runs past the end, where the zeros read there
     * are 255 (the extension code's lone symbol, 0) for ever: refused. */
    const uint8_t endless[] = {7 << 5};
    size = HAND(stream, 1000, "", endless);
    memset(stream + 12 + LZ_CODE_TABLE_BYTES, 0, LZ_CODE_TABLE_BYTES);
    stream[12 + LZ_CODE_TABLE_BYTES + 127] = 0x10;
    uint8_t *big_out = malloc(1000);
    CHECK_EQ_U64(lz_unpack(stream, size, big_out, 1000), (uint64_t)-1);
    free(big_out);

    /* Every truncation and every single-byte change of a real stream:
     * refused or unpacked, never a touch outside the buffers. */
    uint8_t text[2000];
    for (size_t i = 0; i < sizeof(text); i++)
        text[i] = (uint8_t)("a hypervisor packs its core; "[i % 29] ^ (i % 97 == 0 ? next_byte() : 0));
    uint8_t packed[4096];
    size = lz_pack(text, sizeof(text), packed);
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
    RUN_TEST(hand_made_escape);
    RUN_TEST(bad_codes_refused);
    RUN_TEST(repeats_pack_copies_with_changes);
    RUN_TEST(real_code_round_trips);
    RUN_TEST(damaged_streams_refused);
    return check_finish();
}
