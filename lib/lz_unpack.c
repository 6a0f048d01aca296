/* The hvlz decoder (lib/lz.h): freestanding, shared by the UEFI stub, the
 * packer's self-check and the unit tests. Every read and write is checked
 * against its buffer: the input is our own build output, but a corrupt file
 * must end in an error message, not a write through memory. */
#include "lib/lz.h"

#include <stdbool.h>

/* Copies n bytes forward, byte by byte as an overlapping match needs, and
 * advances both pointers. `rep movsb` is one instruction for the whole run
 * and leaves the pointers where the next copy starts (under QEMU's -icount
 * it counts one per byte, against a loop's four or five); LZ_PORTABLE_COPY
 * gives the sanitizers of the unit tests a loop they can see into. */
#if defined(__x86_64__) && !defined(LZ_PORTABLE_COPY)
#define COPY_FORWARD(dst, src, n) \
    __asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory")
#else
#define COPY_FORWARD(dst, src, n) \
    do {                          \
        while (n) {               \
            *dst++ = *src++;      \
            n--;                  \
        }                         \
    } while (0)
#endif

/* Eight bytes from src to dst, one load and one store: a short run copied
 * in two instructions where `rep movsb` takes one a byte and a few to set
 * up. The caller makes sure eight bytes fit on both sides. */
#define COPY8(dst, src)                  \
    do {                                 \
        uint64_t v8_;                    \
        __builtin_memcpy(&v8_, (src), 8); \
        __builtin_memcpy((dst), &v8_, 8); \
    } while (0)

/* One code's lookup table: indexed by the next LZ_CODE_MAX bits, each entry
 * the symbol (bits 7-0) and its code's length (bits 11-8; 0: no code
 * starts with these bits, which a well-formed stream never reads); in the
 * tokens' table bits 15-12 hold the match's length (2 to 9) of a token
 * without extensions, 0 for one with: one shift gives the fast loop both
 * the test and the length (FAST_LENGTH_SHIFT). */
#define FAST_LENGTH_SHIFT 12
typedef uint16_t code_table[1u << LZ_CODE_MAX];

int64_t lz_unpacked_size(const uint8_t *buf, size_t size)
{
    if (size < LZ_HEADER_BYTES || buf[0] != 'h' || buf[1] != 'v' || buf[2] != 'l' || buf[3] != 'z')
        return -1;
    return (int64_t)((uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
                     (uint32_t)buf[7] << 24);
}

/* Canonical codes from the lengths (two a byte, the even symbol's in the
 * low nibble): shorter codes first, equal lengths in symbol order (the
 * symbols sorted by length by counting, then each code's entries filled).
 * -1 if a length is over LZ_CODE_MAX or the lengths promise more codes
 * than LZ_CODE_MAX bits have room for. */
static int __attribute__((noinline, optimize("Os"))) build_table(const uint8_t *nibbles, uint16_t *table,
                                                      bool tokens)
{
    uint8_t lengths[256], order[256];
    unsigned next[LZ_CODE_MAX + 2] = {0};
    for (unsigned s = 0; s < 256; s++) {
        unsigned len = nibbles[s / 2] >> (s % 2 * 4) & 15;
        if (len > LZ_CODE_MAX)
            return -1;
        lengths[s] = (uint8_t)len;
        next[len + 1]++;
    }
    /* next[len]: where the codes of that length start in `order`. */
    next[1] = 0;
    for (unsigned len = 1; len <= LZ_CODE_MAX; len++)
        next[len + 1] += next[len];
    for (unsigned s = 0; s < 256; s++)
        if (lengths[s])
            order[next[lengths[s]]++] = (uint8_t)s;
    unsigned used = next[LZ_CODE_MAX]; /* now the end of the longest codes */
    uint32_t pos = 0;
    for (unsigned i = 0; i < used; i++) {
        unsigned sym = order[i], len = lengths[sym];
        uint32_t span = 1u << (LZ_CODE_MAX - len);
        if (pos + span > 1u << LZ_CODE_MAX)
            return -1;
        uint16_t entry = (uint16_t)(len << 8 | sym);
        if (tokens && sym >> LZ_LITERAL_SHIFT != LZ_LITERAL_MORE &&
            (sym & LZ_LENGTH_MORE) != LZ_LENGTH_MORE)
            entry |= (uint16_t)(((sym & LZ_LENGTH_MORE) + LZ_MIN_LENGTH(sym)) << FAST_LENGTH_SHIFT);
        /* Four entries a store where the span allows (codes of up to 9
         * bits, most of the table). */
        uint64_t four = entry * 0x0001000100010001ull;
        uint32_t k = 0;
        for (; k + 4 <= span; k += 4)
            __builtin_memcpy(&table[pos + k], &four, 8);
        for (; k < span; k++)
            table[pos + k] = entry;
        pos += span;
    }
    for (; pos < 1u << LZ_CODE_MAX; pos++)
        table[pos] = 0;
    return 0;
}

/* The bit stream, most significant bit first: `bits` holds `count` unread
 * bits at its top, and below them whatever follows in the stream or zeros;
 * `bp` is the first byte not yet wholly in `bits`. Locals of lz_unpack, not
 * a struct: the copies' `rep movsb` clobbers memory, and a struct whose
 * address is taken would be reloaded and stored around every one.
 *
 * REFILL tops `bits` up to at least 56 bits (room for four of the longest
 * codes). Eight bytes or more from the end, one load: the eight bytes
 * shifted under the unread bits (what lands below bit 0 is lost, what
 * lands on bits already there is the same stream bits again), `bp` moved
 * by the bytes that went in whole. Near the end, byte by byte; past it,
 * zeros, counted in `over`, so that a truncated stream is refused at the
 * end (or by an extension that never stops) rather than read beyond. */
#define REFILL()                                                         \
    do {                                                                 \
        if (bp_end - bp >= 8) {                                          \
            uint64_t v_;                                                 \
            __builtin_memcpy(&v_, bp, 8);                                \
            bits |= __builtin_bswap64(v_) >> count;                      \
            bp += (63 - count) >> 3;                                     \
            count |= 56;                                                 \
        } else {                                                         \
            while (count <= 56) {                                        \
                uint64_t byte_ = 0;                                      \
                if (bp < bp_end)                                         \
                    byte_ = *bp++;                                       \
                else                                                     \
                    over++;                                              \
                bits |= byte_ << (56 - count);                           \
                count += 8;                                              \
            }                                                            \
        }                                                                \
    } while (0)

/* The next symbol of `table` into `sym` (the entry's bits in `keep`: the
 * symbol's, and for a token its flag); a refused stream where no code
 * starts. At most four since the last REFILL. */
#define DECODE(sym, table, keep)                                             \
    do {                                                                 \
        unsigned entry_ = (table)[bits >> (64 - LZ_CODE_MAX)];           \
        unsigned len_ = entry_ >> 8 & 15;                                \
        if (!len_)                                                       \
            return -1;                                                   \
        bits <<= len_;                                                   \
        count -= len_;                                                   \
        (sym) = entry_ & (keep);                                         \
    } while (0)

/* An extended count: symbols added to `value` while they are 255. Reading
 * on past the end is refused once the zeros read there could no longer be
 * padding. */
#define READ_EXTENSION(value)                                            \
    do {                                                                 \
        unsigned b_;                                                     \
        do {                                                             \
            REFILL();                                                    \
            if (over > 8)                                                \
                return -1;                                               \
            DECODE(b_, extensions, 255u);                                      \
            (value) += b_;                                               \
        } while (b_ == 255);                                             \
    } while (0)

/* The match's distance into `last`: a new one (its low byte from the raw
 * stream, plus its high byte's symbol for a far one, and after an escape
 * the raw byte added to it) or one of the last two
 * (LZ_KIND_REPEAT keeps `last`, LZ_KIND_REPEAT2 swaps it with `last2`). The
 * caller has checked the raw stream holds the low byte. */
#define READ_OFFSET()                                                    \
    do {                                                                 \
        if (!(token & LZ_KIND_REPEAT << LZ_KIND_SHIFT)) {                \
            last2 = last;                                                \
            last = (size_t)*in++ + 1;                                    \
            if (token & LZ_KIND_FAR << LZ_KIND_SHIFT) {                  \
                unsigned high_;                                          \
                DECODE(high_, far, 255u);                                \
                if (high_ == LZ_FAR_ESCAPE) {                            \
                    if (in == in_end)                                    \
                        return -1;                                       \
                    high_ += *in++;                                      \
                }                                                        \
                last += (size_t)high_ << 8;                              \
            }                                                            \
        } else if (token & LZ_KIND_FAR << LZ_KIND_SHIFT) {               \
            size_t t_ = last;                                            \
            last = last2;                                                \
            last2 = t_;                                                  \
        }                                                                \
    } while (0)

/* How many sequences without extensions can follow with no check but their
 * distance's: each reads at most 6 literals and two offset bytes (the low
 * one and a high one's escape: 8 bytes), writes at most 6 + 9 bytes, as
 * eight and sixteen (what lands past the sequence's end is written again
 * by the next), and takes at most 24 bits of the bit stream (a token and a
 * high offset byte), three bytes, with REFILL's one load of eight bytes at `bp`, which is at
 * most eight bytes ahead of the bits taken. Counted as 8, 16 and 4 bytes a
 * sequence: shifts, where the exact divisions cost some 20 instructions
 * each time the checked path hands back (docs/benchmarks.md). */
static inline size_t fast_budget(const uint8_t *in, const uint8_t *in_end, const uint8_t *o,
                                 const uint8_t *out_end, const uint8_t *bp, const uint8_t *bp_end)
{
    size_t in_left = (size_t)(in_end - in), out_left = (size_t)(out_end - o);
    size_t bits_left = (size_t)(bp_end - bp);
    if (in_left < 8 || out_left < 6 + 16 || bits_left < 16)
        return 0;
    size_t by_in = ((in_left - 8) >> 3) + 1, by_out = ((out_left - (6 + 16)) >> 4) + 1;
    size_t by_bits = ((bits_left - 16) >> 2) + 1;
    size_t budget = by_in < by_out ? by_in : by_out;
    return budget < by_bits ? budget : by_bits;
}

/* The decoder's state between the fast loop and the checked one. */
struct lz_state {
    const uint8_t *in, *bp;
    uint8_t *o;
    uint64_t bits;
    unsigned count;
    size_t last, last2;
};

/* Up to `budget` sequences without extensions (nine in ten), far from
 * every end (fast_budget), each with no check but its distance's; stops
 * before the first token with an extension or no code. A function of its
 * own so that its dozen live values stay in registers (in one loop with
 * the checked path, half of them were spilled and reloaded every
 * sequence). false: a distance before the start of the output. */
static bool fast_run(struct lz_state *st, size_t budget, const uint8_t *out,
                     const uint16_t *tokens, const uint16_t *far)
{
    const uint8_t *in = st->in, *bp = st->bp;
    uint8_t *o = st->o;
    uint64_t bits = st->bits;
    unsigned count = st->count;
    size_t last = st->last, last2 = st->last2;
    bool ok = true;
    do {
        if (count < 2 * LZ_CODE_MAX) {
            uint64_t v;
            __builtin_memcpy(&v, bp, 8);
            bits |= __builtin_bswap64(v) >> count;
            bp += (63 - count) >> 3;
            count |= 56;
        }
        unsigned token = tokens[bits >> (64 - LZ_CODE_MAX)];
        size_t length = token >> FAST_LENGTH_SHIFT;
        if (!length)
            break;
        unsigned len = token >> 8 & 15;
        bits <<= len;
        count -= len;
        COPY8(o, in);
        size_t literals = (token & 255) >> LZ_LITERAL_SHIFT;
        o += literals;
        in += literals;
        if (!(token & LZ_KIND_REPEAT << LZ_KIND_SHIFT)) {
            last2 = last;
            last = (size_t)*in++ + 1;
            if (token & LZ_KIND_FAR << LZ_KIND_SHIFT) {
                unsigned high = far[bits >> (64 - LZ_CODE_MAX)];
                unsigned high_len = high >> 8 & 15;
                if (!high_len) {
                    ok = false;
                    break;
                }
                bits <<= high_len;
                count -= high_len;
                high &= 255;
                if (high == LZ_FAR_ESCAPE)
                    high += *in++;
                last += (size_t)high << 8;
            }
        } else if (token & LZ_KIND_FAR << LZ_KIND_SHIFT) {
            size_t t = last;
            last = last2;
            last2 = t;
        }
        if (last > (size_t)(o - out)) {
            ok = false;
            break;
        }
        const uint8_t *from = o - last;
        if (last >= 8) {
            /* Each eight bytes read are final before they are read. */
            COPY8(o, from);
            COPY8(o + 8, from + 8);
            o += length;
        } else {
            COPY_FORWARD(o, from, length); /* a pattern repeated */
        }
    } while (--budget);
    st->in = in;
    st->bp = bp;
    st->o = o;
    st->bits = bits;
    st->count = count;
    st->last = last;
    st->last2 = last2;
    return ok;
}

int lz_unpack(const uint8_t *buf, size_t size, uint8_t *out, size_t out_size)
{
    int64_t want = lz_unpacked_size(buf, size);
    if (want < 0 || (uint64_t)want != out_size || size < LZ_PREFIX_BYTES)
        return -1;
    size_t raw = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 |
                 (size_t)buf[11] << 24;
    if (raw > size - LZ_PREFIX_BYTES)
        return -1;
    code_table tables[LZ_CODES];
    for (unsigned c = 0; c < LZ_CODES; c++)
        if (build_table(buf + 12 + c * LZ_CODE_TABLE_BYTES, tables[c], c == LZ_CODE_TOKEN))
            return -1;
    const uint16_t *tokens = tables[LZ_CODE_TOKEN], *extensions = tables[LZ_CODE_EXTENSION],
                   *far = tables[LZ_CODE_OFFSET_HIGH];
    const uint8_t *in = buf + LZ_PREFIX_BYTES, *in_end = in + raw;
    const uint8_t *bp = in_end, *bp_end = buf + size;
    uint64_t bits = 0;
    unsigned count = 0;
    size_t over = 0;
    uint8_t *o = out, *out_end = out + out_size;
    /* The last two matches' distances, for the repeats: none yet, which
     * the distance check refuses as it refuses one before the start. */
    size_t last = SIZE_MAX, last2 = SIZE_MAX;

    while (o != out_end) {
        size_t budget = fast_budget(in, in_end, o, out_end, bp, bp_end);
        if (budget) {
            struct lz_state st = {in, bp, o, bits, count, last, last2};
            if (!fast_run(&st, budget, out, tokens, far))
                return -1;
            in = st.in;
            bp = st.bp;
            o = st.o;
            bits = st.bits;
            count = st.count;
            last = st.last;
            last2 = st.last2;
            /* The budget leaves room for 7 bytes more: o < out_end. */
        }

        /* One sequence near either end, or with extensions, or whatever
         * the fast run stopped at: every field checked. */
        if (count < 2 * LZ_CODE_MAX) {
            REFILL();
            if (over > 8)
                return -1;
        }
        unsigned token;
        DECODE(token, tokens, 255u);
        size_t literals = token >> LZ_LITERAL_SHIFT;
        size_t length = token & LZ_LENGTH_MORE;
        if (literals == LZ_LITERAL_MORE)
            READ_EXTENSION(literals);
        if (literals > (size_t)(in_end - in) || literals > (size_t)(out_end - o))
            return -1;
        COPY_FORWARD(o, in, literals);
        if (o == out_end)
            break;

        if (!(token & LZ_KIND_REPEAT << LZ_KIND_SHIFT) && in == in_end)
            return -1; /* a new offset's low byte past the raw stream */
        READ_OFFSET();
        if (length == LZ_LENGTH_MORE)
            READ_EXTENSION(length);
        length += LZ_MIN_LENGTH(token);
        if (last > (size_t)(o - out) || length > (size_t)(out_end - o))
            return -1;
        const uint8_t *from = o - last;
        COPY_FORWARD(o, from, length);
    }
    /* Every byte used: the raw stream's exactly, the bit stream's up to
     * fewer than eight bits of padding. */
    if (in != in_end)
        return -1;
    size_t loaded = (size_t)(bp - in_end) + over;
    if (count > 8 * loaded)
        return -1;
    size_t used_bits = 8 * loaded - count;
    return (used_bits + 7) / 8 == (size_t)(bp_end - in_end) ? 0 : -1;
}
