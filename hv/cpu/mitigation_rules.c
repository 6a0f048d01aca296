/* The pure half of hv/cpu/mitigations.h: which mitigation a CPU needs, from
 * its facts, and what hv.cfg may force. No hardware access: unit-tested on
 * the host (tests/unit/test_mitigations.c).
 *
 * The rules are Linux's (arch/x86/kernel/cpu/common.c cpu_set_bug_bits,
 * bugs.c) and Xen's (xen/arch/x86/spec_ctrl.c), facts only; docs/design.md
 * ("Speculative execution") has the table with the sources. */
#include "hv/cpu/mitigations.h"

#include "lib/fmt.h"
#include "lib/string.h"

static const char *const names[MIT_COUNT] = {
    [MIT_XPTI] = "xpti",
    [MIT_PCID] = "pcid",
    [MIT_VERW] = "verw",
    [MIT_IBPB] = "ibpb",
    [MIT_RSB_FILL] = "rsb_fill",
    [MIT_SWAPGS_FENCE] = "swapgs_fence",
    [MIT_CLEAR_REGS] = "clear_regs",
    [MIT_ZENBLEED] = "zenbleed",
    [MIT_GDS] = "gds",
};

const char *mitigation_name(enum mitigation_id id)
{
    return (unsigned)id < MIT_COUNT ? names[id] : "?";
}

/* --- Intel family 6 models the rules single out ---------------------------
 * Kept small: only what changes a decision here. From Linux's
 * cpu_vuln_whitelist / cpu_vuln_blacklist (common.c) and Xen's
 * cpu_has_gds() (spec_ctrl.c); model numbers from intel-family.h. */
#define NO_SPECULATION 1u /* in-order Atoms: no speculative attack applies */
#define NO_MDS 2u         /* Goldmont Atoms: not affected by MDS */
#define NO_SWAPGS 4u      /* Silvermont/Airmont/Goldmont Atoms, Xeon Phi */
#define GDS_MODEL 8u      /* Skylake to Rocket Lake cores: affected by GDS */

static const struct {
    uint8_t model;
    uint8_t flags;
} intel_models[] = {
    {0x1c, NO_SPECULATION}, {0x26, NO_SPECULATION}, /* Bonnell */
    {0x27, NO_SPECULATION}, {0x35, NO_SPECULATION}, {0x36, NO_SPECULATION}, /* Saltwell */
    {0x37, NO_SWAPGS}, {0x4a, NO_SWAPGS}, {0x4d, NO_SWAPGS}, /* Silvermont */
    {0x4c, NO_SWAPGS}, {0x5a, NO_SWAPGS}, {0x75, NO_SWAPGS}, /* Airmont */
    {0x57, NO_SWAPGS}, {0x85, NO_SWAPGS},                    /* Xeon Phi KNL, KNM */
    {0x5c, NO_MDS | NO_SWAPGS}, {0x5f, NO_MDS | NO_SWAPGS},  /* Goldmont */
    {0x7a, NO_MDS | NO_SWAPGS},                              /* Goldmont Plus */
    {0x4e, GDS_MODEL}, {0x5e, GDS_MODEL}, {0x55, GDS_MODEL}, /* Skylake, Cascade Lake */
    {0x8e, GDS_MODEL}, {0x9e, GDS_MODEL},                    /* Kaby/Coffee Lake */
    {0xa5, GDS_MODEL}, {0xa6, GDS_MODEL},                    /* Comet Lake */
    {0x6a, GDS_MODEL}, {0x6c, GDS_MODEL}, {0x7e, GDS_MODEL}, /* Ice Lake */
    {0x8c, GDS_MODEL}, {0x8d, GDS_MODEL}, {0xa7, GDS_MODEL}, /* Tiger Lake, Rocket Lake */
};

static unsigned intel_model_flags(const struct cpu_facts *f)
{
    if (f->vendor != CPU_VENDOR_INTEL)
        return 0;
    if (f->family == 5)
        return NO_SPECULATION;
    if (f->family != 6)
        return 0;
    /* Comet Lake U stepping 0 is the one Comet Lake GDS spares (Linux). */
    if (f->model == 0xa6 && f->stepping == 0)
        return 0;
    for (size_t i = 0; i < sizeof(intel_models) / sizeof(intel_models[0]); i++)
        if (intel_models[i].model == f->model)
            return intel_models[i].flags;
    return 0;
}

static bool is_amd_like(const struct cpu_facts *f)
{
    return f->vendor == CPU_VENDOR_AMD || f->vendor == CPU_VENDOR_HYGON;
}

static bool cap(const struct cpu_facts *f, uint64_t bit)
{
    return f->arch_caps && (f->arch_caps_value & bit);
}

static bool has_ibpb(const struct cpu_facts *f)
{
    return f->spec_ctrl || f->amd_ibpb;
}

/* Zenbleed (CVE-2023-20593): AMD family 17h, the Zen 2 models of Linux's
 * amd_zenbleed list. */
static bool is_zen2(const struct cpu_facts *f)
{
    if (f->vendor != CPU_VENDOR_AMD || f->family != 0x17)
        return false;
    uint32_t m = f->model;
    return (m >= 0x30 && m <= 0x4f) || (m >= 0x60 && m <= 0x7f) || (m >= 0x90 && m <= 0x91) ||
           (m >= 0xa0 && m <= 0xaf);
}

/* What auto decides for one mitigation, and why. `d` holds the decisions
 * made so far (pcid and rsb_fill follow xpti and ibpb). */
struct verdict {
    bool on;
    bool affected; /* off only because nothing can be done: vulnerable */
    const char *why;
};

static struct verdict decide_xpti(const struct cpu_facts *f)
{
    if (is_amd_like(f))
        return (struct verdict){false, false, "AMD/Hygon: no Meltdown"};
    if (intel_model_flags(f) & NO_SPECULATION)
        return (struct verdict){false, false, "does not speculate"};
    if (cap(f, ARCH_CAP_RDCL_NO))
        return (struct verdict){false, false, "RDCL_NO: no Meltdown"};
    if (f->vendor == CPU_VENDOR_INTEL)
        return (struct verdict){true, false, "Meltdown: Intel, no RDCL_NO"};
    return (struct verdict){true, false, "Meltdown: no RDCL_NO"};
}

static struct verdict decide_verw(const struct cpu_facts *f)
{
    if (is_amd_like(f))
        return (struct verdict){false, false,
                                "AMD/Hygon: no MDS/TAA/RFDS"};
    if (f->vendor != CPU_VENDOR_INTEL)
        return (struct verdict){false, false, "not Intel: no MDS"};
    unsigned flags = intel_model_flags(f);
    if (flags & NO_SPECULATION)
        return (struct verdict){false, false, "does not speculate"};
    bool mds = !(flags & NO_MDS) && !cap(f, ARCH_CAP_MDS_NO);
    /* TAA: TSX present (or its control MSR: TSX may have been turned off
     * before hv started) and no TAA_NO. */
    bool taa = !cap(f, ARCH_CAP_TAA_NO) && (f->rtm || cap(f, ARCH_CAP_TSX_CTRL));
    /* RFDS: RFDS_CLEAR is enumerated on affected parts with the microcode
     * that makes VERW clear the register files. */
    bool rfds = cap(f, ARCH_CAP_RFDS_CLEAR) && !cap(f, ARCH_CAP_RFDS_NO);
    /* Without MD_CLEAR VERW clears nothing on bare metal, but a hypervisor
     * below hv (or newer microcode) may: Linux issues it anyway ("VMWERV"),
     * and so does hv. */
    if (mds)
        return (struct verdict){true, false, f->md_clear
                                ? "MDS: Intel, no MDS_NO"
                                : "MDS: Intel, no MDS_NO; no MD_CLEAR microcode"};
    if (taa)
        return (struct verdict){true, false, f->md_clear
                                ? "TAA: TSX, no TAA_NO"
                                : "TAA: TSX, no TAA_NO; no MD_CLEAR microcode"};
    if (rfds)
        return (struct verdict){true, false, "RFDS: RFDS_CLEAR"};
    /* MMIO stale data alone needs a guest that can read MMIO (Linux and
     * Xen clear only for guests with devices); hv's guests have none. */
    if (cap(f, ARCH_CAP_FB_CLEAR))
        return (struct verdict){false, false,
                                "MMIO stale data only (FB_CLEAR): guests have no MMIO"};
    return (struct verdict){false, false, "no MDS/TAA/RFDS"};
}

static struct verdict decide_ibpb(const struct cpu_facts *f)
{
    if (intel_model_flags(f) & NO_SPECULATION)
        return (struct verdict){false, false, "does not speculate"};
    if (!has_ibpb(f))
        return (struct verdict){false, false, "no IBPB"};
    return (struct verdict){true, false, "Spectre v2 between guests"};
}

/* The previous guest's return predictions must not steer the next guest's
 * returns (SpectreRSB/ret2spec across guests). IBPB clears them on Intel
 * (Xen: spec_ctrl_new_guest_context) and on AMD parts with IBPB_RET; AMD
 * parts without it keep them (XSA-422, CVE-2022-23824), and a CPU without
 * IBPB keeps everything. Overwriting the RSB is a loop of calls: any CPU. */
static struct verdict decide_rsb_fill(const struct cpu_facts *f, bool ibpb_on)
{
    if (intel_model_flags(f) & NO_SPECULATION)
        return (struct verdict){false, false, "does not speculate"};
    if (!ibpb_on)
        return (struct verdict){true, false, "no IBPB to clear the RSB"};
    if (is_amd_like(f) && !f->amd_ibpb_ret)
        return (struct verdict){true, false,
                                "IBPB keeps the RSB: no IBPB_RET"};
    return (struct verdict){false, false, "IBPB clears the RSB"};
}

/* CVE-2019-1125: a mispredicted conditional swapgs runs hv's GS loads with
 * the guest's GS base (or the reverse). Linux: Intel (not the Atoms of
 * NO_SWAPGS) is affected; AMD/Hygon update GS without speculating, but
 * without SMAP a speculative load through a guest-chosen GS base still
 * reaches guest memory, so Linux fences there too. XPTI's CR3 write on the
 * guest entry serialises, yet the entries from hv itself have none. */
static struct verdict decide_swapgs_fence(const struct cpu_facts *f)
{
    unsigned flags = intel_model_flags(f);
    if (flags & NO_SPECULATION)
        return (struct verdict){false, false, "does not speculate"};
    if (is_amd_like(f))
        return f->smap ? (struct verdict){false, false, "AMD/Hygon with SMAP"}
                       : (struct verdict){true, false, "AMD/Hygon without SMAP"};
    if (flags & NO_SWAPGS)
        return (struct verdict){false, false, "Atom: no SWAPGS variant"};
    return (struct verdict){true, false, "SWAPGS variant: Intel"};
}

static struct verdict decide_pcid(const struct cpu_facts *f, bool xpti_on)
{
    if (!xpti_on)
        return (struct verdict){false, false, "XPTI is off"};
    if (!f->pcid)
        return (struct verdict){false, false, "no PCID"};
    return (struct verdict){true, false, "keeps the TLB with XPTI"};
}

static struct verdict decide_zenbleed(const struct cpu_facts *f)
{
    if (!is_zen2(f))
        return (struct verdict){false, false, "not AMD Zen 2"};
    if (!f->avx)
        return (struct verdict){false, false, "Zen 2 without AVX"};
    if (f->hypervisor)
        return (struct verdict){false, false, "Zen 2 under a hypervisor: its job"};
    return (struct verdict){true, false, "Zenbleed: Zen 2"};
}

static struct verdict decide_gds(const struct cpu_facts *f)
{
    if (f->vendor != CPU_VENDOR_INTEL || f->family != 6)
        return (struct verdict){false, false, "not Intel family 6"};
    if (cap(f, ARCH_CAP_GDS_NO))
        return (struct verdict){false, false, "GDS_NO"};
    /* GDS_CTRL exists only on affected parts with the microcode (Xen). */
    if (cap(f, ARCH_CAP_GDS_CTRL))
        return (struct verdict){true, false, "GDS: GDS_CTRL, locked on"};
    if (!f->avx)
        return (struct verdict){false, false, "no AVX"};
    if (intel_model_flags(f) & GDS_MODEL)
        return (struct verdict){false, true, "GDS: no GDS_CTRL microcode"};
    return (struct verdict){false, false, "model not affected"};
}

/* Why forcing `on` cannot be done on this CPU, or NULL if it can. */
static const char *cannot_force_on(enum mitigation_id id, const struct cpu_facts *f)
{
    switch (id) {
    case MIT_PCID:
        return f->pcid ? NULL : "no PCID, CR4.PCIDE would #GP";
    case MIT_IBPB:
        return has_ibpb(f) ? NULL : "no IBPB, the MSR write would #GP";
    case MIT_ZENBLEED:
        if (f->vendor != CPU_VENDOR_AMD || f->family != 0x17)
            return "DE_CFG[9] is its fix on AMD family 17h only";
        return f->hypervisor ? "under a hypervisor, the DE_CFG write could #GP"
                             : NULL;
    case MIT_GDS:
        return cap(f, ARCH_CAP_GDS_CTRL)
                   ? NULL : "no GDS_CTRL, the MSR bits do not exist";
    default:
        return NULL; /* VERW, lfence, calls, xor, page tables: every x86-64 CPU */
    }
}

/* Performance or defence in depth: off leaves no known hole open. */
static bool off_is_harmless(enum mitigation_id id)
{
    return id == MIT_PCID || id == MIT_CLEAR_REGS;
}

static void settle(enum mitigation_id id, const struct cpu_facts *f, enum mitigation_setting s,
                   struct verdict v, struct mitigation_decision *out)
{
    *out = (struct mitigation_decision){
        .on = v.on,
        .source = MIT_DECIDED,
        .auto_on = v.on,
        .vulnerable = v.affected,
        .why = v.why,
    };
    if (s == MIT_FORCE_OFF) {
        out->on = false;
        out->source = MIT_FORCED;
        out->vulnerable = (v.on && !off_is_harmless(id)) || v.affected;
    } else if (s == MIT_FORCE_ON) {
        const char *cannot = cannot_force_on(id, f);
        if (cannot) {
            out->on = false;
            out->source = MIT_REFUSED;
            out->why = cannot;
        } else {
            out->on = true;
            out->source = MIT_FORCED;
            out->vulnerable = false;
        }
    }
}

void mitigations_decide(const struct cpu_facts *f, const enum mitigation_setting settings[MIT_COUNT],
                        struct mitigation_decision out[MIT_COUNT])
{
    settle(MIT_XPTI, f, settings[MIT_XPTI], decide_xpti(f), &out[MIT_XPTI]);
    settle(MIT_PCID, f, settings[MIT_PCID], decide_pcid(f, out[MIT_XPTI].on), &out[MIT_PCID]);
    settle(MIT_VERW, f, settings[MIT_VERW], decide_verw(f), &out[MIT_VERW]);
    settle(MIT_IBPB, f, settings[MIT_IBPB], decide_ibpb(f), &out[MIT_IBPB]);
    settle(MIT_RSB_FILL, f, settings[MIT_RSB_FILL], decide_rsb_fill(f, out[MIT_IBPB].on),
           &out[MIT_RSB_FILL]);
    settle(MIT_SWAPGS_FENCE, f, settings[MIT_SWAPGS_FENCE], decide_swapgs_fence(f),
           &out[MIT_SWAPGS_FENCE]);
    settle(MIT_CLEAR_REGS, f, settings[MIT_CLEAR_REGS],
           (struct verdict){true, false, "defence in depth"},
           &out[MIT_CLEAR_REGS]);
    settle(MIT_ZENBLEED, f, settings[MIT_ZENBLEED], decide_zenbleed(f), &out[MIT_ZENBLEED]);
    settle(MIT_GDS, f, settings[MIT_GDS], decide_gds(f), &out[MIT_GDS]);
}

static size_t describe(enum mitigation_id id, const struct mitigation_decision *d, char *buf,
                       size_t size)
{
    const char *name = mitigation_name(id);
    const char *state = d->on ? "on" : "off";
    switch (d->source) {
    case MIT_FORCED:
        if (d->on == d->auto_on)
            return fmt_format(buf, size, "%s %s (hv.cfg, as auto)", name, state);
        return fmt_format(buf, size, "%s %s (hv.cfg; auto: %s, %s)", name, state,
                          d->auto_on ? "on" : "off", d->why);
    case MIT_REFUSED:
        return fmt_format(buf, size, "%s off (hv.cfg's on refused: %s)", name, d->why);
    default:
        return fmt_format(buf, size, "%s %s (%s%s)", name, state,
                          d->vulnerable ? "VULNERABLE: " : "", d->why);
    }
}

size_t mitigation_describe(enum mitigation_id id, const struct mitigation_decision *d, char *buf,
                           size_t size)
{
    size_t n = describe(id, d, buf, size);
    return size == 0 ? 0 : n < size ? n : size - 1;
}

enum mitigation_id mitigation_by_name(const char *key)
{
    for (unsigned i = 0; i < MIT_COUNT; i++)
        if (strcmp(key, names[i]) == 0)
            return (enum mitigation_id)i;
    return MIT_COUNT;
}

bool mitigation_setting_parse(const char *value, enum mitigation_setting *out)
{
    static const char *const words[] = {[MIT_AUTO] = "auto", [MIT_FORCE_ON] = "on",
                                        [MIT_FORCE_OFF] = "off"};
    for (unsigned i = 0; i < 3; i++)
        if (strcmp(value, words[i]) == 0) {
            *out = (enum mitigation_setting)i;
            return true;
        }
    return false;
}

void mitigation_config_resolve(const struct mitigation_config *c,
                               enum mitigation_setting out[MIT_COUNT])
{
    for (unsigned i = 0; i < MIT_COUNT; i++)
        out[i] = c->given[i] ? c->each[i] : c->all;
}
