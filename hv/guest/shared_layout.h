/* Where the event and upcall fields live in a guest's shared page, per
 * personality (docs/plans/xen-personality.md, M0.4): hv's own layout
 * (include/hv/abi_cpu.h struct hv_shared_info) and Xen's (public xen.h
 * struct shared_info / vcpu_info; hv/xen/xen_abi.h). The two agree on
 * what there is (pending and mask bitmaps, per-vCPU upcall pending and
 * mask bytes, a pending-selector word and cr2) and differ in where it is.
 * Code that serves both reaches the fields through these accessors on the
 * guest's layout record; pure, inline, no state.
 *
 * hv's event, delivery and scheduler code still addresses hv's layout
 * directly (its sites are listed in the plan, M0.4); a Xen guest gets a
 * private page in hv's layout for them until Xen events exist (M2-M4),
 * when those sites move onto these accessors. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "hv/xen/xen_abi.h"
#include "lib/nospec.h"
#include "include/hv/abi.h"
#include "include/hv/abi_cpu.h"

struct shared_layout {
    uint16_t evtchn_pending, evtchn_mask; /* byte offsets of the two bitmaps */
    uint16_t vcpu_stride;                 /* bytes per vCPU record; records start at 0 */
    uint8_t upcall_pending, upcall_mask, pending_sel, cr2; /* offsets in a record */
    uint16_t vcpus;                       /* records the page has */
    uint16_t evtchn_words;                /* 64-bit words of each bitmap */
};

#define SHARED_LAYOUT_NATIVE                                                             \
    {                                                                                    \
        offsetof(struct hv_shared_info, evtchn_pending),                                 \
        offsetof(struct hv_shared_info, evtchn_mask), sizeof(struct hv_vcpu_shared),     \
        offsetof(struct hv_vcpu_shared, upcall_pending),                                 \
        offsetof(struct hv_vcpu_shared, upcall_mask),                                    \
        offsetof(struct hv_vcpu_shared, pending_sel), offsetof(struct hv_vcpu_shared, cr2), \
        HV_MAX_VCPUS, HV_EVTCHN_WORDS                                                    \
    }
#define SHARED_LAYOUT_XEN                                                                \
    {                                                                                    \
        offsetof(struct xen_shared_info, evtchn_pending),                                \
        offsetof(struct xen_shared_info, evtchn_mask), sizeof(struct xen_vcpu_info),     \
        offsetof(struct xen_vcpu_info, evtchn_upcall_pending),                           \
        offsetof(struct xen_vcpu_info, evtchn_upcall_mask),                              \
        offsetof(struct xen_vcpu_info, evtchn_pending_sel),                              \
        offsetof(struct xen_vcpu_info, arch_cr2), XEN_LEGACY_MAX_VCPUS,                  \
        sizeof(((struct xen_shared_info *)0)->evtchn_pending) / 8                        \
    }

/* vcpu and word may be a guest's choice: each is clamped to the layout's
 * bounds here, architecturally and under speculation (an index out of
 * range becomes 0, never a byte outside the page), so no caller can
 * forget. */
static inline uint64_t *shared_pending_word(void *page, const struct shared_layout *l,
                                            unsigned word)
{
    return (uint64_t *)((uint8_t *)page + l->evtchn_pending) +
           array_index_nospec(word, l->evtchn_words);
}
static inline uint64_t *shared_mask_word(void *page, const struct shared_layout *l, unsigned word)
{
    return (uint64_t *)((uint8_t *)page + l->evtchn_mask) +
           array_index_nospec(word, l->evtchn_words);
}
static inline uint8_t *shared_vcpu_record(void *page, const struct shared_layout *l,
                                          unsigned vcpu)
{
    return (uint8_t *)page + (size_t)array_index_nospec(vcpu, l->vcpus) * l->vcpu_stride;
}
static inline uint8_t *shared_upcall_pending(void *page, const struct shared_layout *l,
                                             unsigned vcpu)
{
    return shared_vcpu_record(page, l, vcpu) + l->upcall_pending;
}
static inline uint8_t *shared_upcall_mask(void *page, const struct shared_layout *l,
                                          unsigned vcpu)
{
    return shared_vcpu_record(page, l, vcpu) + l->upcall_mask;
}
static inline uint64_t *shared_pending_sel(void *page, const struct shared_layout *l,
                                           unsigned vcpu)
{
    return (uint64_t *)(shared_vcpu_record(page, l, vcpu) + l->pending_sel);
}
static inline uint64_t *shared_cr2(void *page, const struct shared_layout *l, unsigned vcpu)
{
    return (uint64_t *)(shared_vcpu_record(page, l, vcpu) + l->cr2);
}
