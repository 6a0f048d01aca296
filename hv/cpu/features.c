#include "hv/cpu/features.h"

#include "hv/console/log.h"
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

void cpu_protections_enable(void)
{
    write_cr0(read_cr0() | CR0_WP);
    if (feat.nx)
        wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE);
    uint64_t cr4 = read_cr4();
    if (feat.pge)
        cr4 |= CR4_PGE;
    if (feat.smep)
        cr4 |= CR4_SMEP;
    if (feat.smap)
        cr4 |= CR4_SMAP;
    if (feat.umip)
        cr4 |= CR4_UMIP;
    write_cr4(cr4);
    log_info("cpu: %s; protections: WP on, NX %s, SMEP %s, SMAP %s, UMIP %s", feat.vendor,
             feat.nx ? "on" : "absent", feat.smep ? "on" : "absent", feat.smap ? "on" : "absent",
             feat.umip ? "on" : "absent");
}
