#include "hv/console/log.h"

#include "hv/cpu/spinlock.h"
#include "lib/fmt.h"

#define MAX_SINKS 4
#define LINE_MAX 256
#define HISTORY_BYTES 16384

static const struct console_sink *sinks[MAX_SINKS];
static unsigned sink_count;
static enum log_level min_level = LOG_INFO;
static struct spinlock log_lock;
static bool panic_mode;
static bool unflushed; /* something was written since the last log_flush */

/* Lines logged so far, kept to replay to late sinks; once full, later lines
 * are still written to live sinks but no longer kept. */
static char history[HISTORY_BYTES];
static size_t history_len;
static unsigned char history_levels[HISTORY_BYTES / 16];
static size_t history_lines;

void log_set_level(enum log_level min)
{
    min_level = min;
}

enum log_level log_get_level(void)
{
    return min_level;
}

static void emit(enum log_level level, const char *line, size_t n)
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

void log_raw_line(enum log_level level, const char *line, size_t n)
{
    if (level < min_level)
        return;
    if (panic_mode) {
        emit(level, line, n);
        return;
    }
    uint64_t flags = spin_lock_irqsave(&log_lock);
    emit(level, line, n);
    spin_unlock_irqrestore(&log_lock, flags);
}

void log_vwrite(enum log_level level, const char *prefix, const char *fmt, va_list ap)
{
    char line[LINE_MAX];
    if (level < min_level)
        return;
    size_t n = fmt_format(line, sizeof(line), "%s", prefix);
    if (level == LOG_WARN)
        n += fmt_format(line + n, sizeof(line) - n, "warning: ");
    else if (level == LOG_ERROR)
        n += fmt_format(line + n, sizeof(line) - n, "error: ");
    if (n < sizeof(line))
        n += fmt_vformat(line + n, sizeof(line) - n, fmt, ap);
    /* An over-long line is cut, never split: a line stays one line. */
    if (n > sizeof(line) - 2)
        n = sizeof(line) - 2;
    line[n++] = '\n';
    line[n] = '\0';
    log_raw_line(level, line, n);
}

void log_write(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, "hv: ", fmt, ap);
    va_end(ap);
}

static void flush_sinks(bool (*stop)(void))
{
    if (!unflushed)
        return;
    unflushed = false;
    for (unsigned i = 0; i < sink_count; i++)
        if (sinks[i]->flush)
            sinks[i]->flush(stop);
}

void log_flush(void)
{
    flush_sinks(NULL);
}

void log_flush_idle(bool (*stop)(void))
{
    flush_sinks(stop);
    if (stop && stop())
        unflushed = true; /* cut short: finish another time */
}

void log_panic_mode(void)
{
    panic_mode = true;
    min_level = LOG_DEBUG;
}
