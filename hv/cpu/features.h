/* CPU features hv relies on or turns on when present. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct cpu_features {
    bool nx, pat, pge, smep, smap, umip, tsc_deadline, x2apic, invariant_tsc, pdpe1gb;
    bool fsgsbase, xsave, hypervisor, sep;
    uint32_t max_leaf;
    char vendor[13];
};

void cpu_features_detect(void);
/* Turns on the protections (CR0.WP, EFER.NXE, CR4.SMEP/SMAP/UMIP, PGE),
 * resets what the firmware may have left that a guest could use (CR0.NE,
 * CR4.TSD/PCE/FSGSBASE/PKE/CET, SYSENTER MSRs, EFER.FFXSR, DR7) and logs
 * which protections the CPU offered. */
void cpu_protections_enable(void);
const struct cpu_features *cpu_features(void);

uint64_t cpu_nx_mask(void); /* PTE_NX if the CPU honours it, else 0 */
bool cpu_has_pat(void);
