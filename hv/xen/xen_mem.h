/* A Xen guest's real mappings (hv/xen/xen_mem.c): W^X by demand. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "include/hv/abi.h"

struct guest;
struct vcpu;
struct trap_frame;

/* A #PF on a present page that the leaf's maximum protections allow: a
 * write to a page now executable, or a fetch from one now writable. The
 * leaf flips to the other kind (never both) and the guest retries; true
 * if so, false if the fault is the guest's to handle. */
bool xen_mem_flip_on_fault(struct vcpu *v, uint64_t error_code, uint64_t cr2);
/* Before hv writes [va, va + n) on the guest's behalf: pages there that
 * are executable now but may be writable are flipped, so the write sees
 * what the guest would. False if a page is not the guest's (the copy would
 * fault anyway). n is at most a few pages (callers bound it). */
bool xen_mem_writable(struct guest *g, uint64_t va, uint64_t n);

/* Where a Xen guest's mappings may be: below hv's own part of the lower
 * half (include/hv/abi.h). */
#define XEN_MEM_VA_END HV_GUEST_IMAGE_MAX

/* The real leaf at va made to follow val, an L1 entry in Xen's format
 * (hv/xen/xen_mmu.c calls it for every L1 entry of a table linked into
 * the guest's tree): not present, or naming a pfn of its RAM or the
 * shared-info/grant page, never a superpage. hv's leaf keeps hv's rules
 * (never writable and executable at once; a page-table frame never
 * writable). 0, -XEN_EINVAL with nothing changed, or -XEN_ENOMEM with
 * nothing mapped at va. The guest's view is the caller's. */
int64_t xen_mem_set_leaf(struct guest *g, uint64_t va, uint64_t val);
/* The guest's view of its page tables: the kernel root's frame number,
 * what `mov %cr3` reads and MMUEXT_NEW_*BASEPTR names. */
uint64_t xen_mem_root_mfn(const struct guest *g);
