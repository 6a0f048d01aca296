/* Starting the APs, on the boot CPU (the AP's half: hv/cpu/smp_ap.c).
 *
 * One AP at a time: INIT, then two SIPIs at the low page, with the
 * timings Linux uses for CPUs with an integrated APIC (no 10 ms wait after
 * INIT, 10 us after each SIPI: Intel SDM 8.4.4.1's 10 ms dates from the
 * 82489DX; the second SIPI is skipped when the AP already checked in),
 * then a wait for the AP to check in, bounded by AP_CHECKIN_LIMIT_NS.
 * Every wait is `sti; hlt` with the APIC timer armed for its end, and the
 * AP sends VEC_AP_CHECKIN when it is done, so the boot CPU sleeps exactly
 * as long as the AP takes (tens of microseconds), never a fixed time and
 * never spinning: a spinning boot CPU would also hold back the AP where
 * the CPUs share a host thread (QEMU's TCG, round-robin). */
#include "hv/cpu/smp.h"

#include "hv/console/log.h"
#include "hv/console/status_line.h"
#include "hv/cpu/features.h"
#include "hv/cpu/smp_internal.h"
#include "hv/cpu/smp_trampoline.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/debug/panic.h"
#include "hv/debug/trace.h"
#include "hv/mm/mm.h"
#include "hv/mm/pagetable.h"
#include "hv/mm/xpti.h"
#include "hv/time/lapic.h"
#include "hv/time/time.h"
#include "lib/fmt.h"

#include <stdarg.h>

#define PAGE 4096ull
#define AP_BOOT_STACK (16 * 1024)   /* smp_ap_main and the idle loop */
#define AP_KERNEL_STACK (32 * 1024) /* guest entries (TSS.RSP0), as the boot CPU's */
#define AP_IST_STACK (16 * 1024)
#define AP_CHECKIN_LIMIT_NS (500ull * 1000 * 1000)
/* An AP that claimed its start (hv/cpu/smp_trampoline.S) runs hv's code;
 * a starved virtual CPU may take long (Linux waits 10 s). */
#define AP_CLAIMED_LIMIT_NS (10ull * 1000 * 1000 * 1000)
/* hv.cfg debug_ap_claim_wait_ms: the stalled-AP test waits less. */
static uint64_t claimed_limit_ns = AP_CLAIMED_LIMIT_NS;
#define SIPI_WAIT_NS (10ull * 1000)
#define CR4_OSXSAVE (1ul << 18)

_Static_assert(PERCPU_MAX == SMP_MAX_CPUS + 1, "every CPU smp_start may start has an index");

volatile uint32_t smp_stopper;

static uint32_t running = 1, listed = 1;
static struct left_out {
    uint32_t apic_id;
    char why[112];
} left[SMP_MAX_CPUS];
static uint32_t left_count, over_limit;
static uint64_t bringup_cycles;

static struct boot_cpu_state boot_state;
static struct ap_boot slot;
/* The low pages stay (and every later start there parks) once a CPU was
 * left out: it may still arrive (hv/cpu/smp_trampoline.S). */
static struct low_pages {
    uint64_t code, root;
    uint64_t tables[3]; /* PDPT, PD, PT of the identity mapping */
    struct trampoline_data *data;
} lp;
/* hv.cfg debug_ap_late: the APIC ID of the AP given up at once, which gets
 * a second SIPI with the next AP's (UINT32_MAX: none, or sent). */
static uint32_t late_sipi_to = UINT32_MAX;

uint32_t smp_cpus_running(void)
{
    return running;
}

static void leave_out(uint32_t apic_id, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void leave_out(uint32_t apic_id, const char *fmt, ...)
{
    struct left_out *l = &left[left_count++];
    l->apic_id = apic_id;
    va_list ap;
    va_start(ap, fmt);
    fmt_vformat(l->why, sizeof(l->why), fmt, ap);
    va_end(ap);
    log_warn("smp: CPU with APIC ID %u left out: %s", apic_id, l->why);
}

static uint64_t xgetbv0(void)
{
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return (uint64_t)hi << 32 | lo;
}

/* What every AP copies: the boot CPU as it is now, all set up. */
static void record_boot_cpu(void)
{
    const struct cpu_features *f = cpu_features();
    struct boot_cpu_state *s = &boot_state;
    s->cr0 = read_cr0();
    s->cr4 = read_cr4();
    s->efer = rdmsr(MSR_EFER);
    s->pat = f->pat ? rdmsr(MSR_PAT) : 0;
    s->xcr0 = s->cr4 & CR4_OSXSAVE ? xgetbv0() : 0;
    s->star = rdmsr(MSR_STAR);
    s->lstar = rdmsr(MSR_LSTAR);
    s->fmask = rdmsr(MSR_FMASK);
    struct smp_caps *u = &s->needs.used;
    u->nx = s->efer & EFER_NXE;
    u->pge = s->cr4 & CR4_PGE;
    u->pat = f->pat;
    u->smep = s->cr4 & CR4_SMEP;
    u->smap = s->cr4 & CR4_SMAP;
    u->umip = s->cr4 & CR4_UMIP;
    u->pcid = s->cr4 & CR4_PCIDE;
    u->xsave = s->cr4 & CR4_OSXSAVE;
    u->xcr0 = s->xcr0;
    u->x2apic = lapic_is_x2apic();
    mitigations_boot_cpu(s->needs.mit_on, s->needs.mit_settings);
}

/* The low pages: the trampoline's code and data, then the temporary root:
 * hv's upper half and, through three tables of its own, the trampoline's
 * page alone, identity-mapped. hv's own root never maps low memory. */

static bool low_pages_prepare(struct low_pages *lp)
{
    lp->code = mm_low_pages(2);
    if (!lp->code)
        return false;
    lp->root = lp->code + PAGE;
    for (int i = 0; i < 3; i++) {
        lp->tables[i] = frame_get_zeroed();
        if (!lp->tables[i]) {
            while (i--)
                frame_put(lp->tables[i]);
            return false;
        }
    }
    uint8_t *code = phys_to_virt(lp->code);
    uint64_t size = (uint64_t)(smp_trampoline_end - smp_trampoline_start);
    zero_words(code, PAGE / 8);
    copy_bytes(code, smp_trampoline_start, size);

    uint64_t *root = phys_to_virt(lp->root);
    const uint64_t *hv_root = phys_to_virt(kernel_space()->root_phys);
    zero_words(root, PAGE / 8);
    for (int i = 256; i < 512; i++)
        root[i] = hv_root[i];
    uint64_t *pdpt = phys_to_virt(lp->tables[0]), *pd = phys_to_virt(lp->tables[1]),
             *pt = phys_to_virt(lp->tables[2]);
    root[0] = lp->tables[0] | PTE_P | PTE_W;
    pdpt[0] = lp->tables[1] | PTE_P | PTE_W;
    pd[0] = lp->tables[2] | PTE_P | PTE_W;
    pt[lp->code / PAGE] = lp->code | PTE_P | PTE_W;

    struct trampoline_data *d =
        (void *)(code + (smp_trampoline_data - smp_trampoline_start));
    uint32_t base = (uint32_t)lp->code;
    d->gdt_limit = sizeof(d->gdt) - 1;
    d->gdt_base = base + TR_GDT + (uint32_t)(smp_trampoline_data - smp_trampoline_start);
    d->gdt[0] = 0;
    d->gdt[1] = 0x00cf9a000000ffffull; /* 32-bit code, flat */
    d->gdt[2] = 0x00cf92000000ffffull; /* 32-bit data, flat */
    d->gdt[3] = 0x00af9a000000ffffull; /* 64-bit code */
    d->far32_offset = base + (uint32_t)(smp_trampoline_protected - smp_trampoline_start);
    d->far32_selector = TR_SEL_CODE32;
    d->far64_offset = base + (uint32_t)(smp_trampoline_long - smp_trampoline_start);
    d->far64_selector = TR_SEL_CODE64;
    d->low_cr3 = (uint32_t)lp->root;
    d->cr0 = (uint32_t)boot_state.cr0;
    d->efer = (uint32_t)(EFER_LME | (boot_state.efer & EFER_NXE));
    d->hv_cr3 = kernel_space()->root_phys;
    d->entry = (uint64_t)smp_ap_entry;
    lp->data = d;
    return true;
}

/* Nothing of the trampoline stays: the pages below 1 MiB are zeroed (no
 * code left where a later SIPI could start it), the tables freed. */
static void low_pages_release(struct low_pages *lp)
{
    zero_words(phys_to_virt(lp->code), 2 * PAGE / 8);
    for (int i = 0; i < 3; i++)
        frame_put(lp->tables[i]);
}

static void checkin_interrupt(struct trap_frame *f)
{
    (void)f;
    lapic_eoi();
}

static void wake_only(uint64_t now)
{
    (void)now;
}

/* Sleeps until the AP is no longer starting (it checked in, was refused,
 * or stopped in the trampoline) or the time is up; true if it is not. */
static bool sleep_until(const struct ap_boot *b, const struct trampoline_data *d, uint64_t until)
{
    timer_set_handler(wake_only);
    timer_arm(until);
    bool done;
    while (!(done = __atomic_load_n(&b->state, __ATOMIC_ACQUIRE) != AP_STARTING ||
                    d->status != TR_STATUS_NONE) &&
           time_now_ns() < until)
        __asm__ volatile("sti; hlt; cli" ::: "memory"); /* atomic: no wake-up lost */
    timer_arm(0);
    timer_set_handler(NULL);
    return done;
}

static void show_page(uint64_t va, uint64_t phys)
{
    xpti_show_cpu(va, phys, PAGE);
}

/* An AP's memory: its entry area (per-CPU data, GDT, TSS, entry stack,
 * IDT) and its stacks, each between unmapped guard pages; with isolation
 * the entry area and IST stacks go into guests' tables as the boot CPU's
 * do. False when memory ran out. */
static bool ap_memory(struct ap_boot *b, uint64_t *boot_stack_top)
{
    b->area = kalloc_zeroed(sizeof(struct cpu_entry_area));
    if (!b->area)
        return false;
    xpti_show_cpu((uint64_t)b->area, virt_to_phys(b->area), sizeof(struct cpu_entry_area));
    void *top = mm_stack_alloc(AP_BOOT_STACK, NULL);
    if (!top)
        return false;
    *boot_stack_top = (uint64_t)top;
    top = mm_stack_alloc(AP_KERNEL_STACK, NULL);
    if (!top)
        return false;
    b->kernel_rsp = (uint64_t)top;
    for (int i = 0; i < IST_STACKS; i++) {
        top = mm_stack_alloc(AP_IST_STACK, show_page);
        if (!top)
            return false;
        b->ist_tops[i] = (uint64_t)top;
    }
    return true;
}

static const char *const trampoline_stops[] = {
    [TR_STATUS_NO_LONG_MODE] = "no long mode",
    [TR_STATUS_NO_NX] = "no NX (the boot CPU relies on it)",
};

enum start_mode { START, START_NEVER, START_GIVE_UP };

/* Starts one AP and waits for it; true when it checked in ready. */
static bool start_ap(struct low_pages *lp, uint32_t index, uint32_t apic_id, enum start_mode mode)
{
    struct ap_boot *b = &slot;
    *b = (struct ap_boot){.index = index, .apic_id = apic_id, .boot = &boot_state,
                          .state = AP_STARTING};
    uint64_t stack_top;
    if (!ap_memory(b, &stack_top)) {
        leave_out(apic_id, "no memory for its stacks and per-CPU area");
        return false;
    }
    lp->data->stack = stack_top;
    lp->data->arg = (uint64_t)b;
    lp->data->apic_id = mode == START_GIVE_UP ? TR_REVOKED : apic_id;
    lp->data->status = TR_STATUS_NONE;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);

    uint32_t vector = (uint32_t)(lp->code >> 12);
    lapic_send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL);
    lapic_send_ipi(apic_id, ICR_INIT | ICR_TRIGGER_LEVEL);
    uint64_t deadline = time_now_ns() + AP_CHECKIN_LIMIT_NS;
    bool done = false;
    if (mode == START_GIVE_UP) { /* debug_ap_late: revoked before its SIPI */
        lapic_send_ipi(apic_id, ICR_STARTUP | vector);
        late_sipi_to = apic_id;
        deadline = 0;
    }
    for (int sipi = 0; sipi < 2 && mode == START && !done; sipi++) {
        lapic_send_ipi(apic_id, ICR_STARTUP | vector);
        if (late_sipi_to != UINT32_MAX && late_sipi_to != apic_id) {
            /* The SIPI a virtual machine kept across the give-up INIT. */
            lapic_send_ipi(late_sipi_to, ICR_STARTUP | vector);
            late_sipi_to = UINT32_MAX;
        }
        done = sleep_until(b, lp->data, time_now_ns() + SIPI_WAIT_NS);
    }
    if (!done && deadline)
        done = sleep_until(b, lp->data, deadline);
    /* Its time is up: revoke the start, unless the AP claimed it. */
    uint32_t want = apic_id;
    if (!done && deadline &&
        !__atomic_compare_exchange_n((uint32_t *)((char *)lp->data + TR_APIC_ID), &want, TR_REVOKED,
                                     false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
        if (!sleep_until(b, lp->data, time_now_ns() + claimed_limit_ns))
            /* Going on would start the next AP on the data, the struct
             * and the CPU index this one may still use. */
            panic("smp: APIC ID %u stalled in its start", apic_id);
    uint32_t state = __atomic_load_n(&b->state, __ATOMIC_ACQUIRE);
    if (state == AP_READY) {
        log_debug("smp: CPU %u (APIC ID %u) ready: CR4 0x%lx EFER 0x%lx core type 0x%x", index,
                  b->seen_apic_id, (unsigned long)b->cr4, (unsigned long)b->efer, b->core_type);
        if (b->seen_apic_id != apic_id)
            log_warn("smp: the CPU started as APIC ID %u reports APIC ID %u", apic_id,
                     b->seen_apic_id);
        return true;
    }
    /* Back to waiting for a SIPI. A virtual machine may still start it
     * from a SIPI it kept across this INIT: the start is revoked (or
     * another AP's), so the trampoline parks it (and the low pages stay). */
    lapic_send_ipi(apic_id, ICR_INIT | ICR_LEVEL_ASSERT | ICR_TRIGGER_LEVEL);
    lapic_send_ipi(apic_id, ICR_INIT | ICR_TRIGGER_LEVEL);
    uint32_t stop = lp->data->status;
    if (state == AP_REFUSED)
        leave_out(apic_id, "refused: %s", b->why);
    else if (stop != TR_STATUS_NONE && stop < sizeof(trampoline_stops) / sizeof(trampoline_stops[0]))
        leave_out(apic_id, "refused: %s", trampoline_stops[stop]);
    else
        leave_out(apic_id, "did not check in within %lu ms%s",
                  (unsigned long)(AP_CHECKIN_LIMIT_NS / 1000000),
                  mode == START_NEVER ? " (debug_ap_never_starts)" : "");
    /* Its memory stays: it is small, and mapped into guests' tables. */
    return false;
}

static void log_started(uint32_t cpus_limit)
{
    log_info("smp: %u of %u CPU(s) in use (%u AP(s) started in %lu TSC cycles, %u left out)",
             running, listed, running - 1, (unsigned long)bringup_cycles, left_count + over_limit);
    if (over_limit)
        log_info("smp: %u CPU(s) not used: hv.cfg cpus = %u", over_limit, cpus_limit);
}

void smp_start(const struct acpi_info *acpi, const struct smp_config *config)
{
    struct smp_plan plan;
    uint32_t boot_id = lapic_id();
    this_cpu()->apic_id = boot_id;
    smp_plan_cpus(acpi->apic_ids, acpi->cpu_enabled, acpi->cpu_count, boot_id, config->cpus,
                  &plan);
    listed = 1 + plan.count + plan.over_limit;
    over_limit = plan.over_limit;
    if (plan.count == 0) {
        /* One CPU: nothing to log at boot (every line is drawn on the
         * screen, boot_first_guest counts them); the summary says it. */
        if (over_limit)
            log_started(config->cpus);
        return;
    }
    record_boot_cpu();
    boot_state.boot_apic_id = boot_id;
    boot_state.fault_apic_id = config->debug_ap_fault ? plan.apic_ids[plan.count - 1] : UINT32_MAX;
    boot_state.refuse_apic_id = config->debug_ap_refuse - 1u < plan.count
                                    ? plan.apic_ids[config->debug_ap_refuse - 1] : UINT32_MAX;
    boot_state.stall_apic_id = config->debug_ap_stall_ms ? plan.apic_ids[plan.count - 1] : UINT32_MAX;
    boot_state.stall_ns = config->debug_ap_stall_ms * 1000000ull;
    if (config->debug_ap_claim_wait_ms)
        claimed_limit_ns = config->debug_ap_claim_wait_ms * 1000000ull;
    irq_register(VEC_AP_CHECKIN, checkin_interrupt);
    log_debug("smp: boot CPU (APIC ID %u): CR4 0x%lx EFER 0x%lx", boot_id,
              (unsigned long)boot_state.cr4, (unsigned long)boot_state.efer);
    if (!low_pages_prepare(&lp)) {
        log_warn("smp: no room below 1 MiB for the trampoline: the boot CPU alone");
        return;
    }
    uint64_t first_init = rdtsc(), last_ready = first_init;
    for (uint32_t i = 0; i < plan.count; i++) {
        enum start_mode mode = config->debug_ap_never_starts && i == plan.count - 1 ? START_NEVER
                               : config->debug_ap_late && i == 0                   ? START_GIVE_UP
                                                                                   : START;
        if (start_ap(&lp, running, plan.apic_ids[i], mode)) {
            percpu_register(&slot.area->cpu);
            trace_cpu_init(running); /* its ring, from the boot CPU's memory (hv.cfg trace) */
            running++;
            last_ready = slot.ready_tsc;
        }
    }
    bringup_cycles = last_ready - first_init;
    if (left_count)
        lp.data->apic_id = TR_REVOKED; /* any start from now on parks */
    else
        low_pages_release(&lp);
    status_line_set_cpus(running, acpi->cpu_count);
    log_started(config->cpus);
    if (xpti_enabled())
        log_debug("smp: xpti: guests' tables map %lu pages of hv with the APs'",
                  (unsigned long)xpti_shown_pages());
}

void smp_report(void)
{
    log_info("smp: hv used %u of %u CPU(s)", running, listed);
    for (uint32_t i = 0; i < left_count; i++)
        log_info("smp:   APIC ID %u left out: %s", left[i].apic_id, left[i].why);
    uint32_t late = left_count ? lp.data->late : 0;
    if (late)
        log_info("smp:   %u late start(s) parked", late);
    if (over_limit)
        log_info("smp:   %u CPU(s) not used (hv.cfg cpus)", over_limit);
}

void smp_stop_others(void)
{
    if (running < 2)
        return;
    uint32_t self = this_cpu()->index;
    smp_stopper = self + 1;
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    /* Each CPU hv runs, by APIC ID, not all-but-self: that reaches the
     * CPUs hv left out too (parked in the trampoline with no IDT, or by
     * `cpus = N` in the firmware's loop), where an NMI resets the machine
     * before the report is out (a late start parked, then a panic). */
    uint32_t n = __atomic_load_n(&percpu_count, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n; i++)
        if (i != self)
            lapic_send_ipi(percpu_by_index[i]->apic_id, ICR_NMI);
}
