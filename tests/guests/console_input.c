/* Reads a line of console input: binds HV_VIRQ_CONSOLE, says it is ready,
 * sleeps until input events bring a whole line (HV_CALL_CONSOLE_READ), and
 * prints "NAME got: LINE". Several copies show the focus moving. */
#include "hvg.h"
#include "hvg_event.h"

static char line[128];
static unsigned len;
static volatile bool have_line;

static void on_input(unsigned port, unsigned vcpu, void *arg)
{
    (void)port;
    (void)vcpu;
    (void)arg;
    char buf[64];
    int64_t n;
    while ((n = hvg_hypercall2(HV_CALL_CONSOLE_READ, (uint64_t)buf, sizeof(buf))) > 0)
        for (int64_t i = 0; i < n && !have_line; i++) {
            if (buf[i] == '\n' || buf[i] == '\r')
                have_line = true;
            else if (len + 1 < sizeof(line))
                line[len++] = buf[i];
        }
}

static bool line_done(void *arg)
{
    (void)arg;
    return have_line;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    if (hvg_events_init(vcpu) < 0)
        return 2;
    int64_t port = hvg_evtchn_bind_virq(HV_VIRQ_CONSOLE);
    if (port < 0 || hvg_event_handler((unsigned)port, on_input, NULL) < 0)
        return 3;
    hvg_printf("%s: ready for input\n", si->name);
    if (hvg_wait(vcpu, line_done, NULL, 0) < 0)
        return 4;
    hvg_printf("%s got: %s\n", si->name, line);
    return 0;
}
