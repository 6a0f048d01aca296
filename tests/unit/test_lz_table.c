/* hvlz's decoding tables (lib/lz_unpack.c): streams with codes of every
 * length from 1 to LZ_CODE_MAX bits, written bit by bit here, decoded
 * through the fast loop and the checked path: a code of one table entry
 * (12 bits) and of half the table (1 bit), a code table with one entry left
 * over at its end, and bits that start no code, in the tokens' and in the
 * high offset bytes' table, refused where they are read. */
#include "lib/lz.h"

#include <stdbool.h>

#include "tests/unit/check.h"
#include "tests/unit/xorshift.h"

static uint64_t rng = 0x2545f4914f6cdd1dull;
static uint8_t next_byte(void)
{
    return (uint8_t)xorshift64(&rng);
}

/* A stream under construction: its three codes' lengths, the raw stream,
 * the bit stream (most significant bit first). */
struct writer {
    uint8_t lengths[LZ_CODES][256];
    uint32_t codes[LZ_CODES][256];
    uint8_t *raw, *bits;
    size_t raw_n, bits_n;
    unsigned pending, pending_n;
};

static void writer_init(struct writer *w, size_t room)
{
    memset(w, 0, sizeof(*w));
    w->raw = malloc(room);
    w->bits = calloc(room, 1);
}

/* Canonical codes (lib/lz.h): shorter first, equal lengths in symbol order. */
static void assign_codes(struct writer *w)
{
    for (int c = 0; c < LZ_CODES; c++) {
        uint32_t code = 0;
        for (unsigned len = 1; len <= LZ_CODE_MAX; len++) {
            for (unsigned s = 0; s < 256; s++)
                if (w->lengths[c][s] == len)
                    w->codes[c][s] = code++;
            code <<= 1;
        }
    }
}

static void put_bits(struct writer *w, uint32_t value, unsigned n)
{
    while (n--) {
        w->pending = w->pending << 1 | (value >> n & 1);
        if (++w->pending_n == 8) {
            w->bits[w->bits_n++] = (uint8_t)w->pending;
            w->pending = w->pending_n = 0;
        }
    }
}

static void put_symbol(struct writer *w, int table, unsigned sym)
{
    CHECK(w->lengths[table][sym] != 0);
    put_bits(w, w->codes[table][sym], w->lengths[table][sym]);
}

/* The whole buffer: header, code lengths, raw stream, bit stream padded. */
static size_t finish(struct writer *w, uint8_t *out, uint32_t size)
{
    if (w->pending_n)
        put_bits(w, 0, 8 - w->pending_n);
    memcpy(out, "hvlz", 4);
    for (int i = 0; i < 4; i++) {
        out[4 + i] = (uint8_t)(size >> 8 * i);
        out[8 + i] = (uint8_t)(w->raw_n >> 8 * i);
    }
    for (int c = 0; c < LZ_CODES; c++)
        for (unsigned s = 0; s < 256; s += 2)
            out[12 + c * LZ_CODE_TABLE_BYTES + s / 2] =
                (uint8_t)(w->lengths[c][s] | w->lengths[c][s + 1] << 4);
    memcpy(out + LZ_PREFIX_BYTES, w->raw, w->raw_n);
    memcpy(out + LZ_PREFIX_BYTES + w->raw_n, w->bits, w->bits_n);
    return LZ_PREFIX_BYTES + w->raw_n + w->bits_n;
}

#define TOKEN(literals, kind, length_field) \
    ((literals) << LZ_LITERAL_SHIFT | (kind) << LZ_KIND_SHIFT | (length_field))

/* Far matches whose high byte has a one-bit code (the table's first half):
 * 70,000 literals (the checked path: an extension) and a match, then 60
 * sequences of a literal and a match of 4 at distance 300 (the high byte
 * 1), most of them in the fast loop. A 1 where the
 * high byte's code is (the table's second half: no code) is refused, in
 * the fast loop (sequence 10) and in the checked path (the last). */
static size_t far_stream(uint8_t *out, uint8_t *want, int damaged)
{
    struct writer w;
    writer_init(&w, 80000);
    for (unsigned s = 0; s < 256; s++)
        w.lengths[LZ_CODE_TOKEN][s] = w.lengths[LZ_CODE_EXTENSION][s] = 8;
    w.lengths[LZ_CODE_OFFSET_HIGH][1] = 1; /* the code 0; 1 starts none */
    assign_codes(&w);
    const size_t first = 70000, dist = 300;
    size_t p = 0;
    for (; p < first; p++)
        want[p] = w.raw[w.raw_n++] = next_byte();
    put_symbol(&w, LZ_CODE_TOKEN, TOKEN(7, LZ_KIND_FAR, 4 - 3));
    for (size_t v = first - 7;; v -= 255) {
        put_symbol(&w, LZ_CODE_EXTENSION, v >= 255 ? 255 : (unsigned)v);
        if (v < 255)
            break;
    }
    for (int seq = 0; seq < 61; seq++) {
        if (seq) {
            put_symbol(&w, LZ_CODE_TOKEN, TOKEN(1, LZ_KIND_FAR, 4 - 3));
            want[p++] = w.raw[w.raw_n++] = next_byte();
        }
        w.raw[w.raw_n++] = (dist - 1) & 255;
        if (seq == damaged)
            put_bits(&w, 1, 1);
        else
            put_symbol(&w, LZ_CODE_OFFSET_HIGH, (dist - 1) >> 8);
        for (int i = 0; i < 4; i++, p++)
            want[p] = want[p - dist];
    }
    size_t size = finish(&w, out, (uint32_t)p);
    CHECK_EQ_U64(p, first + 4 + 60 * 5);
    free(w.raw);
    free(w.bits);
    return size;
}

static void one_bit_far_code_and_its_missing_half(void)
{
    const size_t total = 70000 + 4 + 60 * 5;
    uint8_t *stream = malloc(90000), *want = malloc(total), *out = malloc(total);
    uint64_t seed = rng;
    size_t size = far_stream(stream, want, -1);
    CHECK_EQ_U64(lz_unpack(stream, size, out, total), 0);
    CHECK(memcmp(out, want, total) == 0);
    rng = seed;
    size = far_stream(stream, want, 10);
    CHECK_EQ_U64(lz_unpack(stream, size, out, total), (uint64_t)-1);
    rng = seed;
    size = far_stream(stream, want, 60);
    CHECK_EQ_U64(lz_unpack(stream, size, out, total), (uint64_t)-1);
    free(stream);
    free(want);
    free(out);
}

/* Tokens with codes of every length 1 to 12, one of each, and a second of
 * 12 bits or not: with it the code is complete; without it one table entry
 * is left over at the end (the bits 111111111111), which starts no code. Two
 * tokens in use: a literal and a match of 4 at distance 1 (1 bit), a
 * literal and a match of 5 at distance 2 (12 bits), 400 of them in turn;
 * `bad_at` puts the leftover bits in place of the token there. */
static size_t twelve_bit_stream(uint8_t *out, uint8_t *want, bool complete, int bad_at)
{
    struct writer w;
    writer_init(&w, 8192);
    const unsigned short_token = TOKEN(1, LZ_KIND_NEAR, 4 - 3);
    const unsigned long_token = TOKEN(1, LZ_KIND_NEAR, 5 - 3);
    w.lengths[LZ_CODE_TOKEN][short_token] = 1;
    unsigned sym = 0;
    for (unsigned len = 2; len <= LZ_CODE_MAX; len++) {
        while (sym == short_token || sym == long_token)
            sym++;
        w.lengths[LZ_CODE_TOKEN][sym++] = (uint8_t)len;
    }
    w.lengths[LZ_CODE_TOKEN][long_token] = LZ_CODE_MAX;
    if (!complete)
        w.lengths[LZ_CODE_TOKEN][sym - 1] = 0; /* the other 12-bit code */
    for (unsigned s = 0; s < 256; s++)
        w.lengths[LZ_CODE_EXTENSION][s] = w.lengths[LZ_CODE_OFFSET_HIGH][s] = 8;
    assign_codes(&w);
    size_t p = 0;
    for (int seq = 0; seq < 400; seq++) {
        bool longer = seq % 2;
        if (seq == bad_at)
            put_bits(&w, (1u << LZ_CODE_MAX) - 1, LZ_CODE_MAX);
        else
            put_symbol(&w, LZ_CODE_TOKEN, longer ? long_token : short_token);
        want[p++] = w.raw[w.raw_n++] = next_byte();
        unsigned dist = longer ? 2 : 1;
        w.raw[w.raw_n++] = (uint8_t)(dist - 1);
        for (unsigned i = 0; i < (longer ? 5u : 4u); i++, p++)
            want[p] = want[p - dist];
    }
    size_t size = finish(&w, out, (uint32_t)p);
    free(w.raw);
    free(w.bits);
    return size;
}

static void codes_of_every_length(void)
{
    const size_t total = 400 + 200 * 4 + 200 * 5;
    uint8_t *stream = malloc(16384), *want = malloc(total + 16), *out = malloc(total);
    for (int complete = 0; complete < 2; complete++) {
        uint64_t seed = rng;
        size_t size = twelve_bit_stream(stream, want, complete, -1);
        CHECK_EQ_U64(lz_unpack(stream, size, out, total), 0);
        CHECK(memcmp(out, want, total) == 0);
        if (!complete) {
            /* The leftover entry, in the fast loop and at the end. */
            rng = seed;
            size = twelve_bit_stream(stream, want, false, 100);
            CHECK_EQ_U64(lz_unpack(stream, size, out, total), (uint64_t)-1);
            rng = seed;
            size = twelve_bit_stream(stream, want, false, 399);
            CHECK_EQ_U64(lz_unpack(stream, size, out, total), (uint64_t)-1);
        }
    }
    free(stream);
    free(want);
    free(out);
}

int main(void)
{
    check_suite = "lz_table";
    RUN_TEST(one_bit_far_code_and_its_missing_half);
    RUN_TEST(codes_of_every_length);
    return check_finish();
}
