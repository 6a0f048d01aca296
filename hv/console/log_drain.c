/* hv's log, the draining half: whoever moves lines on (the scheduler, the
 * idle loop, a logging call) claims the right first, under the lock, and
 * then works without it: the line on its way (tx), the line's pace and the
 * sinks are the claimant's. The idle loop can so draw and drain with
 * interrupts on; an interrupt that logs meanwhile only queues its line
 * (hv/console/log.c). Every line taken also goes to the screen sinks and
 * into the history replayed to a sink that comes up later. */
#include "hv/console/log.h"

#include "hv/console/log_queue.h"
#include "hv/console/serial.h"
#include "hv/console/token_bucket.h"
#include "hv/time/time.h"

#define MAX_SINKS 4
#define HISTORY_BYTES 16384
/* The most one log_drain_some() hands the UART (or moves to the screen):
 * 22 ms of the line; on a real 16550 THRE stops it at 16 bytes anyway. */
#define DRAIN_PIECE_BYTES 256
/* The idle loop drains in pieces this small so an interrupt waits little. */
#define IDLE_PIECE_BYTES 16
/* How long the line takes to carry one byte (rounded up). */
#define NS_PER_LINE_BYTE ((1000000000ull + LOG_LINE_BYTES_PER_SEC - 1) / LOG_LINE_BYTES_PER_SEC)

static const struct console_sink *sinks[MAX_SINKS];
static unsigned sink_count;
static bool unflushed; /* a sink got a line since it last drew */

/* Lines logged so far, kept to replay to late sinks; once full, later lines
 * are still written to live sinks but no longer kept. */
static char history[HISTORY_BYTES];
static size_t history_len;
static unsigned char history_levels[HISTORY_BYTES / 16];
static size_t history_lines;

static bool draining; /* the claim */
/* The line on its way to the UART, as sent (CR LF at the end). */
static char tx[LOG_LINE_MAX + 1];
static size_t tx_len, tx_done;
/* Bytes the serial line has carried since it was last fed, at most a
 * piece: hv never feeds the UART faster than the line runs. */
static struct token_bucket line_credit;
/* Before this time the line's pace lets no byte go (its credit ran out):
 * log_waiting, asked on every vCPU switch, says no until then
 * instead of taking the claim and reading the clock for nothing. Only ever
 * a lower bound on when the next byte may go, so pacing is unchanged. */
static uint64_t line_paced_until;
/* When the transmitter was first found without room (0: it has room). */
static uint64_t full_since;
#define TX_STUCK_NS 2000000000ULL

static void to_sinks(const char *line, size_t n, enum log_level level)
{
    unflushed = true;
    for (unsigned i = 0; i < sink_count; i++)
        sinks[i]->write(line, n, level);
    if (history_len + n <= HISTORY_BYTES && history_lines < sizeof(history_levels)) {
        for (size_t i = 0; i < n; i++)
            history[history_len + i] = line[i];
        history_len += n;
        history_levels[history_lines++] = (unsigned char)level;
    }
}

void log_add_sink(const struct console_sink *sink)
{
    uint64_t flags = spin_lock_irqsave(&log_lock);
    if (sink_count < MAX_SINKS) {
        sinks[sink_count++] = sink;
        size_t start = 0, line = 0;
        for (size_t i = 0; i < history_len; i++) {
            if (history[i] == '\n') {
                sink->write(history + start, i + 1 - start, (enum log_level)history_levels[line++]);
                start = i + 1;
            }
        }
    }
    spin_unlock_irqrestore(&log_lock, flags);
}

const char *log_kept(size_t *len)
{
    /* The history only grows, and earlier bytes never change: a snapshot
     * of its length is all the lock is needed for. */
    uint64_t flags = spin_lock_irqsave(&log_lock);
    *len = history_len;
    spin_unlock_irqrestore(&log_lock, flags);
    return history;
}

/* Round robin among the sources with a line older than hv's next line (all
 * of them with a line if hv has none waiting), starting after the one
 * served last. */
static struct log_source *next_source(bool hv_waiting, uint32_t hv_seq)
{
    if (!log_sources)
        return NULL;
    struct log_source *start = log_rr && log_rr->next ? log_rr->next : log_sources;
    struct log_source *s = start;
    do {
        uint32_t seq;
        if (linebuf_head_seq(&s->buf, &seq) && (!hv_waiting || seq_before(seq, hv_seq)))
            return s;
        s = s->next ? s->next : log_sources;
    } while (s != start);
    return NULL;
}

/* Takes the next line into tx and shows it on the screen sinks; false if
 * nothing waits. A closed source that this empties is released. Called by
 * the claimant, without the lock. */
static bool take_next_line(bool locked)
{
    char line[LOG_LINE_MAX];
    uint8_t level = LOG_INFO;
    struct log_source *released = NULL;
    uint64_t flags = locked ? 0 : spin_lock_irqsave(&log_lock);
    uint32_t hv_seq = 0;
    bool hv_waiting = linebuf_head_seq(&log_hv_queue, &hv_seq);
    struct log_source *s = next_source(hv_waiting, hv_seq);
    size_t n = 0;
    if (s || hv_waiting) {
        n = linebuf_pop(s ? &s->buf : &log_hv_queue, line, &level);
        log_queued_lines--;
        if (s)
            log_rr = s;
        if (s && s->closed && s->buf.lines == 0) {
            log_unlink_source(s);
            released = s;
        }
    }
    if (!locked)
        spin_unlock_irqrestore(&log_lock, flags);
    if (!n)
        return false;
    if (released && released->release)
        released->release(released);
    to_sinks(line, n, (enum log_level)level);
    /* Every queued line ends with its newline; the wire wants CR LF. */
    size_t text = line[n - 1] == '\n' ? n - 1 : n;
    for (size_t i = 0; i < text; i++)
        tx[i] = line[i];
    tx[text] = '\r';
    tx[text + 1] = '\n';
    tx_len = text + 2;
    tx_done = 0;
    return true;
}

/* Hands the UART what it has room for, of what the line has carried since
 * (when `wait`, waits for room and ignores the pace: end of run, panic). */
static void feed_serial(size_t *budget, bool wait)
{
    while (tx_done < tx_len && *budget) {
        unsigned room = wait ? serial_tx_wait_room() : serial_tx_room();
        if (!room) {
            if (wait) {
                tx_done = tx_len; /* a stuck UART: the line is lost to it */
            } else {
                /* A UART whose transmitter stays full (wired to nothing,
                 * broken) would hold every line forever: give it up. */
                uint64_t now = time_now_ns();
                if (!full_since)
                    full_since = now ? now : 1;
                else if (now - full_since > TX_STUCK_NS)
                    serial_tx_give_up();
            }
            return;
        }
        full_since = 0;
        size_t n = tx_len - tx_done;
        if (n > room)
            n = room;
        if (n > *budget)
            n = *budget;
        uint64_t now = wait ? 0 : time_now_ns(); /* 0 until the clock runs: no pace yet */
        if (now) {
            token_bucket_refill(&line_credit, now, LOG_LINE_BYTES_PER_SEC, DRAIN_PIECE_BYTES);
            if (n > line_credit.tokens)
                n = (size_t)line_credit.tokens;
            if (!n) {
                /* No credit: the next byte is earned one byte's time after
                 * the bucket's stamp (token_bucket_refill keeps the
                 * fraction there). */
                line_paced_until = line_credit.at_ns + NS_PER_LINE_BYTE;
                return;
            }
            line_credit.tokens -= n;
        }
        for (size_t i = 0; i < n; i++)
            serial_tx_put((uint8_t)tx[tx_done++]);
        *budget -= n;
    }
}

/* Moves up to `budget` bytes of lines on (to the UART, or only to the
 * screen when there is no serial line). The caller has claimed the right
 * (or is the panic path: `locked`, no lock taken at all). */
/* Returns the budget left. */
static size_t pump_lines(size_t budget, unsigned lines, bool wait, bool locked)
{
    while (budget) {
        if (tx_done == tx_len) {
            if (!lines || !take_next_line(locked))
                return budget;
            lines--;
        }
        if (!serial_tx_usable()) {
            budget -= tx_len < budget ? tx_len : budget;
            tx_done = tx_len;
            continue;
        }
        feed_serial(&budget, wait);
        if (tx_done < tx_len)
            return budget; /* the UART or the line's pace says later */
    }
    return 0;
}

static void pump(size_t budget, bool wait, bool locked)
{
    pump_lines(budget, UINT32_MAX, wait, locked);
}

/* Lines wait to go out. Always inlined into log_waiting, which runs on
 * every vCPU switch (this file is built -Os, which would leave it a call);
 * the drain paths call it through pending(), one copy for them all. */
static inline __attribute__((always_inline)) bool lines_waiting(void)
{
    return log_queued_lines || tx_done < tx_len;
}

static bool pending(void)
{
    return lines_waiting();
}

/* On every vCPU switch (sched_internal.h). */
bool log_waiting(uint64_t now)
{
    return lines_waiting() && now >= line_paced_until;
}

static void flush_sinks(bool (*stop)(void))
{
    if (!unflushed)
        return;
    unflushed = false;
    for (unsigned i = 0; i < sink_count; i++)
        if (sinks[i]->flush)
            sinks[i]->flush(stop);
    if (stop && stop())
        unflushed = true; /* perhaps cut short: a sink goes on from there next time */
}

static bool claim(void)
{
    uint64_t flags = spin_lock_irqsave(&log_lock);
    bool mine = !draining;
    draining = true;
    spin_unlock_irqrestore(&log_lock, flags);
    return mine;
}

static void unclaim(void)
{
    uint64_t flags = spin_lock_irqsave(&log_lock);
    draining = false;
    spin_unlock_irqrestore(&log_lock, flags);
}

void log_drain_some(unsigned max_lines)
{
    if (!pending() || !claim())
        return;
    pump_lines(DRAIN_PIECE_BYTES, max_lines, false, false);
    unclaim();
}

void log_drain_until(bool (*stop)(void))
{
    if (!pending() || !claim())
        return;
    /* A line at a time, so an interrupt that makes `stop` true waits for
     * one line at most. */
    size_t left = DRAIN_PIECE_BYTES;
    while (left && !stop()) {
        size_t piece = left < IDLE_PIECE_BYTES ? left : IDLE_PIECE_BYTES;
        size_t rest = pump_lines(piece, UINT32_MAX, false, false);
        if (rest == piece)
            break; /* nothing moved: nothing waits, or the line's pace */
        left -= piece - rest;
    }
    unclaim();
}

void log_flush(void)
{
    if (log_panicking) {
        pump(SIZE_MAX, true, true);
        flush_sinks(NULL);
        return;
    }
    /* The end of the run, interrupts off: nobody else can hold the claim. */
    if (!claim())
        return;
    pump(SIZE_MAX, true, false);
    flush_sinks(NULL);
    unclaim();
}

void log_flush_idle(bool (*stop)(void))
{
    if (!claim())
        return;
    /* A line at a time, so the loop sees `stop` soon after it turns true. */
    while (pending() && !(stop && stop())) {
        pump(IDLE_PIECE_BYTES, false, false);
        cpu_relax();
    }
    flush_sinks(stop);
    unclaim();
}

void log_drain_piece(void)
{
    if (claim()) {
        pump(DRAIN_PIECE_BYTES, false, false);
        unclaim();
    }
}

void log_drain_all_unlocked(void)
{
    pump(SIZE_MAX, true, true);
}
