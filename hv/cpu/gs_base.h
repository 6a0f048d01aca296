/* The GS-base invariant the IST entries rely on.
 *
 * An NMI, #DB or #MC can arrive at CPL 0 in the few instructions of an
 * entry or exit where GS still holds the guest's base (before the entry's
 * swapgs, after the exit's). The saved CS cannot say whether to swapgs
 * there, so isr_paranoid (hv/cpu/isr.S) looks at IA32_GS_BASE itself:
 * upper half = hv's per-CPU pointer, lower half = a guest's. That is only
 * sound while **a guest's GS base is always a lower-half address**. A
 * guest with an upper-half GS base would make an NMI in that window keep
 * the guest's value as hv's per-CPU pointer: hv would then read and write
 * through a guest-chosen address.
 *
 * Where a guest could set its GS base, and how each is held to the rule:
 *   - wrgsbase: CR4.FSGSBASE is cleared at boot (hv/cpu/features.c);
 *   - wrmsr GS_BASE / KERNEL_GS_BASE: guests run at ring 3, every MSR
 *     access is #GP (a Xen kernel's is emulated: below);
 *   - loading a GS selector: every descriptor of hv's a guest can load
 *     has base 0 (checked when the GDT template is built, hv/cpu/gdt.c),
 *     and a Xen guest's own (hv/xen/xen_gdt.c) has a 32-bit base;
 *   - hv setting a guest's GS base for it: only vcpu_set_gs_base
 *     (vcpu/vcpu.c), for a Xen kernel's wrmsr GS_BASE / SHADOW_GS_BASE,
 *     set_segment_base and emulated wrgsbase (hv/xen/xen_emul.c; the
 *     CPU's CR4.FSGSBASE stays clear), which refuse a value for
 *     which guest_gs_base_allowed is false (and vcpu_set_gs_base checks
 *     again); vcpu_save reads a base back clamped the same way. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "include/hv/abi.h"

static inline bool guest_gs_base_allowed(uint64_t base)
{
    return base < HV_GUEST_LOWER_HALF_END;
}

/* The FS base needs no such rule: hv never uses FS (no TLS, no FS
 * override anywhere in hv), so any canonical address a Xen guest asks for
 * only aims its own ring-3 %fs: accesses, which paging judges (Xen takes
 * any canonical one too). Non-canonical: refused, as the CPU's #GP. */
static inline bool guest_fs_base_allowed(uint64_t base)
{
    return base < HV_GUEST_LOWER_HALF_END || base >= 0xffff800000000000ull;
}
