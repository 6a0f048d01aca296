/* TLB shootdown (hv/cpu/tlb_shootdown.h). */
#include "hv/cpu/tlb_shootdown.h"

#include "hv/console/log.h"
#include "hv/cpu/percpu.h"
#include "hv/cpu/trap.h"
#include "hv/cpu/x86.h"
#include "hv/mm/xpti.h"
#include "hv/time/lapic.h"

#define PAGE 4096ULL

/* One per CPU, on its own cache line: written by its CPU, read by the
 * targets; `waiting` counts the targets that have not flushed yet. */
struct request {
    uint64_t root;
    uint64_t va, pages;
    bool full;
    uint32_t waiting;
} __attribute__((aligned(64)));

static struct request requests[TLB_CPUS];
/* pending[c]: the CPUs whose requests CPU c has not served yet. */
static cpu_mask_t pending[TLB_CPUS] __attribute__((aligned(64)));
/* APIC IDs by CPU index, noted by each CPU when it first enters a space
 * (before it can be in any space's cpus_loaded, hence before anyone
 * targets it). */
uint32_t tlb_apic_of[TLB_CPUS];
static uint64_t sent, served;

static void flush_request(const struct request *r)
{
    if ((read_cr3() & PTE_ADDR_MASK) != r->root)
        return; /* it left the space since: that CR3 write flushed it */
    if (r->full) {
        write_cr3(read_cr3()); /* this PCID's entries and the paging-structure caches */
    } else {
        for (uint64_t i = 0; i < r->pages; i++)
            invlpg(r->va + i * PAGE);
    }
    space_tlb_changed(); /* the guest's view (its own PCID) at the next exit */
}

void tlb_shootdown_poll(void)
{
    uint32_t me = this_cpu()->index;
    cpu_mask_t from = __atomic_exchange_n(&pending[me], 0, __ATOMIC_ACQ_REL);
    while (from) {
        struct request *r = &requests[cpu_mask_pop(&from)];
        flush_request(r);
        __atomic_fetch_add(&served, 1, __ATOMIC_RELAXED);
        __atomic_fetch_sub(&r->waiting, 1, __ATOMIC_RELEASE);
    }
}

static void shootdown_interrupt(struct trap_frame *f)
{
    (void)f;
    tlb_shootdown_poll();
    lapic_eoi();
}

void tlb_shootdown_init(void)
{
    irq_register(VEC_TLB_SHOOTDOWN, shootdown_interrupt);
}

struct pt_space *tlb_loaded_on[TLB_CPUS];

/* The CPUs of s's set whose last load was s (this one left out when
 * `self` is a CPU index, kept when it is CPU_MASK_MAX). The fence orders
 * the caller's table writes before the reads: a CPU that stores s after
 * them walks the new tables. */
static cpu_mask_t on_space(const struct pt_space *s, uint32_t self)
{
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    cpu_mask_t ever = cpu_mask_others(__atomic_load_n(&s->cpus_loaded, __ATOMIC_ACQUIRE), self);
    cpu_mask_t now = 0;
    while (ever) {
        uint32_t c = cpu_mask_pop(&ever);
        if (__atomic_load_n(&tlb_loaded_on[c], __ATOMIC_RELAXED) == s)
            now |= cpu_mask_of(c);
    }
    return now;
}

cpu_mask_t tlb_targets(const struct pt_space *s)
{
    return on_space(s, this_cpu()->index);
}

bool tlb_space_in_use(const struct pt_space *s)
{
    return on_space(s, CPU_MASK_MAX) != 0;
}

void tlb_shootdown(cpu_mask_t targets, uint64_t root_phys, uint64_t va, uint64_t pages, bool full)
{
    if (!targets)
        return;
    uint32_t me = this_cpu()->index;
    struct request *r = &requests[me];
    r->root = root_phys;
    r->va = va;
    r->pages = pages;
    r->full = full;
    __atomic_store_n(&r->waiting, cpu_mask_count(targets), __ATOMIC_RELEASE);
    __atomic_fetch_add(&sent, 1, __ATOMIC_RELAXED);
    for (cpu_mask_t m = targets; m;) {
        uint32_t t = cpu_mask_pop(&m);
        __atomic_fetch_or(&pending[t], cpu_mask_of(me), __ATOMIC_SEQ_CST);
        lapic_send_ipi(tlb_apic_of[t], ICR_FIXED | VEC_TLB_SHOOTDOWN);
    }
    /* Wait with interrupts let in between polls (hypercalls run with them
     * off): a target that is itself waiting for this CPU is served here
     * or by the interrupt, so neither waits for ever. */
    uint64_t irq = irq_save();
    while (__atomic_load_n(&r->waiting, __ATOMIC_ACQUIRE)) {
        tlb_shootdown_poll();
        __asm__ volatile("sti; pause; cli" ::: "memory");
    }
    irq_restore(irq);
}

uint64_t tlb_shootdowns_sent(void)
{
    return __atomic_load_n(&sent, __ATOMIC_RELAXED);
}

__attribute__((cold)) void tlb_shootdown_report(void)
{
    if (sent)
        log_info("tlb: %lu shootdown(s) sent, %lu flush request(s) served by other CPUs",
                 (unsigned long)sent, (unsigned long)served);
}
