/* What the boot CPU (hv/cpu/smp.c) hands an AP it starts (hv/cpu/smp_ap.c).
 * The boot CPU starts one AP at a time and waits for it, so one of these
 * at a time is live. */
#pragma once

#include <stdint.h>

#include "hv/cpu/gdt.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/smp_rules.h"

enum ap_state { AP_STARTING, AP_READY, AP_REFUSED };

/* The boot CPU's settings every AP copies (read on the boot CPU once). */
struct boot_cpu_state {
    uint64_t cr0, cr4, efer, pat, xcr0;
    uint64_t star, lstar, fmask;
    struct smp_needs needs;
    uint32_t boot_apic_id; /* where an AP sends VEC_AP_CHECKIN */
    uint32_t fault_apic_id; /* hv.cfg debug_ap_fault: this AP faults once ready (UINT32_MAX: none) */
    uint32_t refuse_apic_id; /* hv.cfg debug_ap_refuse: this AP fails its checks (UINT32_MAX: none) */
    uint32_t stall_apic_id;  /* hv.cfg debug_ap_stall_ms: the last AP (UINT32_MAX: none) */
    uint64_t stall_ns;       /* how long it waits once it claimed its start */
};

/* The interrupt an AP sends the boot CPU when it is ready or refused: it
 * ends the boot CPU's hlt (hv/cpu/smp.c). */
#define VEC_AP_CHECKIN 0xf0

struct ap_boot {
    /* In: from the boot CPU. */
    struct cpu_entry_area *area;
    uint32_t index, apic_id;
    uint64_t ist_tops[IST_STACKS];
    uint64_t kernel_rsp;
    const struct boot_cpu_state *boot;
    /* Out: written by the AP, state last (release). */
    uint64_t ready_tsc;
    uint64_t cr4, efer;
    uint32_t seen_apic_id;
    uint8_t core_type; /* CPUID 0x1a: 0x20 efficiency (Atom), 0x40 performance (Core), 0 */
    char why[112];
    volatile uint32_t state;
};

void smp_ap_main(struct ap_boot *b);
