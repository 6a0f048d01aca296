/* A Xen guest's page tables as it sees them, kept by hv (hv/xen/xen_mmu.c):
 * mmu_update, mmuext_op, update_va_mapping. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct guest;
struct xen_guest;
struct vcpu;
struct trap_frame;

/* At the build, once its p2m exists: the per-pfn table records, and the
 * initial page tables typed and linked (read-only for good while they
 * are tables). false if its allowance cannot hold the records. */
bool xen_mmu_init(struct guest *g);
/* Reaping, per pfn before hv's reference to it goes: a table's
 * pseudo-mapping is dropped ... */
void xen_mmu_forget_pfn(struct guest *g, uint64_t pfn);
/* ... and at the end the records' frames go back. */
void xen_mmu_free(struct guest *g);

/* The grant-table frames (GNTTABOP_setup_table) live in the records'
 * directory frame: slot i (below XEN_GRANT_FRAMES), 0 while not set up ... */
uint64_t *xen_grant_slot(const struct xen_guest *x, unsigned i);
/* ... and the frame behind special mfn `mfn`, 0 if it names none. */
uint64_t xen_grant_pa(const struct xen_guest *x, uint64_t mfn);

/* The page-table model's operations (hv/xen/xen_mmu.c), for the
 * hypercalls' front end (hv/xen/xen_mmu_ops.c): MMU_NORMAL_PT_UPDATE of
 * the entry at machine address ptr (*heavy when it made or removed an
 * L1's leaves: the batch ends its piece), MMUEXT_PIN_Ln_TABLE, UNPIN. */
int64_t xen_mmu_pt_update(struct guest *g, uint64_t ptr, uint64_t val, bool *heavy);
int64_t xen_mmu_pin(struct guest *g, unsigned level, uint64_t mfn);
int64_t xen_mmu_unpin(struct guest *g, uint64_t mfn);

/* The hypercalls (hv/xen/xen_mmu_ops.c, update_va_mapping in xen_mmu.c). */
int64_t xen_mmu_update(struct vcpu *v, struct trap_frame *f, bool *again);
int64_t xen_mmuext_op(struct vcpu *v, struct trap_frame *f, bool *again);
int64_t xen_update_va_mapping(struct guest *g, uint64_t va, uint64_t val);
