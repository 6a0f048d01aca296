/* The hypervisor's one logging API. Every line goes to every console sink
 * present (16550 serial, framebuffer) and into a history buffer that is
 * replayed to a sink that comes up later (the framebuffer is mapped only
 * after paging is set up). */
#pragma once

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

struct console_sink {
    const char *name;
    /* Writes bytes of one line; `level` picks a colour where there is one. */
    void (*write)(const char *s, size_t n, enum log_level level);
    /* Brings output held back for speed onto the device (NULL: none held);
     * stops early when `stop` (may be NULL) says there is better to do. */
    void (*flush)(bool (*stop)(void));
};

void log_set_level(enum log_level min);
enum log_level log_get_level(void);
/* Adds a sink and replays the history to it. */
void log_add_sink(const struct console_sink *sink);

void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void log_vwrite(enum log_level level, const char *prefix, const char *fmt, va_list ap);

/* A line that is already formatted and carries its own prefix (a guest's
 * "[name] " line); written whole so lines never interleave. */
void log_raw_line(enum log_level level, const char *line, size_t n);

/* Every sink shows all that was logged (before halting, powering off, or
 * while idle). */
void log_flush(void);
/* The same, from the idle loop with interrupts on: gives up as soon as
 * `stop` returns true, and is picked up again next time. */
void log_flush_idle(bool (*stop)(void));

/* The panic path: no lock (the holder may be the one that faulted). */
void log_panic_mode(void);

#define log_debug(...) log_write(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_write(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_write(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_write(LOG_ERROR, __VA_ARGS__)
