/* TLB shootdown: after a guest's page is unmapped or its protection
 * lowered, every other CPU that may still translate it through its TLB (or
 * its paging-structure caches, when tables went) flushes before the
 * hypercall returns.
 *
 * Which CPUs: those whose tlb_loaded_on entry is the space. A CPU stores
 * the space there just before it writes the space's root to CR3 (a
 * serialising write) and the next space just before it leaves (that CR3
 * write drops every non-global translation of the old one; with PCID, the
 * old tags are only ever reused through a flushing CR3 write). So a CPU
 * whose entry is another space holds no usable translation of this one, or
 * is a few instructions inside hv from dropping them, touching no guest
 * memory. To find them without looking at every CPU, each space keeps
 * cpus_loaded, the CPUs that ever loaded it (set once per CPU, never
 * cleared): the switch costs one store and one test.
 *
 * Each CPU has one request slot of its own (it waits for its request to be
 * done before it makes another) and a word of pending senders; a sender
 * fills its slot, sets its bit in every target's word, sends VEC_TLB_SHOOTDOWN
 * and waits, with interrupts let in between polls and its own pending
 * requests served while it waits, for every target to acknowledge. It
 * holds no lock while it waits (docs/design.md, "Locking"), so two CPUs
 * shooting at each other, or at a CPU spinning on a lock, cannot deadlock. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "hv/cpu/cpu_mask.h"
#include "hv/mm/pagetable.h"

/* CPU indices hv may use: the boot CPU and up to SMP_MAX_CPUS APs (one
 * more than a mask holds: that one runs no guest, hv/sched/placement.h). */
#define TLB_CPUS (CPU_MASK_MAX + 1)

/* Its own vector, above the timer's and below the spurious one. */
#define VEC_TLB_SHOOTDOWN 0xf2

/* Registers the vector's handler. Once, before any guest space exists. */
void tlb_shootdown_init(void);

/* The space each CPU loaded last through space_load (hv/mm/xpti.c), by
 * CPU index; only compared, never followed (a space is freed only when no
 * entry names it: tlb_space_in_use). */
extern struct pt_space *tlb_loaded_on[TLB_CPUS];

extern uint32_t tlb_apic_of[TLB_CPUS];

/* space_load's side (hv/mm/xpti.c), just before it writes next's root to
 * CR3: this CPU's entry names next, and the first time it loads next its
 * bit goes into next->cpus_loaded (a locked or: a full barrier) and its
 * APIC ID is noted for senders. Inline and call-free: every switch runs
 * it (a store, a load and a test when the bit is there). */
static inline void tlb_cpu_entering(struct pt_space *next, const uint32_t *index_and_apic_id)
{
    uint32_t index = index_and_apic_id[0];
    __atomic_store_n(&tlb_loaded_on[index], next, __ATOMIC_RELAXED);
    /* index & 63: a CPU past the 64 a mask holds runs no guest (below). */
    if (__builtin_expect(!((__atomic_load_n(&next->cpus_loaded, __ATOMIC_RELAXED) >> (index & 63)) & 1), 0) &&
        index < CPU_MASK_MAX) {
        tlb_apic_of[index] = index_and_apic_id[1];
        __atomic_fetch_or(&next->cpus_loaded, 1ULL << index, __ATOMIC_SEQ_CST);
    }
}

/* The CPUs other than this one that may cache translations of s. Read
 * after the change to s's tables is written (a full fence first), under
 * the lock that made the change, so a CPU that loads s later sees it. */
cpu_mask_t tlb_targets(const struct pt_space *s);
/* Whether any CPU (this one included) has s loaded: its tables may be
 * freed only when none has. */
bool tlb_space_in_use(const struct pt_space *s);

/* Makes every CPU in `targets` flush [va, va + pages * 4 KiB) of the
 * space whose root is root_phys (everything of it when full), and waits
 * until each has. Called with no lock held, from a hypercall. */
void tlb_shootdown(cpu_mask_t targets, uint64_t root_phys, uint64_t va, uint64_t pages, bool full);

/* Serves the requests pending for this CPU (the interrupt handler does;
 * a CPU waiting with interrupts off for another CPU may too). */
void tlb_shootdown_poll(void);

/* Shootdowns sent so far; the summary's line ("tlb: N shootdown(s) sent,
 * M flush(es) done by other CPUs"), when any was sent. */
uint64_t tlb_shootdowns_sent(void);
void tlb_shootdown_report(void);
