/* What HV_CALL_CONSOLE_WRITE makes of a guest's bytes, one call per case:
 * a whole line per call (hv writes it straight into the guest's buffer),
 * and the writes that take the general way (an open line, several lines
 * in one call, a line longer than 160 characters). Every call must take
 * all it is offered (the allowance is full: the writes come after a wait
 * and total about 1 KiB of output); the system test compares the labelled
 * lines on the serial line with what the ABI says they become. Ends with
 *
 *     lines: all N calls took their bytes */
#include "hvg.h"
#include "hvg_event.h"

#include "lib/string.h"

HV_GUEST_NOTE("console-lines", HVG_MIB(1), 1, 0);

static unsigned calls, short_calls;

static void put(const char *s, uint64_t n)
{
    calls++;
    if (hvg_console_write(s, n) != (int64_t)n)
        short_calls++;
}

static void put_str(const char *s)
{
    put(s, strlen(s));
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    uint64_t until = hvg_now() + HVG_MS(300); /* a full allowance */
    while (hvg_now() < until)
        hvg_yield();

    /* Whole lines, one per call: control characters, DEL and bytes above
     * 0x7f become '?', a tab a space, so no escape sequence, carriage
     * return or bell reaches the terminal and no second "[name]" can be
     * made to look like a line of its own. */
    put_str("case 1: esc\x1b[2J bell\x07 cr\r[companion] forged del\x7f hi\x80\xff tab\tend\n");
    put_str("case 2: short\n");
    put_str("\n"); /* an empty line: the label alone */
    static char line[300];
    memset(line, 'a', 160);
    line[160] = '\n';
    put(line, 161); /* exactly the longest line */
    memset(line, 'b', 161);
    line[161] = '\n';
    put(line, 162); /* one too long: 160, then 1 on a line of its own */
    /* The general way: several lines in one call, an open line finished by
     * the next call, a line longer than a call's 256 bytes. */
    put_str("case 3: first\ncase 3: second\x01\n");
    put_str("case 4: open ");
    put_str("and closed\n");
    memset(line, 'c', 200);
    put(line, 200);
    put_str("\n");
    put_str("case 5: the last\n");

    if (short_calls)
        hvg_printf("lines: FAILED: %u of %u calls took less than offered\n", short_calls, calls);
    else
        hvg_printf("lines: all %u calls took their bytes\n", calls);
    return short_calls ? 1 : 0;
}
