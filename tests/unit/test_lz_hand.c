/* hvlz (lib/lz.h) by hand: streams written byte for byte that pin the
 * format down (each field, the repeats, the high byte's escape), with the
 * packer's own bytes for the same input; codes that are no prefix code;
 * damaged streams, which must be refused without a read or write outside
 * the buffers (ASan watches the portable build). The round trips through
 * the packer are tests/unit/test_lz.c. */
#include "tests/unit/lz_fixture.h"

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
    check_suite = "lz_hand";
    RUN_TEST(hand_made_stream);
    RUN_TEST(hand_made_repeats);
    RUN_TEST(hand_made_escape);
    RUN_TEST(bad_codes_refused);
    RUN_TEST(damaged_streams_refused);
    return check_finish();
}
