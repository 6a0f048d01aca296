/* Reads addresses in hv's half of the address space and reports how each
 * read faulted, for the page-table isolation tests (tests/system/
 * xpti_cases.py). Without isolation hv's half is in the guest's tables,
 * supervisor-only: the #PF says "present". With it (hv/mm/xpti.h) only the
 * entry code of these is mapped; the others fault "not present". One line
 * per address:
 *
 *     xpti-probe: <what> 0x<va>: #PF error 0x<e> (present|not present)
 *
 * then `xpti-probe: done`; exits 0, or 1 if a read did not fault. */
#include "hvg.h"
#include "hvg_cpu.h"

HV_GUEST_NOTE("xpti-probe", HVG_MIB(1), 1, HVG_KIB(64));

static struct {
    const char *what;
    uint64_t va;
} const probes[] = {
    /* The entry code (hv/hv.ld puts it first): mapped either way. */
    {"hv entry code", 0xffffffff80000000ull},
    {"hv core text (+64 KiB)", 0xffffffff80010000ull},
    {"hv direct map (physical 1 MiB)", 0xffff888000100000ull},
    {"hv direct map (physical 64 MiB)", 0xffff888004000000ull},
    {"hv device window (framebuffer)", 0xffffc00000001000ull},
};

extern const char probe_load[], probe_resume[];
static volatile bool faulted;
static volatile uint64_t fault_error;

/* The read, at a label the #PF handler knows, so it can skip it. */
static __attribute__((noinline)) void probe(uint64_t va)
{
    uint64_t v;
    __asm__ volatile(".globl probe_load, probe_resume\n"
                     "probe_load: mov (%1), %0\n"
                     "probe_resume:"
                     : "=r"(v)
                     : "r"(va)
                     : "memory");
    (void)v;
}

static void on_page_fault(struct hvg_trap_frame *f)
{
    if (f->rip != (uint64_t)(uintptr_t)probe_load) {
        hvg_trap_dump("xpti-probe: unexpected #PF", f);
        hvg_exit(2);
    }
    faulted = true;
    fault_error = f->error_code;
    f->rip = (uint64_t)(uintptr_t)probe_resume;
}

int main(const struct hv_start_info *si, unsigned vcpu)
{
    (void)si;
    (void)vcpu;
    const struct hvg_trap_spec spec = {HVG_PF, 0, on_page_fault};
    if (hvg_traps_install(&spec, 1) != 0) {
        hvg_printf("xpti-probe: cannot install the #PF handler\n");
        return 1;
    }
    int status = 0;
    for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
        faulted = false;
        probe(probes[i].va);
        if (!faulted) {
            hvg_printf("xpti-probe: %s 0x%lx: read without a fault\n", probes[i].what,
                       (unsigned long)probes[i].va);
            status = 1;
            continue;
        }
        hvg_printf("xpti-probe: %s 0x%lx: #PF error 0x%lx (%s)\n", probes[i].what,
                   (unsigned long)probes[i].va, (unsigned long)fault_error,
                   (fault_error & HVG_PF_PRESENT) ? "present" : "not present");
    }
    hvg_printf("xpti-probe: done\n");
    return status;
}
