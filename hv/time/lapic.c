#include "hv/time/lapic.h"

#include "hv/console/log.h"
#include "hv/cpu/tlb_shootdown.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/mm/mm.h"
#include "hv/sched/cross_cpu.h"

#define APIC_BASE_ENABLE (1u << 11)
#define APIC_BASE_X2APIC (1u << 10)
#define X2APIC_MSR_BASE 0x800u
#define SVR_ENABLE (1u << 8)

static volatile uint32_t *mmio;
static bool x2apic;

uint32_t lapic_read(uint32_t reg)
{
    if (x2apic)
        return (uint32_t)rdmsr(X2APIC_MSR_BASE + (reg >> 4));
    return mmio[reg / 4];
}

void lapic_write(uint32_t reg, uint32_t value)
{
    if (x2apic)
        wrmsr(X2APIC_MSR_BASE + (reg >> 4), value);
    else
        mmio[reg / 4] = value;
}

void lapic_eoi(void)
{
    lapic_write(LAPIC_REG_EOI, 0);
}

uint32_t lapic_id(void)
{
    uint32_t id = lapic_read(LAPIC_REG_ID);
    return x2apic ? id : id >> 24;
}

bool lapic_is_x2apic(void)
{
    return x2apic;
}

/* The interrupt request register: vectors 0-255 in 8 words 0x10 apart.
 * hv's own interrupts lie in two of them: the timer (word 1) and the IPIs
 * (word 7); a stray vector elsewhere is no reason to end a call early. */
#define LAPIC_REG_IRR 0x200
_Static_assert(VEC_TIMER / 32 == 1 && VEC_TLB_SHOOTDOWN / 32 == 7 && VEC_RESCHEDULE / 32 == 7,
               "lapic_interrupt_waiting reads the IRR words of hv's vectors");

bool lapic_interrupt_waiting(void)
{
    if (x2apic)
        return ((uint32_t)rdmsr(X2APIC_MSR_BASE + (LAPIC_REG_IRR >> 4) + 1) |
                (uint32_t)rdmsr(X2APIC_MSR_BASE + (LAPIC_REG_IRR >> 4) + 7)) != 0;
    return (mmio[(LAPIC_REG_IRR + 0x10) / 4] | mmio[(LAPIC_REG_IRR + 0x70) / 4]) != 0;
}

#define ICR_SEND_PENDING (1u << 12)
/* An xAPIC takes a few bus cycles to send an IPI: far fewer than this. */
#define ICR_WAIT_LIMIT 100000

void lapic_send_ipi(uint32_t apic_id, uint32_t icr_low)
{
    if (x2apic) {
        wrmsr(X2APIC_MSR_BASE + (LAPIC_REG_ICR_LOW >> 4), (uint64_t)apic_id << 32 | icr_low);
        return;
    }
    mmio[LAPIC_REG_ICR_HIGH / 4] = apic_id << 24;
    mmio[LAPIC_REG_ICR_LOW / 4] = icr_low;
    for (int i = 0; i < ICR_WAIT_LIMIT && (mmio[LAPIC_REG_ICR_LOW / 4] & ICR_SEND_PENDING); i++)
        cpu_relax();
}

__attribute__((cold)) bool lapic_init_ap(void)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    bool ap_x2apic = (base & APIC_BASE_X2APIC) != 0;
    if (x2apic && !ap_x2apic) {
        /* Disabled -> xAPIC -> x2APIC: a disabled APIC cannot go to
         * x2APIC in one write (SDM 11.12.5). */
        if (!(base & APIC_BASE_ENABLE))
            wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE | APIC_BASE_X2APIC);
    }
    else if (!x2apic && ap_x2apic)
        return false; /* leaving x2APIC means disabling the APIC first: not for now */
    else if (!(base & APIC_BASE_ENABLE))
        wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    lapic_write(LAPIC_REG_TPR, 0);
    lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED | VEC_TIMER);
    lapic_write(LAPIC_REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
    return true;
}

/* The legacy 8259 pair must never deliver: hv takes interrupts from the
 * local APIC only. Masking is harmless where the chips are absent. */
static void mask_legacy_pic(void)
{
    outb(0x21, 0xff);
    outb(0xa1, 0xff);
}

__attribute__((cold)) bool lapic_init(uint64_t madt_phys)
{
    uint64_t base = rdmsr(MSR_APIC_BASE);
    mask_legacy_pic();
    x2apic = (base & APIC_BASE_X2APIC) != 0;
    if (!x2apic) {
        uint64_t phys = madt_phys ? madt_phys : (base & ~0xfffULL & ((1ULL << 52) - 1));
        mmio = mmio_map(phys, 4096, MMIO_UNCACHED);
        if (!mmio) {
            log_error("lapic: cannot map the local APIC at 0x%lx", (unsigned long)phys);
            return false;
        }
        if (!(base & APIC_BASE_ENABLE))
            wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
    }
    lapic_write(LAPIC_REG_TPR, 0);
    lapic_write(LAPIC_REG_LVT_TIMER, LAPIC_LVT_MASKED | VEC_TIMER);
    lapic_write(LAPIC_REG_SVR, SVR_ENABLE | VEC_SPURIOUS);
    log_info("lapic: id %u, %s mode", lapic_id(), x2apic ? "x2APIC" : "xAPIC");
    return true;
}
