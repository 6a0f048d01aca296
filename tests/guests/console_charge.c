/* Is the console's rate limit charged in output bytes? Writes 256 letters
 * per call until hv refuses (-HV_EAGAIN; after a partial count -- the
 * allowance ran out mid-call, or the call ended its 16 lines -- it calls
 * again for the rest), waits a second for its allowance to refill, then
 * does the same with 256 newlines. A newline alone is a whole line, which costs its
 * label "[console-charge] " and CR LF on the serial line, so far fewer bytes
 * of newlines fit in the same allowance. Prints, and exits 0:
 *
 *     charge: letters L, newlines N, label K
 *
 * L and N: bytes taken before hv first refused. */
#include "hvg.h"
#include "hvg_event.h"

#include "lib/string.h"

HV_GUEST_NOTE("console-charge", HVG_MIB(1), 1, HVG_KIB(64));

static char buf[256];

/* Bytes taken until hv first refuses (or takes nothing). */
static uint64_t until_refused(void)
{
    uint64_t total = 0, off = 0;
    for (;;) {
        int64_t r = hvg_console_write(buf + off, sizeof(buf) - off);
        if (r <= 0)
            return total;
        total += (uint64_t)r;
        off = (off + (uint64_t)r) % sizeof(buf);
    }
}

static void wait_ms(uint64_t ms)
{
    uint64_t until = hvg_now() + HVG_MS(ms);
    while (hvg_now() < until)
        hvg_yield();
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)vcpu;
    hvg_puts("charge: letters, then newlines, until hv takes less than offered");
    wait_ms(1000); /* a full allowance for each phase */
    memset(buf, 'a', sizeof(buf));
    uint64_t letters = until_refused();
    while (hvg_console_write("\n", 1) == -HV_EAGAIN) /* ends the open line: already paid */
        hvg_yield();
    wait_ms(1000);
    memset(buf, '\n', sizeof(buf));
    uint64_t newlines = until_refused();
    wait_ms(1000);
    hvg_printf("charge: letters %llu, newlines %llu, label %llu\n", (unsigned long long)letters,
               (unsigned long long)newlines, (unsigned long long)(strlen(si->name) + 3));
    return 0;
}
