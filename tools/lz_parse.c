/* The hvlz packer's parse (format: lib/lz.h; its writer: tools/lz_pack.c).
 * The packer runs once per build on about 200 KB, so it spends time for
 * ratio: an optimal parse, a shortest path over the input where every byte
 * is a position, a literal an edge of one byte (two where it makes its run
 * need an extension byte) and each match found through a hash chain an edge
 * of its encoded size (match_cost); the matches at the distances of the
 * path's last two matches are tried at every position too, as repeats
 * without offset bytes. A position keeps its STATES cheapest ways in with
 * different last two distances, whatever run of literals each leaves, so
 * the path is near-optimal rather than optimal; the bound (lz_pack_bound)
 * holds for any path (at worst 7 literals, their extension and token, and a
 * 3-byte match with a two-byte offset: 11 bytes for 10; an escaped
 * distance only from 4 bytes: 12 for 11). */
#include "tools/lz_parse.h"

#include <stdlib.h>
#include <string.h>

#define HASH_BITS 16
#define CHAIN_DEPTH 1024
/* A match at least this long is taken as it is: no shorter lengths from
 * it are tried, no matches are searched inside it (runs of zeros would
 * otherwise make the search quadratic). */
#define NICE_LENGTH 256
/* Distances above this one take the high byte's escape (lib/lz.h). */
#define ESCAPED_FROM ((size_t)LZ_FAR_ESCAPE << 8)

static uint32_t hash3(const uint8_t *p)
{
    uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
    return (v * 2654435761u) >> (32 - HASH_BITS);
}

/* An extension of v: 255s and the rest. */
static uint32_t extension_cost(const struct lz_model *m, size_t v)
{
    return (uint32_t)(v / 255) * m->cost[LZ_CODE_EXTENSION][255] +
           m->cost[LZ_CODE_EXTENSION][v % 255];
}

/* A match ending a sequence whose literal run is `run`: its token (which
 * carries the run's count), its offset, its length's extension. */
static uint32_t match_cost(const struct lz_model *m, uint32_t run, size_t distance, unsigned repeat,
                           size_t length)
{
    size_t l = length - (repeat ? LZ_MIN_REPEAT : LZ_MIN_MATCH);
    unsigned kind = repeat == 2 ? LZ_KIND_REPEAT2
                    : repeat  ? LZ_KIND_REPEAT
                    : distance > 256 ? LZ_KIND_FAR
                                     : LZ_KIND_NEAR;
    unsigned token = (run < LZ_LITERAL_MORE ? run : LZ_LITERAL_MORE) << LZ_LITERAL_SHIFT |
                     kind << LZ_KIND_SHIFT | (l < LZ_LENGTH_MORE ? l : LZ_LENGTH_MORE);
    uint32_t c = m->sequence + m->cost[LZ_CODE_TOKEN][token];
    if (!repeat) {
        c += 8 * BIT;
        if (distance > 256 && (distance - 1) >> 8 < LZ_FAR_ESCAPE)
            c += m->cost[LZ_CODE_OFFSET_HIGH][(distance - 1) >> 8];
        else if (distance > 256)
            c += m->cost[LZ_CODE_OFFSET_HIGH][LZ_FAR_ESCAPE] + 8 * BIT;
    }
    if (l >= LZ_LENGTH_MORE)
        c += extension_cost(m, l - LZ_LENGTH_MORE);
    return c;
}

/* A way into a position: the parse keeps the STATES cheapest ways in with
 * different last distances (the repeats' state), not only the cheapest, since
 * a dearer way in can make the repeats after it free: on the core 1 way
 * 115,622 bytes, 4 115,094, 8 115,050, 16 115,004 (at SEQUENCE_COST 0); 16
 * ways take twice 8's time for nothing more at half a bit a sequence. */
#ifndef STATES
#define STATES 8
#endif
struct step {
    uint32_t cost;     /* sixteenths of a bit to encode the input before this position */
    uint32_t length;   /* the edge that reached it: 1 (literal) or a match */
    uint32_t distance;
    uint32_t run;      /* literals just before this position */
    uint32_t last;     /* the distance of the path's last match (0: none) */
    uint32_t last2;    /* and of the one before it */
    uint16_t repeat;   /* the edge is a match at its start's `last` (1) or `last2` (2) */
    uint16_t from;     /* the way into the edge's start it came from */
};

/* Offers `s` as a way into the position whose ways are `at`: it replaces
 * the way with the same two distances if cheaper, else the dearest way if
 * cheaper than that. */
static void offer_step(struct step *at, const struct step *s)
{
    unsigned worst = 0;
    for (unsigned k = 0; k < STATES; k++) {
        if (at[k].cost != UINT32_MAX && at[k].last == s->last && at[k].last2 == s->last2) {
            if (s->cost < at[k].cost)
                at[k] = *s;
            return;
        }
        if (at[k].cost > at[worst].cost)
            worst = k;
    }
    if (s->cost < at[worst].cost)
        at[worst] = *s;
}

/* What one more literal costs after a run of `run`: its byte, and where
 * the run reaches an extension, the extension's growth (approximated by
 * the cost of its most common symbol, 0, at each step of 255). */
static uint32_t literal_cost(const struct lz_model *m, uint32_t run)
{
    uint32_t next = run + 1;
    uint32_t c = 8 * BIT;
    if (next >= LZ_LITERAL_MORE && (next - LZ_LITERAL_MORE) % 255 == 0)
        c += m->cost[LZ_CODE_EXTENSION][0];
    return c;
}

/* Offers the edges of one match found at position i: every length from
 * `from` to `len` at `distance`, a new distance (repeat 0) or one of the
 * last two (1, 2). The two distances after it are the decoder's: a repeat
 * keeps them, a second repeat swaps them, a new one pushes. */
static void offer_match(const struct lz_model *m, struct step *best, size_t i, unsigned k,
                        size_t distance, unsigned repeat, size_t from, size_t len)
{
    const struct step *w = &best[i * STATES + k];
    uint32_t last2 = repeat == 1 ? w->last2 : w->last;
    for (size_t l = from; l <= len; l++) {
        struct step s = {w->cost + match_cost(m, w->run, distance, repeat, l), (uint32_t)l,
                         (uint32_t)distance, 0, (uint32_t)distance, last2, (uint16_t)repeat,
                         (uint16_t)k};
        offer_step(&best[(i + l) * STATES], &s);
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

/* The parse: the cheapest ways into every position, forward, then the
 * cheapest path walked back and emitted. */
int lz_parse(const struct lz_model *m, const uint8_t *in, size_t n, struct lz_emitter *e)
{
    struct step *best = malloc((n + 1) * STATES * sizeof(*best));
    int32_t *head = malloc(sizeof(int32_t) << HASH_BITS);
    int32_t *prev = malloc((n ? n : 1) * sizeof(int32_t));
    /* The chain's matches at one position: distance and length. */
    size_t (*found)[2] = malloc(CHAIN_DEPTH * sizeof(*found));
    uint32_t *edge_at = malloc((n + 1) * sizeof(uint32_t));
    uint16_t *way_at = malloc((n + 1) * sizeof(uint16_t));
    int status = -1; /* out of memory */
    if (!best || !head || !prev || !found || !edge_at || !way_at)
        goto out;
    for (size_t i = 0; i < (1u << HASH_BITS); i++)
        head[i] = -1;
    for (size_t i = 0; i < (n + 1) * STATES; i++)
        best[i] = (struct step){UINT32_MAX, 0, 0, 0, 0, 0, 0, 0};
    best[0] = (struct step){0, 0, 0, 0, 0, 0, 0, 0};

    size_t skip_until = 0;
    for (size_t i = 0; i < n; i++) {
        struct step *here = &best[i * STATES];
        for (unsigned k = 0; k < STATES; k++) {
            if (here[k].cost == UINT32_MAX)
                continue;
            struct step s = {here[k].cost + literal_cost(m, here[k].run), 1, 0, here[k].run + 1,
                             here[k].last, here[k].last2, 0, (uint16_t)k};
            offer_step(&best[(i + 1) * STATES], &s);
        }
        if (i + LZ_MIN_MATCH > n)
            continue;
        uint32_t h = hash3(in + i);
        int32_t candidate = head[h];
        prev[i] = candidate;
        head[h] = (int32_t)i;
        if (i < skip_until)
            continue;

        /* The repeats first: no offset bytes, so at any length they are
         * the cheapest matches. */
        size_t skip = 0;
        for (unsigned k = 0; k < STATES; k++) {
            if (here[k].cost == UINT32_MAX)
                continue;
            size_t last = here[k].last, last2 = here[k].last2;
            if (last2 && last2 <= i && last2 != last) {
                size_t len = match_length(in, i, n, last2);
                if (len >= LZ_MIN_REPEAT && len < NICE_LENGTH)
                    offer_match(m, best, i, k, last2, 2, LZ_MIN_REPEAT, len);
            }
            if (last && last <= i) {
                size_t len = match_length(in, i, n, last);
                if (len >= LZ_MIN_REPEAT) {
                    offer_match(m, best, i, k, last, 1, len >= NICE_LENGTH ? len : LZ_MIN_REPEAT,
                                len);
                    if (len >= NICE_LENGTH && len > skip)
                        skip = len;
                }
            }
        }
        if (skip) {
            skip_until = i + skip;
            continue;
        }
        size_t longest = LZ_MIN_MATCH - 1, limit = n - i, nfound = 0;
        for (int depth = 0; candidate >= 0 && depth < CHAIN_DEPTH; depth++, candidate = prev[candidate]) {
            size_t distance = i - (size_t)candidate;
            if (distance > LZ_MAX_DISTANCE)
                break;
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
            found[nfound][0] = distance;
            found[nfound++][1] = len;
            longest = len;
            if (len >= NICE_LENGTH) {
                skip_until = i + len;
                break;
            }
        }
        /* Nearer candidates came first: lengths up to the one before
         * have their cheapest distance already. */
        for (unsigned k = 0; k < STATES; k++) {
            if (here[k].cost == UINT32_MAX)
                continue;
            size_t from = LZ_MIN_MATCH;
            for (size_t f = 0; f < nfound; f++) {
                size_t len = found[f][1];
                /* An escaped distance (three offset bytes) from 4 bytes
                 * on: a 3-byte match could then cost more than its
                 * bytes' share of lz_pack_bound. */
                size_t min = found[f][0] > ESCAPED_FROM && from < LZ_MIN_MATCH + 1 ? LZ_MIN_MATCH + 1
                                                                                : from;
                if (len >= min)
                    offer_match(m, best, i, k, found[f][0], 0, len >= NICE_LENGTH ? len : min, len);
                from = len + 1;
            }
        }
    }

    /* Walk the cheapest path back, marking each edge at its end. */
    memset(edge_at, 0, (n + 1) * sizeof(uint32_t));
    unsigned k = 0;
    for (unsigned j = 1; j < STATES; j++)
        if (best[n * STATES + j].cost < best[n * STATES + k].cost)
            k = j;
    for (size_t p = n; p > 0;) {
        const struct step *w = &best[p * STATES + k];
        edge_at[p - w->length] = (uint32_t)p;
        way_at[p - w->length] = (uint16_t)k;
        k = w->from;
        p -= w->length;
    }

    size_t literal_start = 0, p = 0;
    while (p < n) {
        size_t next = edge_at[p];
        const struct step *w = &best[next * STATES + way_at[p]];
        size_t length = next - p;
        if (length == 1 && w->distance == 0) {
            p = next;
            continue;
        }
        lz_put_sequence(e, in + literal_start, p - literal_start, w->distance, w->repeat, length);
        p = next;
        literal_start = p;
    }
    if (literal_start < n)
        lz_put_sequence(e, in + literal_start, n - literal_start, 0, 0, 0);

    status = 0;
out:
    free(way_at);
    free(edge_at);
    free(found);
    free(best);
    free(head);
    free(prev);
    return status;
}
