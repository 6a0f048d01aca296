/* hv's log, the queuing half: the level, hv's own lines (formatted and
 * queued whole) and the sources' queues (a guest's console). Moving the
 * lines on, to the UART and the screen, is hv/console/log_drain.c's. */
#include "hv/console/log.h"

#include "hv/console/log_queue.h"
#include "lib/fmt.h"
#include "lib/string.h"

/* hv's own lines waiting for the serial line: a boot's worth many times
 * over (a boot with 32 guests logs about 8 KiB). */
#define HV_QUEUE_BYTES 65536

struct spinlock log_lock;
bool log_panicking;
static enum log_level min_level = LOG_INFO;

static char hv_storage[HV_QUEUE_BYTES];
struct linebuf log_hv_queue = {hv_storage, HV_QUEUE_BYTES, 0, 0, 0};
static uint64_t hv_dropped; /* bytes of hv lines that found the queue full */
struct log_source *log_sources, *log_rr;
static uint32_t next_seq;
volatile uint32_t log_queued_lines;
static bool deferred; /* log_defer_draining */

void log_set_level(enum log_level min)
{
    min_level = min;
}

enum log_level log_get_level(void)
{
    return min_level;
}

void log_defer_draining(void)
{
    deferred = true;
}

void log_panic_mode(void)
{
    log_panicking = true;
    min_level = LOG_DEBUG;
}

/* --- sources ---------------------------------------------------------------- */

void log_unlink_source(struct log_source *s)
{
    struct log_source **p = &log_sources, *prev = NULL;
    while (*p && *p != s) {
        prev = *p;
        p = &(*p)->next;
    }
    if (!*p)
        return;
    *p = s->next;
    if (log_rr == s)
        log_rr = prev;
    log_queued_lines -= s->buf.lines;
    s->next = NULL;
}

void log_source_add(struct log_source *s)
{
    uint64_t flags = spin_lock_irqsave(&log_lock);
    s->closed = false;
    s->next = log_sources;
    log_sources = s;
    spin_unlock_irqrestore(&log_lock, flags);
}

bool log_source_put(struct log_source *s, const struct linebuf_part *parts, unsigned nparts)
{
    uint64_t flags = spin_lock_irqsave(&log_lock);
    bool ok = linebuf_put(&s->buf, next_seq, LOG_INFO, parts, nparts);
    if (ok) {
        next_seq++;
        log_queued_lines++;
    }
    spin_unlock_irqrestore(&log_lock, flags);
    return ok;
}

char *log_source_reserve(struct log_source *s, size_t max_len, uint64_t *flags)
{
    *flags = spin_lock_irqsave(&log_lock);
    char *room = linebuf_reserve(&s->buf, max_len);
    if (!room)
        spin_unlock_irqrestore(&log_lock, *flags);
    return room;
}

void log_source_commit(struct log_source *s, size_t len, uint64_t flags)
{
    if (len) {
        linebuf_commit(&s->buf, next_seq, LOG_INFO, len);
        next_seq++;
        log_queued_lines++;
    }
    spin_unlock_irqrestore(&log_lock, flags);
}

void log_source_close(struct log_source *s)
{
    uint64_t flags = spin_lock_irqsave(&log_lock);
    s->closed = true;
    bool done = s->buf.lines == 0;
    if (done)
        log_unlink_source(s);
    spin_unlock_irqrestore(&log_lock, flags);
    if (done && s->release)
        s->release(s);
}

void log_source_remove(struct log_source *s)
{
    uint64_t flags = spin_lock_irqsave(&log_lock);
    log_unlink_source(s);
    spin_unlock_irqrestore(&log_lock, flags);
}

/* --- hv's own lines ------------------------------------------------------------- */

size_t log_hv_room(void)
{
    return linebuf_free_bytes(&log_hv_queue);
}

static void queue_hv_line(enum log_level level, const char *line, size_t n)
{
    if (hv_dropped) {
        /* Say what was lost, in its place, once there is room again. */
        char note[96];
        size_t m = fmt_format(note, sizeof(note),
                              "hv: warning: %lu bytes of hv's log dropped: the console was behind\n",
                              (unsigned long)hv_dropped);
        struct linebuf_part p = {note, m};
        if (linebuf_free_bytes(&log_hv_queue) >= 2 * (LINEBUF_HEADER + LOG_LINE_MAX) &&
            linebuf_put(&log_hv_queue, next_seq, LOG_WARN, &p, 1)) {
            next_seq++;
            log_queued_lines++;
            hv_dropped = 0;
        }
    }
    struct linebuf_part p = {line, n};
    if (linebuf_put(&log_hv_queue, next_seq, (uint8_t)level, &p, 1)) {
        next_seq++;
        log_queued_lines++;
    } else {
        hv_dropped += n;
    }
}

static void log_line(enum log_level level, const char *line, size_t n)
{
    if (log_panicking) {
        /* Synchronously and completely: all that waited, then this line. */
        log_drain_all_unlocked();
        queue_hv_line(level, line, n);
        log_drain_all_unlocked();
        return;
    }
    uint64_t flags = spin_lock_irqsave(&log_lock);
    queue_hv_line(level, line, n);
    spin_unlock_irqrestore(&log_lock, flags);
    /* At boot it all goes out at once (before the clock paces the line,
     * everything the UART takes); once guests run, the scheduler drains;
     * if someone is draining (the idle loop this interrupted), the line
     * waits for them. */
    if (!deferred)
        log_drain_piece();
}

static size_t format_line(char *line, size_t size, enum log_level level, const char *prefix,
                          const char *fmt, va_list ap)
{
    size_t n = fmt_format(line, size, "%s", prefix);
    if (level == LOG_WARN)
        n += fmt_format(line + n, size - n, "warning: ");
    else if (level == LOG_ERROR)
        n += fmt_format(line + n, size - n, "error: ");
    if (n < size)
        n += fmt_vformat(line + n, size - n, fmt, ap);
    /* An over-long line is cut, never split: a line stays one line. */
    if (n > size - 1)
        n = size - 1;
    line[n++] = '\n';
    return n;
}

void log_vwrite(enum log_level level, const char *prefix, const char *fmt, va_list ap)
{
    char line[LOG_LINE_MAX];
    if (level < min_level)
        return;
    log_line(level, line, format_line(line, sizeof(line), level, prefix, fmt, ap));
}

void log_write(enum log_level level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_vwrite(level, "hv: ", fmt, ap);
    va_end(ap);
}

size_t log_format(char line[LOG_FORMAT_BYTES], enum log_level level, const char *fmt, ...)
{
    if (level < min_level)
        return 0;
    va_list ap;
    va_start(ap, fmt);
    size_t n = format_line(line, LOG_FORMAT_BYTES, level, "hv: ", fmt, ap);
    va_end(ap);
    return n;
}

void log_put(enum log_level level, const char *line, size_t n)
{
    if (n)
        log_line(level, line, n);
}
