/* Reading and writing guest memory on a hypercall's behalf. Every byte is
 * checked against the guest's own page tables (present, user, writable for
 * writes) and reached through hv's direct map, so a bad pointer is an error
 * code, never a fault in hv, and SMAP stays on throughout. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct guest;

/* 0 or -HV_EFAULT (nothing is copied then... except for partial reads:
 * callers must not act on dst unless 0 is returned). */
int copy_from_guest(struct guest *g, void *dst, uint64_t src_va, size_t n);
int copy_to_guest(struct guest *g, uint64_t dst_va, const void *src, size_t n);
