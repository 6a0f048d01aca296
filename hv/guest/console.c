#include "hv/guest/console.h"

#include "hv/console/log.h"
#include "hv/cpu/spinlock.h"
#include "hv/cpu/lock_order.h"
#include "hv/guest/guest.h"
#include "hv/mm/kmalloc.h"
#include "hv/mm/mm.h"
#include "hv/time/time.h"
#include "include/hv/abi.h"
#include "lib/nospec.h"

/* What a guest may write, in bytes as they go out on the serial line (its
 * label, its text, CR LF): a burst of 2 KiB, then 7/8 of the line's 11,520
 * bytes a second (10,080), so one guest alone never outruns the line and
 * hv's own lines keep room beside it. When several write at once the line
 * is shared round robin (hv/console/log.c), and a guest writing beyond its
 * share fills its own buffer and loses its own lines, never another's. */
#define BURST_BYTES 2048u
#define BYTES_PER_SEC (LOG_LINE_BYTES_PER_SEC / 8 * 7)
/* Finished lines waiting for the line, per guest: 8 KiB (record headers
 * included), about 0.7 s of the line. Allocated when the guest is created,
 * not at its first line: two contiguous pages can take a long search
 * through memory another guest fragmented on purpose (unmapping every
 * other page of its heap), which must not happen inside a hypercall. */
#define BUFFER_BYTES 8192u
/* Lines one write may end: each is a labelled record in the guest's
 * buffer, made with interrupts off, so a write of 256 newlines is taken 16
 * at a time (the SDK calls again for the rest; docs/abi.md). */
#define CALL_LINES_MAX 16u
/* At most one "dropping" warning per guest this often. */
#define DROP_NOTICE_NS 10000000000ULL

static void release_buffer(struct log_source *s)
{
    kfree(s->buf.data, BUFFER_BYTES);
    linebuf_init(&s->buf, NULL, 0);
}

/* Its buffer, made when the guest is created (or at its first finished line
 * if memory was short then); false if memory is short (the line is then
 * dropped and counted like any other). */
static bool have_buffer(struct guest_console *c)
{
    if (c->out.buf.data)
        return true;
    char *storage = kmalloc(BUFFER_BYTES);
    if (!storage)
        return false;
    linebuf_init(&c->out.buf, storage, BUFFER_BYTES);
    c->out.release = release_buffer;
    log_source_add(&c->out);
    return true;
}

__attribute__((cold)) void guest_console_init(struct guest *g)
{
    struct guest_console *c = &g->console;
    c->line.len = 0;
    token_bucket_init(&c->rate, BURST_BYTES, time_now_ns());
    linebuf_init(&c->out.buf, NULL, 0);
    c->out.release = NULL;
    c->out.next = NULL;
    c->dropped = 0;
    c->dropped_noticed_at = 0;
    c->ended = false;
    uint32_t n = 0;
    c->label[n++] = '[';
    for (const char *p = g->name; *p && n < sizeof(c->label) - 2; p++)
        c->label[n++] = *p;
    c->label[n++] = ']';
    c->label[n++] = ' ';
    c->label_len = n;
    have_buffer(c); /* now, at load time; if memory is short, at its first line */
}

static void commit_line(void *arg, const char *text, size_t len)
{
    struct guest *g = arg;
    struct guest_console *c = &g->console;
    struct linebuf_part parts[3] = {{c->label, c->label_len}, {text, len}, {"\n", 1}};
    if (have_buffer(c) && log_source_put(&c->out, parts, 3))
        return;
    c->dropped += console_line_bytes(c->label_len + 2, len);
    uint64_t now = time_now_ns();
    if (!c->dropped_noticed_at || now - c->dropped_noticed_at >= DROP_NOTICE_NS) {
        c->dropped_noticed_at = now ? now : 1;
        log_warn("guest %s: console output dropped: faster than its share of the serial line",
                 g->name);
    }
}

/* The usual write, one whole line ("text\n", as the SDK sends them): its
 * record is written straight into the guest's buffer, the label and then
 * the text sanitized on the way, one copy, where console_text_take would
 * sanitize it into the open line and log_source_put copy that again. The
 * same rules: the line costs its label, text and CR LF, and is taken only
 * if the rate allows all of it; otherwise (or with a line already open, a
 * newline before the last byte, or no room without wrapping round the
 * ring) false, nothing taken, and console_text_take does it the general
 * way, with the same result. */
static bool write_whole_line(struct guest_console *c, const char *buf, size_t n)
{
    if (c->line.len || n - 1 > CONSOLE_TEXT_MAX)
        return false;
    /* The guest chose n: clamped, so that no mispredicted check reads or
     * writes past the line (Spectre v1; tests/tools/check_nospec.py). */
    size_t len = array_index_nospec(n - 1, CONSOLE_TEXT_MAX + 1); /* without the newline */
    uint32_t cost = c->label_len + 2;
    if (buf[len] != '\n' || !c->out.buf.data || c->rate.tokens < cost + len)
        return false;
    /* The label goes in whole (sizeof: a fixed copy, no loop); the text
     * then overwrites its unused end. */
    size_t room = c->label_len + n > sizeof(c->label) ? c->label_len + n : sizeof(c->label);
    uint64_t flags;
    char *rec = log_source_reserve(&c->out, room, &flags);
    if (!rec)
        return false;
    __builtin_memcpy(rec, c->label, sizeof(c->label));
    char *text = rec + c->label_len;
    if (console_text_copy_line(text, buf, len) != len) {
        log_source_commit(&c->out, 0, flags); /* an earlier newline: more than one line */
        return false;
    }
    text[len] = '\n';
    log_source_commit(&c->out, c->label_len + n, flags);
    c->rate.tokens -= cost + len;
    return true;
}

/* Under the console's lock: two vCPUs of the guest writing at once on two
 * CPUs would both append to the open line, and its length would pass
 * CONSOLE_TEXT_MAX (a write past hv's buffer). The lock is the guest's own
 * (only its vCPUs, its end and the console poll take it); the log's lock
 * is taken inside it, for the record's copy. */
static int64_t console_write_locked(struct guest *g, struct guest_console *c, const char *buf,
                                    size_t n)
{
    if (c->ended)
        return -HV_EAGAIN;
    token_bucket_refill(&c->rate, time_now_ns(), BYTES_PER_SEC, BURST_BYTES);
    if (n && write_whole_line(c, buf, n))
        return (int64_t)n;
    size_t taken = console_text_take(&c->line, buf, n, &c->rate.tokens, c->label_len + 2,
                                     CALL_LINES_MAX, commit_line, g);
    return taken ? (int64_t)taken : -HV_EAGAIN;
}

/* A hypercall (hv's own ABI or the Xen console's): interrupts are off
 * already, so the plain lock, without saving and restoring the flag, and
 * without the order check (hypercall_console_64b: +9 instructions for it;
 * the console's other sites are checked, and nothing but the log's and
 * the heap's locks nests inside). */
int64_t guest_console_write(struct guest *g, const char *buf, size_t n)
{
    struct guest_console *c = &g->console;
    spin_lock(&c->lock);
    int64_t rc = console_write_locked(g, c, buf, n);
    spin_unlock(&c->lock);
    return rc;
}

/* The console's other users (its end, the poll's input, CONSOLE_READ): out
 * of line, they are not timed and each inline lock costs hv.efi bytes. */
static __attribute__((noinline)) uint64_t console_lock(struct guest_console *c)
{
    return spin_lock_irqsave_at(&c->lock, LOCK_CONSOLE);
}

static __attribute__((noinline)) void console_unlock(struct guest_console *c, uint64_t irq)
{
    spin_unlock_irqrestore_at(&c->lock, LOCK_CONSOLE, irq);
}

void guest_console_flush(struct guest *g)
{
    struct guest_console *c = &g->console;
    uint64_t irq = console_lock(c);
    if (!c->ended) {
        if (c->line.len) {
            commit_line(g, c->line.text, c->line.len); /* charged when it was written */
            c->line.len = 0;
        }
        c->ended = true;
        if (c->out.buf.data)
            log_source_close(&c->out); /* its buffer goes once its lines are out */
    }
    console_unlock(c, irq);
}

void guest_console_discard(struct guest *g)
{
    struct guest_console *c = &g->console;
    uint64_t irq = console_lock(c);
    c->ended = true;
    if (c->out.buf.data) {
        log_source_remove(&c->out);
        release_buffer(&c->out);
    }
    console_unlock(c, irq);
}

bool guest_console_input_put(struct guest *g, char ch)
{
    struct guest_console *c = &g->console;
    uint64_t irq = console_lock(c);
    bool room = c->input_len < GUEST_INPUT_BYTES;
    if (room) {
        uint32_t at = (c->input_head + c->input_len) % GUEST_INPUT_BYTES;
        c->input[array_index_nospec(at, GUEST_INPUT_BYTES)] = ch;
        c->input_len++;
    }
    console_unlock(c, irq);
    return room;
}

size_t guest_console_input_peek(struct guest *g, char *buf, size_t n, uint64_t *mark)
{
    struct guest_console *c = &g->console;
    uint64_t irq = console_lock(c);
    size_t got = 0;
    for (; got < n && got < c->input_len; got++)
        buf[got] = c->input[(c->input_head + got) % GUEST_INPUT_BYTES];
    *mark = c->input_taken;
    console_unlock(c, irq);
    return got;
}

bool guest_console_input_take(struct guest *g, size_t n, uint64_t mark)
{
    struct guest_console *c = &g->console;
    uint64_t irq = console_lock(c);
    /* Another reader took bytes since the peek: what this one copied may
     * be theirs. Nothing is taken; the caller answers -HV_EAGAIN. The
     * bytes peeked are still there (only readers take), so n fits. */
    bool same = c->input_taken == mark && n <= c->input_len;
    if (same) {
        c->input_head = (uint16_t)((c->input_head + n) % GUEST_INPUT_BYTES);
        c->input_len = (uint16_t)(c->input_len - n);
        c->input_taken += n;
    }
    console_unlock(c, irq);
    return same;
}

uint64_t guest_console_dropped(const struct guest *g)
{
    return g->console.dropped;
}

void guest_console_break(struct guest *g)
{
    struct guest_console *c = &g->console;
    uint64_t irq = console_lock(c);
    if (!c->ended && c->line.len) {
        commit_line(g, c->line.text, c->line.len); /* charged when it was written */
        c->line.len = 0;
    }
    console_unlock(c, irq);
}

uint64_t guest_console_held_bytes(const struct guest *g)
{
    return g->console.out.buf.data ? kmalloc_block_bytes(BUFFER_BYTES) : 0;
}
