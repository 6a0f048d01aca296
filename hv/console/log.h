/* The hypervisor's one logging API, and the console that carries hv's own
 * lines and the guests' to the serial line and the screen.
 *
 * Nothing here waits for a UART (except at the end of the run and in a
 * panic): a line is queued whole and goes out later, in order, from
 * log_drain_some() (the scheduler, in bounded pieces), the idle loop
 * (log_flush_idle) and log_flush(). The serial line is fed only while the
 * UART's transmitter has room, and never faster than 115200 baud carries
 * (LOG_LINE_BYTES_PER_SEC), so what is queued, refused and dropped is the
 * same in QEMU as on a PC with COM1. Lines come from hv's own queue and
 * from sources (one per guest), taken round robin among the sources with
 * lines waiting; an hv line goes out after every source line queued before
 * it, so hv's report of a guest's end follows that guest's last line.
 * Every line also goes to the screen sinks (memory writes) and into a
 * history replayed to a sink that comes up later; the screen itself is
 * drawn only from the idle loop and log_flush(). */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/console/linebuf.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* 115200 baud, 8 data bits, no parity, 1 stop bit: 10 bits a byte. */
#define LOG_LINE_BYTES_PER_SEC 11520u

struct console_sink {
    const char *name;
    /* Takes one whole line (memory writes only: never draws, never waits);
     * `level` picks a colour where there is one. */
    void (*write)(const char *s, size_t n, enum log_level level);
    /* Brings output held back onto the device (NULL: none held); stops
     * early when `stop` (may be NULL) says there is better to do. */
    void (*flush)(bool (*stop)(void));
};

/* A queue of lines from one writer (a guest's console). The owner gives it
 * its storage (linebuf_init on `buf`) and adds it. */
struct log_source {
    struct linebuf buf;
    bool closed;
    /* Called once a closed source has no line left (under the log lock,
     * interrupts off: bounded work, no logging). */
    void (*release)(struct log_source *s);
    struct log_source *next;
};

void log_set_level(enum log_level min);
enum log_level log_get_level(void);
/* Adds a sink and replays the history to it. */
void log_add_sink(const struct console_sink *sink);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vwrite(enum log_level level, const char *prefix, const char *fmt, va_list ap);

/* log_write in two halves, for a caller that formats a line with
 * interrupts on and queues it later with them off (a guest's exit line:
 * hv/guest/guest_end.c): log_format writes the whole line ("hv: " and the
 * newline included) into `line` and returns its length, 0 below the log
 * level; log_put queues it (nothing for 0). */
#define LOG_FORMAT_BYTES LINEBUF_LINE_MAX
size_t log_format(char line[LOG_FORMAT_BYTES], enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void log_put(enum log_level level, const char *line, size_t n);

void log_source_add(struct log_source *s);
/* Queues one whole line (the parts end with its newline) at LOG_INFO;
 * false, and nothing queued, if the source's queue has no room. */
bool log_source_put(struct log_source *s, const struct linebuf_part *parts, unsigned nparts);
/* A line written in place (a guest's console line, copied once): room for
 * up to max_len bytes at the end of s's queue, or NULL if it has none that
 * does not wrap (log_source_put then). The log is locked, interrupts off,
 * from a non-NULL answer until log_source_commit, which queues the first
 * `len` bytes written there (0: nothing). */
char *log_source_reserve(struct log_source *s, size_t max_len, uint64_t *flags);
void log_source_commit(struct log_source *s, size_t len, uint64_t flags);
/* No more lines will come: released (s->release) once its lines are out. */
void log_source_close(struct log_source *s);
/* Takes the source out now, dropping lines still queued (a guest that
 * never ran). Does not call release. */
void log_source_remove(struct log_source *s);

/* A bounded piece of draining (a few hundred bytes and max_lines new lines
 * at most, never waiting), for the scheduler's paths, so a machine whose
 * CPU is never idle still gets its output out. Never draws the screen. */
void log_drain_some(unsigned max_lines);
/* The same piece, for a caller with interrupts on: stops early, between
 * lines, as soon as `stop` returns true (an interrupt gave the caller
 * something to decide). */
void log_drain_until(bool (*stop)(void));
/* Whether log_drain_some has anything to move at `now` (the clock as the
 * caller just read it): lines are queued and the serial line's pace lets a
 * byte go. A hint, read unlocked; a few instructions, for every switch. */
bool log_waiting(uint64_t now);
/* From here on (the scheduler has started) a logging call only queues its
 * line: it may be made with interrupts off on any path (a hypercall, an
 * interrupt), and moving lines costs per line, so that is left to
 * log_drain_some, which the scheduler calls with interrupts on, and to the
 * idle loop (docs/benchmarks.md, hv_irq_off_max). */
void log_defer_draining(void);
/* Everything queued goes out and every sink shows it, waiting on the UART
 * as needed: the end of the run (power off, halt) only. */
void log_flush(void);
/* Bytes free in hv's own queue now (a hint, read unlocked): a writer of
 * many lines on the way (the trace dump a monitor asks for) stops before
 * its lines would be dropped. */
size_t log_hv_room(void);
/* From the idle loop, with interrupts on: drains at the line's pace and
 * draws the screen; gives up as soon as `stop` returns true, and is picked
 * up again next time. */
void log_flush_idle(bool (*stop)(void));

/* Logs again, indented, every line of hv's kept so far (the history a late
 * sink is shown: the boot's first 16 KiB) whose text after "hv: " begins
 * with one of `prefixes`: the end of the run repeats the boot header so
 * it is on screen with the summary. */
void log_repeat_kept(const char *const *prefixes, unsigned n);
/* The kept history (hv's and guests' lines, each ending in '\n') and its
 * length now; bytes below that length never change. */
const char *log_kept(size_t *len);

/* The panic path: from here on every line is written at once, after all
 * that was queued, with no lock (the holder may be the one that faulted). */
void log_panic_mode(void);

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
