/* The PV console ring's backend (hv/xen/xen_console.c). */
#pragma once

#include <stdint.h>

struct guest;

/* console_io's output: up to 256 of the n bytes, CRs dropped (Xen guests
 * end lines with CR LF, hv's log with LF), remembered as the echo window.
 * How many of buf's bytes it took, or -HV_EAGAIN over the guest's rate. */
int64_t xen_console_write(struct guest *g, const char *buf, uint64_t n);
/* Prints what the guest's ring holds (at most one ring, bounded work) and
 * advances out_cons past what it took. */
void xen_console_drain(struct guest *g);
