/* The hvlz packer (format: lib/lz.h): its passes and its stream writer.
 * Each pass is one parse (tools/lz_parse.c: the sequences, near-optimal
 * under a model of what each symbol costs), whose sequences this file
 * collects as two streams (raw bytes, and symbols of three Huffman codes)
 * and writes out; the first pass prices every symbol at a byte, each later
 * one at its code's length in the pass before, and the smallest output
 * wins. */
#include "tools/lz_pack.h"

#include <stdlib.h>
#include <string.h>

#include "tools/lz_parse.h"

#ifndef SEQUENCE_COST
#define SEQUENCE_COST 8
#endif

static void flat_model(struct lz_model *m)
{
    for (unsigned c = 0; c < LZ_CODES; c++)
        for (unsigned s = 0; s < 256; s++)
            m->cost[c][s] = 8 * BIT;
    m->sequence = 0;
}

size_t lz_pack_bound(size_t n)
{
    return LZ_PREFIX_BYTES + (n + n / 8 + 16) * LZ_CODE_MAX / 8 + 1;
}

static void put_symbol(struct lz_emitter *e, unsigned code, unsigned value)
{
    e->symbols[e->symbols_n++] = (uint16_t)(code << 8 | value);
}

static void put_extension(struct lz_emitter *e, size_t v)
{
    for (; v >= 255; v -= 255)
        put_symbol(e, LZ_CODE_EXTENSION, 255);
    put_symbol(e, LZ_CODE_EXTENSION, (unsigned)v);
}

void lz_put_sequence(struct lz_emitter *e, const uint8_t *literals, size_t count, size_t distance,
                     unsigned repeat, size_t length)
{
    size_t m = length ? length - (repeat ? LZ_MIN_REPEAT : LZ_MIN_MATCH) : 0;
    unsigned kind = repeat == 2 ? LZ_KIND_REPEAT2
                    : repeat  ? LZ_KIND_REPEAT
                    : distance > 256 ? LZ_KIND_FAR
                                     : LZ_KIND_NEAR;
    put_symbol(e, LZ_CODE_TOKEN,
               (unsigned)((count < LZ_LITERAL_MORE ? count : LZ_LITERAL_MORE) << LZ_LITERAL_SHIFT |
                          kind << LZ_KIND_SHIFT | (m < LZ_LENGTH_MORE ? m : LZ_LENGTH_MORE)));
    if (count >= LZ_LITERAL_MORE)
        put_extension(e, count - LZ_LITERAL_MORE);
    memcpy(e->raw + e->raw_n, literals, count);
    e->raw_n += count;
    if (!length)
        return;
    if (!repeat) {
        e->raw[e->raw_n++] = (uint8_t)(distance - 1);
        if (distance > 256) {
            unsigned high = (unsigned)((distance - 1) >> 8);
            put_symbol(e, LZ_CODE_OFFSET_HIGH, high < LZ_FAR_ESCAPE ? high : LZ_FAR_ESCAPE);
            if (high >= LZ_FAR_ESCAPE)
                e->raw[e->raw_n++] = (uint8_t)(high - LZ_FAR_ESCAPE);
        }
    }
    if (m >= LZ_LENGTH_MORE)
        put_extension(e, m - LZ_LENGTH_MORE);
}

/* Huffman code lengths for one code's symbol counts, at most LZ_CODE_MAX
 * bits: the two rarest subtrees merged until one is left; where the
 * deepest leaf is too deep, the counts are halved (rare symbols gain
 * weight) and the tree built again. A lone symbol gets a 1-bit code. */
static void code_lengths(const uint32_t *counts, uint8_t *lengths)
{
    uint64_t weight[512];
    int parent[512];
    uint32_t scaled[256];
    memcpy(scaled, counts, sizeof(scaled));
    for (;;) {
        int nodes = 0, alive[512], n_alive = 0;
        for (int s = 0; s < 256; s++) {
            lengths[s] = 0;
            weight[s] = scaled[s];
            parent[s] = -1;
            if (scaled[s])
                alive[n_alive++] = s;
        }
        nodes = 256;
        if (n_alive == 1)
            lengths[alive[0]] = 1;
        if (n_alive <= 1)
            return;
        while (n_alive > 1) {
            /* The two lightest, ties to the older node. */
            int a = 0, b = 1;
            if (weight[alive[b]] < weight[alive[a]]) {
                a = 1;
                b = 0;
            }
            for (int i = 2; i < n_alive; i++) {
                if (weight[alive[i]] < weight[alive[a]]) {
                    b = a;
                    a = i;
                } else if (weight[alive[i]] < weight[alive[b]]) {
                    b = i;
                }
            }
            int node = nodes++;
            weight[node] = weight[alive[a]] + weight[alive[b]];
            parent[node] = -1;
            parent[alive[a]] = node;
            parent[alive[b]] = node;
            int hi = a > b ? a : b, lo = a > b ? b : a;
            alive[hi] = alive[--n_alive];
            alive[lo] = node;
        }
        int deepest = 0;
        for (int s = 0; s < 256; s++) {
            if (!scaled[s])
                continue;
            int depth = 0;
            for (int p = s; parent[p] >= 0; p = parent[p])
                depth++;
            lengths[s] = (uint8_t)depth;
            if (depth > deepest)
                deepest = depth;
        }
        if (deepest <= LZ_CODE_MAX)
            return;
        for (int s = 0; s < 256; s++)
            if (scaled[s])
                scaled[s] = scaled[s] / 2 | 1;
    }
}

/* Writes the buffer after the header from the two streams, with the codes'
 * lengths in `lengths`. */
static uint8_t *put_streams(uint8_t *o, const struct lz_emitter *e, uint8_t lengths[LZ_CODES][256])
{
    uint32_t counts[LZ_CODES][256];
    uint32_t codes[LZ_CODES][256];
    memset(counts, 0, sizeof(counts));
    for (size_t i = 0; i < e->symbols_n; i++)
        counts[e->symbols[i] >> 8][e->symbols[i] & 255]++;
    for (unsigned c = 0; c < LZ_CODES; c++) {
        code_lengths(counts[c], lengths[c]);
        /* Canonical codes, as the decoder builds them. */
        uint32_t code = 0;
        for (unsigned len = 1; len <= LZ_CODE_MAX; len++, code <<= 1)
            for (unsigned s = 0; s < 256; s++)
                if (lengths[c][s] == len)
                    codes[c][s] = code++;
    }
    o[0] = (uint8_t)e->raw_n;
    o[1] = (uint8_t)(e->raw_n >> 8);
    o[2] = (uint8_t)(e->raw_n >> 16);
    o[3] = (uint8_t)(e->raw_n >> 24);
    o += 4;
    for (unsigned c = 0; c < LZ_CODES; c++)
        for (unsigned s = 0; s < 256; s += 2)
            *o++ = (uint8_t)(lengths[c][s] | lengths[c][s + 1] << 4);
    memcpy(o, e->raw, e->raw_n);
    o += e->raw_n;
    uint64_t bits = 0;
    unsigned count = 0;
    for (size_t i = 0; i < e->symbols_n; i++) {
        unsigned c = e->symbols[i] >> 8, s = e->symbols[i] & 255;
        bits = bits << lengths[c][s] | codes[c][s];
        count += lengths[c][s];
        while (count >= 8) {
            count -= 8;
            *o++ = (uint8_t)(bits >> count);
        }
    }
    if (count)
        *o++ = (uint8_t)(bits << (8 - count));
    return o;
}

/* One parse with the model's costs, written out; the codes' lengths in
 * `lengths`. */
static size_t pack_with(const struct lz_model *m, const uint8_t *in, size_t n, uint8_t *out,
                        uint8_t lengths[LZ_CODES][256])
{
    struct lz_emitter e = {malloc(n ? n : 1), 0, malloc((n + 16) * 2 * sizeof(uint16_t)), 0};
    size_t packed = 0; /* 0: out of memory */
    if (!e.raw || !e.symbols || lz_parse(m, in, n, &e) != 0)
        goto out;

    uint8_t *o = out;
    memcpy(o, "hvlz", 4);
    o[4] = (uint8_t)n;
    o[5] = (uint8_t)(n >> 8);
    o[6] = (uint8_t)(n >> 16);
    o[7] = (uint8_t)(n >> 24);
    o = put_streams(o + LZ_HEADER_BYTES, &e, lengths);
    packed = (size_t)(o - out);
out:
    free(e.raw);
    free(e.symbols);
    return packed;
}

/* The parse after the first prices each symbol at its code's length in the
 * parse before (a symbol that had no code at a code longer than any): on
 * the core the second parse is some 2 % smaller, later ones little more
 * (eight parses 44 bytes smaller than four, for half a second of build). */
#ifndef PASSES
#define PASSES 8
#endif

size_t lz_pack(const uint8_t *in, size_t n, uint8_t *out)
{
    if (n > UINT32_MAX)
        return 0;
    struct lz_model m;
    uint8_t lengths[LZ_CODES][256];
    flat_model(&m);
    size_t size = pack_with(&m, in, n, out, lengths);
    uint8_t *trial = size ? malloc(lz_pack_bound(n)) : NULL;
    for (int pass = 1; pass < PASSES && trial; pass++) {
        for (unsigned c = 0; c < LZ_CODES; c++)
            for (unsigned sym = 0; sym < 256; sym++)
                m.cost[c][sym] = (lengths[c][sym] ? lengths[c][sym] : LZ_CODE_MAX + 1) * BIT;
        m.sequence = SEQUENCE_COST;
        size_t next = pack_with(&m, in, n, trial, lengths);
        if (!next)
            break;
        if (next < size) {
            memcpy(out, trial, next);
            size = next;
        }
    }
    free(trial);
    return size;
}
