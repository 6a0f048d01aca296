/* An AP's own set-up, on the AP, once the trampoline has brought it to
 * hv's tables and its own stack (hv/cpu/smp_trampoline.S). It takes no
 * lock and logs nothing: the boot CPU reports what it wrote into its
 * struct ap_boot. From the IDT load on, a fault here reaches panic_trap
 * like any fault in hv: printed, never silent. */
#include "hv/cpu/features.h"
#include "hv/cpu/mitigations.h"
#include "hv/cpu/smp.h"
#include "hv/cpu/smp_internal.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/sched/sched.h"
#include "hv/time/lapic.h"
#include "hv/time/time.h"
#include "lib/fmt.h"

#define CR4_OSXSAVE (1ul << 18)

/* Read through a volatile: the compiler must not prove the write faults. */
static volatile uintptr_t debug_fault_address = 0x10;

static void caps_of_this_cpu(struct smp_caps *c)
{
    *c = (struct smp_caps){0};
    uint32_t max_leaf = cpuid(0, 0).eax;
    struct cpuid_regs r = cpuid(1, 0);
    c->pge = r.edx >> 13 & 1;
    c->pat = r.edx >> 16 & 1;
    c->pcid = r.ecx >> 17 & 1;
    c->x2apic = r.ecx >> 21 & 1;
    c->xsave = r.ecx >> 26 & 1;
    if (max_leaf >= 7) {
        r = cpuid(7, 0);
        c->smep = r.ebx >> 7 & 1;
        c->smap = r.ebx >> 20 & 1;
        c->umip = r.ecx >> 2 & 1;
    }
    if (c->xsave && max_leaf >= 0xd) {
        r = cpuid(0xd, 0);
        c->xcr0 = (uint64_t)r.edx << 32 | r.eax;
    }
    if (cpuid(0x80000000u, 0).eax >= 0x80000001u)
        c->nx = cpuid(0x80000001u, 0).edx >> 20 & 1;
}

static uint8_t core_type(void)
{
    /* Hybrid parts (Alder Lake on) say per core whether it is a P or an
     * E core; the same rule applies to both. */
    if (cpuid(0, 0).eax < 0x1a || !(cpuid(7, 0).edx >> 15 & 1))
        return 0;
    return (uint8_t)(cpuid(0x1a, 0).eax >> 24);
}

static void __attribute__((noreturn)) idle(void)
{
    /* Interrupts off: nothing is meant for this CPU yet. An NMI still
     * wakes it (panic: hv/cpu/trap.c stops it there). */
    for (;;)
        __asm__ volatile("cli; hlt" ::: "memory");
}

/* The last touch of b: the boot CPU reuses it for the next AP. */
static void check_in(struct ap_boot *b, enum ap_state state)
{
    uint32_t boot_cpu = b->boot->boot_apic_id;
    __atomic_store_n(&b->state, state, __ATOMIC_RELEASE);
    lapic_send_ipi(boot_cpu, ICR_FIXED | VEC_AP_CHECKIN);
}

static void __attribute__((noreturn)) refuse(struct ap_boot *b)
{
    check_in(b, AP_REFUSED);
    idle(); /* the boot CPU parks it with an INIT */
}

static void xsetbv0(uint64_t v)
{
    __asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)));
}

void smp_ap_main(struct ap_boot *b)
{
    const struct boot_cpu_state *boot = b->boot;
    percpu_init_ap(b->area, b->index, b->apic_id, b->ist_tops, b->kernel_rsp);
    if (b->apic_id == boot->stall_apic_id) /* hv.cfg debug_ap_stall_ms: claimed, then slow */
        time_spin_ns(boot->stall_ns);

    struct smp_caps caps;
    caps_of_this_cpu(&caps);
    if (b->apic_id == boot->refuse_apic_id) /* hv.cfg debug_ap_refuse: as a CPU without SMEP */
        caps.smep = false;
    struct cpu_facts facts;
    mitigation_read_facts(&facts);
    if (!smp_cpu_compatible(&boot->needs, &caps, &facts, b->why, sizeof(b->why)))
        refuse(b);
    const char *problem = mitigations_apply_ap();
    if (problem) {
        fmt_format(b->why, sizeof(b->why), "%s", problem);
        refuse(b);
    }

    /* The boot CPU's protections, as it ended up with them: WP, NE; NX
     * and SCE; SMEP, SMAP, UMIP, PGE, DE, PCIDE, the FPU bits; its PAT. */
    write_cr0(boot->cr0);
    write_cr4(boot->cr4);
    wrmsr(MSR_EFER, boot->efer);
    if (boot->needs.used.pat)
        wrmsr(MSR_PAT, boot->pat);
    if (boot->cr4 & CR4_OSXSAVE)
        xsetbv0(boot->xcr0);
    wrmsr(MSR_STAR, boot->star);
    wrmsr(MSR_LSTAR, boot->lstar);
    wrmsr(MSR_FMASK, boot->fmask);
    if (cpu_features()->sep) {
        wrmsr(MSR_SYSENTER_CS, 0);
        wrmsr(MSR_SYSENTER_EIP, 0);
        wrmsr(MSR_SYSENTER_ESP, 0);
    }
    debug_registers_this_cpu(); /* DR7: none, or hv.cfg's debug breakpoint */
    write_dr6(DR6_INIT);
    if (!lapic_init_ap()) {
        fmt_format(b->why, sizeof(b->why), "its APIC is in x2APIC mode, the boot CPU's not");
        refuse(b);
    }
    /* Accepted: its GDT window, mapped while the boot CPU waits for this
     * one alone. Never before a refusal: the next AP gets the refused
     * one's CPU index, and its mapping of the same window failed before
     * it had GS and an IDT (a triple fault: the machine reset). */
    gdt_window_init(&b->area->cpu.tables, b->index);

    timer_init_this_cpu(); /* its own one-shot, for its scheduler */

    b->seen_apic_id = lapic_id();
    b->cr4 = read_cr4();
    b->efer = rdmsr(MSR_EFER);
    b->core_type = core_type();
    b->ready_tsc = rdtsc();
    uint32_t apic_id = b->apic_id;
    sched_ap_prepare(); /* before it is counted: guests are placed on it from then */
    check_in(b, AP_READY);
    if (apic_id == boot->fault_apic_id) /* hv.cfg debug_ap_fault: a write through a null pointer */
        *(volatile uint64_t *)debug_fault_address = 0xdead;
    sched_ap_start(); /* its scheduler loop, from the boot CPU's sched_start on */
}
