/* Speculative-execution mitigations: which ones this CPU needs, decided
 * once at boot from what the CPU reports (CPUID, IA32_ARCH_CAPABILITIES)
 * and what hv.cfg forces, logged one line each with the reason, and
 * reported again in the end-of-run summary.
 *
 * The decision (mitigations_decide) is pure and unit-tested on the host
 * with tables of CPU facts; mitigations_init reads the facts on the CPU,
 * decides and applies the ones that are an MSR setting; mitigations_log
 * logs them. The entry
 * paths read their switches from the entry area (hv/cpu/xpti.h), set from
 * these decisions. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum mitigation_id {
    MIT_XPTI,         /* guests run on page tables without hv's upper half */
    MIT_PCID,         /* with XPTI: tag hv's and the guest's tables, keep the TLB */
    MIT_VERW,         /* clear CPU buffers on every return to a guest (MDS, TAA, ...) */
    MIT_IBPB,         /* barrier when a CPU moves from one guest to another */
    MIT_RSB_FILL,     /* overwrite the return stack buffer on guest switch */
    MIT_SWAPGS_FENCE, /* lfence after the conditional swapgs of the entry */
    MIT_CLEAR_REGS,   /* guest general registers zeroed before C code runs */
    MIT_ZENBLEED,     /* AMD Zen 2: DE_CFG chicken bit */
    MIT_GDS,          /* Intel GDS: microcode mitigation kept on and locked */
    MIT_COUNT
};

/* What hv.cfg says for one mitigation (`xpti = auto|on|off`, ...). */
enum mitigation_setting { MIT_AUTO, MIT_FORCE_ON, MIT_FORCE_OFF };

/* hv.cfg's key for a mitigation: "xpti", "pcid", "verw", "ibpb",
 * "rsb_fill", "swapgs_fence", "clear_regs", "zenbleed", "gds". */
const char *mitigation_name(enum mitigation_id id);

/* Whether a mitigation is on (after mitigations_init). */
bool mitigation_on(enum mitigation_id id);

/* --- What the CPU says about itself ------------------------------------- */

enum cpu_vendor { CPU_VENDOR_OTHER, CPU_VENDOR_INTEL, CPU_VENDOR_AMD, CPU_VENDOR_HYGON };

/* IA32_ARCH_CAPABILITIES (MSR 0x10a) bits the decision reads (Intel SDM
 * vol. 4; the same names in Linux's msr-index.h and Xen's). */
#define ARCH_CAP_RDCL_NO (1ull << 0)     /* not affected by Meltdown */
#define ARCH_CAP_IBRS_ALL (1ull << 1)    /* enhanced IBRS */
#define ARCH_CAP_RSBA (1ull << 2)        /* an empty RSB falls back to the BTB */
#define ARCH_CAP_SSB_NO (1ull << 4)      /* not affected by Speculative Store Bypass */
#define ARCH_CAP_MDS_NO (1ull << 5)      /* not affected by MDS */
#define ARCH_CAP_TSX_CTRL (1ull << 7)    /* IA32_TSX_CTRL exists */
#define ARCH_CAP_TAA_NO (1ull << 8)      /* not affected by TSX Async Abort */
#define ARCH_CAP_SBDR_SSDP_NO (1ull << 13)
#define ARCH_CAP_FBSDP_NO (1ull << 14)
#define ARCH_CAP_PSDP_NO (1ull << 15)
#define ARCH_CAP_FB_CLEAR (1ull << 17)   /* VERW clears fill buffers (MMIO stale data) */
#define ARCH_CAP_PBRSB_NO (1ull << 24)
#define ARCH_CAP_GDS_CTRL (1ull << 25)   /* IA32_MCU_OPT_CTRL has the GDS bits */
#define ARCH_CAP_GDS_NO (1ull << 26)     /* not affected by GDS */
#define ARCH_CAP_RFDS_NO (1ull << 27)    /* not affected by RFDS */
#define ARCH_CAP_RFDS_CLEAR (1ull << 28) /* VERW clears the register files (RFDS) */

struct cpu_facts {
    enum cpu_vendor vendor;
    uint32_t family, model, stepping; /* extended family/model folded in */
    bool hypervisor;   /* CPUID.1:ECX[31]: another hypervisor runs hv */
    bool pcid;         /* CPUID.1:ECX[17] */
    bool invpcid;      /* CPUID.7.0:EBX[10] */
    bool smap;         /* CPUID.7.0:EBX[20] */
    bool avx;          /* CPUID.1:ECX[28] */
    bool rtm, hle;     /* CPUID.7.0:EBX[11], [4]: TSX */
    bool md_clear;     /* CPUID.7.0:EDX[10]: VERW clears CPU buffers */
    bool spec_ctrl;    /* CPUID.7.0:EDX[26]: IBRS and IBPB (Intel's enumeration) */
    bool stibp;        /* CPUID.7.0:EDX[27] (or AMD 0x80000008:EBX[15]) */
    bool ssbd;         /* CPUID.7.0:EDX[31] (or AMD 0x80000008:EBX[24]) */
    bool amd_ibpb;     /* CPUID.0x80000008:EBX[12]: IBPB (AMD's enumeration) */
    bool amd_ibpb_ret; /* CPUID.0x80000008:EBX[30]: IBPB also clears return predictions */
    bool arch_caps;    /* CPUID.7.0:EDX[29]: IA32_ARCH_CAPABILITIES exists */
    uint64_t arch_caps_value; /* its value; 0 when it does not exist */
};

/* --- The decision -------------------------------------------------------- */

enum mitigation_source {
    MIT_DECIDED, /* hv decided from the facts (auto) */
    MIT_FORCED,  /* hv.cfg said on or off, and hv did so */
    MIT_REFUSED, /* hv.cfg said on, and the CPU cannot: left off */
};

struct mitigation_decision {
    bool on;
    enum mitigation_source source;
    bool auto_on;    /* what the facts alone decide */
    bool vulnerable; /* off while the CPU is affected: the log line is a warning */
    /* Short and static: why the facts decide auto_on (MIT_DECIDED,
     * MIT_FORCED), or why the CPU cannot do it (MIT_REFUSED). */
    const char *why;
};

/* Decides every mitigation from the facts and hv.cfg's settings. Forcing
 * on what the CPU cannot do (an MSR it does not have would #GP) is
 * refused; VERW, lfence, the RSB fill, register clearing and page-table
 * isolation run on every x86-64 CPU and are never refused. */
void mitigations_decide(const struct cpu_facts *facts,
                        const enum mitigation_setting settings[MIT_COUNT],
                        struct mitigation_decision out[MIT_COUNT]);

/* The boot log's line for one decision, without the "spec: " prefix:
 * "xpti on (Meltdown: Intel, no RDCL_NO)" (auto),
 * "verw on (hv.cfg, as auto)", "xpti off (hv.cfg; auto: on, Meltdown: ...)"
 * (forced), "ibpb off (hv.cfg's on refused: no IBPB, ...)" (refused).
 * Kept short: every character is drawn on the screen. Returns the length
 * (cut to size - 1). */
size_t mitigation_describe(enum mitigation_id id, const struct mitigation_decision *d, char *buf,
                           size_t size);

/* --- hv.cfg -------------------------------------------------------------- */

/* The [hv] keys: `mitigations = auto|on|off` is every mitigation's default;
 * a mitigation's own key overrides it, whichever line comes first. */
struct mitigation_config {
    enum mitigation_setting all;
    enum mitigation_setting each[MIT_COUNT];
    bool given[MIT_COUNT]; /* each[i] was in hv.cfg */
};

/* MIT_COUNT when key names no mitigation ("mitigations" included). */
enum mitigation_id mitigation_by_name(const char *key);
/* "auto", "on", "off"; false (and *out untouched) for anything else. */
bool mitigation_setting_parse(const char *value, enum mitigation_setting *out);
/* Each mitigation's setting: its own key if given, else `mitigations`. */
void mitigation_config_resolve(const struct mitigation_config *c,
                               enum mitigation_setting out[MIT_COUNT]);

/* --- On the CPU (hv/cpu/mitigations.c) ------------------------------------ */

/* Reads the facts, decides and applies the MSR ones (Zenbleed, GDS).
 * Before mm_init: XPTI shapes hv's page tables. */
void mitigations_init(const struct mitigation_config *config);
/* The boot log: the facts, then one line per mitigation, "spec: xpti on
 * (...)" (warnings for a refused force or a hole left open). Called once
 * the clock runs: before that every boot line is drawn on the screen at
 * once, and these ten would add 6-10 % to boot_first_guest. */
void mitigations_log(void);
/* The calling CPU's facts (an AP's, hv/cpu/smp.c). */
void mitigation_read_facts(struct cpu_facts *out);
/* What the boot CPU decided, and the hv.cfg settings it decided under. */
void mitigations_boot_cpu(bool on[MIT_COUNT], enum mitigation_setting settings[MIT_COUNT]);
/* On an AP: the MSR mitigations the boot CPU applied (Zenbleed, GDS), on
 * this CPU too; NULL, or why this CPU cannot have them. No logging (the
 * AP holds no lock). */
const char *mitigations_apply_ap(void);
/* The facts mitigations_init read (for the entry paths: INVPCID, ...). */
const struct cpu_facts *mitigation_cpu_facts(void);

/* Whether a CPU switch to another guest has work (IBPB or RSB fill): the
 * scheduler tests this before it tracks which guest ran last. */
extern bool mitigation_guest_switch_work;
/* The CPU moves from one guest's vCPU to another guest's: IBPB and the
 * RSB fill, where on, counted for the summary. */
void mitigations_guest_switch(void);
/* The summary line at the end of the run: what was used, with counts. */
void mitigations_report(void);
