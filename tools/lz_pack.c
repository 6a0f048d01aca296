/* The hvlz packer (format: lib/lz.h). It runs once per build on about
 * 200 KB, so it spends time for ratio: an optimal parse, a shortest path
 * over the input where every byte is a position, a literal an edge of one
 * byte (two where it makes its run need an extension byte) and each match
 * found through a hash chain an edge of its encoded size plus half a byte
 * (match_cost says why); the matches at the distances of the path's last
 * two matches are tried at every position too, as repeats without offset
 * bytes.
 * A position keeps only its cheapest way in, whatever run of literals and
 * previous distance that leaves, so the path is near-optimal rather than
 * optimal; the bound holds for any path (at worst 7 literals, their
 * extension and token, and a 3-byte match with a two-byte offset: 11 bytes
 * for 10). */
#include "tools/lz_pack.h"

#include <stdlib.h>
#include <string.h>

#include "lib/lz.h"

#define HASH_BITS 16
#define CHAIN_DEPTH 1024
/* A match at least this long is taken as it is: no shorter lengths from
 * it are tried, no matches are searched inside it (runs of zeros would
 * otherwise make the search quadratic). */
#define NICE_LENGTH 256

static uint32_t hash3(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

static size_t extension_bytes(size_t v)
{
    return v / 255 + 1;
}

/* Costs are in half bytes: a sequence costs its bytes and half a byte
 * more, so that where two paths encode in the same number of bytes the one
 * with fewer sequences wins. The stub pays some 30 instructions a sequence
 * to unpack; this tie-break alone drops the core's sequences by a sixth
 * (23,194 -> 19,330) for 0.5 % in size (95,506 -> 95,988 bytes). */
static size_t match_cost(size_t distance, unsigned repeat, size_t length)
{
    size_t bytes = 1 + (repeat ? 0 : distance > 256 ? 2 : 1);
    if (length - LZ_MIN_MATCH >= LZ_LENGTH_MORE)
        bytes += extension_bytes(length - LZ_MIN_MATCH - LZ_LENGTH_MORE);
    return 2 * bytes + 1;
}

size_t lz_pack_bound(size_t n)
{
    return LZ_HEADER_BYTES + n + n / 8 + 16;
}

struct step {
    uint32_t cost;     /* half bytes to encode the input before this position */
    uint32_t length;   /* the edge that reached it: 1 (literal) or a match */
    uint32_t distance;
    uint32_t run;      /* literals just before this position */
    uint32_t last;     /* the distance of the path's last match (0: none) */
    uint32_t last2;    /* and of the one before it */
    uint32_t repeat;   /* the edge is a match at its start's `last` (1) or `last2` (2) */
};

/* What one more literal costs after a run of `run`, in half bytes. */
static uint32_t literal_cost(uint32_t run)
{
    uint32_t next = run + 1;
    return next >= LZ_LITERAL_MORE && (next - LZ_LITERAL_MORE) % 255 == 0 ? 4 : 2;
}

static uint8_t *put_extension(uint8_t *o, size_t v)
{
    for (; v >= 255; v -= 255)
        *o++ = 255;
    *o++ = (uint8_t)v;
    return o;
}

static uint8_t *put_sequence(uint8_t *o, const uint8_t *literals, size_t count, size_t distance,
                             unsigned repeat, size_t length)
{
    size_t m = length ? length - LZ_MIN_MATCH : 0;
    unsigned kind = repeat == 2 ? LZ_KIND_REPEAT2
                    : repeat  ? LZ_KIND_REPEAT
                    : distance > 256 ? LZ_KIND_FAR
                                     : LZ_KIND_NEAR;
    uint8_t token = (uint8_t)((count < LZ_LITERAL_MORE ? count : LZ_LITERAL_MORE) << LZ_LITERAL_SHIFT |
                              kind << LZ_KIND_SHIFT | (m < LZ_LENGTH_MORE ? m : LZ_LENGTH_MORE));
    *o++ = token;
    if (count >= LZ_LITERAL_MORE)
        o = put_extension(o, count - LZ_LITERAL_MORE);
    memcpy(o, literals, count);
    o += count;
    if (!length)
        return o;
    if (!repeat) {
        *o++ = (uint8_t)(distance - 1);
        if (distance > 256)
            *o++ = (uint8_t)((distance - 1) >> 8);
    }
    if (m >= LZ_LENGTH_MORE)
        o = put_extension(o, m - LZ_LENGTH_MORE);
    return o;
}

/* Offers the edges of one match found at position i: every length from
 * `from` to `len` at `distance`, a new distance (repeat 0) or one of the
 * last two (1, 2). The two distances after it are the decoder's: a repeat
 * keeps them, a second repeat swaps them, a new one pushes. */
static void offer_match(struct step *best, size_t i, size_t distance, unsigned repeat,
                        size_t from, size_t len)
{
    uint32_t last2 = repeat == 1 ? best[i].last2 : best[i].last;
    for (size_t l = from; l <= len; l++) {
        uint32_t c = best[i].cost + (uint32_t)match_cost(distance, repeat, l);
        if (c < best[i + l].cost)
            best[i + l] = (struct step){c, (uint32_t)l, (uint32_t)distance, 0, (uint32_t)distance,
                                        last2, repeat};
    }
}

/* How far in[i..n) matches the bytes `distance` back. */
static size_t match_length(const uint8_t *in, size_t i, size_t n, size_t distance)
{
    size_t len = 0;
    while (i + len < n && in[i + len] == in[i + len - distance])
        len++;
    return len;
}

size_t lz_pack(const uint8_t *in, size_t n, uint8_t *out)
{
    if (n > UINT32_MAX)
        return 0;
    struct step *best = malloc((n + 1) * sizeof(*best));
    int32_t *head = malloc(sizeof(int32_t) << HASH_BITS);
    int32_t *prev = malloc((n ? n : 1) * sizeof(int32_t));
    if (!best || !head || !prev) {
        free(best);
        free(head);
        free(prev);
        return 0;
    }
    for (size_t i = 0; i < (1u << HASH_BITS); i++)
        head[i] = -1;
    best[0] = (struct step){0, 0, 0, 0, 0, 0, 0};
    for (size_t i = 1; i <= n; i++)
        best[i] = (struct step){UINT32_MAX, 0, 0, 0, 0, 0, 0};

    size_t skip_until = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t lit = best[i].cost + literal_cost(best[i].run);
        if (lit < best[i + 1].cost)
            best[i + 1] = (struct step){lit, 1, 0, best[i].run + 1, best[i].last,
                                        best[i].last2, 0};
        if (i + LZ_MIN_MATCH > n)
            continue;
        uint32_t h = hash3(in + i);
        int32_t candidate = head[h];
        prev[i] = candidate;
        head[h] = (int32_t)i;
        if (i < skip_until)
            continue;

        size_t longest = LZ_MIN_MATCH - 1, limit = n - i;
        /* The repeats first: no offset bytes, so at any length they are
         * the cheapest matches; the chain below skips their distances. */
        size_t last = best[i].last, last2 = best[i].last2;
        if (last2 && last2 <= i && last2 != last) {
            size_t len = match_length(in, i, n, last2);
            if (len >= LZ_MIN_MATCH && len < NICE_LENGTH)
                offer_match(best, i, last2, 2, LZ_MIN_MATCH, len);
        }
        if (last && last <= i) {
            size_t len = match_length(in, i, n, last);
            if (len >= LZ_MIN_MATCH) {
                offer_match(best, i, last, 1, len >= NICE_LENGTH ? len : LZ_MIN_MATCH, len);
                if (len >= NICE_LENGTH) {
                    skip_until = i + len;
                    continue;
                }
            }
        }
        for (int depth = 0; candidate >= 0 && depth < CHAIN_DEPTH; depth++, candidate = prev[candidate]) {
            size_t distance = i - (size_t)candidate;
            if (distance > LZ_MAX_DISTANCE)
                break;
            if (distance == last || distance == last2)
                continue;
            const uint8_t *a = in + i, *b = in + candidate;
            if (longest >= limit)
                break; /* nothing can be longer than the rest of the input */
            if (b[longest] != a[longest])
                continue;
            size_t len = 0;
            while (len < limit && a[len] == b[len])
                len++;
            if (len <= longest)
                continue;
            /* Nearer candidates came first: lengths up to `longest` have
             * their cheapest distance already. */
            offer_match(best, i, distance, 0, len >= NICE_LENGTH ? len : longest + 1, len);
            longest = len;
            if (len >= NICE_LENGTH) {
                skip_until = i + len;
                break;
            }
        }
    }

    /* Walk the cheapest path back, marking each edge at its end. */
    uint32_t *edge_at = malloc((n + 1) * sizeof(uint32_t));
    if (!edge_at) {
        free(best);
        free(head);
        free(prev);
        return 0;
    }
    memset(edge_at, 0, (n + 1) * sizeof(uint32_t));
    for (size_t p = n; p > 0; p -= best[p].length)
        edge_at[p - best[p].length] = (uint32_t)p;

    uint8_t *o = out;
    memcpy(o, "hvlz", 4);
    o[4] = (uint8_t)n;
    o[5] = (uint8_t)(n >> 8);
    o[6] = (uint8_t)(n >> 16);
    o[7] = (uint8_t)(n >> 24);
    o += LZ_HEADER_BYTES;
    size_t literal_start = 0, p = 0;
    while (p < n) {
        size_t next = edge_at[p];
        size_t length = next - p;
        if (length == 1 && best[next].distance == 0) {
            p = next;
            continue;
        }
        o = put_sequence(o, in + literal_start, p - literal_start, best[next].distance,
                         best[next].repeat, length);
        p = next;
        literal_start = p;
    }
    if (literal_start < n)
        o = put_sequence(o, in + literal_start, n - literal_start, 0, 0, 0);

    free(edge_at);
    free(best);
    free(head);
    free(prev);
    return (size_t)(o - out);
}
