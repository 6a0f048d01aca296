/* hv/cpu/smp_rules.c: which of the MADT's CPUs hv starts (cpus = N), where
 * the trampoline goes below 1 MiB, and the rule that refuses a CPU whose
 * features or mitigation needs differ from the boot CPU's. */
#include "check.h"
#include "hv/cpu/smp_rules.h"

static const uint32_t ids[] = {0, 1, 2, 3};
static const bool all_enabled[] = {true, true, true, true};

static void every_enabled_ap_is_started_in_madt_order(void)
{
    struct smp_plan p;
    smp_plan_cpus(ids, all_enabled, 4, 0, 0, &p);
    CHECK_EQ_U64(p.count, 3);
    CHECK_EQ_U64(p.apic_ids[0], 1);
    CHECK_EQ_U64(p.apic_ids[1], 2);
    CHECK_EQ_U64(p.apic_ids[2], 3);
    CHECK_EQ_U64(p.over_limit, 0);
    CHECK(p.boot_cpu_listed);
}

static void the_boot_cpu_is_skipped_wherever_it_is_listed(void)
{
    static const uint32_t x2[] = {0x10, 0x40, 0x41, 0x12};
    struct smp_plan p;
    smp_plan_cpus(x2, all_enabled, 4, 0x41, 0, &p);
    CHECK_EQ_U64(p.count, 3);
    CHECK_EQ_U64(p.apic_ids[0], 0x10);
    CHECK_EQ_U64(p.apic_ids[1], 0x40);
    CHECK_EQ_U64(p.apic_ids[2], 0x12);
    smp_plan_cpus(x2, all_enabled, 4, 7, 0, &p); /* firmware forgot the boot CPU */
    CHECK(!p.boot_cpu_listed);
    CHECK_EQ_U64(p.count, 4);
}

static void cpus_n_counts_the_boot_cpu_and_names_the_rest(void)
{
    struct smp_plan p;
    smp_plan_cpus(ids, all_enabled, 4, 0, 2, &p);
    CHECK_EQ_U64(p.count, 1);
    CHECK_EQ_U64(p.apic_ids[0], 1);
    CHECK_EQ_U64(p.over_limit, 2);
    CHECK_EQ_U64(p.over_limit_ids[0], 2);
    CHECK_EQ_U64(p.over_limit_ids[1], 3);
    smp_plan_cpus(ids, all_enabled, 4, 0, 1, &p);
    CHECK_EQ_U64(p.count, 0);
    CHECK_EQ_U64(p.over_limit, 3);
    smp_plan_cpus(ids, all_enabled, 4, 0, 9, &p); /* more than there are: all */
    CHECK_EQ_U64(p.count, 3);
    CHECK_EQ_U64(p.over_limit, 0);
}

static void hot_plug_slots_are_not_started_nor_counted(void)
{
    static const bool some[] = {true, false, true, false};
    struct smp_plan p;
    smp_plan_cpus(ids, some, 4, 0, 2, &p);
    CHECK_EQ_U64(p.count, 1);
    CHECK_EQ_U64(p.apic_ids[0], 2);
    CHECK_EQ_U64(p.hotplug, 2);
    CHECK_EQ_U64(p.over_limit, 0);
}

static void low_pages_come_from_usable_memory_below_1_mib(void)
{
    const struct mem_range map[] = {
        {0x0, 0x2000, MEM_USABLE},        /* page 0 is the IVT: only page 1 */
        {0x2000, 0x6000, MEM_RESERVED},
        {0x8000, 0x1800, MEM_USABLE},     /* one and a half pages */
        {0x10000, 0x80000, MEM_USABLE},
        {0x100000, 0x1000000, MEM_USABLE},
    };
    CHECK_EQ_U64(smp_find_low_pages(map, 5, 1), 0x1000);
    CHECK_EQ_U64(smp_find_low_pages(map, 5, 2), 0x10000);
    CHECK_EQ_U64(smp_find_low_pages(map, 5, 0x80), 0x10000);
    CHECK_EQ_U64(smp_find_low_pages(map, 5, 0x81), 0); /* never above 1 MiB */
    CHECK_EQ_U64(smp_find_low_pages(map, 5, 0), 0);
}

static void a_range_across_1_mib_counts_only_below(void)
{
    const struct mem_range map[] = {{0x9f000, 0x200000, MEM_USABLE}};
    CHECK_EQ_U64(smp_find_low_pages(map, 1, 1), 0x9f000);
    CHECK_EQ_U64(smp_find_low_pages(map, 1, 0x61), 0x9f000);
    CHECK_EQ_U64(smp_find_low_pages(map, 1, 0x62), 0);
    const struct mem_range none[] = {{0x100000, 0x100000, MEM_USABLE}, {0x1000, 0x9000, MEM_ACPI_NVS}};
    CHECK_EQ_U64(smp_find_low_pages(none, 2, 1), 0);
}

/* --- The compatibility rule ----------------------------------------------- */

static const struct cpu_facts alder_lake = {
    .vendor = CPU_VENDOR_INTEL, .family = 6, .model = 0x97, .stepping = 2, .pcid = true,
    .invpcid = true, .smap = true, .avx = true, .md_clear = true, .spec_ctrl = true,
    .stibp = true, .ssbd = true, .arch_caps = true,
    .arch_caps_value = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO |
                       ARCH_CAP_SBDR_SSDP_NO | ARCH_CAP_FBSDP_NO | ARCH_CAP_PSDP_NO |
                       ARCH_CAP_PBRSB_NO | ARCH_CAP_GDS_NO,
};
static const struct cpu_facts skylake = {
    .vendor = CPU_VENDOR_INTEL, .family = 6, .model = 0x5e, .stepping = 3, .pcid = true,
    .invpcid = true, .smap = true, .avx = true, .md_clear = true, .spec_ctrl = true,
    .stibp = true, .ssbd = true, .rtm = true, .hle = true,
};
/* Ivy Bridge without microcode updates: PCID but none of the controls. */
static const struct cpu_facts no_controls = {
    .vendor = CPU_VENDOR_INTEL, .family = 6, .model = 0x3a, .stepping = 9, .avx = true,
    .pcid = true,
};

static const struct smp_caps full = {.nx = true, .pge = true, .pat = true, .smep = true,
                                     .smap = true, .umip = true, .pcid = true, .xsave = true,
                                     .x2apic = true, .xcr0 = 7};

/* The boot CPU's needs as hv computes them: its caps, its decisions. */
static struct smp_needs needs_of(const struct cpu_facts *bsp, const struct smp_caps *used,
                                 enum mitigation_setting all)
{
    struct smp_needs n = {.used = *used};
    struct mitigation_decision d[MIT_COUNT];
    for (int i = 0; i < MIT_COUNT; i++)
        n.mit_settings[i] = all;
    mitigations_decide(bsp, n.mit_settings, d);
    for (int i = 0; i < MIT_COUNT; i++)
        n.mit_on[i] = d[i].on;
    return n;
}

static void the_same_cpu_is_accepted(void)
{
    struct smp_needs n = needs_of(&skylake, &full, MIT_AUTO);
    char why[96];
    CHECK(smp_cpu_compatible(&n, &full, &skylake, why, sizeof(why)));
    CHECK_STR_EQ(why, "");
    n = needs_of(&alder_lake, &full, MIT_AUTO);
    CHECK(smp_cpu_compatible(&n, &full, &alder_lake, why, sizeof(why)));
}

static void a_missing_protection_the_boot_cpu_uses_is_refused(void)
{
    struct smp_needs n = needs_of(&alder_lake, &full, MIT_AUTO);
    struct smp_caps ap = full;
    ap.smap = false;
    char why[96];
    CHECK(!smp_cpu_compatible(&n, &ap, &alder_lake, why, sizeof(why)));
    CHECK_STR_EQ(why, "no SMAP (the boot CPU relies on it)");
    ap = full;
    ap.x2apic = false;
    CHECK(!smp_cpu_compatible(&n, &ap, &alder_lake, why, sizeof(why)));
    CHECK_STR_EQ(why, "no x2APIC (the boot CPU relies on it)");
    ap = full;
    ap.xcr0 = 3; /* no AVX state */
    CHECK(!smp_cpu_compatible(&n, &ap, &alder_lake, why, sizeof(why)));
    CHECK_STR_EQ(why, "XCR0 0x3 lacks 0x4 of the boot CPU's state");
}

static void a_protection_the_boot_cpu_lacks_too_is_no_reason(void)
{
    struct smp_caps used = full;
    used.smap = false;
    used.umip = false;
    struct smp_needs n = needs_of(&alder_lake, &used, MIT_AUTO);
    struct smp_caps ap = full;
    ap.smap = false;
    ap.umip = false;
    char why[96];
    CHECK(smp_cpu_compatible(&n, &ap, &alder_lake, why, sizeof(why)));
}

/* A hybrid or mixed machine whose second core is Meltdown-affected while
 * the boot CPU is not: the entry paths run without isolation, so no. */
static void an_ap_needing_a_mitigation_the_boot_cpu_skipped_is_refused(void)
{
    struct smp_needs n = needs_of(&alder_lake, &full, MIT_AUTO);
    char why[128];
    CHECK(!n.mit_on[MIT_XPTI]);
    CHECK(!smp_cpu_compatible(&n, &full, &skylake, why, sizeof(why)));
    CHECK(strncmp(why, "needs xpti (", 12) == 0);
    CHECK(strstr(why, "which the boot CPU runs without") != NULL);
}

static void a_mitigation_forced_off_by_hv_cfg_is_not_a_need(void)
{
    struct smp_needs n = needs_of(&alder_lake, &full, MIT_FORCE_OFF);
    char why[128];
    CHECK(smp_cpu_compatible(&n, &full, &skylake, why, sizeof(why)));
}

static void an_ap_that_cannot_do_the_boot_cpus_mitigation_is_refused(void)
{
    struct smp_needs n = needs_of(&skylake, &full, MIT_AUTO);
    char why[128];
    CHECK(n.mit_on[MIT_IBPB]);
    CHECK(!smp_cpu_compatible(&n, &full, &no_controls, why, sizeof(why)));
    CHECK(strncmp(why, "cannot do ibpb (", 16) == 0);
}

static void extra_mitigations_of_the_boot_cpu_are_kept(void)
{
    /* The boot CPU is Skylake (xpti, verw on); an Alder Lake AP would not
     * need them, but running them costs only time. */
    struct smp_needs n = needs_of(&skylake, &full, MIT_AUTO);
    char why[128];
    CHECK(n.mit_on[MIT_XPTI]);
    CHECK(smp_cpu_compatible(&n, &full, &alder_lake, why, sizeof(why)));
}

int main(void)
{
    check_suite = "smp_rules";
    RUN_TEST(every_enabled_ap_is_started_in_madt_order);
    RUN_TEST(the_boot_cpu_is_skipped_wherever_it_is_listed);
    RUN_TEST(cpus_n_counts_the_boot_cpu_and_names_the_rest);
    RUN_TEST(hot_plug_slots_are_not_started_nor_counted);
    RUN_TEST(low_pages_come_from_usable_memory_below_1_mib);
    RUN_TEST(a_range_across_1_mib_counts_only_below);
    RUN_TEST(the_same_cpu_is_accepted);
    RUN_TEST(a_missing_protection_the_boot_cpu_uses_is_refused);
    RUN_TEST(a_protection_the_boot_cpu_lacks_too_is_no_reason);
    RUN_TEST(an_ap_needing_a_mitigation_the_boot_cpu_skipped_is_refused);
    RUN_TEST(a_mitigation_forced_off_by_hv_cfg_is_not_a_need);
    RUN_TEST(an_ap_that_cannot_do_the_boot_cpus_mitigation_is_refused);
    RUN_TEST(extra_mitigations_of_the_boot_cpu_are_kept);
    return check_finish();
}
