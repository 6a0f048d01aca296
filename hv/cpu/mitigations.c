/* The bare-metal half of hv/cpu/mitigations.h: the CPU's facts read with
 * CPUID (and IA32_ARCH_CAPABILITIES where CPUID says it exists), the
 * decision logged, the MSR mitigations applied, the guest-switch barriers
 * and the end-of-run summary. The rules are in mitigation_rules.c. */
#include "hv/cpu/mitigations.h"

#include "hv/console/log.h"
#include "hv/cpu/features.h"
#include "hv/cpu/x86.h"
#include "lib/fmt.h"
#include "lib/string.h"

#include <stdarg.h>

#define MSR_ARCH_CAPABILITIES 0x10au
#define MSR_PRED_CMD 0x49u
#define PRED_CMD_IBPB (1ull << 0)
#define MSR_MCU_OPT_CTRL 0x123u
#define MCU_OPT_CTRL_GDS_MITG_DIS (1ull << 4)
#define MCU_OPT_CTRL_GDS_MITG_LOCKED (1ull << 5)
#define MSR_AMD_DE_CFG 0xc0011029u
#define DE_CFG_ZEN2_FP_BACKUP_FIX (1ull << 9) /* Zenbleed's chicken bit */

static struct cpu_facts facts;
static struct mitigation_decision decided[MIT_COUNT];
bool mitigation_guest_switch_work;
static uint64_t ibpbs, rsb_fills;

bool mitigation_on(enum mitigation_id id)
{
    return (unsigned)id < MIT_COUNT && decided[id].on;
}

const struct cpu_facts *mitigation_cpu_facts(void)
{
    return &facts;
}

__attribute__((cold)) static enum cpu_vendor vendor_of(const char *id)
{
    if (strcmp(id, "GenuineIntel") == 0)
        return CPU_VENDOR_INTEL;
    if (strcmp(id, "AuthenticAMD") == 0)
        return CPU_VENDOR_AMD;
    if (strcmp(id, "HygonGenuine") == 0)
        return CPU_VENDOR_HYGON;
    return CPU_VENDOR_OTHER;
}

static enum mitigation_setting resolved[MIT_COUNT];

static void read_facts_into(struct cpu_facts *out);

__attribute__((cold)) static void read_facts(void)
{
    read_facts_into(&facts);
}

__attribute__((cold)) void mitigation_read_facts(struct cpu_facts *out)
{
    *out = (struct cpu_facts){0};
    read_facts_into(out);
}

__attribute__((cold)) void mitigations_boot_cpu(bool on[MIT_COUNT], enum mitigation_setting settings[MIT_COUNT])
{
    for (int i = 0; i < MIT_COUNT; i++) {
        on[i] = decided[i].on;
        settings[i] = resolved[i];
    }
}

__attribute__((cold)) static void read_facts_into(struct cpu_facts *out)
{
    const struct cpu_features *cf = cpu_features();
    out->vendor = vendor_of(cf->vendor);
    out->hypervisor = cf->hypervisor;

    struct cpuid_regs r = cpuid(1, 0);
    uint32_t family = r.eax >> 8 & 0xf, model = r.eax >> 4 & 0xf;
    if (family == 0xf)
        family += r.eax >> 20 & 0xff;
    if (family == 6 || family >= 0xf)
        model |= (r.eax >> 16 & 0xf) << 4;
    out->family = family;
    out->model = model;
    out->stepping = r.eax & 0xf;
    out->pcid = r.ecx >> 17 & 1;
    out->avx = r.ecx >> 28 & 1;

    if (cf->max_leaf >= 7) {
        r = cpuid(7, 0);
        out->hle = r.ebx >> 4 & 1;
        out->invpcid = r.ebx >> 10 & 1;
        out->rtm = r.ebx >> 11 & 1;
        out->smap = r.ebx >> 20 & 1;
        out->md_clear = r.edx >> 10 & 1;
        out->spec_ctrl = r.edx >> 26 & 1;
        out->stibp = r.edx >> 27 & 1;
        out->arch_caps = r.edx >> 29 & 1;
        out->ssbd = r.edx >> 31 & 1;
    }
    if (cpuid(0x80000000u, 0).eax >= 0x80000008u) {
        r = cpuid(0x80000008u, 0);
        out->amd_ibpb = r.ebx >> 12 & 1;
        out->stibp |= r.ebx >> 15 & 1;
        out->ssbd |= r.ebx >> 24 & 1;
        out->amd_ibpb_ret = r.ebx >> 30 & 1;
    }
    /* Only when CPUID says it exists: reading it elsewhere would #GP. */
    out->arch_caps_value = out->arch_caps ? rdmsr(MSR_ARCH_CAPABILITIES) : 0;
}

/* Appends to a line, which stays NUL-terminated and within its size. */
struct line {
    char text[240];
    size_t len;
};

static void __attribute__((format(printf, 2, 3))) line_add(struct line *l, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t n = fmt_vformat(l->text + l->len, sizeof(l->text) - l->len, fmt, ap);
    va_end(ap);
    l->len += n < sizeof(l->text) - l->len ? n : sizeof(l->text) - l->len - 1;
}

/* One short line: at boot every character is drawn on the screen, and
 * boot_first_guest counts them (docs/benchmarks.md). Only what the CPU has
 * is named. */
__attribute__((cold)) static void log_facts(void)
{
    static const char *const vendors[] = {"other", "Intel", "AMD", "Hygon"};
    const struct {
        bool has;
        const char *name;
    } named[] = {
        {facts.spec_ctrl || facts.amd_ibpb, " IBPB"}, {facts.amd_ibpb_ret, " IBPB_RET"},
        {facts.stibp, " STIBP"}, {facts.ssbd, " SSBD"}, {facts.md_clear, " MD_CLEAR"},
        {facts.pcid, " PCID"}, {facts.invpcid, " INVPCID"}, {facts.rtm, " RTM"},
        {facts.avx, " AVX"}, {facts.smap, " SMAP"},
    };
    struct line has = {.len = 0};
    has.text[0] = '\0';
    for (size_t i = 0; i < sizeof(named) / sizeof(named[0]); i++)
        if (named[i].has)
            line_add(&has, "%s", named[i].name);
    if (facts.arch_caps)
        line_add(&has, "; ARCH_CAPABILITIES 0x%lx", (unsigned long)facts.arch_caps_value);
    log_info("spec: cpu %s family 0x%x model 0x%x stepping %u%s; has%s", vendors[facts.vendor],
             facts.family, facts.model, facts.stepping, facts.hypervisor ? ", hypervisor" : "",
             has.len ? has.text : " none");
}

/* Zenbleed: set DE_CFG's chicken bit. Set whatever the microcode: reading
 * the patch level to skip it is model-specific, and the bit costs little. */
__attribute__((cold)) static void apply_zenbleed(void)
{
    wrmsr(MSR_AMD_DE_CFG, rdmsr(MSR_AMD_DE_CFG) | DE_CFG_ZEN2_FP_BACKUP_FIX);
}

/* GDS: the microcode's mitigation on (GDS_MITG_DIS clear), then locked so
 * nothing later can turn it off. Firmware may have locked it already. */
__attribute__((cold)) static void apply_gds(void)
{
    uint64_t v = rdmsr(MSR_MCU_OPT_CTRL);
    if (v & MCU_OPT_CTRL_GDS_MITG_LOCKED) {
        if (v & MCU_OPT_CTRL_GDS_MITG_DIS) {
            decided[MIT_GDS].on = false;
            log_warn("spec: gds: locked off by the firmware (MCU_OPT_CTRL 0x%lx)",
                     (unsigned long)v);
        }
        return;
    }
    wrmsr(MSR_MCU_OPT_CTRL, (v & ~MCU_OPT_CTRL_GDS_MITG_DIS) | MCU_OPT_CTRL_GDS_MITG_LOCKED);
}

__attribute__((cold)) void mitigations_init(const struct mitigation_config *config)
{
    mitigation_config_resolve(config, resolved);
    read_facts();
    mitigations_decide(&facts, resolved, decided);
    if (decided[MIT_ZENBLEED].on)
        apply_zenbleed();
    if (decided[MIT_GDS].on)
        apply_gds();
    mitigation_guest_switch_work = decided[MIT_IBPB].on || decided[MIT_RSB_FILL].on;
}

__attribute__((cold)) const char *mitigations_apply_ap(void)
{
    if (decided[MIT_ZENBLEED].on)
        apply_zenbleed();
    if (decided[MIT_GDS].on) {
        uint64_t v = rdmsr(MSR_MCU_OPT_CTRL);
        if ((v & MCU_OPT_CTRL_GDS_MITG_LOCKED) && (v & MCU_OPT_CTRL_GDS_MITG_DIS))
            return "the firmware locked the GDS mitigation off";
        if (!(v & MCU_OPT_CTRL_GDS_MITG_LOCKED))
            wrmsr(MSR_MCU_OPT_CTRL,
                  (v & ~MCU_OPT_CTRL_GDS_MITG_DIS) | MCU_OPT_CTRL_GDS_MITG_LOCKED);
    }
    return NULL;
}

__attribute__((cold)) void mitigations_log(void)
{
    log_facts();
    for (unsigned i = 0; i < MIT_COUNT; i++) {
        char line[200];
        mitigation_describe((enum mitigation_id)i, &decided[i], line, sizeof(line));
        if (decided[i].source == MIT_REFUSED || decided[i].vulnerable)
            log_warn("spec: %s", line);
        else
            log_info("spec: %s", line);
    }
}

/* Overwrites every RSB entry (32 on the largest parts) with a return to a
 * speculation trap, then drops the 32 return addresses from the stack.
 * Linux's FILL_RETURN_BUFFER does the same; the lfence keeps what follows
 * from running speculatively before the fill is done. */
static inline void rsb_fill(void)
{
    /* Unrolled: 32 calls and one stack adjustment (34 instructions), where
     * a loop of 16 rounds paid a decrement and a branch per round (67). The
     * RSB ends up the same: 32 entries, each a return to an int3. */
    __asm__ volatile(".rept 32\n"
                     "call 771f\n"
                     "int3\n" /* reached only speculatively, by a ret that used the entry */
                     "771:\n"
                     ".endr\n"
                     "add $(32 * 8), %%rsp\n"
                     "lfence\n"
                     : : : "memory", "cc");
}

void mitigations_guest_switch(void)
{
    if (decided[MIT_IBPB].on) {
        wrmsr(MSR_PRED_CMD, PRED_CMD_IBPB);
        ibpbs++;
    }
    if (decided[MIT_RSB_FILL].on) {
        rsb_fill();
        rsb_fills++;
    }
}

__attribute__((cold)) void mitigations_report(void)
{
    struct line on = {.len = 0}, off = {.len = 0};
    on.text[0] = off.text[0] = '\0';
    for (unsigned i = 0; i < MIT_COUNT; i++) {
        struct line *l = decided[i].on ? &on : &off;
        line_add(l, "%s%s", l->len ? ", " : "", mitigation_name((enum mitigation_id)i));
        if (decided[i].on && i == MIT_IBPB)
            line_add(l, " (%lu barriers)", (unsigned long)ibpbs);
        if (decided[i].on && i == MIT_RSB_FILL)
            line_add(l, " (%lu fills)", (unsigned long)rsb_fills);
    }
    log_info("spec: used: %s; not used: %s", on.len ? on.text : "none",
             off.len ? off.text : "none");
}
