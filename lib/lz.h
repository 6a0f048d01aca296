/* hvlz: the LZ77 format the hypervisor core travels in inside BOOTX64.EFI
 * (tools/lz_pack.c writes it at build time from tools/lz_parse.c's parse,
 * the UEFI stub unpacks it).
 * Literals and offsets' low bytes stay bytes, copied with `rep movsb` at
 * about one instruction a byte; the fields whose values are skewed (tokens,
 * extensions, offsets' high bytes) are Huffman-coded, at some ten
 * instructions a symbol: the literals and low offset bytes would save 4.3 KB
 * of the core's 125 KB for 80,000 symbols, the three coded fields save
 * about 7.4 KB for 43,000 (docs/benchmarks.md hv_image_bytes).
 *
 * A packed buffer is
 *
 *   "hvlz", the unpacked size (u32, little endian)
 *   R            the raw stream's length (u32, little endian)
 *   3 codes      each 128 bytes: the code length (0: unused, at most
 *                LZ_CODE_MAX) of symbols 0-255, two a byte, the even
 *                symbol's in the low nibble; canonical Huffman codes
 *                (shorter codes first, equal lengths in symbol order):
 *                tokens, extensions, offsets' high bytes
 *   raw stream   R bytes: each sequence's literals and its offset's low byte
 *   bit stream   the rest, most significant bit first: each sequence's
 *                token, extensions and high offset byte, in the order
 *                below; padded with fewer than 8 bits
 *
 * and each sequence is, in order of reading:
 *
 *   token        bits 7-5 literal count L (7: more follows as an extension),
 *                bits 4-3 the match's distance: 0 one offset byte, 1 two
 *                offset bytes, 2 none: the previous match's distance again
 *                (a "repeat"), 3 none: the distance of the match before
 *                that (a "second repeat"; the two distances swap places),
 *                bits 2-0 match length M - 3, for either repeat M - 2 (7:
 *                more follows)
 *   [extension]  for L == 7: symbols added to it, 255 meaning "and another"
 *   literals     L bytes
 *   [offset]     distance back - 1: the low byte, then for two offset bytes
 *                the high byte; a high byte's symbol 255 (LZ_FAR_ESCAPE)
 *                is followed by a byte in the raw stream added to it, so
 *                that a match reaches 130,816 bytes back (the core's code
 *                is some 170 KB: 506 packed bytes fewer than a 64 KiB
 *                window)
 *   [extension]  for M - 3 == 7, as for L
 *
 * The repeat is what code is full of: an instruction sequence copied from
 * earlier with one field changed (a displacement, a register, an
 * immediate) is a match, a literal or two, and a match at the same
 * distance again, whose offset costs nothing; the second repeat catches
 * two such copies interleaved. A repeat without a match before it (two
 * for the second) has no distance and is refused.
 *
 * A sequence's literals that reach the unpacked size end the stream (the
 * last sequence may be literals only). Matches may overlap their output
 * (distance < length), which repeats a pattern, as in every LZ77. Both
 * streams must be used up exactly. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define LZ_HEADER_BYTES 8
#define LZ_MIN_MATCH 3
/* The high byte's escape (above): high bytes 255 to 510. */
#define LZ_FAR_ESCAPE 255
#define LZ_MAX_DISTANCE (((LZ_FAR_ESCAPE + 255) << 8) + 256)
/* The token's fields (above). */
#define LZ_LITERAL_SHIFT 5
#define LZ_LITERAL_MORE 7
#define LZ_KIND_SHIFT 3
#define LZ_KIND_MASK 3
#define LZ_KIND_NEAR 0
#define LZ_KIND_FAR 1
#define LZ_KIND_REPEAT 2
#define LZ_KIND_REPEAT2 3
#define LZ_LENGTH_MORE 7
/* The shortest match a token's kind can have: 2 for the repeats (no offset
 * to pay for), 3 for a new distance. */
#define LZ_MIN_REPEAT 2
#define LZ_MIN_LENGTH(token) \
    (LZ_MIN_MATCH - ((token) >> LZ_KIND_SHIFT >> 1 & 1) * (LZ_MIN_MATCH - LZ_MIN_REPEAT))
/* The Huffman-coded fields (above). */
#define LZ_CODES 3
#define LZ_CODE_TOKEN 0
#define LZ_CODE_EXTENSION 1
#define LZ_CODE_OFFSET_HIGH 2
#define LZ_CODE_MAX 12
#define LZ_CODE_TABLE_BYTES 128
/* Everything before the raw stream. */
#define LZ_PREFIX_BYTES (LZ_HEADER_BYTES + 4 + LZ_CODES * LZ_CODE_TABLE_BYTES)

/* System V calls even from the UEFI stub, which is built -mabi=ms: the
 * decoder (built -mabi=sysv there) keeps rsi and rdi as scratch registers
 * in its loops (~2,000 instructions fewer a boot). The stub's MS-ABI
 * callers then save rsi and rdi but no xmm6-15 (the stub is built
 * -mgeneral-regs-only): the decoder must use no SSE register. */
#if defined(__x86_64__)
#define LZ_ABI __attribute__((sysv_abi))
#else
#define LZ_ABI
#endif

/* The unpacked size a header announces, or -1 if buf is no hvlz buffer. */
LZ_ABI int64_t lz_unpacked_size(const uint8_t *buf, size_t size);

/* Unpacks buf (header included) into out, which holds out_size bytes, the
 * header's size exactly. 0 on success; -1 if buf is malformed (truncated,
 * a distance before the start, output past out_size, bytes left over):
 * nothing is read or written outside the two buffers whatever buf holds. */
LZ_ABI int lz_unpack(const uint8_t *buf, size_t size, uint8_t *out, size_t out_size);
