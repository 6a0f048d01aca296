/* Speculative-execution mitigations: which ones this CPU needs, decided
 * once at boot from what the CPU reports (CPUID, IA32_ARCH_CAPABILITIES)
 * and what hv.cfg forces, logged one line each with the reason, and
 * reported again in the end-of-run summary.
 *
 * The decision (mitigations_decide) is pure and unit-tested on the host
 * with tables of CPU facts; mitigations_init reads the facts on the CPU,
 * decides, logs and applies the ones that are an MSR setting. The entry
 * paths read their switches from the entry area (hv/cpu/xpti.h), set from
 * these decisions. */
#pragma once

#include <stdbool.h>
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
