#include "hv/cpu/features.h"

#include "hv/console/log.h"
#include "hv/cpu/entry_flags.h"
#include "hv/cpu/x86.h"
#include "hv/mm/pagetable.h"

static struct cpu_features feat;

void cpu_features_detect(void)
{
    struct cpuid_regs r = cpuid(0, 0);
    feat.max_leaf = r.eax;
    uint32_t v[3] = {r.ebx, r.edx, r.ecx};
    for (int i = 0; i < 12; i++)
        feat.vendor[i] = (char)(v[i / 4] >> (8 * (i % 4)));
    feat.vendor[12] = '\0';

    r = cpuid(1, 0);
    feat.sep = r.edx >> 11 & 1;
    feat.pge = r.edx >> 13 & 1;
    feat.pat = r.edx >> 16 & 1;
    feat.x2apic = r.ecx >> 21 & 1;
    feat.tsc_deadline = r.ecx >> 24 & 1;
    feat.xsave = r.ecx >> 26 & 1;
    feat.hypervisor = r.ecx >> 31 & 1;
    if (feat.max_leaf >= 7) {
        r = cpuid(7, 0);
        feat.fsgsbase = r.ebx & 1;
        feat.smep = r.ebx >> 7 & 1;
        feat.smap = r.ebx >> 20 & 1;
        feat.umip = r.ecx >> 2 & 1;
    }
    uint32_t max_ext = cpuid(0x80000000u, 0).eax;
    if (max_ext >= 0x80000001u) {
        r = cpuid(0x80000001u, 0);
        feat.nx = r.edx >> 20 & 1;
        feat.pdpe1gb = r.edx >> 26 & 1;
    }
    if (max_ext >= 0x80000007u)
        feat.invariant_tsc = cpuid(0x80000007u, 0).edx >> 8 & 1;
}

const struct cpu_features *cpu_features(void)
{
    return &feat;
}

uint64_t cpu_nx_mask(void)
{
    return feat.nx ? PTE_NX : 0;
}

bool cpu_has_pat(void)
{
    return feat.pat;
}

/* CR4 bits hv clears whatever the firmware left, and why:
 * TSD: rdtsc must work in guests (docs/abi.md);
 * PCE: rdpmc would read counters shared by every guest;
 * FSGSBASE: wrgsbase would let a guest pick its GS base, and the IST
 *   entries tell hv's GS from a guest's by the base's half (hv/cpu/isr.S);
 * PKE: PKRU is writable at ring 3 and hv does not switch it per vCPU;
 * CET: hv sets up no shadow stacks. */
#define CR4_FIRMWARE_CLEARED (CR4_TSD | CR4_PCE | CR4_FSGSBASE | CR4_PKE | CR4_CET)

/* The SYSENTER MSRs only matter because a guest can execute `sysenter`: on
 * Intel CPUs it works in 64-bit mode and enters ring 0 at SYSENTER_EIP
 * with SYSENTER_ESP, wherever the firmware left them. CS = 0 makes it
 * raise #GP instead (AMD CPUs raise #UD in long mode anyway). */
static void sysenter_disable(void)
{
    if (!feat.sep)
        return;
    uint64_t cs = rdmsr(MSR_SYSENTER_CS);
    if (cs)
        log_warn("cpu: firmware left IA32_SYSENTER_CS 0x%lx (EIP 0x%lx); now 0", (unsigned long)cs,
                 (unsigned long)rdmsr(MSR_SYSENTER_EIP));
    wrmsr(MSR_SYSENTER_CS, 0);
    wrmsr(MSR_SYSENTER_EIP, 0);
    wrmsr(MSR_SYSENTER_ESP, 0);
}

/* Firmware state hv does not use, set to known values. */
static void firmware_state_reset(void)
{
    /* NE: x87 errors raise #MF in the faulting guest, not the legacy
     * FERR#/IGNNE# interrupt path that would reach hv. */
    uint64_t cr0 = read_cr0();
    if (!(cr0 & CR0_NE))
        log_info("cpu: firmware left CR0.NE clear; now set");
    write_cr0(cr0 | CR0_NE | CR0_WP);
    /* AMD's fast FXSAVE skips the XMM registers at CPL 0: one guest's
     * would leak into the next. */
    uint64_t efer = rdmsr(MSR_EFER);
    if (efer & EFER_FFXSR)
        wrmsr(MSR_EFER, efer & ~EFER_FFXSR);
    sysenter_disable();
    /* No breakpoint armed by the firmware may fire in hv. */
    write_dr7(DR7_INIT);
    write_dr6(DR6_INIT);
}

void cpu_protections_enable(void)
{
    firmware_state_reset();
    if (feat.nx)
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    uint64_t cr4 = read_cr4();
    if (cr4 & CR4_FIRMWARE_CLEARED)
        log_info("cpu: firmware left CR4 0x%lx; cleared 0x%lx", (unsigned long)cr4,
                 (unsigned long)(cr4 & CR4_FIRMWARE_CLEARED));
    cr4 &= ~CR4_FIRMWARE_CLEARED;
    cr4 |= CR4_DE; /* DR4/DR5 are not aliases of DR6/DR7 */
    if (feat.pge)
        cr4 |= CR4_PGE;
    if (feat.smep)
        cr4 |= CR4_SMEP;
    if (feat.smap)
        cr4 |= CR4_SMAP;
    if (feat.umip)
        cr4 |= CR4_UMIP;
    write_cr4(cr4);
    cpu_entry_clac = feat.smap;
    log_info("cpu: %s; protections: WP on, NX %s, SMEP %s, SMAP %s, UMIP %s", feat.vendor,
             feat.nx ? "on" : "absent", feat.smep ? "on" : "absent", feat.smap ? "on" : "absent",
             feat.umip ? "on" : "absent");
}
