/* What hv/console/log.c (queuing lines: hv's own and the sources') and
 * hv/console/log_drain.c (moving them on: the UART at the line's pace, the
 * screen sinks, the history) share. For those two files only; the rest of
 * hv includes log.h. */
#pragma once

#include "hv/console/log.h"
#include "hv/cpu/spinlock.h"

#define LOG_LINE_MAX LINEBUF_LINE_MAX

/* Guards the queues and the sources' list (and, in log_drain.c, the claim
 * and the sinks). */
extern struct spinlock log_lock;
/* hv's own lines waiting for the serial line. */
extern struct linebuf log_hv_queue;
/* The sources, and the one served last: a circular walk from it makes the
 * round robin. */
extern struct log_source *log_sources, *log_rr;
/* Lines in every queue: read unlocked as a hint. */
extern volatile uint32_t log_queued_lines;
/* Set by log_panic_mode: lines go out at once, without the lock. */
extern bool log_panicking;

/* log.c: takes s out of the sources (log_lock held, or panicking). */
void log_unlink_source(struct log_source *s);

/* log_drain.c: after a line was queued, a piece goes out now unless
 * someone else is draining (the idle loop this interrupted). */
void log_drain_piece(void);
/* log_drain.c: the panic path: everything queued goes out, waiting on the
 * UART, with no lock and no claim. */
void log_drain_all_unlocked(void);
