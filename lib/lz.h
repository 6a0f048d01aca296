/* hvlz: the byte-aligned LZ77 format the hypervisor core travels in inside
 * BOOTX64.EFI (tools/lz_pack.c writes it at build time, the UEFI stub
 * unpacks it). Byte-aligned, no entropy coding: unpacking costs about one
 * instruction per output byte (`rep movsb`) plus a few dozen per sequence,
 * where a Huffman stage would cost tens per byte; the ratio is gzip's
 * within about 15 %.
 *
 * A packed buffer is an 8-byte header, "hvlz" and the unpacked size
 * (u32, little endian), then sequences until that many bytes are out:
 *
 *   token        bits 7-5 literal count L (7: more follows as an extension),
 *                bit 4 offset width (0: one byte, 1: two bytes),
 *                bits 3-0 match length M - 3 (15: more follows)
 *   [extension]  for L == 7: bytes added to it, 255 meaning "and another"
 *   literals     L bytes
 *   offset       distance back - 1, one or two bytes (little endian)
 *   [extension]  for M - 3 == 15, as for L
 *
 * A sequence's literals that reach the unpacked size end the stream (the
 * last sequence may be literals only). Matches may overlap their output
 * (distance < length), which repeats a pattern, as in every LZ77. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define LZ_HEADER_BYTES 8
#define LZ_MIN_MATCH 3
#define LZ_MAX_DISTANCE 65536

/* The unpacked size a header announces, or -1 if buf is no hvlz buffer. */
int64_t lz_unpacked_size(const uint8_t *buf, size_t size);

/* Unpacks buf (header included) into out, which holds out_size bytes, the
 * header's size exactly. 0 on success; -1 if buf is malformed (truncated,
 * a distance before the start, output past out_size, bytes left over):
 * nothing is read or written outside the two buffers whatever buf holds. */
int lz_unpack(const uint8_t *buf, size_t size, uint8_t *out, size_t out_size);
