#include "hv/console/status_line.h"

#include "hv/guest/guest.h"
#include "hv/version.h"
#include "lib/fmt.h"

static uint32_t cpus_used = 1, cpus_total = 1;

void status_line_set_cpus(uint32_t used, uint32_t total)
{
    cpus_used = used;
    cpus_total = total;
}

void status_line_compose(char *buf, size_t cap, uint64_t now_ns)
{
    if (cap == 0)
        return;
    uint64_t ds = now_ns / 100000000; /* tenths of a second */
    size_t n = fmt_format(buf, cap, "hv %s | %u of %u CPU(s) used | up %lu.%lu s |", HV_VERSION,
                          cpus_used, cpus_total, (unsigned long)(ds / 10),
                          (unsigned long)(ds % 10));
    if (n < cap)
        guest_status_text(buf + n, cap - n);
}
