/* Reading and writing guest memory on a hypercall's behalf. Every byte is
 * checked against the guest's own page tables (present, user, writable for
 * writes) and reached through hv's direct map, so a bad pointer is an error
 * code, never a fault in hv, and SMAP stays on throughout. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hv/mm/pagetable.h"

struct guest;

/* 0 or -HV_EFAULT. A failed read may have filled part of dst; a failed
 * write has written nothing. */
int copy_from_space(const struct pt_space *s, void *dst, uint64_t src_va, size_t n);
int copy_to_space(const struct pt_space *s, uint64_t dst_va, const void *src, size_t n);
/* The same in the guest kernel's address space. */
int copy_from_guest(struct guest *g, void *dst, uint64_t src_va, size_t n);
int copy_to_guest(struct guest *g, uint64_t dst_va, const void *src, size_t n);
/* True if va is mapped user-executable in s (a handler may run there). */
bool guest_code_mapped(const struct pt_space *s, uint64_t va);
