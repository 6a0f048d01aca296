/* Printing and ending for our Xen-ABI test guests (console_io, sched_op
 * shutdown). */
#include "tests/guests/xen/xen_guest.h"

#include <stdarg.h>

#include "lib/fmt.h"
#include "lib/string.h"

unsigned checks_run, checks_failed;

static void print_line(const char *s)
{
    hcall(XEN_HC_console_io, XEN_CONSOLEIO_write, strlen(s), (uint64_t)s);
}

void xprint(const char *fmt, ...)
{
    char buf[240];
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    print_line(buf);
}

void check(int ok, const char *name, const char *fmt, ...)
{
    char detail[160], line[240];
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    checks_run++;
    if (!ok)
        checks_failed++;
    fmt_format(line, sizeof(line), ok ? "%s: ok\n" : "FAIL: %s: %s\n", name, detail);
    print_line(line);
}

void shutdown(uint32_t reason)
{
    hcall(XEN_HC_sched_op, XEN_SCHEDOP_shutdown, (uint64_t)&reason, 0);
    for (;;)
        __asm__ volatile("ud2");
}
