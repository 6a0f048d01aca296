#include "hv/cpu/smp_rules.h"

#include "lib/fmt.h"

#define PAGE 4096ull
#define LOW_LIMIT (1ull << 20)

void smp_plan_cpus(const uint32_t *apic_ids, const bool *enabled, uint32_t n,
                   uint32_t boot_apic_id, uint32_t cpus_limit, struct smp_plan *out)
{
    out->count = 0;
    out->over_limit = 0;
    out->hotplug = 0;
    out->boot_cpu_listed = false;
    uint32_t taken = 1; /* the boot CPU runs whatever the list says */
    for (uint32_t i = 0; i < n; i++) {
        if (apic_ids[i] == boot_apic_id) {
            out->boot_cpu_listed = true;
            continue;
        }
        if (!enabled[i]) {
            out->hotplug++;
            continue;
        }
        if (cpus_limit && taken >= cpus_limit) {
            if (out->over_limit < SMP_MAX_CPUS)
                out->over_limit_ids[out->over_limit++] = apic_ids[i];
            continue;
        }
        if (out->count >= SMP_MAX_CPUS)
            continue;
        out->apic_ids[out->count++] = apic_ids[i];
        taken++;
    }
}

uint64_t smp_find_low_pages(const struct mem_range *map, size_t n, unsigned pages)
{
    if (pages == 0)
        return 0;
    uint64_t need = pages * PAGE;
    for (size_t i = 0; i < n; i++) {
        const struct mem_range *r = &map[i];
        if (r->kind != MEM_USABLE || r->base >= LOW_LIMIT)
            continue;
        uint64_t base = (r->base + PAGE - 1) & ~(PAGE - 1);
        if (base < PAGE)
            base = PAGE;
        uint64_t end = r->base + r->size < r->base ? UINT64_MAX : r->base + r->size;
        if (end > LOW_LIMIT)
            end = LOW_LIMIT;
        end &= ~(PAGE - 1);
        if (end > base && end - base >= need)
            return base;
    }
    return 0;
}

static bool missing(bool used, bool has, const char *name, char *why, size_t size)
{
    if (!used || has)
        return false;
    fmt_format(why, size, "no %s (the boot CPU relies on it)", name);
    return true;
}

bool smp_cpu_compatible(const struct smp_needs *needs, const struct smp_caps *caps,
                        const struct cpu_facts *facts, char *why, size_t why_size)
{
    const struct smp_caps *u = &needs->used;
    if (why_size)
        why[0] = '\0';
    if (missing(u->nx, caps->nx, "NX", why, why_size) ||
        missing(u->pge, caps->pge, "PGE", why, why_size) ||
        missing(u->pat, caps->pat, "PAT", why, why_size) ||
        missing(u->smep, caps->smep, "SMEP", why, why_size) ||
        missing(u->smap, caps->smap, "SMAP", why, why_size) ||
        missing(u->umip, caps->umip, "UMIP", why, why_size) ||
        missing(u->pcid, caps->pcid, "PCID", why, why_size) ||
        missing(u->xsave, caps->xsave, "XSAVE", why, why_size) ||
        missing(u->x2apic, caps->x2apic, "x2APIC", why, why_size))
        return false;
    if (u->xsave && (u->xcr0 & ~caps->xcr0)) {
        fmt_format(why, why_size, "XCR0 0x%lx lacks 0x%lx of the boot CPU's state",
                   (unsigned long)caps->xcr0, (unsigned long)(u->xcr0 & ~caps->xcr0));
        return false;
    }
    /* Decide for this CPU as the boot CPU did, with what the boot CPU
     * turned on forced on: a refused force is a mitigation it cannot do. */
    enum mitigation_setting settings[MIT_COUNT];
    for (int i = 0; i < MIT_COUNT; i++)
        settings[i] = needs->mit_on[i] ? MIT_FORCE_ON : needs->mit_settings[i];
    struct mitigation_decision d[MIT_COUNT];
    mitigations_decide(facts, settings, d);
    for (int i = 0; i < MIT_COUNT; i++) {
        const char *name = mitigation_name((enum mitigation_id)i);
        if (needs->mit_on[i] && d[i].source == MIT_REFUSED) {
            fmt_format(why, why_size, "cannot do %s (%s), which the boot CPU uses", name,
                       d[i].why ? d[i].why : "?");
            return false;
        }
        if (!needs->mit_on[i] && d[i].on) {
            fmt_format(why, why_size, "needs %s (%s), which the boot CPU runs without", name,
                       d[i].why ? d[i].why : "?");
            return false;
        }
    }
    return true;
}
