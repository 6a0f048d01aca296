/* The hvlz packer's two halves (tools/lz_pack.h is its interface): the
 * parse (tools/lz_parse.c) chooses the sequences under a model of what each
 * coded symbol costs; the writer (tools/lz_pack.c) collects them as two
 * streams, builds the Huffman codes from the symbols' counts, writes the
 * packed buffer and prices the next parse from those codes. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "lib/lz.h"

/* Costs are in sixteenths of a bit, from a model of what each coded
 * symbol costs (raw bytes cost 8 bits): the first parse assumes a byte for
 * every symbol, each later one the code lengths the parse before it got.
 * A sequence may cost more than its symbols (SEQUENCE_COST, later parses
 * only), so that where two paths encode in about the same bits the one with
 * fewer sequences wins: the stub pays some 70 instructions a sequence to
 * unpack. With STATES ways kept per position (tools/lz_parse.c), half a bit
 * a sequence packs about as small for less unpacking (docs/benchmarks.md
 * hv_image_bytes: 16 ways at 0 and half a bit 115,004 and 115,091 bytes for
 * 2.371 M and 2.330 M host instructions of lz_unpack, 8 ways 115,050 and
 * 115,037 for 2.355 M and 2.343 M, one way at 0 115,627 for 2.334 M). The
 * first parse never adds it: its whole-byte costs tie everywhere, and with
 * one way a tie-break towards fewer sequences there (even 1/16 bit) led
 * every later parse to 119,181 bytes where 0 led to 116,384. */
#define BIT 16
struct lz_model {
    uint32_t cost[LZ_CODES][256];
    uint32_t sequence; /* what a sequence costs on top of its symbols */
};

/* The two streams as the parse emits them: raw bytes, and symbols of the
 * three codes in reading order (code << 8 | value). */
struct lz_emitter {
    uint8_t *raw;
    size_t raw_n;
    uint16_t *symbols;
    size_t symbols_n;
};

/* Appends one sequence: `count` literals, then a match of `length` bytes
 * at `distance` (a repeat of the last distance: 1, of the one before: 2);
 * length 0 for the literals that end the input. */
void lz_put_sequence(struct lz_emitter *e, const uint8_t *literals, size_t count, size_t distance,
                     unsigned repeat, size_t length);

/* One parse of in[0..n) under `m`, its sequences appended to `e` (room for
 * n raw bytes and (n + 16) * 2 symbols); 0, or -1 if memory ran out. */
int lz_parse(const struct lz_model *m, const uint8_t *in, size_t n, struct lz_emitter *e);
