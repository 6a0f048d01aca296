/* A console-flood attacker (booted as console-flood-a and console-flood-b,
 * copies of one image named by their files, beside the companion). For
 * FLOOD_MS of system time it calls HV_CALL_CONSOLE_WRITE back to back,
 * never yielding and ignoring -HV_EAGAIN: 256 newlines, then a long line
 * (LONG_CHARS characters, written until the whole line is taken), over and
 * over. It keeps the books of what hv's documented charging makes of that
 * (every line costs its label "[name] ", its text and CR LF on the serial
 * line) and reports, then exits 0:
 *
 *     flood NAME: C calls, T bytes taken, O output bytes in E ms, R refused, longest call L us
 *
 * The system test checks O against the documented rate and burst, and that
 * hv reported the bytes it had to drop. It reports after QUIET_MS of quiet,
 * when the serial line has carried what its buffer held. */
#include "hvg.h"
#include "hvg_event.h"

#include "lib/string.h"

HV_GUEST_NOTE("", HVG_MIB(1), 1, HVG_KIB(64));

#define FLOOD_MS 2000
#define LONG_CHARS 150
#define QUIET_MS 2500

static char newlines[256];
static char long_line[LONG_CHARS + 1];

static uint64_t calls, taken_bytes, output_bytes, refused, longest_ns;

/* A call's own time: the system time across it, when its vCPU stayed on the
 * CPU throughout (hv runs a hypercall with interrupts off, so a call is
 * never cut; a timer interrupt right after it may take the CPU, and then
 * the sample also holds other guests' time, or hv's work on their behalf,
 * and is left out). */
static int64_t timed_write(const char *buf, uint64_t len)
{
    uint64_t entered = hvg_runstate(0).state_entry_ns, t0 = hvg_now();
    int64_t r = hvg_console_write(buf, len);
    uint64_t t1 = hvg_now();
    if (hvg_runstate(0).state_entry_ns == entered && t1 - t0 > longest_ns)
        longest_ns = t1 - t0;
    calls++;
    if (r == -HV_EAGAIN)
        refused++;
    else if (r > 0)
        taken_bytes += (uint64_t)r;
    return r;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    uint64_t label = strlen(si->name) + 3; /* "[" name "] " */
    uint64_t line_cost = label + 2;        /* and CR LF */
    memset(newlines, '\n', sizeof(newlines));
    memset(long_line, 'x', LONG_CHARS);
    long_line[LONG_CHARS] = '\n';
    hvg_printf("flood %s: writing newlines and %u-character lines for %u ms\n", si->name,
               LONG_CHARS, FLOOD_MS);

    uint64_t start = hvg_now(), end = start + HVG_MS(FLOOD_MS);
    while (hvg_now() < end) {
        /* Empty lines: each newline taken is a whole line of line_cost. */
        int64_t r = timed_write(newlines, sizeof(newlines));
        if (r > 0)
            output_bytes += (uint64_t)r * line_cost;
        else if (r != -HV_EAGAIN)
            goto failed;
        /* One long line, however many calls it takes: its cost is charged
         * with its first character. */
        uint64_t done = 0;
        while (done < sizeof(long_line) && hvg_now() < end) {
            r = timed_write(long_line + done, sizeof(long_line) - done);
            if (r == -HV_EAGAIN)
                continue;
            if (r <= 0 || (uint64_t)r > sizeof(long_line) - done)
                goto failed;
            if (done == 0)
                output_bytes += line_cost;
            uint64_t chars = (uint64_t)r;
            if (done + chars > LONG_CHARS)
                chars = LONG_CHARS - done; /* the newline costs nothing more */
            output_bytes += chars;
            done += (uint64_t)r;
        }
        if (done && done < sizeof(long_line)) {
            /* Time is up mid-line: end it (the newline is already paid for). */
            while ((r = hvg_console_write("\n", 1)) == -HV_EAGAIN)
                ;
        }
    }
    uint64_t elapsed = hvg_now() - start;
    /* Its buffer is full of lines (and it would drop this report too):
     * give the serial line time to carry them first. */
    for (uint64_t until = hvg_now() + HVG_MS(QUIET_MS); hvg_now() < until;)
        hvg_yield();
    while (hvg_printf("flood %s: %llu calls, %llu bytes taken, %llu output bytes in %llu ms, "
                      "%llu refused, longest call %llu us\n",
                      si->name, (unsigned long long)calls, (unsigned long long)taken_bytes,
                      (unsigned long long)output_bytes, (unsigned long long)(elapsed / 1000000),
                      (unsigned long long)refused,
                      (unsigned long long)(longest_ns / 1000)) < 0)
        hvg_yield();
    return 0;

failed:
    hvg_printf("flood %s: console write failed unexpectedly after %llu calls\n", si->name,
               (unsigned long long)calls);
    return 1;
}
