/* The PV console ring's backend (hv/xen/xen_console.c). */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct guest;

/* console_io's output: up to 256 of the n bytes, CRs dropped (Xen guests
 * end lines with CR LF, hv's log with LF); bytes repeating what the ring
 * printed last are taken without printing, the rest remembered as the
 * echo window. How many of buf's bytes it took, or -HV_EAGAIN over the
 * guest's rate. */
int64_t xen_console_write(struct guest *g, const char *buf, uint64_t n);
/* Prints what the guest's ring holds (at most one ring, bounded work),
 * bytes repeating what console_io printed last taken without printing,
 * and advances out_cons past what it took. True if bytes are left of a
 * ring whose indices make sense (the guest is over its rate): the caller
 * makes it wait, as console_io's writer waits. */
bool xen_console_drain(struct guest *g);
