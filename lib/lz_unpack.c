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
 *   bits 7-0    the code's length (0: no code starts with these bits,
 *               which a well-formed stream never reads)
 *   bits 23-16  the symbol
 * and in the tokens' table, for a token without extensions (0 for one with)
 *   bits 15-8   its literal count (0 to 6)
 *   bits 31-24  its match's length (2 to 9)
 * so that the fast loop takes each field with one shift or byte move; in
 * the high offset bytes' table an entry with no code has the escape's
 * symbol, so that only the escape's rare path tests for it. The length is
 * the low byte: a shift by the whole entry shifts by it (x86 takes the
 * count mod 64), and `count` is subtracted the whole entry, only its low
 * byte kept (ENTRY_BITS) where it matters, as libdeflate does. */
#define ENTRY_SYMBOL_SHIFT 16
#define ENTRY_SYMBOL(e) ((e) >> ENTRY_SYMBOL_SHIFT & 255)
#define ENTRY_LITERALS(e) ((e) >> 8 & 255)
#define ENTRY_LENGTH(e) ((e) >> 24)
#define ENTRY_BITS(count) ((count) & 255)
typedef uint32_t code_table[1u << LZ_CODE_MAX];

int64_t lz_unpacked_size(const uint8_t *buf, size_t size)
{
    if (size < LZ_HEADER_BYTES || buf[0] != 'h' || buf[1] != 'v' || buf[2] != 'l' || buf[3] != 'z')
        return -1;
    return (int64_t)((uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
                     (uint32_t)buf[7] << 24);
}

/* n copies of entry, two a store: `rep stosq` counts one per two entries
 * where a loop of stores took four instructions per store. */
static void fill_entries(uint32_t *table, uint32_t entry, uint32_t n)
{
    uint64_t two = entry * 0x0000000100000001ull;
    size_t pairs = n / 2;
#if defined(__x86_64__) && !defined(LZ_PORTABLE_COPY)
    __asm__ volatile("rep stosq" : "+D"(table), "+c"(pairs) : "a"(two) : "memory");
#else
    for (; pairs; pairs--, table += 2)
        __builtin_memcpy(table, &two, 8);
#endif
    if (n & 1)
        *table = entry;
}

/* Canonical codes from the lengths (two a byte, the even symbol's in the
 * low nibble): shorter codes first, equal lengths in symbol order (the
 * symbols sorted by length by counting, then each code's entries filled).
 * -1 if a length is over LZ_CODE_MAX or the lengths promise more codes
 * than LZ_CODE_MAX bits have room for. */
static int __attribute__((noinline, optimize("Os"))) build_table(const uint8_t *nibbles, uint32_t *table,
                                                      bool tokens, bool far)
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
        uint32_t entry = len | sym << ENTRY_SYMBOL_SHIFT;
        if (tokens && sym >> LZ_LITERAL_SHIFT != LZ_LITERAL_MORE &&
            (sym & LZ_LENGTH_MORE) != LZ_LENGTH_MORE)
            entry |= (uint32_t)(sym >> LZ_LITERAL_SHIFT) << 8 |
                     (uint32_t)((sym & LZ_LENGTH_MORE) + LZ_MIN_LENGTH(sym)) << 24;
        fill_entries(&table[pos], entry, span);
        pos += span;
    }
    /* No code: for the high offset bytes the escape's symbol (above). */
    fill_entries(&table[pos], far ? (uint32_t)LZ_FAR_ESCAPE << ENTRY_SYMBOL_SHIFT : 0,
                 (1u << LZ_CODE_MAX) - pos);
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
        uint32_t entry_ = (table)[bits >> (64 - LZ_CODE_MAX)];           \
        unsigned len_ = entry_ & 255;                                    \
        if (!len_)                                                       \
            return -1;                                                   \
        bits <<= len_;                                                   \
        count -= len_;                                                   \
        (sym) = ENTRY_SYMBOL(entry_) & (keep);                           \
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
                     const uint32_t *tokens, const uint32_t *far)
{
    const uint8_t *in = st->in, *bp = st->bp;
    uint8_t *o = st->o;
    uint64_t bits = st->bits;
    unsigned count = st->count; /* only its low byte counts (ENTRY_BITS) */
    size_t last = st->last, last2 = st->last2;
    bool ok = true;
    do {
        if (ENTRY_BITS(count) < 2 * LZ_CODE_MAX) {
            uint64_t v;
            __builtin_memcpy(&v, bp, 8);
            bits |= __builtin_bswap64(v) >> ENTRY_BITS(count);
            bp += (63 - ENTRY_BITS(count)) >> 3;
            count |= 56;
        }
        uint32_t token = tokens[bits >> (64 - LZ_CODE_MAX)];
        size_t length = ENTRY_LENGTH(token);
        if (!length)
            break;
        bits <<= token & 63;
        count -= token;
        COPY8(o, in);
        size_t literals = ENTRY_LITERALS(token);
        o += literals;
        in += literals;
        if (!(token & LZ_KIND_REPEAT << LZ_KIND_SHIFT << ENTRY_SYMBOL_SHIFT)) {
            last2 = last;
            last = (size_t)*in++ + 1;
            if (token & LZ_KIND_FAR << LZ_KIND_SHIFT << ENTRY_SYMBOL_SHIFT) {
                uint32_t high = far[bits >> (64 - LZ_CODE_MAX)];
                bits <<= high & 63;
                count -= high;
                size_t add = high >> 8; /* the symbol times 256 */
                if (ENTRY_SYMBOL(high) == LZ_FAR_ESCAPE) {
                    if (!(high & 255)) { /* no code starts here */
                        ok = false;
                        break;
                    }
                    add += (size_t)*in++ << 8;
                }
                last += add;
            }
        } else if (token & LZ_KIND_FAR << LZ_KIND_SHIFT << ENTRY_SYMBOL_SHIFT) {
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
    st->count = ENTRY_BITS(count);
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
        if (build_table(buf + 12 + c * LZ_CODE_TABLE_BYTES, tables[c], c == LZ_CODE_TOKEN,
                        c == LZ_CODE_OFFSET_HIGH))
            return -1;
    const uint32_t *tokens = tables[LZ_CODE_TOKEN], *extensions = tables[LZ_CODE_EXTENSION],
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
