/* Reading and writing guest memory on a hypercall's behalf. The guest side
 * must lie in the lower half (so a guest pointer never reaches hv). In the
 * space loaded in CR3 (the usual case: the guest kernel's, during its
 * hypercalls and trap bounces) the bytes are accessed directly and the MMU
 * checks them: every leaf hv makes in a guest's lower half is a user page,
 * so what hv may touch is what the guest may, read-only pages included
 * (CR0.WP); a fault is fixed up to -HV_EFAULT through the exception table
 * (hv/cpu/extable.h), with SMAP opened only around those instructions. In
 * any other space each page is checked against that space's tables
 * (present, user, writable for writes) and reached through hv's direct
 * map. docs/design.md, "Guest memory access". */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hv/mm/pagetable.h"

struct guest;

/* 0 or -HV_EFAULT. A failed read may have filled part of dst; a failed
 * write has written nothing (unless another vCPU changed the mappings
 * during the copy). */
int copy_from_space(const struct pt_space *s, void *dst, uint64_t src_va, size_t n);
int copy_to_space(const struct pt_space *s, uint64_t dst_va, const void *src, size_t n);
/* The same in the guest kernel's address space. */
int copy_from_guest(struct guest *g, void *dst, uint64_t src_va, size_t n);
int copy_to_guest(struct guest *g, uint64_t dst_va, const void *src, size_t n);
/* The page-walk route's translation, for a space that is not loaded: the
 * direct-map address of guest byte va if a user-mode access (a write if
 * `write`) may reach it, else NULL. No range check: callers check va
 * against the lower half first. */
uint8_t *uaccess_translate(const struct pt_space *s, uint64_t va, bool write);
