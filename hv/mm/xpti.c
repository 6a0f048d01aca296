#include "hv/mm/xpti.h"

#include <stddef.h>

#include "hv/cpu/tlb_shootdown.h"

#include "hv/console/log.h"
#include "hv/cpu/entry_flags.h"
#include "hv/cpu/entry_patch.h"
#include "hv/cpu/features.h"
#include "hv/cpu/gdt.h"
#include "hv/cpu/mitigations.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/x86.h"
#include "hv/debug/panic.h"
#include "hv/mm/mm.h"

#define PAGE 4096ULL
#define ROOT_ENTRIES 512
#define UPPER_HALF_FIRST 256
/* PCIDs with isolation: 0 stays hv's own tables (no guest loaded). */
#define PCID_HV_VIEW 1
#define PCID_GUEST_VIEW 2
#define CR3_NOFLUSH (1ULL << 63)

extern const char __entry_text_start[], __entry_text_end[], __entry_bss_start[],
    __entry_bss_end[];
extern const char __guard_ist1[], __ist1_top[], __guard_ist2[], __ist2_top[], __guard_ist3[],
    __ist3_top[], __guard_ist4[], __ist4_top[];

static bool enabled, use_pcid, cr3_writes_shown;
static uint64_t shown_pages;
static unsigned patched_sites;
/* hv's part of every isolated root: only its upper half is used. */
static struct pt_space shown;

bool xpti_enabled(void)
{
    return enabled;
}

static uint64_t hv_table(void *arg)
{
    (void)arg;
    return frame_get_zeroed();
}

__attribute__((cold)) static void show(const char *start, const char *end, uint64_t flags, const char *what)
{
    uint64_t va = (uint64_t)start, size = (uint64_t)(end - start);
    if (pt_map(&shown, va, mm_core_phys(va), size, flags, 0) != PT_OK)
        panic("xpti: cannot map %s into guests' tables", what);
    shown_pages += size / PAGE;
}

__attribute__((cold)) static void build_shown_part(void)
{
    if (pt_init(&shown, HV_DIRECT_MAP_BASE, hv_table, NULL) != PT_OK)
        panic("xpti: no memory for the isolated tables");
    uint64_t nx = cpu_nx_mask();
    /* Whole pages: the last also holds the start of hv's other code. */
    const char *text_end = (const char *)(((uint64_t)__entry_text_end + PAGE - 1) & ~(PAGE - 1));
    show(__entry_text_start, text_end, 0, "the entry code");
    show(__entry_bss_start, __entry_bss_end, PTE_W | nx, "the entry areas");
    show(__guard_ist1 + PAGE, __ist1_top, PTE_W | nx, "IST stack 1");
    show(__guard_ist2 + PAGE, __ist2_top, PTE_W | nx, "IST stack 2");
    show(__guard_ist3 + PAGE, __ist3_top, PTE_W | nx, "IST stack 3");
    show(__guard_ist4 + PAGE, __ist4_top, PTE_W | nx, "IST stack 4");
    gdt_window_show(&shown); /* the CPU reads the GDT in the guest's tables */
    if (!mm_xen_slots_empty(shown.root_phys)) /* as mm_init: free for a Xen guest's M2P */
        panic("xpti: the isolated tables map something in Xen's PML4 slots");
}

uint64_t xpti_shown_pages(void)
{
    return shown_pages;
}

__attribute__((cold)) void xpti_show_cpu(uint64_t va, uint64_t phys, uint64_t size)
{
    if (!enabled)
        return;
    if (pt_map(&shown, va, phys, size, PTE_W | cpu_nx_mask(), 0) != PT_OK)
        panic("xpti: cannot map an AP's entry area or IST stack into guests' tables");
    shown_pages += size / PAGE;
}

/* Global TLB entries survive CR3 writes: any hv mapping cached as global
 * before isolation (the firmware's, the boot stub's) must go. */
static void flush_global_tlb(void)
{
    uint64_t cr4 = read_cr4();
    if (cr4 & CR4_PGE) {
        write_cr4(cr4 & ~CR4_PGE);
        write_cr4(cr4);
    }
}

__attribute__((cold)) void xpti_init(bool publish_cr3_writes)
{
    struct percpu *cpu = this_cpu();
    cr3_writes_shown = publish_cr3_writes;
    entry_verw_selector = SEL_KERNEL_DATA;
    uint8_t flags = 0;
    if (mitigation_on(MIT_VERW))
        flags |= ENTRY_VERW;
    if (mitigation_on(MIT_CLEAR_REGS))
        flags |= ENTRY_CLEAR_REGS;
    if (mitigation_on(MIT_SWAPGS_FENCE))
        flags |= ENTRY_SWAPGS_FENCE;
    cpu->kernel_cr3 = read_cr3();
    if (mitigation_on(MIT_XPTI)) {
        build_shown_part();
        enabled = true;
        /* The CR3 on entry must be PCID 0 when PCIDE is turned on. */
        if (mitigation_on(MIT_PCID) && (read_cr3() & 0xfff) == 0) {
            write_cr4(read_cr4() | CR4_PCIDE);
            use_pcid = true;
            cpu->cr3_noflush = CR3_NOFLUSH;
        }
        flush_global_tlb();
        /* Guest entries land on the entry stack, in the shown part. */
        cpu->tables.tss.rsp[0] = cpu->entry_stack_top;
        cpu->rsp0_slot = &cpu->kernel_rsp; /* a switch-in leaves TSS.RSP0 alone */
        flags |= ENTRY_XPTI;
    }
    patched_sites = entry_patch_apply(flags);
    entry_flags = flags;
}

__attribute__((cold)) void xpti_log(void)
{
    if (enabled)
        log_info("xpti: guests' tables map %lu pages of hv (entry code, IDT, entry areas, IST "
                 "stacks); PCID %s",
                 (unsigned long)shown_pages, use_pcid ? "on" : "off");
    log_info("entry paths: page-table isolation %s, VERW %s, registers cleared %s, swapgs "
             "fence %s (%u branches patched out)",
             enabled ? "on" : "off", (entry_flags & ENTRY_VERW) ? "on" : "off",
             (entry_flags & ENTRY_CLEAR_REGS) ? "on" : "off",
             (entry_flags & ENTRY_SWAPGS_FENCE) ? "on" : "off", patched_sites);
}

bool xpti_space_init(struct pt_space *s)
{
    s->isolated_root_phys = 0;
    if (!enabled)
        return true;
    uint64_t root = s->alloc_table(s->alloc_arg);
    if (!root)
        return false;
    uint64_t *to = phys_to_virt(root);
    const uint64_t *from = phys_to_virt(shown.root_phys);
    for (int i = UPPER_HALF_FIRST; i < ROOT_ENTRIES; i++)
        to[i] = from[i];
    s->isolated_root_phys = root;
    return true;
}

void xpti_space_free(struct pt_space *s, void (*free_table)(void *arg, uint64_t phys), void *arg)
{
    if (!s->isolated_root_phys)
        return;
    free_table(arg, s->isolated_root_phys);
    s->isolated_root_phys = 0;
}

uint64_t xpti_cr3_writes_shown(void)
{
    return cr3_writes_shown ? this_cpu()->cr3_writes : 0;
}

/* The one CPU write of a switch between spaces, kept cheap (every
 * switch pays it): this CPU's entry in tlb_loaded_on is the space it is
 * about to load, stored before CR3 is written (a serialising write: no
 * walk of the new tables comes before the store is visible); the space's
 * cpus_loaded gets this CPU's bit the first time only (a sticky set of
 * the CPUs that ever ran it, which senders narrow by tlb_loaded_on).
 * hv/cpu/tlb_shootdown.h says why that is enough. */
static inline void switch_root(const struct pt_space *s, uint64_t cr3, struct percpu *cpu)
{
    _Static_assert(offsetof(struct percpu, apic_id) == offsetof(struct percpu, index) + 4,
                   "apic_id follows index");
    tlb_cpu_entering((struct pt_space *)s, &cpu->index);
    write_cr3(cr3);
    cpu->cr3_writes++;
}

void space_load(const struct pt_space *s)
{
    if (!enabled) {
        if (read_cr3() != s->root_phys)
            switch_root(s, s->root_phys, this_cpu());
        return;
    }
    bool guest = s->isolated_root_phys != 0;
    uint64_t hv_view = s->root_phys | (use_pcid && guest ? PCID_HV_VIEW : 0);
    if (read_cr3() == hv_view)
        return;
    struct percpu *cpu = this_cpu();
    /* An NMI between the CR3 write and the new values must not take the
     * CPU for an exit's window on the old guest tables. */
    cpu->user_cr3 = 0;
    /* Without the no-flush bit: what the tag held was another space's. */
    switch_root(s, hv_view, cpu);
    cpu->kernel_cr3 = hv_view | (guest ? cpu->cr3_noflush : 0);
    if (guest) {
        cpu->user_cr3 = s->isolated_root_phys | (use_pcid ? PCID_GUEST_VIEW : 0);
        cpu->user_cr3_next = cpu->user_cr3 | cpu->cr3_noflush;
    }
}

void space_tlb_changed(void)
{
    if (use_pcid) {
        struct percpu *cpu = this_cpu();
        cpu->user_cr3 = cpu->user_cr3_next & ~CR3_NOFLUSH;
    }
}
