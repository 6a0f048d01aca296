/* Console output for guests: hvg_write, hvg_puts, hvg_printf. */
#include "hvg.h"

#include "lib/fmt.h"

int64_t hvg_write(const char *s, size_t n)
{
    size_t done = 0;

    while (done < n) {
        size_t chunk = n - done;
        if (chunk > HV_CONSOLE_WRITE_MAX)
            chunk = HV_CONSOLE_WRITE_MAX;
        int64_t taken = hvg_console_write(s + done, chunk);
        /* Busy (or, defensively, nothing taken): let others run and retry
         * rather than spin against the rate limit. */
        if (taken == -HV_EAGAIN || taken == 0) {
            hvg_yield();
            continue;
        }
        if (taken < 0)
            return taken;
        /* Never trust a count beyond what was offered. */
        done += (uint64_t)taken < chunk ? (size_t)taken : chunk;
    }
    return (int64_t)n;
}

/* One printf call's output: filled on the stack, flushed at each newline and
 * whenever full, so a line of up to HV_CONSOLE_WRITE_MAX bytes reaches hv in
 * one console write. */
struct line_buffer {
    char text[HV_CONSOLE_WRITE_MAX];
    size_t used;
    int64_t error; /* first failure; later output is dropped */
};

static void line_flush(struct line_buffer *line)
{
    if (line->used > 0 && line->error == 0) {
        int64_t r = hvg_write(line->text, line->used);
        if (r < 0)
            line->error = r;
    }
    line->used = 0;
}

static void line_sink(void *arg, const char *s, size_t n)
{
    struct line_buffer *line = arg;

    for (size_t i = 0; i < n; i++) {
        line->text[line->used++] = s[i];
        if (s[i] == '\n' || line->used == sizeof(line->text))
            line_flush(line);
    }
}

int64_t hvg_vprintf(const char *fmt, va_list ap)
{
    struct line_buffer line = { .used = 0, .error = 0 };
    size_t total = fmt_vprint(line_sink, &line, fmt, ap);

    line_flush(&line);
    if (line.error != 0)
        return line.error;
    return total > INT64_MAX ? INT64_MAX : (int64_t)total;
}

int64_t hvg_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int64_t r = hvg_vprintf(fmt, ap);
    va_end(ap);
    return r;
}

int64_t hvg_puts(const char *s)
{
    return hvg_printf("%s\n", s);
}
