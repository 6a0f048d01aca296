/* The pure decisions of AP bring-up (hv/cpu/smp.c), unit-tested on the
 * host (tests/unit/test_smp_rules.c): which of the MADT's CPUs to start,
 * where the real-mode trampoline goes, and whether a started CPU may run
 * hv as the boot CPU does. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hv/cpu/mitigations.h"
#include "hv/mm/memmap.h"

#define SMP_MAX_CPUS 64

/* The APs to start, in MADT order, and the enabled ones left out by
 * hv.cfg's `cpus = N` (N counts the boot CPU). */
struct smp_plan {
    uint32_t count;
    uint32_t apic_ids[SMP_MAX_CPUS];
    uint32_t over_limit; /* enabled APs left out by cpus = N */
    uint32_t over_limit_ids[SMP_MAX_CPUS];
    uint32_t hotplug;    /* entries for CPUs that may be hot-added: not started */
    bool boot_cpu_listed; /* the boot CPU's APIC ID was in the list */
};

/* apic_ids/enabled: the MADT's CPUs (n of them, each ID once, hv/acpi);
 * cpus_limit 0 means no limit, otherwise at most cpus_limit - 1 APs. */
void smp_plan_cpus(const uint32_t *apic_ids, const bool *enabled, uint32_t n,
                   uint32_t boot_apic_id, uint32_t cpus_limit, struct smp_plan *out);

/* The physical address of `pages` usable pages in a row below 1 MiB (page
 * 0, the real-mode interrupt table, excluded), from a normalised memory
 * map; 0 when there are none. A SIPI can only start a CPU there. */
uint64_t smp_find_low_pages(const struct mem_range *map, size_t n, unsigned pages);

/* What a CPU offers (its CPUID), or what the boot CPU turned on. */
struct smp_caps {
    bool nx, pge, pat, smep, smap, umip, pcid, xsave, x2apic;
    uint64_t xcr0; /* the boot CPU: its XCR0; an AP: the XCR0 bits it supports */
};

/* What an AP must match: the boot CPU's protections and its mitigation
 * decisions, with the hv.cfg settings they were decided under. */
struct smp_needs {
    struct smp_caps used;
    bool mit_on[MIT_COUNT];
    enum mitigation_setting mit_settings[MIT_COUNT];
};

/* Whether a CPU with `caps` and `facts` can run hv as the boot CPU does:
 * every protection the boot CPU turned on is there, every mitigation the
 * boot CPU uses can be done (an MSR it lacks would fault), and it needs no
 * mitigation the boot CPU runs without (the entry paths are patched once
 * for all CPUs). false with a short reason in why (always NUL-terminated)
 * otherwise. Mitigations the AP would not need but the boot CPU uses are
 * kept: they cost time, never safety. */
bool smp_cpu_compatible(const struct smp_needs *needs, const struct smp_caps *caps,
                        const struct cpu_facts *facts, char *why, size_t why_size);
