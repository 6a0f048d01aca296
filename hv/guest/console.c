#include "hv/guest/console.h"

#include "hv/console/log.h"
#include "hv/guest/guest.h"
#include "hv/time/time.h"
#include "include/hv/abi.h"

/* A burst of 64 KiB, then 256 KiB/s: far more than anyone reads, far less
 * than what would keep a 115200-baud UART busy for long. */
#define BURST_BYTES (64u << 10)
#define BYTES_PER_SEC (256u << 10)

void guest_console_init(struct guest *g)
{
    g->console.len = 0;
    g->console.tokens = BURST_BYTES;
    g->console.refilled_at = time_now_ns();
}

static void emit_line(struct guest *g)
{
    char line[GUEST_CONSOLE_LINE + 48];
    size_t n = 0;
    line[n++] = '[';
    for (const char *p = g->name; *p && n < 40; p++)
        line[n++] = *p;
    line[n++] = ']';
    line[n++] = ' ';
    for (size_t i = 0; i < g->console.len; i++)
        line[n++] = g->console.line[i];
    line[n++] = '\n';
    log_raw_line(LOG_INFO, line, n);
    g->console.len = 0;
}

void guest_console_flush(struct guest *g)
{
    if (g->console.len)
        emit_line(g);
}

static void refill(struct guest_console *c)
{
    uint64_t now = time_now_ns();
    uint64_t earned = (now - c->refilled_at) * BYTES_PER_SEC / 1000000000ULL;
    if (earned) {
        c->tokens = c->tokens + earned > BURST_BYTES ? BURST_BYTES : c->tokens + earned;
        c->refilled_at = now;
    }
}

int64_t guest_console_write(struct guest *g, const char *buf, size_t n)
{
    struct guest_console *c = &g->console;
    refill(c);
    if (c->tokens == 0)
        return -HV_EAGAIN;
    if (n > c->tokens)
        n = c->tokens;
    c->tokens -= n;
    for (size_t i = 0; i < n; i++) {
        char ch = buf[i];
        if (ch == '\n') {
            emit_line(g);
            continue;
        }
        /* No control characters reach the user's terminal: a guest must not
         * be able to clear it or move its cursor. */
        if (ch == '\t')
            ch = ' ';
        else if ((unsigned char)ch < 0x20 || (unsigned char)ch >= 0x7f)
            ch = '?';
        if (c->len == GUEST_CONSOLE_LINE)
            emit_line(g); /* an over-long line continues on the next */
        c->line[c->len++] = ch;
    }
    return (int64_t)n;
}
