/* Console input for guests (guest/include/hvg.h, "console input"): the
 * HV_VIRQ_CONSOLE port bound once, kept masked, waited on with
 * HV_CALL_POLL. A masked port still wakes a vCPU polling it (abi.md,
 * "Delivery") but never makes an upcall, so this needs no event set-up and
 * no callback, and a guest's own hvg_wait/hvg_block loops never see it. */
#include "hvg.h"
#include "hvg_event.h"

/* Port + 1; 0 before the first call. */
static uint32_t input_port_plus1;
/* The last byte hvg_getline took ended a line with '\r'. */
static bool line_ended_by_cr;

int64_t hvg_console_input_open(void)
{
    uint32_t have = __atomic_load_n(&input_port_plus1, __ATOMIC_ACQUIRE);
    if (have)
        return (int64_t)have - 1;
    int64_t port = hvg_evtchn_bind_virq(HV_VIRQ_CONSOLE);
    if (port < 0)
        return port;
    if (port >= HV_EVTCHN_PORTS)
        return -HV_EINVAL; /* hv broke the ABI; do not index with it */
    hvg_evtchn_mask((unsigned)port);
    __atomic_store_n(&input_port_plus1, (uint32_t)port + 1, __ATOMIC_RELEASE);
    return port;
}

int64_t hvg_console_read_wait(char *buf, size_t n, uint64_t deadline_ns)
{
    int64_t port = hvg_console_input_open();
    if (port < 0)
        return port;
    if (n == 0)
        return -HV_EINVAL;
    uint32_t ports[1] = {(uint32_t)port};
    for (;;) {
        /* Cleared before looking: input that comes after the look raises
         * the port again, and the poll then returns at once. */
        hvg_evtchn_clear((unsigned)port);
        int64_t got = hvg_console_read(buf, n);
        if (got != 0)
            return got;
        int64_t r = hvg_poll(ports, 1, deadline_ns);
        if (r < 0)
            return r;
    }
}

int hvg_getchar(void)
{
    char c;
    int64_t r = hvg_console_read_wait(&c, 1, 0);
    return r < 0 ? (int)r : (unsigned char)c;
}

int64_t hvg_getline(char *buf, size_t size)
{
    if (size == 0)
        return -HV_EINVAL;
    size_t len = 0;
    for (;;) {
        int c = hvg_getchar();
        if (c < 0) {
            buf[len] = '\0';
            return c;
        }
        bool after_cr = line_ended_by_cr;
        line_ended_by_cr = c == '\r';
        if (c == '\n' && after_cr)
            continue; /* the LF of a CR LF: the line ended at the CR */
        if (c == '\r' || c == '\n')
            break;
        if (c == 0x08 || c == 0x7f) {
            if (len > 0)
                len--;
            continue;
        }
        if (len + 1 < size)
            buf[len++] = (char)c;
    }
    buf[len] = '\0';
    return (int64_t)len;
}
