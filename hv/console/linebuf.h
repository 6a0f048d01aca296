/* A bounded queue of whole log lines in a byte ring: what the console holds
 * for the serial line and the screen until hv gets to them. A line goes in
 * whole or not at all (so a full queue drops lines, never halves of them),
 * and carries the sequence number that orders it against the lines of
 * other queues. Pure: host unit tests run it. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each line costs its bytes plus this much bookkeeping in the ring. */
#define LINEBUF_HEADER 8
/* No line is longer (hv's own are cut to 256 bytes, guests' wrap at 160). */
#define LINEBUF_LINE_MAX 256

struct linebuf {
    char *data;      /* `cap` bytes; NULL: no storage (nothing fits) */
    uint32_t cap;
    uint32_t head;   /* where the oldest line's header starts */
    uint32_t used;   /* bytes in use, headers included */
    uint32_t lines;
};

struct linebuf_part {
    const char *bytes;
    size_t len;
};

void linebuf_init(struct linebuf *b, char *storage, uint32_t cap);
/* Appends one line made of the parts, stamped with seq and level. False
 * (and nothing appended) if it does not fit, is empty, or is longer than
 * LINEBUF_LINE_MAX. */
bool linebuf_put(struct linebuf *b, uint32_t seq, uint8_t level, const struct linebuf_part *parts,
                 unsigned nparts);
/* Room for a line of up to max_len bytes, written in place: a pointer to
 * where its bytes go (at the end of the queue, not wrapping round the
 * ring), or NULL if the queue has no such room. Nothing is queued until
 * linebuf_commit; the room is the writer's until then (the queue's other
 * operations must wait: the caller holds its lock). */
static inline char *linebuf_reserve(const struct linebuf *b, size_t max_len);
/* Queues the line written at linebuf_reserve's pointer: its first `len`
 * bytes (0 < len <= the max_len reserved), stamped with seq and level. */
static inline void linebuf_commit(struct linebuf *b, uint32_t seq, uint8_t level, size_t len);
/* The oldest line's sequence number; false if the queue is empty. */
bool linebuf_head_seq(const struct linebuf *b, uint32_t *seq);
/* Removes the oldest line into out (LINEBUF_LINE_MAX bytes); returns its
 * length, 0 if the queue is empty. */
size_t linebuf_pop(struct linebuf *b, char *out, uint8_t *level);
static inline uint32_t linebuf_free_bytes(const struct linebuf *b)
{
    return b->cap - b->used;
}

/* Sequence numbers wrap; a is older than b if it is less than 2^31 behind. */
static inline bool seq_before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

/* --- inline: a guest's console line is written in place on every
 * HV_CALL_CONSOLE_WRITE (hv/guest/console.c) ------------------------------ */

/* Ring offset `at` (< 2 * cap) reduced. */
static inline uint32_t linebuf_wrap(const struct linebuf *b, uint32_t at)
{
    return at >= b->cap ? at - b->cap : at;
}

/* Header: seq (bits 0-31), length (32-47), level (48-55), little endian. */
static inline uint64_t linebuf_header(uint32_t seq, uint8_t level, size_t len)
{
    return (uint64_t)seq | (uint64_t)len << 32 | (uint64_t)level << 48;
}

static inline char *linebuf_reserve(const struct linebuf *b, size_t max_len)
{
    if (max_len == 0 || max_len > LINEBUF_LINE_MAX ||
        LINEBUF_HEADER + max_len > linebuf_free_bytes(b))
        return NULL;
    uint32_t at = linebuf_wrap(b, b->head + b->used);
    if (at + LINEBUF_HEADER + max_len > b->cap)
        return NULL; /* it would wrap: linebuf_put copies such a line in two pieces */
    return b->data + at + LINEBUF_HEADER;
}

static inline void linebuf_commit(struct linebuf *b, uint32_t seq, uint8_t level, size_t len)
{
    uint64_t header = linebuf_header(seq, level, len);
    __builtin_memcpy(b->data + linebuf_wrap(b, b->head + b->used), &header, LINEBUF_HEADER);
    b->used += LINEBUF_HEADER + (uint32_t)len;
    b->lines++;
}
