/* A Xen guest's own segment descriptors (set_gdt, update_descriptor):
 * Xen's check_descriptor for a 64-bit PV guest, plus hv's rule for the
 * selectors vcpu_load reloads. Pure (tests/unit/test_xen_desc.c).
 *
 * Every descriptor a guest installs is an attack on the GDT the CPU runs
 * hv on, so it is checked before any CPU sees it and only these pass:
 *  - not present: always faults, so anything goes;
 *  - code or data (S set): base and limit are the guest's business (long
 *    mode ignores them but for FS/GS, whose 32-bit base is a lower-half
 *    address: hv/cpu/gs_base.h's invariant holds); the DPL is raised to
 *    3, a PV kernel's ring, so no descriptor ever reaches rings 0-2;
 *    code only 64-bit (L set, D clear): hv offers no compatibility mode
 *    (vcpu/compat_syscall_entry.S; Xen takes 32-bit code too);
 *  - type 0 (the upper half of a 16-byte call gate): harmless;
 *  - a 64-bit call gate: stored with DPL 0, so that every use from ring 3
 *    takes #GP(selector) (Xen emulates the call there; hv gives the guest
 *    the #GP), its target one of the guest's own selectors or Xen's flat
 *    0xe033 (never hv's, never a reserved one), reserved bits 0.
 * Everything else (LDT, TSS, interrupt and trap gates, 16/32-bit gates)
 * is refused: its descriptor is -EINVAL, as in Xen. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#define XEN_DESC_P (1ULL << 47)
#define XEN_DESC_S (1ULL << 44)
#define XEN_DESC_DPL_SHIFT 45
#define XEN_DESC_DPL (3ULL << XEN_DESC_DPL_SHIFT)
#define XEN_DESC_TYPE_SHIFT 40
#define XEN_DESC_TYPE (0xfULL << XEN_DESC_TYPE_SHIFT)
#define XEN_DESC_CODE (1ULL << 43)   /* S set: code, not data */
#define XEN_DESC_READ (1ULL << 41)   /* code: readable */
#define XEN_DESC_L (1ULL << 53)      /* code: 64-bit */
#define XEN_DESC_D (1ULL << 54)
#define XEN_DESC_CALL_GATE64 0xcULL
/* The first GDT entry a guest may own: 0-7 are hv's selectors (0x08-0x3b,
 * hv/cpu/gdt.h), 7168 and up Xen's reserved ones (0xe000-). */
#define XEN_DESC_FIRST_OWN 8
#define XEN_DESC_FIRST_RESERVED 7168
#define XEN_FLAT_CS64 0xe033

/* Whether a call gate's target selector is the guest's: Xen's flat
 * 64-bit code, an LDT selector, or a GDT entry the guest owns. */
static inline bool xen_desc_gate_target_ok(uint16_t sel)
{
    if ((sel | 3) == XEN_FLAT_CS64 || (sel & 4))
        return true;
    unsigned index = sel >> 3;
    return index >= XEN_DESC_FIRST_OWN && index < XEN_DESC_FIRST_RESERVED;
}

/* Xen's check_descriptor (64-bit PV): true if *d may be installed, with
 * *d rewritten to what is installed (DPL fixed up); false: -EINVAL. */
static inline bool xen_desc_check(uint64_t *d)
{
    uint64_t v = *d;
    if (!(v & XEN_DESC_P))
        return true;
    if (v & XEN_DESC_S) { /* code or data: ring 3 only */
        if ((v & XEN_DESC_CODE) && (v & (XEN_DESC_L | XEN_DESC_D)) != XEN_DESC_L)
            return false; /* 32-bit or 16-bit code: compatibility mode */
        *d = v | XEN_DESC_DPL;
        return true;
    }
    uint64_t type = (v & XEN_DESC_TYPE) >> XEN_DESC_TYPE_SHIFT;
    if (type == 0)
        return true;
    if (type != XEN_DESC_CALL_GATE64)
        return false;
    if ((v >> 32) & 0xff) /* reserved in a 64-bit gate (the IST field's place) */
        return false;
    uint16_t target = (uint16_t)(v >> 16);
    if (!xen_desc_gate_target_ok(target))
        return false;
    /* DPL 0, the guest's DPL kept in the target's RPL (Xen's encoding). */
    unsigned dpl = (unsigned)((v & XEN_DESC_DPL) >> XEN_DESC_DPL_SHIFT);
    target = (uint16_t)((target & ~3u) | dpl);
    v &= ~XEN_DESC_DPL;
    v = (v & ~(0xffffULL << 16)) | ((uint64_t)target << 16);
    *d = v;
    return true;
}

/* Whether installed descriptor d is 64-bit code a far return at ring 3
 * may land on (present; DPL 3 as every installed one is). */
static inline bool xen_desc_code64(uint64_t d)
{
    uint64_t want = XEN_DESC_P | XEN_DESC_S | XEN_DESC_CODE | XEN_DESC_L;
    return (d & (want | XEN_DESC_D)) == want;
}

/* Whether `mov` at ring 0 of a selector naming installed descriptor d
 * into DS/ES/FS/GS succeeds: present, code or data, code readable (DPL
 * is 3 for every installed one). vcpu_load reloads a guest's selectors,
 * so one whose descriptor changed since it was loaded is nulled first. */
static inline bool xen_desc_loadable(uint64_t d)
{
    if ((d & (XEN_DESC_P | XEN_DESC_S)) != (XEN_DESC_P | XEN_DESC_S))
        return false;
    return !(d & XEN_DESC_CODE) || (d & XEN_DESC_READ);
}
