/* hv/cpu/mitigation_rules.c: a table of CPUs (their CPUID and
 * IA32_ARCH_CAPABILITIES facts) in, each mitigation's on/off and reason
 * out; then what hv.cfg may force and what it may not. */
#include "check.h"
#include "hv/cpu/mitigations.h"

/* --- The CPUs ------------------------------------------------------------ */

/* What a Skylake-era Intel core with post-2019 microcode reports. */
#define INTEL_CORE_CPUID                                                                      \
    .vendor = CPU_VENDOR_INTEL, .family = 6, .pcid = true, .invpcid = true, .smap = true,      \
    .avx = true, .md_clear = true, .spec_ctrl = true, .stibp = true, .ssbd = true

static const struct cpu_facts skylake = {
    INTEL_CORE_CPUID, .model = 0x5e, .stepping = 3, .rtm = true, .hle = true,
    /* No IA32_ARCH_CAPABILITIES: nothing says "not affected". */
};

static const struct cpu_facts cascade_lake = {
    INTEL_CORE_CPUID, .model = 0x55, .stepping = 7, .rtm = true, .hle = true, .arch_caps = true,
    .arch_caps_value = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_MDS_NO | ARCH_CAP_TSX_CTRL |
                       ARCH_CAP_GDS_CTRL,
};

static const struct cpu_facts ice_lake_server = {
    INTEL_CORE_CPUID, .model = 0x6a, .stepping = 6, .arch_caps = true,
    .arch_caps_value = ARCH_CAP_RDCL_NO | ARCH_CAP_IBRS_ALL | ARCH_CAP_MDS_NO | ARCH_CAP_TAA_NO |
                       ARCH_CAP_FB_CLEAR | ARCH_CAP_PBRSB_NO | ARCH_CAP_GDS_CTRL,
};

/* Goldmont (Apollo Lake), with the March 2024 microcode. */
static const struct cpu_facts atom_goldmont = {
    .vendor = CPU_VENDOR_INTEL, .family = 6, .model = 0x5c, .stepping = 9, .smap = true,
    .md_clear = true, .spec_ctrl = true, .stibp = true, .ssbd = true, .arch_caps = true,
    .arch_caps_value = ARCH_CAP_RFDS_CLEAR,
};

/* Saltwell (Cedarview): in order, no speculation to attack. */
static const struct cpu_facts atom_saltwell = {
    .vendor = CPU_VENDOR_INTEL, .family = 6, .model = 0x36, .stepping = 1,
};

#define AMD_ZEN_CPUID .vendor = CPU_VENDOR_AMD, .smap = true, .avx = true, .amd_ibpb = true, \
                      .stibp = true, .ssbd = true

static const struct cpu_facts zen1 = {AMD_ZEN_CPUID, .family = 0x17, .model = 0x01, .stepping = 1};
static const struct cpu_facts zen2 = {AMD_ZEN_CPUID, .family = 0x17, .model = 0x31, .stepping = 0};
static const struct cpu_facts zen3 = {
    AMD_ZEN_CPUID, .family = 0x19, .model = 0x01, .stepping = 1, .pcid = true, .invpcid = true,
    .amd_ibpb_ret = true,
};
static const struct cpu_facts hygon = {
    .vendor = CPU_VENDOR_HYGON, .family = 0x18, .model = 0x00, .stepping = 1, .smap = true,
    .avx = true, .amd_ibpb = true,
};

/* Ivy Bridge without microcode updates: none of the controls. */
static const struct cpu_facts no_controls = {
    .vendor = CPU_VENDOR_INTEL, .family = 6, .model = 0x3a, .stepping = 9, .smap = false,
    .avx = true,
};

/* QEMU 7.2 TCG `-cpu max` (AuthenticAMD) and `-cpu max,vendor=GenuineIntel`,
 * as hv logs them: family 0xf model 0x6b, none of the controls. */
static const struct cpu_facts tcg_max_amd = {
    .vendor = CPU_VENDOR_AMD, .family = 0xf, .model = 0x6b, .stepping = 1, .hypervisor = true,
    .smap = true, .avx = true,
};
static const struct cpu_facts tcg_max_intel = {
    .vendor = CPU_VENDOR_INTEL, .family = 0xf, .model = 0x6b, .stepping = 1, .hypervisor = true,
    .smap = true, .avx = true,
};

struct cpu_case {
    const char *name;
    const struct cpu_facts *facts;
    bool on[MIT_COUNT];
    const char *why[MIT_COUNT]; /* a part of the reason that must be there (NULL: any) */
    bool vulnerable[MIT_COUNT];
};

static const struct cpu_case cases[] = {
    {"skylake", &skylake,
     {[MIT_XPTI] = true, [MIT_PCID] = true, [MIT_VERW] = true, [MIT_IBPB] = true,
      [MIT_SWAPGS_FENCE] = true, [MIT_CLEAR_REGS] = true},
     {[MIT_XPTI] = "Meltdown: Intel, no RDCL_NO", [MIT_PCID] = "keeps the TLB",
      [MIT_VERW] = "MDS: Intel, no MDS_NO", [MIT_RSB_FILL] = "IBPB clears the RSB",
      [MIT_SWAPGS_FENCE] = "SWAPGS variant", [MIT_GDS] = "no GDS_CTRL microcode"},
     {[MIT_GDS] = true}},
    {"cascade_lake", &cascade_lake,
     {[MIT_VERW] = true, [MIT_IBPB] = true, [MIT_SWAPGS_FENCE] = true, [MIT_CLEAR_REGS] = true,
      [MIT_GDS] = true},
     {[MIT_XPTI] = "RDCL_NO", [MIT_PCID] = "XPTI is off", [MIT_VERW] = "TAA",
      [MIT_GDS] = "GDS_CTRL, locked on"},
     {0}},
    {"ice_lake_server", &ice_lake_server,
     {[MIT_IBPB] = true, [MIT_SWAPGS_FENCE] = true, [MIT_CLEAR_REGS] = true, [MIT_GDS] = true},
     {[MIT_XPTI] = "RDCL_NO", [MIT_VERW] = "FB_CLEAR"},
     {0}},
    {"atom_goldmont", &atom_goldmont,
     {[MIT_XPTI] = true, [MIT_VERW] = true, [MIT_IBPB] = true, [MIT_CLEAR_REGS] = true},
     {[MIT_PCID] = "no PCID", [MIT_VERW] = "RFDS", [MIT_SWAPGS_FENCE] = "Atom",
      [MIT_GDS] = "no AVX"},
     {0}},
    {"atom_saltwell", &atom_saltwell,
     {[MIT_CLEAR_REGS] = true},
     {[MIT_XPTI] = "does not speculate", [MIT_VERW] = "does not speculate",
      [MIT_IBPB] = "does not speculate", [MIT_RSB_FILL] = "does not speculate",
      [MIT_SWAPGS_FENCE] = "does not speculate"},
     {0}},
    {"zen1", &zen1,
     {[MIT_IBPB] = true, [MIT_RSB_FILL] = true, [MIT_CLEAR_REGS] = true},
     {[MIT_XPTI] = "AMD/Hygon: no Meltdown", [MIT_VERW] = "AMD/Hygon: no MDS",
      [MIT_RSB_FILL] = "no IBPB_RET", [MIT_SWAPGS_FENCE] = "with SMAP",
      [MIT_ZENBLEED] = "not AMD Zen 2"},
     {0}},
    {"zen2", &zen2,
     {[MIT_IBPB] = true, [MIT_RSB_FILL] = true, [MIT_CLEAR_REGS] = true, [MIT_ZENBLEED] = true},
     {[MIT_ZENBLEED] = "Zenbleed", [MIT_GDS] = "not Intel"},
     {0}},
    {"zen3", &zen3,
     {[MIT_IBPB] = true, [MIT_CLEAR_REGS] = true},
     {[MIT_RSB_FILL] = "IBPB clears the RSB", [MIT_PCID] = "XPTI is off"},
     {0}},
    {"hygon", &hygon,
     {[MIT_IBPB] = true, [MIT_RSB_FILL] = true, [MIT_CLEAR_REGS] = true},
     {[MIT_XPTI] = "Hygon", [MIT_RSB_FILL] = "no IBPB_RET", [MIT_ZENBLEED] = "not AMD Zen 2"},
     {0}},
    {"no_controls", &no_controls,
     {[MIT_XPTI] = true, [MIT_VERW] = true, [MIT_RSB_FILL] = true, [MIT_SWAPGS_FENCE] = true,
      [MIT_CLEAR_REGS] = true},
     {[MIT_PCID] = "no PCID", [MIT_VERW] = "no MD_CLEAR", [MIT_IBPB] = "no IBPB",
      [MIT_RSB_FILL] = "no IBPB to clear the RSB", [MIT_GDS] = "model not affected"},
     {0}},
    {"tcg_max_amd", &tcg_max_amd,
     {[MIT_RSB_FILL] = true, [MIT_CLEAR_REGS] = true},
     {[MIT_XPTI] = "AMD", [MIT_IBPB] = "no IBPB", [MIT_ZENBLEED] = "not AMD Zen 2",
      [MIT_GDS] = "not Intel family 6"},
     {0}},
    {"tcg_max_intel", &tcg_max_intel,
     {[MIT_XPTI] = true, [MIT_VERW] = true, [MIT_RSB_FILL] = true, [MIT_SWAPGS_FENCE] = true,
      [MIT_CLEAR_REGS] = true},
     {[MIT_XPTI] = "Meltdown", [MIT_PCID] = "no PCID", [MIT_VERW] = "no MD_CLEAR",
      [MIT_IBPB] = "no IBPB", [MIT_GDS] = "not Intel family 6"},
     {0}},
};

static const enum mitigation_setting all_auto[MIT_COUNT] = {0};

static void check_case(const struct cpu_case *c)
{
    struct mitigation_decision d[MIT_COUNT];
    mitigations_decide(c->facts, all_auto, d);
    for (unsigned i = 0; i < MIT_COUNT; i++) {
        if (d[i].on != c->on[i] || d[i].source != MIT_DECIDED || d[i].auto_on != d[i].on ||
            d[i].vulnerable != c->vulnerable[i] || !d[i].why ||
            (c->why[i] && !strstr(d[i].why, c->why[i]))) {
            printf("  %s: %s %s (%s)%s, expected %s%s%s\n", c->name, mitigation_name(i),
                   d[i].on ? "on" : "off", d[i].why ? d[i].why : "(null)",
                   d[i].vulnerable ? " vulnerable" : "", c->on[i] ? "on" : "off",
                   c->why[i] ? ", with " : "", c->why[i] ? c->why[i] : "");
            check_case_failed = 1;
        }
    }
}

static void every_cpu_of_the_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        check_case(&cases[i]);
}

/* The cases the table's CPUs do not reach. */
static void variants(void)
{
    struct mitigation_decision d[MIT_COUNT];
    struct cpu_facts f;

    /* Cascade Lake with TSX off for good (TAA_NO): no VERW. */
    f = cascade_lake;
    f.arch_caps_value |= ARCH_CAP_TAA_NO;
    mitigations_decide(&f, all_auto, d);
    CHECK(!d[MIT_VERW].on);
    /* ...and with TSX disabled through TSX_CTRL before hv ran (no RTM in
     * CPUID, TAA_NO clear): still VERW, as Linux decides. */
    f = cascade_lake;
    f.rtm = false;
    mitigations_decide(&f, all_auto, d);
    CHECK(d[MIT_VERW].on && strstr(d[MIT_VERW].why, "TAA"));

    /* Zen 2 under a hypervisor: DE_CFG is the hypervisor's. Without AVX:
     * not affected. */
    f = zen2;
    f.hypervisor = true;
    mitigations_decide(&f, all_auto, d);
    CHECK(!d[MIT_ZENBLEED].on && strstr(d[MIT_ZENBLEED].why, "hypervisor"));
    f = zen2;
    f.avx = false;
    mitigations_decide(&f, all_auto, d);
    CHECK(!d[MIT_ZENBLEED].on && strstr(d[MIT_ZENBLEED].why, "without AVX"));
    /* The edges of the Zen 2 ranges. */
    f = zen2;
    f.model = 0x4f;
    mitigations_decide(&f, all_auto, d);
    CHECK(d[MIT_ZENBLEED].on);
    f.model = 0x50;
    mitigations_decide(&f, all_auto, d);
    CHECK(!d[MIT_ZENBLEED].on);
    f.model = 0xa0;
    mitigations_decide(&f, all_auto, d);
    CHECK(d[MIT_ZENBLEED].on);
    f.family = 0x19; /* Zen 3 numbers are not Zen 2 */
    mitigations_decide(&f, all_auto, d);
    CHECK(!d[MIT_ZENBLEED].on);

    /* GDS: GDS_NO wins; an affected model without AVX cannot gather;
     * Comet Lake U stepping 0 is not affected. */
    f = skylake;
    f.arch_caps = true;
    f.arch_caps_value = ARCH_CAP_GDS_NO;
    mitigations_decide(&f, all_auto, d);
    CHECK(!d[MIT_GDS].on && !d[MIT_GDS].vulnerable && strstr(d[MIT_GDS].why, "GDS_NO"));
    f = skylake;
    f.avx = false;
    mitigations_decide(&f, all_auto, d);
    CHECK(!d[MIT_GDS].on && !d[MIT_GDS].vulnerable);
    f = skylake;
    f.model = 0xa6;
    f.stepping = 0;
    mitigations_decide(&f, all_auto, d);
    CHECK(!d[MIT_GDS].vulnerable);
    f.stepping = 1;
    mitigations_decide(&f, all_auto, d);
    CHECK(d[MIT_GDS].vulnerable);

    /* An AMD part without SMAP (Bulldozer): the swapgs path is fenced. */
    f = zen1;
    f.family = 0x15;
    f.smap = false;
    mitigations_decide(&f, all_auto, d);
    CHECK(d[MIT_SWAPGS_FENCE].on && strstr(d[MIT_SWAPGS_FENCE].why, "without SMAP"));

    /* Another vendor (Zhaoxin, Centaur): Meltdown unless RDCL_NO. */
    f = no_controls;
    f.vendor = CPU_VENDOR_OTHER;
    mitigations_decide(&f, all_auto, d);
    CHECK(d[MIT_XPTI].on && !d[MIT_VERW].on);
    f.arch_caps = true;
    f.arch_caps_value = ARCH_CAP_RDCL_NO;
    mitigations_decide(&f, all_auto, d);
    CHECK(!d[MIT_XPTI].on);

    /* A value in IA32_ARCH_CAPABILITIES without the CPUID bit is not
     * believed (hv never reads the MSR then). */
    f = skylake;
    f.arch_caps_value = ARCH_CAP_RDCL_NO | ARCH_CAP_MDS_NO;
    mitigations_decide(&f, all_auto, d);
    CHECK(d[MIT_XPTI].on && d[MIT_VERW].on);
}

/* --- Forcing ------------------------------------------------------------- */

static void forced_on_refused_where_the_cpu_cannot(void)
{
    struct mitigation_decision d[MIT_COUNT];
    enum mitigation_setting s[MIT_COUNT] = {[MIT_IBPB] = MIT_FORCE_ON, [MIT_PCID] = MIT_FORCE_ON,
                                            [MIT_ZENBLEED] = MIT_FORCE_ON,
                                            [MIT_GDS] = MIT_FORCE_ON};
    mitigations_decide(&tcg_max_amd, s, d);
    CHECK(!d[MIT_IBPB].on && d[MIT_IBPB].source == MIT_REFUSED);
    CHECK(strstr(d[MIT_IBPB].why, "no IBPB") && strstr(d[MIT_IBPB].why, "#GP"));
    CHECK(!d[MIT_PCID].on && d[MIT_PCID].source == MIT_REFUSED);
    CHECK(!d[MIT_ZENBLEED].on && d[MIT_ZENBLEED].source == MIT_REFUSED);
    CHECK(!d[MIT_GDS].on && d[MIT_GDS].source == MIT_REFUSED);
    /* The refusal of ibpb leaves the RSB fill as auto decides without it. */
    CHECK(d[MIT_RSB_FILL].on && d[MIT_RSB_FILL].source == MIT_DECIDED);

    /* Zen 2 under a hypervisor: DE_CFG may not be there. */
    struct cpu_facts f = zen2;
    f.hypervisor = true;
    mitigations_decide(&f, s, d);
    CHECK(d[MIT_ZENBLEED].source == MIT_REFUSED && strstr(d[MIT_ZENBLEED].why, "hypervisor"));
    /* On a Skylake (no GDS_CTRL) gds is refused; Zenbleed's bit is AMD's. */
    mitigations_decide(&skylake, s, d);
    CHECK(d[MIT_GDS].source == MIT_REFUSED && strstr(d[MIT_GDS].why, "GDS_CTRL"));
    CHECK(d[MIT_ZENBLEED].source == MIT_REFUSED && strstr(d[MIT_ZENBLEED].why, "family 17h"));
    CHECK(d[MIT_IBPB].on && d[MIT_IBPB].source == MIT_FORCED);
    CHECK(d[MIT_PCID].on && d[MIT_PCID].source == MIT_FORCED);
}

static void forced_on_granted_where_any_cpu_can(void)
{
    struct mitigation_decision d[MIT_COUNT];
    enum mitigation_setting s[MIT_COUNT];
    for (unsigned i = 0; i < MIT_COUNT; i++)
        s[i] = MIT_FORCE_ON;
    /* VERW, lfence, the fill, clearing and XPTI run on every x86-64 CPU. */
    mitigations_decide(&tcg_max_amd, s, d);
    static const enum mitigation_id anywhere[] = {MIT_XPTI, MIT_VERW, MIT_RSB_FILL,
                                                  MIT_SWAPGS_FENCE, MIT_CLEAR_REGS};
    for (size_t i = 0; i < sizeof(anywhere) / sizeof(anywhere[0]); i++) {
        CHECK(d[anywhere[i]].on && d[anywhere[i]].source == MIT_FORCED);
        CHECK(!d[anywhere[i]].vulnerable);
    }
    CHECK(!d[MIT_XPTI].auto_on); /* AMD: auto would have said off */
    /* Zen 2 on bare metal, Cascade Lake with GDS_CTRL: granted. */
    mitigations_decide(&zen1, s, d);
    CHECK(d[MIT_ZENBLEED].on && d[MIT_ZENBLEED].source == MIT_FORCED);
    mitigations_decide(&cascade_lake, s, d);
    CHECK(d[MIT_GDS].on && d[MIT_GDS].source == MIT_FORCED);
    /* XPTI forced on an AMD part with PCID: pcid's auto follows it. */
    enum mitigation_setting xpti_only[MIT_COUNT] = {[MIT_XPTI] = MIT_FORCE_ON};
    mitigations_decide(&zen3, xpti_only, d);
    CHECK(d[MIT_XPTI].on && d[MIT_PCID].on && d[MIT_PCID].source == MIT_DECIDED);
}

static void forced_off(void)
{
    struct mitigation_decision d[MIT_COUNT];
    enum mitigation_setting s[MIT_COUNT] = {[MIT_XPTI] = MIT_FORCE_OFF, [MIT_IBPB] = MIT_FORCE_OFF,
                                            [MIT_CLEAR_REGS] = MIT_FORCE_OFF};
    mitigations_decide(&skylake, s, d);
    CHECK(!d[MIT_XPTI].on && d[MIT_XPTI].source == MIT_FORCED && d[MIT_XPTI].auto_on);
    CHECK(d[MIT_XPTI].vulnerable); /* Meltdown left open: a warning */
    CHECK(!d[MIT_PCID].on);        /* follows xpti */
    /* Without IBPB the RSB fill takes over clearing return predictions. */
    CHECK(!d[MIT_IBPB].on && d[MIT_IBPB].vulnerable);
    CHECK(d[MIT_RSB_FILL].on && d[MIT_RSB_FILL].source == MIT_DECIDED);
    /* Clearing registers is defence in depth: off is not a hole. */
    CHECK(!d[MIT_CLEAR_REGS].on && !d[MIT_CLEAR_REGS].vulnerable);
    /* Off where auto is off too: nothing is left open. */
    enum mitigation_setting zen_off[MIT_COUNT] = {[MIT_XPTI] = MIT_FORCE_OFF};
    mitigations_decide(&zen3, zen_off, d);
    CHECK(!d[MIT_XPTI].vulnerable);
}

static void describe_lines(void)
{
    struct mitigation_decision d[MIT_COUNT];
    char buf[200];
    mitigations_decide(&skylake, all_auto, d);
    mitigation_describe(MIT_XPTI, &d[MIT_XPTI], buf, sizeof(buf));
    CHECK_STR_EQ(buf, "xpti on (Meltdown: Intel, no RDCL_NO)");
    mitigation_describe(MIT_GDS, &d[MIT_GDS], buf, sizeof(buf));
    CHECK_STR_EQ(buf, "gds off (VULNERABLE: GDS: no GDS_CTRL microcode)");

    enum mitigation_setting s[MIT_COUNT] = {[MIT_XPTI] = MIT_FORCE_OFF, [MIT_VERW] = MIT_FORCE_ON};
    mitigations_decide(&skylake, s, d);
    mitigation_describe(MIT_XPTI, &d[MIT_XPTI], buf, sizeof(buf));
    CHECK_STR_EQ(buf, "xpti off (hv.cfg; auto: on, Meltdown: Intel, no RDCL_NO)");
    mitigation_describe(MIT_VERW, &d[MIT_VERW], buf, sizeof(buf));
    CHECK_STR_EQ(buf, "verw on (hv.cfg, as auto)");

    enum mitigation_setting ibpb_on[MIT_COUNT] = {[MIT_IBPB] = MIT_FORCE_ON};
    mitigations_decide(&tcg_max_intel, ibpb_on, d);
    mitigation_describe(MIT_IBPB, &d[MIT_IBPB], buf, sizeof(buf));
    CHECK_STR_EQ(buf, "ibpb off (hv.cfg's on refused: no IBPB, the MSR write would #GP)");

    /* Cut to the buffer, and the length says what is there. */
    char small[12];
    size_t n = mitigation_describe(MIT_IBPB, &d[MIT_IBPB], small, sizeof(small));
    CHECK_EQ_U64(n, strlen(small));
    CHECK_STR_EQ(small, "ibpb off (h");
    CHECK_EQ_U64(mitigation_describe(MIT_IBPB, &d[MIT_IBPB], small, 0), 0);
}

/* --- hv.cfg -------------------------------------------------------------- */

static void names_and_values(void)
{
    for (unsigned i = 0; i < MIT_COUNT; i++)
        CHECK_EQ_U64(mitigation_by_name(mitigation_name(i)), i);
    CHECK_STR_EQ(mitigation_name(MIT_RSB_FILL), "rsb_fill");
    CHECK_STR_EQ(mitigation_name(MIT_SWAPGS_FENCE), "swapgs_fence");
    CHECK_EQ_U64(mitigation_by_name("mitigations"), MIT_COUNT);
    CHECK_EQ_U64(mitigation_by_name("XPTI"), MIT_COUNT);
    CHECK_EQ_U64(mitigation_by_name(""), MIT_COUNT);
    CHECK_STR_EQ(mitigation_name(MIT_COUNT), "?");

    enum mitigation_setting m = MIT_FORCE_OFF;
    CHECK(mitigation_setting_parse("auto", &m) && m == MIT_AUTO);
    CHECK(mitigation_setting_parse("on", &m) && m == MIT_FORCE_ON);
    CHECK(mitigation_setting_parse("off", &m) && m == MIT_FORCE_OFF);
    m = MIT_FORCE_ON;
    CHECK(!mitigation_setting_parse("yes", &m) && m == MIT_FORCE_ON);
    CHECK(!mitigation_setting_parse("On", &m));
    CHECK(!mitigation_setting_parse("", &m));
    CHECK(!mitigation_setting_parse("offf", &m));
}

static void master_setting_and_overrides(void)
{
    struct mitigation_config c = {.all = MIT_FORCE_OFF};
    c.each[MIT_IBPB] = MIT_FORCE_ON;
    c.given[MIT_IBPB] = true;
    c.each[MIT_VERW] = MIT_AUTO; /* given as auto: auto, whatever `mitigations` says */
    c.given[MIT_VERW] = true;
    enum mitigation_setting s[MIT_COUNT];
    mitigation_config_resolve(&c, s);
    for (unsigned i = 0; i < MIT_COUNT; i++)
        CHECK_EQ_U64(s[i], i == MIT_IBPB ? MIT_FORCE_ON : i == MIT_VERW ? MIT_AUTO : MIT_FORCE_OFF);

    struct mitigation_decision d[MIT_COUNT];
    mitigations_decide(&skylake, s, d);
    for (unsigned i = 0; i < MIT_COUNT; i++)
        CHECK(d[i].on == (i == MIT_IBPB || i == MIT_VERW));

    /* `mitigations = on` on QEMU's TCG: what the CPU cannot do is refused. */
    struct mitigation_config on = {.all = MIT_FORCE_ON};
    mitigation_config_resolve(&on, s);
    mitigations_decide(&tcg_max_amd, s, d);
    for (unsigned i = 0; i < MIT_COUNT; i++) {
        bool cannot = i == MIT_PCID || i == MIT_IBPB || i == MIT_ZENBLEED || i == MIT_GDS;
        CHECK(d[i].on == !cannot);
        CHECK(d[i].source == (cannot ? MIT_REFUSED : MIT_FORCED));
    }

    struct mitigation_config none = {.all = MIT_AUTO};
    mitigation_config_resolve(&none, s);
    for (unsigned i = 0; i < MIT_COUNT; i++)
        CHECK_EQ_U64(s[i], MIT_AUTO);
}

int main(void)
{
    check_suite = "mitigations";
    RUN_TEST(every_cpu_of_the_table);
    RUN_TEST(variants);
    RUN_TEST(forced_on_refused_where_the_cpu_cannot);
    RUN_TEST(forced_on_granted_where_any_cpu_can);
    RUN_TEST(forced_off);
    RUN_TEST(describe_lines);
    RUN_TEST(names_and_values);
    RUN_TEST(master_setting_and_overrides);
    return check_finish();
}
